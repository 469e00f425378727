// Clock: the seam through which refuge reads the time, so tests can use a fake one.
//
// Times are whole seconds since the Unix epoch (UTC), the resolution of TUF's "expires".
// Thread-safety: SystemClock is thread-safe; FakeClock is for single-threaded tests.
#ifndef REFUGE_COMMON_CLOCK_H_
#define REFUGE_COMMON_CLOCK_H_

#include <cstdint>
#include <string>

#include "common/status.h"

namespace refuge {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowSeconds() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowSeconds() const override;
  static const SystemClock& Get();
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now) : now_(now) {}
  int64_t NowSeconds() const override { return now_; }
  void Set(int64_t now) { now_ = now; }
  void Advance(int64_t seconds) { now_ += seconds; }

 private:
  int64_t now_;
};

// "2030-01-01T00:00:00Z" <-> seconds. Only this exact form (TUF's) is accepted.
std::string FormatUtc(int64_t seconds);
Result<int64_t> ParseUtc(const std::string& text);

}  // namespace refuge

#endif  // REFUGE_COMMON_CLOCK_H_
