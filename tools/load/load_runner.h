// Turning checked options into a run: the plan (addresses parsed and passed through the
// loopback policy), the clients of each mode, the loops and threads, the worker processes.
//
// In one process: the attack modes share one EventLoop on the main thread; the readers have
// their own EventLoop on a second thread (with the challenge solver's thread beside it), so
// that the kernel wakes them as soon as an answer arrives instead of after a round of flood
// events. With --processes N, N workers are forked; worker w takes items w, w+N, w+2N... of
// every mode (readers, flood sources, distributed addresses, slow connections) and an N-th of
// --max-requests, and sends its RunStats to the parent as JSON through a pipe.
//
// Thread-safety: RunLoad() is called once, from main(); InterruptRun() is
// async-signal-safe.
#ifndef REFUGE_TOOLS_LOAD_LOAD_RUNNER_H_
#define REFUGE_TOOLS_LOAD_LOAD_RUNNER_H_

#include <cstdint>
#include <string>

#include "common/status.h"
#include "ip_address.h"
#include "load_options.h"
#include "load_stats.h"
#include "target_policy.h"

namespace refuge::load {

struct SourceRange {
  IpAddress base;
  uint64_t count = 0;  // addresses used: base and the count-1 after it
};

struct LoadPlan {
  LoadOptions options;
  Endpoint target;
  std::string host;  // the Host header
  std::string slow_read_path;
  SourceRange readers;
  SourceRange flood;
  SourceRange distributed;
  SourceRange slowloris;
  SourceRange slow_post;
  SourceRange slow_read;
  SourceRange conn_flood;
};

// Parses the target and every source address and applies the loopback policy to each (for
// a range: its first and last address, the range being contiguous). Options must have been
// validated.
Result<LoadPlan> PlanLoad(const LoadOptions& options, const NamespaceInfo& ns);

// The whole run; forks workers when options.processes > 1.
Result<RunStats> RunLoad(const LoadPlan& plan);
// Worker `worker` of `workers`, in this process.
Result<RunStats> RunWorker(const LoadPlan& plan, int worker, int workers);

// From SIGINT/SIGTERM: stops the run (and the workers) early; results are still reported.
void InterruptRun();

}  // namespace refuge::load

#endif  // REFUGE_TOOLS_LOAD_LOAD_RUNNER_H_
