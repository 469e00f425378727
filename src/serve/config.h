// ServeConfig: everything `refuge serve` can be told, read from a TOML file (toml++).
//
// Every option has a default that is right for a small node, so `refuge serve` runs with no
// file at all. The file's format, each option and its default are in docs/CONFIG.md; the
// defaults below are the single source of truth for them. Unknown keys are errors (a typo
// must not silently leave a default in place).
//
// Thread-safety: a plain value; copy it freely.
#ifndef REFUGE_SERVE_CONFIG_H_
#define REFUGE_SERVE_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "shield/shield_config.h"

namespace refuge::serve {

// One certificate chain and its private key (PEM files). The names it serves are the DNS
// names in the certificate (subjectAltName, else the common name).
struct CertificateConfig {
  std::string cert_file;
  std::string key_file;
};

struct ServeConfig {
  // --- [server] ----------------------------------------------------------------------------
  // Plain-HTTP listeners, "ADDR:PORT" ("[::1]:8080" for IPv6; port 0 picks a free port).
  std::vector<std::string> listen = {"127.0.0.1:8080"};
  // Event-loop threads; 0 means one per core.
  int threads = 0;
  // The node home; empty means REFUGE_HOME (or ~/.refuge).
  std::string home;
  // Site served at "/" when the Host header maps to no site; empty for none.
  std::string default_site;
  // Cache-Control max-age for path URLs (/s/<id>/<path>, Host-mapped paths), in seconds.
  // Content-addressed URLs are always "public, max-age=31536000, immutable".
  int64_t path_max_age_seconds = 60;
  // How often the node looks for newly published versions (and for a changed config when
  // SIGHUP arrives it reloads at once), in milliseconds.
  int64_t reload_interval_ms = 1000;
  // SIGTERM: how long in-flight responses may take to finish before the node exits.
  int64_t drain_timeout_ms = 10'000;
  // An idle keep-alive connection is closed after this long.
  int64_t keepalive_timeout_ms = 30'000;
  // The whole request head must arrive within this long (not reset by each byte).
  int64_t request_head_timeout_ms = 10'000;
  // Bounds on one request (larger gets 431 or 400 and the connection closes).
  uint64_t max_request_head_bytes = 8 * 1024;
  int max_header_count = 64;
  uint64_t max_body_bytes = 64 * 1024;
  // Range requests: at most this many ranges in one request, else the whole object is sent.
  int max_ranges = 16;
  // The in-memory cache of small objects: total bytes (split between threads), and the
  // largest object it holds; larger objects are sent from the file with sendfile.
  uint64_t cache_bytes = 64 * 1024 * 1024;
  uint64_t cache_max_object_bytes = 256 * 1024;
  // Access log file (one line per request); empty means none, which is the default:
  // readers of at-risk publications must not be recorded unless the operator decides to.
  std::string access_log;

  // --- [hosts] -----------------------------------------------------------------------------
  // Host name (lowercase, without port) -> site ID.
  std::map<std::string, std::string> hosts;

  // --- [tls] -------------------------------------------------------------------------------
  // HTTPS listeners; empty means no HTTPS.
  std::vector<std::string> tls_listen;
  // Certificates by SNI; the first is used when the client sends no (or an unknown) name.
  std::vector<CertificateConfig> certificates;

  // --- [redirect] --------------------------------------------------------------------------
  // Plain-HTTP listeners that answer 308 to https://<host><path>, except for
  // /.well-known/acme-challenge/<token>, served from `acme_webroot` (certbot's webroot mode).
  std::vector<std::string> redirect_listen;
  std::string acme_webroot;
  // Port written in the redirect's Location (443 omits it).
  int https_port = 443;

  // --- [mirror] ----------------------------------------------------------------------------
  // How other nodes reach this one ("http://203.0.113.7:8080"): sent with hints and in
  // announcements to the publishers of the sites it follows. Empty: the node neither
  // announces itself nor names itself in hints (it still follows its sites).
  std::vector<std::string> public_urls;
  // Each followed site is refreshed this often (+/- 20 % jitter), and at once on a hint.
  int64_t refresh_interval_seconds = 300;
  // Objects downloaded at once during a sync.
  int parallel_fetches = 8;
  // Total download rate of the node's syncs, bytes per second; 0: no cap.
  uint64_t bandwidth_limit = 0;
  // "host:port" of a SOCKS5 proxy for every outbound request (Tor: "127.0.0.1:9050").
  std::string socks5_proxy;
  // On a publish, this many mirrors are told at once; the others origin_fanout_delay_ms
  // later, by which time most have the version from each other.
  int origin_fanout = 1;
  int64_t origin_fanout_delay_ms = 5'000;

  // --- [shield] ----------------------------------------------------------------------------
  // Connection caps, rate limits, bans, under-attack mode (shield/shield_config.h).
  shield::ShieldConfig shield;

  // --- [admin] -----------------------------------------------------------------------------
  // The admin listener (Prometheus /metrics); empty disables it. Binds to loopback by default.
  std::string admin_listen = "127.0.0.1:9090";
};

// Reads (at most 1 MiB) and validates a config file. Errors name the file, the line, the key
// and what is wrong: "serve.toml:3:1: [server] unknown key 'listn'".
Result<ServeConfig> LoadServeConfig(const std::string& path);
// Parses and validates TOML text (`origin` names it in error messages). Keys left out keep
// the defaults above; empty text gives the defaults. A list of listen addresses may also be
// written as one string.
Result<ServeConfig> ParseServeConfig(const std::string& text, const std::string& origin);
// Checks values that do not depend on the file format (ranges, addresses, site IDs, host
// names, that TLS has a certificate and redirect has TLS, no address bound twice). It does
// not open files: TlsContext::Create checks the certificates, the server the rest.
Status ValidateServeConfig(const ServeConfig& config);

// "127.0.0.1:8080", "[::1]:0", "localhost:80" is refused (an address, not a name). The port
// is 0 to 65535 (0: the kernel picks one). Errors are kInvalidArgument naming the text.
struct ListenAddress {
  std::string host;  // numeric IPv4 or IPv6, without brackets
  uint16_t port = 0;
};
Result<ListenAddress> ParseListenAddress(const std::string& text);

}  // namespace refuge::serve

#endif  // REFUGE_SERVE_CONFIG_H_
