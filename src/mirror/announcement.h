// Announcement: how a mirror tells a site's publisher "I mirror your site, here".
//
// A mirror POSTs to /.refuge/v1/announce of the nodes it syncs from:
//
//   {"signed": {"_type": "announce", "site": "<site id>", "urls": ["http://..."],
//               "key": "<hex ed25519 public key>", "time": <unix seconds>},
//    "signature": "<hex ed25519 signature of the canonical JSON of signed>"}
//
// signed with the mirror node's own key (NodeKey). The signature proves the sender holds the
// key, so announcements from one mirror are recognised as such and cannot be altered on the
// way; `time` must be within kAnnounceMaxSkewSeconds of the receiver's clock, which bounds
// replays. What the publisher does with it is its decision (`refuge mirrors accept`):
// accepted mirrors go into the site's signed mirror list (node/mirror_list.h).
//
// Thread-safety: pure functions (NodeKey is thread-safe for signing).
#ifndef REFUGE_MIRROR_ANNOUNCEMENT_H_
#define REFUGE_MIRROR_ANNOUNCEMENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "crypto/ed25519.h"
#include "store/node_db.h"

namespace refuge::mirror {

inline constexpr int64_t kAnnounceMaxSkewSeconds = 600;
inline constexpr size_t kMaxAnnouncedUrls = 8;
inline constexpr size_t kMaxAnnouncementBytes = 32 * 1024;

// The node's own signing key, <home>/keys/node.pem (created on first use, mode 0600).
Result<std::shared_ptr<const Ed25519PrivateKey>> LoadOrCreateNodeKey(const std::string& home_path);

// The body to POST.
Result<std::string> MakeAnnouncement(const Ed25519PrivateKey& key, const std::string& site_id,
                                     const std::vector<std::string>& urls, int64_t now);

// Parses and checks an announcement (signature, site ID form, URLs, time window). The row's
// `sender` and `status` are left for the caller.
Result<AnnouncementRow> VerifyAnnouncement(std::string_view body, int64_t now);

}  // namespace refuge::mirror

#endif  // REFUGE_MIRROR_ANNOUNCEMENT_H_
