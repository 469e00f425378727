#include "net/curl_common.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <mutex>

namespace refuge::curl_internal {

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) std::abort();
  });
}

void ApplyOptions(CURL* curl, const HttpFetcherOptions& options, const std::string& proxy_url,
                  uint64_t max_bytes) {
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https,file");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, options.connect_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, options.total_timeout_ms);
  long low_speed = options.low_speed_bytes_per_second;
  if (options.bandwidth_limiter != nullptr && low_speed > 0) {
    // A cap below the low-speed rule would make every capped transfer look like a slow drip.
    const uint64_t cap = options.bandwidth_limiter->bytes_per_second() / 2;
    if (static_cast<uint64_t>(low_speed) > cap) low_speed = static_cast<long>(cap > 0 ? cap : 1);
  }
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, low_speed);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, options.low_speed_seconds);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options.user_agent.c_str());
  // CURL_HTTP_VERSION_2TLS: HTTP/2 where TLS negotiates it, HTTP/1.1 for plain http.
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION,
                   options.http2 ? static_cast<long>(CURL_HTTP_VERSION_2TLS)
                                 : static_cast<long>(CURL_HTTP_VERSION_1_1));
  if (!proxy_url.empty()) {
    curl_easy_setopt(curl, CURLOPT_PROXY, proxy_url.c_str());
    // Every host goes through the proxy, whatever NO_PROXY says.
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "");
  }
  // A server that announces more than we accept is refused before any byte is read.
  const uint64_t cap = std::min<uint64_t>(max_bytes, std::numeric_limits<curl_off_t>::max());
  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(cap));
}

HttpAnswer ClassifyHttpCode(long code) {
  if (code >= 200 && code < 300) return HttpAnswer::kData;
  if (code == 403 || code == 404 || code == 410) return HttpAnswer::kNotFound;
  if (code == 451) return HttpAnswer::kBlocked;
  return HttpAnswer::kError;
}

}  // namespace refuge::curl_internal
