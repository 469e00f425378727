// TokenBucket (shield/token_bucket.h): integer fixed-point rate limits driven by a fake
// clock (milliseconds passed in by hand): burst then refusal, exact refill per millisecond,
// a clock going backwards, a very long quiet, Retry-After, the slowest rate.
#include "shield/token_bucket.h"

#include <cstdint>

#include <gtest/gtest.h>

namespace refuge::shield {
namespace {

constexpr int64_t kStart = 1'000'000;  // an arbitrary monotonic time, in ms

TEST(TokenBucketTest, NewBucketIsFull) {
  const BucketLimit limit{60, 5};
  const BucketState b = FullBucket(limit, kStart);
  EXPECT_EQ(b.tokens, 5 * kTokenCost);
  EXPECT_EQ(b.last_ms, kStart);
  EXPECT_TRUE(IsFull(limit, b));
}

TEST(TokenBucketTest, CapacityOfTheLargestBurstFits32Bits) {
  const BucketLimit limit{1, kMaxBurst};
  EXPECT_EQ(static_cast<uint64_t>(limit.capacity()), uint64_t{kMaxBurst} * kTokenCost);
  EXPECT_LE(uint64_t{kMaxBurst} * kTokenCost, uint64_t{UINT32_MAX});
  EXPECT_GT(uint64_t{kMaxBurst + 1} * kTokenCost, uint64_t{UINT32_MAX});
}

TEST(TokenBucketTest, BurstPassesThenTheNextIsRefused) {
  const BucketLimit limit{60, 5};
  BucketState b = FullBucket(limit, kStart);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(TakeToken(limit, kStart, &b)) << "request " << i;
  EXPECT_FALSE(TakeToken(limit, kStart, &b));
  EXPECT_EQ(b.tokens, 0u);
  EXPECT_FALSE(IsFull(limit, b));
}

TEST(TokenBucketTest, RefusalTakesNothing) {
  const BucketLimit limit{60, 1};
  BucketState b = FullBucket(limit, kStart);
  ASSERT_TRUE(TakeToken(limit, kStart, &b));
  ASSERT_FALSE(TakeToken(limit, kStart + 999, &b));
  EXPECT_EQ(b.tokens, 999u * 60);
}

TEST(TokenBucketTest, RefillsExactlyPerMinuteUnitsEachMillisecond) {
  const BucketLimit limit{60, 2};  // one request a second
  BucketState b = FullBucket(limit, kStart);
  ASSERT_TRUE(TakeToken(limit, kStart, &b));
  ASSERT_TRUE(TakeToken(limit, kStart, &b));
  ASSERT_EQ(b.tokens, 0u);
  EXPECT_FALSE(TakeToken(limit, kStart + 1, &b));
  EXPECT_EQ(b.tokens, 60u);
  EXPECT_EQ(b.last_ms, kStart + 1);
  EXPECT_FALSE(TakeToken(limit, kStart + 999, &b));
  EXPECT_EQ(b.tokens, 999u * 60);
  EXPECT_TRUE(TakeToken(limit, kStart + 1000, &b));
  EXPECT_EQ(b.tokens, 0u);
}

TEST(TokenBucketTest, RefillAddsUpOverManySmallSteps) {
  // No rounding drift: 1,000 refills of one millisecond are one second.
  const BucketLimit limit{7, 1};
  BucketState b = FullBucket(limit, kStart);
  ASSERT_TRUE(TakeToken(limit, kStart, &b));
  for (int64_t t = 1; t <= 1000; ++t) EXPECT_FALSE(TakeToken(limit, kStart + t, &b));
  EXPECT_EQ(b.tokens, 7'000u);
}

TEST(TokenBucketTest, RefillStopsAtCapacity) {
  const BucketLimit limit{6'000, 3};
  BucketState b = FullBucket(limit, kStart);
  ASSERT_TRUE(TakeToken(limit, kStart, &b));
  ASSERT_TRUE(TakeToken(limit, kStart + 60'000, &b));  // far more than enough to refill
  EXPECT_EQ(b.tokens, limit.capacity() - kTokenCost);
}

TEST(TokenBucketTest, ClockGoingBackwardsRefillsNothing) {
  const BucketLimit limit{60, 1};
  BucketState b = FullBucket(limit, kStart);
  ASSERT_TRUE(TakeToken(limit, kStart, &b));
  EXPECT_FALSE(TakeToken(limit, kStart - 500'000, &b));
  EXPECT_EQ(b.tokens, 0u);
  EXPECT_EQ(b.last_ms, kStart);
  // Back to normal: refills from the last forward time, not from the backward one.
  EXPECT_FALSE(TakeToken(limit, kStart + 999, &b));
  EXPECT_TRUE(TakeToken(limit, kStart + 1000, &b));
}

TEST(TokenBucketTest, VeryLongQuietDoesNotOverflow) {
  for (const BucketLimit limit : {BucketLimit{1, 1}, BucketLimit{60'000'000, kMaxBurst},
                                  BucketLimit{UINT32_MAX, kMaxBurst}, BucketLimit{1, kMaxBurst}}) {
    BucketState b{0, 0};
    ASSERT_TRUE(TakeToken(limit, INT64_MAX / 2, &b)) << limit.per_minute << "/" << limit.burst;
    EXPECT_EQ(b.tokens, limit.capacity() - kTokenCost);
    EXPECT_EQ(b.last_ms, INT64_MAX / 2);
  }
}

TEST(TokenBucketTest, QuietFromAVeryNegativeTimeDoesNotOverflow) {
  const BucketLimit limit{60, 10};
  BucketState b{INT64_MIN / 2, 0};
  ASSERT_TRUE(TakeToken(limit, INT64_MAX / 2, &b));
  EXPECT_EQ(b.tokens, limit.capacity() - kTokenCost);
}

TEST(TokenBucketTest, OneRequestPerMinute) {
  const BucketLimit limit{1, 1};
  BucketState b = FullBucket(limit, kStart);
  ASSERT_TRUE(TakeToken(limit, kStart, &b));
  EXPECT_FALSE(TakeToken(limit, kStart + 59'999, &b));
  EXPECT_EQ(RetryAfterSeconds(limit, b), 1u);  // 1 ms missing: rounds up to 1 s
  EXPECT_TRUE(TakeToken(limit, kStart + 60'000, &b));
  EXPECT_FALSE(TakeToken(limit, kStart + 60'000, &b));
  EXPECT_EQ(RetryAfterSeconds(limit, b), 60u);
}

TEST(TokenBucketTest, RetryAfterRoundsUpToWholeSeconds) {
  // 7 per minute: one request's tokens in 60000/7 = 8571.4 ms, so 8572 ms, so 9 s.
  EXPECT_EQ(RetryAfterSeconds(BucketLimit{7, 1}, BucketState{kStart, 0}), 9u);
  // 30 per minute: 2000 ms exactly.
  EXPECT_EQ(RetryAfterSeconds(BucketLimit{30, 1}, BucketState{kStart, 0}), 2u);
  // 60 per minute, half a request there: 500 ms, so 1 s.
  EXPECT_EQ(RetryAfterSeconds(BucketLimit{60, 1}, BucketState{kStart, kTokenCost / 2}), 1u);
  // 60 per minute, empty: 1000 ms exactly, so 1 s; 59 per minute: 1017 ms, so 2 s.
  EXPECT_EQ(RetryAfterSeconds(BucketLimit{60, 1}, BucketState{kStart, 0}), 1u);
  EXPECT_EQ(RetryAfterSeconds(BucketLimit{59, 1}, BucketState{kStart, 0}), 2u);
}

TEST(TokenBucketTest, RetryAfterIsAtLeastOneSecond) {
  EXPECT_EQ(RetryAfterSeconds(BucketLimit{60'000'000, 1}, BucketState{kStart, 0}), 1u);
  EXPECT_EQ(RetryAfterSeconds(BucketLimit{60, 1}, BucketState{kStart, kTokenCost - 1}), 1u);
  // Tokens already there (a refusal by another bucket): still 1.
  EXPECT_EQ(RetryAfterSeconds(BucketLimit{60, 1}, BucketState{kStart, kTokenCost}), 1u);
}

TEST(TokenBucketTest, RetryAfterMatchesWhenTheRequestPasses) {
  const BucketLimit limit{13, 1};
  BucketState b = FullBucket(limit, kStart);
  ASSERT_TRUE(TakeToken(limit, kStart, &b));
  ASSERT_FALSE(TakeToken(limit, kStart, &b));
  const uint32_t wait_s = RetryAfterSeconds(limit, b);
  BucketState early = b;
  EXPECT_FALSE(TakeToken(limit, kStart + (wait_s - 1) * 1000, &early));
  EXPECT_TRUE(TakeToken(limit, kStart + wait_s * 1000, &b));
}

TEST(TokenBucketTest, IsFullOnlyAtCapacity) {
  const BucketLimit limit{60, 3};
  EXPECT_TRUE(IsFull(limit, BucketState{kStart, limit.capacity()}));
  EXPECT_FALSE(IsFull(limit, BucketState{kStart, limit.capacity() - 1}));
  EXPECT_FALSE(IsFull(limit, BucketState{kStart, 0}));
}

TEST(TokenBucketTest, BucketIsFullAgainAfterAQuietAsLongAsItsBurst) {
  const BucketLimit limit{60, 3};  // one a second, three at once
  BucketState b = FullBucket(limit, kStart);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(TakeToken(limit, kStart, &b));
  // A request 3 s later finds the bucket full (it takes one, so one short after).
  BucketState later = b;
  ASSERT_TRUE(TakeToken(limit, kStart + 3'000, &later));
  EXPECT_EQ(later.tokens + kTokenCost, limit.capacity());
  // 2.999 s later it was not.
  BucketState sooner = b;
  ASSERT_TRUE(TakeToken(limit, kStart + 2'999, &sooner));
  EXPECT_LT(sooner.tokens + kTokenCost, limit.capacity());
}

}  // namespace
}  // namespace refuge::shield
