// Notifier: small POSTs to many nodes at once (notify hints and announcements).
//
// A hint says "site S has version N, and I (`from`) hold it":
//
//   POST /.refuge/v1/notify   {"site": "<site id>", "version": N, "from": "http://..."}
//
// Nothing in it is trusted: a receiver only runs a verified refresh (preferring `from`), so a
// forged hint costs at most that. All requests of one call run concurrently (libcurl multi),
// each bounded by a timeout, so an unreachable node delays nobody.
//
// Thread-safety: functions are thread-safe.
#ifndef REFUGE_MIRROR_NOTIFIER_H_
#define REFUGE_MIRROR_NOTIFIER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace refuge::mirror {

inline constexpr char kNotifyPath[] = "/.refuge/v1/notify";
inline constexpr char kAnnouncePath[] = "/.refuge/v1/announce";
inline constexpr char kPeersPath[] = "/.refuge/v1/peers";
inline constexpr char kStatusPath[] = "/.refuge/v1/status";
inline constexpr size_t kMaxHintBytes = 4096;

struct Hint {
  std::string site_id;
  int64_t version = 0;
  std::string from;  // the sender's public URL, may be empty
};

std::string SerializeHint(const Hint& hint);
// Bounded and strict: a valid site ID, a positive version, `from` empty or a node URL.
Result<Hint> ParseHint(std::string_view body);

struct PostOutcome {
  std::string url;
  long http_status = 0;  // 0 when no answer
  std::string error;     // empty on a 2xx answer
};

// POSTs `body` as application/json to every URL concurrently.
std::vector<PostOutcome> PostToAll(const std::vector<std::string>& urls, const std::string& body,
                                   long timeout_ms, const std::string& socks5_proxy = "");

}  // namespace refuge::mirror

#endif  // REFUGE_MIRROR_NOTIFIER_H_
