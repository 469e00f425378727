// ChallengeSolver: solves the shield's proof-of-work challenges off the readers' loop.
//
// Solving a 20-bit challenge takes a third of a second; done inline it would stall every
// other reader of the loop and inflate their latencies. So readers Submit() a challenge and
// carry on; one solver thread works through the queue (one reader has at most one challenge
// queued), and results come back to the loop through an eventfd, where each is handed to its
// reader with the ticket it was submitted with (a reader whose request timed out meanwhile
// ignores a stale ticket).
//
// Thread-safety: Submit() and the LoopClient methods run on the loop's thread; the solver
// thread only touches the queues under the mutex.
#ifndef REFUGE_TOOLS_LOAD_CHALLENGE_SOLVER_H_
#define REFUGE_TOOLS_LOAD_CHALLENGE_SOLVER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "common/unique_fd.h"
#include "event_loop.h"

namespace refuge::load {

class SolveListener {
 public:
  // nonce: the solution, or why there is none. spent: time from Submit() to the result.
  virtual void OnSolved(uint64_t ticket, const Result<uint64_t>& nonce, TimeNs spent) = 0;

 protected:
  ~SolveListener() = default;
};

class ChallengeSolver final : public LoopClient {
 public:
  static Result<std::unique_ptr<ChallengeSolver>> Create(EventLoop& loop);
  ~ChallengeSolver() override;  // cancels the current job and joins the thread

  void Submit(SolveListener* listener, uint64_t ticket, std::string seed, int bits);

  void OnStart() override;
  void OnEvent(uint32_t events) override;
  void OnDeadline() override {}
  void OnStop() override;

 private:
  struct Job {
    SolveListener* listener = nullptr;
    uint64_t ticket = 0;
    std::string seed;
    int bits = 0;
    TimeNs submitted = 0;
  };
  struct Done {
    SolveListener* listener;
    uint64_t ticket;
    Result<uint64_t> nonce;
    TimeNs spent;
  };

  ChallengeSolver(EventLoop& loop, UniqueFd event_fd);
  void Work();

  EventLoop& loop_;
  UniqueFd event_fd_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  std::deque<Done> done_;
  bool shutdown_ = false;
  std::atomic<bool> cancel_{false};
  std::thread thread_;
};

}  // namespace refuge::load

#endif  // REFUGE_TOOLS_LOAD_CHALLENGE_SOLVER_H_
