#include "serve/http_parser.h"

#include <cstring>
#include <ctime>

namespace refuge::serve {

namespace {

// RFC 9112 2.2: a server SHOULD ignore at least one empty line before the request line.
constexpr int kMaxLeadingEmptyLines = 4;

// tchar (RFC 9110 5.6.2): the characters of a token.
constexpr bool IsTchar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// field-vchar, SP and HTAB; obs-text (0x80-0xff) is allowed in values.
constexpr bool IsFieldValueChar(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

// Characters allowed in a Host value: reg-name, IPv4, IP-literal and a port.
constexpr bool IsHostChar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  switch (c) {
    case '-': case '.': case '_': case '~': case '!': case '$': case '&': case '\'':
    case '(': case ')': case '*': case '+': case ',': case ';': case '=': case '%':
    case ':': case '[': case ']':
      return true;
    default:
      return false;
  }
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]);
    unsigned char y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x | 0x20);
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y | 0x20);
    if (x != y) return false;
  }
  return true;
}

std::string_view TrimOws(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

ParseStatus Fail(ParseError* error, int status, const char* reason) {
  error->http_status = status;
  error->reason = reason;
  return ParseStatus::kError;
}

// Finds the end of the line starting at `pos`: the index of its CR, which is followed by LF.
// Returns kIncomplete if the buffer ends first, kError on a CR not followed by LF.
ParseStatus FindLineEnd(const char* data, size_t size, size_t pos, size_t* cr,
                        ParseError* error) {
  const void* found = std::memchr(data + pos, '\r', size - pos);
  if (found == nullptr) return ParseStatus::kIncomplete;
  size_t at = static_cast<size_t>(static_cast<const char*>(found) - data);
  if (at + 1 >= size) return ParseStatus::kIncomplete;
  if (data[at + 1] != '\n') return Fail(error, 400, "bare CR in the request head");
  *cr = at;
  return ParseStatus::kComplete;
}

Method MethodOf(std::string_view m) {
  if (m == "GET") return Method::kGet;
  if (m == "HEAD") return Method::kHead;
  if (m == "POST") return Method::kPost;
  if (m == "OPTIONS") return Method::kOptions;
  return Method::kOther;
}

ParseStatus ParseRequestLine(std::string_view line, RequestHead* head, ParseError* error) {
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) {
    return Fail(error, 400, "malformed request line");
  }
  std::string_view method = line.substr(0, sp1);
  for (char c : method) {
    if (!IsTchar(static_cast<unsigned char>(c))) return Fail(error, 400, "invalid method");
  }
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) {
    return Fail(error, 400, "malformed request line");
  }
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  for (char c : target) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return Fail(error, 400, "invalid character in the request target");
  }
  std::string_view version = line.substr(sp2 + 1);
  if (version == "HTTP/1.1") {
    head->minor_version = 1;
  } else if (version == "HTTP/1.0") {
    head->minor_version = 0;
  } else if (version.size() == 8 && version.substr(0, 5) == "HTTP/" && version[5] >= '0' &&
             version[5] <= '9' && version[6] == '.' && version[7] >= '0' && version[7] <= '9') {
    return Fail(error, 505, "HTTP version not supported");
  } else {
    return Fail(error, 400, "malformed request line");
  }

  head->method_text = method;
  head->method = MethodOf(method);
  if (target.front() == '/') {
    head->target = target;
  } else if (target == "*") {
    if (head->method != Method::kOptions) return Fail(error, 400, "'*' target outside OPTIONS");
    head->target = target;
  } else {
    // absolute-form (RFC 9112 3.2.2): a server must accept it; the authority replaces Host.
    size_t scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos ||
        !(EqualsIgnoreCase(target.substr(0, scheme_end), "http") ||
          EqualsIgnoreCase(target.substr(0, scheme_end), "https"))) {
      return Fail(error, 400, "unsupported request target form");
    }
    std::string_view rest = target.substr(scheme_end + 3);
    size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    // The authority replaces Host, so it gets the same check (which also refuses userinfo).
    if (authority.empty()) return Fail(error, 400, "invalid authority in the request target");
    for (char c : authority) {
      if (!IsHostChar(static_cast<unsigned char>(c))) {
        return Fail(error, 400, "invalid authority in the request target");
      }
    }
    head->host = authority;
    // Without a path the target is "/": the second '/' of "://", so the view stays in the
    // buffer like every other.
    head->target = slash == std::string_view::npos ? target.substr(scheme_end + 2, 1)
                                                   : rest.substr(slash);
  }
  head->keep_alive = head->minor_version == 1;
  return ParseStatus::kComplete;
}

