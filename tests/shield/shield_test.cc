// Shield (shield/shield.h): the decisions at accept and per request, with a fake clock
// (monotonic milliseconds and wall seconds passed in by hand) and a small config. Rate limits
// per address, per prefix and per peer; strikes, bans and their end; dry run; under-attack
// mode with challenges, solutions, cookies and the no-script wait; connection caps; timeout
// shrinking; Tick's hysteresis and difficulty; the status JSON; and the memory bound with a
// million addresses.
#include "shield/shield.h"

#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/sha256.h"

namespace refuge::shield {
namespace {

constexpr int64_t kT0 = 5'000'000;        // monotonic ms
constexpr int64_t kWall = 1'750'000'000;  // wall-clock s
const std::string kSecret(64, '5');

using Verdict = Shield::Verdict;
using Admission = Shield::Admission;

ClientAddress Client(const std::string& ip) {
  return ClientAddress::From(boost::asio::ip::make_address(ip));
}

// Client number i, each in its own /24 (i < 65,536).
ClientAddress Numbered(uint32_t i) {
  boost::asio::ip::address_v4::bytes_type b{10, static_cast<uint8_t>(i >> 8),
                                            static_cast<uint8_t>(i & 0xff), 1};
  return ClientAddress::From(boost::asio::ip::address_v4(b));
}

std::string CookieHeader(const std::string& value) {
  return "theme=dark; " + std::string(kCookieName) + "=" + value + "; lang=en";
}

// Small numbers so each behaviour shows in a few requests: one request a second per address
// (burst 5), two per prefix (burst 8), one per peer (burst 3), a ban at the third refusal.
ShieldConfig SmallConfig() {
  ShieldConfig c;
  c.max_connections = 16;
  c.max_connections_per_address = 2;
  c.max_connections_per_prefix = 4;
  c.rate_per_address = 1;
  c.burst_per_address = 5;
  c.rate_per_prefix = 2;
  c.burst_per_prefix = 8;
  c.peer_rate = 1;
  c.peer_burst = 3;
  c.table_capacity = 1024;
  c.ban_after = 3;
  c.ban_seconds = 60;
  c.attack_mode = AttackMode::kOff;
  c.attack_requests_per_second = 100;
  c.attack_refused_per_second = 1'000'000;
  c.attack_connections_percent = 100;
  c.attack_cooldown_seconds = 10;
  c.pow_min_bits = 8;
  c.pow_max_bits = 12;
  c.clearance_seconds = 3'600;
  c.nojs_delay_seconds = 5;
  c.nojs_per_minute = 2;
  c.secret_hex = kSecret;
  return c;
}

class ShieldTest : public ::testing::Test {
 protected:
  void Make(const ShieldConfig& config) {
    const Status s = ValidateShieldConfig(config);
    ASSERT_TRUE(s.ok()) << s.ToString();
    Result<Clearance> clearance = Clearance::FromHex(config.secret_hex);
    ASSERT_TRUE(clearance.ok());
    shield_ = std::make_unique<Shield>(config, *clearance);
  }
  void SetUp() override { Make(SmallConfig()); }

  Verdict Get(const ClientAddress& c, int64_t now_ms, std::string_view path = "/index.html",
              std::string_view cookie = "") {
    return shield_->Check(c, path, cookie, now_ms, kWall + (now_ms - kT0) / 1000);
  }
  // A request from each of n clients, each in its own /24, at `now_ms`.
  void Load(int n, int64_t now_ms) {
    for (int i = 0; i < n; ++i) Get(Numbered(static_cast<uint32_t>(i)), now_ms);
  }
  // Solves a fresh challenge for `c`; returns the cookie.
  std::string Clear(const ClientAddress& c, int64_t now_ms) {
    const int64_t wall = kWall + (now_ms - kT0) / 1000;
    const std::string seed = shield_->clearance().MakeSeed(c, 8, wall);
    const Shield::Clearing r = shield_->Solve(c, seed, SolveSeed(seed, 8), now_ms, wall);
    EXPECT_EQ(r.check, ClearanceCheck::kOk);
    return r.cookie;
  }

