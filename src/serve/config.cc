// Reading and checking `refuge serve`'s TOML config. The format is documented in
// docs/CONFIG.md; keep the two in step.
//
// Parsing is strict: every table and key must be known, every value must have the expected
// TOML type (an integer where a number is wanted, never a float or a string), and integers
// must fit the field. Range checks that do not depend on the file format live in
// ValidateServeConfig, so a config built in code (tests, defaults) is checked the same way.
#include "serve/config.h"

#include <arpa/inet.h>

#include <climits>
#include <set>
#include <string_view>
#include <toml++/toml.h>
#include <utility>

#include "common/file_util.h"
#include "net/fetcher.h"
#include "node/mirror_list.h"
#include "node/node_home.h"

namespace refuge::serve {

namespace {

// ---------------------------------------------------------------------------------------------
// Limits on the config's values. Each is a sanity bound, not a tuning knob: a value outside
// it is a mistake (a unit confusion, a stray digit), so it is refused instead of obeyed.

// A config is a few KiB even with hundreds of hosts; a larger file is not a config.
constexpr uint64_t kMaxConfigFileBytes = 1024 * 1024;
// More event loops than this would only contend; 256 cores is a very large machine.
constexpr int kMaxThreads = 256;
// One year: what RFC 9111 calls "never expires" in practice; path URLs change with each
// publication, so anything near this is already a mistake, but it is the operator's call.
constexpr int64_t kMaxPathMaxAgeSeconds = 365 * 24 * 3600;
// Every millisecond duration (reload interval, timeouts) is at least 1 ms and at most a day.
constexpr int64_t kMinDurationMs = 1;
constexpr int64_t kMaxDurationMs = 24 * 3600 * 1000;
// A request head must hold a request line with a 2 KiB target path (limits.h) and the usual
// headers, so 1 KiB is the least; 64 KiB is more than any browser sends (nginx's largest
// default buffer set is 32 KiB).
constexpr uint64_t kMinRequestHeadBytes = 1024;
constexpr uint64_t kMaxRequestHeadBytes = 64 * 1024;
// Browsers send 10 to 20 headers; fewer than 8 would refuse ordinary requests.
constexpr int kMinHeaderCount = 8;
constexpr int kMaxHeaderCount = 256;
// The node serves files; the bodies it reads are small control requests.
constexpr uint64_t kMaxBodyBytes = 16 * 1024 * 1024;
// A client asking for more ranges than this in one request is probing, not reading.
constexpr int kMaxRanges = 1024;
// The response cache lives in memory.
constexpr uint64_t kMaxCacheBytes = uint64_t{256} * 1024 * 1024 * 1024;
// File names in the config (home, certificates, logs, the ACME webroot): PATH_MAX on Linux,
// less the terminating NUL.
constexpr size_t kMaxPathBytes = 4095;
// DNS limits (RFC 1035): a name of at most 253 characters, labels of at most 63.
constexpr size_t kMaxHostNameBytes = 253;
constexpr size_t kMaxHostLabelBytes = 63;

// ---------------------------------------------------------------------------------------------
// Typed access to TOML nodes. Every error says where (origin:line:column) and which key.

const char* TypeName(toml::node_type type) {
  switch (type) {
    case toml::node_type::none: return "nothing";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
  }
  return "an unknown type";
}

class ConfigParser {
 public:
  explicit ConfigParser(std::string origin) : origin_(std::move(origin)) {}

  Result<ServeConfig> Parse(const std::string& text) {
    toml::table root;
    try {
      root = toml::parse(text, origin_);
    } catch (const toml::parse_error& e) {
      return Error(e.source(), "TOML syntax error: " + std::string(e.description()));
    }
    for (auto&& [key, node] : root) {
      const std::string name(key.str());
      const toml::table* table = node.as_table();
      if (table == nullptr) {
        if (name == "server" || name == "hosts" || name == "tls" || name == "redirect" ||
            name == "admin" || name == "mirror" || name == "shield") {
          return Error(node.source(), "[" + name + "] must be a table, not " +
                                          TypeName(node.type()));
        }
        return Error(key.source(), "unknown top-level key '" + name +
                                       "' (options belong in a table such as [server])");
      }
      Status s;
      if (name == "server") {
        s = ParseServer(*table);
      } else if (name == "hosts") {
        s = ParseHosts(*table);
      } else if (name == "tls") {
        s = ParseTls(*table);
      } else if (name == "redirect") {
        s = ParseRedirect(*table);
      } else if (name == "admin") {
        s = ParseAdmin(*table);
      } else if (name == "mirror") {
        s = ParseMirror(*table);
      } else if (name == "shield") {
        s = ParseShield(*table);
      } else {
        return Error(key.source(), "unknown table [" + name + "]");
      }
      REFUGE_RETURN_IF_ERROR(s);
    }
    Status valid = ValidateServeConfig(config_);
    if (!valid.ok()) return valid.Annotate(origin_);
    return std::move(config_);
  }

