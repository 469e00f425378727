#include "challenge_solver.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "proof_of_work.h"

namespace refuge::load {

Result<std::unique_ptr<ChallengeSolver>> ChallengeSolver::Create(EventLoop& loop) {
  UniqueFd event_fd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!event_fd.valid()) return ErrnoStatus("eventfd", errno);
  return std::unique_ptr<ChallengeSolver>(new ChallengeSolver(loop, std::move(event_fd)));
}

ChallengeSolver::ChallengeSolver(EventLoop& loop, UniqueFd event_fd)
    : loop_(loop), event_fd_(std::move(event_fd)), thread_([this] { Work(); }) {}

ChallengeSolver::~ChallengeSolver() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    shutdown_ = true;
  }
  cancel_ = true;
  wake_.notify_all();
  thread_.join();
}

void ChallengeSolver::Submit(SolveListener* listener, uint64_t ticket, std::string seed, int bits) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back({listener, ticket, std::move(seed), bits, MonotonicNow()});
  }
  wake_.notify_one();
}

void ChallengeSolver::Work() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return shutdown_ || !jobs_.empty(); });
      if (shutdown_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    // 2^(bits+8) attempts fail with probability e^-256: effectively "until found".
    int bits = job.bits < 0 ? 0 : job.bits;
    uint64_t max_attempts = uint64_t{1} << (bits > kMaxChallengeBits ? 0 : bits + 8);
    Result<uint64_t> nonce = SolveChallenge(job.seed, job.bits, max_attempts, &cancel_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_.push_back({job.listener, job.ticket, std::move(nonce), MonotonicNow() - job.submitted});
    }
    uint64_t one = 1;
    (void)!write(event_fd_.get(), &one, sizeof(one));
  }
}

void ChallengeSolver::OnStart() {
  // The readers' loop cannot run without it; a failure here (ENOMEM) leaves challenges
  // unanswered, which the readers then count as timeouts.
  (void)loop_.Watch(*this, event_fd_.get(), EPOLLIN);
}

void ChallengeSolver::OnEvent(uint32_t) {
  uint64_t count = 0;
  (void)!read(event_fd_.get(), &count, sizeof(count));
  std::deque<Done> done;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done.swap(done_);
  }
  for (const Done& d : done) d.listener->OnSolved(d.ticket, d.nonce, d.spent);
}

void ChallengeSolver::OnStop() { cancel_ = true; }

}  // namespace refuge::load
