#include "serve/request_path.h"

#include "crypto/sha256.h"

namespace refuge::serve {

namespace {

// Checks the segment that ends at out[end] (exclusive) and starts after the previous '/'.
bool SegmentAllowed(const char* out, size_t start, size_t end) {
  size_t n = end - start;
  if (n == 0) return false;  // "a//b"
  if (n == 1 && out[start] == '.') return false;
  if (n == 2 && out[start] == '.' && out[start + 1] == '.') return false;
  return true;
}

}  // namespace

std::string_view StripQuery(std::string_view target) {
  size_t q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

bool DecodeRequestPath(std::string_view target, char* out, std::string_view* decoded) {
  std::string_view raw = StripQuery(target);
  if (raw.empty() || raw.front() != '/') return false;
  if (raw.find('#') != std::string_view::npos) return false;
  size_t n = 0;
  size_t segment_start = 1;
  out[n++] = '/';
  for (size_t i = 1; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '/') {
      if (!SegmentAllowed(out, segment_start, n)) return false;
      if (n >= kMaxDecodedPathBytes) return false;
      out[n++] = '/';
      segment_start = n;
      continue;
    }
    if (c == '\\') return false;
    if (c == '%') {
      if (i + 2 >= raw.size()) return false;
      int hi = HexDigitValue(raw[i + 1]);
      int lo = HexDigitValue(raw[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
      if (c == '/' || c == '\\') return false;
    }
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
    if (n >= kMaxDecodedPathBytes) return false;
    out[n++] = c;
  }
  // The last segment: empty means a trailing "/", which is allowed (a directory index).
  if (n > segment_start && !SegmentAllowed(out, segment_start, n)) return false;
  *decoded = std::string_view(out, n);
  return true;
}

}  // namespace refuge::serve
