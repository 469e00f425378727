#include "shield/shield_config.h"

#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <cstring>

#include "shield/client_table.h"
#include "shield/clearance.h"
#include "shield/token_bucket.h"

namespace refuge::shield {

namespace {

// Sanity bounds, not tuning knobs: outside them a value is a mistake (a unit confusion).
// The process holds at most 20,000 descriptors on the project's machines, far more on a big
// server; a million connections is beyond any one node.
constexpr int64_t kMaxConnections = 1'000'000;
// Rates: a million requests per second is more than one node answers.
constexpr int64_t kMaxRate = 1'000'000;
// A ban of a week at most; longer is forever in practice, which is the operator's firewall's
// job, not the shield's.
constexpr int64_t kMaxBanSeconds = 7 * 24 * 3600;
// Clearances last at most 30 days.
constexpr int64_t kMaxClearanceSeconds = 30 * 24 * 3600;
constexpr int64_t kMaxTimeoutMs = 24 * 3600 * 1000;
// At least 8 bits (256 hashes) or the challenge is no work at all.
constexpr int kMinPowBits = 8;

Status Range(const char* key, int64_t value, int64_t low, int64_t high) {
  if (value < low || value > high) {
    return InvalidArgument(std::string("[shield] ") + key + ": " + std::to_string(value) +
                           " is out of range (" + std::to_string(low) + " to " +
                           std::to_string(high) + ")");
  }
  return Status::Ok();
}

}  // namespace

const char* AttackModeName(AttackMode mode) {
  switch (mode) {
    case AttackMode::kOff: return "off";
    case AttackMode::kOn: return "on";
    case AttackMode::kAuto: return "auto";
  }
  return "?";
}

bool ParseAttackMode(std::string_view text, AttackMode* mode) {
  if (text == "off") {
    *mode = AttackMode::kOff;
  } else if (text == "on") {
    *mode = AttackMode::kOn;
  } else if (text == "auto") {
    *mode = AttackMode::kAuto;
  } else {
    return false;
  }
  return true;
}

Result<ExemptNetwork> ParseExemptNetwork(std::string_view text) {
  namespace ip = boost::asio::ip;
  std::string s(text);
  const bool v6 = s.find(':') != std::string::npos;
  if (s.find('/') == std::string::npos) s += v6 ? "/128" : "/32";
  boost::system::error_code ec;
  ExemptNetwork n;
  if (v6) {
    ip::network_v6 net = ip::make_network_v6(s, ec);
    if (ec) return InvalidArgument("[shield] exempt: '" + std::string(text) + "' is not an address or network");
    n.bytes = net.canonical().address().to_bytes();
    n.prefix_bits = net.prefix_length();
  } else {
    ip::network_v4 net = ip::make_network_v4(s, ec);
    if (ec) return InvalidArgument("[shield] exempt: '" + std::string(text) + "' is not an address or network");
    n.bytes = ip::make_address_v6(ip::v4_mapped, net.canonical().address()).to_bytes();
    n.prefix_bits = 96 + net.prefix_length();
  }
  return n;
}

bool InNetwork(const ExemptNetwork& network, const std::array<uint8_t, 16>& address) {
  const int whole = network.prefix_bits / 8;
  if (std::memcmp(network.bytes.data(), address.data(), static_cast<size_t>(whole)) != 0) return false;
  const int rest = network.prefix_bits % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (network.bytes[whole] & mask) == (address[whole] & mask);
}

Status ValidateShieldConfig(const ShieldConfig& c) {
  if (c.exempt.size() > 64) return InvalidArgument("[shield] exempt: at most 64 networks");
  for (const std::string& e : c.exempt) REFUGE_RETURN_IF_ERROR(ParseExemptNetwork(e).status());
  REFUGE_RETURN_IF_ERROR(Range("max_connections", c.max_connections, 16, kMaxConnections));
  REFUGE_RETURN_IF_ERROR(Range("max_connections_per_address", c.max_connections_per_address, 1,
                               c.max_connections));
  REFUGE_RETURN_IF_ERROR(Range("max_connections_per_prefix", c.max_connections_per_prefix,
                               c.max_connections_per_address, c.max_connections));
  REFUGE_RETURN_IF_ERROR(Range("min_keepalive_timeout_ms", c.min_keepalive_timeout_ms, 1, kMaxTimeoutMs));
  REFUGE_RETURN_IF_ERROR(Range("min_request_head_timeout_ms", c.min_request_head_timeout_ms, 1, kMaxTimeoutMs));
  REFUGE_RETURN_IF_ERROR(Range("min_body_rate", static_cast<int64_t>(c.min_body_rate), 1, int64_t{1} << 40));
  REFUGE_RETURN_IF_ERROR(Range("send_timeout_ms", c.send_timeout_ms, 100, kMaxTimeoutMs));
  REFUGE_RETURN_IF_ERROR(Range("min_send_rate", static_cast<int64_t>(c.min_send_rate), 1, int64_t{1} << 40));
  REFUGE_RETURN_IF_ERROR(Range("rate_per_address", c.rate_per_address, 1, kMaxRate));
  REFUGE_RETURN_IF_ERROR(Range("burst_per_address", c.burst_per_address, 1, kMaxBurst));
  REFUGE_RETURN_IF_ERROR(Range("rate_per_prefix", c.rate_per_prefix, 1, kMaxRate));
  REFUGE_RETURN_IF_ERROR(Range("burst_per_prefix", c.burst_per_prefix, 1, kMaxBurst));
  REFUGE_RETURN_IF_ERROR(Range("peer_rate", c.peer_rate, 1, kMaxRate));
  REFUGE_RETURN_IF_ERROR(Range("peer_burst", c.peer_burst, 1, kMaxBurst));
  REFUGE_RETURN_IF_ERROR(Range("table_capacity", c.table_capacity, 1024,
                               static_cast<int64_t>(ClientTable::kMaxCapacity)));
  REFUGE_RETURN_IF_ERROR(Range("ban_after", c.ban_after, 1, 65'535));
  REFUGE_RETURN_IF_ERROR(Range("ban_seconds", c.ban_seconds, 1, kMaxBanSeconds));
  REFUGE_RETURN_IF_ERROR(Range("attack_requests_per_second", c.attack_requests_per_second, 1, kMaxRate));
  REFUGE_RETURN_IF_ERROR(Range("attack_refused_per_second", c.attack_refused_per_second, 1, kMaxRate));
  REFUGE_RETURN_IF_ERROR(Range("attack_connections_percent", c.attack_connections_percent, 1, 100));
  REFUGE_RETURN_IF_ERROR(Range("attack_cooldown_seconds", c.attack_cooldown_seconds, 1, 24 * 3600));
  REFUGE_RETURN_IF_ERROR(Range("pow_min_bits", c.pow_min_bits, kMinPowBits, kMaxPowBits));
  REFUGE_RETURN_IF_ERROR(Range("pow_max_bits", c.pow_max_bits, c.pow_min_bits, kMaxPowBits));
  REFUGE_RETURN_IF_ERROR(Range("clearance_seconds", c.clearance_seconds, 60, kMaxClearanceSeconds));
  REFUGE_RETURN_IF_ERROR(Range("nojs_delay_seconds", c.nojs_delay_seconds, 1, 60));
  REFUGE_RETURN_IF_ERROR(Range("nojs_per_minute", c.nojs_per_minute, 1, 6'000));
  if (!c.secret_hex.empty()) {
    Result<Clearance> secret = Clearance::FromHex(c.secret_hex);
    if (!secret.ok()) return secret.status().Annotate("[shield] secret");
  }
  return Status::Ok();
}

}  // namespace refuge::shield
