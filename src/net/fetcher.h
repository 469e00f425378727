// Fetcher: how the TUF client and `refuge get` obtain bytes from a URL.
//
// Every fetch is bounded: the caller gives the most bytes it will accept, and a response
// that grows past it is cut off with kTooLarge (TUF's "endless data" defence). A URL that
// does not exist (HTTP 403/404/410, a missing file) is kNotFound, which the root-chain walk
// needs to tell "no newer root" from "the mirror is down" (kUnavailable).
//
// Thread-safety: a Fetcher instance is used by one thread at a time.
#ifndef REFUGE_NET_FETCHER_H_
#define REFUGE_NET_FETCHER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace refuge {

class Fetcher {
 public:
  virtual ~Fetcher() = default;

  // Calls `sink` with successive chunks of the body; stops with the sink's error if it fails.
  using Sink = std::function<Status(std::string_view chunk)>;
  virtual Status FetchTo(const std::string& url, uint64_t max_bytes, const Sink& sink) = 0;

  // The whole body in memory.
  Result<std::string> Fetch(const std::string& url, uint64_t max_bytes);
};

struct HttpFetcherOptions {
  long connect_timeout_ms = 10'000;
  // A transfer slower than this many bytes/s for low_speed_seconds is abandoned (slow-drip
  // defence: a hostile mirror must not hold a client forever).
  long low_speed_bytes_per_second = 1024;
  long low_speed_seconds = 20;
  std::string user_agent = "refuge";
};

// HTTP(S) and file:// through libcurl, with connection reuse across calls.
std::unique_ptr<Fetcher> NewHttpFetcher(const HttpFetcherOptions& options = {});

// Percent-encodes a string for use as one URL path segment or file name: everything except
// RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~) is encoded, including '/'. The names
// "." and ".." are encoded entirely, so the result is always a safe single file name.
std::string QuoteSegment(std::string_view s);
// Percent-encodes a path, keeping '/' between segments.
std::string QuotePath(std::string_view path);

}  // namespace refuge

#endif  // REFUGE_NET_FETCHER_H_
