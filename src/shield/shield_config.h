// ShieldConfig: the thresholds of the shield (the [shield] table of `refuge serve`'s config).
//
// The defaults are for a small node: one or two cores, a few GiB of memory, 20,000 file
// descriptors, readers who load a page and its few dozen assets. docs/CONFIG.md documents
// each value and why it is what it is; the defaults below are the single source of truth.
//
// Thread-safety: a plain value.
#ifndef REFUGE_SHIELD_SHIELD_CONFIG_H_
#define REFUGE_SHIELD_SHIELD_CONFIG_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace refuge::shield {

enum class AttackMode : uint8_t { kOff, kOn, kAuto };

struct ShieldConfig {
  // Everything below is skipped when false (the connection deadlines still apply).
  bool enabled = true;
  // Count what would have been limited, challenged or banned, and serve it anyway.
  bool dry_run = false;
  // Addresses and networks ("10.0.0.0/8", "2001:db8::/32", "::1") the shield lets through
  // untouched: by default the loopback addresses, where a local reverse proxy or a Tor onion
  // service hands every reader over (limiting them would limit all readers together).
  std::vector<std::string> exempt = {"127.0.0.1", "::1"};

  // --- connections -------------------------------------------------------------------------
  // Open connections, all clients together. At the cap a new connection takes the place of
  // the oldest one that has not sent a whole request yet (slowloris) or is idle, clients
  // without a clearance first; when there is none it is closed at accept.
  int max_connections = 16'384;
  // Concurrent connections from one address, and from one IPv4 /24 or IPv6 /64.
  int max_connections_per_address = 64;
  int max_connections_per_prefix = 512;
  // The idle keep-alive timeout (keepalive_timeout_ms of [server]) shrinks linearly from half
  // full to full, down to this.
  int64_t min_keepalive_timeout_ms = 1'000;
  // The request-head deadline (request_head_timeout_ms of [server]) shrinks the same way.
  int64_t min_request_head_timeout_ms = 2'000;
  // A request body must arrive at this rate at least (bytes per second, after the head
  // deadline's allowance); slower is a slow POST and is cut.
  uint64_t min_body_rate = 1'024;
  // A response must progress at least every send_timeout_ms, and reach the client at this
  // average rate (bytes per second, after the send timeout's allowance); slower is a slow
  // read and is cut.
  int64_t send_timeout_ms = 10'000;
  uint64_t min_send_rate = 1'024;

  // --- request rates (token buckets: rate per second, burst) -------------------------------
  int rate_per_address = 20;
  int burst_per_address = 100;
  int rate_per_prefix = 200;
  int burst_per_prefix = 800;
  // Node-to-node traffic (/.refuge/: TUF metadata, objects, hints), per address, instead of
  // the two above and of the challenge: mirrors keep syncing during an attack.
  // A mirror syncing a large site asks for thousands of objects in a burst.
  int peer_rate = 2'000;
  int peer_burst = 20'000;
  // Clients tracked at once (addresses and prefixes); the least recently seen is forgotten
  // first. 64 bytes per client at most (docs/SHIELD.md).
  int64_t table_capacity = 262'144;
  // A client refused this many requests in a row (without its bucket filling up again in
  // between) is banned for ban_seconds: its new connections are closed at accept, before a
  // byte is read.
  int ban_after = 50;
  int64_t ban_seconds = 600;

  // --- under-attack mode -------------------------------------------------------------------
  AttackMode attack_mode = AttackMode::kAuto;
  // kAuto enters the mode when, over one second, requests reach attack_requests_per_second,
  // or refused requests (limited, dropped, timed out) reach attack_refused_per_second, or
  // open connections reach attack_connections_percent of max_connections; it leaves after
  // attack_cooldown_seconds with every figure under half its threshold.
  int attack_requests_per_second = 5'000;
  int attack_refused_per_second = 500;
  int attack_connections_percent = 75;
  int64_t attack_cooldown_seconds = 60;
  // Proof of work: leading zero bits of SHA-256; min_bits at the threshold, one more bit
  // each time the load doubles, at most max_bits (16 bits: about 65,000 hashes, under a
  // second in a browser's script).
  int pow_min_bits = 14;
  int pow_max_bits = 20;
  // A solved challenge (or the no-script wait) clears the client's prefix for this long.
  int64_t clearance_seconds = 3'600;
  // Without script: a page that refreshes after nojs_delay_seconds, then clears the client;
  // at most nojs_per_minute such clearances per prefix.
  int64_t nojs_delay_seconds = 5;
  int nojs_per_minute = 6;
  // The node's secret for challenge seeds and clearance cookies (64 hex digits). Empty: a
  // random secret at start (clearances then end with the process).
  std::string secret_hex;

  bool operator==(const ShieldConfig&) const = default;
};

// Range checks; errors name the key ("[shield] ban_after: ...").
Status ValidateShieldConfig(const ShieldConfig& config);

// An exempt network: the address (IPv4 mapped into IPv6) and the prefix length over 128 bits.
struct ExemptNetwork {
  std::array<uint8_t, 16> bytes{};
  int prefix_bits = 128;
};
// Parses "192.0.2.0/24", "2001:db8::/32" or a bare address; errors name the text.
Result<ExemptNetwork> ParseExemptNetwork(std::string_view text);
bool InNetwork(const ExemptNetwork& network, const std::array<uint8_t, 16>& address);

const char* AttackModeName(AttackMode mode);  // "off", "on", "auto"
bool ParseAttackMode(std::string_view text, AttackMode* mode);

}  // namespace refuge::shield

#endif  // REFUGE_SHIELD_SHIELD_CONFIG_H_