// What the fields seen so far said that RequestHead does not record.
struct FieldsSeen {
  bool host = false;  // a Host field (not an absolute-form authority)
  bool transfer_encoding = false;
  bool close = false;  // a "close" connection option: no other option overrides it
};

// Applies one header field to the head.
ParseStatus ApplyField(std::string_view name, std::string_view value, RequestHead* head,
                       FieldsSeen* seen, bool absolute_host, ParseError* error) {
  switch (name.size()) {
    case 4:
      if (EqualsIgnoreCase(name, "host")) {
        if (seen->host) return Fail(error, 400, "more than one Host field");
        seen->host = true;
        for (char c : value) {
          if (!IsHostChar(static_cast<unsigned char>(c))) {
            return Fail(error, 400, "invalid Host field");
          }
        }
        if (!absolute_host) head->host = value;
      }
      break;
    case 5:
      if (EqualsIgnoreCase(name, "range")) {
        if (!head->range.empty()) return Fail(error, 400, "more than one Range field");
        head->range = value;
      }
      break;
    case 6:
      if (EqualsIgnoreCase(name, "cookie")) {
        if (head->cookie.empty()) head->cookie = value;
      } else if (EqualsIgnoreCase(name, "expect")) {
        if (EqualsIgnoreCase(value, "100-continue")) {
          head->expect_continue = true;
        } else {
          return Fail(error, 417, "unsupported expectation");
        }
      }
      break;
    case 7:
      if (EqualsIgnoreCase(name, "referer")) head->referer = value;
      break;
    case 8:
      if (EqualsIgnoreCase(name, "if-range")) head->if_range = value;
      break;
    case 10:
      if (EqualsIgnoreCase(name, "connection")) {
        // A comma-separated list of options; only close and keep-alive matter here.
        std::string_view rest = value;
        while (!rest.empty()) {
          size_t comma = rest.find(',');
          std::string_view option = TrimOws(rest.substr(0, comma));
          if (EqualsIgnoreCase(option, "close")) {
            seen->close = true;
            head->keep_alive = false;
          } else if (EqualsIgnoreCase(option, "keep-alive") && head->minor_version == 0 &&
                     !seen->close) {
            head->keep_alive = true;
          }
          if (comma == std::string_view::npos) break;
          rest.remove_prefix(comma + 1);
        }
      } else if (EqualsIgnoreCase(name, "user-agent")) {
        head->user_agent = value;
      }
      break;
    case 13:
      if (EqualsIgnoreCase(name, "if-none-match")) head->if_none_match = value;
      break;
    case 14:
      if (EqualsIgnoreCase(name, "content-length")) {
        if (head->has_content_length) return Fail(error, 400, "more than one Content-Length");
        if (value.empty() || value.size() > 18) return Fail(error, 400, "invalid Content-Length");
        uint64_t n = 0;
        for (char c : value) {
          if (c < '0' || c > '9') return Fail(error, 400, "invalid Content-Length");
          n = n * 10 + static_cast<uint64_t>(c - '0');
        }
        head->has_content_length = true;
        head->content_length = n;
      }
      break;
    case 17:
      if (EqualsIgnoreCase(name, "if-modified-since")) {
        head->if_modified_since = value;
      } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
        if (seen->transfer_encoding) return Fail(error, 400, "more than one Transfer-Encoding");
        seen->transfer_encoding = true;
        if (EqualsIgnoreCase(value, "chunked")) {
          head->chunked = true;
        } else {
          bool token = !value.empty();
          for (char c : value) token = token && IsTchar(static_cast<unsigned char>(c));
          // RFC 9112 6.1: an unknown coding is 501; a list (e.g. "gzip, chunked") is
          // refused outright, as a smuggling vector.
          return token ? Fail(error, 501, "unsupported transfer coding")
                       : Fail(error, 400, "invalid Transfer-Encoding");
        }
      }
      break;
    default:
      break;
  }
  return ParseStatus::kComplete;
}

}  // namespace

