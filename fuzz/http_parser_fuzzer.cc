// libFuzzer target: the request side of `refuge serve` on arbitrary client bytes: the request
// head parser with pipelining, the chunked body decoder, request paths, Range and HTTP dates.
//
// Input: 4 parameter bytes, then the bytes a client sends on one connection.
//   [0] where the chunked decoder's input is split in two
//   [1] which prefix of the stream is parsed again (see below)
//   [2..3] the representation length for Range: little-endian 16 bits, or if the top bit is
//          set, UINT64_MAX >> (byte 2 % 64) (huge lengths)
//
// Properties checked beyond "no crash, no leak, no undefined behaviour" (a violation traps):
//   - on kComplete, 0 < head_bytes <= size and every view lies inside the head's bytes;
//     kIncomplete only while under the size limit;
//   - the parser decides on what it has seen: a strict prefix of a complete head is
//     incomplete, a prefix holding the whole head gives the same head_bytes, and a prefix
//     never completes or fails where the whole stream would not;
//   - pipelined requests (and their bodies) parse one after the other;
//   - the chunked decoder gives the same result, consumed bytes and data whether its input
//     comes in one piece or in two, and hands out views inside its input;
//   - a decoded path starts with '/' and holds no NUL, control character, "." or ".."
//     segment or empty segment;
//   - a partial range satisfies first <= last < length;
//   - a parsed date in years 1970..9999 round-trips through FormatHttpDate.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "serve/byte_range.h"
#include "serve/http_parser.h"
#include "serve/request_path.h"

