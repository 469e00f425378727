#include "load_options.h"

#include <algorithm>
#include <cmath>

#include <CLI/CLI.hpp>

namespace refuge::load {
namespace {

constexpr char kDescription[] =
    "refuge-load: the refuge project's own load and attack generator, for loopback tests\n"
    "of `refuge serve` (and of nginx or h2o for comparison). It plays legitimate readers\n"
    "and several kinds of attacker at once, from many source addresses, for a bounded time,\n"
    "and reports what each saw, as a table or as JSON.";

constexpr char kFooter[] = R"(MODES (combinable; each is off unless its count is given)
  --readers N            N legitimate readers (keep-alive GETs, one at a time, with a pause);
                         success rate and latency p50/p99/p99.9/max. They solve the
                         shield's proof-of-work challenge (503 + Refuge-Challenge) unless
                         --no-solve. They come from --reader-sources addresses: keep their
                         rate per address (1000 / --reader-interval-ms per reader) under the
                         server's per-address limit, or they measure the limiter.
  --flood-sources K      HTTP GET flood over keep-alive connections from K addresses
                         (--flood-connections each), at --flood-rate per address (0: full
                         speed). Never solves challenges; ignores Retry-After.
  --distributed-sources K  a flood from K addresses, each sending --distributed-rate
                         requests/s (meant to stay under a per-address limit); one short
                         connection (Connection: close) per request, at most
                         --distributed-connections at once.
  --slowloris N          N connections that send a request head one header line every
                         --slowloris-interval-ms and never finish it; reopened when closed.
  --slow-post N          N POSTs announcing --slow-post-length bytes, sent one byte per
                         --slow-post-interval-ms.
  --slow-read N          N GETs of --slow-read-path with a tiny receive buffer, read
                         --slow-read-bytes per --slow-read-interval-ms.
  --conn-flood N         up to N connections at once, opened as fast as possible and reset
                         right away (or after --conn-flood-hold-ms), never sending a byte.

SAFETY RULES
  Loopback only, by construction: the target and every source address must be IP literals
  (names are never resolved) in 127.0.0.0/8 or ::1; ::ffff:127.0.0.1 is refused (write
  127.0.0.1). The only exception: inside a named network namespace other than the initial
  one whose name starts with "rfg" (the project's test namespaces, see `ip netns identify`),
  any address is allowed. A refused address ends the program with exit status 2 and says
  why. Every run is bounded: --duration (at most 600 s) is required, --max-requests caps the
  requests; everything stops by itself, and SIGINT stops early and still prints results.

SOURCE ADDRESSES
  All of 127.0.0.0/8 is local on Linux, so the K addresses of a mode are consecutive
  addresses from its base (skipping .0 and .255), bound before connect with
  IP_BIND_ADDRESS_NO_PORT; each address has its own 28,000 ephemeral ports. Default bases:
  readers 127.0.0.1, flood 127.1.0.1, distributed 127.2.0.1, slowloris 127.3.0.1, conn
  flood 127.4.0.1, slow POST 127.5.0.1, slow read 127.6.0.1 (all ::1 for an IPv6 target).

RESOURCES
  One epoll loop per process for the attacks and one thread with its own loop for the
  readers (plus one thread solving challenges), so readers are measured promptly while the
  attack loop is busy. The open-file soft limit is raised to the hard limit at start; a run
  that needs more descriptors than that is refused: spread it with --processes N, which
  forks N workers, each taking every N-th connection, address and reader (and an N-th of
  --max-requests), and adds up their results.

OUTPUT
  A table per mode (connections, requests, answers by status, errors, rates; readers'
  success and latency) or, with --json, one JSON object on stdout (shape in docs/LOAD.md).
  Exit status: 0 run completed (whatever the server did), 1 the run could not start,
  2 bad arguments or a refused address.

EXAMPLES
  refuge-load --target 127.0.0.1:8080 --path /s/ID/index.html --duration 10 --readers 20
  refuge-load --target 127.0.0.1:8080 --duration 30 --readers 20 --slowloris 15000 \
      --slowloris-sources 4 --flood-sources 1 --flood-connections 32 \
      --distributed-sources 5000 --distributed-rate 1 --json
  refuge-load --target [::1]:8080 --duration 5 --conn-flood 2000)";

bool ValidPath(const std::string& path) {
  if (path.empty() || path.front() != '/' || path.size() > 4096) return false;
  return std::none_of(path.begin(), path.end(),
                      [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; });
}

Status CheckRange(const char* name, double value, double low, double high) {
  if (std::isnan(value) || value < low || value > high) {
    return InvalidArgument(std::string(name) + " must be between " + std::to_string(low) + " and " +
                           std::to_string(high));
  }
  return Status::Ok();
}

Status CheckInt(const char* name, int64_t value, int64_t low, int64_t high) {
  if (value < low || value > high) {
    return InvalidArgument(std::string(name) + " must be between " + std::to_string(low) + " and " +
                           std::to_string(high) + " (got " + std::to_string(value) + ")");
  }
  return Status::Ok();
}

uint64_t CeilDiv(uint64_t a, uint64_t b) { return b == 0 ? 0 : (a + b - 1) / b; }

}  // namespace

bool LoadOptions::AnyMode() const {
  return readers > 0 || flood_sources > 0 || distributed_sources > 0 || slowloris > 0 ||
         slow_post > 0 || slow_read > 0 || conn_flood > 0;
}

int LoadOptions::DistributedPool() const {
  if (distributed_connections > 0) return distributed_connections;
  return std::min(distributed_sources, 1000);
}

void DefineOptions(CLI::App& app, LoadOptions& o) {
  app.description(kDescription);
  app.footer(kFooter);
  app.get_formatter()->column_width(34);
  app.option_defaults()->always_capture_default();

  auto* general = "General";
  app.add_option("--target", o.target, "Server to load: IPv4:PORT or [IPv6]:PORT (loopback)")
      ->required()
      ->group(general);
  app.add_option("--host", o.host, "Host header (default: the --target text)")->group(general);
  app.add_option("--path", o.paths,
                 "Path to GET; repeat for several, used in turn (also slowloris/slow POST "
                 "take the first)")
      ->group(general);
  app.add_option("--duration", o.duration_seconds, "Seconds to run, at most 600 (required)")
      ->required()
      ->group(general);
  app.add_option("--max-requests", o.max_requests,
                 "Stop after this many requests in all (readers, floods); 0: no cap")
      ->group(general);
  app.add_flag("--json", o.json, "Print one JSON object instead of the table")->group(general);
  app.add_option("--processes", o.processes, "Worker processes sharing the load (1-16)")
      ->group(general);
  app.add_option("--connect-timeout-ms", o.connect_timeout_ms,
                 "A connect not done by then counts as dropped at accept")
      ->group(general);
  app.add_option("--request-timeout-ms", o.request_timeout_ms,
                 "Flood requests unanswered by then are abandoned (connection reset)")
      ->group(general);
  app.add_option("--max-pending-connects", o.max_pending_connects,
                 "Connects in progress at once, per slow mode and conn flood (ramp-up)")
      ->group(general);

  auto* readers = "Readers";
  app.add_option("--readers", o.readers, "Legitimate readers (keep-alive connections)")
      ->group(readers);
  app.add_option("--reader-source", o.reader_source,
                 "Source address of the readers (default 127.0.0.1, ::1 for IPv6)")
      ->group(readers);
  app.add_option("--reader-sources", o.reader_sources,
                 "Spread the readers over this many addresses from --reader-source")
      ->group(readers);
  app.add_option("--reader-interval-ms", o.reader_interval_ms,
                 "Pause between a response and the reader's next request (0: none)")
      ->group(readers);
  app.add_option("--reader-timeout-ms", o.reader_timeout_ms,
                 "A request not answered in full by then is a failure (timeout)")
      ->group(readers);
  app.add_flag("--no-solve", o.no_solve, "Do not solve challenges (a 503 is then a failure)")
      ->group(readers);

  auto* flood = "HTTP flood";
  app.add_option("--flood-sources", o.flood_sources, "Source addresses of the flood")->group(flood);
  app.add_option("--flood-rate", o.flood_rate, "Requests/s per source address; 0: full speed")
      ->group(flood);
  app.add_option("--flood-connections", o.flood_connections,
                 "Keep-alive connections per source address")
      ->group(flood);
  app.add_option("--flood-base", o.flood_base, "First source address (default 127.1.0.1)")
      ->group(flood);

  auto* distributed = "Distributed flood";
  app.add_option("--distributed-sources", o.distributed_sources,
                 "Source addresses, each sending --distributed-rate")
      ->group(distributed);
  app.add_option("--distributed-rate", o.distributed_rate, "Requests/s per address")
      ->group(distributed);
  app.add_option("--distributed-connections", o.distributed_connections,
                 "Connections in flight at once; 0: min(sources, 1000)")
      ->group(distributed);
  app.add_option("--distributed-base", o.distributed_base,
                 "First source address (default 127.2.0.1)")
      ->group(distributed);

  auto* slowloris = "Slowloris";
  app.add_option("--slowloris", o.slowloris, "Slowloris connections")->group(slowloris);
  app.add_option("--slowloris-sources", o.slowloris_sources,
                 "Source addresses they are spread over")
      ->group(slowloris);
  app.add_option("--slowloris-base", o.slowloris_base, "First source address (default 127.3.0.1)")
      ->group(slowloris);
  app.add_option("--slowloris-interval-ms", o.slowloris_interval_ms,
                 "Between two header lines of one connection")
      ->group(slowloris);

  auto* slow_post = "Slow POST";
  app.add_option("--slow-post", o.slow_post, "Slow POST connections")->group(slow_post);
  app.add_option("--slow-post-sources", o.slow_post_sources, "Source addresses")->group(slow_post);
  app.add_option("--slow-post-base", o.slow_post_base, "First source address (default 127.5.0.1)")
      ->group(slow_post);
  app.add_option("--slow-post-interval-ms", o.slow_post_interval_ms, "Between two body bytes")
      ->group(slow_post);
  app.add_option("--slow-post-length", o.slow_post_length, "Content-Length announced")
      ->group(slow_post);

  auto* slow_read = "Slow read";
  app.add_option("--slow-read", o.slow_read, "Slow read connections")->group(slow_read);
  app.add_option("--slow-read-sources", o.slow_read_sources, "Source addresses")->group(slow_read);
  app.add_option("--slow-read-base", o.slow_read_base, "First source address (default 127.6.0.1)")
      ->group(slow_read);
  app.add_option("--slow-read-path", o.slow_read_path,
                 "A large file to read slowly (default: the first --path)")
      ->group(slow_read);
  app.add_option("--slow-read-interval-ms", o.slow_read_interval_ms, "Between two reads")
      ->group(slow_read);
  app.add_option("--slow-read-bytes", o.slow_read_bytes, "Bytes taken per read")->group(slow_read);
  app.add_option("--slow-read-rcvbuf", o.slow_read_rcvbuf,
                 "SO_RCVBUF set before connect (the kernel enforces a minimum of ~2 KiB)")
      ->group(slow_read);

  auto* conn_flood = "Connection flood";
  app.add_option("--conn-flood", o.conn_flood, "Connections open at most at once")
      ->group(conn_flood);
  app.add_option("--conn-flood-sources", o.conn_flood_sources, "Source addresses")
      ->group(conn_flood);
  app.add_option("--conn-flood-base", o.conn_flood_base, "First source address (default 127.4.0.1)")
      ->group(conn_flood);
  app.add_option("--conn-flood-hold-ms", o.conn_flood_hold_ms,
                 "How long each connection is held before its reset; 0: reset at once")
      ->group(conn_flood);
}

Result<LoadOptions> ParseArguments(const std::vector<std::string>& args) {
  CLI::App app("refuge-load", "refuge-load");
  LoadOptions options;
  DefineOptions(app, options);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 wants them reversed
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return InvalidArgument(e.what());
  }
  return options;
}

