#include "load_stats.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace refuge::load {

const char* ModeName(Mode mode) {
  switch (mode) {
    case Mode::kReaders:
      return "readers";
    case Mode::kFlood:
      return "flood";
    case Mode::kDistributed:
      return "distributed";
    case Mode::kSlowloris:
      return "slowloris";
    case Mode::kSlowPost:
      return "slow_post";
    case Mode::kSlowRead:
      return "slow_read";
    case Mode::kConnFlood:
      return "conn_flood";
  }
  return "unknown";
}

std::optional<Mode> ModeFromName(std::string_view name) {
  for (Mode mode : kAllModes) {
    if (name == ModeName(mode)) return mode;
  }
  return std::nullopt;
}

const char* StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kNone:
      return "none";
    case StopReason::kDuration:
      return "duration";
    case StopReason::kMaxRequests:
      return "max_requests";
    case StopReason::kInterrupted:
      return "interrupted";
  }
  return "unknown";
}

void ModeStats::Fail(std::string_view kind) {
  ++failures;
  auto it = failures_by_kind.find(kind);
  if (it == failures_by_kind.end()) {
    failures_by_kind.emplace(std::string(kind), 1);
  } else {
    ++it->second;
  }
}

void ModeStats::FailStatus(int status) { Fail("status_" + std::to_string(status)); }

void ModeStats::Merge(const ModeStats& other) {
#define REFUGE_LOAD_ADD(name) name += other.name;
  REFUGE_LOAD_COUNTERS(REFUGE_LOAD_ADD)
#undef REFUGE_LOAD_ADD
  for (const auto& [status, count] : other.responses_by_status)
    responses_by_status[status] += count;
  for (const auto& [kind, count] : other.failures_by_kind) failures_by_kind[kind] += count;
  for (const auto& [name, count] : other.connect_errors_by_errno) {
    connect_errors_by_errno[name] += count;
  }
  latency_us.Merge(other.latency_us);
  lifetime_us.Merge(other.lifetime_us);
  solve_us.Merge(other.solve_us);
}

nlohmann::json ModeStats::ToJson() const {
  nlohmann::json j;
#define REFUGE_LOAD_PUT(name) j[#name] = name;
  REFUGE_LOAD_COUNTERS(REFUGE_LOAD_PUT)
#undef REFUGE_LOAD_PUT
  nlohmann::json statuses = nlohmann::json::object();
  for (const auto& [status, count] : responses_by_status) statuses[std::to_string(status)] = count;
  j["responses_by_status"] = statuses;
  nlohmann::json kinds = nlohmann::json::object();
  for (const auto& [kind, count] : failures_by_kind) kinds[kind] = count;
  j["failures_by_kind"] = kinds;
  nlohmann::json errnos = nlohmann::json::object();
  for (const auto& [name, count] : connect_errors_by_errno) errnos[name] = count;
  j["connect_errors_by_errno"] = errnos;
  j["latency_us"] = latency_us.ToJson();
  j["lifetime_us"] = lifetime_us.ToJson();
  j["solve_us"] = solve_us.ToJson();
  return j;
}

ModeStats ModeStats::FromJson(const nlohmann::json& j) {
  ModeStats s;
#define REFUGE_LOAD_GET(name) s.name = j.at(#name).get<uint64_t>();
  REFUGE_LOAD_COUNTERS(REFUGE_LOAD_GET)
#undef REFUGE_LOAD_GET
  for (const auto& [status, count] : j.at("responses_by_status").items()) {
    s.responses_by_status[std::stoi(status)] = count.get<uint64_t>();
  }
  for (const auto& [kind, count] : j.at("failures_by_kind").items()) {
    s.failures_by_kind[kind] = count.get<uint64_t>();
  }
  for (const auto& [name, count] : j.at("connect_errors_by_errno").items()) {
    s.connect_errors_by_errno[name] = count.get<uint64_t>();
  }
  s.latency_us = LatencyHistogram::FromJson(j.at("latency_us"));
  s.lifetime_us = LatencyHistogram::FromJson(j.at("lifetime_us"));
  s.solve_us = LatencyHistogram::FromJson(j.at("solve_us"));
  return s;
}

void RunStats::Merge(const RunStats& other) {
  for (const auto& [mode, stats] : other.modes) modes[mode].Merge(stats);
  elapsed_seconds = std::max(elapsed_seconds, other.elapsed_seconds);
  // The first reason a worker stopped early wins over "duration".
  if (stop_reason == StopReason::kNone || stop_reason == StopReason::kDuration) {
    if (other.stop_reason != StopReason::kNone) stop_reason = other.stop_reason;
  }
}

nlohmann::json RunStats::ToJson() const {
  nlohmann::json j;
  nlohmann::json m = nlohmann::json::object();
  for (const auto& [mode, stats] : modes) m[ModeName(mode)] = stats.ToJson();
  j["modes"] = m;
  j["elapsed_seconds"] = elapsed_seconds;
  j["stop_reason"] = static_cast<int>(stop_reason);
  return j;
}

RunStats RunStats::FromJson(const nlohmann::json& j) {
  RunStats s;
  for (const auto& [name, stats] : j.at("modes").items()) {
    if (std::optional<Mode> mode = ModeFromName(name)) s.modes[*mode] = ModeStats::FromJson(stats);
  }
  s.elapsed_seconds = j.at("elapsed_seconds").get<double>();
  int reason = j.at("stop_reason").get<int>();
  if (reason >= 0 && reason <= static_cast<int>(StopReason::kInterrupted)) {
    s.stop_reason = static_cast<StopReason>(reason);
  }
  return s;
}

}  // namespace refuge::load
