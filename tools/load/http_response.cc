#include "http_response.h"

#include <charconv>
#include <optional>

namespace refuge::load {
namespace {

constexpr size_t kMaxChunkLineBytes = 4096;
constexpr int kMaxTrailerLines = 64;

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Calls f(token) for each comma-separated, trimmed, non-empty token.
template <typename F>
void ForEachToken(std::string_view list, F f) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view token = Trim(list.substr(0, comma));
    if (!token.empty()) f(token);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

std::optional<uint64_t> ParseDecimal(std::string_view text) {
  uint64_t value = 0;
  if (text.empty() || text.size() > 19) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool IsHexString(std::string_view s) {
  for (char c : s) {
    char l = Lower(c);
    if (!((l >= '0' && l <= '9') || (l >= 'a' && l <= 'f'))) return false;
  }
  return !s.empty();
}

// "<seed> <bits>"
void ParseChallenge(std::string_view value, ResponseHead* head) {
  value = Trim(value);
  size_t space = value.find_first_of(" \t");
  if (space == std::string_view::npos) return;
  std::string_view seed = value.substr(0, space);
  std::string_view bits_text = Trim(value.substr(space + 1));
  std::optional<uint64_t> bits = ParseDecimal(bits_text);
  if (!IsHexString(seed) || seed.size() > 256 || !bits || *bits > 255) return;
  head->has_challenge = true;
  head->challenge_seed = std::string(seed);
  head->challenge_bits = static_cast<int>(*bits);
}

}  // namespace

Result<ResponseHead> ParseResponseHead(std::string_view text) {
  ResponseHead head;
  size_t eol = text.find('\n');
  std::string_view status_line = Trim(text.substr(0, eol));
  // "HTTP/1.x SSS[ reason]"
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[7] < '0' ||
      status_line[7] > '9' || status_line[8] != ' ') {
    return Corruption("bad status line");
  }
  head.minor_version = status_line[7] - '0';
  std::optional<uint64_t> status = ParseDecimal(status_line.substr(9, 3));
  if (!status || *status < 100 || *status > 999 ||
      (status_line.size() > 12 && status_line[12] != ' ')) {
    return Corruption("bad status code");
  }
  head.status = static_cast<int>(*status);
  bool keep_alive = false;
  bool close = false;
  std::string_view rest = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
  while (!rest.empty()) {
    size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // the end of the head
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return Corruption("bad header line");
    std::string_view name = line.substr(0, colon);
    std::string_view value = Trim(line.substr(colon + 1));
    if (EqualsIgnoreCase(name, "content-length")) {
      std::optional<uint64_t> length = ParseDecimal(value);
      if (!length) return Corruption("bad Content-Length");
      if (head.has_content_length && head.content_length != *length) {
        return Corruption("conflicting Content-Length");
      }
      head.has_content_length = true;
      head.content_length = *length;
    } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
      bool last_is_chunked = false;
      ForEachToken(value, [&](std::string_view token) {
        last_is_chunked = EqualsIgnoreCase(token, "chunked");
      });
      head.chunked = last_is_chunked;
    } else if (EqualsIgnoreCase(name, "connection")) {
      ForEachToken(value, [&](std::string_view token) {
        if (EqualsIgnoreCase(token, "close")) close = true;
        if (EqualsIgnoreCase(token, "keep-alive")) keep_alive = true;
      });
    } else if (EqualsIgnoreCase(name, "retry-after")) {
      if (std::optional<uint64_t> seconds = ParseDecimal(value)) {
        head.retry_after_seconds = static_cast<int64_t>(*seconds);
      }
    } else if (EqualsIgnoreCase(name, "refuge-challenge")) {
      ParseChallenge(value, &head);
    } else if (EqualsIgnoreCase(name, "set-cookie")) {
      std::string_view cookie = value;
      size_t equals = cookie.find('=');
      if (equals != std::string_view::npos && Trim(cookie.substr(0, equals)) == kClearanceCookie) {
        std::string_view cookie_value = cookie.substr(equals + 1);
        cookie_value = Trim(cookie_value.substr(0, cookie_value.find(';')));
        if (cookie_value.size() >= 2 && cookie_value.front() == '"' && cookie_value.back() == '"') {
          cookie_value = cookie_value.substr(1, cookie_value.size() - 2);
        }
        head.clearance = std::string(cookie_value);
      }
    }
  }
  head.connection_close = close || (head.minor_version == 0 && !keep_alive);
  return head;
}

void ResponseParser::Start(bool head_request) {
  state_ = State::kHead;
  head_request_ = head_request;
  received_any_ = false;
  head_text_.clear();
  head_ = ResponseHead();
  body_mode_ = BodyMode::kNone;
  remaining_ = 0;
  body_bytes_ = 0;
  line_.clear();
  error_.clear();
}

void ResponseParser::Fail(std::string message) {
  state_ = State::kError;
  error_ = std::move(message);
}

size_t ResponseParser::Feed(std::string_view data) {
  size_t used = 0;
  while (used < data.size() && (state_ == State::kHead || state_ == State::kBody)) {
    std::string_view rest = data.substr(used);
    used += state_ == State::kHead ? FeedHead(rest) : FeedBody(rest);
  }
  return used;
}

