// The Range header (RFC 9110 14.2), for GET on a representation of known length.
//
// Only "bytes" ranges are understood. A single satisfiable range gets 206; a request whose
// ranges are all unsatisfiable gets 416. Several ranges are "refused" the way RFC 9110
// allows (a server MAY ignore Range): the whole representation is sent with 200, so a
// client can never make the node build large multipart responses or send overlapping
// ranges of one object many times. A malformed Range is ignored too (RFC 9110 14.2).
//
// Thread-safety: stateless.
#ifndef REFUGE_SERVE_BYTE_RANGE_H_
#define REFUGE_SERVE_BYTE_RANGE_H_

#include <cstdint>
#include <string_view>

namespace refuge::serve {

// More range specs than this in one header is treated as malformed (ignored) without
// looking at them all.
inline constexpr int kMaxRangeSpecs = 64;

struct RangeDecision {
  enum Kind { kWhole, kPartial, kUnsatisfiable } kind = kWhole;
  uint64_t first = 0;  // kPartial: the inclusive byte positions sent
  uint64_t last = 0;
};

RangeDecision DecideRange(std::string_view range_header, uint64_t length);

}  // namespace refuge::serve

#endif  // REFUGE_SERVE_BYTE_RANGE_H_
