// MirrorFetcher: one Fetcher over several refuge nodes that serve the same data, with
// failover and racing, so that a reader gets a site as long as any one mirror works and a dead
// mirror costs about a second.
//
// URLs have the form "mirror:/.refuge/v1/..." (like "node:" in node/site_repository.h); each
// fetch goes to "<base>/.refuge/v1/..." on one mirror at a time, or two while they race. All
// transfers of a fetch run on the calling thread through the libcurl multi interface; the
// connection cache lives as long as the fetcher.
//
// The rules of one fetch:
//
//  1. Order. The mirror that served the last successful fetch goes first; then the others in
//     their list order, those whose last attempt failed (unreachable, stalled, broken) after
//     those that worked. Excluded mirrors (Exclude()) are never asked.
//  2. Hedging. If no mirror has delivered a body byte `hedge_delay_ms` after the last attempt
//     started, the next mirror starts as well. The first attempt to deliver a body byte (or to
//     complete an empty 2xx body) wins; the others are cancelled.
//  3. Moving on. A mirror that answers not-found (HTTP 403, 404, 410), blocked (451), an error
//     status, or cannot be reached, is replaced by the next mirror at once.
//  4. Stalls. An attempt that has received nothing for `stall_ms` is abandoned ("stalled") when
//     there is something else to do: another mirror to start, another attempt running, or a
//     not-found answer to return. The last hope is left to libcurl's own bounds (connect
//     timeout, low-speed rule, total timeout), so one slow mirror still works alone.
//  5. Small bodies (max_bytes <= whole_body_max_bytes, 4 MiB: metadata) are buffered whole and
//     reach the sink only complete; a failure or stall of the winner restarts from byte 0 on
//     the next mirror. Large bodies stream to the sink; after a mid-stream failure or stall the
//     next mirror resumes at the byte offset already delivered (a Range request; a server that
//     ignores Range and answers 200 is read from the start, the bytes already delivered
//     skipped). Resuming is only safe where every mirror must serve the very same bytes, so it
//     is allowed only for immutable URLs (IsImmutableRefugeUrl: objects and consistent-snapshot
//     targets); for any other URL a failure after bytes were delivered fails the fetch.
//  6. Bounds. Each mirror is asked at most once per fetch, and at most `max_attempts` attempts
//     start in all. The fetch also ends, with kNotFound, as soon as `not_found_quorum` mirrors
//     have answered not-found: a file that does not exist (the next root version, asked on
//     every refresh) must not cost a request to every mirror, nor wait for silent ones.
//
// The result:
//  - OK when one mirror delivered the whole body (with resumes: the mirrors together).
//  - The sink's error, unchanged, when the sink fails.
//  - kNotFound when no mirror delivered a byte and at least one mirror answered not-found or
//    blocked. Mirrors that could not be reached, failed or stalled do not turn that answer into
//    kUnavailable: during an attack unreachable mirrors are the normal case, an answer from a
//    reachable one is the best information there is, and the TUF root-chain walk must see
//    "no newer root" (kNotFound) even while one mirror is down. When every not-found answer was
//    a 451, the message contains kBlockedByMirror (IsBlockedByMirror() holds).
//  - kTooLarge when no mirror delivered and one sent more than max_bytes (endless data), and
//    none answered not-found.
//  - kUnavailable otherwise: every mirror tried failed, or a failure after bytes were
//    delivered could not be resumed. The message names each mirror and what it did.
//
// The fetcher does not know what the bytes should hash to: its caller (the TUF updater) checks
// them and, on a mismatch, calls Exclude() on the mirrors that delivered them
// (last_contributors()) and fetches again.
//
// Thread-safety: like every Fetcher, one thread at a time.
#ifndef REFUGE_NET_MIRROR_FETCHER_H_
#define REFUGE_NET_MIRROR_FETCHER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/fetcher.h"

namespace refuge {

inline constexpr char kMirrorUrlScheme[] = "mirror:";

struct MirrorFetcherOptions {
  HttpFetcherOptions http;  // per transfer: timeouts, low-speed rule, proxy, cap, user agent
  long hedge_delay_ms = 1000;
  long stall_ms = 2000;
  int max_attempts = 8;
  int not_found_quorum = 2;
  // Bodies up to this size are buffered whole; larger ones stream (rule 5).
  uint64_t whole_body_max_bytes = 4 * 1024 * 1024;
};

// What one attempt on one mirror came to.
enum class MirrorOutcome {
  kNotTried,
  kServed,       // delivered the body (or, with resumes, its part of it)
  kNotFound,     // HTTP 403, 404, 410
  kBlocked,      // HTTP 451
  kUnreachable,  // no connection (refused, unresolvable, timed out, proxy failure, TLS)
  kFailed,       // an error status, a broken transfer, a bad Range answer
  kStalled,      // nothing received for stall_ms
  kTooLarge,     // more than max_bytes
  kCancelled,    // lost the race, or the fetch ended first
  kExcluded,     // never asked: it served data that did not verify (Exclude())
};
const char* MirrorOutcomeName(MirrorOutcome outcome);

struct MirrorAttempt {
  size_t mirror = 0;
  MirrorOutcome outcome = MirrorOutcome::kNotTried;
  std::string detail;     // "HTTP 503", "Connection refused", "stalled after 65536 bytes"
  uint64_t offset = 0;    // where the attempt started (a resume asks for bytes offset-)
  uint64_t bytes = 0;     // body bytes received from this mirror
  int64_t elapsed_ms = 0;
};

// A mirror's record across the fetches of this fetcher, for reports.
struct MirrorState {
  std::string base_url;
  MirrorOutcome last_outcome = MirrorOutcome::kNotTried;
  std::string last_detail;
  int served = 0;     // fetches it delivered (all or part of)
  int not_found = 0;  // not-found and blocked answers
  int failures = 0;   // unreachable, failed, stalled, too large
  bool excluded = false;
  std::string excluded_reason;
};

class MirrorFetcher : public Fetcher {
 public:
  // FetchTo/Fetch take "mirror:/.refuge/v1/..." URLs; anything else is kInvalidArgument.

  virtual size_t mirror_count() const = 0;
  virtual const std::string& base_url(size_t mirror) const = 0;
  // The mirror that delivered the last successful fetch (the last bytes of it), if any.
  virtual std::optional<size_t> last_served() const = 0;
  // The mirrors that delivered bytes to the sink in the last fetch, in order.
  virtual std::vector<size_t> last_contributors() const = 0;
  // Every attempt of the last fetch, in the order they started.
  virtual const std::vector<MirrorAttempt>& last_attempts() const = 0;
  virtual std::vector<MirrorState> states() const = 0;
  // This mirror served data that did not verify: never ask it again.
  virtual void Exclude(size_t mirror, const std::string& reason) = 0;
  // How many mirrors are not excluded.
  virtual size_t usable_count() const = 0;
};

// `base_urls` are node URLs ("http://10.0.0.3:8080", trailing slashes ignored); duplicates are
// dropped. An empty list, a URL that is not http(s), or bad options (a malformed proxy) make
// every fetch fail with kInvalidArgument.
std::unique_ptr<MirrorFetcher> NewMirrorFetcher(std::vector<std::string> base_urls,
                                                MirrorFetcherOptions options = {});

// Is this URL path (below the node root, e.g. "/.refuge/v1/objects/<sha256>") one whose bytes
// can never change: an object, or a consistent-snapshot target ".../targets/<dir>/<sha256>.<name>"?
bool IsImmutableRefugeUrl(std::string_view path);

}  // namespace refuge

#endif  // REFUGE_NET_MIRROR_FETCHER_H_
