// Clearance (shield/clearance.h): the stateless seeds, tickets and cookies of under-attack
// mode, with wall-clock seconds passed in by hand. Round trips, forgery (another prefix,
// another node's secret, altered fields), replay from another prefix, expiry, malformed
// input, and the proof-of-work check itself.
#include "shield/clearance.h"

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "crypto/sha256.h"

namespace refuge::shield {
namespace {

constexpr int64_t kNow = 1'750'000'000;  // a wall-clock time (2025)

ClientAddress Client(const std::string& ip) {
  return ClientAddress::From(boost::asio::ip::make_address(ip));
}

Clearance Secret(char digit) {
  Result<Clearance> c = Clearance::FromHex(std::string(64, digit));
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return *c;
}

bool Solves(std::string_view seed, std::string_view nonce, int bits) {
  const Sha256Digest d = Sha256Of(std::string(seed) + ":" + std::string(nonce));
  return HasLeadingZeroBits(d.data(), d.size(), bits);
}

// The smallest nonce that does not solve `seed` at `bits` (checked here, not assumed).
std::string WrongNonce(std::string_view seed, int bits) {
  for (uint64_t n = 0;; ++n) {
    if (!Solves(seed, std::to_string(n), bits)) return std::to_string(n);
  }
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

class ClearanceTest : public ::testing::Test {
 protected:
  const Clearance clearance_ = Secret('1');
  const ClientAddress client_ = Client("192.0.2.7");
  const ClientAddress neighbour_ = Client("192.0.2.200");  // same /24
  const ClientAddress stranger_ = Client("198.51.100.7");  // another /24
};

// --- seeds and proofs of work ---------------------------------------------------------------

TEST_F(ClearanceTest, SeedHasTheDocumentedForm) {
  const std::string seed = clearance_.MakeSeed(client_, 14, kNow);
  ASSERT_EQ(seed.size(), 8u + 2 + 32);
  EXPECT_TRUE(IsLowerHex(seed)) << seed;
  EXPECT_EQ(seed.substr(0, 8), "684ee180");  // kNow in hex
  EXPECT_EQ(seed.substr(8, 2), "0e");
  EXPECT_EQ(Clearance::SeedBits(seed), 14);
}

TEST_F(ClearanceTest, SeedBitsAreClampedWhenMade) {
  EXPECT_EQ(Clearance::SeedBits(clearance_.MakeSeed(client_, 0, kNow)), 1);
  EXPECT_EQ(Clearance::SeedBits(clearance_.MakeSeed(client_, -5, kNow)), 1);
  EXPECT_EQ(Clearance::SeedBits(clearance_.MakeSeed(client_, 100, kNow)), kMaxPowBits);
}

TEST_F(ClearanceTest, SolvedSeedVerifies) {
  const std::string seed = clearance_.MakeSeed(client_, 10, kNow);
  const std::string nonce = SolveSeed(seed, 10);
  EXPECT_TRUE(Solves(seed, nonce, 10));
  EXPECT_EQ(clearance_.VerifySolution(seed, nonce, client_, kNow + 2), ClearanceCheck::kOk);
}

TEST_F(ClearanceTest, SolveSeedFindsTheSmallestNonce) {
  const std::string seed = clearance_.MakeSeed(client_, 8, kNow);
  const std::string nonce = SolveSeed(seed, 8);
  const uint64_t n = std::stoull(nonce);
  for (uint64_t smaller = 0; smaller < n; ++smaller) {
    EXPECT_FALSE(Solves(seed, std::to_string(smaller), 8)) << smaller;
  }
}

TEST_F(ClearanceTest, WrongNonceIsNotEnoughWork) {
  const std::string seed = clearance_.MakeSeed(client_, 12, kNow);
  const std::string wrong = WrongNonce(seed, 12);
  EXPECT_EQ(clearance_.VerifySolution(seed, wrong, client_, kNow), ClearanceCheck::kNotEnoughWork);
}

TEST_F(ClearanceTest, SolutionForFewerBitsIsNotEnoughWork) {
  // A nonce with 4 zero bits but not 16: the seed asks 16.
  const std::string seed = clearance_.MakeSeed(client_, 16, kNow);
  std::string weak;
  for (uint64_t n = 0; weak.empty(); ++n) {
    const std::string s = std::to_string(n);
    if (Solves(seed, s, 4) && !Solves(seed, s, 16)) weak = s;
  }
  EXPECT_EQ(clearance_.VerifySolution(seed, weak, client_, kNow), ClearanceCheck::kNotEnoughWork);
}

TEST_F(ClearanceTest, SeedFromAnotherPrefixIsForged) {
  const std::string seed = clearance_.MakeSeed(stranger_, 8, kNow);
  const std::string nonce = SolveSeed(seed, 8);
  EXPECT_EQ(clearance_.VerifySolution(seed, nonce, client_, kNow), ClearanceCheck::kForged);
}

TEST_F(ClearanceTest, SeedFromAnotherAddressOfTheSamePrefixVerifies) {
  const std::string seed = clearance_.MakeSeed(client_, 8, kNow);
  const std::string nonce = SolveSeed(seed, 8);
  EXPECT_EQ(clearance_.VerifySolution(seed, nonce, neighbour_, kNow), ClearanceCheck::kOk);
}

TEST_F(ClearanceTest, SeedFromAnotherNodeIsForged) {
  const std::string seed = Secret('2').MakeSeed(client_, 8, kNow);
  const std::string nonce = SolveSeed(seed, 8);
  EXPECT_EQ(clearance_.VerifySolution(seed, nonce, client_, kNow), ClearanceCheck::kForged);
}

TEST_F(ClearanceTest, LoweredBitsAreForged) {
  std::string seed = clearance_.MakeSeed(client_, 20, kNow);
  seed.replace(8, 2, "01");  // ask for one bit instead of twenty
  const std::string nonce = SolveSeed(seed, 1);
  EXPECT_EQ(clearance_.VerifySolution(seed, nonce, client_, kNow), ClearanceCheck::kForged);
}

TEST_F(ClearanceTest, AlteredIssueTimeIsForged) {
  std::string seed = clearance_.MakeSeed(client_, 8, kNow - 3600);
  seed.replace(0, 8, clearance_.MakeSeed(client_, 8, kNow).substr(0, 8));  // "fresh"
  const std::string nonce = SolveSeed(seed, 8);
  EXPECT_EQ(clearance_.VerifySolution(seed, nonce, client_, kNow), ClearanceCheck::kForged);
}

TEST_F(ClearanceTest, AlteredMacIsForged) {
  std::string seed = clearance_.MakeSeed(client_, 8, kNow);
  seed.back() = seed.back() == '0' ? '1' : '0';
  EXPECT_EQ(clearance_.VerifySolution(seed, SolveSeed(seed, 8), client_, kNow),
            ClearanceCheck::kForged);
}

TEST_F(ClearanceTest, SeedExpiresAfterItsLifetime) {
  const std::string seed = clearance_.MakeSeed(client_, 8, kNow);
  const std::string nonce = SolveSeed(seed, 8);
  EXPECT_EQ(clearance_.VerifySolution(seed, nonce, client_, kNow + kSeedLifetimeSeconds),
            ClearanceCheck::kOk);
  EXPECT_EQ(clearance_.VerifySolution(seed, nonce, client_, kNow + kSeedLifetimeSeconds + 1),
            ClearanceCheck::kExpired);
  EXPECT_EQ(clearance_.VerifySolution(seed, nonce, client_, kNow + 86'400),
            ClearanceCheck::kExpired);
}

TEST_F(ClearanceTest, SeedFromTheFarFutureIsExpired) {
  // A clock that stepped back: a seed from more than a lifetime ahead is not accepted.
  const std::string seed = clearance_.MakeSeed(client_, 8, kNow + kSeedLifetimeSeconds + 1);
  EXPECT_EQ(clearance_.VerifySolution(seed, SolveSeed(seed, 8), client_, kNow),
            ClearanceCheck::kExpired);
}

TEST_F(ClearanceTest, MalformedSeedsAreRefused) {
  const std::string seed = clearance_.MakeSeed(client_, 8, kNow);
  const std::string nonce = SolveSeed(seed, 8);
  auto check = [&](const std::string& s) { return clearance_.VerifySolution(s, nonce, client_, kNow); };
  EXPECT_EQ(check(""), ClearanceCheck::kMalformed);
  EXPECT_EQ(check(seed.substr(1)), ClearanceCheck::kMalformed);
  EXPECT_EQ(check(seed + "0"), ClearanceCheck::kMalformed);
  std::string s = seed;
  s[0] = 'g';  // not hex in the time
  EXPECT_EQ(check(s), ClearanceCheck::kMalformed);
  s = seed;
  s[9] = 'x';  // not hex in the bits
  EXPECT_EQ(check(s), ClearanceCheck::kMalformed);
  s = seed;
  s.replace(8, 2, "00");  // zero bits
  EXPECT_EQ(check(s), ClearanceCheck::kMalformed);
  s.replace(8, 2, "1d");  // 29 bits: above kMaxPowBits
  EXPECT_EQ(check(s), ClearanceCheck::kMalformed);
  s.replace(8, 2, "ff");
  EXPECT_EQ(check(s), ClearanceCheck::kMalformed);
}

TEST_F(ClearanceTest, UppercaseHexInASeedIsMalformed) {
  const std::string seed = clearance_.MakeSeed(client_, 10, kNow);  // bits "0a"
  const std::string nonce = SolveSeed(seed, 10);
  std::string s = seed;
  s[9] = 'A';
  EXPECT_EQ(clearance_.VerifySolution(s, nonce, client_, kNow), ClearanceCheck::kMalformed);
  // In the MAC too: the format is lowercase hex throughout.
  s = seed;
  for (size_t i = 10; i < s.size(); ++i) {
    if (s[i] >= 'a' && s[i] <= 'f') {
      s[i] = static_cast<char>(s[i] - 'a' + 'A');
      break;
    }
  }
  ASSERT_NE(s, seed);
  EXPECT_EQ(clearance_.VerifySolution(s, nonce, client_, kNow), ClearanceCheck::kMalformed);
  EXPECT_EQ(Clearance::SeedBits(s), 0);
}

TEST_F(ClearanceTest, NonHexMacInASeedIsMalformed) {
  std::string seed = clearance_.MakeSeed(client_, 8, kNow);
  seed[20] = 'z';
  EXPECT_EQ(clearance_.VerifySolution(seed, "1", client_, kNow), ClearanceCheck::kMalformed);
}

TEST_F(ClearanceTest, MalformedNoncesAreRefused) {
  const std::string seed = clearance_.MakeSeed(client_, 8, kNow);
  auto check = [&](const std::string& n) { return clearance_.VerifySolution(seed, n, client_, kNow); };
  EXPECT_EQ(check(""), ClearanceCheck::kMalformed);
  EXPECT_EQ(check("12a"), ClearanceCheck::kMalformed);
  EXPECT_EQ(check("0x10"), ClearanceCheck::kMalformed);
  EXPECT_EQ(check("-1"), ClearanceCheck::kMalformed);
  EXPECT_EQ(check(" 1"), ClearanceCheck::kMalformed);
  EXPECT_EQ(check("1 "), ClearanceCheck::kMalformed);
  EXPECT_EQ(check(std::string(kMaxNonceDigits + 1, '1')), ClearanceCheck::kMalformed);
  // The longest nonce is well formed: it is judged on its work.
  const ClearanceCheck longest = check(std::string(kMaxNonceDigits, '1'));
  EXPECT_NE(longest, ClearanceCheck::kMalformed);
}

TEST_F(ClearanceTest, SeedBitsOfMalformedSeedsIsZero) {
  EXPECT_EQ(Clearance::SeedBits(""), 0);
  EXPECT_EQ(Clearance::SeedBits("684ee1800e"), 0);
  std::string seed = clearance_.MakeSeed(client_, 12, kNow);
  EXPECT_EQ(Clearance::SeedBits(seed), 12);
  seed.replace(8, 2, "zz");
  EXPECT_EQ(Clearance::SeedBits(seed), 0);
}

// --- cookies --------------------------------------------------------------------------------

TEST_F(ClearanceTest, CookieHasTheDocumentedForm) {
  const std::string cookie = clearance_.MakeCookie(client_, kNow + 3600);
  ASSERT_EQ(cookie.size(), 8u + 1 + 32);
  EXPECT_EQ(cookie[8], '.');
  EXPECT_TRUE(IsLowerHex(cookie.substr(0, 8)));
  EXPECT_TRUE(IsLowerHex(cookie.substr(9)));
}

TEST_F(ClearanceTest, CookieIsValidUntilItExpires) {
  const std::string cookie = clearance_.MakeCookie(client_, kNow + 3600);
  EXPECT_EQ(clearance_.VerifyCookie(cookie, client_, kNow), ClearanceCheck::kOk);
  EXPECT_EQ(clearance_.VerifyCookie(cookie, client_, kNow + 3599), ClearanceCheck::kOk);
  EXPECT_EQ(clearance_.VerifyCookie(cookie, client_, kNow + 3600), ClearanceCheck::kExpired);
  EXPECT_EQ(clearance_.VerifyCookie(cookie, client_, kNow + 100'000), ClearanceCheck::kExpired);
}

TEST_F(ClearanceTest, CookieClearsTheWholePrefix) {
  const std::string cookie = clearance_.MakeCookie(client_, kNow + 3600);
  EXPECT_EQ(clearance_.VerifyCookie(cookie, neighbour_, kNow), ClearanceCheck::kOk);
}

TEST_F(ClearanceTest, CookieReplayedFromAnotherPrefixIsForged) {
  const std::string cookie = clearance_.MakeCookie(client_, kNow + 3600);
  EXPECT_EQ(clearance_.VerifyCookie(cookie, stranger_, kNow), ClearanceCheck::kForged);
  EXPECT_EQ(clearance_.VerifyCookie(cookie, Client("2001:db8::1"), kNow), ClearanceCheck::kForged);
}

TEST_F(ClearanceTest, CookieFromAnotherNodeIsForged) {
  const std::string cookie = Secret('2').MakeCookie(client_, kNow + 3600);
  EXPECT_EQ(clearance_.VerifyCookie(cookie, client_, kNow), ClearanceCheck::kForged);
  const Clearance random = Clearance::Random();
  EXPECT_EQ(random.VerifyCookie(clearance_.MakeCookie(client_, kNow + 3600), client_, kNow),
            ClearanceCheck::kForged);
}

TEST_F(ClearanceTest, CookieWithExtendedExpiryIsForged) {
  std::string cookie = clearance_.MakeCookie(client_, kNow + 3600);
  cookie.replace(0, 8, clearance_.MakeCookie(client_, kNow + 10 * 86'400).substr(0, 8));
  EXPECT_EQ(clearance_.VerifyCookie(cookie, client_, kNow), ClearanceCheck::kForged);
  cookie = clearance_.MakeCookie(client_, kNow + 3600);
  cookie[0] = cookie[0] == 'f' ? 'e' : 'f';
  EXPECT_EQ(clearance_.VerifyCookie(cookie, client_, kNow), ClearanceCheck::kForged);
}

TEST_F(ClearanceTest, MalformedCookiesAreRefused) {
  const std::string cookie = clearance_.MakeCookie(client_, kNow + 3600);
  auto check = [&](const std::string& c) { return clearance_.VerifyCookie(c, client_, kNow); };
  EXPECT_EQ(check(""), ClearanceCheck::kMalformed);
  EXPECT_EQ(check(cookie.substr(1)), ClearanceCheck::kMalformed);
  EXPECT_EQ(check(cookie + "0"), ClearanceCheck::kMalformed);
  std::string c = cookie;
  c[8] = '-';
  EXPECT_EQ(check(c), ClearanceCheck::kMalformed);
  c = cookie;
  c[0] = 'G';
  EXPECT_EQ(check(c), ClearanceCheck::kMalformed);
  c = cookie;
  c[20] = '.';
  EXPECT_EQ(check(c), ClearanceCheck::kMalformed);
  // The seed and the ticket are not cookies.
  EXPECT_EQ(check(clearance_.MakeSeed(client_, 8, kNow)), ClearanceCheck::kMalformed);
  EXPECT_EQ(check(clearance_.MakeTicket(client_, kNow)), ClearanceCheck::kMalformed);
}

TEST_F(ClearanceTest, UppercaseCookieIsMalformed) {
  std::string cookie = clearance_.MakeCookie(client_, 0xabcdef01);
  cookie[0] = 'A';
  EXPECT_EQ(clearance_.VerifyCookie(cookie, client_, kNow), ClearanceCheck::kMalformed);
}

// --- tickets (the no-script path) ------------------------------------------------------------

TEST_F(ClearanceTest, TicketHasTheDocumentedForm) {
  const std::string ticket = clearance_.MakeTicket(client_, kNow);
  ASSERT_EQ(ticket.size(), 8u + 32);
  EXPECT_TRUE(IsLowerHex(ticket));
}

TEST_F(ClearanceTest, TicketIsTooEarlyBeforeTheDelay) {
  const std::string ticket = clearance_.MakeTicket(client_, kNow);
  EXPECT_EQ(clearance_.VerifyTicket(ticket, client_, kNow, 5), ClearanceCheck::kTooEarly);
  EXPECT_EQ(clearance_.VerifyTicket(ticket, client_, kNow + 4, 5), ClearanceCheck::kTooEarly);
  EXPECT_EQ(clearance_.VerifyTicket(ticket, client_, kNow - 100, 5), ClearanceCheck::kTooEarly);
}

TEST_F(ClearanceTest, TicketIsRedeemableFromTheDelayForALifetime) {
  const std::string ticket = clearance_.MakeTicket(client_, kNow);
  EXPECT_EQ(clearance_.VerifyTicket(ticket, client_, kNow + 5, 5), ClearanceCheck::kOk);
  EXPECT_EQ(clearance_.VerifyTicket(ticket, neighbour_, kNow + 6, 5), ClearanceCheck::kOk);
  EXPECT_EQ(clearance_.VerifyTicket(ticket, client_, kNow + 5 + kSeedLifetimeSeconds, 5),
            ClearanceCheck::kOk);
  EXPECT_EQ(clearance_.VerifyTicket(ticket, client_, kNow + 5 + kSeedLifetimeSeconds + 1, 5),
            ClearanceCheck::kExpired);
}

TEST_F(ClearanceTest, TicketFromAnotherPrefixOrNodeIsForged) {
  const std::string ticket = clearance_.MakeTicket(client_, kNow);
  EXPECT_EQ(clearance_.VerifyTicket(ticket, stranger_, kNow + 5, 5), ClearanceCheck::kForged);
  EXPECT_EQ(Secret('2').VerifyTicket(ticket, client_, kNow + 5, 5), ClearanceCheck::kForged);
}

TEST_F(ClearanceTest, TicketWithAnEarlierIssueTimeIsForged) {
  // Backdating a ticket would skip the wait.
  std::string ticket = clearance_.MakeTicket(client_, kNow);
  ticket.replace(0, 8, clearance_.MakeTicket(client_, kNow - 5).substr(0, 8));
  EXPECT_EQ(clearance_.VerifyTicket(ticket, client_, kNow, 5), ClearanceCheck::kForged);
}

TEST_F(ClearanceTest, MacsAreBoundToTheirPurpose) {
  // A cookie's MAC over the same time is not a ticket's, nor a seed's.
  const std::string cookie = clearance_.MakeCookie(client_, kNow);
  const std::string as_ticket = cookie.substr(0, 8) + cookie.substr(9);
  EXPECT_EQ(clearance_.VerifyTicket(as_ticket, client_, kNow + 5, 5), ClearanceCheck::kForged);
  const std::string ticket = clearance_.MakeTicket(client_, kNow - 10);
  const std::string as_cookie = ticket.substr(0, 8) + "." + ticket.substr(8);
  EXPECT_EQ(clearance_.VerifyCookie(as_cookie, client_, kNow - 20), ClearanceCheck::kForged);
}

TEST_F(ClearanceTest, MalformedTicketsAreRefused) {
  const std::string ticket = clearance_.MakeTicket(client_, kNow);
  auto check = [&](const std::string& t) { return clearance_.VerifyTicket(t, client_, kNow + 5, 5); };
  EXPECT_EQ(check(""), ClearanceCheck::kMalformed);
  EXPECT_EQ(check(ticket.substr(1)), ClearanceCheck::kMalformed);
  EXPECT_EQ(check(ticket + "a"), ClearanceCheck::kMalformed);
  std::string t = ticket;
  t[3] = 'q';
  EXPECT_EQ(check(t), ClearanceCheck::kMalformed);
  t = ticket;
  t[3] = 'B';
  EXPECT_EQ(check(t), ClearanceCheck::kMalformed);
}

// --- secrets --------------------------------------------------------------------------------

TEST(ClearanceSecretTest, FromHexNeeds64HexDigits) {
  EXPECT_TRUE(Clearance::FromHex(std::string(64, 'a')).ok());
  EXPECT_FALSE(Clearance::FromHex("").ok());
  EXPECT_FALSE(Clearance::FromHex(std::string(63, 'a')).ok());
  EXPECT_FALSE(Clearance::FromHex(std::string(65, 'a')).ok());
  EXPECT_FALSE(Clearance::FromHex(std::string(128, 'a')).ok());
  EXPECT_FALSE(Clearance::FromHex(std::string(63, 'a') + "g").ok());
  EXPECT_FALSE(Clearance::FromHex(std::string(62, 'a') + " a").ok());
  Result<Clearance> r = Clearance::FromHex("xyz");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("64 hex digits"), std::string::npos) << r.status().ToString();
}

TEST(ClearanceSecretTest, HexCaseDoesNotChangeTheSecret) {
  const ClientAddress client = Client("192.0.2.1");
  const Result<Clearance> lower = Clearance::FromHex(std::string(64, 'c'));
  const Result<Clearance> upper = Clearance::FromHex(std::string(64, 'C'));
  ASSERT_TRUE(lower.ok());
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(lower->MakeCookie(client, kNow), upper->MakeCookie(client, kNow));
}

TEST(ClearanceSecretTest, RandomSecretsDiffer) {
  const ClientAddress client = Client("192.0.2.1");
  EXPECT_NE(Clearance::Random().MakeCookie(client, kNow), Clearance::Random().MakeCookie(client, kNow));
}

TEST(ClearanceSecretTest, CheckNames) {
  EXPECT_STREQ(ClearanceCheckName(ClearanceCheck::kOk), "ok");
  EXPECT_STREQ(ClearanceCheckName(ClearanceCheck::kMalformed), "malformed");
  EXPECT_STREQ(ClearanceCheckName(ClearanceCheck::kForged), "forged");
  EXPECT_STREQ(ClearanceCheckName(ClearanceCheck::kExpired), "expired");
  EXPECT_STREQ(ClearanceCheckName(ClearanceCheck::kTooEarly), "too early");
  EXPECT_STREQ(ClearanceCheckName(ClearanceCheck::kNotEnoughWork), "not enough work");
}

// --- the proof-of-work predicate ------------------------------------------------------------

TEST(ClearanceWorkTest, ZeroBitsAlwaysHold) {
  const uint8_t ones[32] = {0xff, 0xff};
  EXPECT_TRUE(HasLeadingZeroBits(ones, 32, 0));
}

TEST(ClearanceWorkTest, EightBitsIsTheFirstByte) {
  uint8_t d[32] = {};
  d[1] = 0xff;
  EXPECT_TRUE(HasLeadingZeroBits(d, 32, 8));
  d[0] = 0x01;
  EXPECT_FALSE(HasLeadingZeroBits(d, 32, 8));
  EXPECT_TRUE(HasLeadingZeroBits(d, 32, 7));
  d[0] = 0x80;
  EXPECT_FALSE(HasLeadingZeroBits(d, 32, 1));
}

TEST(ClearanceWorkTest, NineBitsLooksAtTheTopBitOfTheSecondByte) {
  uint8_t d[32] = {};
  d[1] = 0x7f;
  EXPECT_TRUE(HasLeadingZeroBits(d, 32, 9));
  EXPECT_FALSE(HasLeadingZeroBits(d, 32, 10));
  d[1] = 0x80;
  EXPECT_FALSE(HasLeadingZeroBits(d, 32, 9));
  EXPECT_TRUE(HasLeadingZeroBits(d, 32, 8));
}

TEST(ClearanceWorkTest, AllBitsOfTheDigest) {
  uint8_t d[32] = {};
  EXPECT_TRUE(HasLeadingZeroBits(d, 32, 256));
  d[31] = 1;
  EXPECT_FALSE(HasLeadingZeroBits(d, 32, 256));
  EXPECT_TRUE(HasLeadingZeroBits(d, 32, 255));
}

TEST(ClearanceWorkTest, MoreBitsThanTheDigestOrNegativeNeverHold) {
  uint8_t d[33] = {};  // one byte more than it is told, so a read past the end would pass
  EXPECT_FALSE(HasLeadingZeroBits(d, 32, 257));
  EXPECT_FALSE(HasLeadingZeroBits(d, 32, 1000));
  EXPECT_FALSE(HasLeadingZeroBits(d, 32, -1));
}

}  // namespace
}  // namespace refuge::shield
