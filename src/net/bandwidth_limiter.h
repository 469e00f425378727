// BandwidthLimiter: one download budget (bytes per second) shared by every fetcher and every
// thread of the process, so that `--max-rate` caps what a node or a reader takes from the
// network as a whole, not per transfer.
//
// It is a token bucket in integer arithmetic. The bucket holds at most `burst_bytes`; it
// refills at `bytes_per_second`. Take(n) removes n bytes at once even when fewer are there:
// the bucket goes into debt, and the caller must wait until the debt is paid back before it
// uses the bytes. A chunk larger than the bucket is therefore never refused, only delayed, and
// callers that arrive while others wait queue up behind them in arrival order (each waits for
// the debt the earlier ones left). Over any interval T the bytes granted are at most
// burst_bytes + T * bytes_per_second.
//
// Internally the bucket is one integer, the time at which it would be empty with nothing more
// taken (`empty_at_ns_`, the "theoretical arrival time" of the generic cell rate algorithm):
// it holds (now - empty_at_ns_) * bytes_per_second / 10^9 bytes, at most burst_bytes. Taking n
// bytes moves empty_at_ns_ forward by n * 10^9 / bytes_per_second nanoseconds (rounded up, so
// the cap is never exceeded). bytes_per_second and burst_bytes are capped (kMaxBytesPerSecond,
// kMaxBurstBytes) so that no product can overflow int64; sums saturate.
//
// Time comes from a MonotonicClock, injected so tests can use a fake one that "sleeps" by
// advancing itself.
//
// Thread-safety: thread-safe. Take() holds a mutex for a few arithmetic operations; the
// waiting (Acquire) happens outside it.
#ifndef REFUGE_NET_BANDWIDTH_LIMITER_H_
#define REFUGE_NET_BANDWIDTH_LIMITER_H_

#include <cstdint>
#include <mutex>

namespace refuge {

// Monotonic time in nanoseconds and a way to wait, the seam the limiter reads time through.
// Thread-safety: implementations must be thread-safe.
class MonotonicClock {
 public:
  virtual ~MonotonicClock() = default;
  virtual int64_t NowNanos() const = 0;
  virtual void SleepNanos(int64_t nanos) const = 0;
};

// CLOCK_MONOTONIC and nanosleep.
class SystemMonotonicClock final : public MonotonicClock {
 public:
  int64_t NowNanos() const override;
  void SleepNanos(int64_t nanos) const override;
  static const SystemMonotonicClock& Get();
};

class BandwidthLimiter {
 public:
  // 4 GiB/s and 1 GiB: far above what a cap is for, and low enough that (bytes % rate) * 10^9
  // and burst * 10^9 fit in int64.
  static constexpr uint64_t kMaxBytesPerSecond = uint64_t{1} << 32;
  static constexpr uint64_t kMaxBurstBytes = uint64_t{1} << 30;
  // The smallest default bucket: one libcurl write callback (CURL_MAX_WRITE_SIZE).
  static constexpr uint64_t kMinDefaultBurstBytes = 16 * 1024;

  // `bytes_per_second` is clamped to [1, kMaxBytesPerSecond]. `burst_bytes` 0 means a quarter
  // of a second of traffic, at least kMinDefaultBurstBytes; it is clamped to kMaxBurstBytes.
  // The bucket starts full. `clock` is not owned (SystemMonotonicClock if null).
  explicit BandwidthLimiter(uint64_t bytes_per_second, uint64_t burst_bytes = 0,
                            const MonotonicClock* clock = nullptr);
  BandwidthLimiter(const BandwidthLimiter&) = delete;
  BandwidthLimiter& operator=(const BandwidthLimiter&) = delete;

  // Takes `bytes` from the bucket and returns how many nanoseconds the caller must wait before
  // using them (0 when they were there). Never blocks.
  int64_t Take(uint64_t bytes);
  // Take(), then sleep through the clock for as long as it says.
  void Acquire(uint64_t bytes);

  uint64_t bytes_per_second() const { return rate_; }
  uint64_t burst_bytes() const { return burst_; }

 private:
  static constexpr int64_t kNanosPerSecond = 1'000'000'000;

  const uint64_t rate_;
  const uint64_t burst_;
  const MonotonicClock* clock_;

  // Nanoseconds the bucket needs to refill from empty to full.
  const int64_t burst_ns_;

  std::mutex mu_;
  int64_t empty_at_ns_;  // see the top of the file
};

}  // namespace refuge

#endif  // REFUGE_NET_BANDWIDTH_LIMITER_H_