uint64_t ShareOf(uint64_t total, int worker, int workers) {
  auto w = static_cast<uint64_t>(worker);
  auto n = static_cast<uint64_t>(workers);
  return total / n + (w < total % n ? 1 : 0);
}

uint64_t DescriptorsPerProcess(const LoadOptions& o) {
  auto p = static_cast<uint64_t>(std::max(1, o.processes));
  uint64_t flood =
      uint64_t(std::max(0, o.flood_sources)) * uint64_t(std::max(0, o.flood_connections));
  uint64_t connections = CeilDiv(uint64_t(std::max(0, o.readers)), p) + CeilDiv(flood, p) +
                         CeilDiv(uint64_t(std::max(0, o.DistributedPool())), p) +
                         CeilDiv(uint64_t(std::max(0, o.slowloris)), p) +
                         CeilDiv(uint64_t(std::max(0, o.slow_post)), p) +
                         CeilDiv(uint64_t(std::max(0, o.slow_read)), p) +
                         CeilDiv(uint64_t(std::max(0, o.conn_flood)), p);
  return connections + kReservedDescriptors;
}

Status ValidateOptions(const LoadOptions& o, uint64_t descriptor_limit) {
  if (!o.AnyMode()) {
    return InvalidArgument(
        "no mode given: add at least one of --readers, --flood-sources, "
        "--distributed-sources, --slowloris, --slow-post, --slow-read, --conn-flood");
  }
  if (!(o.duration_seconds > 0) || o.duration_seconds > kMaxDurationSeconds) {
    return InvalidArgument("--duration must be more than 0 and at most 600 seconds");
  }
  if (o.paths.empty()) return InvalidArgument("--path needs a value");
  for (const std::string& path : o.paths) {
    if (!ValidPath(path)) {
      return InvalidArgument("--path \"" + path +
                             "\" must start with / and contain no spaces or control characters");
    }
  }
  if (!o.slow_read_path.empty() && !ValidPath(o.slow_read_path)) {
    return InvalidArgument("--slow-read-path must start with / and contain no spaces");
  }
  for (char c : o.host) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return InvalidArgument("--host must not contain spaces or control characters");
    }
  }
  REFUGE_RETURN_IF_ERROR(CheckInt("--processes", o.processes, 1, kMaxProcesses));
  REFUGE_RETURN_IF_ERROR(CheckInt("--connect-timeout-ms", o.connect_timeout_ms, 1, 60'000));
  REFUGE_RETURN_IF_ERROR(CheckInt("--request-timeout-ms", o.request_timeout_ms, 1, 600'000));
  REFUGE_RETURN_IF_ERROR(CheckInt("--max-pending-connects", o.max_pending_connects, 1, 100'000));

  REFUGE_RETURN_IF_ERROR(CheckInt("--readers", o.readers, 0, 10'000));
  REFUGE_RETURN_IF_ERROR(CheckInt("--reader-sources", o.reader_sources, 1, 10'000));
  REFUGE_RETURN_IF_ERROR(CheckInt("--reader-interval-ms", o.reader_interval_ms, 0, 60'000));
  REFUGE_RETURN_IF_ERROR(CheckInt("--reader-timeout-ms", o.reader_timeout_ms, 1, 600'000));

  REFUGE_RETURN_IF_ERROR(CheckInt("--flood-sources", o.flood_sources, 0, 100'000));
  REFUGE_RETURN_IF_ERROR(CheckRange("--flood-rate", o.flood_rate, 0, 10'000'000));
  REFUGE_RETURN_IF_ERROR(CheckInt("--flood-connections", o.flood_connections, 1, 10'000));
  if (uint64_t(o.flood_sources) * uint64_t(o.flood_connections) > 200'000) {
    return InvalidArgument("--flood-sources x --flood-connections must be at most 200000");
  }

  REFUGE_RETURN_IF_ERROR(CheckInt("--distributed-sources", o.distributed_sources, 0, 1'000'000));
  if (o.distributed_sources > 0) {
    REFUGE_RETURN_IF_ERROR(CheckRange("--distributed-rate", o.distributed_rate, 0.001, 10'000));
  }
  REFUGE_RETURN_IF_ERROR(
      CheckInt("--distributed-connections", o.distributed_connections, 0, 100'000));

  REFUGE_RETURN_IF_ERROR(CheckInt("--slowloris", o.slowloris, 0, 200'000));
  REFUGE_RETURN_IF_ERROR(CheckInt("--slowloris-sources", o.slowloris_sources, 1, 100'000));
  REFUGE_RETURN_IF_ERROR(CheckInt("--slowloris-interval-ms", o.slowloris_interval_ms, 1, 600'000));
  REFUGE_RETURN_IF_ERROR(CheckInt("--slow-post", o.slow_post, 0, 200'000));
  REFUGE_RETURN_IF_ERROR(CheckInt("--slow-post-sources", o.slow_post_sources, 1, 100'000));
  REFUGE_RETURN_IF_ERROR(CheckInt("--slow-post-interval-ms", o.slow_post_interval_ms, 1, 600'000));
  if (o.slow_post_length < 1 || o.slow_post_length > (uint64_t{1} << 40)) {
    return InvalidArgument("--slow-post-length must be between 1 and 2^40");
  }
  REFUGE_RETURN_IF_ERROR(CheckInt("--slow-read", o.slow_read, 0, 200'000));
  REFUGE_RETURN_IF_ERROR(CheckInt("--slow-read-sources", o.slow_read_sources, 1, 100'000));
  REFUGE_RETURN_IF_ERROR(CheckInt("--slow-read-interval-ms", o.slow_read_interval_ms, 1, 600'000));
  REFUGE_RETURN_IF_ERROR(CheckInt("--slow-read-bytes", o.slow_read_bytes, 1, 65'536));
  REFUGE_RETURN_IF_ERROR(CheckInt("--slow-read-rcvbuf", o.slow_read_rcvbuf, 1, 1 << 24));
  REFUGE_RETURN_IF_ERROR(CheckInt("--conn-flood", o.conn_flood, 0, 200'000));
  REFUGE_RETURN_IF_ERROR(CheckInt("--conn-flood-sources", o.conn_flood_sources, 1, 100'000));
  REFUGE_RETURN_IF_ERROR(CheckInt("--conn-flood-hold-ms", o.conn_flood_hold_ms, 0, 600'000));

  struct PerSource {
    const char* what;
    uint64_t connections;
    uint64_t sources;
  };
  const PerSource per_source[] = {
      {"--readers", uint64_t(o.readers), uint64_t(o.reader_sources)},
      {"--flood-connections", uint64_t(o.flood_connections), 1},
      {"--slowloris", uint64_t(o.slowloris), uint64_t(o.slowloris_sources)},
      {"--slow-post", uint64_t(o.slow_post), uint64_t(o.slow_post_sources)},
      {"--slow-read", uint64_t(o.slow_read), uint64_t(o.slow_read_sources)},
      {"--conn-flood", uint64_t(o.conn_flood), uint64_t(o.conn_flood_sources)},
  };
  for (const PerSource& p : per_source) {
    if (CeilDiv(p.connections, p.sources) > kMaxConnectionsPerSource) {
      return InvalidArgument(std::string(p.what) + " needs more than " +
                             std::to_string(kMaxConnectionsPerSource) +
                             " connections per source address (its ephemeral ports); "
                             "give more sources");
    }
  }

  uint64_t needed = DescriptorsPerProcess(o);
  if (needed > descriptor_limit) {
    uint64_t per_worker =
        descriptor_limit > kReservedDescriptors ? descriptor_limit - kReservedDescriptors : 1;
    uint64_t suggest =
        CeilDiv(needed - kReservedDescriptors, per_worker) * static_cast<uint64_t>(o.processes);
    return InvalidArgument("this run needs about " + std::to_string(needed) +
                           " file descriptors per process but the limit is " +
                           std::to_string(descriptor_limit) + "; spread it with --processes " +
                           std::to_string(std::min<uint64_t>(suggest, kMaxProcesses)) +
                           " or fewer connections");
  }
  return Status::Ok();
}

}  // namespace refuge::load