 private:
  Status Error(const toml::source_region& where, const std::string& what) const {
    std::string m = origin_;
    if (where.begin.line != 0) {
      m += ":" + std::to_string(where.begin.line) + ":" + std::to_string(where.begin.column);
    }
    return InvalidArgument(m + ": " + what);
  }

  Status WrongType(const toml::node& node, const std::string& what, const char* expected) const {
    return Error(node.source(),
                 what + ": expected " + expected + ", not " + TypeName(node.type()));
  }

  Status UnknownKey(const toml::key& key, const std::string& table) const {
    return Error(key.source(), table + " unknown key '" + std::string(key.str()) + "'");
  }

  Result<std::string> String(const toml::node& node, const std::string& what) const {
    const toml::value<std::string>* v = node.as_string();
    if (v == nullptr) return WrongType(node, what, "a string");
    return v->get();
  }

  Result<int64_t> Integer(const toml::node& node, const std::string& what) const {
    const toml::value<int64_t>* v = node.as_integer();
    if (v == nullptr) return WrongType(node, what, "an integer");
    return v->get();
  }

  // An integer that must fit an `int` field (the range proper is checked by validation).
  Result<int> SmallInteger(const toml::node& node, const std::string& what) const {
    REFUGE_ASSIGN_OR_RETURN(int64_t v, Integer(node, what));
    if (v < INT_MIN || v > INT_MAX) {
      return Error(node.source(), what + ": " + std::to_string(v) + " is out of range");
    }
    return static_cast<int>(v);
  }

  // A byte count: an integer that is not negative.
  Result<uint64_t> Size(const toml::node& node, const std::string& what) const {
    REFUGE_ASSIGN_OR_RETURN(int64_t v, Integer(node, what));
    if (v < 0) return Error(node.source(), what + ": must not be negative");
    return static_cast<uint64_t>(v);
  }

  // A list of addresses: an array of strings, or one string for a single address.
  Result<std::vector<std::string>> StringList(const toml::node& node,
                                              const std::string& what) const {
    if (const toml::value<std::string>* one = node.as_string()) {
      return std::vector<std::string>{one->get()};
    }
    const toml::array* array = node.as_array();
    if (array == nullptr) return WrongType(node, what, "an array of strings");
    std::vector<std::string> out;
    for (const toml::node& element : *array) {
      const toml::value<std::string>* v = element.as_string();
      if (v == nullptr) return WrongType(element, what + " element", "a string");
      out.push_back(v->get());
    }
    return out;
  }