ParseStatus ParseRequestHead(const char* data, size_t size, const ParseLimits& limits,
                             RequestHead* head, ParseError* error) {
  *head = RequestHead();
  // Only the first max_head_bytes can hold the head; stop looking beyond them.
  const bool capped = size >= limits.max_head_bytes;
  const size_t window = capped ? limits.max_head_bytes : size;
  auto incomplete = [&]() {
    return capped ? Fail(error, 400, "request head too large") : ParseStatus::kIncomplete;
  };

  size_t pos = 0;
  for (int i = 0; i <= kMaxLeadingEmptyLines; ++i) {
    if (pos < window && data[pos] == '\r') {
      if (pos + 1 >= window) return incomplete();
      if (data[pos + 1] != '\n') return Fail(error, 400, "bare CR in the request head");
      if (i == kMaxLeadingEmptyLines) return Fail(error, 400, "too many empty lines");
      pos += 2;
    } else if (pos < window && data[pos] == '\n') {
      return Fail(error, 400, "bare LF in the request head");
    } else {
      break;
    }
  }
  if (pos >= window) return incomplete();

  size_t cr = 0;
  ParseStatus st = FindLineEnd(data, window, pos, &cr, error);
  if (st == ParseStatus::kIncomplete) {
    // A bare LF or NUL before any CR would never become valid: fail early.
    for (size_t i = pos; i < window; ++i) {
      unsigned char c = static_cast<unsigned char>(data[i]);
      if (c < 0x20 && c != '\r') return Fail(error, 400, "control character in the request line");
    }
    return incomplete();
  }
  if (st == ParseStatus::kError) return st;
  st = ParseRequestLine(std::string_view(data + pos, cr - pos), head, error);
  if (st != ParseStatus::kComplete) return st;
  const bool absolute_host = !head->host.empty();
  pos = cr + 2;

  FieldsSeen seen;
  for (;;) {
    if (pos + 1 < window && data[pos] == '\r' && data[pos + 1] == '\n') {
      pos += 2;
      break;  // the empty line: end of the head
    }
    if (pos < window && (data[pos] == ' ' || data[pos] == '\t')) {
      return Fail(error, 400, "obs-fold or whitespace before a field name");
    }
    st = FindLineEnd(data, window, pos, &cr, error);
    if (st == ParseStatus::kIncomplete) {
      for (size_t i = pos; i < window; ++i) {
        unsigned char c = static_cast<unsigned char>(data[i]);
        if ((c < 0x20 && c != '\r' && c != '\t') || c == 0x7f) {
          return Fail(error, 400, "control character in a header field");
        }
      }
      return incomplete();
    }
    if (st == ParseStatus::kError) return st;
    if (++head->header_count > limits.max_header_count) {
      return Fail(error, 400, "too many header fields");
    }
    std::string_view line(data + pos, cr - pos);
    size_t colon = 0;
    while (colon < line.size() && IsTchar(static_cast<unsigned char>(line[colon]))) ++colon;
    if (colon == 0 || colon >= line.size() || line[colon] != ':') {
      return Fail(error, 400, "invalid header field name");
    }
    std::string_view raw_value = line.substr(colon + 1);
    for (char c : raw_value) {
      if (!IsFieldValueChar(static_cast<unsigned char>(c))) {
        return Fail(error, 400, "invalid character in a header field value");
      }
    }
    st = ApplyField(line.substr(0, colon), TrimOws(raw_value), head, &seen, absolute_host, error);
    if (st != ParseStatus::kComplete) return st;
    pos = cr + 2;
  }

  if (head->minor_version == 1 && !seen.host && !absolute_host) {
    return Fail(error, 400, "missing Host field");
  }
  if (head->chunked && head->has_content_length) {
    return Fail(error, 400, "both Content-Length and Transfer-Encoding");
  }
  if (head->chunked && head->minor_version == 0) {
    return Fail(error, 400, "Transfer-Encoding in an HTTP/1.0 request");
  }
  head->head_bytes = pos;
  return ParseStatus::kComplete;
}

// ---------------------------------------------------------------------------------------
// Dates.

