// Fetcher: how the TUF client and `refuge get` obtain bytes from a URL.
//
// Every fetch is bounded: the caller gives the most bytes it will accept, and a response
// that grows past it is cut off with kTooLarge (TUF's "endless data" defence). A URL that
// does not exist (HTTP 403/404/410, a missing file) is kNotFound, which the root-chain walk
// needs to tell "no newer root" from "the mirror is down" (kUnavailable). HTTP 451 (RFC 7725,
// the mirror withholds the item under a legal demand) is not-found-like too, so that a client
// moves on to another mirror, but it keeps its own message (kBlockedByMirror) so that callers
// can tell a takedown from a missing file: IsBlockedByMirror().
//
// Thread-safety: a Fetcher instance is used by one thread at a time. The BandwidthLimiter an
// HttpFetcherOptions points to may be shared by any number of fetchers and threads.
#ifndef REFUGE_NET_FETCHER_H_
#define REFUGE_NET_FETCHER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "net/bandwidth_limiter.h"

namespace refuge {

// The message part of the kNotFound status of an HTTP 451 answer.
inline constexpr char kBlockedByMirror[] = "blocked by the mirror (451)";
// Is `status` the answer of a mirror that withholds the item (HTTP 451)?
bool IsBlockedByMirror(const Status& status);

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
  // defence: a hostile mirror must not hold a client forever). Time spent waiting for the
  // bandwidth cap counts: with a cap below twice this rate, the rule drops to half the cap;
  // keep the cap well above it times the transfers that run in parallel.
  long low_speed_bytes_per_second = 1024;
  long low_speed_seconds = 20;
  // The whole transfer, connection included, must end within this; 0: no limit (the
  // low-speed rule still applies). Bodies can be large, so a default would have to be huge.
  long total_timeout_ms = 0;
  std::string user_agent = "refuge";
  // HTTP/2 over TLS when the server offers it (ALPN); plain http:// stays HTTP/1.1.
  bool http2 = true;
  // "host:port" of a SOCKS5 proxy (Tor: "127.0.0.1:9050"). Host names are resolved by the
  // proxy (socks5h), so neither the name nor a DNS query leaves through another path. Empty:
  // no SOCKS proxy (libcurl's proxy environment variables apply, as before).
  std::string socks5_proxy;
  // Not owned; may be shared by every fetcher of the process. Null: no cap.
  BandwidthLimiter* bandwidth_limiter = nullptr;
};

// Checks the options a fetcher cannot fix itself (a malformed socks5_proxy). The fetchers
// return the same error from every fetch.
Status ValidateHttpFetcherOptions(const HttpFetcherOptions& options);
// "socks5h://host:port" for a socks5_proxy value ("host:port", "[v6]:port", or already a
// socks5h:// URL). A socks5:// URL is refused: it would resolve names outside the proxy.
Result<std::string> Socks5ProxyUrl(const std::string& host_port);

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
