// LatencyHistogram: a log-linear histogram of non-negative integer samples (microseconds in
// refuge-load), in the manner of HdrHistogram.
//
// Values below 128 have their own bucket; above, each power of two is cut into 64 buckets,
// so a reported percentile is within 1/64 (1.6 %) of the true sample, and the exact maximum
// is kept beside. Memory is fixed (about 30 KiB) whatever the range; recording is a few
// instructions. Histograms merge by adding buckets (the workers of --processes each keep
// one and the parent adds them up).
//
// Thread-safety: a value; one writer.
#ifndef REFUGE_TOOLS_LOAD_LATENCY_HISTOGRAM_H_
#define REFUGE_TOOLS_LOAD_LATENCY_HISTOGRAM_H_

#include <cstdint>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace refuge::load {

class LatencyHistogram {
 public:
  LatencyHistogram();

  void Record(uint64_t value);
  void Merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  double mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / count_; }
  // The smallest recorded value v (to bucket precision) such that at least `percent` % of
  // the samples are <= v; never above max(). 0 when empty.
  uint64_t Percentile(double percent) const;

  // Lossless, for the pipe between workers and the parent: sparse [[bucket, count], ...].
  nlohmann::json ToJson() const;
  static LatencyHistogram FromJson(const nlohmann::json& j);

  // Bucket arithmetic, exposed for tests.
  static size_t BucketOf(uint64_t value);
  static uint64_t BucketUpperBound(size_t bucket);

 private:
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace refuge::load

#endif  // REFUGE_TOOLS_LOAD_LATENCY_HISTOGRAM_H_