  std::unique_ptr<Shield> shield_;
  const ClientAddress client_ = Client("192.0.2.7");
  const ClientAddress neighbour_ = Client("192.0.2.8");
  const ClientAddress stranger_ = Client("198.51.100.7");
};

// --- request rates ---------------------------------------------------------------------------

TEST_F(ShieldTest, RequestsWithinTheBurstAreServedThenLimited) {
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Get(client_, kT0).kind, Verdict::kServe) << i;
  const Verdict v = Get(client_, kT0);
  EXPECT_EQ(v.kind, Verdict::kLimit);
  EXPECT_EQ(v.retry_after, 1u);
  EXPECT_EQ(shield_->count(Event::kServed), 5u);
  EXPECT_EQ(shield_->count(Event::kLimited), 1u);
}

TEST_F(ShieldTest, LimitedClientIsServedOnceItsTokenIsBack) {
  for (int i = 0; i < 5; ++i) Get(client_, kT0);
  EXPECT_EQ(Get(client_, kT0 + 999).kind, Verdict::kLimit);
  EXPECT_EQ(Get(client_, kT0 + 1000).kind, Verdict::kServe);
}

TEST_F(ShieldTest, OneClientsLimitDoesNotTouchAnother) {
  for (int i = 0; i < 6; ++i) Get(client_, kT0);
  EXPECT_EQ(Get(stranger_, kT0).kind, Verdict::kServe);
}

TEST_F(ShieldTest, PrefixLimitCatchesManyAddressesOfOneSlash24) {
  // Eight addresses, one request each (each far under its own limit), use the /24's burst.
  for (int i = 1; i <= 8; ++i) {
    EXPECT_EQ(Get(Client("203.0.113." + std::to_string(i)), kT0).kind, Verdict::kServe) << i;
  }
  const Verdict v = Get(Client("203.0.113.9"), kT0);
  EXPECT_EQ(v.kind, Verdict::kLimit);
  EXPECT_GE(v.retry_after, 1u);
  EXPECT_EQ(Get(Client("203.0.114.9"), kT0).kind, Verdict::kServe);  // the next /24
  EXPECT_EQ(Get(Client("203.0.113.10"), kT0 + 500).kind, Verdict::kServe);  // 2 per second
}

TEST_F(ShieldTest, Ipv6ClientsAreLimitedPerSlash64) {
  for (int i = 1; i <= 8; ++i) {
    EXPECT_EQ(Get(Client("2001:db8:1:1::" + std::to_string(i)), kT0).kind, Verdict::kServe);
  }
  EXPECT_EQ(Get(Client("2001:db8:1:1:ffff::1"), kT0).kind, Verdict::kLimit);
  EXPECT_EQ(Get(Client("2001:db8:1:2::1"), kT0).kind, Verdict::kServe);
}

// --- strikes and bans --------------------------------------------------------------------------

TEST_F(ShieldTest, ThirdRefusalInARowBans) {
  for (int i = 0; i < 5; ++i) Get(client_, kT0);
  EXPECT_EQ(Get(client_, kT0).kind, Verdict::kLimit);
  EXPECT_EQ(Get(client_, kT0).kind, Verdict::kLimit);
  const Verdict v = Get(client_, kT0);
  EXPECT_EQ(v.kind, Verdict::kBan);
  EXPECT_EQ(v.retry_after, 60u);
  EXPECT_EQ(shield_->count(Event::kBanned), 1u);
}

TEST_F(ShieldTest, BannedClientStaysBannedUntilTheBanEnds) {
  for (int i = 0; i < 8; ++i) Get(client_, kT0);
  ASSERT_EQ(shield_->count(Event::kBanned), 1u);
  // Its requests are refused, with the time left.
  const Verdict later = Get(client_, kT0 + 20'000);
  EXPECT_EQ(later.kind, Verdict::kBan);
  EXPECT_EQ(later.retry_after, 40u);
  // Its connections are dropped at accept, and counted.
  bool cleared = true;
  EXPECT_EQ(shield_->Admit(client_, kT0 + 30'000, &cleared), Admission::kBanned);
  EXPECT_FALSE(cleared);
  EXPECT_EQ(shield_->Admit(client_, kT0 + 59'999, &cleared), Admission::kBanned);
  EXPECT_EQ(shield_->count(Event::kDropped), 2u);
  EXPECT_EQ(shield_->open_connections(), 0);
  // The neighbour is not banned (only the address was).
  EXPECT_EQ(shield_->Admit(neighbour_, kT0 + 30'000, &cleared), Admission::kAccept);
  // After ban_seconds it is accepted and served again.
  EXPECT_EQ(shield_->Admit(client_, kT0 + 60'000, &cleared), Admission::kAccept);
  EXPECT_EQ(Get(client_, kT0 + 60'000).kind, Verdict::kServe);
  EXPECT_EQ(shield_->count(Event::kBanned), 1u);
}

TEST_F(ShieldTest, BanIsNotExtendedByRequestsDuringIt) {
  for (int i = 0; i < 8; ++i) Get(client_, kT0);
  for (int64_t t = kT0; t < kT0 + 60'000; t += 1'000) Get(client_, t);
  EXPECT_EQ(Get(client_, kT0 + 60'000).kind, Verdict::kServe);
  EXPECT_EQ(shield_->count(Event::kBanned), 1u);
}

TEST_F(ShieldTest, StrikesAreForgivenOnceTheBucketRefills) {
  for (int i = 0; i < 5; ++i) Get(client_, kT0);
  ASSERT_EQ(Get(client_, kT0).kind, Verdict::kLimit);
  ASSERT_EQ(Get(client_, kT0).kind, Verdict::kLimit);  // two strikes
  // Quiet for the whole burst (5 s at one a second): the bucket is full, the strikes go.
  const int64_t t = kT0 + 5'000;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Get(client_, t).kind, Verdict::kServe);
  EXPECT_EQ(Get(client_, t).kind, Verdict::kLimit);
  EXPECT_EQ(Get(client_, t).kind, Verdict::kLimit);
  EXPECT_EQ(Get(client_, t).kind, Verdict::kBan);
}

TEST_F(ShieldTest, StrikesStayWhenTheBucketRefillsOnlyPartly) {
  for (int i = 0; i < 5; ++i) Get(client_, kT0);
  ASSERT_EQ(Get(client_, kT0).kind, Verdict::kLimit);
  ASSERT_EQ(Get(client_, kT0).kind, Verdict::kLimit);
  EXPECT_EQ(Get(client_, kT0 + 1'000).kind, Verdict::kServe);  // one token back, not five
  EXPECT_EQ(Get(client_, kT0 + 1'000).kind, Verdict::kBan);
}

TEST_F(ShieldTest, FloodedPrefixIsBannedAtAccept) {
  // Twelve addresses of one /24: eight served, then three refusals of the prefix ban it.
  for (int i = 1; i <= 12; ++i) Get(Client("203.0.113." + std::to_string(i)), kT0);
  EXPECT_EQ(shield_->count(Event::kBanned), 1u);
  bool cleared = false;
  EXPECT_EQ(shield_->Admit(Client("203.0.113.200"), kT0 + 1'000, &cleared), Admission::kBanned);
  EXPECT_EQ(shield_->Admit(Client("203.0.114.200"), kT0 + 1'000, &cleared), Admission::kAccept);
}

// --- dry run -------------------------------------------------------------------------------------

TEST_F(ShieldTest, DryRunCountsButNeverRefusesOrBans) {
  ShieldConfig c = SmallConfig();
  c.dry_run = true;
  ASSERT_NO_FATAL_FAILURE(Make(c));
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Get(client_, kT0).kind, Verdict::kServe) << i;
  EXPECT_EQ(shield_->count(Event::kServed), 20u);
  EXPECT_EQ(shield_->count(Event::kWouldLimit), 15u);
  EXPECT_EQ(shield_->count(Event::kLimited), 0u);
  EXPECT_EQ(shield_->count(Event::kBanned), 0u);
  bool cleared = false;
  EXPECT_EQ(shield_->Admit(client_, kT0, &cleared), Admission::kAccept);
  EXPECT_EQ(shield_->count(Event::kDropped), 0u);
}

TEST_F(ShieldTest, DryRunDoesNotApplyConnectionCaps) {
  ShieldConfig c = SmallConfig();
  c.dry_run = true;
  ASSERT_NO_FATAL_FAILURE(Make(c));
  bool cleared = false;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(shield_->Admit(client_, kT0, &cleared), Admission::kAccept);
  EXPECT_EQ(shield_->count(Event::kRefused), 0u);
}

TEST_F(ShieldTest, DryRunUnderAttackCountsWouldChallenge) {
  ShieldConfig c = SmallConfig();
  c.dry_run = true;
  c.attack_mode = AttackMode::kOn;
  ASSERT_NO_FATAL_FAILURE(Make(c));
  const Verdict v = Get(client_, kT0);
  EXPECT_EQ(v.kind, Verdict::kServe);
  EXPECT_EQ(shield_->count(Event::kWouldChallenge), 1u);
  EXPECT_EQ(shield_->count(Event::kChallenged), 0u);
}

TEST_F(ShieldTest, DisabledShieldServesEverything) {
  ShieldConfig c = SmallConfig();
  c.enabled = false;
  c.attack_mode = AttackMode::kOn;
  ASSERT_NO_FATAL_FAILURE(Make(c));
  for (int i = 0; i < 50; ++i) EXPECT_EQ(Get(client_, kT0).kind, Verdict::kServe);
  bool cleared = false;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(shield_->Admit(client_, kT0, &cleared), Admission::kAccept);
}

// --- node-to-node traffic ------------------------------------------------------------------------

TEST_F(ShieldTest, RefugePathsUseThePeerBucket) {
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Get(client_, kT0, "/.refuge/tuf/timestamp.json").kind, Verdict::kServe);
  EXPECT_EQ(Get(client_, kT0, "/.refuge/objects/ab").kind, Verdict::kLimit);
  // The address's own bucket is untouched.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Get(client_, kT0, "/index.html").kind, Verdict::kServe);
  // And the other way round: a reader's exhausted bucket does not stop its peer traffic.
  EXPECT_EQ(Get(client_, kT0, "/index.html").kind, Verdict::kLimit);
  EXPECT_EQ(Get(client_, kT0 + 1'000, "/.refuge/tuf/timestamp.json").kind, Verdict::kServe);
}

TEST_F(ShieldTest, RefugePathsAreNotChallengedUnderAttack) {
  shield_->SetMode(AttackMode::kOn);
  const Verdict v = Get(client_, kT0, "/.refuge/tuf/snapshot.json");
  EXPECT_EQ(v.kind, Verdict::kServe);
  EXPECT_FALSE(v.cleared);
  EXPECT_EQ(shield_->count(Event::kChallenged), 0u);
}

TEST_F(ShieldTest, SolveAndWaitPathsAreHandedToTheCaller) {
  shield_->SetMode(AttackMode::kOn);
  EXPECT_EQ(Get(client_, kT0, kSolvePath).kind, Verdict::kSolve);
  EXPECT_EQ(Get(client_, kT0, kWaitPath).kind, Verdict::kWait);
  EXPECT_EQ(Get(client_, kT0, "/.refuge/shield/other").kind, Verdict::kServe);
}

TEST_F(ShieldTest, SolveAttemptsAreBoundByTheAddressRate) {
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Get(client_, kT0, kSolvePath).kind, Verdict::kSolve);
  EXPECT_EQ(Get(client_, kT0, kSolvePath).kind, Verdict::kLimit);
}

// --- under-attack mode -----------------------------------------------------------------------------

TEST_F(ShieldTest, UnderAttackARequestWithoutCookieIsChallenged) {
  shield_->SetMode(AttackMode::kOn);
  EXPECT_TRUE(shield_->under_attack());
  const Verdict v = Get(client_, kT0);
  EXPECT_EQ(v.kind, Verdict::kChallenge);
  EXPECT_EQ(v.bits, 8);
  EXPECT_FALSE(v.cleared);
  EXPECT_EQ(shield_->count(Event::kChallenged), 1u);
}

TEST_F(ShieldTest, ModeOnFromTheConfigIsUnderAttackAtOnce) {
  ShieldConfig c = SmallConfig();
  c.attack_mode = AttackMode::kOn;
  ASSERT_NO_FATAL_FAILURE(Make(c));
  EXPECT_TRUE(shield_->under_attack());
  EXPECT_EQ(Get(client_, kT0).kind, Verdict::kChallenge);
}

TEST_F(ShieldTest, ValidCookieFromSolveIsServedAndCleared) {
  shield_->SetMode(AttackMode::kOn);
  const std::string cookie = Clear(client_, kT0);
  ASSERT_FALSE(cookie.empty());
  EXPECT_EQ(shield_->count(Event::kSolved), 1u);
  const Verdict v = Get(client_, kT0 + 1'000, "/index.html", CookieHeader(cookie));
  EXPECT_EQ(v.kind, Verdict::kServe);
  EXPECT_TRUE(v.cleared);
  EXPECT_EQ(shield_->count(Event::kCleared), 1u);
  EXPECT_EQ(shield_->count(Event::kChallenged), 0u);
  // The cookie clears its /24: a neighbour behind the same NAT too.
  EXPECT_TRUE(Get(neighbour_, kT0 + 1'000, "/", CookieHeader(cookie)).cleared);
}

TEST_F(ShieldTest, CookieReplayedFromAnotherPrefixIsChallenged) {
  shield_->SetMode(AttackMode::kOn);
  const std::string cookie = Clear(client_, kT0);
  const Verdict v = Get(stranger_, kT0, "/", CookieHeader(cookie));
  EXPECT_EQ(v.kind, Verdict::kChallenge);
  EXPECT_FALSE(v.cleared);
}

TEST_F(ShieldTest, ExpiredCookieIsChallenged) {
  shield_->SetMode(AttackMode::kOn);
  const std::string cookie = Clear(client_, kT0);
  const int64_t expiry_ms = kT0 + 3'600'000;
  EXPECT_EQ(Get(client_, expiry_ms - 1'000, "/", CookieHeader(cookie)).kind, Verdict::kServe);
  const Verdict v = Get(client_, expiry_ms, "/", CookieHeader(cookie));
  EXPECT_EQ(v.kind, Verdict::kChallenge);
  EXPECT_FALSE(v.cleared);
}

TEST_F(ShieldTest, ForgedOrGarbageCookiesAreChallenged) {
  shield_->SetMode(AttackMode::kOn);
  std::string cookie = Clear(client_, kT0);
  cookie.back() = cookie.back() == '0' ? '1' : '0';
  EXPECT_EQ(Get(client_, kT0, "/", CookieHeader(cookie)).kind, Verdict::kChallenge);
  EXPECT_EQ(Get(client_, kT0, "/", CookieHeader("x")).kind, Verdict::kChallenge);
  EXPECT_EQ(Get(client_, kT0, "/", "other=1").kind, Verdict::kChallenge);
}

TEST_F(ShieldTest, ClearedClientIsNotLimitedByItsPrefixsFlood) {
  shield_->SetMode(AttackMode::kOn);
  const std::string cookie = Clear(client_, kT0);
  // Neighbours use the /24's whole burst.
  for (int i = 100; i < 108; ++i) Get(Client("192.0.2." + std::to_string(i)), kT0);
  EXPECT_EQ(Get(Client("192.0.2.200"), kT0).kind, Verdict::kLimit);
  const Verdict v = Get(client_, kT0, "/", CookieHeader(cookie));
  EXPECT_EQ(v.kind, Verdict::kServe);
  EXPECT_TRUE(v.cleared);
}

TEST_F(ShieldTest, ClearedClientIsStillBoundByItsAddressRate) {
  shield_->SetMode(AttackMode::kOn);
  const std::string cookie = Clear(client_, kT0);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Get(client_, kT0, "/", CookieHeader(cookie)).kind, Verdict::kServe);
  EXPECT_EQ(Get(client_, kT0, "/", CookieHeader(cookie)).kind, Verdict::kLimit);
}

TEST_F(ShieldTest, CookieIsIgnoredOutsideUnderAttackMode) {
  const std::string cookie = Clear(client_, kT0);
  const Verdict v = Get(client_, kT0, "/", CookieHeader(cookie));
  EXPECT_EQ(v.kind, Verdict::kServe);
  EXPECT_FALSE(v.cleared);
  EXPECT_EQ(shield_->count(Event::kCleared), 0u);
}

TEST_F(ShieldTest, SolveWithABadNonceCountsABadSolution) {
  const std::string seed = shield_->clearance().MakeSeed(client_, 12, kWall);
  std::string wrong;
  for (uint64_t n = 0; wrong.empty(); ++n) {
    const Sha256Digest d = Sha256Of(seed + ":" + std::to_string(n));
    if (!HasLeadingZeroBits(d.data(), d.size(), 12)) wrong = std::to_string(n);
  }
  const Shield::Clearing r = shield_->Solve(client_, seed, wrong, kT0, kWall);
  EXPECT_EQ(r.check, ClearanceCheck::kNotEnoughWork);
  EXPECT_TRUE(r.cookie.empty());
  EXPECT_EQ(shield_->count(Event::kBadSolution), 1u);
  EXPECT_EQ(shield_->count(Event::kSolved), 0u);
}

TEST_F(ShieldTest, SolveOfAnotherPrefixsSeedIsForged) {
  const std::string seed = shield_->clearance().MakeSeed(stranger_, 8, kWall);
  const Shield::Clearing r = shield_->Solve(client_, seed, SolveSeed(seed, 8), kT0, kWall);
  EXPECT_EQ(r.check, ClearanceCheck::kForged);
  EXPECT_TRUE(r.cookie.empty());
  EXPECT_EQ(shield_->count(Event::kBadSolution), 1u);
}

TEST_F(ShieldTest, SolvedCookieLastsClearanceSeconds) {
  const std::string seed = shield_->clearance().MakeSeed(client_, 8, kWall);
  const Shield::Clearing r = shield_->Solve(client_, seed, SolveSeed(seed, 8), kT0, kWall);
  ASSERT_EQ(r.check, ClearanceCheck::kOk);
  EXPECT_EQ(shield_->clearance().VerifyCookie(r.cookie, client_, kWall + 3'599), ClearanceCheck::kOk);
  EXPECT_EQ(shield_->clearance().VerifyCookie(r.cookie, client_, kWall + 3'600),
            ClearanceCheck::kExpired);
}

TEST_F(ShieldTest, SolvedAddressIsClearedAtAccept) {
  Clear(client_, kT0);
  bool cleared = false;
  EXPECT_EQ(shield_->Admit(client_, kT0 + 1'000, &cleared), Admission::kAccept);
  EXPECT_TRUE(cleared);
  EXPECT_EQ(shield_->Admit(neighbour_, kT0 + 1'000, &cleared), Admission::kAccept);
  EXPECT_FALSE(cleared);
}

TEST_F(ShieldTest, WaitBeforeTheDelayIsRefusedAndAfterIsCleared) {
  const std::string ticket = shield_->clearance().MakeTicket(client_, kWall);
  const Shield::Clearing early = shield_->Wait(client_, ticket, kT0 + 4'000, kWall + 4);
  EXPECT_EQ(early.check, ClearanceCheck::kTooEarly);
  EXPECT_TRUE(early.cookie.empty());
  EXPECT_EQ(shield_->count(Event::kBadSolution), 1u);
  const Shield::Clearing ok = shield_->Wait(client_, ticket, kT0 + 5'000, kWall + 5);
  EXPECT_EQ(ok.check, ClearanceCheck::kOk);
  EXPECT_EQ(shield_->clearance().VerifyCookie(ok.cookie, client_, kWall + 5), ClearanceCheck::kOk);
  EXPECT_EQ(shield_->count(Event::kWaited), 1u);
}

TEST_F(ShieldTest, WaitWithAForgedOrExpiredTicketIsRefused) {
  const std::string other = shield_->clearance().MakeTicket(stranger_, kWall);
  EXPECT_EQ(shield_->Wait(client_, other, kT0, kWall + 5).check, ClearanceCheck::kForged);
  const std::string ticket = shield_->clearance().MakeTicket(client_, kWall);
  EXPECT_EQ(shield_->Wait(client_, ticket, kT0, kWall + 5 + 301).check, ClearanceCheck::kExpired);
  EXPECT_EQ(shield_->count(Event::kBadSolution), 2u);
}

TEST_F(ShieldTest, MoreThanNojsPerMinuteWaitsPerPrefixAreRefused) {
  // Two waits a minute per /24, whichever address of it redeems them.
  const int64_t t = kT0 + 5'000;
  for (const ClientAddress& c : {client_, neighbour_}) {
    const std::string ticket = shield_->clearance().MakeTicket(c, kWall);
    EXPECT_EQ(shield_->Wait(c, ticket, t, kWall + 5).check, ClearanceCheck::kOk);
  }
  const ClientAddress third = Client("192.0.2.9");
  const std::string ticket = shield_->clearance().MakeTicket(third, kWall);
  const Shield::Clearing refused = shield_->Wait(third, ticket, t, kWall + 5);
  EXPECT_NE(refused.check, ClearanceCheck::kOk);
  EXPECT_GT(refused.retry_after, 0u);  // answered 429, not "too early"
  EXPECT_TRUE(refused.cookie.empty());
  // Another /24 is not affected.
  const std::string far = shield_->clearance().MakeTicket(stranger_, kWall);
  EXPECT_EQ(shield_->Wait(stranger_, far, t, kWall + 5).check, ClearanceCheck::kOk);
  // Half a minute later the /24 has one more.
  EXPECT_EQ(shield_->Wait(third, ticket, t + 30'000, kWall + 35).check, ClearanceCheck::kOk);
}

// --- connections -------------------------------------------------------------------------------------

TEST_F(ShieldTest, ConnectionsPerAddressAreCapped) {
  bool cleared = false;
  EXPECT_EQ(shield_->Admit(client_, kT0, &cleared), Admission::kAccept);
  EXPECT_EQ(shield_->Admit(client_, kT0, &cleared), Admission::kAccept);
  EXPECT_EQ(shield_->Admit(client_, kT0, &cleared), Admission::kOverCap);
  EXPECT_EQ(shield_->count(Event::kRefused), 1u);
  EXPECT_EQ(shield_->open_connections(), 2);
  shield_->Release(client_);
  EXPECT_EQ(shield_->open_connections(), 1);
  EXPECT_EQ(shield_->Admit(client_, kT0, &cleared), Admission::kAccept);
}

TEST_F(ShieldTest, ConnectionsPerPrefixAreCapped) {
  bool cleared = false;
  for (const char* ip : {"192.0.2.1", "192.0.2.1", "192.0.2.2", "192.0.2.2"}) {
    EXPECT_EQ(shield_->Admit(Client(ip), kT0, &cleared), Admission::kAccept) << ip;
  }
  EXPECT_EQ(shield_->Admit(Client("192.0.2.3"), kT0, &cleared), Admission::kOverCap);
  EXPECT_EQ(shield_->Admit(Client("192.0.3.3"), kT0, &cleared), Admission::kAccept);
  shield_->Release(Client("192.0.2.1"));
  EXPECT_EQ(shield_->Admit(Client("192.0.2.3"), kT0, &cleared), Admission::kAccept);
}

TEST_F(ShieldTest, GlobalCapAsksForAnEviction) {
  bool cleared = false;
  for (uint32_t i = 0; i < 8; ++i) {
    ASSERT_EQ(shield_->Admit(Numbered(i), kT0, &cleared), Admission::kAccept);
    ASSERT_EQ(shield_->Admit(Numbered(i), kT0, &cleared), Admission::kAccept);
  }
  EXPECT_EQ(shield_->open_connections(), 16);
  EXPECT_EQ(shield_->Admit(Numbered(100), kT0, &cleared), Admission::kFull);
  EXPECT_EQ(shield_->open_connections(), 16);  // not counted until admitted
  // The caller evicted one connection of client 0 and admits the newcomer in its place.
  shield_->Release(Numbered(0));
  shield_->AdmitAfterEviction(Numbered(100));
  EXPECT_EQ(shield_->open_connections(), 16);
  EXPECT_EQ(shield_->Admit(Numbered(100), kT0, &cleared), Admission::kFull);
  shield_->Release(Numbered(1));
  EXPECT_EQ(shield_->Admit(Numbered(100), kT0, &cleared), Admission::kAccept);
  // Client 100 now holds two: its per-address cap comes before the global one.
  shield_->Release(Numbered(2));
  EXPECT_EQ(shield_->Admit(Numbered(100), kT0, &cleared), Admission::kOverCap);
}

TEST_F(ShieldTest, ConcurrentAdmitsNeverExceedTheCaps) {
  // Event loops accept in parallel: the caps must hold exactly, not up to one per thread.
  constexpr int kThreads = 8;
  std::atomic<int> accepted_client{0};
  std::atomic<int> accepted_all{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      bool cleared = false;
      for (int i = 0; i < 2'000; ++i) {
        if (shield_->Admit(client_, kT0, &cleared) == Admission::kAccept) ++accepted_client;
        if (shield_->Admit(Numbered(static_cast<uint32_t>(t * 2'000 + i)), kT0, &cleared) ==
            Admission::kAccept) {
          ++accepted_all;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(accepted_client.load(), 2);
  EXPECT_EQ(accepted_client.load() + accepted_all.load(), 16);
  EXPECT_EQ(shield_->open_connections(), 16);
}

TEST_F(ShieldTest, ReleaseFreesEveryCount) {
  bool cleared = false;
  for (int round = 0; round < 10; ++round) {
    ASSERT_EQ(shield_->Admit(client_, kT0, &cleared), Admission::kAccept) << round;
    ASSERT_EQ(shield_->Admit(client_, kT0, &cleared), Admission::kAccept) << round;
    shield_->Release(client_);
    shield_->Release(client_);
  }
  EXPECT_EQ(shield_->open_connections(), 0);
  const nlohmann::json status = nlohmann::json::parse(shield_->StatusJson(kT0));
  EXPECT_TRUE(status["busiest_prefixes"].empty()) << status.dump();
}

TEST_F(ShieldTest, FillPermilleIsZeroUpToHalfThenLinear) {
  bool cleared = false;
  EXPECT_EQ(shield_->FillPermille(), 0);
  for (uint32_t i = 0; i < 4; ++i) {
    shield_->Admit(Numbered(i), kT0, &cleared);
    shield_->Admit(Numbered(i), kT0, &cleared);
  }
  EXPECT_EQ(shield_->open_connections(), 8);
  EXPECT_EQ(shield_->FillPermille(), 0);  // half full
  for (uint32_t i = 4; i < 6; ++i) {
    shield_->Admit(Numbered(i), kT0, &cleared);
    shield_->Admit(Numbered(i), kT0, &cleared);
  }
  EXPECT_EQ(shield_->FillPermille(), 500);  // three quarters
  for (uint32_t i = 6; i < 8; ++i) {
    shield_->Admit(Numbered(i), kT0, &cleared);
    shield_->Admit(Numbered(i), kT0, &cleared);
  }
  EXPECT_EQ(shield_->FillPermille(), 1000);  // full
}

TEST_F(ShieldTest, ShrinkTimeoutScalesDownToTheFloor) {
  bool cleared = false;
  EXPECT_EQ(shield_->ShrinkTimeout(10'000, 1'000), 10'000);
  for (uint32_t i = 0; i < 6; ++i) {
    shield_->Admit(Numbered(i), kT0, &cleared);
    shield_->Admit(Numbered(i), kT0, &cleared);
  }
  EXPECT_EQ(shield_->ShrinkTimeout(10'000, 1'000), 5'500);
  for (uint32_t i = 6; i < 8; ++i) {
    shield_->Admit(Numbered(i), kT0, &cleared);
    shield_->Admit(Numbered(i), kT0, &cleared);
  }
  EXPECT_EQ(shield_->ShrinkTimeout(10'000, 1'000), 1'000);
  // A base under the floor is left alone.
  EXPECT_EQ(shield_->ShrinkTimeout(500, 1'000), 500);
}

// --- Tick: kAuto's state and the difficulty ------------------------------------------------------------

class ShieldTickTest : public ShieldTest {
 protected:
  void SetUp() override {
    ShieldConfig c = SmallConfig();
    c.attack_mode = AttackMode::kAuto;
    ASSERT_NO_FATAL_FAILURE(Make(c));
    now_ = kT0;
    shield_->Tick(now_);  // the first tick only takes the baseline
  }
  // One second with `requests` requests, then the tick.
  void Second(int requests) {
    Load(requests, now_ + 500);
    now_ += 1'000;
    shield_->Tick(now_);
  }
  int64_t now_ = 0;
};

TEST_F(ShieldTickTest, EntersUnderAttackWhenRequestsCrossTheThreshold) {
  Second(99);
  EXPECT_FALSE(shield_->under_attack());
  Second(100);
  EXPECT_TRUE(shield_->under_attack());
  EXPECT_EQ(shield_->mode(), AttackMode::kAuto);
  EXPECT_EQ(Get(client_, now_).kind, Verdict::kChallenge);
}

TEST_F(ShieldTickTest, ActsAtMostOncePerSecond) {
  Load(150, now_ + 100);
  shield_->Tick(now_ + 500);  // too early: ignored
  EXPECT_FALSE(shield_->under_attack());
  now_ += 1'000;
  shield_->Tick(now_);
  EXPECT_TRUE(shield_->under_attack());
}

TEST_F(ShieldTickTest, StaysDuringTheCooldownThenLeaves) {
  Second(200);
  ASSERT_TRUE(shield_->under_attack());
  // Calm from here: the first calm second starts the cooldown (10 s).
  Second(0);
  const int64_t calm_since = now_;
  while (now_ < calm_since + 9'000) {
    Second(0);
    EXPECT_TRUE(shield_->under_attack()) << (now_ - calm_since) << " ms into the cooldown";
  }
  Second(0);
  EXPECT_FALSE(shield_->under_attack());
  EXPECT_EQ(Get(client_, now_).kind, Verdict::kServe);
}

TEST_F(ShieldTickTest, DoesNotFlapWhenLoadHoversBetweenHalfAndFullThreshold) {
  Second(150);
  ASSERT_TRUE(shield_->under_attack());
  for (int s = 0; s < 30; ++s) {
    Second(s % 2 == 0 ? 55 : 95);
    EXPECT_TRUE(shield_->under_attack()) << "second " << s;
  }
  // Calm for the cooldown: it leaves, and the same hovering does not bring it back.
  for (int s = 0; s <= 10; ++s) Second(10);
  ASSERT_FALSE(shield_->under_attack());
  for (int s = 0; s < 30; ++s) {
    Second(s % 2 == 0 ? 55 : 95);
    EXPECT_FALSE(shield_->under_attack()) << "second " << s;
  }
}

TEST_F(ShieldTickTest, LoadAboveHalfRestartsTheCooldown) {
  Second(150);
  for (int s = 0; s < 8; ++s) Second(10);  // 8 s of calm
  Second(60);                              // back above half
  for (int s = 0; s < 9; ++s) {
    Second(10);
    EXPECT_TRUE(shield_->under_attack()) << s;
  }
  Second(10);
  Second(10);
  EXPECT_FALSE(shield_->under_attack());
}

TEST_F(ShieldTickTest, PowBitsGrowOneBitPerDoublingOfLoad) {
  EXPECT_EQ(shield_->pow_bits(), 8);
  Second(100);
  EXPECT_EQ(shield_->pow_bits(), 8);
  Second(199);
  EXPECT_EQ(shield_->pow_bits(), 8);
  Second(200);
  EXPECT_EQ(shield_->pow_bits(), 9);
  Second(400);
  EXPECT_EQ(shield_->pow_bits(), 10);
  Second(800);
  EXPECT_EQ(shield_->pow_bits(), 11);
  Second(1'600);
  EXPECT_EQ(shield_->pow_bits(), 12);
  Second(3'200);
  EXPECT_EQ(shield_->pow_bits(), 12);  // pow_max_bits
  Second(150);
  EXPECT_EQ(shield_->pow_bits(), 8);
}

TEST_F(ShieldTickTest, ChallengeCarriesTheCurrentBits) {
  Second(400);
  ASSERT_TRUE(shield_->under_attack());
  const Verdict v = Get(client_, now_);
  EXPECT_EQ(v.kind, Verdict::kChallenge);
  EXPECT_EQ(v.bits, 10);
}

TEST_F(ShieldTickTest, ConnectionsAtTheThresholdEnterUnderAttack) {
  ShieldConfig c = SmallConfig();
  c.attack_mode = AttackMode::kAuto;
  c.attack_connections_percent = 50;
  ASSERT_NO_FATAL_FAILURE(Make(c));
  shield_->Tick(now_);
  bool cleared = false;
  for (uint32_t i = 0; i < 7; ++i) shield_->Admit(Numbered(i), now_, &cleared);
  now_ += 1'000;
  shield_->Tick(now_);
  EXPECT_FALSE(shield_->under_attack());
  shield_->Admit(Numbered(7), now_, &cleared);
  now_ += 1'000;
  shield_->Tick(now_);
  EXPECT_TRUE(shield_->under_attack());
}

TEST_F(ShieldTickTest, RefusalsAtTheThresholdEnterUnderAttack) {
  ShieldConfig c = SmallConfig();
  c.attack_mode = AttackMode::kAuto;
  c.attack_requests_per_second = 1'000'000;
  c.attack_refused_per_second = 10;
  ASSERT_NO_FATAL_FAILURE(Make(c));
  shield_->Tick(now_);
  bool cleared = false;
  for (int i = 0; i < 10; ++i) shield_->Admit(client_, now_ + 1, &cleared);  // 8 over the cap
  now_ += 1'000;
  shield_->Tick(now_);
  EXPECT_FALSE(shield_->under_attack());
  for (int i = 0; i < 10; ++i) shield_->Admit(client_, now_ + 1, &cleared);  // 10 more
  now_ += 1'000;
  shield_->Tick(now_);
  EXPECT_TRUE(shield_->under_attack());
}

TEST_F(ShieldTickTest, ResetsAtAcceptSwitchTheModeOnButDoNotRaiseTheDifficulty) {
  ShieldConfig c = SmallConfig();
  c.attack_mode = AttackMode::kAuto;
  c.attack_requests_per_second = 1'000'000;
  c.attack_refused_per_second = 10;
  ASSERT_NO_FATAL_FAILURE(Make(c));
  shield_->Tick(now_);
  bool cleared = false;
  // 400 connections over the per-address cap in one second: 40x the threshold.
  for (int i = 0; i < 402; ++i) shield_->Admit(client_, now_ + 1, &cleared);
  now_ += 1'000;
  shield_->Tick(now_);
  EXPECT_TRUE(shield_->under_attack());
  EXPECT_EQ(shield_->pow_bits(), c.pow_min_bits);  // readers do not pay for the resets
}

TEST_F(ShieldTickTest, ModeOnIsNotLeftByTick) {
  shield_->SetMode(AttackMode::kOn);
  for (int s = 0; s < 30; ++s) Second(0);
  EXPECT_TRUE(shield_->under_attack());
  shield_->SetMode(AttackMode::kOff);
  EXPECT_FALSE(shield_->under_attack());
  for (int s = 0; s < 3; ++s) Second(500);
  EXPECT_FALSE(shield_->under_attack());  // kOff: load does not switch it on
  EXPECT_EQ(Get(client_, now_).kind, Verdict::kServe);
}

TEST_F(ShieldTickTest, AutoAfterOnLeavesAfterTheCooldown) {
  shield_->SetMode(AttackMode::kOn);
  shield_->SetMode(AttackMode::kAuto);
  EXPECT_TRUE(shield_->under_attack());
  for (int s = 0; s <= 10; ++s) Second(0);
  EXPECT_FALSE(shield_->under_attack());
}

// --- figures -------------------------------------------------------------------------------------

TEST_F(ShieldTest, StatusJsonListsBansAndBusiestPrefixes) {
  for (int i = 0; i < 8; ++i) Get(client_, kT0);  // banned
  bool cleared = false;
  shield_->Admit(Client("203.0.113.1"), kT0, &cleared);
  shield_->Admit(Client("203.0.113.2"), kT0, &cleared);
  shield_->Admit(Client("203.0.113.2"), kT0, &cleared);
  shield_->Admit(Client("198.51.100.1"), kT0, &cleared);

  const std::string text = shield_->StatusJson(kT0 + 10'000);
  const nlohmann::json status = nlohmann::json::parse(text);
  EXPECT_EQ(status["mode"], "off");
  EXPECT_EQ(status["under_attack"], false);
  EXPECT_EQ(status["open_connections"], 4);
  EXPECT_EQ(status["bans_total"], 1);
  ASSERT_EQ(status["bans"].size(), 1u) << text;
  EXPECT_EQ(status["bans"][0]["client"], "192.0.2.7");
  EXPECT_EQ(status["bans"][0]["seconds_left"], 50);
  ASSERT_EQ(status["busiest_prefixes"].size(), 2u) << text;
  EXPECT_EQ(status["busiest_prefixes"][0]["prefix"], "203.0.113.0/24");
  EXPECT_EQ(status["busiest_prefixes"][0]["connections"], 3);
  EXPECT_EQ(status["busiest_prefixes"][1]["prefix"], "198.51.100.0/24");
  EXPECT_EQ(status["events"]["served"], 5);
  EXPECT_EQ(status["events"]["limited"], 3);  // two 429s and the ban's 429
  EXPECT_EQ(status["events"]["banned"], 1);
  EXPECT_EQ(status["tracked_clients"], 2);  // the address and its prefix
  EXPECT_EQ(status["table_capacity"], 1024);
}

TEST_F(ShieldTest, StatusJsonForgetsEndedBans) {
  for (int i = 0; i < 8; ++i) Get(client_, kT0);
  const nlohmann::json status = nlohmann::json::parse(shield_->StatusJson(kT0 + 60'000));
  EXPECT_EQ(status["bans_total"], 0);
  EXPECT_TRUE(status["bans"].empty());
}

TEST_F(ShieldTest, StatusJsonShowsUnderAttackMode) {
  shield_->SetMode(AttackMode::kOn);
  const nlohmann::json status = nlohmann::json::parse(shield_->StatusJson(kT0));
  EXPECT_EQ(status["mode"], "on");
  EXPECT_EQ(status["under_attack"], true);
  EXPECT_EQ(status["pow_bits"], 8);
  EXPECT_GE(status["under_attack_for_seconds"].get<int64_t>(), 0);
}

TEST_F(ShieldTest, EventNamesAreDistinct) {
  std::set<std::string> names;
  for (size_t i = 0; i < static_cast<size_t>(Event::kCount); ++i) {
    const std::string name = EventName(static_cast<Event>(i));
    EXPECT_NE(name, "?");
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(Event::kCount));
}

TEST_F(ShieldTest, TablesAreSplitOverTheShards) {
  EXPECT_EQ(shield_->tracked_clients(), 0u);
  Get(client_, kT0);
  EXPECT_EQ(shield_->tracked_clients(), 2u);
  EXPECT_EQ(shield_->table_memory_bytes(), Shield::kShards * ClientTable::MemoryBytesFor(1024 / Shield::kShards));
}

// A million distinct addresses (a large botnet) through a table of a million: the tables stay
// within their capacity and 64 MiB.
TEST_F(ShieldTest, AMillionAddressesStayWithinCapacityAndMemory) {
  ShieldConfig c;
  c.table_capacity = 1'000'000;
  c.attack_mode = AttackMode::kOff;
  c.secret_hex = kSecret;
  ASSERT_NO_FATAL_FAILURE(Make(c));
  constexpr uint32_t kAddresses = 1'000'000;
  for (uint32_t i = 0; i < kAddresses; ++i) {
    boost::asio::ip::address_v4::bytes_type b{static_cast<uint8_t>(1 + (i >> 24)),
                                              static_cast<uint8_t>(i >> 16),
                                              static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
    const ClientAddress client = ClientAddress::From(boost::asio::ip::address_v4(b));
    shield_->Check(client, "/", "", kT0 + i / 1000, kWall);
  }
  EXPECT_LE(shield_->tracked_clients(), 1'000'000u);
  EXPECT_GT(shield_->tracked_clients(), 900'000u);
  EXPECT_LE(shield_->table_memory_bytes(), size_t{64} << 20);
  // A million addresses and their 3,907 /24s do not fit: the oldest were forgotten.
  EXPECT_GE(shield_->table_evictions(), 3'907u);
  EXPECT_EQ(shield_->count(Event::kServed), kAddresses);
}

// --- field parsing ------------------------------------------------------------------------------

TEST(ShieldFieldTest, FindCookie) {
  EXPECT_EQ(FindCookie("refuge_clearance=abc", kCookieName), "abc");
  EXPECT_EQ(FindCookie("a=1; refuge_clearance=abc; b=2", kCookieName), "abc");
  EXPECT_EQ(FindCookie("a=1;refuge_clearance=abc", kCookieName), "abc");
  EXPECT_EQ(FindCookie("a=1;\trefuge_clearance=abc \t", kCookieName), "abc");
  EXPECT_EQ(FindCookie("refuge_clearance=\"abc\"", kCookieName), "abc");
  EXPECT_EQ(FindCookie("x_refuge_clearance=abc", kCookieName), "");
  EXPECT_EQ(FindCookie("refuge_clearance_old=abc", kCookieName), "");
  EXPECT_EQ(FindCookie("refuge_clearance", kCookieName), "");
  EXPECT_EQ(FindCookie("", kCookieName), "");
  EXPECT_EQ(FindCookie(";;;", kCookieName), "");
  EXPECT_EQ(FindCookie("refuge_clearance=first; refuge_clearance=second", kCookieName), "first");
}

TEST(ShieldFieldTest, FindQueryParam) {
  EXPECT_EQ(FindQueryParam("s=abc&n=12&r=%2F", "s"), "abc");
  EXPECT_EQ(FindQueryParam("s=abc&n=12&r=%2F", "n"), "12");
  EXPECT_EQ(FindQueryParam("s=abc&n=12&r=%2F", "r"), "%2F");
  EXPECT_EQ(FindQueryParam("ss=abc&s=x", "s"), "x");
  EXPECT_EQ(FindQueryParam("s", "s"), "");
  EXPECT_EQ(FindQueryParam("", "s"), "");
  EXPECT_EQ(FindQueryParam("&&s=1", "s"), "1");
}

}  // namespace
}  // namespace refuge::shield
