// Internals shared by the libcurl fetchers (fetcher.cc, mirror_fetcher.cc): global
// initialisation, the options every transfer gets, and what an HTTP status means to a
// fetcher. Not for use outside src/net/.
//
// Thread-safety: GlobalInitOnce() is thread-safe; the rest act on one easy handle, which
// belongs to one thread.
#ifndef REFUGE_NET_CURL_COMMON_H_
#define REFUGE_NET_CURL_COMMON_H_

#include <curl/curl.h>

#include <cstdint>
#include <string>

#include "net/fetcher.h"

namespace refuge::curl_internal {

// curl_global_init, once per process (aborts if libcurl cannot initialise).
void GlobalInitOnce();

// Sets what every transfer of a refuge fetcher has: allowed protocols (http, https, file), no
// redirects, no signals, the timeouts and low-speed rule, the user agent, the HTTP version,
// the SOCKS5 proxy (`proxy_url` from Socks5ProxyUrl, or empty) and the announced-size cap
// (`max_bytes`). The URL, callbacks and Range are the caller's.
void ApplyOptions(CURL* curl, const HttpFetcherOptions& options, const std::string& proxy_url,
                  uint64_t max_bytes);

// What an HTTP status means for a fetch: 2xx data; 403, 404, 410 the item does not exist
// there; 451 the mirror withholds it; anything else the mirror failed.
enum class HttpAnswer { kData, kNotFound, kBlocked, kError };
HttpAnswer ClassifyHttpCode(long code);

}  // namespace refuge::curl_internal

#endif  // REFUGE_NET_CURL_COMMON_H_
