// DecideRange: one satisfiable byte range gets 206, none gets 416, and several or malformed
// ranges get the whole representation.
#include "serve/byte_range.h"

#include <string>

#include <gtest/gtest.h>

namespace refuge::serve {
namespace {

constexpr uint64_t kLength = 100;

void ExpectPartial(std::string_view header, uint64_t length, uint64_t first, uint64_t last) {
  RangeDecision d = DecideRange(header, length);
  ASSERT_EQ(d.kind, RangeDecision::kPartial) << header;
  EXPECT_EQ(d.first, first) << header;
  EXPECT_EQ(d.last, last) << header;
}

void ExpectKind(std::string_view header, uint64_t length, RangeDecision::Kind kind) {
  EXPECT_EQ(DecideRange(header, length).kind, kind) << "'" << header << "' of " << length;
}

TEST(ByteRangeTest, ClosedRange) { ExpectPartial("bytes=0-9", kLength, 0, 9); }

TEST(ByteRangeTest, SingleByte) { ExpectPartial("bytes=99-99", kLength, 99, 99); }

TEST(ByteRangeTest, OpenRangeRunsToTheEnd) { ExpectPartial("bytes=10-", kLength, 10, 99); }

TEST(ByteRangeTest, SuffixRange) { ExpectPartial("bytes=-5", kLength, 95, 99); }

TEST(ByteRangeTest, SuffixLargerThanTheLengthIsTheWhole) {
  ExpectPartial("bytes=-500", kLength, 0, 99);
  ExpectPartial("bytes=-100", kLength, 0, 99);
}

TEST(ByteRangeTest, LastBeyondTheLengthIsClamped) {
  ExpectPartial("bytes=90-200", kLength, 90, 99);
  ExpectPartial("bytes=0-999999999999999999", kLength, 0, 99);
}

TEST(ByteRangeTest, FirstAtOrBeyondTheLengthIsUnsatisfiable) {
  ExpectKind("bytes=100-", kLength, RangeDecision::kUnsatisfiable);
  ExpectKind("bytes=100-200", kLength, RangeDecision::kUnsatisfiable);
  ExpectKind("bytes=5000-", kLength, RangeDecision::kUnsatisfiable);
}

TEST(ByteRangeTest, ZeroSuffixIsUnsatisfiable) {
  ExpectKind("bytes=-0", kLength, RangeDecision::kUnsatisfiable);
}

TEST(ByteRangeTest, SeveralRangesGetTheWhole) {
  ExpectKind("bytes=0-1,5-6", kLength, RangeDecision::kWhole);
  ExpectKind("bytes=0-1, 200-300", kLength, RangeDecision::kWhole);
  ExpectKind("bytes=0-9,0-9", kLength, RangeDecision::kWhole);
}

TEST(ByteRangeTest, SeveralUnsatisfiableRangesAreUnsatisfiable) {
  ExpectKind("bytes=100-,200-300, -0", kLength, RangeDecision::kUnsatisfiable);
}

TEST(ByteRangeTest, MalformedHeaderGetsTheWhole) {
  for (std::string_view header : {"", "bytes", "bytes=", "items=0-9", "bytes 0-9", "bytes:0-9",
                                  "bytes=5-2", "bytes=a-b", "bytes=0-b", "bytes=x", "bytes=9",
                                  "bytes=-", "bytes=+1-2", "bytes=0x1-2", "bytes=1-2-3",
                                  "bytes=0-1,", "bytes=0-1,x", "bytes=0 -1",
                                  "bytes=1000000000000000000-"}) {
    ExpectKind(header, kLength, RangeDecision::kWhole);
  }
}

TEST(ByteRangeTest, MalformedSpecAmongValidOnesGetsTheWhole) {
  ExpectKind("bytes=200-,5-2", kLength, RangeDecision::kWhole);
}

TEST(ByteRangeTest, WhitespaceAroundSpecsIsAllowed) {
  ExpectPartial("bytes=0-9 ", kLength, 0, 9);
  ExpectKind("bytes=0-1 ,\t2-3", kLength, RangeDecision::kWhole);
}

TEST(ByteRangeTest, ZeroLengthRepresentationHasNoSatisfiableByteRange) {
  ExpectKind("bytes=0-", 0, RangeDecision::kUnsatisfiable);
  ExpectKind("bytes=0-0", 0, RangeDecision::kUnsatisfiable);
  ExpectKind("bytes=-0", 0, RangeDecision::kUnsatisfiable);
}

TEST(ByteRangeTest, SuffixOfAZeroLengthRepresentationGetsTheWhole) {
  // RFC 9110 14.1.1: a non-zero suffix-length is satisfiable, but no 206 can describe zero
  // bytes, so the (empty) whole is sent.
  ExpectKind("bytes=-5", 0, RangeDecision::kWhole);
}

TEST(ByteRangeTest, MoreThanTheMaximumNumberOfSpecsGetsTheWhole) {
  std::string unsatisfiable = "bytes=200-";
  for (int i = 1; i < kMaxRangeSpecs; ++i) unsatisfiable += ",200-";
  ExpectKind(unsatisfiable, kLength, RangeDecision::kUnsatisfiable);
  ExpectKind(unsatisfiable + ",200-", kLength, RangeDecision::kWhole);
}

}  // namespace
}  // namespace refuge::serve
