// The HTTP/1.1 request parser of `refuge serve` (RFC 9112), strict and allocation-free.
//
// Why not Boost.Beast's parser: Beast accepts obs-fold (it unfolds it), keeps every field in
// heap-allocated nodes, and leaves smuggling-relevant choices (a Content-Length repeated with
// the same value, Transfer-Encoding lists) to the caller. A node facing hostile clients wants
// the opposite: refuse everything ambiguous, allocate nothing, and stop at a fixed size. Like
// picohttpparser (h2o), this parser works on a caller-owned buffer, returns views into it,
// and is fuzzed (fuzz/http_parser_fuzzer.cc).
//
// What is refused (status 400 unless said otherwise; the server then closes the connection):
//   - anything but CRLF line endings (bare CR, bare LF), control characters, NUL;
//   - a request line that is not `method SP request-target SP HTTP/1.x` with single spaces
//     (HTTP/2+ or HTTP/0.9 gets 505);
//   - header names that are not tokens, whitespace before the colon, obs-fold;
//   - a head longer than the limit or more header fields than the limit;
//   - Content-Length that is not a plain decimal number, or given twice (even if equal);
//   - Transfer-Encoding other than exactly "chunked", given twice, with Content-Length,
//     or in an HTTP/1.0 request;
//   - a missing Host in HTTP/1.1, two Host fields, or a Host with invalid characters.
// Up to kMaxLeadingEmptyLines empty lines before the request line are skipped (RFC 9112 2.2).
//
// Thread-safety: stateless functions; ChunkedDecoder is a value used by one connection.
#ifndef REFUGE_SERVE_HTTP_PARSER_H_
#define REFUGE_SERVE_HTTP_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "crypto/sha256.h"

namespace refuge::serve {

enum class Method : uint8_t { kGet, kHead, kPost, kOptions, kOther };

struct ParseLimits {
  size_t max_head_bytes = 8 * 1024;  // request line + fields + the empty line
  int max_header_count = 64;
};

// What the server needs from a request head. Views point into the parsed buffer.
struct RequestHead {
  Method method = Method::kOther;
  std::string_view method_text;
  std::string_view target;  // the path and query (origin-form), or "*"
  int minor_version = 1;    // HTTP/1.<minor_version>
  std::string_view host;    // the Host field, or the authority of an absolute-form target
  std::string_view range;
  std::string_view if_none_match;
  std::string_view if_modified_since;
  std::string_view if_range;
  std::string_view user_agent;  // for the opt-in access log only
  std::string_view referer;     // idem
  std::string_view cookie;      // the first Cookie field, for the shield's clearance
  bool keep_alive = true;       // after the Connection field and the version's default
  bool chunked = false;
  bool has_content_length = false;
  uint64_t content_length = 0;
  bool expect_continue = false;
  int header_count = 0;
  size_t head_bytes = 0;  // bytes the head took in the buffer, leading empty lines included
  // The decoded body of a POST, set by the connection once it has been read whole (bounded
  // by the server's max_body_bytes). Bodies of other methods are read through and dropped.
  std::string_view body;
  // The client's address ("192.0.2.7"), set by the connection for POST requests only.
  std::string_view peer_address;
};

enum class ParseStatus { kComplete, kIncomplete, kError };

struct ParseError {
  int http_status = 400;
  const char* reason = "";  // a short static English phrase for the error page
};

// Parses one request head at the start of [data, data + size). On kComplete fills `head`;
// on kIncomplete nothing is decided yet (more bytes are needed; `size` is still under the
// limit); on kError fills `error`.
ParseStatus ParseRequestHead(const char* data, size_t size, const ParseLimits& limits,
                             RequestHead* head, ParseError* error);

// Incremental decoder of a chunked body (RFC 9112 7.1), strict: chunk sizes are 1 to 16
// hex digits, chunk extensions and trailer fields are bounded and otherwise ignored, lines
// end in CRLF. The decoded data is passed to the caller as views; nothing is copied.
class ChunkedDecoder {
 public:
  // Extensions and trailers together may not exceed this many bytes per body.
  static constexpr size_t kMaxMetadataBytes = 4096;

  enum class Result { kDone, kNeedMore, kError };

  // Consumes bytes from [data, data + size); sets *consumed. Each piece of body data found
  // is given to `on_data` (a callable taking std::string_view). kDone once the last chunk
  // and the trailers are consumed; bytes after that belong to the next request.
  template <typename OnData>
  Result Feed(const char* data, size_t size, size_t* consumed, OnData&& on_data);

