// Publisher: creates sites and publishes versions of them as TUF repositories in a node's
// store (the publisher's side of refuge).
//
// A site is a TUF repository with consistent snapshots: root (offline key), targets, snapshot
// and timestamp (online keys), Ed25519, threshold 1 by default. Its ID is the base32 SHA-256
// of the exact bytes of 1.root.json. Every metadata file and every published file is an
// object in the store; the node database maps names to objects. A publish stores the new
// objects durably first and commits the new metadata in one database transaction, so a crash
// at any point leaves the previous version intact and the next publish succeeding.
//
// Expiry defaults (ExpiryPolicy) are chosen for publications that must outlive an absent
// publisher: mirrors keep serving after expiry (marked stale), and the short-lived timestamp
// is the only thing a publisher has to re-sign to show it is alive (`refuge timestamp`).
//
// Thread-safety: functions take the node's locks; call from one thread per NodeHome.
#ifndef REFUGE_PUBLISH_PUBLISHER_H_
#define REFUGE_PUBLISH_PUBLISHER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "node/node_home.h"
#include "tuf/metadata.h"

namespace refuge {

inline constexpr int64_t kSecondsPerDay = 86'400;

struct ExpiryPolicy {
  // Root: re-signed only with the offline root key, so it lives long (5 years).
  int64_t root_days = 5 * 365;
  // Targets and snapshot: a year; every publish renews them.
  int64_t targets_days = 365;
  int64_t snapshot_days = 365;
  // Timestamp: 30 days bounds how long a freeze attack can hide a newer version, and is long
  // enough for a publisher who is away for weeks.
  int64_t timestamp_days = 30;

  // Parses "role=days" (role one of root, targets, snapshot, timestamp).
  Status Set(const std::string& assignment);
};

struct InitOptions {
  std::string root_key_dir;  // empty: <home>/keys/<site>/root
  ExpiryPolicy expiry;
};

struct InitResult {
  std::string site_id;
  std::string root_key_dir;
  std::string online_key_dir;
};

Result<InitResult> InitSite(NodeHome& home, const InitOptions& options, const Clock& clock);

struct PublishProgress {
  uint64_t files_done = 0;
  uint64_t files_total = 0;
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
};

struct PublishOptions {
  ExpiryPolicy expiry;
  int threads = 0;  // 0: one per core, at least 2
  std::function<void(const PublishProgress&)> progress;  // called from the calling thread
};

struct PublishResult {
  int64_t version = 0;
  uint64_t files = 0;
  uint64_t total_bytes = 0;
  uint64_t unchanged_files = 0;  // recognized from the cache, not read again
  uint64_t hashed_files = 0;
  uint64_t hashed_bytes = 0;
  uint64_t new_objects = 0;  // objects the store did not hold before
  uint64_t new_bytes = 0;
};

Result<PublishResult> Publish(NodeHome& home, const std::string& site_id, const std::string& dir,
                              const PublishOptions& options, const Clock& clock);

// Re-signs the timestamp alone with a fresh expiry; returns the new timestamp version.
Result<int64_t> RefreshTimestamp(NodeHome& home, const std::string& site_id,
                                 const ExpiryPolicy& expiry, const Clock& clock);

struct RotateResult {
  std::string role;
  std::string old_keyid;
  std::string new_keyid;
  int64_t root_version = 0;
  int64_t version = 0;  // the publication version re-signed with the new key (0 for root)
};

// Replaces the (single) key of `role` with a new one: writes root version N+1 signed by the old
// and the new root keys, then re-signs the current version with the new online key.
Result<RotateResult> RotateKey(NodeHome& home, const std::string& site_id, const std::string& role,
                               const std::string& root_key_dir, const ExpiryPolicy& expiry,
                               const Clock& clock);

// The site's newest root, read from the store and parsed.
Result<tuf::Root> LoadLatestRoot(NodeHome& home, const std::string& site_id);

// The site ID of a 1.root.json.
std::string SiteIdOf(std::string_view root_bytes);

}  // namespace refuge

#endif  // REFUGE_PUBLISH_PUBLISHER_H_
