#include "report.h"

#include <cinttypes>
#include <cstdarg>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace refuge::load {
namespace {

double Ms(uint64_t micros) { return static_cast<double>(micros) / 1000.0; }

// Rounded to the microsecond, so the JSON stays readable.
double Round3(double v) {
  return static_cast<double>(static_cast<int64_t>(v * 1000.0 + 0.5)) / 1000.0;
}

nlohmann::json LatencyJson(const LatencyHistogram& h) {
  return {{"count", h.count()},
          {"mean", Round3(h.mean() / 1000.0)},
          {"p50", Ms(h.Percentile(50))},
          {"p99", Ms(h.Percentile(99))},
          {"p999", Ms(h.Percentile(99.9))},
          {"max", Ms(h.max())}};
}

uint64_t SourcesOf(const LoadPlan& plan, Mode mode) {
  switch (mode) {
    case Mode::kReaders:
      return plan.readers.count;
    case Mode::kFlood:
      return plan.flood.count;
    case Mode::kDistributed:
      return plan.distributed.count;
    case Mode::kSlowloris:
      return plan.slowloris.count;
    case Mode::kSlowPost:
      return plan.slow_post.count;
    case Mode::kSlowRead:
      return plan.slow_read.count;
    case Mode::kConnFlood:
      return plan.conn_flood.count;
  }
  return 0;
}

double PerSecond(uint64_t count, double seconds) {
  return seconds > 0 ? Round3(static_cast<double>(count) / seconds) : 0.0;
}

uint64_t StatusCount(const ModeStats& s, int status) {
  auto it = s.responses_by_status.find(status);
  return it == s.responses_by_status.end() ? 0 : it->second;
}

std::string Format(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string Format(const char* format, ...) {
  char buffer[512];
  va_list args;
  va_start(args, format);
  vsnprintf(buffer, sizeof(buffer), format, args);
  va_end(args);
  return buffer;
}

}  // namespace

nlohmann::json ReportJson(const LoadPlan& plan, const RunStats& stats) {
  const LoadOptions& o = plan.options;
  nlohmann::json j;
  j["tool"] = "refuge-load";
  j["target"] = FormatEndpoint(plan.target);
  j["host"] = plan.host;
  j["paths"] = o.paths;
  j["duration_s"] = o.duration_seconds;
  j["elapsed_s"] = Round3(stats.elapsed_seconds);
  j["stop_reason"] = StopReasonName(stats.stop_reason);
  j["max_requests"] = o.max_requests;
  j["processes"] = o.processes;
  nlohmann::json modes = nlohmann::json::object();
  uint64_t total_requests = 0;
  for (const auto& [mode, s] : stats.modes) {
    nlohmann::json m;
    m["connections"] = s.connections;
    m["sources"] = SourcesOf(plan, mode);
    m["connects"] = {{"attempted", s.connect_attempts},
                     {"established", s.connects_established},
                     {"refused", s.connect_refused},
                     {"timed_out", s.connect_timeouts},
                     {"errors", s.connect_errors}};
    nlohmann::json errnos = nlohmann::json::object();
    for (const auto& [name, count] : s.connect_errors_by_errno) errnos[name] = count;
    m["connects"]["errors_by_errno"] = errnos;
    m["closed_by_server"] = s.closed_by_server;
    m["resets"] = s.resets;
    m["open_at_end"] = s.open_at_end;
    m["peak_open"] = s.peak_open;
    m["requests"] = s.requests_sent;
    m["responses"] = s.responses;
    m["requests_per_s"] = PerSecond(s.requests_sent, stats.elapsed_seconds);
    m["responses_per_s"] = PerSecond(s.responses, stats.elapsed_seconds);
    nlohmann::json statuses = nlohmann::json::object();
    for (const auto& [status, count] : s.responses_by_status)
      statuses[std::to_string(status)] = count;
    m["responses_by_status"] = statuses;
    m["challenged"] = StatusCount(s, 503);
    m["rate_limited"] = StatusCount(s, 429);
    m["bad_responses"] = s.bad_responses;
    m["request_timeouts"] = s.request_timeouts;
    m["bytes_sent"] = s.bytes_sent;
    m["bytes_received"] = s.bytes_received;
    m["latency_ms"] = LatencyJson(s.latency_us);
    m["lifetime_ms"] = LatencyJson(s.lifetime_us);
    total_requests += s.requests_sent;
    if (mode == Mode::kReaders) {
      uint64_t finished = s.successes + s.failures;
      m["successes"] = s.successes;
      m["failures"] = s.failures;
      m["success_rate"] =
          finished == 0
              ? nlohmann::json(nullptr)
              : nlohmann::json(static_cast<double>(s.successes) / static_cast<double>(finished));
      nlohmann::json kinds = nlohmann::json::object();
      for (const auto& [kind, count] : s.failures_by_kind) kinds[kind] = count;
      m["failures_by_kind"] = kinds;
      m["stale_retries"] = s.stale_retries;
      m["unfinished_at_stop"] = s.unsent_requests;
      m["challenges"] = {{"met", s.challenges_met},
                         {"solved", s.challenges_solved},
                         {"solve_ms", LatencyJson(s.solve_us)}};
    }
    if (mode == Mode::kDistributed) {
      m["rate_per_address"] = o.distributed_rate;
      m["skipped_pool_full"] = s.skipped_pool_full;
    }
    if (mode == Mode::kFlood) m["rate_per_source"] = o.flood_rate;
    if (mode == Mode::kSlowloris || mode == Mode::kSlowPost || mode == Mode::kSlowRead ||
        mode == Mode::kConnFlood) {
      // How fast the server sheds these connections; null while it closed none.
      m["median_lifetime_ms"] = s.lifetime_us.count() == 0
                                    ? nlohmann::json(nullptr)
                                    : nlohmann::json(Ms(s.lifetime_us.Percentile(50)));
    }
    modes[ModeName(mode)] = m;
  }
  j["total_requests"] = total_requests;
  j["modes"] = modes;
  return j;
}

std::string ReportTable(const LoadPlan& plan, const RunStats& stats) {
  const LoadOptions& o = plan.options;
  std::string out;
  out += Format("refuge-load -> %s (Host: %s), %.1f s of %.1f s, stopped by %s, %d process%s\n\n",
                FormatEndpoint(plan.target).c_str(), plan.host.c_str(), stats.elapsed_seconds,
                o.duration_seconds, StopReasonName(stats.stop_reason), o.processes,
                o.processes == 1 ? "" : "es");
  out += Format("%-12s %6s %7s %6s %6s %8s %7s %7s %7s %7s %9s %9s %9s %6s\n", "mode", "srcs",
                "conns", "open", "peak", "estab", "refused", "conn_to", "closed", "resets",
                "requests", "req/s", "answers", "req_to");
  for (const auto& [mode, s] : stats.modes) {
    out += Format("%-12s %6" PRIu64 " %7" PRIu64 " %6" PRIu64 " %6" PRIu64 " %8" PRIu64 " %7" PRIu64
                  " %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %9" PRIu64 " %9.1f %9" PRIu64
                  " %6" PRIu64 "\n",
                  ModeName(mode), SourcesOf(plan, mode), s.connections, s.open_at_end, s.peak_open,
                  s.connects_established, s.connect_refused, s.connect_timeouts, s.closed_by_server,
                  s.resets, s.requests_sent, PerSecond(s.requests_sent, stats.elapsed_seconds),
                  s.responses, s.request_timeouts);
  }
  out += "\nanswers by status:\n";
  for (const auto& [mode, s] : stats.modes) {
    if (s.responses_by_status.empty() && s.bad_responses == 0) continue;
    out += Format("  %-12s", ModeName(mode));
    for (const auto& [status, count] : s.responses_by_status) {
      out += Format(" %d=%" PRIu64, status, count);
    }
    if (s.bad_responses > 0) out += Format(" malformed=%" PRIu64, s.bad_responses);
    out += "\n";
  }
  for (const auto& [mode, s] : stats.modes) {
    if (!s.connect_errors_by_errno.empty()) {
      out += Format("\n%s: connect errors:", ModeName(mode));
      for (const auto& [name, count] : s.connect_errors_by_errno) {
        out += Format(" %s=%" PRIu64, name.c_str(), count);
      }
      out += "\n";
    }
  }
  for (const auto& [mode, s] : stats.modes) {
    if (mode == Mode::kReaders) {
      uint64_t finished = s.successes + s.failures;
      double rate = finished == 0
                        ? 0.0
                        : 100.0 * static_cast<double>(s.successes) / static_cast<double>(finished);
      out += Format("\nreaders: success %.3f %% (%" PRIu64 " of %" PRIu64 ")", rate, s.successes,
                    finished);
      out += Format("; latency ms p50 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n",
                    Ms(s.latency_us.Percentile(50)), Ms(s.latency_us.Percentile(99)),
                    Ms(s.latency_us.Percentile(99.9)), Ms(s.latency_us.max()));
      if (!s.failures_by_kind.empty()) {
        out += "  failures:";
        for (const auto& [kind, count] : s.failures_by_kind) {
          out += Format(" %s=%" PRIu64, kind.c_str(), count);
        }
        out += "\n";
      }
      if (s.challenges_met > 0) {
        out += Format("  challenges: met %" PRIu64 ", solved %" PRIu64
                      ", solve ms p50 %.1f max %.1f\n",
                      s.challenges_met, s.challenges_solved, Ms(s.solve_us.Percentile(50)),
                      Ms(s.solve_us.max()));
      }
      if (s.stale_retries > 0 || s.unsent_requests > 0) {
        out += Format("  stale keep-alive retries %" PRIu64 ", unfinished at stop %" PRIu64 "\n",
                      s.stale_retries, s.unsent_requests);
      }
    } else if (mode == Mode::kFlood || mode == Mode::kDistributed) {
      out += Format("\n%s: answered %.1f/s, 429 %" PRIu64 ", 503 %" PRIu64
                    ", latency ms p50 %.3f p99 %.3f max %.3f",
                    ModeName(mode), PerSecond(s.responses, stats.elapsed_seconds),
                    StatusCount(s, 429), StatusCount(s, 503), Ms(s.latency_us.Percentile(50)),
                    Ms(s.latency_us.Percentile(99)), Ms(s.latency_us.max()));
      if (mode == Mode::kDistributed) {
        out += Format(", turns skipped (pool full) %" PRIu64, s.skipped_pool_full);
      }
      out += "\n";
    } else {
      out += Format("\n%s: held %" PRIu64 " at the end (peak %" PRIu64
                    "), closed by server %" PRIu64 ", resets %" PRIu64,
                    ModeName(mode), s.open_at_end, s.peak_open, s.closed_by_server, s.resets);
      if (s.lifetime_us.count() > 0) {
        out += Format(", lifetime ms median %.1f max %.1f", Ms(s.lifetime_us.Percentile(50)),
                      Ms(s.lifetime_us.max()));
      }
      out += "\n";
    }
  }
  return out;
}

}  // namespace refuge::load
