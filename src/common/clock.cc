#include "common/clock.h"

#include <ctime>

namespace refuge {

int64_t SystemClock::NowSeconds() const { return static_cast<int64_t>(::time(nullptr)); }

const SystemClock& SystemClock::Get() {
  static const SystemClock kClock;
  return kClock;
}

std::string FormatUtc(int64_t seconds) {
  time_t t = static_cast<time_t>(seconds);
  struct tm tm {};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<int64_t> ParseUtc(const std::string& text) {
  // Exactly YYYY-MM-DDTHH:MM:SSZ, 20 characters.
  auto bad = [&] { return Corruption("bad UTC time '" + text + "' (want YYYY-MM-DDTHH:MM:SSZ)"); };
  if (text.size() != 20) return bad();
  static constexpr char kPattern[] = "dddd-dd-ddTdd:dd:ddZ";
  for (size_t i = 0; i < 20; ++i) {
    if (kPattern[i] == 'd') {
      if (text[i] < '0' || text[i] > '9') return bad();
    } else if (text[i] != kPattern[i]) {
      return bad();
    }
  }
  auto num = [&](size_t pos, size_t len) {
    int v = 0;
    for (size_t i = 0; i < len; ++i) v = v * 10 + (text[pos + i] - '0');
    return v;
  };
  struct tm tm {};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(5, 2) - 1;
  tm.tm_mday = num(8, 2);
  tm.tm_hour = num(11, 2);
  tm.tm_min = num(14, 2);
  tm.tm_sec = num(17, 2);
  // timegm() normalizes impossible dates (2030-02-30 becomes 2030-03-02); a date is valid only
  // if it survives the round trip unchanged. Leap seconds (:60) are refused the same way.
  const int64_t seconds = static_cast<int64_t>(::timegm(&tm));
  if (FormatUtc(seconds) != text) return bad();
  return seconds;
}

}  // namespace refuge
