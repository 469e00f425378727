// URL path helpers shared by the fetchers and (later) the HTTP server.
//
// Thread-safety: pure functions.
#ifndef REFUGE_NET_URL_H_
#define REFUGE_NET_URL_H_

#include <string>
#include <string_view>

#include "common/status.h"

namespace refuge {

// Decodes %XX escapes. Refuses malformed escapes, encoded NUL bytes and, when
// `allow_slash` is false, an encoded '/' (which would change the path's structure).
Result<std::string> PercentDecode(std::string_view s, bool allow_slash);

}  // namespace refuge

#endif  // REFUGE_NET_URL_H_
