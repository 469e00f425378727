// What refuge-load counts, per mode, and how counts from several loops and processes add up.
//
// Every client of a mode writes into that mode's ModeStats in its own event loop (one per
// thread, so no locking). At the end the loops' stats are merged; with --processes each
// worker sends its RunStats to the parent as lossless JSON (ToJson/FromJson) through a pipe
// and the parent merges them. The public output (report.h) is computed from the merged
// figures.
//
// Thread-safety: values; one writer at a time.
#ifndef REFUGE_TOOLS_LOAD_LOAD_STATS_H_
#define REFUGE_TOOLS_LOAD_LOAD_STATS_H_

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "latency_histogram.h"

namespace refuge::load {

enum class Mode { kReaders, kFlood, kDistributed, kSlowloris, kSlowPost, kSlowRead, kConnFlood };
inline constexpr std::array<Mode, 7> kAllModes = {
    Mode::kReaders,  Mode::kFlood,    Mode::kDistributed, Mode::kSlowloris,
    Mode::kSlowPost, Mode::kSlowRead, Mode::kConnFlood,
};
// "readers", "flood", "distributed", "slowloris", "slow_post", "slow_read", "conn_flood"
const char* ModeName(Mode mode);
std::optional<Mode> ModeFromName(std::string_view name);

// Why a reader's request failed (the keys of failures_by_kind; a status failure is
// "status_<code>").
inline constexpr std::string_view kFailConnectRefused = "connect_refused";
inline constexpr std::string_view kFailConnectTimeout = "connect_timeout";
inline constexpr std::string_view kFailConnectError = "connect_error";
inline constexpr std::string_view kFailReset = "reset";
inline constexpr std::string_view kFailClosed = "closed";
inline constexpr std::string_view kFailTimeout = "timeout";
inline constexpr std::string_view kFailBadResponse = "bad_response";
inline constexpr std::string_view kFailChallengeUnsolved = "challenge_unsolved";
inline constexpr std::string_view kFailChallengeRepeated = "challenge_repeated";
inline constexpr std::string_view kFailSolveRejected = "solve_rejected";

// The plain counters of ModeStats, listed once for merging and serialising.
// clang-format off
#define REFUGE_LOAD_COUNTERS(X)                                                         \
  X(connections) X(sources) X(connect_attempts) X(connects_established)                 \
  X(connect_refused) X(connect_timeouts) X(connect_errors) X(closed_by_server)          \
  X(resets) X(open_now) X(peak_open) X(open_at_end) X(requests_sent) X(responses)       \
  X(bad_responses) X(request_timeouts) X(bytes_sent) X(bytes_received) X(successes)     \
  X(failures) X(stale_retries) X(challenges_met) X(challenges_solved)                   \
  X(skipped_pool_full) X(unsent_requests)
// clang-format on

struct ModeStats {
#define REFUGE_LOAD_DECLARE(name) uint64_t name = 0;
  REFUGE_LOAD_COUNTERS(REFUGE_LOAD_DECLARE)
#undef REFUGE_LOAD_DECLARE
  // connections: connection slots this mode keeps (readers, flood connections, the
  //   distributed pool, slow connections); sources: source addresses used.
  // connects_established: handshakes completed (the server may not have accept()ed yet).
  // connect_refused: ECONNREFUSED; connect_timeouts: no handshake within --connect-timeout-ms
  //   (SYN dropped at a full backlog); connect_errors: anything else (EADDRNOTAVAIL...).
  // closed_by_server: orderly EOF from the server; resets: ECONNRESET/EPIPE.
  // open_now/peak_open: established connections now/at most (across processes: the sum of
  //   the workers' peaks); open_at_end: established when the run stopped.
  // unsent_requests: readers' requests in flight when the run stopped (neither success nor
  //   failure).
  std::map<int, uint64_t> responses_by_status;
  std::map<std::string, uint64_t, std::less<>> failures_by_kind;  // readers
  // connect_errors by errno name ("EADDRNOTAVAIL", ...), to tell a port shortage from the rest.
  std::map<std::string, uint64_t, std::less<>> connect_errors_by_errno;
  LatencyHistogram latency_us;   // request sent -> last byte of the response
  LatencyHistogram lifetime_us;  // connection established -> closed by the server
  LatencyHistogram solve_us;     // readers: time to solve each challenge

  void Opened() {
    ++connects_established;
    if (++open_now > peak_open) peak_open = open_now;
  }
  void Closed() {
    if (open_now > 0) --open_now;
  }
  void Fail(std::string_view kind);
  void FailStatus(int status);

  void Merge(const ModeStats& other);
  nlohmann::json ToJson() const;  // lossless
  static ModeStats FromJson(const nlohmann::json& j);
};

enum class StopReason { kNone, kDuration, kMaxRequests, kInterrupted };
const char* StopReasonName(StopReason reason);

struct RunStats {
  std::map<Mode, ModeStats> modes;  // the modes that ran
  double elapsed_seconds = 0;
  StopReason stop_reason = StopReason::kNone;

  void Merge(const RunStats& other);
  nlohmann::json ToJson() const;  // lossless
  static RunStats FromJson(const nlohmann::json& j);
};

}  // namespace refuge::load

#endif  // REFUGE_TOOLS_LOAD_LOAD_STATS_H_