  Status ParseServer(const toml::table& table) {
    ServeConfig& c = config_;
    for (auto&& [key, node] : table) {
      const std::string name(key.str());
      const std::string what = "[server] " + name;
      if (name == "listen") {
        REFUGE_ASSIGN_OR_RETURN(c.listen, StringList(node, what));
      } else if (name == "threads") {
        REFUGE_ASSIGN_OR_RETURN(c.threads, SmallInteger(node, what));
      } else if (name == "home") {
        REFUGE_ASSIGN_OR_RETURN(c.home, String(node, what));
      } else if (name == "default_site") {
        REFUGE_ASSIGN_OR_RETURN(c.default_site, String(node, what));
      } else if (name == "path_max_age_seconds") {
        REFUGE_ASSIGN_OR_RETURN(c.path_max_age_seconds, Integer(node, what));
      } else if (name == "reload_interval_ms") {
        REFUGE_ASSIGN_OR_RETURN(c.reload_interval_ms, Integer(node, what));
      } else if (name == "drain_timeout_ms") {
        REFUGE_ASSIGN_OR_RETURN(c.drain_timeout_ms, Integer(node, what));
      } else if (name == "keepalive_timeout_ms") {
        REFUGE_ASSIGN_OR_RETURN(c.keepalive_timeout_ms, Integer(node, what));
      } else if (name == "request_head_timeout_ms") {
        REFUGE_ASSIGN_OR_RETURN(c.request_head_timeout_ms, Integer(node, what));
      } else if (name == "max_request_head_bytes") {
        REFUGE_ASSIGN_OR_RETURN(c.max_request_head_bytes, Size(node, what));
      } else if (name == "max_header_count") {
        REFUGE_ASSIGN_OR_RETURN(c.max_header_count, SmallInteger(node, what));
      } else if (name == "max_body_bytes") {
        REFUGE_ASSIGN_OR_RETURN(c.max_body_bytes, Size(node, what));
      } else if (name == "max_ranges") {
        REFUGE_ASSIGN_OR_RETURN(c.max_ranges, SmallInteger(node, what));
      } else if (name == "cache_bytes") {
        REFUGE_ASSIGN_OR_RETURN(c.cache_bytes, Size(node, what));
      } else if (name == "cache_max_object_bytes") {
        REFUGE_ASSIGN_OR_RETURN(c.cache_max_object_bytes, Size(node, what));
      } else if (name == "access_log") {
        REFUGE_ASSIGN_OR_RETURN(c.access_log, String(node, what));
      } else {
        return UnknownKey(key, "[server]");
      }
    }
    return Status::Ok();
  }

  Status ParseHosts(const toml::table& table) {
    for (auto&& [key, node] : table) {
      const std::string name(key.str());
      if (node.is_table()) {
        // `a.example = "..."` is a dotted key in TOML: a table a with a key example.
        return Error(key.source(), "[hosts] '" + name +
                                       "': expected a site ID string; quote host names "
                                       "that contain dots (\"www.example.org\" = \"...\")");
      }
      REFUGE_ASSIGN_OR_RETURN(config_.hosts[name], String(node, "[hosts] \"" + name + "\""));
    }
    return Status::Ok();
  }

  Status ParseTls(const toml::table& table) {
    for (auto&& [key, node] : table) {
      const std::string name(key.str());
      const std::string what = "[tls] " + name;
      if (name == "listen") {
        REFUGE_ASSIGN_OR_RETURN(config_.tls_listen, StringList(node, what));
      } else if (name == "certificates") {
        const toml::array* array = node.as_array();
        if (array == nullptr) {
          return WrongType(node, what, "an array of tables ([[tls.certificates]])");
        }
        for (const toml::node& element : *array) {
          const toml::table* cert = element.as_table();
          if (cert == nullptr) {
            return WrongType(element, what + " element", "a table ([[tls.certificates]])");
          }
          REFUGE_RETURN_IF_ERROR(ParseCertificate(*cert));
        }
      } else {
        return UnknownKey(key, "[tls]");
      }
    }
    return Status::Ok();
  }

  Status ParseCertificate(const toml::table& table) {
    CertificateConfig cert;
    for (auto&& [key, node] : table) {
      const std::string name(key.str());
      const std::string what = "[[tls.certificates]] " + name;
      if (name == "cert_file") {
        REFUGE_ASSIGN_OR_RETURN(cert.cert_file, String(node, what));
      } else if (name == "key_file") {
        REFUGE_ASSIGN_OR_RETURN(cert.key_file, String(node, what));
      } else {
        return UnknownKey(key, "[[tls.certificates]]");
      }
    }
    if (cert.cert_file.empty() || cert.key_file.empty()) {
      return Error(table.source(), "[[tls.certificates]] needs both cert_file and key_file");
    }
    config_.certificates.push_back(std::move(cert));
    return Status::Ok();
  }

  Status ParseRedirect(const toml::table& table) {
    for (auto&& [key, node] : table) {
      const std::string name(key.str());
      const std::string what = "[redirect] " + name;
      if (name == "listen") {
        REFUGE_ASSIGN_OR_RETURN(config_.redirect_listen, StringList(node, what));
      } else if (name == "acme_webroot") {
        REFUGE_ASSIGN_OR_RETURN(config_.acme_webroot, String(node, what));
      } else if (name == "https_port") {
        REFUGE_ASSIGN_OR_RETURN(config_.https_port, SmallInteger(node, what));
      } else {
        return UnknownKey(key, "[redirect]");
      }
    }
    return Status::Ok();
  }