  uint64_t body_bytes() const { return body_bytes_; }

 private:
  enum class State : uint8_t {
    kSize, kExtension, kSizeLf, kData, kDataCr, kDataLf, kTrailerStart, kTrailer, kTrailerLf,
    kFinalLf, kDone, kError
  };
  State state_ = State::kSize;
  int size_digits_ = 0;
  uint64_t chunk_left_ = 0;
  uint64_t body_bytes_ = 0;
  size_t metadata_bytes_ = 0;
  bool StepMetadata();
};

// Parses an HTTP date in any of the three formats a recipient must accept (RFC 9110 5.6.7):
// IMF-fixdate, RFC 850, asctime. Returns false if malformed.
bool ParseHttpDate(std::string_view text, int64_t* seconds_since_epoch);
// Writes IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", 29 bytes) into `out`.
inline constexpr size_t kHttpDateLength = 29;
void FormatHttpDate(int64_t seconds_since_epoch, char out[kHttpDateLength]);

// ---------------------------------------------------------------------------------------
// Implementation of the template.

template <typename OnData>
ChunkedDecoder::Result ChunkedDecoder::Feed(const char* data, size_t size, size_t* consumed,
                                            OnData&& on_data) {
  size_t i = 0;
  while (i < size && state_ != State::kDone && state_ != State::kError) {
    char c = data[i];
    switch (state_) {
      case State::kSize: {
        int v = HexDigitValue(c);
        if (v >= 0) {
          if (++size_digits_ > 16) { state_ = State::kError; break; }
          chunk_left_ = (chunk_left_ << 4) | static_cast<uint64_t>(v);
          ++i;
        } else if (size_digits_ == 0) {
          state_ = State::kError;
        } else if (c == ';') {
          state_ = State::kExtension;
          ++i;
        } else if (c == '\r') {
          state_ = State::kSizeLf;
          ++i;
        } else {
          state_ = State::kError;  // whitespace, signs, "0x" and the like are not allowed
        }
        break;
      }
      case State::kExtension:
        // chunk-ext is ignored, but bounded, and may not hold control characters.
        if (!StepMetadata()) break;
        if (c == '\r') {
          state_ = State::kSizeLf;
        } else if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
          state_ = State::kError;
          break;
        }
        ++i;
        break;
      case State::kSizeLf:
        if (c != '\n') { state_ = State::kError; break; }
        ++i;
        size_digits_ = 0;
        state_ = chunk_left_ == 0 ? State::kTrailerStart : State::kData;
        break;
      case State::kData: {
        size_t n = size - i;
        if (n > chunk_left_) n = static_cast<size_t>(chunk_left_);
        on_data(std::string_view(data + i, n));
        i += n;
        chunk_left_ -= n;
        body_bytes_ += n;
        if (chunk_left_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        if (c != '\r') { state_ = State::kError; break; }
        ++i;
        state_ = State::kDataLf;
        break;
      case State::kDataLf:
        if (c != '\n') { state_ = State::kError; break; }
        ++i;
        state_ = State::kSize;
        break;
      case State::kTrailerStart:
        if (c == '\r') {
          state_ = State::kFinalLf;
        } else {
          state_ = State::kTrailer;
          break;  // re-examine c as part of a trailer field
        }
        ++i;
        break;
      case State::kTrailer:
        if (!StepMetadata()) break;
        if (c == '\r') {
          state_ = State::kTrailerLf;
        } else if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
          state_ = State::kError;
          break;
        }
        ++i;
        break;
      case State::kTrailerLf:
        if (c != '\n') { state_ = State::kError; break; }
        ++i;
        state_ = State::kTrailerStart;
        break;
      case State::kFinalLf:
        if (c != '\n') { state_ = State::kError; break; }
        ++i;
        state_ = State::kDone;
        break;
      case State::kDone:
      case State::kError:
        break;
    }
  }
  *consumed = i;
  if (state_ == State::kError) return Result::kError;
  return state_ == State::kDone ? Result::kDone : Result::kNeedMore;
}

inline bool ChunkedDecoder::StepMetadata() {
  if (++metadata_bytes_ > kMaxMetadataBytes) {
    state_ = State::kError;
    return false;
  }
  return true;
}

}  // namespace refuge::serve

#endif  // REFUGE_SERVE_HTTP_PARSER_H_
