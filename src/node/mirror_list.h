// MirrorList: the site's signed list of mirrors, published as the target `.refuge/mirrors.json`.
//
// Because it is an ordinary target, every TUF client verifies it like any file of the site:
// a reader who trusts the site trusts its list of mirrors, and no central directory is
// needed. The publisher writes it from the announcements it accepted (`refuge mirrors
// accept`); readers (`refuge get`) and mirrors use it to find other copies.
//
//   {"site": "<site id>", "updated": <unix seconds>,
//    "mirrors": [{"url": "http://203.0.113.7:8080", "key": "<hex ed25519>", "role": "mirror"},
//                {"url": "https://example.org", "key": "", "role": "origin"}]}
//
// Parsing is bounded (kMaxMirrorListEntries, kMaxMirrorUrlBytes) and only http(s) URLs are
// kept. Thread-safety: pure functions.
#ifndef REFUGE_NODE_MIRROR_LIST_H_
#define REFUGE_NODE_MIRROR_LIST_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace refuge {

inline constexpr char kMirrorListTarget[] = ".refuge/mirrors.json";
inline constexpr size_t kMaxMirrorListEntries = 256;
inline constexpr size_t kMaxMirrorUrlBytes = 2048;
inline constexpr uint64_t kMaxMirrorListBytes = 1024 * 1024;

struct MirrorEntry {
  std::string url;   // base URL of the node, without a trailing slash
  std::string key;   // the mirror node's public key (hex), empty for the origin
  std::string role;  // "origin" or "mirror"
};

struct MirrorList {
  std::string site_id;
  int64_t updated = 0;
  std::vector<MirrorEntry> mirrors;
};

Result<MirrorList> ParseMirrorList(std::string_view bytes);
// Canonical JSON bytes (stable: the same list gives the same object).
std::string SerializeMirrorList(const MirrorList& list);

// Is `url` an acceptable node base URL: http or https, a host, no query or fragment, at most
// kMaxMirrorUrlBytes, no control characters or spaces? Returns it without a trailing slash.
Result<std::string> NormalizeNodeUrl(std::string_view url);

}  // namespace refuge

#endif  // REFUGE_NODE_MIRROR_LIST_H_