namespace {

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kLongDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                     "Thursday", "Friday", "Saturday"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool ReadNumber(std::string_view s, size_t pos, size_t digits, int* out) {
  if (pos + digits > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < digits; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

int MonthOf(std::string_view s) {
  for (int i = 0; i < 12; ++i) {
    if (s == kMonths[i]) return i;
  }
  return -1;
}

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool Compose(int year, int month, int day, int hour, int minute, int second, int64_t* out) {
  if (month < 0 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return false;
  *out = DaysFromCivil(year, static_cast<unsigned>(month + 1), static_cast<unsigned>(day)) *
             86400 +
         hour * 3600 + minute * 60 + second;
  return true;
}

bool ParseTime(std::string_view s, size_t pos, int* h, int* m, int* sec) {
  return ReadNumber(s, pos, 2, h) && pos + 8 <= s.size() && s[pos + 2] == ':' &&
         ReadNumber(s, pos + 3, 2, m) && s[pos + 5] == ':' && ReadNumber(s, pos + 6, 2, sec);
}

}  // namespace

bool ParseHttpDate(std::string_view s, int64_t* out) {
  int day = 0, year = 0, h = 0, m = 0, sec = 0;
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  if (s.size() == 29 && s[3] == ',') {
    if (s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s.substr(25) != " GMT") {
      return false;
    }
    return ReadNumber(s, 5, 2, &day) && ReadNumber(s, 12, 4, &year) &&
           ParseTime(s, 17, &h, &m, &sec) &&
           Compose(year, MonthOf(s.substr(8, 3)), day, h, m, sec, out);
  }
  // asctime: "Sun Nov  6 08:49:37 1994"
  if (s.size() == 24 && s[3] == ' ') {
    if (s[7] != ' ' || s[10] != ' ' || s[19] != ' ') return false;
    std::string_view d = s.substr(8, 2);
    if (d[0] == ' ') {
      if (!ReadNumber(d, 1, 1, &day)) return false;
    } else if (!ReadNumber(d, 0, 2, &day)) {
      return false;
    }
    return ParseTime(s, 11, &h, &m, &sec) && ReadNumber(s, 20, 4, &year) &&
           Compose(year, MonthOf(s.substr(4, 3)), day, h, m, sec, out);
  }
  // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
  size_t comma = s.find(", ");
  if (comma == std::string_view::npos) return false;
  bool known_day = false;
  for (const char* d : kLongDays) known_day = known_day || s.substr(0, comma) == d;
  std::string_view rest = s.substr(comma + 2);
  if (!known_day || rest.size() != 22 || rest[2] != '-' || rest[6] != '-' || rest[9] != ' ' ||
      rest.substr(18) != " GMT") {
    return false;
  }
  if (!ReadNumber(rest, 0, 2, &day) || !ReadNumber(rest, 7, 2, &year) ||
      !ParseTime(rest, 10, &h, &m, &sec)) {
    return false;
  }
  // RFC 9110: a two-digit year more than 50 years in the future is in the past century.
  year += year < 70 ? 2000 : 1900;
  return Compose(year, MonthOf(rest.substr(3, 3)), day, h, m, sec, out);
}

void FormatHttpDate(int64_t seconds, char out[kHttpDateLength]) {
  time_t t = static_cast<time_t>(seconds);
  struct tm tm;
  gmtime_r(&t, &tm);
  auto two = [&](int at, int v) {
    out[at] = static_cast<char>('0' + v / 10);
    out[at + 1] = static_cast<char>('0' + v % 10);
  };
  std::memcpy(out, kDays[tm.tm_wday], 3);
  out[3] = ',';
  out[4] = ' ';
  two(5, tm.tm_mday);
  out[7] = ' ';
  std::memcpy(out + 8, kMonths[tm.tm_mon], 3);
  out[11] = ' ';
  int year = tm.tm_year + 1900;
  two(12, year / 100 % 100);
  two(14, year % 100);
  out[16] = ' ';
  two(17, tm.tm_hour);
  out[19] = ':';
  two(20, tm.tm_min);
  out[22] = ':';
  two(23, tm.tm_sec);
  std::memcpy(out + 25, " GMT", 4);
}

}  // namespace refuge::serve