size_t ResponseParser::FeedHead(std::string_view data) {
  if (!data.empty()) received_any_ = true;
  size_t old_size = head_text_.size();
  size_t room = kMaxResponseHeadBytes + 4 - old_size;
  head_text_.append(data.substr(0, room));
  // The head ends at the first empty line ("\n\r\n" or "\n\n"); search only the new bytes
  // and the three before them.
  size_t from = old_size >= 3 ? old_size - 3 : 0;
  size_t end = std::string::npos;
  for (size_t i = head_text_.find('\n', from); i != std::string::npos;
       i = head_text_.find('\n', i + 1)) {
    if (i + 1 < head_text_.size() && head_text_[i + 1] == '\n') {
      end = i + 2;
      break;
    }
    if (i + 2 < head_text_.size() && head_text_[i + 1] == '\r' && head_text_[i + 2] == '\n') {
      end = i + 3;
      break;
    }
  }
  if (end == std::string::npos) {
    if (head_text_.size() > kMaxResponseHeadBytes) Fail("response head too large");
    return data.size() < room ? data.size() : room;
  }
  size_t used = end - old_size;
  head_text_.resize(end);
  auto parsed = ParseResponseHead(head_text_);
  if (!parsed.ok()) {
    Fail(parsed.status().message());
    return used;
  }
  head_ = std::move(parsed).value();
  int status = head_.status;
  if (status >= 100 && status < 200 && status != 101) {
    // Interim response (100 Continue, 103 Early Hints): the real one follows.
    head_text_.clear();
    head_ = ResponseHead();
    return used;
  }
  state_ = State::kBody;
  if (head_request_ || status == 204 || status == 304 || status == 101) {
    state_ = State::kComplete;
  } else if (head_.chunked) {
    body_mode_ = BodyMode::kChunkSize;
  } else if (head_.has_content_length) {
    body_mode_ = BodyMode::kLength;
    remaining_ = head_.content_length;
    if (remaining_ == 0) state_ = State::kComplete;
  } else {
    body_mode_ = BodyMode::kUntilClose;
  }
  return used;
}

ResponseParser::LineStep ResponseParser::TakeLine(std::string_view data) {
  size_t newline = data.find('\n');
  size_t take = newline == std::string_view::npos ? data.size() : newline;
  if (line_.size() + take > kMaxChunkLineBytes) {
    Fail("chunk line too long");
    return {data.size(), false};
  }
  line_.append(data.substr(0, take));
  if (newline == std::string_view::npos) return {data.size(), false};
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  return {newline + 1, true};
}

size_t ResponseParser::FeedBody(std::string_view data) {
  switch (body_mode_) {
    case BodyMode::kLength:
    case BodyMode::kChunkData: {
      uint64_t take = remaining_ < data.size() ? remaining_ : data.size();
      remaining_ -= take;
      body_bytes_ += take;
      if (remaining_ == 0) {
        if (body_mode_ == BodyMode::kLength) {
          state_ = State::kComplete;
        } else {
          body_mode_ = BodyMode::kChunkDataEnd;
        }
      }
      return static_cast<size_t>(take);
    }
    case BodyMode::kUntilClose:
      body_bytes_ += data.size();
      return data.size();
    case BodyMode::kChunkSize: {
      LineStep step = TakeLine(data);
      if (!step.done) return step.used;
      std::string_view size_text = Trim(std::string_view(line_).substr(0, line_.find(';')));
      uint64_t size = 0;
      auto [end, ec] =
          std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
      if (size_text.empty() || size_text.size() > 15 || ec != std::errc() ||
          end != size_text.data() + size_text.size()) {
        Fail("bad chunk size");
        return step.used;
      }
      line_.clear();
      if (size == 0) {
        body_mode_ = BodyMode::kTrailer;
        remaining_ = kMaxTrailerLines;  // now counts the trailer lines still allowed
      } else {
        body_mode_ = BodyMode::kChunkData;
        remaining_ = size;
      }
      return step.used;
    }
    case BodyMode::kChunkDataEnd: {
      LineStep step = TakeLine(data);
      if (!step.done) return step.used;
      if (!line_.empty()) {
        Fail("chunk data not followed by CRLF");
        return step.used;
      }
      body_mode_ = BodyMode::kChunkSize;
      return step.used;
    }
    case BodyMode::kTrailer: {
      LineStep step = TakeLine(data);
      if (!step.done) return step.used;
      if (line_.empty()) {
        state_ = State::kComplete;
      } else if (--remaining_ == 0) {
        Fail("too many trailer fields");
      }
      line_.clear();
      return step.used;
    }
    case BodyMode::kNone:
      break;
  }
  state_ = State::kComplete;
  return 0;
}

void ResponseParser::FinishOnEof() {
  if (state_ == State::kBody && body_mode_ == BodyMode::kUntilClose) {
    state_ = State::kComplete;
  } else if (state_ == State::kHead || state_ == State::kBody) {
    Fail(received_any_ ? "connection closed in the middle of a response"
                       : "connection closed before a response");
  }
}

std::string BuildGetRequest(std::string_view path, std::string_view host, std::string_view agent,
                            std::string_view cookie, bool close) {
  std::string request;
  request.reserve(128 + path.size() + host.size() + cookie.size());
  request += "GET ";
  request += path;
  request += " HTTP/1.1\r\nHost: ";
  request += host;
  request += "\r\nUser-Agent: ";
  request += agent;
  request += "\r\nAccept: */*\r\n";
  if (!cookie.empty()) {
    request += "Cookie: ";
    request += kClearanceCookie;
    request += '=';
    request += cookie;
    request += "\r\n";
  }
  if (close) request += "Connection: close\r\n";
  request += "\r\n";
  return request;
}

}  // namespace refuge::load
