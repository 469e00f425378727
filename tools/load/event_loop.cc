#include "event_loop.h"

#include <sys/epoll.h>
#include <time.h>

#include <algorithm>
#include <cerrno>

namespace refuge::load {
namespace {

std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "Interrupt() must be signal-safe");

constexpr int kMaxEventsPerRound = 512;
// The loop wakes at least this often to notice a stop (signal, another loop's budget).
constexpr TimeNs kMaxWait = 50 * kMillisecond;
constexpr size_t kScratchBytes = 64 * 1024;

}  // namespace

TimeNs MonotonicNow() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<TimeNs>(ts.tv_sec) * kSecond + ts.tv_nsec;
}

RunControl::RunControl(TimeNs end, std::optional<uint64_t> max_requests)
    : end_(end),
      unlimited_(!max_requests.has_value()),
      budget_(static_cast<int64_t>(std::min<uint64_t>(max_requests.value_or(0), INT64_MAX / 2))) {}

bool RunControl::stopped() const {
  return reason_.load(std::memory_order_relaxed) != static_cast<int>(StopReason::kNone) ||
         g_interrupted.load(std::memory_order_relaxed);
}

void RunControl::Stop(StopReason reason) {
  int expected = static_cast<int>(StopReason::kNone);
  reason_.compare_exchange_strong(expected, static_cast<int>(reason));
}

StopReason RunControl::reason() const {
  auto reason = static_cast<StopReason>(reason_.load(std::memory_order_relaxed));
  if (reason == StopReason::kNone && g_interrupted.load()) return StopReason::kInterrupted;
  if (reason == StopReason::kNone && budget_spent()) return StopReason::kMaxRequests;
  return reason;
}

bool RunControl::TakeRequest() {
  if (unlimited_) return true;
  if (budget_.fetch_sub(1, std::memory_order_relaxed) > 0) return true;
  if (!budget_spent_.exchange(true)) {
    TimeNs drain_end = MonotonicNow() + kDrainAfterBudget;
    TimeNs current = end_.load();
    while (drain_end < current && !end_.compare_exchange_weak(current, drain_end)) {
    }
  }
  return false;
}

void RunControl::Interrupt() { g_interrupted.store(true); }

Result<std::unique_ptr<EventLoop>> EventLoop::Create(RunControl& control) {
  UniqueFd epoll(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) return ErrnoStatus("epoll_create1", errno);
  return std::unique_ptr<EventLoop>(new EventLoop(control, std::move(epoll)));
}

EventLoop::EventLoop(RunControl& control, UniqueFd epoll)
    : control_(control), epoll_(std::move(epoll)), scratch_(kScratchBytes) {}

void EventLoop::Add(LoopClient& client) {
  client.index_ = static_cast<uint32_t>(clients_.size());
  clients_.push_back(&client);
}

// What epoll hands back with an event: who it is for and for which of its sockets.
static uint64_t EventTag(uint32_t index, uint32_t epoch) { return (uint64_t{index} << 32) | epoch; }

Status EventLoop::Watch(LoopClient& client, int fd, uint32_t events) {
  ++client.epoch_;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = EventTag(client.index_, client.epoch_);
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return ErrnoStatus("epoll_ctl", errno);
  return Status::Ok();
}

void EventLoop::Modify(LoopClient& client, int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = EventTag(client.index_, client.epoch_);
  // Cannot fail for a registered descriptor short of a bug; a failure would only leave the
  // old interest set, which the connection timeouts recover from.
  (void)epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::Forget(LoopClient& client) { ++client.epoch_; }

void EventLoop::SetDeadline(LoopClient& client, TimeNs when) {
  client.deadline_ = when;
  if (when != kNever && when < client.queued_) {
    client.queued_ = when;
    timers_.push({when, client.index_});
  }
}

void EventLoop::RunDeadlines() {
  while (!timers_.empty() && timers_.top().when <= now_) {
    TimerEntry entry = timers_.top();
    timers_.pop();
    LoopClient& client = *clients_[entry.index];
    if (entry.when == client.queued_) client.queued_ = kNever;
    if (client.deadline_ <= now_) {
      client.deadline_ = kNever;
      client.OnDeadline();
    } else if (client.deadline_ != kNever && client.deadline_ < client.queued_) {
      client.queued_ = client.deadline_;
      timers_.push({client.deadline_, client.index_});
    }
  }
}

int EventLoop::Wait(epoll_event* events, TimeNs wait) {
  if (have_pwait2_) {
    timespec timeout{static_cast<time_t>(wait / kSecond), static_cast<long>(wait % kSecond)};
    int n = epoll_pwait2(epoll_.get(), events, kMaxEventsPerRound, &timeout, nullptr);
    if (n >= 0 || errno != ENOSYS) return n;
    have_pwait2_ = false;  // a kernel before 5.11: millisecond timeouts, rounded up
  }
  auto ms = static_cast<int>((wait + kMillisecond - 1) / kMillisecond);
  return epoll_wait(epoll_.get(), events, kMaxEventsPerRound, ms);
}

void EventLoop::Run() {
  now_ = MonotonicNow();
  for (LoopClient* client : clients_) client->OnStart();
  epoll_event events[kMaxEventsPerRound];
  while (!control_.stopped() && now_ < control_.end()) {
    TimeNs next = std::min(control_.end(), now_ + kMaxWait);
    if (!timers_.empty()) next = std::min(next, timers_.top().when);
    TimeNs wait = std::max<TimeNs>(0, next - now_);
    int n = Wait(events, wait);
    now_ = MonotonicNow();
    for (int i = 0; i < n; ++i) {
      auto index = static_cast<uint32_t>(events[i].data.u64 >> 32);
      auto epoch = static_cast<uint32_t>(events[i].data.u64);
      if (index >= clients_.size()) continue;
      LoopClient& client = *clients_[index];
      if (client.epoch_ != epoch) continue;  // for a socket closed earlier in this round
      client.OnEvent(events[i].events);
    }
    // Past the end, answers still count but nothing new starts (a late wake-up would
    // otherwise fire every reader's timer at once, just to abandon the requests).
    if (now_ < control_.end() && !control_.stopped()) RunDeadlines();
  }
  now_ = MonotonicNow();
  finished_at_ = now_;
  for (LoopClient* client : clients_) client->OnStop();
}

}  // namespace refuge::load
