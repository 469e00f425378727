#include "serve/byte_range.h"

namespace refuge::serve {

namespace {

std::string_view Trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// A decimal number of at most 18 digits (no overflow), nothing else.
bool ParseNumber(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

}  // namespace

RangeDecision DecideRange(std::string_view header, uint64_t length) {
  RangeDecision whole;
  if (header.size() < 6 || header.substr(0, 6) != "bytes=") return whole;
  std::string_view specs = header.substr(6);
  int count = 0;
  int satisfiable = 0;
  RangeDecision partial;
  partial.kind = RangeDecision::kPartial;
  while (true) {
    size_t comma = specs.find(',');
    std::string_view spec = Trim(specs.substr(0, comma));
    if (++count > kMaxRangeSpecs) return whole;
    size_t dash = spec.find('-');
    if (dash == std::string_view::npos) return whole;
    std::string_view a = spec.substr(0, dash);
    std::string_view b = spec.substr(dash + 1);
    uint64_t first = 0, last = 0;
    if (a.empty()) {  // suffix range: the last N bytes
      uint64_t suffix = 0;
      if (!ParseNumber(b, &suffix)) return whole;
      // RFC 9110 14.1.1: a non-zero suffix is satisfiable even for an empty representation,
      // but no 206 can describe zero bytes: the (empty) whole is sent.
      if (suffix > 0 && length == 0) return whole;
      if (suffix > 0) {
        ++satisfiable;
        partial.first = suffix >= length ? 0 : length - suffix;
        partial.last = length - 1;
      }
    } else {
      if (!ParseNumber(a, &first)) return whole;
      if (b.empty()) {
        last = length == 0 ? 0 : length - 1;
      } else if (!ParseNumber(b, &last) || last < first) {
        return whole;  // syntactically invalid: ignore the header
      }
      if (first < length) {
        ++satisfiable;
        partial.first = first;
        partial.last = last >= length ? length - 1 : last;
      }
    }
    if (comma == std::string_view::npos) break;
    specs.remove_prefix(comma + 1);
  }
  if (satisfiable == 0) {
    RangeDecision none;
    none.kind = RangeDecision::kUnsatisfiable;
    return none;
  }
  if (count > 1) return whole;  // several ranges: sent whole (see the header comment)
  return partial;
}

}  // namespace refuge::serve
