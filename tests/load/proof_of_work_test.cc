// The proof-of-work solver, checked against known answers (computed with Python's hashlib)
// and against OpenSSL's one-shot SHA-256, independently of the solver's own hashing.
#include "proof_of_work.h"

#include <openssl/sha.h>

#include <string>

#include <gtest/gtest.h>

namespace refuge::load {
namespace {

int IndependentZeroBits(const std::string& text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  int bits = 0;
  for (unsigned char byte : digest) {
    for (int bit = 7; bit >= 0; --bit) {
      if ((byte >> bit) & 1) return bits;
      ++bits;
    }
  }
  return bits;
}

TEST(ProofOfWorkTest, LeadingZeroBits) {
  const uint8_t a[] = {0x00, 0x00, 0x10};
  EXPECT_EQ(LeadingZeroBits(a, 3), 19);
  const uint8_t b[] = {0x80};
  EXPECT_EQ(LeadingZeroBits(b, 1), 0);
  const uint8_t c[] = {0x00, 0x00};
  EXPECT_EQ(LeadingZeroBits(c, 2), 16);
}

TEST(ProofOfWorkTest, KnownAnswers) {
  // Smallest nonces, from Python: sha256(f"{seed}:{n}") with >= bits leading zero bits.
  EXPECT_EQ(*SolveChallenge("00ff", 8, 1 << 20), 288u);
  EXPECT_EQ(*SolveChallenge("deadbeef", 12, 1 << 20), 6292u);
  EXPECT_EQ(*SolveChallenge("0123456789abcdef", 16, 1 << 24), 65777u);
}

TEST(ProofOfWorkTest, SolutionsVerifyIndependently) {
  for (const char* seed : {"a1", "5eed", "0123456789abcdef0123456789abcdef"}) {
    for (int bits : {0, 1, 4, 10, 14}) {
      auto nonce = SolveChallenge(seed, bits, uint64_t{1} << 30);
      ASSERT_TRUE(nonce.ok());
      std::string text = std::string(seed) + ":" + std::to_string(*nonce);
      EXPECT_GE(IndependentZeroBits(text), bits) << text;
      EXPECT_TRUE(VerifyChallenge(seed, bits, *nonce));
      // The smallest: no earlier nonce works.
      for (uint64_t n = 0; n < *nonce && n < 2000; ++n) {
        EXPECT_LT(IndependentZeroBits(std::string(seed) + ":" + std::to_string(n)), bits);
      }
    }
  }
}

TEST(ProofOfWorkTest, RefusesWhatItCannotSolve) {
  EXPECT_FALSE(SolveChallenge("00ff", 33, 100).ok());
  EXPECT_FALSE(SolveChallenge("00ff", -1, 100).ok());
  EXPECT_FALSE(SolveChallenge("", 4, 100).ok());
  EXPECT_FALSE(SolveChallenge("xyz", 4, 100).ok());
  // 288 is the first for 8 bits: 100 attempts are not enough.
  auto short_budget = SolveChallenge("00ff", 8, 100);
  ASSERT_FALSE(short_budget.ok());
  EXPECT_EQ(short_budget.status().code(), StatusCode::kUnavailable);
  std::atomic<bool> cancel{true};
  EXPECT_FALSE(SolveChallenge("00ff", 8, 1 << 20, &cancel).ok());
}

TEST(ProofOfWorkTest, SolvePathEncodesTheReturnPath) {
  EXPECT_EQ(PercentEncode("/s/abc/index.html"), "/s/abc/index.html");
  EXPECT_EQ(PercentEncode("/a b?c=d&e"), "/a%20b%3Fc%3Dd%26e");
  EXPECT_EQ(PercentEncode("/\xc3\xa9"), "/%C3%A9");
  EXPECT_EQ(SolvePath("00ff", 288, "/x?y=1"), "/.refuge/shield/solve?s=00ff&n=288&r=/x%3Fy%3D1");
}

}  // namespace
}  // namespace refuge::load
