#include "serve/metrics.h"

#include "shield/shield.h"

namespace refuge::serve {

namespace {

void Header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

template <typename F>
uint64_t Sum(const ServerMetrics& m, F field) {
  uint64_t total = 0;
  for (const auto& loop : m.loops) total += static_cast<uint64_t>(field(*loop));
  return total;
}

void Line(std::string& out, const char* name, uint64_t value) {
  out += name;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

void RenderShield(const shield::Shield& s, std::string& out) {
  Header(out, "refuge_shield_events_total", "counter",
         "Shield outcomes: served, limited (429), challenged, solved, waited, bad_solution, "
         "cleared, banned, dropped (at accept: banned), refused (at accept: a connection cap), "
         "evicted (at the connection cap), timed_out, would_limit and would_challenge (dry run).");
  for (size_t i = 0; i < static_cast<size_t>(shield::Event::kCount); ++i) {
    const auto e = static_cast<shield::Event>(i);
    out += "refuge_shield_events_total{event=\"";
    out += shield::EventName(e);
    out += "\"} ";
    out += std::to_string(s.count(e));
    out += '\n';
  }
  Header(out, "refuge_shield_under_attack", "gauge", "1 while under-attack mode is on.");
  Line(out, "refuge_shield_under_attack", s.under_attack() ? 1 : 0);
  Header(out, "refuge_shield_pow_bits", "gauge", "The challenge's difficulty (leading zero bits).");
  Line(out, "refuge_shield_pow_bits", static_cast<uint64_t>(s.pow_bits()));
  Header(out, "refuge_shield_open_connections", "gauge", "Connections the shield counts now.");
  Line(out, "refuge_shield_open_connections", static_cast<uint64_t>(s.open_connections()));
  Header(out, "refuge_shield_tracked_clients", "gauge", "Addresses and prefixes in the client tables.");
  Line(out, "refuge_shield_tracked_clients", s.tracked_clients());
}

}  // namespace

std::string RenderPrometheus(const ServerMetrics& m) {
  std::string out;
  Header(out, "refuge_http_requests_total", "counter", "HTTP requests answered, by status code.");
  for (size_t i = 0; i <= kCountedStatuses.size(); ++i) {
    uint64_t n = Sum(m, [i](const LoopCounters& c) { return c.requests[i].load(std::memory_order_relaxed); });
    out += "refuge_http_requests_total{code=\"";
    out += i < kCountedStatuses.size() ? std::to_string(kCountedStatuses[i]) : "other";
    out += "\"} ";
    out += std::to_string(n);
    out += '\n';
  }
  // One line per loop counter: name, type, help, and the field summed over the loops.
  struct LoopMetric {
    const char* name;
    const char* type;
    const char* help;
    uint64_t (*read)(const LoopCounters&);
  };
  static const LoopMetric kLoopMetrics[] = {
      {"refuge_http_response_bytes_total", "counter", "Bytes of HTTP responses sent (heads and bodies).",
       [](const LoopCounters& c) { return c.response_bytes.load(std::memory_order_relaxed); }},
      {"refuge_http_connections_total", "counter", "Connections accepted.",
       [](const LoopCounters& c) { return c.connections_accepted.load(std::memory_order_relaxed); }},
      {"refuge_http_open_connections", "gauge", "Connections open now.",
       [](const LoopCounters& c) {
         return static_cast<uint64_t>(c.connections_open.load(std::memory_order_relaxed));
       }},
      {"refuge_http_timeouts_total", "counter",
       "Connections closed by a timeout (idle, request head, send).",
       [](const LoopCounters& c) { return c.timeouts.load(std::memory_order_relaxed); }},
      {"refuge_tls_handshakes_total", "counter", "TLS handshakes completed.",
       [](const LoopCounters& c) { return c.tls_handshakes.load(std::memory_order_relaxed); }},
      {"refuge_tls_handshake_failures_total", "counter", "TLS handshakes that failed.",
       [](const LoopCounters& c) { return c.tls_handshake_failures.load(std::memory_order_relaxed); }},
      {"refuge_cache_hits_total", "counter", "Responses served from the in-memory object cache.",
       [](const LoopCounters& c) { return c.cache_hits.load(std::memory_order_relaxed); }},
      {"refuge_cache_misses_total", "counter", "Small objects read from the store into the cache.",
       [](const LoopCounters& c) { return c.cache_misses.load(std::memory_order_relaxed); }},
      {"refuge_cache_bytes", "gauge", "Bytes held by the object caches.",
       [](const LoopCounters& c) { return c.cache_bytes.load(std::memory_order_relaxed); }},
  };
  for (const LoopMetric& metric : kLoopMetrics) {
    Header(out, metric.name, metric.type, metric.help);
    Line(out, metric.name, Sum(m, metric.read));
  }
  Header(out, "refuge_sites_served", "gauge", "Sites with a verified version being served.");
  Line(out, "refuge_sites_served", static_cast<uint64_t>(m.sites_served.load(std::memory_order_relaxed)));
  Header(out, "refuge_catalog_reloads_total", "counter", "Catalog reloads (new publications, SIGHUP).");
  Line(out, "refuge_catalog_reloads_total", m.catalog_reloads.load(std::memory_order_relaxed));
  Header(out, "refuge_catalog_reload_failures_total", "counter", "Sites that failed to load on a reload.");
  Line(out, "refuge_catalog_reload_failures_total", m.catalog_reload_failures.load(std::memory_order_relaxed));
  Header(out, "refuge_site_requests_total", "counter", "Requests for each site's content.");
  m.sites.ForEach([&](const std::string& id, const SiteCounters& c) {
    out += "refuge_site_requests_total{site=\"" + id + "\"} " +
           std::to_string(c.requests.load(std::memory_order_relaxed)) + "\n";
  });
  Header(out, "refuge_site_response_bytes_total", "counter", "Body bytes sent for each site.");
  m.sites.ForEach([&](const std::string& id, const SiteCounters& c) {
    out += "refuge_site_response_bytes_total{site=\"" + id + "\"} " +
           std::to_string(c.bytes.load(std::memory_order_relaxed)) + "\n";
  });
  if (m.shield != nullptr) RenderShield(*m.shield, out);
  return out;
}

}  // namespace refuge::serve
