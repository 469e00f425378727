// Updater: the TUF client workflow (specification 1.0.x, section 5), to the letter.
//
// An Updater keeps its trusted metadata in a directory under non-versioned names
// (root.json, timestamp.json, snapshot.json, targets.json, and "<quoted role>.json" for
// delegated roles). It only ever writes a file there after the new metadata passed every
// check, so a failed or attacked update leaves the trusted state as it was (except for root
// versions that were themselves fully verified before a later step failed, as the spec says).
//
// The workflow: Refresh() updates root (walking the chain one version at a time, each new root
// signed by a threshold of the old and of the new root keys, at most kMaxRootRotations steps),
// then timestamp, snapshot and top-level targets, with rollback, freeze (expiry), mix-and-match
// (versions, lengths, hashes) and endless-data (length caps) checks. GetTargetInfo() searches
// delegations in pre-order depth-first order, honouring terminating delegations and path
// patterns, visiting at most kMaxDelegationsVisited roles. DownloadTarget() fetches a target at
// most its signed length and checks its hashes before the file appears.
//
// Thread-safety: not thread-safe; one Updater per thread.
#ifndef REFUGE_TUF_UPDATER_H_
#define REFUGE_TUF_UPDATER_H_

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "net/fetcher.h"
#include "tuf/metadata.h"

namespace refuge::tuf {

struct UpdaterOptions {
  std::string metadata_dir;       // trusted metadata; must already hold root.json
  std::string metadata_base_url;  // where "N.root.json", "timestamp.json", ... are fetched
  std::string target_base_url;    // where targets are fetched (may be empty if unused)
  Fetcher* fetcher = nullptr;     // not owned
  const Clock* clock = nullptr;   // not owned; SystemClock if null
  int max_root_rotations = 0;     // 0: limits::kMaxRootRotations
  int max_delegations = 0;        // 0: limits::kMaxDelegationsVisited
};

class Updater {
 public:
  // Loads the trusted root (which must verify against its own keys) and whatever other
  // trusted metadata verifies under it. Fails if root.json is missing or invalid.
  static Result<std::unique_ptr<Updater>> Open(const UpdaterOptions& options);

  // Writes `root_bytes` as the trusted root.json of a new metadata directory, after checking
  // that it parses and is signed by a threshold of its own root keys. No network.
  static Status InitTrustedRoot(const std::string& metadata_dir, std::string_view root_bytes);

  // Spec 5.3 to 5.6 (top-level targets).
  Status Refresh();

  // The trusted target info for `target_path`, searching delegations (spec 5.6.7). Refreshes
  // first if Refresh() has not run. kNotFound if no trusted role lists the target.
  Result<TargetFile> GetTargetInfo(const std::string& target_path);

  // Does `file_path` already hold exactly this target (length and hashes)?
  bool IsCached(const TargetFile& info, const std::string& file_path) const;

  // Downloads a target to `file_path` (temporary file, verify, fsync, rename). Fetches
  // `<target_base_url>/<dir>/<sha256>.<name>` with consistent snapshots, else the path.
  Status DownloadTarget(const TargetFile& info, const std::string& target_path,
                        const std::string& file_path);

  const Root& trusted_root() const { return root_; }
  const std::optional<Timestamp>& trusted_timestamp() const { return timestamp_; }
  const std::optional<Snapshot>& trusted_snapshot() const { return snapshot_; }
  const std::optional<Targets>& trusted_targets() const { return targets_; }

  // The local file name of a trusted role's metadata ("root.json", "a%2Fb.json").
  static std::string LocalFileName(const std::string& role);

 private:
  explicit Updater(const UpdaterOptions& options);

  Status LoadRootChain();
  Status LoadTimestamp();
  Status LoadSnapshot();
  Status LoadTargets(const std::string& role, const std::string& delegator);
  Result<const Targets*> TrustedTargetsFor(const std::string& role);

  // Verify-and-accept steps (python-tuf's TrustedMetadataSet, spec order).
  Status UpdateRoot(std::string_view bytes);
  Status UpdateTimestamp(std::string_view bytes, bool from_local);
  Status UpdateSnapshot(std::string_view bytes, bool from_local);
  // Local and remote files get the same checks (the snapshot may have moved on).
  Status UpdateTargets(std::string_view bytes, const std::string& role,
                       const std::string& delegator);

  Result<std::string> ReadLocal(const std::string& role) const;
  Status Persist(const std::string& role, std::string_view bytes) const;
  std::string MetadataUrl(const std::string& role, std::optional<int64_t> version) const;

  UpdaterOptions options_;
  const Clock* clock_;
  int64_t reference_time_ = 0;  // spec 5.1: the time is fixed when the update starts
  bool refreshed_ = false;

  Root root_;
  std::optional<Timestamp> timestamp_;
  // After a refresh, the trusted snapshot. A stale local snapshot stays here as the rollback
  // reference until the remote one replaces it (python-tuf behaves the same way);
  // snapshot_final_ says whether it also passed the final checks (version, expiry).
  std::optional<Snapshot> snapshot_;
  bool snapshot_final_ = false;
  std::optional<Targets> targets_;
  std::map<std::string, Targets> delegated_;
};

}  // namespace refuge::tuf

#endif  // REFUGE_TUF_UPDATER_H_
