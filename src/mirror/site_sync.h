// SiteSync: how a node follows a site it does not publish (a mirror).
//
// Following starts from the site ID alone (FollowSite): 1.root.json is fetched from any of
// the seed URLs and accepted only if its SHA-256 is the site ID. From there every sync
// (SyncSite) is the TUF client workflow (tuf/updater.h) against the site's known sources, one
// after the other, so the trusted metadata only ever moves forward: a source serving older,
// forged or expired metadata is refused and the next one tried. Trusted metadata persists in
// <home>/mirror/<site-id>/metadata, so rollback protection survives restarts.
//
// When the trusted snapshot is newer than the version the node serves, the objects the node
// lacks are fetched in parallel from every source (content-addressed: any node holding an
// object can serve it, whatever version it is on), each one's length and SHA-256 checked
// before it is stored, and committed in batches so that an interrupted sync resumes without
// fetching them again. Only when every object of the new version is present does one database
// transaction switch the served version (the same commit a publish makes); until then the
// previous version is served. The metadata committed are the exact bytes the TUF workflow
// verified.
//
// Only top-level targets are mirrored (refuge publishers do not delegate).
//
// Thread-safety: one call at a time per NodeHome; syncs of one site are serialized across
// processes by the site lock.
#ifndef REFUGE_MIRROR_SITE_SYNC_H_
#define REFUGE_MIRROR_SITE_SYNC_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "net/fetcher.h"
#include "node/node_home.h"

namespace refuge::mirror {

// Bounds of what a follower keeps and tries (untrusted peers cannot grow them).
inline constexpr int kMaxPeerSourcesPerSite = 32;
inline constexpr int kDefaultParallelFetches = 8;
inline constexpr int kDefaultMaxSourcesPerSync = 8;
// Fetched objects are made durable in batches of this many bytes (or at the end).
inline constexpr uint64_t kCommitBatchBytes = 8 * 1024 * 1024;
// A peer that does not accept a connection within this is passed over (it is retried later).
inline constexpr long kSyncConnectTimeoutMs = 5'000;

struct SyncProgress {
  uint64_t objects_done = 0;
  uint64_t objects_total = 0;
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
};

struct SyncOptions {
  SyncOptions() { http.connect_timeout_ms = kSyncConnectTimeoutMs; }
  HttpFetcherOptions http;
  int parallel_fetches = kDefaultParallelFetches;
  int max_sources_per_sync = kDefaultMaxSourcesPerSync;
  // A hint: stop asking further sources once this version is trusted (0: ask them all).
  int64_t want_version = 0;
  // Tried first (a hint's sender), whether or not it is a known source yet.
  std::string prefer_source;
  const Clock* clock = nullptr;  // SystemClock if null
  // Paths whose objects must not be fetched or stored, besides the blocked ones (this node's
  // blocks, node/block_list.h, always apply; a blocked site is not synced at all).
  std::function<bool(const std::string& path)> skip_path;
  // Called from the calling thread (roughly every 100 ms while objects download).
  std::function<void(const SyncProgress&)> progress;
  const std::atomic<bool>* cancel = nullptr;  // stops between objects when set
};

struct SyncResult {
  int64_t previous_version = 0;  // served before the sync
  int64_t version = 0;           // served after it
  int64_t trusted_version = 0;   // the newest snapshot version the TUF workflow accepted
  uint64_t objects_fetched = 0;
  uint64_t bytes_fetched = 0;
  uint64_t objects_present = 0;  // already stored: not fetched again
  uint64_t objects_skipped = 0;  // blocked paths
  std::string metadata_source;   // the source the newest metadata came from
  std::vector<std::string> problems;  // one line per source that failed, and why

  bool advanced() const { return version > previous_version; }
};

// Where the mirror's trusted TUF metadata for `site_id` lives.
std::string MirrorTrustDir(const NodeHome& home, const std::string& site_id);

// Starts following `site_id`: bootstraps trust from the first seed that serves a 1.root.json
// hashing to the site ID, records the site (not an origin) and the seeds as its sources.
// Following a site again adds the seeds. kAlreadyExists if this node publishes the site.
// Returns the seed the root came from.
Result<std::string> FollowSite(NodeHome& home, const std::string& site_id,
                               const std::vector<std::string>& seeds, const SyncOptions& options);

// One sync pass (see the file comment). Fails only when nothing could be done at all (no
// source answered with valid metadata, or objects of a new version could not be fetched);
// per-source failures are listed in the result's `problems`.
Result<SyncResult> SyncSite(NodeHome& home, const std::string& site_id,
                            const SyncOptions& options);

// Stops following a site: forgets its rows and trusted metadata (its objects become
// garbage for `refuge gc`). kInvalidArgument for a site this node publishes.
Status UnfollowSite(NodeHome& home, const std::string& site_id);

}  // namespace refuge::mirror

#endif  // REFUGE_MIRROR_SITE_SYNC_H_