  Status ParseMirror(const toml::table& table) {
    for (auto&& [key, node] : table) {
      const std::string name(key.str());
      const std::string what = "[mirror] " + name;
      if (name == "public_urls") {
        REFUGE_ASSIGN_OR_RETURN(config_.public_urls, StringList(node, what));
      } else if (name == "refresh_interval_seconds") {
        REFUGE_ASSIGN_OR_RETURN(config_.refresh_interval_seconds, Integer(node, what));
      } else if (name == "parallel_fetches") {
        REFUGE_ASSIGN_OR_RETURN(config_.parallel_fetches, SmallInteger(node, what));
      } else if (name == "bandwidth_limit") {
        REFUGE_ASSIGN_OR_RETURN(config_.bandwidth_limit, Size(node, what));
      } else if (name == "socks5_proxy") {
        REFUGE_ASSIGN_OR_RETURN(config_.socks5_proxy, String(node, what));
      } else if (name == "origin_fanout") {
        REFUGE_ASSIGN_OR_RETURN(config_.origin_fanout, SmallInteger(node, what));
      } else if (name == "origin_fanout_delay_ms") {
        REFUGE_ASSIGN_OR_RETURN(config_.origin_fanout_delay_ms, Integer(node, what));
      } else {
        return UnknownKey(key, "[mirror]");
      }
    }
    return Status::Ok();
  }

  Result<bool> Boolean(const toml::node& node, const std::string& what) const {
    const toml::value<bool>* v = node.as_boolean();
    if (v == nullptr) return WrongType(node, what, "a boolean");
    return v->get();
  }

  Status ParseShield(const toml::table& table) {
    shield::ShieldConfig& c = config_.shield;
    // Integer keys and their fields, to keep the table below short.
    const std::pair<const char*, int*> ints[] = {
        {"max_connections", &c.max_connections},
        {"max_connections_per_address", &c.max_connections_per_address},
        {"max_connections_per_prefix", &c.max_connections_per_prefix},
        {"rate_per_address", &c.rate_per_address},
        {"burst_per_address", &c.burst_per_address},
        {"rate_per_prefix", &c.rate_per_prefix},
        {"burst_per_prefix", &c.burst_per_prefix},
        {"peer_rate", &c.peer_rate},
        {"peer_burst", &c.peer_burst},
        {"ban_after", &c.ban_after},
        {"attack_requests_per_second", &c.attack_requests_per_second},
        {"attack_refused_per_second", &c.attack_refused_per_second},
        {"attack_connections_percent", &c.attack_connections_percent},
        {"pow_min_bits", &c.pow_min_bits},
        {"pow_max_bits", &c.pow_max_bits},
        {"nojs_per_minute", &c.nojs_per_minute},
    };
    const std::pair<const char*, int64_t*> longs[] = {
        {"min_keepalive_timeout_ms", &c.min_keepalive_timeout_ms},
        {"min_request_head_timeout_ms", &c.min_request_head_timeout_ms},
        {"send_timeout_ms", &c.send_timeout_ms},
        {"table_capacity", &c.table_capacity},
        {"ban_seconds", &c.ban_seconds},
        {"attack_cooldown_seconds", &c.attack_cooldown_seconds},
        {"clearance_seconds", &c.clearance_seconds},
        {"nojs_delay_seconds", &c.nojs_delay_seconds},
    };
    const std::pair<const char*, uint64_t*> sizes[] = {
        {"min_body_rate", &c.min_body_rate},
        {"min_send_rate", &c.min_send_rate},
    };
    for (auto&& [key, node] : table) {
      const std::string name(key.str());
      const std::string what = "[shield] " + name;
      bool done = false;
      for (const auto& [k, field] : ints) {
        if (name == k) {
          REFUGE_ASSIGN_OR_RETURN(*field, SmallInteger(node, what));
          done = true;
        }
      }
      for (const auto& [k, field] : longs) {
        if (name == k) {
          REFUGE_ASSIGN_OR_RETURN(*field, Integer(node, what));
          done = true;
        }
      }
      for (const auto& [k, field] : sizes) {
        if (name == k) {
          REFUGE_ASSIGN_OR_RETURN(*field, Size(node, what));
          done = true;
        }
      }
      if (done) continue;
      if (name == "enabled") {
        REFUGE_ASSIGN_OR_RETURN(c.enabled, Boolean(node, what));
      } else if (name == "dry_run") {
        REFUGE_ASSIGN_OR_RETURN(c.dry_run, Boolean(node, what));
      } else if (name == "under_attack") {
        REFUGE_ASSIGN_OR_RETURN(std::string mode, String(node, what));
        if (!shield::ParseAttackMode(mode, &c.attack_mode)) {
          return Error(node.source(), what + ": expected \"off\", \"on\" or \"auto\", not \"" + mode + "\"");
        }
      } else if (name == "secret") {
        REFUGE_ASSIGN_OR_RETURN(c.secret_hex, String(node, what));
      } else if (name == "exempt") {
        REFUGE_ASSIGN_OR_RETURN(c.exempt, StringList(node, what));
      } else {
        return UnknownKey(key, "[shield]");
      }
    }
    return Status::Ok();
  }

