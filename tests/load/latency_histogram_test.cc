// The latency histogram: bucket arithmetic and percentiles within the stated precision.
#include "latency_histogram.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace refuge::load {
namespace {

TEST(LatencyHistogramTest, EmptyIsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(50), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.min(), 0u);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 100; ++v) h.Record(v);
  EXPECT_EQ(h.Percentile(50), 50u);
  EXPECT_EQ(h.Percentile(99), 99u);
  EXPECT_EQ(h.Percentile(100), 100u);
  EXPECT_EQ(h.Percentile(0), 1u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(LatencyHistogramTest, PercentilesWithinPrecision) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 100'000; ++v) h.Record(v * 10);  // 10 us .. 1 s
  auto near = [](uint64_t got, double want) {
    EXPECT_GE(static_cast<double>(got), want * 0.999) << got << " vs " << want;
    EXPECT_LE(static_cast<double>(got), want * 1.016 + 1) << got << " vs " << want;
  };
  near(h.Percentile(50), 500'000);
  near(h.Percentile(99), 990'000);
  near(h.Percentile(99.9), 999'000);
  EXPECT_EQ(h.Percentile(100), 1'000'000u);
  EXPECT_EQ(h.max(), 1'000'000u);
}

TEST(LatencyHistogramTest, OutlierShowsAtTheTail) {
  LatencyHistogram h;
  for (int i = 0; i < 999; ++i) h.Record(1000);
  h.Record(5'000'000);
  // Within a bucket's width (1/64) of the true value.
  EXPECT_GE(h.Percentile(50), 1000u);
  EXPECT_LE(h.Percentile(50), 1000u + 1000u / 64);
  EXPECT_LE(h.Percentile(99.9), 1000u + 1000u / 64);
  EXPECT_EQ(h.Percentile(99.95), 5'000'000u);
  EXPECT_EQ(h.max(), 5'000'000u);
}

TEST(LatencyHistogramTest, BucketsAreContiguous) {
  for (size_t b = 1; b < 3000; ++b) {
    uint64_t upper = LatencyHistogram::BucketUpperBound(b);
    uint64_t lower = LatencyHistogram::BucketUpperBound(b - 1) + 1;
    ASSERT_GE(upper, lower);
    EXPECT_EQ(LatencyHistogram::BucketOf(upper), b);
    EXPECT_EQ(LatencyHistogram::BucketOf(lower), b);
    // Each bucket is at most 1/64 of its lower bound wide.
    EXPECT_LE(upper - lower, lower / 64) << b;
  }
  EXPECT_LT(LatencyHistogram::BucketOf(UINT64_MAX), 128u + 57u * 64u);
}

TEST(LatencyHistogramTest, MergeAndJsonRoundTrip) {
  LatencyHistogram a;
  LatencyHistogram b;
  for (uint64_t v = 1; v <= 500; ++v) a.Record(v);
  for (uint64_t v = 501; v <= 1000; ++v) b.Record(v);
  a.Merge(b);
  EXPECT_EQ(a.count(), 1000u);
  EXPECT_EQ(a.max(), 1000u);
  EXPECT_EQ(a.min(), 1u);
  LatencyHistogram copy = LatencyHistogram::FromJson(a.ToJson());
  EXPECT_EQ(copy.count(), a.count());
  EXPECT_EQ(copy.Percentile(50), a.Percentile(50));
  EXPECT_EQ(copy.Percentile(99), a.Percentile(99));
  EXPECT_EQ(copy.max(), a.max());
}

}  // namespace
}  // namespace refuge::load
