#include "net/bandwidth_limiter.h"

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <limits>

namespace refuge {

namespace {

// Sums of times saturate here (146 years from the epoch of the monotonic clock), far from
// overflow.
constexpr int64_t kSaturatedNs = int64_t{1} << 62;

int64_t SaturatingAdd(int64_t a, int64_t b) {
  if (b > 0 && a > kSaturatedNs - b) return kSaturatedNs;
  return a + b;
}

// ceil(bytes * 10^9 / rate) in nanoseconds, saturating. rate <= 2^32, so (bytes % rate) * 10^9
// < 2^62.
int64_t CostNanos(uint64_t bytes, uint64_t rate) {
  constexpr uint64_t kNs = 1'000'000'000;
  const uint64_t whole_seconds = bytes / rate;
  if (whole_seconds >= static_cast<uint64_t>(kSaturatedNs) / kNs) return kSaturatedNs;
  const uint64_t rest = (bytes % rate) * kNs;
  return static_cast<int64_t>(whole_seconds * kNs + (rest + rate - 1) / rate);
}

}  // namespace

int64_t SystemMonotonicClock::NowNanos() const {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void SystemMonotonicClock::SleepNanos(int64_t nanos) const {
  if (nanos <= 0) return;
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(nanos / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(nanos % 1'000'000'000);
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

const SystemMonotonicClock& SystemMonotonicClock::Get() {
  static const SystemMonotonicClock clock;
  return clock;
}

BandwidthLimiter::BandwidthLimiter(uint64_t bytes_per_second, uint64_t burst_bytes,
                                   const MonotonicClock* clock)
    : rate_(std::clamp<uint64_t>(bytes_per_second, 1, kMaxBytesPerSecond)),
      burst_(std::min(burst_bytes != 0 ? burst_bytes
                                       : std::max(rate_ / 4, kMinDefaultBurstBytes),
                      kMaxBurstBytes)),
      clock_(clock != nullptr ? clock : &SystemMonotonicClock::Get()),
      burst_ns_(CostNanos(burst_, rate_)),
      // A full bucket: empty one burst ago.
      empty_at_ns_(clock_->NowNanos() - burst_ns_) {}

int64_t BandwidthLimiter::Take(uint64_t bytes) {
  const int64_t cost = CostNanos(bytes, rate_);
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = clock_->NowNanos();
  // An idle bucket does not fill past its burst.
  empty_at_ns_ = std::max(empty_at_ns_, now - burst_ns_);
  empty_at_ns_ = SaturatingAdd(empty_at_ns_, cost);
  // The bytes may be used once the bucket is no longer in debt (empty_at <= now).
  return std::max<int64_t>(0, empty_at_ns_ - now);
}

void BandwidthLimiter::Acquire(uint64_t bytes) {
  const int64_t wait = Take(bytes);
  if (wait > 0) clock_->SleepNanos(wait);
}

}  // namespace refuge