  Status ParseAdmin(const toml::table& table) {
    for (auto&& [key, node] : table) {
      const std::string name(key.str());
      if (name == "listen") {
        REFUGE_ASSIGN_OR_RETURN(config_.admin_listen, String(node, "[admin] listen"));
      } else {
        return UnknownKey(key, "[admin]");
      }
    }
    return Status::Ok();
  }

  std::string origin_;
  ServeConfig config_;
};

// ---------------------------------------------------------------------------------------------
// Validation helpers.

Status CheckRange(const std::string& what, int64_t value, int64_t min, int64_t max) {
  if (value >= min && value <= max) return Status::Ok();
  return InvalidArgument(what + " = " + std::to_string(value) + ": must be between " +
                         std::to_string(min) + " and " + std::to_string(max));
}

Status CheckSizeRange(const std::string& what, uint64_t value, uint64_t min, uint64_t max) {
  if (value >= min && value <= max) return Status::Ok();
  return InvalidArgument(what + " = " + std::to_string(value) + ": must be between " +
                         std::to_string(min) + " and " + std::to_string(max));
}

Status CheckDurationMs(const std::string& what, int64_t value) {
  return CheckRange(what, value, kMinDurationMs, kMaxDurationMs);
}

// A Host header value as the server compares it: lowercase letters, digits, '-' and '.', in
// non-empty labels, without a port or a trailing dot.
Status CheckHostName(const std::string& host) {
  const std::string what = "[hosts] \"" + host + "\"";
  if (host.empty() || host.size() > kMaxHostNameBytes) {
    return InvalidArgument(what + ": a host name has 1 to " + std::to_string(kMaxHostNameBytes) +
                           " characters");
  }
  size_t label = 0;
  for (char ch : host) {
    if (ch == '.') {
      if (label == 0) return InvalidArgument(what + ": empty label");
      label = 0;
      continue;
    }
    if (ch == ':') return InvalidArgument(what + ": host names are written without a port");
    if (ch >= 'A' && ch <= 'Z') return InvalidArgument(what + ": host names must be lowercase");
    const bool allowed = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
    if (!allowed) {
      return InvalidArgument(what + ": only letters, digits, '-' and '.' are allowed");
    }
    if (++label > kMaxHostLabelBytes) {
      return InvalidArgument(what + ": a label is longer than " +
                             std::to_string(kMaxHostLabelBytes) + " characters");
    }
  }
  if (label == 0) return InvalidArgument(what + ": empty label (no trailing dot)");
  return Status::Ok();
}

// A file name: not too long, and no NUL byte (TOML strings may hold "\u0000", which would
// silently cut the name short in every system call).
Status CheckPath(const std::string& what, const std::string& path) {
  if (path.find('\0') != std::string::npos) {
    return InvalidArgument(what + ": a file name cannot contain a NUL character");
  }
  if (path.size() > kMaxPathBytes) {
    return InvalidArgument(what + ": longer than " + std::to_string(kMaxPathBytes) + " bytes");
  }
  return Status::Ok();
}

// Parses every address of one listener list, and refuses an address already used by another
// listener (two sockets cannot bind it; port 0 is always distinct).
Status CheckListenList(const std::string& what, const std::vector<std::string>& addresses,
                       std::set<std::pair<std::string, uint16_t>>& bound) {
  for (const std::string& text : addresses) {
    auto address = ParseListenAddress(text);
    if (!address.ok()) return address.status().Annotate(what);
    if (address->port == 0) continue;
    if (!bound.emplace(address->host, address->port).second) {
      return InvalidArgument(what + ": \"" + text + "\" is used by another listener");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<ListenAddress> ParseListenAddress(const std::string& text) {
  const std::string what = "listen address \"" + text + "\"";
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos) return InvalidArgument(what + ": missing ']'");
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':') {
      return InvalidArgument(what + ": missing :PORT after the address");
    }
    port = text.substr(close + 2);
    in6_addr v6{};
    if (::inet_pton(AF_INET6, host.c_str(), &v6) != 1) {
      return InvalidArgument(what + ": not a numeric IPv6 address");
    }
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos) return InvalidArgument(what + ": missing :PORT");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) {
      return InvalidArgument(what + ": write IPv6 addresses in brackets, as [::1]:8080");
    }
    in_addr v4{};
    if (::inet_pton(AF_INET, host.c_str(), &v4) != 1) {
      return InvalidArgument(what + ": not a numeric IPv4 address (host names are refused: "
                                    "say which address to bind)");
    }
  }
  // At most 5 digits, so the value cannot overflow before the range check.
  if (port.empty() || port.size() > 5) return InvalidArgument(what + ": bad port");
  uint32_t value = 0;
  for (char ch : port) {
    if (ch < '0' || ch > '9') return InvalidArgument(what + ": bad port");
    value = value * 10 + static_cast<uint32_t>(ch - '0');
  }
  if (value > 65535) return InvalidArgument(what + ": port is above 65535");
  ListenAddress address;
  address.host = std::move(host);
  address.port = static_cast<uint16_t>(value);
  return address;
}

