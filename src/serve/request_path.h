// Decoding a request target's path for lookup among a site's signed targets.
//
// The decoded path is only ever used as a key into a publication's file list, never as a
// file system path; still, anything that could mean something different to another
// component is refused with 400 rather than normalized: "." and ".." segments (plain or
// percent-encoded), encoded "/" or "\", a raw "\", NUL and other control characters,
// malformed percent escapes, empty segments ("a//b"), a fragment, and paths longer than
// limits::kMaxTargetPathBytes plus the route's prefix. The query string is ignored.
//
// Thread-safety: stateless.
#ifndef REFUGE_SERVE_REQUEST_PATH_H_
#define REFUGE_SERVE_REQUEST_PATH_H_

#include <cstddef>
#include <string_view>

namespace refuge::serve {

// The longest decoded path accepted: a target path plus room for "/s/<site-id>/".
inline constexpr size_t kMaxDecodedPathBytes = 2048 + 64;

// Decodes the path part of `target` (origin-form, starting with "/") into `out`, which must
// hold kMaxDecodedPathBytes bytes. Returns false (answer 400) if the path is refused.
// `*decoded` views `out`, starting with "/"; a trailing "/" is kept.
bool DecodeRequestPath(std::string_view target, char* out, std::string_view* decoded);

// The target without its query: what must be matched literally (still percent-encoded).
std::string_view StripQuery(std::string_view target);

}  // namespace refuge::serve

#endif  // REFUGE_SERVE_REQUEST_PATH_H_
