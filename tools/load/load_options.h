// The command line of refuge-load: every option, its default, and the bounds checked before
// anything is opened.
//
// Addresses are kept as text here; load_runner.h parses them and applies the loopback policy
// (target_policy.h). An empty *_base or reader_source means "the default for the target's
// family": 127.N.0.1 (one /16 per mode) for an IPv4 target, ::1 for an IPv6 one.
//
// Thread-safety: values and pure functions.
#ifndef REFUGE_TOOLS_LOAD_LOAD_OPTIONS_H_
#define REFUGE_TOOLS_LOAD_LOAD_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace CLI {
class App;
}

namespace refuge::load {

inline constexpr double kMaxDurationSeconds = 600;
inline constexpr int kMaxProcesses = 16;
// Ephemeral ports per (source, target) pair are 32768-60999 here; keep a margin.
inline constexpr uint64_t kMaxConnectionsPerSource = 28'000;
// Descriptors a process keeps besides its connections (epoll, eventfd, pipes, stdio).
inline constexpr uint64_t kReservedDescriptors = 64;

struct LoadOptions {
  // General.
  std::string target;
  std::string host;  // empty: the target as written ("127.0.0.1:8080")
  std::vector<std::string> paths{"/"};
  double duration_seconds = 0;
  uint64_t max_requests = 0;  // 0: no cap
  bool json = false;
  int processes = 1;
  int connect_timeout_ms = 3000;
  int request_timeout_ms = 10000;  // flood and distributed requests
  int max_pending_connects = 512;  // per mode, slow modes and conn flood

  // Readers.
  int readers = 0;
  std::string reader_source;  // the first reader address
  int reader_sources = 1;     // readers are spread over this many addresses
  int reader_interval_ms = 10;
  int reader_timeout_ms = 5000;
  bool no_solve = false;

  // HTTP flood.
  int flood_sources = 0;
  double flood_rate = 0;      // requests/s per source address; 0: full speed
  int flood_connections = 1;  // per source address
  std::string flood_base;

  // Distributed flood.
  int distributed_sources = 0;
  double distributed_rate = 1;      // requests/s per address
  int distributed_connections = 0;  // pool size; 0: min(sources, 1000)
  std::string distributed_base;

  // Slowloris.
  int slowloris = 0;
  int slowloris_sources = 1;
  std::string slowloris_base;
  int slowloris_interval_ms = 5000;

  // Slow POST.
  int slow_post = 0;
  int slow_post_sources = 1;
  std::string slow_post_base;
  int slow_post_interval_ms = 5000;
  uint64_t slow_post_length = 1'000'000;

  // Slow read.
  int slow_read = 0;
  int slow_read_sources = 1;
  std::string slow_read_base;
  std::string slow_read_path;  // empty: the first --path
  int slow_read_interval_ms = 1000;
  int slow_read_bytes = 16;
  int slow_read_rcvbuf = 1024;

  // Connection flood.
  int conn_flood = 0;
  int conn_flood_sources = 1;
  std::string conn_flood_base;
  int conn_flood_hold_ms = 0;

  bool AnyMode() const;
  // The distributed pool size after the default is applied.
  int DistributedPool() const;
};

// Adds every option, with its help text, to `app` (which should be named refuge-load).
void DefineOptions(CLI::App& app, LoadOptions& options);

// Parses argv-style arguments (without the program name) with DefineOptions. --help is an
// error here; main() handles it. For tests and main().
Result<LoadOptions> ParseArguments(const std::vector<std::string>& args);

// The share of `total` items that worker `worker` of `workers` takes (items w, w+W, ...).
uint64_t ShareOf(uint64_t total, int worker, int workers);

// Descriptors one process needs at most for this run.
uint64_t DescriptorsPerProcess(const LoadOptions& options);

// Bounds: a mode is given, duration in (0, 600], counts and intervals in range, each source
// address below its ephemeral ports, the descriptors per process within `descriptor_limit`.
Status ValidateOptions(const LoadOptions& options, uint64_t descriptor_limit);

}  // namespace refuge::load

#endif  // REFUGE_TOOLS_LOAD_LOAD_OPTIONS_H_