Status ValidateServeConfig(const ServeConfig& c) {
  std::set<std::pair<std::string, uint16_t>> bound;
  REFUGE_RETURN_IF_ERROR(CheckListenList("[server] listen", c.listen, bound));
  REFUGE_RETURN_IF_ERROR(CheckListenList("[tls] listen", c.tls_listen, bound));
  REFUGE_RETURN_IF_ERROR(CheckListenList("[redirect] listen", c.redirect_listen, bound));
  if (!c.admin_listen.empty()) {
    REFUGE_RETURN_IF_ERROR(CheckListenList("[admin] listen", {c.admin_listen}, bound));
  }
  if (c.listen.empty() && c.tls_listen.empty()) {
    return InvalidArgument("nothing to serve: [server] listen and [tls] listen are both empty");
  }

  REFUGE_RETURN_IF_ERROR(CheckRange("[server] threads", c.threads, 0, kMaxThreads));
  REFUGE_RETURN_IF_ERROR(shield::ValidateShieldConfig(c.shield));
  if (c.public_urls.size() > 8) return InvalidArgument("[mirror] public_urls: at most 8 URLs");
  for (const std::string& url : c.public_urls) {
    auto normalized = NormalizeNodeUrl(url);
    if (!normalized.ok()) return normalized.status().Annotate("[mirror] public_urls");
  }
  REFUGE_RETURN_IF_ERROR(CheckRange("[mirror] refresh_interval_seconds", c.refresh_interval_seconds,
                                    int64_t{1}, int64_t{7 * 86'400}));
  REFUGE_RETURN_IF_ERROR(CheckRange("[mirror] parallel_fetches", c.parallel_fetches, 1, 64));
  REFUGE_RETURN_IF_ERROR(CheckRange("[mirror] origin_fanout", c.origin_fanout, 0, 256));
  REFUGE_RETURN_IF_ERROR(CheckDurationMs("[mirror] origin_fanout_delay_ms", c.origin_fanout_delay_ms));
  if (!c.socks5_proxy.empty()) {
    auto proxy = Socks5ProxyUrl(c.socks5_proxy);
    if (!proxy.ok()) return proxy.status().Annotate("[mirror] socks5_proxy");
  }
  REFUGE_RETURN_IF_ERROR(CheckRange("[server] path_max_age_seconds", c.path_max_age_seconds, 0,
                                    kMaxPathMaxAgeSeconds));
  REFUGE_RETURN_IF_ERROR(CheckDurationMs("[server] reload_interval_ms", c.reload_interval_ms));
  REFUGE_RETURN_IF_ERROR(CheckDurationMs("[server] drain_timeout_ms", c.drain_timeout_ms));
  REFUGE_RETURN_IF_ERROR(
      CheckDurationMs("[server] keepalive_timeout_ms", c.keepalive_timeout_ms));
  REFUGE_RETURN_IF_ERROR(
      CheckDurationMs("[server] request_head_timeout_ms", c.request_head_timeout_ms));
  REFUGE_RETURN_IF_ERROR(CheckSizeRange("[server] max_request_head_bytes",
                                        c.max_request_head_bytes, kMinRequestHeadBytes,
                                        kMaxRequestHeadBytes));
  REFUGE_RETURN_IF_ERROR(CheckRange("[server] max_header_count", c.max_header_count,
                                    kMinHeaderCount, kMaxHeaderCount));
  REFUGE_RETURN_IF_ERROR(
      CheckSizeRange("[server] max_body_bytes", c.max_body_bytes, 0, kMaxBodyBytes));
  REFUGE_RETURN_IF_ERROR(CheckRange("[server] max_ranges", c.max_ranges, 0, kMaxRanges));
  REFUGE_RETURN_IF_ERROR(
      CheckSizeRange("[server] cache_bytes", c.cache_bytes, 0, kMaxCacheBytes));
  if (c.cache_max_object_bytes > c.cache_bytes) {
    return InvalidArgument("[server] cache_max_object_bytes = " +
                           std::to_string(c.cache_max_object_bytes) +
                           ": larger than cache_bytes = " + std::to_string(c.cache_bytes));
  }
  REFUGE_RETURN_IF_ERROR(CheckPath("[server] home", c.home));
  REFUGE_RETURN_IF_ERROR(CheckPath("[server] access_log", c.access_log));
  if (!c.default_site.empty() && !IsSiteId(c.default_site)) {
    return InvalidArgument("[server] default_site \"" + c.default_site +
                           "\": not a site ID (52 lowercase base32 characters)");
  }

  for (const auto& [host, site] : c.hosts) {
    REFUGE_RETURN_IF_ERROR(CheckHostName(host));
    if (!IsSiteId(site)) {
      return InvalidArgument("[hosts] \"" + host + "\" = \"" + site +
                             "\": not a site ID (52 lowercase base32 characters)");
    }
  }

  if (!c.tls_listen.empty() && c.certificates.empty()) {
    return InvalidArgument("[tls] listen needs at least one [[tls.certificates]]");
  }
  for (const CertificateConfig& cert : c.certificates) {
    if (cert.cert_file.empty() || cert.key_file.empty()) {
      return InvalidArgument("[[tls.certificates]] needs both cert_file and key_file");
    }
    REFUGE_RETURN_IF_ERROR(CheckPath("[[tls.certificates]] cert_file", cert.cert_file));
    REFUGE_RETURN_IF_ERROR(CheckPath("[[tls.certificates]] key_file", cert.key_file));
  }
  if (!c.redirect_listen.empty() && c.tls_listen.empty()) {
    return InvalidArgument("[redirect] listen sends clients to HTTPS, but [tls] listen is empty");
  }
  REFUGE_RETURN_IF_ERROR(CheckRange("[redirect] https_port", c.https_port, 1, 65535));
  REFUGE_RETURN_IF_ERROR(CheckPath("[redirect] acme_webroot", c.acme_webroot));
  // The server runs with whatever working directory it was started in.
  if (!c.acme_webroot.empty() && c.acme_webroot.front() != '/') {
    return InvalidArgument("[redirect] acme_webroot \"" + c.acme_webroot +
                           "\": must be an absolute path");
  }
  return Status::Ok();
}

Result<ServeConfig> ParseServeConfig(const std::string& text, const std::string& origin) {
  return ConfigParser(origin).Parse(text);
}

Result<ServeConfig> LoadServeConfig(const std::string& path) {
  auto text = ReadFileBounded(path, kMaxConfigFileBytes);
  if (!text.ok()) return text.status().Annotate("config file");
  return ParseServeConfig(*text, path);
}

}  // namespace refuge::serve
