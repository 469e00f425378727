// BandwidthLimiter with a fake monotonic clock: burst, steady rate, debt and queueing, idle
// refill capped at the burst, arithmetic at the extremes, and sharing between threads.
#include "net/bandwidth_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace refuge {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

// Time only moves when a test (or a sleeping caller) moves it. Thread-safe.
class FakeMonotonicClock final : public MonotonicClock {
 public:
  int64_t NowNanos() const override { return now_.load(); }
  void SleepNanos(int64_t nanos) const override {
    slept_ += nanos;
    now_ += nanos;
  }
  void Advance(int64_t nanos) { now_ += nanos; }
  int64_t slept() const { return slept_.load(); }

 private:
  mutable std::atomic<int64_t> now_{1'000 * kSecond};
  mutable std::atomic<int64_t> slept_{0};
};

TEST(BandwidthLimiterTest, AFullBucketGrantsTheBurstAtOnce) {
  FakeMonotonicClock clock;
  BandwidthLimiter limiter(1000, 500, &clock);
  EXPECT_EQ(limiter.Take(500), 0);
  // Empty now: the next byte waits 1 ms.
  EXPECT_EQ(limiter.Take(1), kSecond / 1000);
}

TEST(BandwidthLimiterTest, DebtMakesLaterCallersQueue) {
  FakeMonotonicClock clock;
  BandwidthLimiter limiter(1000, 100, &clock);
  EXPECT_EQ(limiter.Take(100), 0);
  // 2000 bytes at 1000 B/s: two seconds; the next caller waits behind them.
  EXPECT_EQ(limiter.Take(2000), 2 * kSecond);
  EXPECT_EQ(limiter.Take(500), 2 * kSecond + kSecond / 2);
  clock.Advance(kSecond);
  EXPECT_EQ(limiter.Take(0), kSecond + kSecond / 2);
}

TEST(BandwidthLimiterTest, SteadyRateOverManySmallChunks) {
  FakeMonotonicClock clock;
  BandwidthLimiter limiter(16 * 1024, 16 * 1024, &clock);
  const int64_t start = clock.NowNanos();
  // 1 MiB in 16 KiB chunks through Acquire: the first chunk is the burst, the rest paid for.
  for (int i = 0; i < 64; ++i) limiter.Acquire(16 * 1024);
  EXPECT_EQ(clock.NowNanos() - start, 63 * kSecond);
  EXPECT_EQ(clock.slept(), 63 * kSecond);
}

TEST(BandwidthLimiterTest, IdleTimeRefillsOnlyUpToTheBurst) {
  FakeMonotonicClock clock;
  BandwidthLimiter limiter(1000, 300, &clock);
  EXPECT_EQ(limiter.Take(300), 0);
  clock.Advance(3600 * kSecond);  // an hour idle: still only 300 bytes in the bucket
  EXPECT_EQ(limiter.Take(300), 0);
  EXPECT_EQ(limiter.Take(1000), kSecond);
}

TEST(BandwidthLimiterTest, PartialRefill) {
  FakeMonotonicClock clock;
  BandwidthLimiter limiter(1000, 1000, &clock);
  EXPECT_EQ(limiter.Take(1000), 0);
  clock.Advance(kSecond / 4);  // 250 bytes back
  EXPECT_EQ(limiter.Take(250), 0);
  EXPECT_EQ(limiter.Take(250), kSecond / 4);
}

TEST(BandwidthLimiterTest, RoundsWaitsUpNeverDown) {
  FakeMonotonicClock clock;
  BandwidthLimiter limiter(3, 1, &clock);
  EXPECT_EQ(limiter.Take(1), 0);
  // One byte at 3 B/s is 333,333,333.3 ns: the wait is rounded up.
  EXPECT_EQ(limiter.Take(1), 333'333'334);
}

TEST(BandwidthLimiterTest, DefaultsAndClamps) {
  FakeMonotonicClock clock;
  EXPECT_EQ(BandwidthLimiter(4 * 1024 * 1024, 0, &clock).burst_bytes(), 1024u * 1024u);
  EXPECT_EQ(BandwidthLimiter(1000, 0, &clock).burst_bytes(), BandwidthLimiter::kMinDefaultBurstBytes);
  EXPECT_EQ(BandwidthLimiter(0, 10, &clock).bytes_per_second(), 1u);
  BandwidthLimiter huge(UINT64_MAX, UINT64_MAX, &clock);
  EXPECT_EQ(huge.bytes_per_second(), BandwidthLimiter::kMaxBytesPerSecond);
  EXPECT_EQ(huge.burst_bytes(), BandwidthLimiter::kMaxBurstBytes);
  EXPECT_EQ(huge.Take(BandwidthLimiter::kMaxBurstBytes), 0);
  // Absurd requests saturate instead of overflowing.
  BandwidthLimiter slow(1, 1, &clock);
  EXPECT_GT(slow.Take(UINT64_MAX), int64_t{1} << 61);
  EXPECT_GT(slow.Take(UINT64_MAX), int64_t{1} << 61);
}

TEST(BandwidthLimiterTest, ThreadsShareOneBudget) {
  FakeMonotonicClock clock;
  BandwidthLimiter limiter(1000, 1000, &clock);
  std::atomic<int64_t> total_wait{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 250; ++i) total_wait += limiter.Take(10);
    });
  }
  for (auto& t : threads) t.join();
  // 10,000 bytes at 1000 B/s with a 1000-byte burst and no time passing: the last grant is
  // 9 s away, whatever the interleaving.
  EXPECT_EQ(limiter.Take(0), 9 * kSecond);
  EXPECT_GT(total_wait.load(), 0);
}

}  // namespace
}  // namespace refuge
