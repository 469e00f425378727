#include "mirror/site_sync.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include "common/file_util.h"
#include "common/limits.h"
#include "mirror/object_downloader.h"
#include "node/block_list.h"
#include "publish/publisher.h"
#include "tuf/metadata.h"
#include "tuf/updater.h"

namespace refuge::mirror {

namespace {

// Keeps the bodies of the root files a TUF refresh fetched ("<N>.root.json"), so that the
// mirror can serve the whole chain to its own readers: the updater itself keeps only the
// newest root.
class RootRecorder final : public Fetcher {
 public:
  explicit RootRecorder(Fetcher& inner) : inner_(inner) {}

  Status FetchTo(const std::string& url, uint64_t max_bytes, const Sink& sink) override {
    const size_t slash = url.rfind('/');
    const std::string name = url.substr(slash == std::string::npos ? 0 : slash + 1);
    int64_t version = 0;
    const bool is_root = name.size() > 10 && name.compare(name.size() - 10, 10, ".root.json") == 0 &&
                         ParseVersion(name.substr(0, name.size() - 10), &version);
    if (!is_root) return inner_.FetchTo(url, max_bytes, sink);
    std::string body;
    REFUGE_RETURN_IF_ERROR(inner_.FetchTo(url, max_bytes, [&](std::string_view chunk) {
      body.append(chunk);
      return sink(chunk);
    }));
    roots_[version] = std::move(body);
    return Status::Ok();
  }

  std::map<int64_t, std::string>& roots() { return roots_; }

 private:
  static bool ParseVersion(const std::string& s, int64_t* out) {
    if (s.empty() || s.size() > 18) return false;
    int64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    *out = v;
    return true;
  }

