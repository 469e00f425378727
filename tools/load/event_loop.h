// The epoll event loop of refuge-load, and the run's shared stop state.
//
// One EventLoop runs in one thread and owns nothing but its epoll descriptor and timer heap:
// the clients (connection state machines, drivers) are owned by the runner and registered
// with Add() before Run(). Every client has one deadline; a client that needs several
// (connect timeout, request timeout, next send) keeps them itself and asks for the earliest.
// The timer heap holds at most a few entries per client: an entry is pushed only when a
// deadline moves earlier, and entries that no longer match are skipped when they pop.
//
// Socket events carry (client index, socket epoch); a client bumps its epoch whenever it
// closes or replaces its socket, so events already fetched for an old socket are dropped
// instead of being applied to the new one.
//
// Thread-safety: EventLoop is single-threaded. RunControl is shared by the loops of a
// process (atomics); Interrupt() is async-signal-safe.
#ifndef REFUGE_TOOLS_LOAD_EVENT_LOOP_H_
#define REFUGE_TOOLS_LOAD_EVENT_LOOP_H_

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <queue>
#include <span>
#include <vector>

#include "common/status.h"
#include "common/unique_fd.h"
#include "load_stats.h"

namespace refuge::load {

using TimeNs = int64_t;  // CLOCK_MONOTONIC nanoseconds
inline constexpr TimeNs kNever = INT64_MAX;
inline constexpr TimeNs kMicrosecond = 1'000;
inline constexpr TimeNs kMillisecond = 1'000'000;
inline constexpr TimeNs kSecond = 1'000'000'000;
TimeNs MonotonicNow();

// When the budget of --max-requests is spent, the run goes on this long so that answers to
// requests already sent are counted, then stops.
inline constexpr TimeNs kDrainAfterBudget = 1 * kSecond;

class RunControl {
 public:
  // max_requests: the budget of requests; nullopt: no cap.
  RunControl(TimeNs end, std::optional<uint64_t> max_requests);

  TimeNs end() const { return end_.load(std::memory_order_relaxed); }
  // Also true after Interrupt().
  bool stopped() const;
  // The first reason given wins.
  void Stop(StopReason reason);
  StopReason reason() const;
  // Takes one request from the --max-requests budget. False when it is spent: the caller
  // must not send, and the run ends kDrainAfterBudget later.
  bool TakeRequest();
  bool budget_spent() const { return budget_spent_.load(std::memory_order_relaxed); }

  // From a signal handler: stops every RunControl of the process.
  static void Interrupt();

 private:
  std::atomic<TimeNs> end_;
  const bool unlimited_;
  std::atomic<int64_t> budget_;
  std::atomic<bool> budget_spent_{false};
  std::atomic<int> reason_{static_cast<int>(StopReason::kNone)};
};

class EventLoop;

// Something the loop drives: a connection slot (which reconnects as it likes) or a driver.
class LoopClient {
 public:
  virtual ~LoopClient() = default;
  virtual void OnStart() = 0;
  virtual void OnEvent(uint32_t events) = 0;  // for the socket last passed to Watch()
  virtual void OnDeadline() = 0;
  // The run is over: close sockets, count what was left unfinished.
  virtual void OnStop() = 0;

 private:
  friend class EventLoop;
  uint32_t index_ = 0;
  uint32_t epoch_ = 0;
  TimeNs deadline_ = kNever;
  TimeNs queued_ = kNever;  // the earliest heap entry for this client, kNever if none
};

class EventLoop {
 public:
  static Result<std::unique_ptr<EventLoop>> Create(RunControl& control);
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Registers a client; it must outlive Run().
  void Add(LoopClient& client);
  // Watches a new socket of `client` (EPOLL_CTL_ADD); events of its earlier sockets are
  // dropped from now on. Fails only when the kernel refuses (ENOMEM, ENOSPC).
  Status Watch(LoopClient& client, int fd, uint32_t events);
  void Modify(LoopClient& client, int fd, uint32_t events);
  // Call before closing the client's socket.
  void Forget(LoopClient& client);
  // OnDeadline() at or soon after `when`; kNever cancels.
  void SetDeadline(LoopClient& client, TimeNs when);

  // The time the current round of events started (cheap; refreshed once per round).
  TimeNs now() const { return now_; }
  RunControl& control() { return control_; }
  // A read buffer shared by the loop's clients, valid until they return to the loop.
  std::span<char> scratch() { return scratch_; }

  // OnStart() for every client, then events and deadlines until the run control says stop
  // or its end time passes, then OnStop() for every client.
  void Run();
  // When Run() stopped dispatching (before the clients' OnStop()).
  TimeNs finished_at() const { return finished_at_; }

 private:
  EventLoop(RunControl& control, UniqueFd epoll);
  void RunDeadlines();
  // epoll_pwait2 (nanosecond timeouts) where the kernel has it, else epoll_wait.
  int Wait(epoll_event* events, TimeNs wait);

  struct TimerEntry {
    TimeNs when;
    uint32_t index;
    bool operator>(const TimerEntry& other) const { return when > other.when; }
  };

  RunControl& control_;
  UniqueFd epoll_;
  std::vector<LoopClient*> clients_;
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timers_;
  TimeNs now_ = 0;
  TimeNs finished_at_ = 0;
  bool have_pwait2_ = true;
  std::vector<char> scratch_;
};

}  // namespace refuge::load

#endif  // REFUGE_TOOLS_LOAD_EVENT_LOOP_H_
