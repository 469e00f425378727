// An incremental HTTP/1.1 response parser for refuge-load's clients, and request builders.
//
// The parser is fed whatever a read returned and says when one response is complete. It
// keeps only the head (bounded by kMaxResponseHeadBytes; past that the response is an error)
// and counts body bytes without storing them. Bodies are delimited as RFC 9112 6.3 says: none
// for HEAD, 1xx, 204 and 304; chunked; Content-Length; otherwise until the server closes.
// Interim 1xx responses are skipped. From the head it extracts only what the load generator
// acts on: the status, framing, Connection: close, Retry-After, the shield's
// `Refuge-Challenge: <seed> <bits>` and the `refuge_clearance` cookie of a Set-Cookie.
//
// It is lenient where a client can afford it (bare LF line ends, any reason phrase) and
// strict where framing is at stake (a malformed or conflicting Content-Length, a bad chunk
// size are errors).
//
// Thread-safety: a value used by one connection.
#ifndef REFUGE_TOOLS_LOAD_HTTP_RESPONSE_H_
#define REFUGE_TOOLS_LOAD_HTTP_RESPONSE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace refuge::load {

inline constexpr size_t kMaxResponseHeadBytes = 64 * 1024;
inline constexpr std::string_view kClearanceCookie = "refuge_clearance";

struct ResponseHead {
  int status = 0;
  int minor_version = 1;
  bool has_content_length = false;
  uint64_t content_length = 0;
  bool chunked = false;
  bool connection_close = false;  // Connection: close, or HTTP/1.0 without keep-alive
  int64_t retry_after_seconds = -1;
  bool has_challenge = false;  // a well-formed Refuge-Challenge header
  std::string challenge_seed;
  int challenge_bits = 0;
  std::string clearance;  // value of a Set-Cookie: refuge_clearance=<value>; ...
};

// Parses a complete head (status line and fields, with or without the final empty line).
Result<ResponseHead> ParseResponseHead(std::string_view head);

class ResponseParser {
 public:
  enum class State { kHead, kBody, kComplete, kError };

  // Prepares for the next response; `head_request`: the request was HEAD (no body).
  void Start(bool head_request = false);
  // Consumes bytes of the current response and returns how many were used; stops at the end
  // of the response (kComplete) or at an error. Bytes past the end belong to the next one.
  size_t Feed(std::string_view data);
  // The peer closed: completes a close-delimited body; anything else unfinished is an error.
  void FinishOnEof();

  State state() const { return state_; }
  bool complete() const { return state_ == State::kComplete; }
  bool failed() const { return state_ == State::kError; }
  bool received_any() const { return received_any_; }
  const ResponseHead& head() const { return head_; }
  uint64_t body_bytes() const { return body_bytes_; }
  const std::string& error() const { return error_; }

 private:
  enum class BodyMode {
    kNone,
    kLength,
    kChunkSize,
    kChunkData,
    kChunkDataEnd,
    kTrailer,
    kUntilClose,
  };

  size_t FeedHead(std::string_view data);
  size_t FeedBody(std::string_view data);
  // Reads (part of) one line into line_: the bytes used, and whether the line is complete.
  struct LineStep {
    size_t used = 0;
    bool done = false;
  };
  LineStep TakeLine(std::string_view data);
  void Fail(std::string message);

  State state_ = State::kHead;
  bool head_request_ = false;
  bool received_any_ = false;
  std::string head_text_;
  ResponseHead head_;
  BodyMode body_mode_ = BodyMode::kNone;
  uint64_t remaining_ = 0;  // of a fixed-length body or of the current chunk
  uint64_t body_bytes_ = 0;
  std::string line_;  // a chunk-size or trailer line in progress (bounded)
  std::string error_;
};

// A GET request head. `cookie` is the value of refuge_clearance, or empty.
std::string BuildGetRequest(std::string_view path, std::string_view host, std::string_view agent,
                            std::string_view cookie, bool close);

}  // namespace refuge::load

#endif  // REFUGE_TOOLS_LOAD_HTTP_RESPONSE_H_
