// Follower: the mirror side of `refuge serve`, one background thread.
//
// For every site the node follows it runs SyncSite (mirror/site_sync.h): on an interval with
// jitter (so that a crowd of mirrors does not hit its sources in step), and at once when a
// hint arrives (POST /.refuge/v1/notify, offered by the event loops). A hint for a version
// the node already serves costs nothing; any other costs one verified refresh, preferring the
// hint's sender as the source. Hints are rate-limited per sender address.
//
// When the server's catalog starts serving a newer version of a site (CatalogServes, called
// after each reload: a sync here, or a `refuge publish` in another process), the follower
// passes a hint on, once the event loops serve it: for a mirrored site to its other known
// nodes (sources, signed mirror list, peers; at most kMaxNotifyTargets; not back to the hint's
// sender); for a site this node publishes to the accepted mirrors, `origin_fanout` of them at
// once and the others `origin_fanout_delay_ms` later, so that most mirrors get the new
// version from each other rather than all from the publisher. Notifying only what is served
// matters: a hint that arrives before the sender serves the version would cost a refresh for
// nothing.
//
// It also announces this node to the sources of each followed site (when it has public
// URLs), learns peers from hints, from the signed mirror list and from its sources'
// /.refuge/v1/peers (untrusted, bounded), records announcements received by the event loops,
// and keeps the JSON bodies of /.refuge/v1/peers and /.refuge/v1/status up to date.
//
// Thread-safety: Offer*() and the *_json() getters may be called from any thread.
#ifndef REFUGE_MIRROR_FOLLOWER_H_
#define REFUGE_MIRROR_FOLLOWER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "crypto/ed25519.h"
#include "mirror/notifier.h"
#include "mirror/site_sync.h"
#include "node/node_home.h"
#include "store/node_db.h"

namespace refuge::mirror {

inline constexpr size_t kMaxNotifyTargets = 32;
inline constexpr size_t kMaxQueuedHints = 1024;
inline constexpr size_t kMaxQueuedAnnouncements = 256;
inline constexpr size_t kMaxPendingAnnouncementsPerSite = 1000;
inline constexpr size_t kMaxTrackedSenders = 4096;
inline constexpr size_t kMaxPeersListed = 32;

struct FollowerOptions {
  std::string home_path;
  std::vector<std::string> public_urls;  // how other nodes reach this one (may be empty)
  int64_t refresh_interval_seconds = 300;  // each site, +/- 20 % jitter
  int origin_fanout = 1;
  int64_t origin_fanout_delay_ms = 5'000;
  int64_t announce_interval_seconds = 6 * 3600;
  long notify_timeout_ms = 3'000;
  // Hints accepted per sender address: a burst, then one per this many milliseconds.
  int hint_burst = 20;
  int64_t hint_refill_ms = 1'000;
  SyncOptions sync;  // http options and parallelism of every sync
  // Asks the server to reload its catalog now (after a sync committed a new version).
  std::function<void()> request_reload;
};

class Follower {
 public:
  explicit Follower(FollowerOptions options);
  ~Follower();
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  Status Start();
  void Stop();  // cancels a running sync between objects and joins the thread

  enum class Verdict { kAccepted, kRateLimited, kBusy };
  Verdict OfferHint(const Hint& hint, std::string_view sender_address);
  Verdict OfferAnnouncement(AnnouncementRow row, std::string_view sender_address);

  // Bodies of GET /.refuge/v1/peers and /.refuge/v1/status (never null once started).
  std::shared_ptr<const std::string> peers_json() const;
  std::shared_ptr<const std::string> status_json() const;

  // The versions the event loops serve from now on (site ID -> version), after a reload.
  void CatalogServes(std::map<std::string, int64_t> versions);

 private:
  struct SiteState {
    bool origin = false;
    int64_t version = 0;        // served, as last seen
    int64_t next_sync_ms = 0;   // periodic refresh due
    int64_t hinted_version = 0; // pending hint (0: none)
    std::string hinted_from;
    int64_t last_announce_ms = -1;
    bool synced_once = false;
    int64_t notified_version = -1;  // -1: not yet seen in the catalog
    std::string last_hint_from;     // not told again of the version it told us
  };
  struct NotifyJob {
    int64_t due_ms = 0;
    std::string site_id;
    int64_t version = 0;
    std::vector<std::string> targets;
  };
  struct Bucket {
    int64_t tokens_milli = 0;
    int64_t updated_ms = 0;
  };

  void Run();
  void Tick(int64_t now_ms);
  void RefreshSites(int64_t now_ms);
  void SyncOne(const std::string& site_id, SiteState& state, int64_t now_ms);
  void OnCatalogVersions(const std::map<std::string, int64_t>& versions, int64_t now_ms);
  void LearnSignedMirrors(const std::string& site_id, int64_t version);
  void LearnPeersFrom(const std::string& site_id);
  void Announce(const std::string& site_id, SiteState& state, int64_t now_ms);
  std::vector<std::string> NotifyTargets(const std::string& site_id, bool origin);
  void SendNotifies(const NotifyJob& job);
  void RebuildJson();
  int64_t Jitter(int64_t interval_ms);
  bool IsSelf(const std::string& url) const;
  bool TakeToken(std::string_view sender, int64_t now_ms);  // holds mu_

  FollowerOptions options_;
  std::unique_ptr<NodeHome> home_;
  std::shared_ptr<const Ed25519PrivateKey> node_key_;
  std::map<std::string, SiteState> sites_;  // follower thread only
  std::vector<NotifyJob> notify_jobs_;      // follower thread only
  int64_t last_json_ms_ = 0;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Hint> hints_;
  std::deque<AnnouncementRow> announcements_;
  std::unordered_map<std::string, Bucket> senders_;
  std::shared_ptr<const std::string> peers_json_;
  std::shared_ptr<const std::string> status_json_;
  std::map<std::string, int64_t> catalog_update_;  // from CatalogServes, not yet handled
  bool has_catalog_update_ = false;
  std::map<std::string, int64_t> served_;  // follower thread: what the loops serve
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace refuge::mirror

#endif  // REFUGE_MIRROR_FOLLOWER_H_