namespace {

using refuge::serve::ChunkedDecoder;
using refuge::serve::ParseLimits;
using refuge::serve::ParseStatus;
using refuge::serve::RangeDecision;
using refuge::serve::RequestHead;

// Small limits, so that the fuzzer reaches them.
constexpr size_t kMaxHeadBytes = 1024;
constexpr int kMaxHeaderCount = 16;
// Requests parsed from one input: enough to exercise pipelining, bounded for speed.
constexpr int kMaxPipelined = 8;
// 9999-12-31 23:59:59 GMT: the last second with a four-digit year.
constexpr int64_t kLastFourDigitYearSecond = 253402300799;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

bool Inside(std::string_view view, const char* begin, size_t size) {
  const auto b = reinterpret_cast<uintptr_t>(begin);
  const auto v = reinterpret_cast<uintptr_t>(view.data());
  return view.empty() || (v >= b && v - b <= size && view.size() <= size - (v - b));
}

ParseLimits Limits() {
  ParseLimits limits;
  limits.max_head_bytes = kMaxHeadBytes;
  limits.max_header_count = kMaxHeaderCount;
  return limits;
}

ParseStatus Parse(const char* data, size_t size, RequestHead* head) {
  refuge::serve::ParseError error;
  ParseStatus st = refuge::serve::ParseRequestHead(data, size, Limits(), head, &error);
  if (st == ParseStatus::kError) {
    Check(error.http_status >= 400 && error.http_status <= 599 && error.reason != nullptr);
  }
  return st;
}

void CheckHead(const RequestHead& h, const char* data, size_t size) {
  Check(h.head_bytes > 0 && h.head_bytes <= size && h.head_bytes <= kMaxHeadBytes);
  for (std::string_view view : {h.method_text, h.target, h.host, h.range, h.if_none_match,
                                h.if_modified_since, h.if_range, h.user_agent, h.referer}) {
    Check(Inside(view, data, h.head_bytes));
  }
  Check(!h.method_text.empty() && !h.target.empty());
  Check(h.minor_version == 0 || h.minor_version == 1);
  Check(h.header_count >= 0 && h.header_count <= kMaxHeaderCount);
  Check(!(h.chunked && h.has_content_length));
  Check(!(h.chunked && h.minor_version == 0));
}

// Parses [data, data + prefix) where the whole stream gave `whole` (and `whole_head`).
void CheckPrefix(const char* data, size_t prefix, ParseStatus whole,
                 const RequestHead& whole_head) {
  RequestHead head;
  ParseStatus st = Parse(data, prefix, &head);
  switch (whole) {
    case ParseStatus::kComplete:
      if (prefix < whole_head.head_bytes) {
        Check(st == ParseStatus::kIncomplete);
      } else {
        Check(st == ParseStatus::kComplete && head.head_bytes == whole_head.head_bytes);
      }
      break;
    case ParseStatus::kIncomplete:
      Check(st == ParseStatus::kIncomplete);
      break;
    case ParseStatus::kError:
      Check(st != ParseStatus::kComplete);
      break;
  }
}

struct Decoded {
  ChunkedDecoder::Result result = ChunkedDecoder::Result::kNeedMore;
  size_t consumed = 0;
  uint64_t bytes = 0;
  uint64_t hash = 14695981039346656037u;  // FNV-1a of the decoded data
};

// Feeds [data, data + size) to `decoder` in one call, accumulating into `out`.
void Feed(ChunkedDecoder* decoder, const char* data, size_t size, Decoded* out) {
  size_t consumed = 0;
  out->result = decoder->Feed(data, size, &consumed, [&](std::string_view piece) {
    Check(!piece.empty() && Inside(piece, data, size));
    for (char c : piece) out->hash = (out->hash ^ static_cast<unsigned char>(c)) * 1099511628211u;
    out->bytes += piece.size();
  });
  Check(consumed <= size);
  if (out->result == ChunkedDecoder::Result::kNeedMore) Check(consumed == size);
  out->consumed += consumed;
  Check(decoder->body_bytes() == out->bytes);
}

// Decodes a chunked body at the start of [data, data + size) in one piece and in two (split
// at `split`); both must agree. Returns the one-piece result.
Decoded CheckChunked(const char* data, size_t size, size_t split) {
  Decoded whole;
  ChunkedDecoder one;
  Feed(&one, data, size, &whole);

  Decoded parts;
  ChunkedDecoder two;
  Feed(&two, data, split, &parts);
  if (parts.result == ChunkedDecoder::Result::kNeedMore) {
    Feed(&two, data + split, size - split, &parts);
  }
  Check(parts.result == whole.result);
  Check(parts.consumed == whole.consumed);
  Check(parts.bytes == whole.bytes);
  Check(parts.hash == whole.hash);
  return whole;
}

void CheckPath(std::string_view target) {
  static char out[refuge::serve::kMaxDecodedPathBytes];
  std::string_view stripped = refuge::serve::StripQuery(target);
  Check(target.substr(0, stripped.size()) == stripped);
  std::string_view decoded;
  if (!refuge::serve::DecodeRequestPath(target, out, &decoded)) return;
  Check(decoded.data() == out && !decoded.empty());
  Check(decoded.size() <= refuge::serve::kMaxDecodedPathBytes);
  Check(decoded.front() == '/');
  for (char c : decoded) {
    auto u = static_cast<unsigned char>(c);
    Check(u >= 0x20 && u != 0x7f && c != '\\');
  }
  // Every segment but a trailing empty one is non-empty and not "." or "..".
  size_t start = 1;
  while (start < decoded.size()) {
    size_t slash = decoded.find('/', start);
    std::string_view segment = decoded.substr(start, slash == std::string_view::npos
                                                         ? std::string_view::npos
                                                         : slash - start);
    Check(!segment.empty() && segment != "." && segment != "..");
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  Check(decoded.find("/../") == std::string_view::npos);
}

void CheckRange(std::string_view header, uint64_t length) {
  RangeDecision d = refuge::serve::DecideRange(header, length);
  if (d.kind == RangeDecision::kPartial) Check(d.first <= d.last && d.last < length);
}

void CheckDate(std::string_view text) {
  int64_t t = 0;
  if (!refuge::serve::ParseHttpDate(text, &t)) return;
  if (t < 0 || t > kLastFourDigitYearSecond) return;
  char formatted[refuge::serve::kHttpDateLength];
  refuge::serve::FormatHttpDate(t, formatted);
  int64_t again = -1;
  Check(refuge::serve::ParseHttpDate(
      std::string_view(formatted, refuge::serve::kHttpDateLength), &again));
  Check(again == t);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* raw, size_t raw_size) {
  if (raw_size < 4) return 0;
  const uint8_t split_selector = raw[0];
  const uint8_t prefix_selector = raw[1];
  const uint64_t length = (raw[3] & 0x80) != 0 ? UINT64_MAX >> (raw[2] % 64)
                                               : raw[2] | (static_cast<uint64_t>(raw[3]) << 8);
  const char* data = reinterpret_cast<const char*>(raw + 4);
  const size_t size = raw_size - 4;
  auto scaled = [](size_t n, uint8_t selector) { return n * selector / 255; };

  // The helpers on their own, so that they see more than what a valid head lets through.
  const std::string_view input(data, size);
  CheckPath(input);
  CheckRange(input, length);
  CheckDate(input);
  CheckChunked(data, size, scaled(size, split_selector));

  size_t offset = 0;
  for (int i = 0; i < kMaxPipelined && offset < size; ++i) {
    const char* request = data + offset;
    const size_t available = size - offset;
    RequestHead head;
    ParseStatus st = Parse(request, available, &head);
    if (st == ParseStatus::kIncomplete) Check(available < kMaxHeadBytes);
    if (i == 0) CheckPrefix(request, scaled(available, prefix_selector), st, head);
    if (st != ParseStatus::kComplete) break;
    CheckHead(head, request, available);

    if (head.target.front() == '/') CheckPath(head.target);
    if (!head.range.empty()) CheckRange(head.range, length);
    if (!head.if_modified_since.empty()) CheckDate(head.if_modified_since);

    offset += head.head_bytes;
    if (head.chunked) {
      const size_t left = size - offset;
      Decoded body = CheckChunked(data + offset, left, scaled(left, split_selector));
      if (body.result != ChunkedDecoder::Result::kDone) break;
      offset += body.consumed;
    } else if (head.has_content_length) {
      if (head.content_length > size - offset) break;
      offset += static_cast<size_t>(head.content_length);
    }
  }
  return 0;
}
