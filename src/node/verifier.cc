#include "node/verifier.h"

#include <map>
#include <set>

#include "common/limits.h"
#include "node/block_list.h"
#include "publish/publisher.h"
#include "tuf/metadata.h"

namespace refuge {

namespace {

class SiteVerifier {
 public:
  SiteVerifier(NodeHome& home, const std::string& site_id, const Clock& clock, VerifyReport& report,
               std::set<std::string>& referenced)
      : home_(home), site_id_(site_id), clock_(clock), report_(report), referenced_(referenced) {}

  // Which version and file each referenced object belongs to, for readable problem reports.
  const std::map<std::string, std::string>& object_paths() const { return object_paths_; }

  Status Run() {
    REFUGE_ASSIGN_OR_RETURN(SiteRow site, home_.db().GetSite(site_id_));
    REFUGE_ASSIGN_OR_RETURN(std::vector<MetadataRow> rows, home_.db().ListMetadata(site_id_));
    for (const MetadataRow& r : rows) {
      referenced_.insert(r.sha256);
      by_role_[r.role][r.version] = r;
    }
    CheckRoots();
    REFUGE_ASSIGN_OR_RETURN(std::vector<VersionRow> versions, home_.db().ListVersions(site_id_));
    for (const VersionRow& v : versions) {
      ++report_.versions;
      REFUGE_RETURN_IF_ERROR(CheckVersion(v));
    }
    CheckTimestamp(site);
    return Status::Ok();
  }

 private:
  void Problem(const std::string& m) { report_.problems.push_back({site_id_, m}); }
  void Warning(const std::string& m) { report_.warnings.push_back({site_id_, m}); }

  // Reads a metadata object; reports and returns nullopt if it is missing or corrupt.
  std::optional<std::string> ReadMetadata(const MetadataRow& row, uint64_t max) {
    std::string name = std::to_string(row.version) + "." + row.role + ".json";
    auto bytes = home_.store().Read(row.sha256, max);
    if (!bytes.ok()) {
      Problem(name + ": " + bytes.status().message());
      return std::nullopt;
    }
    return std::move(bytes).value();
  }

  void CheckRoots() {
    const auto& roots = by_role_[tuf::kRoot];
    if (roots.empty() || roots.begin()->first != 1) {
      Problem("1.root.json is missing from the node database");
      return;
    }
    std::optional<tuf::Root> previous;
    int64_t expected = 1;
    for (const auto& [version, row] : roots) {
      std::string name = std::to_string(version) + ".root.json";
      if (version != expected) {
        Problem("root chain has a gap: " + std::to_string(expected) + ".root.json is missing");
        return;
      }
      ++expected;
      auto bytes = ReadMetadata(row, limits::kMaxRootBytes);
      if (!bytes) return;
      if (version == 1 && SiteIdOf(*bytes) != site_id_) {
        Problem("1.root.json does not hash to the site ID");
        return;
      }
      auto root = tuf::ParseRoot(*bytes);
      if (!root.ok()) {
        Problem(name + ": " + root.status().message());
        return;
      }
      if (root->envelope.version != version) {
        Problem(name + " carries version " + std::to_string(root->envelope.version));
        return;
      }
      Status self = tuf::VerifyByRoot(root->envelope, *root, tuf::kRoot);
      if (!self.ok()) Problem(name + ": " + self.message());
      if (previous) {
        Status chained = tuf::VerifyByRoot(root->envelope, *previous, tuf::kRoot);
        if (!chained.ok()) Problem(name + " (checked with the previous root's keys): " + chained.message());
      }
      roots_[version] = *root;
      previous = std::move(root).value();
    }
    if (previous && previous->envelope.IsExpired(clock_.NowSeconds())) {
      Warning("root metadata expired at " + FormatUtc(previous->envelope.expires));
    }
  }

  const tuf::Root* RootAt(int64_t version) {
    auto it = roots_.find(version);
    return it == roots_.end() ? nullptr : &it->second;
  }

