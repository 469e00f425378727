// UTC timestamps in TUF's one accepted form, and the fake clock tests use.
#include "common/clock.h"

#include <cstdint>

#include <gtest/gtest.h>

namespace refuge {
namespace {

TEST(ClockTest, FormatUtcKnownValues) {
  EXPECT_EQ(FormatUtc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatUtc(1893456000), "2030-01-01T00:00:00Z");
  EXPECT_EQ(FormatUtc(1835440496), "2028-02-29T12:34:56Z");
}

TEST(ClockTest, ParseUtcKnownValue) {
  auto t = ParseUtc("2030-01-01T00:00:00Z");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t, 1893456000);
}

TEST(ClockTest, FormatThenParseRoundTrips) {
  for (int64_t t : {int64_t{0}, int64_t{1}, int64_t{951782400} /* 2000-02-29 */,
                    int64_t{1835440496}, int64_t{1893456000}, int64_t{2147483647},
                    int64_t{2147483648}, int64_t{253402300799} /* 9999-12-31T23:59:59Z */}) {
    auto parsed = ParseUtc(FormatUtc(t));
    ASSERT_TRUE(parsed.ok()) << FormatUtc(t) << ": " << parsed.status().ToString();
    EXPECT_EQ(*parsed, t) << FormatUtc(t);
  }
}

TEST(ClockTest, ParseRejectsMissingZ) {
  auto t = ParseUtc("2030-01-01T00:00:00");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kCorruption);
}

TEST(ClockTest, ParseRejectsMonth13) { EXPECT_FALSE(ParseUtc("2030-13-01T00:00:00Z").ok()); }

// Month 00 would otherwise normalise to December of the year before.
TEST(ClockTest, ParseRejectsMonth00) { EXPECT_FALSE(ParseUtc("2030-00-01T00:00:00Z").ok()); }

TEST(ClockTest, ParseRejectsFractionalSeconds) {
  EXPECT_FALSE(ParseUtc("2030-01-01T00:00:00.5Z").ok());
  EXPECT_FALSE(ParseUtc("2030-01-01T00:00:00.000Z").ok());
}

TEST(ClockTest, ParseRejectsOtherForms) {
  for (const char* bad : {"", "2030-01-01", "2030-01-01 00:00:00Z", "2030-01-01T00:00:00+00:00",
                          "2030-01-01t00:00:00z", "2030-1-01T00:00:00Z", "+030-01-01T00:00:00Z",
                          "2030-01-01T00:00:00Z ", " 2030-01-01T00:00:00Z",
                          "2030-01-00T00:00:00Z", "2030-01-32T00:00:00Z",
                          "2030-01-01T24:00:00Z", "2030-01-01T00:60:00Z"}) {
    EXPECT_FALSE(ParseUtc(bad).ok()) << bad;
  }
}

// A day past the end of its month is not a time; python-tuf (datetime.strptime) refuses it,
// and accepting it would let "2030-02-30" silently mean 2030-03-02.
TEST(ClockTest, ParseRejectsDayBeyondEndOfMonth) {
  EXPECT_FALSE(ParseUtc("2030-02-30T00:00:00Z").ok());
  EXPECT_FALSE(ParseUtc("2030-02-29T00:00:00Z").ok());  // 2030 is not a leap year
  EXPECT_FALSE(ParseUtc("2030-04-31T00:00:00Z").ok());
  EXPECT_TRUE(ParseUtc("2028-02-29T00:00:00Z").ok());
}

TEST(ClockTest, ParseErrorNamesTheText) {
  auto t = ParseUtc("yesterday");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("yesterday"), std::string::npos) << t.status().message();
}

TEST(FakeClockTest, SetAndAdvance) {
  FakeClock clock(100);
  EXPECT_EQ(clock.NowSeconds(), 100);
  clock.Advance(5);
  EXPECT_EQ(clock.NowSeconds(), 105);
  clock.Set(7);
  EXPECT_EQ(clock.NowSeconds(), 7);
  const Clock& as_clock = clock;
  EXPECT_EQ(as_clock.NowSeconds(), 7);
}

TEST(SystemClockTest, IsAfter2024) {
  EXPECT_GT(SystemClock::Get().NowSeconds(), int64_t{1704067200});
}

}  // namespace
}  // namespace refuge
