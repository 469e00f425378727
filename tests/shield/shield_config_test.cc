// ShieldConfig (shield/shield_config.h): the defaults validate, every range check refuses a
// value just outside it with a message naming the key, and the attack mode parses.
#include "shield/shield_config.h"

#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "shield/client_table.h"
#include "shield/clearance.h"
#include "shield/token_bucket.h"

namespace refuge::shield {
namespace {

struct BadValue {
  std::string key;
  std::function<void(ShieldConfig&)> set;
};

TEST(ShieldConfigTest, DefaultsValidate) {
  const Status s = ValidateShieldConfig(ShieldConfig{});
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(ShieldConfigTest, DefaultsAreInternallyConsistent) {
  const ShieldConfig c;
  EXPECT_LE(c.max_connections_per_address, c.max_connections_per_prefix);
  EXPECT_LE(c.max_connections_per_prefix, c.max_connections);
  EXPECT_LE(c.pow_min_bits, c.pow_max_bits);
  EXPECT_LE(c.pow_max_bits, kMaxPowBits);
  EXPECT_LE(c.rate_per_address, c.rate_per_prefix);
  EXPECT_TRUE(c.secret_hex.empty());
  EXPECT_EQ(c.attack_mode, AttackMode::kAuto);
  // The default table stays in the memory the documentation promises (64 bytes a client).
  EXPECT_LE(ClientTable::MemoryBytesFor(static_cast<size_t>(c.table_capacity)),
            static_cast<size_t>(c.table_capacity) * 64 + 64);
}

TEST(ShieldConfigTest, EachBoundIsRefusedWithItsKey) {
  const std::vector<BadValue> bad = {
      {"max_connections", [](ShieldConfig& c) { c.max_connections = 15; }},
      {"max_connections", [](ShieldConfig& c) { c.max_connections = 1'000'001; }},
      {"max_connections_per_address", [](ShieldConfig& c) { c.max_connections_per_address = 0; }},
      {"max_connections_per_address",
       [](ShieldConfig& c) { c.max_connections_per_address = c.max_connections + 1; }},
      {"max_connections_per_prefix",
       [](ShieldConfig& c) { c.max_connections_per_prefix = c.max_connections_per_address - 1; }},
      {"max_connections_per_prefix",
       [](ShieldConfig& c) { c.max_connections_per_prefix = c.max_connections + 1; }},
      {"min_keepalive_timeout_ms", [](ShieldConfig& c) { c.min_keepalive_timeout_ms = 0; }},
      {"min_keepalive_timeout_ms",
       [](ShieldConfig& c) { c.min_keepalive_timeout_ms = int64_t{24} * 3600 * 1000 + 1; }},
      {"min_request_head_timeout_ms", [](ShieldConfig& c) { c.min_request_head_timeout_ms = 0; }},
      {"min_request_head_timeout_ms",
       [](ShieldConfig& c) { c.min_request_head_timeout_ms = int64_t{24} * 3600 * 1000 + 1; }},
      {"min_body_rate", [](ShieldConfig& c) { c.min_body_rate = 0; }},
      {"min_body_rate", [](ShieldConfig& c) { c.min_body_rate = (uint64_t{1} << 40) + 1; }},
      {"send_timeout_ms", [](ShieldConfig& c) { c.send_timeout_ms = 99; }},
      {"send_timeout_ms", [](ShieldConfig& c) { c.send_timeout_ms = int64_t{24} * 3600 * 1000 + 1; }},
      {"min_send_rate", [](ShieldConfig& c) { c.min_send_rate = 0; }},
      {"rate_per_address", [](ShieldConfig& c) { c.rate_per_address = 0; }},
      {"rate_per_address", [](ShieldConfig& c) { c.rate_per_address = 1'000'001; }},
      {"burst_per_address", [](ShieldConfig& c) { c.burst_per_address = 0; }},
      {"burst_per_address",
       [](ShieldConfig& c) { c.burst_per_address = static_cast<int>(kMaxBurst) + 1; }},
      {"rate_per_prefix", [](ShieldConfig& c) { c.rate_per_prefix = 0; }},
      {"rate_per_prefix", [](ShieldConfig& c) { c.rate_per_prefix = 1'000'001; }},
      {"burst_per_prefix", [](ShieldConfig& c) { c.burst_per_prefix = 0; }},
      {"burst_per_prefix", [](ShieldConfig& c) { c.burst_per_prefix = static_cast<int>(kMaxBurst) + 1; }},
      {"peer_rate", [](ShieldConfig& c) { c.peer_rate = 0; }},
      {"peer_rate", [](ShieldConfig& c) { c.peer_rate = 1'000'001; }},
      {"peer_burst", [](ShieldConfig& c) { c.peer_burst = 0; }},
      {"peer_burst", [](ShieldConfig& c) { c.peer_burst = static_cast<int>(kMaxBurst) + 1; }},
      {"table_capacity", [](ShieldConfig& c) { c.table_capacity = 1023; }},
      {"table_capacity",
       [](ShieldConfig& c) { c.table_capacity = static_cast<int64_t>(ClientTable::kMaxCapacity) + 1; }},
      {"ban_after", [](ShieldConfig& c) { c.ban_after = 0; }},
      {"ban_after", [](ShieldConfig& c) { c.ban_after = 65'536; }},
      {"ban_seconds", [](ShieldConfig& c) { c.ban_seconds = 0; }},
      {"ban_seconds", [](ShieldConfig& c) { c.ban_seconds = 7 * 24 * 3600 + 1; }},
      {"attack_requests_per_second", [](ShieldConfig& c) { c.attack_requests_per_second = 0; }},
      {"attack_requests_per_second",
       [](ShieldConfig& c) { c.attack_requests_per_second = 1'000'001; }},
      {"attack_refused_per_second", [](ShieldConfig& c) { c.attack_refused_per_second = 0; }},
      {"attack_refused_per_second", [](ShieldConfig& c) { c.attack_refused_per_second = 1'000'001; }},
      {"attack_connections_percent", [](ShieldConfig& c) { c.attack_connections_percent = 0; }},
      {"attack_connections_percent", [](ShieldConfig& c) { c.attack_connections_percent = 101; }},
      {"attack_cooldown_seconds", [](ShieldConfig& c) { c.attack_cooldown_seconds = 0; }},
      {"attack_cooldown_seconds", [](ShieldConfig& c) { c.attack_cooldown_seconds = 24 * 3600 + 1; }},
      {"pow_min_bits", [](ShieldConfig& c) { c.pow_min_bits = 7; }},
      {"pow_min_bits", [](ShieldConfig& c) { c.pow_min_bits = kMaxPowBits + 1; }},
      {"pow_max_bits", [](ShieldConfig& c) { c.pow_max_bits = c.pow_min_bits - 1; }},
      {"pow_max_bits", [](ShieldConfig& c) { c.pow_max_bits = kMaxPowBits + 1; }},
      {"clearance_seconds", [](ShieldConfig& c) { c.clearance_seconds = 59; }},
      {"clearance_seconds", [](ShieldConfig& c) { c.clearance_seconds = 30 * 24 * 3600 + 1; }},
      {"nojs_delay_seconds", [](ShieldConfig& c) { c.nojs_delay_seconds = 0; }},
      {"nojs_delay_seconds", [](ShieldConfig& c) { c.nojs_delay_seconds = 61; }},
      {"nojs_per_minute", [](ShieldConfig& c) { c.nojs_per_minute = 0; }},
      {"nojs_per_minute", [](ShieldConfig& c) { c.nojs_per_minute = 6'001; }},
      {"secret", [](ShieldConfig& c) { c.secret_hex = "abc"; }},
      {"secret", [](ShieldConfig& c) { c.secret_hex = std::string(64, 'x'); }},
  };
  for (const BadValue& b : bad) {
    ShieldConfig c;
    b.set(c);
    const Status s = ValidateShieldConfig(c);
    ASSERT_FALSE(s.ok()) << b.key;
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << b.key;
    EXPECT_EQ(s.message().rfind("[shield] " + b.key + ":", 0), 0u) << s.message();
  }
}

TEST(ShieldConfigTest, BoundsThemselvesAreAccepted) {
  const std::vector<std::function<void(ShieldConfig&)>> edges = {
      [](ShieldConfig& c) { c.max_connections = 1'000'000; },
      [](ShieldConfig& c) {
        c.max_connections = 16;
        c.max_connections_per_address = 16;
        c.max_connections_per_prefix = 16;
      },
      [](ShieldConfig& c) { c.max_connections_per_prefix = c.max_connections_per_address; },
      [](ShieldConfig& c) { c.rate_per_address = 1; },
      [](ShieldConfig& c) { c.burst_per_address = static_cast<int>(kMaxBurst); },
      [](ShieldConfig& c) { c.table_capacity = 1024; },
      [](ShieldConfig& c) { c.ban_after = 65'535; },
      [](ShieldConfig& c) { c.pow_min_bits = 8; },
      [](ShieldConfig& c) {
        c.pow_min_bits = kMaxPowBits;
        c.pow_max_bits = kMaxPowBits;
      },
      [](ShieldConfig& c) { c.clearance_seconds = 60; },
      [](ShieldConfig& c) { c.nojs_delay_seconds = 60; },
      [](ShieldConfig& c) { c.secret_hex = std::string(64, 'A'); },
  };
  for (size_t i = 0; i < edges.size(); ++i) {
    ShieldConfig c;
    edges[i](c);
    const Status s = ValidateShieldConfig(c);
    EXPECT_TRUE(s.ok()) << "edge " << i << ": " << s.ToString();
  }
}

TEST(ShieldConfigTest, RangeMessageShowsTheValueAndTheRange) {
  ShieldConfig c;
  c.ban_after = 0;
  EXPECT_EQ(ValidateShieldConfig(c).message(), "[shield] ban_after: 0 is out of range (1 to 65535)");
}

TEST(ShieldConfigTest, ParseAttackModeAcceptsTheThreeNames) {
  AttackMode mode = AttackMode::kOff;
  EXPECT_TRUE(ParseAttackMode("on", &mode));
  EXPECT_EQ(mode, AttackMode::kOn);
  EXPECT_TRUE(ParseAttackMode("auto", &mode));
  EXPECT_EQ(mode, AttackMode::kAuto);
  EXPECT_TRUE(ParseAttackMode("off", &mode));
  EXPECT_EQ(mode, AttackMode::kOff);
}

TEST(ShieldConfigTest, ParseAttackModeRefusesAnythingElseAndLeavesTheMode) {
  for (const char* text : {"", "ON", "Auto", " on", "on ", "yes", "true", "1", "of"}) {
    AttackMode mode = AttackMode::kAuto;
    EXPECT_FALSE(ParseAttackMode(text, &mode)) << text;
    EXPECT_EQ(mode, AttackMode::kAuto) << text;
  }
}

TEST(ShieldConfigTest, AttackModeNamesRoundTrip) {
  for (AttackMode m : {AttackMode::kOff, AttackMode::kOn, AttackMode::kAuto}) {
    AttackMode parsed = AttackMode::kOff;
    ASSERT_TRUE(ParseAttackMode(AttackModeName(m), &parsed)) << AttackModeName(m);
    EXPECT_EQ(parsed, m);
  }
}

}  // namespace
}  // namespace refuge::shield