  Status CheckVersion(const VersionRow& v) {
    const std::string where = "version " + std::to_string(v.version);
    const tuf::Root* root = RootAt(v.root_version);
    if (root == nullptr) {
      Problem(where + ": its root version " + std::to_string(v.root_version) + " did not verify");
      return Status::Ok();
    }
    auto snap_row = by_role_[tuf::kSnapshot].find(v.version);
    auto targ_row = by_role_[tuf::kTargets].find(v.targets_version);
    if (snap_row == by_role_[tuf::kSnapshot].end() || targ_row == by_role_[tuf::kTargets].end()) {
      Problem(where + ": snapshot or targets metadata row is missing");
      return Status::Ok();
    }
    auto snap_bytes = ReadMetadata(snap_row->second, limits::kMaxSnapshotBytes);
    auto targ_bytes = ReadMetadata(targ_row->second, limits::kMaxTargetsBytes);
    if (!snap_bytes || !targ_bytes) return Status::Ok();
    auto snapshot = tuf::ParseSnapshot(*snap_bytes);
    auto targets = tuf::ParseTargets(*targ_bytes);
    if (!snapshot.ok() || !targets.ok()) {
      Problem(where + ": " + (!snapshot.ok() ? snapshot.status() : targets.status()).message());
      return Status::Ok();
    }
    for (const auto& [env, role] : {std::pair{&snapshot->envelope, tuf::kSnapshot},
                                    std::pair{&targets->envelope, tuf::kTargets}}) {
      Status s = tuf::VerifyByRoot(*env, *root, role);
      if (!s.ok()) Problem(where + ": " + s.message());
    }
    const tuf::MetaFile& meta = snapshot->meta.at("targets.json");
    Status consistent = tuf::CheckLengthAndHashes(*targ_bytes, meta.length, meta.hashes,
                                                  where + " targets.json");
    if (!consistent.ok()) Problem(consistent.message());
    if (meta.version != targets->envelope.version) {
      Problem(where + ": snapshot names targets version " + std::to_string(meta.version) +
              " but the stored one is " + std::to_string(targets->envelope.version));
    }
    REFUGE_ASSIGN_OR_RETURN(std::vector<FileRow> files, home_.db().VersionFiles(site_id_, v.version));
    if (files.size() != targets->targets.size()) {
      Problem(where + ": file list has " + std::to_string(files.size()) +
              " entries, the signed targets " + std::to_string(targets->targets.size()));
    }
    for (const FileRow& f : files) {
      auto t = targets->targets.find(f.path);
      if (t == targets->targets.end() || t->second.length != f.length ||
          !t->second.hashes.count("sha256") || t->second.hashes.at("sha256") != f.sha256) {
        Problem(where + ": " + f.path + " does not match the signed targets");
      }
      referenced_.insert(f.sha256);
      object_paths_.emplace(f.sha256, where + " file " + f.path);
    }
    return Status::Ok();
  }

  void CheckTimestamp(const SiteRow& site) {
    const auto& timestamps = by_role_[tuf::kTimestamp];
    if (timestamps.empty()) {
      if (site.current_version != 0) Problem("no timestamp metadata for a published site");
      return;
    }
    const MetadataRow& row = timestamps.rbegin()->second;
    auto bytes = ReadMetadata(row, limits::kMaxTimestampBytes);
    if (!bytes) return;
    auto ts = tuf::ParseTimestamp(*bytes);
    if (!ts.ok()) {
      Problem("timestamp.json: " + ts.status().message());
      return;
    }
    if (roots_.empty()) return;
    Status s = tuf::VerifyByRoot(ts->envelope, roots_.rbegin()->second, tuf::kTimestamp);
    if (!s.ok()) Problem("timestamp.json: " + s.message());
    auto snap = by_role_[tuf::kSnapshot].find(ts->snapshot_meta.version);
    if (ts->snapshot_meta.version != site.current_version || snap == by_role_[tuf::kSnapshot].end()) {
      Problem("timestamp.json names snapshot version " + std::to_string(ts->snapshot_meta.version) +
              ", the node serves version " + std::to_string(site.current_version));
    } else if (ts->snapshot_meta.hashes.count("sha256") &&
               ts->snapshot_meta.hashes.at("sha256") != snap->second.sha256) {
      Problem("timestamp.json names a snapshot whose hash differs from the stored one");
    }
    if (ts->envelope.IsExpired(clock_.NowSeconds())) {
      Warning("timestamp expired at " + FormatUtc(ts->envelope.expires) +
              " (run refuge timestamp --site " + site_id_ + ")");
    }
  }

