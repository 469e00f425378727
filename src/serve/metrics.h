// Metrics: aggregate counters of `refuge serve`, exposed in the Prometheus text format on
// the admin listener (GET /metrics). No per-reader data is ever kept: counts by status, by
// site and in total, never addresses or paths (docs/SERVE.md, "Privacy").
//
// Each event loop owns one LoopCounters and is its only writer; the admin listener reads
// them all (relaxed atomics: the figures are statistics, not synchronization).
//
// Thread-safety: as above; RenderPrometheus may run on any thread.
#ifndef REFUGE_SERVE_METRICS_H_
#define REFUGE_SERVE_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "serve/catalog.h"

namespace refuge::shield {
class Shield;
}

namespace refuge::serve {

// The status codes the server answers with, each with its own counter slot.
inline constexpr std::array<int, 21> kCountedStatuses = {
    200, 204, 206, 301, 303, 304, 308, 400, 403, 404, 405, 408, 413, 416, 417, 429, 451, 500,
    501, 503, 505};

struct LoopCounters {
  std::array<std::atomic<uint64_t>, kCountedStatuses.size() + 1> requests{};  // last: other
  std::atomic<uint64_t> response_bytes{0};
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<int64_t> connections_open{0};
  std::atomic<uint64_t> tls_handshakes{0};
  std::atomic<uint64_t> tls_handshake_failures{0};
  std::atomic<uint64_t> timeouts{0};
  std::atomic<uint64_t> cache_hits{0};
  std::atomic<uint64_t> cache_misses{0};
  std::atomic<uint64_t> cache_bytes{0};

  void CountStatus(int status) {
    size_t slot = kCountedStatuses.size();
    for (size_t i = 0; i < kCountedStatuses.size(); ++i) {
      if (kCountedStatuses[i] == status) {
        slot = i;
        break;
      }
    }
    requests[slot].fetch_add(1, std::memory_order_relaxed);
  }
};

struct ServerMetrics {
  std::vector<std::unique_ptr<LoopCounters>> loops;
  SiteCounterRegistry sites;
  std::atomic<uint64_t> catalog_reloads{0};
  std::atomic<uint64_t> catalog_reload_failures{0};
  std::atomic<int64_t> sites_served{0};
  const shield::Shield* shield = nullptr;  // its counters are exported too
};

// The Prometheus text exposition (version 0.0.4) of everything in `metrics`.
std::string RenderPrometheus(const ServerMetrics& metrics);

}  // namespace refuge::serve

#endif  // REFUGE_SERVE_METRICS_H_