  Fetcher& inner_;
  std::map<int64_t, std::string> roots_;
};

std::string MetadataBase(const std::string& source, const std::string& site_id) {
  return source + "/.refuge/v1/sites/" + site_id + "/metadata";
}

// The order in which sources are asked: the preferred one, then the others shuffled (so that
// a crowd of mirrors spreads over its sources), the ones that never worked last.
std::vector<std::string> OrderSources(const std::vector<MirrorSourceRow>& rows,
                                      const std::string& prefer) {
  std::vector<std::string> good, bad;
  for (const MirrorSourceRow& r : rows) {
    if (r.url == prefer) continue;
    (r.last_ok == 0 && !r.last_error.empty() ? bad : good).push_back(r.url);
  }
  static thread_local std::mt19937_64 rng(std::random_device{}());
  std::shuffle(good.begin(), good.end(), rng);
  std::shuffle(bad.begin(), bad.end(), rng);
  std::vector<std::string> out;
  if (!prefer.empty()) out.push_back(prefer);
  out.insert(out.end(), good.begin(), good.end());
  out.insert(out.end(), bad.begin(), bad.end());
  return out;
}

Result<MetadataRow> StoreMetadata(NodeHome& home, const std::string& role, int64_t version,
                                  const std::string& bytes) {
  REFUGE_ASSIGN_OR_RETURN(ObjectInfo info, home.store().PutBytes(bytes));
  return MetadataRow{role, version, info.sha256, info.size};
}

// The root files from the newest one the node serves up to the trusted one, each verified
// against the previous (the catalog verifies the chain again when it loads the site).
Status CollectRoots(NodeHome& home, const std::string& site_id, int64_t trusted_version,
                    const std::string& trusted_root_bytes, std::map<int64_t, std::string>& recorded,
                    const std::vector<std::string>& sources, Fetcher& fetcher,
                    std::vector<MetadataRow>* rows) {
  REFUGE_ASSIGN_OR_RETURN(MetadataRow latest, home.db().LatestMetadata(site_id, tuf::kRoot));
  if (latest.version >= trusted_version) return Status::Ok();
  REFUGE_ASSIGN_OR_RETURN(std::string previous_bytes,
                          home.store().Read(latest.sha256, limits::kMaxRootBytes));
  REFUGE_ASSIGN_OR_RETURN(tuf::Root previous, tuf::ParseRoot(previous_bytes));
  for (int64_t v = latest.version + 1; v <= trusted_version; ++v) {
    std::string bytes;
    if (v == trusted_version) {
      bytes = trusted_root_bytes;
    } else if (auto it = recorded.find(v); it != recorded.end()) {
      bytes = it->second;
    } else {
      Status last = Unavailable("no source");
      for (const std::string& source : sources) {
        auto got = fetcher.Fetch(MetadataBase(source, site_id) + "/" + std::to_string(v) +
                                     ".root.json",
                                 limits::kMaxRootBytes);
        if (got.ok()) {
          bytes = std::move(got).value();
          break;
        }
        last = got.status();
      }
      if (bytes.empty()) return last.Annotate(std::to_string(v) + ".root.json");
    }
    const std::string name = std::to_string(v) + ".root.json";
    REFUGE_ASSIGN_OR_RETURN(tuf::Root root, tuf::ParseRoot(bytes));
    if (root.envelope.version != v) return VerificationFailed(name + " carries another version");
    REFUGE_RETURN_IF_ERROR(tuf::VerifyByRoot(root.envelope, previous, tuf::kRoot).Annotate(name));
    REFUGE_RETURN_IF_ERROR(tuf::VerifyByRoot(root.envelope, root, tuf::kRoot).Annotate(name));
    REFUGE_ASSIGN_OR_RETURN(MetadataRow row, StoreMetadata(home, tuf::kRoot, v, bytes));
    rows->push_back(row);
    previous = std::move(root);
  }
  return Status::Ok();
}

// The mirror's trusted metadata as one consistent set: each file was verified by the TUF
// workflow when it was written, and here they are checked again against the trusted root and
// against each other (the timestamp names the snapshot, the snapshot names the targets), so
// that a refresh that stopped half-way (a newer timestamp whose snapshot no source served
// yet) is never committed. kNotFound until the site has published anything.
struct TrustedSet {
  tuf::Root root;
  tuf::Timestamp timestamp;
  tuf::Snapshot snapshot;
  tuf::Targets targets;
  std::string root_bytes, timestamp_bytes, snapshot_bytes, targets_bytes;
};

Result<TrustedSet> LoadTrustedSet(const std::string& dir) {
  TrustedSet t;
  REFUGE_ASSIGN_OR_RETURN(t.root_bytes, ReadFileBounded(dir + "/root.json", limits::kMaxRootBytes));
  REFUGE_ASSIGN_OR_RETURN(t.root, tuf::ParseRoot(t.root_bytes));
  REFUGE_ASSIGN_OR_RETURN(t.timestamp_bytes, ReadFileBounded(dir + "/timestamp.json", limits::kMaxTimestampBytes));
  REFUGE_ASSIGN_OR_RETURN(t.snapshot_bytes, ReadFileBounded(dir + "/snapshot.json", limits::kMaxSnapshotBytes));
  REFUGE_ASSIGN_OR_RETURN(t.targets_bytes, ReadFileBounded(dir + "/targets.json", limits::kMaxTargetsBytes));
  REFUGE_ASSIGN_OR_RETURN(t.timestamp, tuf::ParseTimestamp(t.timestamp_bytes));
  REFUGE_ASSIGN_OR_RETURN(t.snapshot, tuf::ParseSnapshot(t.snapshot_bytes));
  REFUGE_ASSIGN_OR_RETURN(t.targets, tuf::ParseTargets(t.targets_bytes));
  REFUGE_RETURN_IF_ERROR(tuf::VerifyByRoot(t.timestamp.envelope, t.root, tuf::kTimestamp));
  REFUGE_RETURN_IF_ERROR(tuf::VerifyByRoot(t.snapshot.envelope, t.root, tuf::kSnapshot));
  REFUGE_RETURN_IF_ERROR(tuf::VerifyByRoot(t.targets.envelope, t.root, tuf::kTargets));
  const tuf::MetaFile& snap_meta = t.timestamp.snapshot_meta;
  if (snap_meta.version != t.snapshot.envelope.version ||
      !tuf::CheckLengthAndHashes(t.snapshot_bytes, snap_meta.length, snap_meta.hashes, "snapshot").ok()) {
    return Unavailable("the trusted timestamp names snapshot version " +
                       std::to_string(snap_meta.version) + ", which no source has served yet");
  }
  auto targets_meta = t.snapshot.meta.find("targets.json");
  if (targets_meta == t.snapshot.meta.end() ||
      targets_meta->second.version != t.targets.envelope.version ||
      !tuf::CheckLengthAndHashes(t.targets_bytes, targets_meta->second.length,
                                 targets_meta->second.hashes, "targets").ok()) {
    return Unavailable("the trusted snapshot names a targets version no source has served yet");
  }
  return t;
}

}  // namespace

std::string MirrorTrustDir(const NodeHome& home, const std::string& site_id) {
  return home.path() + "/mirror/" + site_id + "/metadata";
}

Result<std::string> FollowSite(NodeHome& home, const std::string& site_id,
                               const std::vector<std::string>& seeds, const SyncOptions& options) {
  if (!IsSiteId(site_id)) return InvalidArgument("not a site ID: " + site_id);
  const Clock& clock = options.clock ? *options.clock : SystemClock::Get();
  auto existing = home.db().GetSite(site_id);
  if (existing.ok() && existing->origin) {
    return AlreadyExists("this node publishes site " + site_id + "; it cannot also mirror it");
  }
  if (!existing.ok() && existing.status().code() != StatusCode::kNotFound) return existing.status();
  const bool known = existing.ok();
  std::string from;
  if (!known) {
    if (seeds.empty()) return InvalidArgument("give at least one --from URL to follow a new site");
    std::unique_ptr<Fetcher> fetcher = NewHttpFetcher(options.http);
    std::string root;
    Status last = Unavailable("no seed");
    for (const std::string& seed : seeds) {
      auto got = fetcher->Fetch(MetadataBase(seed, site_id) + "/1.root.json", limits::kMaxRootBytes);
      if (!got.ok()) {
        last = got.status().Annotate(seed);
        continue;
      }
      if (SiteIdOf(*got) != site_id) {
        last = VerificationFailed(seed + " served a 1.root.json that does not hash to the site ID");
        continue;
      }
      root = std::move(got).value();
      from = seed;
      break;
    }
    if (from.empty()) return last;
    const std::string trust_dir = MirrorTrustDir(home, site_id);
    REFUGE_RETURN_IF_ERROR(MakeDirectories(trust_dir));
    if (!PathExists(trust_dir + "/root.json")) {
      REFUGE_RETURN_IF_ERROR(tuf::Updater::InitTrustedRoot(trust_dir, root));
    }
    REFUGE_ASSIGN_OR_RETURN(MetadataRow row, StoreMetadata(home, tuf::kRoot, 1, root));
    Publication pub;
    pub.site_id = site_id;
    pub.new_site = SiteRow{site_id, false, clock.NowSeconds(), std::nullopt, 0};
    pub.metadata.push_back(row);
    REFUGE_RETURN_IF_ERROR(home.db().Commit(pub));
  }
  for (const std::string& seed : seeds) {
    REFUGE_RETURN_IF_ERROR(home.db().AddMirrorSource(site_id, seed, "seed", clock.NowSeconds(),
                                                     kMaxPeerSourcesPerSite));
  }
  return from;
}

Status UnfollowSite(NodeHome& home, const std::string& site_id) {
  REFUGE_ASSIGN_OR_RETURN(SiteRow site, home.db().GetSite(site_id));
  if (site.origin) {
    return InvalidArgument("this node publishes site " + site_id + "; it is not a mirror of it");
  }
  REFUGE_ASSIGN_OR_RETURN(FileLock lock, home.LockSite(site_id));
  REFUGE_RETURN_IF_ERROR(home.db().DeleteSite(site_id));
  std::error_code ec;
  std::filesystem::remove_all(home.path() + "/mirror/" + site_id, ec);
  if (ec) return IOError("removing " + home.path() + "/mirror/" + site_id + ": " + ec.message());
  return Status::Ok();
}

namespace {

Result<SyncResult> SyncSiteOnce(NodeHome& home, const std::string& site_id,
                                const SyncOptions& options) {
  const Clock& clock = options.clock ? *options.clock : SystemClock::Get();
  REFUGE_ASSIGN_OR_RETURN(FileLock site_lock, home.LockSite(site_id));
  REFUGE_ASSIGN_OR_RETURN(SiteRow site, home.db().GetSite(site_id));
  if (site.origin) return InvalidArgument("this node publishes site " + site_id);
  const std::string trust_dir = MirrorTrustDir(home, site_id);

  // This node's blocks (node/block_list.h): a blocked site is not synced at all, blocked paths'
  // objects are neither fetched nor stored.
  REFUGE_ASSIGN_OR_RETURN(BlockList blocks, BlockList::Load(home.path()));
  if (blocks.SiteBlocked(site_id)) {
    return InvalidArgument("site " + site_id + " is blocked on this node (refuge block list)");
  }
  std::function<bool(const std::string&)> skip_path = options.skip_path;
  if (!blocks.empty()) {
    skip_path = [&](const std::string& path) {
      return blocks.Find(site_id, path) != nullptr || (options.skip_path && options.skip_path(path));
    };
  }

  SyncResult result;
  result.previous_version = site.current_version;
  result.version = site.current_version;
  REFUGE_ASSIGN_OR_RETURN(std::vector<MirrorSourceRow> rows, home.db().ListMirrorSources(site_id));
  std::vector<std::string> sources = OrderSources(rows, options.prefer_source);
  if (sources.empty()) return Unavailable("site " + site_id + " has no source to sync from");

  // 1. Metadata: the TUF workflow against each source in turn; trust only moves forward.
  std::unique_ptr<Fetcher> http = NewHttpFetcher(options.http);
  RootRecorder recorder(*http);
  std::vector<std::string> holders;  // sources known to serve the newest trusted version
  int64_t best = 0;
  int asked = 0;
  bool any_ok = false;
  bool only_not_found = true;  // every source lacked the metadata (nothing published yet)
  for (const std::string& source : sources) {
    if (asked >= std::max(1, options.max_sources_per_sync)) break;
    if (options.cancel && options.cancel->load()) return Unavailable("sync cancelled");
    ++asked;
    tuf::UpdaterOptions uo;
    uo.metadata_dir = trust_dir;
    uo.metadata_base_url = MetadataBase(source, site_id);
    uo.fetcher = &recorder;
    uo.clock = &clock;
    auto updater = tuf::Updater::Open(uo);
    if (!updater.ok()) return updater.status().Annotate("trusted metadata in " + trust_dir);
    Status s = (*updater)->Refresh();
    (void)home.db().RecordSourceResult(site_id, source, clock.NowSeconds(),
                                       s.ok() ? "" : s.ToString());
    if (!s.ok()) {
      if (s.code() != StatusCode::kNotFound) only_not_found = false;
      result.problems.push_back(source + ": " + s.ToString());
      continue;
    }
    any_ok = true;
    const int64_t v = (*updater)->trusted_snapshot() ? (*updater)->trusted_snapshot()->envelope.version : 0;
    if (v > best) {
      best = v;
      holders.clear();
      result.metadata_source = source;
    }
    if (v == best) holders.push_back(source);
    if (options.want_version > 0 && best >= options.want_version) break;
  }

  // The trusted state now (whatever sources said), straight from the trust directory.
  auto trusted = LoadTrustedSet(trust_dir);
  if (!trusted.ok()) {
    if (trusted.status().code() == StatusCode::kNotFound && (any_ok || only_not_found)) {
      return result;  // the site has no published version yet
    }
    if (!any_ok) {
      return Unavailable("no source served valid metadata for site " + site_id +
                         (result.problems.empty() ? "" : " (" + result.problems.back() + ")"));
    }
    return trusted.status();
  }
  const tuf::Timestamp* timestamp = &trusted->timestamp;
  const tuf::Snapshot* snapshot = &trusted->snapshot;
  const tuf::Targets* targets = &trusted->targets;
  result.trusted_version = snapshot->envelope.version;
  if (result.trusted_version < site.current_version) {
    return VerificationFailed("trusted metadata (version " + std::to_string(result.trusted_version) +
                              ") is older than the served version " +
                              std::to_string(site.current_version) + "; refusing to go back");
  }
  int64_t served_timestamp = 0;
  if (auto ts = home.db().LatestMetadata(site_id, tuf::kTimestamp); ts.ok()) {
    served_timestamp = ts->version;
  } else if (ts.status().code() != StatusCode::kNotFound) {
    return ts.status();
  }
  const bool new_version = result.trusted_version > site.current_version;
  const bool new_timestamp = timestamp->envelope.version > served_timestamp;
  if (!new_version && !new_timestamp && !any_ok) {
    // Nothing new, but no source confirmed it either: that is a failed sync, not an up to
    // date one (an expired site whose publisher is gone ends up here too).
    Status s = Unavailable("no source served valid metadata" +
                           (result.problems.empty() ? "" : " (" + result.problems.back() + ")"));
    (void)home.db().RecordSyncAttempt(site_id, clock.NowSeconds(), s.ToString());
    return s;
  }
  if (targets->delegations && !targets->delegations->roles.empty()) {
    return InvalidArgument("site " + site_id + " delegates targets; refuge mirrors top-level targets only");
  }

  // 2. Objects: what this node lacks of the trusted version (the new one, or the one served,
  // whose objects a lifted block or a lost file may have removed), from every source.
  Publication pub;
  pub.site_id = site_id;
  std::vector<ObjectInfo> missing;
  std::set<std::string> queued;
  uint64_t total = 0;
  for (const auto& [path, file] : targets->targets) {
    auto sha = file.hashes.find("sha256");
    if (sha == file.hashes.end()) return VerificationFailed("target " + path + " has no sha256 hash");
    pub.files.push_back(FileRow{path, sha->second, file.length});
    total += file.length;
    if (skip_path && skip_path(path)) {
      ++result.objects_skipped;
      continue;
    }
    if (home.store().Contains(sha->second)) {
      ++result.objects_present;
      continue;
    }
    if (queued.insert(sha->second).second) missing.push_back(ObjectInfo{sha->second, file.length});
  }
  if (!new_version && !new_timestamp && missing.empty()) {
    (void)home.db().RecordSyncAttempt(site_id, clock.NowSeconds(), "");
    return result;
  }

  // Spread over the holders of the new version and the other mirrors (content addressing:
  // any of them may hold an object, or soon will); the seeds that do not hold it yet (usually
  // the publisher) only as a fallback, to keep the publisher's upload small.
  std::vector<std::string> primary = holders;
  std::vector<std::string> fallback;
  for (const MirrorSourceRow& r : rows) {
    if (std::find(primary.begin(), primary.end(), r.url) != primary.end()) continue;
    (r.kind == "seed" ? fallback : primary).push_back(r.url);
  }
  if (!options.prefer_source.empty() &&
      std::find(primary.begin(), primary.end(), options.prefer_source) == primary.end() &&
      std::find(fallback.begin(), fallback.end(), options.prefer_source) == fallback.end()) {
    primary.push_back(options.prefer_source);
  }
  std::vector<std::string> object_sources = primary;  // for the roots below: everyone
  object_sources.insert(object_sources.end(), fallback.begin(), fallback.end());

  REFUGE_ASSIGN_OR_RETURN(FileLock store_lock, home.LockStore(FileLock::Mode::kShared));
  SyncProgress progress;
  progress.objects_total = missing.size();
  for (const ObjectInfo& o : missing) progress.bytes_total += o.size;
  std::mutex progress_mu;
  DownloaderOptions dl;
  dl.http = options.http;
  dl.parallel = options.parallel_fetches;
  dl.commit_batch_bytes = kCommitBatchBytes;
  dl.cancel = options.cancel;
  auto last_report = std::chrono::steady_clock::now();
  dl.on_object = [&](uint64_t bytes) {
    if (!options.progress) return;
    std::lock_guard<std::mutex> lock(progress_mu);
    ++progress.objects_done;
    progress.bytes_done += bytes;
    auto now = std::chrono::steady_clock::now();
    if (now - last_report >= std::chrono::milliseconds(100) ||
        progress.objects_done == progress.objects_total) {
      last_report = now;
      options.progress(progress);
    }
  };
  auto report = DownloadObjects(home.store(), missing, primary, fallback, dl);
  if (!report.ok()) {
    (void)home.db().RecordSyncAttempt(site_id, clock.NowSeconds(), report.status().ToString());
    return report.status().Annotate("site " + site_id + " version " +
                                    std::to_string(result.trusted_version));
  }
  result.objects_fetched = report->objects;
  result.bytes_fetched = report->bytes;
  if (!new_version && !new_timestamp) {  // a repair of the served version: nothing to commit
    (void)home.db().RecordSyncAttempt(site_id, clock.NowSeconds(), "");
    return result;
  }
  if (new_version) {
    VersionRow v;
    v.version = result.trusted_version;
    v.targets_version = targets->envelope.version;
    v.root_version = trusted->root.envelope.version;
    v.published_at = clock.NowSeconds();
    v.file_count = pub.files.size();
    v.total_bytes = total;
    pub.version = v;
  } else {
    pub.files.clear();  // a new timestamp alone
  }

  // 3. The switch: the exact metadata bytes the workflow verified, in one transaction.
  REFUGE_RETURN_IF_ERROR(CollectRoots(home, site_id, trusted->root.envelope.version,
                                      trusted->root_bytes, recorder.roots(), object_sources, *http,
                                      &pub.metadata));
  {
    REFUGE_ASSIGN_OR_RETURN(MetadataRow row, StoreMetadata(home, tuf::kTimestamp, timestamp->envelope.version,
                                                           trusted->timestamp_bytes));
    pub.metadata.push_back(row);
  }
  if (new_version) {
    REFUGE_ASSIGN_OR_RETURN(MetadataRow snap_row, StoreMetadata(home, tuf::kSnapshot, snapshot->envelope.version,
                                                                trusted->snapshot_bytes));
    REFUGE_ASSIGN_OR_RETURN(MetadataRow targets_row, StoreMetadata(home, tuf::kTargets, targets->envelope.version,
                                                                   trusted->targets_bytes));
    pub.metadata.push_back(snap_row);
    pub.metadata.push_back(targets_row);
  }
  REFUGE_RETURN_IF_ERROR(home.db().Commit(pub));
  (void)home.db().RecordSyncAttempt(site_id, clock.NowSeconds(), "");
  if (new_version) result.version = result.trusted_version;
  return result;
}

}  // namespace

Result<SyncResult> SyncSite(NodeHome& home, const std::string& site_id,
                            const SyncOptions& options) {
  auto r = SyncSiteOnce(home, site_id, options);
  if (!r.ok() && r.status().code() != StatusCode::kInvalidArgument) {
    // Every failure shows in `refuge mirror list` (some paths record it already: same values).
    const Clock& clock = options.clock ? *options.clock : SystemClock::Get();
    (void)home.db().RecordSyncAttempt(site_id, clock.NowSeconds(), r.status().ToString());
  }
  return r;
}

}  // namespace refuge::mirror