 private:
  NodeHome& home_;
  std::string site_id_;
  const Clock& clock_;
  VerifyReport& report_;
  std::set<std::string>& referenced_;
  std::map<std::string, std::map<int64_t, MetadataRow>> by_role_;
  std::map<int64_t, tuf::Root> roots_;
  std::map<std::string, std::string> object_paths_;
};

}  // namespace

Result<VerifyReport> VerifyNode(NodeHome& home, const std::optional<std::string>& site_id,
                                const Clock& clock,
                                const std::function<void(uint64_t)>& progress) {
  VerifyReport report;
  std::set<std::string> referenced;
  std::map<std::string, std::string> where;
  REFUGE_ASSIGN_OR_RETURN(std::vector<SiteRow> sites, home.db().ListSites());
  if (site_id) {
    REFUGE_RETURN_IF_ERROR(home.db().GetSite(*site_id).status());
  }
  for (const SiteRow& site : sites) {
    if (site_id && *site_id != site.site_id) continue;
    ++report.sites;
    SiteVerifier v(home, site.site_id, clock, report, referenced);
    REFUGE_RETURN_IF_ERROR(v.Run());
    for (auto& [sha, label] : v.object_paths()) where.emplace(sha, site.site_id + " " + label);
  }
  // Blocks (refuge block): the node stopped storing the objects only blocked files use, so
  // their absence is expected; a broken audit log is a problem of the node.
  BlockedObjectMap blocked;
  auto blocks = BlockList::Load(home.path());
  if (!blocks.ok()) {
    report.problems.push_back({"", "the audit log of blocks cannot be read: " + blocks.status().message()});
  } else {
    if (!blocks->chain_ok() && !site_id) {
      report.problems.push_back({"", "the audit log of blocks (" + BlockLogPath(home.path()) +
                                         ") is not intact: " + blocks->chain_error()});
    }
    if (!blocks->tail_warning().empty() && !site_id) {
      report.warnings.push_back({"", "the audit log of blocks: " + blocks->tail_warning()});
    }
    REFUGE_ASSIGN_OR_RETURN(blocked, BlockedObjects(home, *blocks, false));
  }
  // Objects: re-hash each referenced one (and, store-wide, every other one too).
  std::set<std::string> checked;
  auto check = [&](const std::string& sha) {
    if (!checked.insert(sha).second) return Status::Ok();
    Status s = home.store().Check(sha);
    ++report.objects_checked;
    if (progress) progress(report.objects_checked);
    if (s.ok()) return Status::Ok();
    if (s.code() != StatusCode::kNotFound && s.code() != StatusCode::kCorruption) return s;
    auto label = where.find(sha);
    std::string context = label == where.end() ? "" : " (" + label->second + ")";
    if (s.code() == StatusCode::kNotFound && blocked.count(sha) != 0) {
      const Block& b = *blocked.at(sha);
      report.warnings.push_back({b.site_id, "object " + sha + context +
                                                ": not stored, blocked on this node (audit entry " +
                                                std::to_string(b.seq) + ", refuge block list)"});
      return Status::Ok();
    }
    report.problems.push_back({"", "object " + sha + context + ": " +
                                       (s.code() == StatusCode::kNotFound ? "missing" : "corrupt: its bytes do not hash to its name")});
    return Status::Ok();
  };
  for (const std::string& sha : referenced) REFUGE_RETURN_IF_ERROR(check(sha));
  if (!site_id) REFUGE_RETURN_IF_ERROR(home.store().ForEachObject(check));
  return report;
}

}  // namespace refuge
