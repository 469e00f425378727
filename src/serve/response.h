// Response: what a request handler decides, and how its head is written.
//
// A handler fills a Response (status, validators, caching, body source); the connection
// writes the head with FormatResponseHead into its own buffer and sends the body from
// memory (an ObjectCache entry or a static page) or from a file with sendfile. Nothing here
// allocates: views point to static strings, catalog entries or the connection's buffers.
//
// Thread-safety: values owned by one connection.
#ifndef REFUGE_SERVE_RESPONSE_H_
#define REFUGE_SERVE_RESPONSE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "common/unique_fd.h"
#include "serve/catalog.h"

namespace refuge::serve {

inline constexpr std::string_view kImmutableCacheControl = "public, max-age=31536000, immutable";
inline constexpr std::string_view kNoStoreCacheControl = "no-store";

struct Response {
  int status = 200;
  std::string_view content_type;
  std::string_view cache_control;
  std::string_view etag_hex;  // the object's SHA-256: ETag "<hex>" (a strong validator)
  int64_t last_modified = -1;
  std::string_view location;  // 301/308
  std::string_view allow;     // 405 and OPTIONS
  std::string_view link;      // 451: the Link field value naming who blocks (RFC 7725)
  // A site's content whose signed metadata expired (the publisher has not re-signed it): the
  // last verified version is still served, with "Refuge-Stale: <date it expired>".
  int64_t stale_since = -1;
  // The shield: 429's Retry-After (seconds; 0: none), the clearance cookie (the whole
  // Set-Cookie value) and a challenge's "Refuge-Challenge: <seed> <bits>" value.
  uint32_t retry_after = 0;
  std::string_view set_cookie;
  std::string_view challenge;
  bool head_only = false;     // HEAD: the head a GET would get, without the body
  bool close = false;         // Connection: close after this response

  enum class Body : uint8_t { kNone, kMemory, kFile };
  Body body = Body::kNone;
  std::string_view memory;                  // kMemory: the whole representation
  std::shared_ptr<const void> memory_hold;  // keeps `memory` alive while it is sent
  UniqueFd file;                            // kFile: the whole representation
  uint64_t total_length = 0;                // the representation's length
  // 206: the inclusive byte range sent. 416: Content-Range "bytes */total_length".
  bool partial = false;
  uint64_t first = 0;
  uint64_t last = 0;

  SiteCounters* site = nullptr;  // counted for the site, when it is a site's content

  // Bytes of body this response sends.
  uint64_t BodyBytes() const {
    if (head_only || body == Body::kNone) return 0;
    return partial ? last - first + 1 : total_length;
  }
  void Reset() { *this = Response(); }
};

// Room FormatResponseHead needs at most, with `location` of up to kMaxDecodedPathBytes (a
// 451's `link` is shorter: node/block_list.h bounds its URI to 512 bytes).
inline constexpr size_t kMaxResponseHeadBytes = 3072;

// Writes the status line and header fields (ending with the empty line) into `out`
// (kMaxResponseHeadBytes bytes). `date` is the cached IMF-fixdate. Returns the length.
size_t FormatResponseHead(const Response& r, std::string_view date, char* out);

const char* ReasonPhrase(int status);

// A small static HTML page for an error or redirect status.
std::string_view ErrorPage(int status);

// Fills `r` with a static error page for `status` (body in memory, no-store).
void SetErrorResponse(Response* r, int status);

// --- 451 Unavailable For Legal Reasons (RFC 7725) ------------------------------------------
// A blocked item's link and page are built once, when the node loads its blocks; answering
// with them does not allocate.

// The Link field value of a 451: `<uri>; rel="blocked-by"` (the entity implementing the
// block). `uri` is a checked URI (ValidateBlockedBy in node/block_list.h).
std::string BlockedByLink(std::string_view uri);

// The HTML page of a 451 for `item` ("<site-id>/<path>", or the site ID alone), with the
// reason and the blocking entity (a link when it is an http(s) URL), everything escaped.
// `since` is when the block was added (seconds since the epoch).
std::string UnavailableForLegalReasonsPage(std::string_view item, std::string_view reason,
                                           std::string_view blocked_by, int64_t since);

// Fills `r` with a 451: `link` and `page` (as built above) are kept alive by `hold`.
void SetUnavailableForLegalReasons(Response* r, std::string_view link, std::string_view page,
                                   std::shared_ptr<const void> hold);

}  // namespace refuge::serve

#endif  // REFUGE_SERVE_RESPONSE_H_
