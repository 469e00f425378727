#include "latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include <nlohmann/json.hpp>

namespace refuge::load {
namespace {

constexpr size_t kLinear = 128;        // values 0..127: one bucket each
constexpr size_t kPerPowerOfTwo = 64;  // then 64 buckets per power of two
// The largest shift is 57 (values up to 2^64 - 1).
constexpr size_t kBucketCount = kLinear + 57 * kPerPowerOfTwo;

}  // namespace

LatencyHistogram::LatencyHistogram() : buckets_(kBucketCount, 0) {}

size_t LatencyHistogram::BucketOf(uint64_t value) {
  if (value < kLinear) return static_cast<size_t>(value);
  int msb = 63 - std::countl_zero(value);  // >= 7
  int shift = msb - 6;                     // value >> shift is in [64, 127]
  return kLinear + static_cast<size_t>(shift - 1) * kPerPowerOfTwo +
         static_cast<size_t>((value >> shift) - kPerPowerOfTwo);
}

uint64_t LatencyHistogram::BucketUpperBound(size_t bucket) {
  if (bucket < kLinear) return bucket;
  size_t k = bucket - kLinear;
  int shift = static_cast<int>(k / kPerPowerOfTwo) + 1;
  uint64_t sub = k % kPerPowerOfTwo + kPerPowerOfTwo;
  if (shift >= 57 && sub == 127) return UINT64_MAX;
  return ((sub + 1) << shift) - 1;
}

void LatencyHistogram::Record(uint64_t value) {
  ++buckets_[BucketOf(value)];
  ++count_;
  sum_ += value;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < kBucketCount; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

uint64_t LatencyHistogram::Percentile(double percent) const {
  if (count_ == 0) return 0;
  percent = std::clamp(percent, 0.0, 100.0);
  // The tolerance keeps 99.9 % of 1000 samples at rank 999 despite 99.9 being inexact.
  double exact = percent / 100.0 * static_cast<double>(count_);
  auto rank = static_cast<uint64_t>(std::ceil(exact - 1e-9 * std::max(1.0, exact)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < kBucketCount; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::min(BucketUpperBound(i), max_);
  }
  return max_;
}

nlohmann::json LatencyHistogram::ToJson() const {
  nlohmann::json sparse = nlohmann::json::array();
  for (size_t i = 0; i < kBucketCount; ++i) {
    if (buckets_[i] != 0) sparse.push_back({i, buckets_[i]});
  }
  return {{"buckets", sparse}, {"count", count_}, {"sum", sum_}, {"min", min_}, {"max", max_}};
}

LatencyHistogram LatencyHistogram::FromJson(const nlohmann::json& j) {
  LatencyHistogram h;
  for (const auto& pair : j.at("buckets")) {
    auto index = pair.at(0).get<size_t>();
    if (index < kBucketCount) h.buckets_[index] += pair.at(1).get<uint64_t>();
  }
  h.count_ = j.at("count").get<uint64_t>();
  h.sum_ = j.at("sum").get<uint64_t>();
  h.min_ = j.at("min").get<uint64_t>();
  h.max_ = j.at("max").get<uint64_t>();
  return h;
}

}  // namespace refuge::load
