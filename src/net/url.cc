#include "net/url.h"

namespace refuge {

namespace {
int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

Result<std::string> PercentDecode(std::string_view s, bool allow_slash) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      if (s[i] == '\0') return InvalidArgument("NUL byte in URL path");
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) {
      return InvalidArgument("truncated percent escape in URL path");
    }
    int hi = HexDigit(s[i + 1]);
    int lo = HexDigit(s[i + 2]);
    if (hi < 0 || lo < 0) return InvalidArgument("malformed percent escape in URL path");
    char c = static_cast<char>((hi << 4) | lo);
    if (c == '\0') return InvalidArgument("encoded NUL byte in URL path");
    if (c == '/' && !allow_slash) return InvalidArgument("encoded '/' in URL path");
    out.push_back(c);
    i += 2;
  }
  return out;
}

}  // namespace refuge
