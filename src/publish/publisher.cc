#include "publish/publisher.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "common/file_util.h"
#include "common/limits.h"
#include "crypto/base32.h"
#include "crypto/sha256.h"
#include "node/mirror_list.h"
#include "publish/site_keys.h"
#include "publish/source_tree.h"

namespace refuge {

namespace {

constexpr const char* kOnlineRoles[] = {tuf::kTargets, tuf::kSnapshot, tuf::kTimestamp};

std::string OnlineKeyDir(const NodeHome& home, const std::string& site_id) {
  return home.SiteKeysDir(site_id) + "/online";
}

std::vector<std::string> RootKeyDirs(const NodeHome& home, const std::string& site_id,
                                     const std::string& extra) {
  std::vector<std::string> dirs;
  if (!extra.empty()) dirs.push_back(extra);
  dirs.push_back(home.SiteKeysDir(site_id) + "/root");
  return dirs;
}

Json RoleJson(const std::vector<std::string>& keyids, int64_t threshold) {
  return Json{{"keyids", keyids}, {"threshold", threshold}};
}

Json SignedHeader(const char* type, int64_t version, int64_t expires) {
  return Json{{"_type", type},
              {"spec_version", tuf::kSpecVersion},
              {"version", version},
              {"expires", FormatUtc(expires)}};
}

int64_t NextVersion(NodeHome& home, const std::string& site_id, const char* role) {
  auto latest = home.db().LatestMetadata(site_id, role);
  return latest.ok() ? latest->version + 1 : 1;
}

// Signs `signed_json`, stores the file as an object, and describes it as a metadata row.
Result<MetadataRow> SignAndStore(NodeHome& home, const Json& signed_json, const char* role,
                                 const std::vector<LoadedKey>& keys) {
  REFUGE_ASSIGN_OR_RETURN(std::string bytes, tuf::SignMetadata(signed_json, SignersOf(keys)));
  REFUGE_ASSIGN_OR_RETURN(ObjectInfo info, home.store().PutBytes(bytes));
  return MetadataRow{role, signed_json.at("version").get<int64_t>(), info.sha256, info.size};
}

tuf::MetaFile MetaOf(const MetadataRow& row) {
  tuf::MetaFile m;
  m.version = row.version;
  m.length = row.length;
  m.hashes["sha256"] = row.sha256;
  return m;
}

struct OnlineKeys {
  std::vector<LoadedKey> targets, snapshot, timestamp;
};

Result<OnlineKeys> LoadOnlineKeys(NodeHome& home, const std::string& site_id,
                                  const tuf::Root& root) {
  std::vector<std::string> dirs{OnlineKeyDir(home, site_id)};
  OnlineKeys keys;
  REFUGE_ASSIGN_OR_RETURN(keys.targets, LoadRoleKeys(root, tuf::kTargets, dirs));
  REFUGE_ASSIGN_OR_RETURN(keys.snapshot, LoadRoleKeys(root, tuf::kSnapshot, dirs));
  REFUGE_ASSIGN_OR_RETURN(keys.timestamp, LoadRoleKeys(root, tuf::kTimestamp, dirs));
  return keys;
}

// Builds, signs and stores targets, snapshot and timestamp for a version listing `files`, and
// fills `pub` (metadata rows and the version row) without committing it.
Status SignVersion(NodeHome& home, const std::string& site_id, const tuf::Root& root,
                   const OnlineKeys& keys, const std::vector<FileRow>& files,
                   const ExpiryPolicy& expiry, const Clock& clock, Publication& pub) {
  const int64_t now = clock.NowSeconds();
  // Versions continue from what this publication already holds (a rotation in the same
  // transaction may have added rows to `pub` already).
  const int64_t targets_version = NextVersion(home, site_id, tuf::kTargets);
  const int64_t snapshot_version = NextVersion(home, site_id, tuf::kSnapshot);
  const int64_t timestamp_version = NextVersion(home, site_id, tuf::kTimestamp);

  Json targets = SignedHeader(tuf::kTargets, targets_version, now + expiry.targets_days * kSecondsPerDay);
  Json list = Json::object();
  uint64_t total = 0;
  for (const FileRow& f : files) {
    tuf::TargetFile t;
    t.length = f.length;
    t.hashes["sha256"] = f.sha256;
    list[f.path] = tuf::TargetFileJson(t);
    total += f.length;
  }
  targets["targets"] = std::move(list);
  REFUGE_ASSIGN_OR_RETURN(MetadataRow targets_row, SignAndStore(home, targets, tuf::kTargets, keys.targets));

  Json snapshot =
      SignedHeader(tuf::kSnapshot, snapshot_version, now + expiry.snapshot_days * kSecondsPerDay);
  snapshot["meta"] = Json{{"targets.json", tuf::MetaFileJson(MetaOf(targets_row))}};
  REFUGE_ASSIGN_OR_RETURN(MetadataRow snapshot_row,
                          SignAndStore(home, snapshot, tuf::kSnapshot, keys.snapshot));

  Json timestamp = SignedHeader(tuf::kTimestamp, timestamp_version,
                                now + expiry.timestamp_days * kSecondsPerDay);
  timestamp["meta"] = Json{{"snapshot.json", tuf::MetaFileJson(MetaOf(snapshot_row))}};
  REFUGE_ASSIGN_OR_RETURN(MetadataRow timestamp_row,
                          SignAndStore(home, timestamp, tuf::kTimestamp, keys.timestamp));

  pub.site_id = site_id;
  pub.metadata.push_back(targets_row);
  pub.metadata.push_back(snapshot_row);
  pub.metadata.push_back(timestamp_row);
  VersionRow v;
  v.version = snapshot_version;
  v.targets_version = targets_version;
  v.root_version = root.envelope.version;
  v.published_at = now;
  v.file_count = files.size();
  v.total_bytes = total;
  pub.version = v;
  pub.files = files;
  return Status::Ok();
}

// The site's mirror list (node/mirror_list.h) from the announcements the publisher accepted,
// stored as an object; nullopt when no mirror was accepted. The list changes only when the
// accepted set does, so an unchanged list is the same object from one publish to the next.
Result<std::optional<FileRow>> StoreMirrorList(NodeHome& home, const std::string& site_id) {
  REFUGE_ASSIGN_OR_RETURN(std::vector<AnnouncementRow> accepted,
                          home.db().ListAnnouncements(site_id, "accepted"));
  if (accepted.empty()) return std::optional<FileRow>();
  MirrorList list;
  list.site_id = site_id;
  std::set<std::string> seen;
  for (const AnnouncementRow& a : accepted) {
    list.updated = std::max(list.updated, a.received_at);
    for (const std::string& url : a.urls) {
      if (list.mirrors.size() >= kMaxMirrorListEntries || !seen.insert(url).second) continue;
      list.mirrors.push_back(MirrorEntry{url, a.public_key, "mirror"});
    }
  }
  REFUGE_ASSIGN_OR_RETURN(ObjectInfo info, home.store().PutBytes(SerializeMirrorList(list)));
  return std::optional<FileRow>(FileRow{kMirrorListTarget, info.sha256, info.size});
}

// SHA-256 and size of everything readable from fd.
Result<ObjectInfo> HashFile(int fd, const std::string& what) {
  thread_local std::vector<char> buf(1 << 20);
  Sha256 hasher;
  uint64_t total = 0;
  for (;;) {
    REFUGE_ASSIGN_OR_RETURN(size_t n, ReadSome(fd, buf.data(), buf.size(), what));
    if (n == 0) break;
    hasher.Update(buf.data(), n);
    total += n;
  }
  return ObjectInfo{HexEncode(hasher.Finish()), total};
}

// Moves a replaced key file to <home>/keys/<site>/retired/. The root key directory may be on
// another file system (removable media), where rename(2) fails with EXDEV: copy, then delete.
Status RetireKeyFile(const NodeHome& home, const std::string& site_id, const std::string& path) {
  const std::string retired_dir = home.SiteKeysDir(site_id) + "/retired";
  REFUGE_RETURN_IF_ERROR(MakeDirectories(retired_dir, 0700));
  const std::string name = path.substr(path.find_last_of('/') + 1);
  const std::string target = retired_dir + "/" + name;
  if (::rename(path.c_str(), target.c_str()) == 0) return FsyncDirectory(retired_dir);
  if (errno != EXDEV) return ErrnoStatus("retire " + path, errno);
  REFUGE_ASSIGN_OR_RETURN(std::string pem, ReadFileBounded(path, limits::kMaxKeyFileBytes));
  REFUGE_RETURN_IF_ERROR(WriteFileDurable(target, pem, 0600));
  if (::unlink(path.c_str()) != 0) return ErrnoStatus("remove retired key " + path, errno);
  return FsyncDirectory(DirName(path));
}

Status RequireOrigin(NodeHome& home, const std::string& site_id) {
  REFUGE_ASSIGN_OR_RETURN(SiteRow site, home.db().GetSite(site_id));
  if (!site.origin) {
    return InvalidArgument("site " + site_id +
                           " is mirrored here, not published: its keys are not on this node");
  }
  return Status::Ok();
}

// The parallel part of a publish: every source file is recognized from the cache or hashed
// and staged into the store.
class Stager {
 public:
  Stager(ObjectStore& store, const std::vector<SourceFile>& files,
         const std::map<std::string, FileCacheRow>& cache)
      : store_(store), files_(files), cache_(cache), results_(files.size()) {}

  Status Run(int threads, const std::function<void(const PublishProgress&)>& progress) {
    PublishProgress p;
    p.files_total = files_.size();
    for (const SourceFile& f : files_) p.bytes_total += f.size;
    std::vector<std::thread> workers;
    for (int i = 0; i < threads; ++i) workers.emplace_back([this] { Work(); });
    {
      std::unique_lock<std::mutex> lock(mu_);
      for (;;) {
        if (done_cv_.wait_for(lock, std::chrono::milliseconds(200),
                              [&] { return finished_ == threads; })) {
          break;
        }
        if (progress) {
          p.files_done = files_done_.load();
          p.bytes_done = bytes_done_.load();
          lock.unlock();
          progress(p);
          lock.lock();
        }
      }
    }
    for (std::thread& t : workers) t.join();
    if (progress) {
      p.files_done = files_done_.load();
      p.bytes_done = bytes_done_.load();
      progress(p);
    }
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }

  struct FileResult {
    ObjectInfo info;
    bool from_cache = false;
    FileCacheRow cache_row;
  };
  std::vector<FileResult>& results() { return results_; }
  std::vector<StagedObject>& staged() { return staged_; }

 private:
  void Work() {
    for (;;) {
      if (failed_.load()) break;
      size_t i = next_.fetch_add(1);
      if (i >= files_.size()) break;
      Status s = One(i);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        if (error_.ok()) error_ = s;
        failed_.store(true);
      }
      files_done_.fetch_add(1);
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++finished_;
    done_cv_.notify_all();
  }

  Status One(size_t i) {
    const SourceFile& f = files_[i];
    FileResult& r = results_[i];
    auto cached = cache_.find(f.target_path);
    if (cached != cache_.end() && cached->second.size == f.size &&
        cached->second.mtime_ns == f.mtime_ns && cached->second.ctime_ns == f.ctime_ns &&
        cached->second.inode == f.inode && store_.Contains(cached->second.sha256)) {
      r.info = ObjectInfo{cached->second.sha256, f.size};
      r.from_cache = true;
      r.cache_row = cached->second;
      bytes_done_.fetch_add(f.size);
      return Status::Ok();
    }
    auto fd = OpenFile(f.disk_path, O_RDONLY | O_NOCTTY);
    if (!fd.ok()) return fd.status().Annotate("cannot read file to publish");
    auto progress = [this](uint64_t n) { bytes_done_.fetch_add(n); };
    std::optional<StagedObject> staged;
    if (cached != cache_.end()) {
      // A path published before whose metadata changed was most often touched, not edited:
      // hash it first and copy it only if the store lacks its object (a second read, from the
      // page cache, only for files that really changed).
      REFUGE_ASSIGN_OR_RETURN(ObjectInfo info, HashFile(fd->get(), f.disk_path));
      if (store_.Contains(info.sha256)) {
        staged = StagedObject{info, ""};
        progress(info.size);
      } else if (::lseek(fd->get(), 0, SEEK_SET) != 0) {
        return ErrnoStatus("seek " + f.disk_path, errno);
      }
    }
    if (!staged) {
      REFUGE_ASSIGN_OR_RETURN(staged, store_.StageFromFd(fd->get(), f.disk_path, progress));
    }
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0) return ErrnoStatus(f.disk_path, errno);
    r.info = staged->info;
    // The cache describes the file as it was when read, so a change during the read is
    // noticed by the next publish.
    r.cache_row = FileCacheRow{f.target_path,
                               static_cast<uint64_t>(st.st_size),
                               static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                               static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec,
                               static_cast<uint64_t>(st.st_ino),
                               staged->info.sha256};
    if (!staged->temp_path.empty()) {
      std::lock_guard<std::mutex> lock(mu_);
      staged_.push_back(std::move(staged).value());
    }
    return Status::Ok();
  }

  ObjectStore& store_;
  const std::vector<SourceFile>& files_;
  const std::map<std::string, FileCacheRow>& cache_;
  std::vector<FileResult> results_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> files_done_{0};
  std::atomic<uint64_t> bytes_done_{0};
  std::mutex mu_;
  std::condition_variable done_cv_;
  int finished_ = 0;
  Status error_;
  std::vector<StagedObject> staged_;
};

}  // namespace

Status ExpiryPolicy::Set(const std::string& assignment) {
  size_t eq = assignment.find('=');
  std::string role = assignment.substr(0, eq);
  int64_t* field = role == tuf::kRoot        ? &root_days
                   : role == tuf::kTargets   ? &targets_days
                   : role == tuf::kSnapshot  ? &snapshot_days
                   : role == tuf::kTimestamp ? &timestamp_days
                                             : nullptr;
  if (eq == std::string::npos || field == nullptr) {
    return InvalidArgument("--expiry wants ROLE=DAYS with ROLE one of root, targets, snapshot, "
                           "timestamp; got '" + assignment + "'");
  }
  char* end = nullptr;
  long long days = std::strtoll(assignment.c_str() + eq + 1, &end, 10);
  if (end == assignment.c_str() + eq + 1 || *end != '\0' || days < 1 || days > 36500) {
    return InvalidArgument("--expiry " + assignment + ": DAYS must be a whole number from 1 to 36500");
  }
  *field = days;
  return Status::Ok();
}

std::string SiteIdOf(std::string_view root_bytes) {
  Sha256Digest d = Sha256Of(root_bytes);
  return Base32Encode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

Result<tuf::Root> LoadLatestRoot(NodeHome& home, const std::string& site_id) {
  REFUGE_ASSIGN_OR_RETURN(MetadataRow row, home.db().LatestMetadata(site_id, tuf::kRoot));
  REFUGE_ASSIGN_OR_RETURN(std::string bytes, home.store().Read(row.sha256, limits::kMaxRootBytes));
  auto root = tuf::ParseRoot(bytes);
  if (!root.ok()) return root.status().Annotate(std::to_string(row.version) + ".root.json");
  return root;
}

Result<InitResult> InitSite(NodeHome& home, const InitOptions& options, const Clock& clock) {
  REFUGE_ASSIGN_OR_RETURN(LoadedKey root_key, GenerateKey());
  std::map<std::string, LoadedKey> online;
  for (const char* role : kOnlineRoles) {
    REFUGE_ASSIGN_OR_RETURN(online[role], GenerateKey());
  }
  const int64_t now = clock.NowSeconds();
  Json root = SignedHeader(tuf::kRoot, 1, now + options.expiry.root_days * kSecondsPerDay);
  root["consistent_snapshot"] = true;
  Json keys = Json::object();
  keys[root_key.keyid] = tuf::Ed25519KeyJson(root_key.key->PublicKey());
  Json roles = Json::object();
  roles[tuf::kRoot] = RoleJson({root_key.keyid}, 1);
  for (const auto& [role, key] : online) {
    keys[key.keyid] = tuf::Ed25519KeyJson(key.key->PublicKey());
    roles[role] = RoleJson({key.keyid}, 1);
  }
  root["keys"] = std::move(keys);
  root["roles"] = std::move(roles);
  REFUGE_ASSIGN_OR_RETURN(std::string bytes,
                          tuf::SignMetadata(root, {tuf::Signer{root_key.keyid, root_key.key.get()}}));

  InitResult result;
  result.site_id = SiteIdOf(bytes);
  result.root_key_dir = options.root_key_dir.empty()
                            ? home.SiteKeysDir(result.site_id) + "/root"
                            : options.root_key_dir;
  result.online_key_dir = OnlineKeyDir(home, result.site_id);
  REFUGE_RETURN_IF_ERROR(SaveKey(result.root_key_dir, root_key));
  for (const auto& [role, key] : online) REFUGE_RETURN_IF_ERROR(SaveKey(result.online_key_dir, key));

  // The root object and the site row appear together: the store lock keeps a concurrent gc
  // from collecting the object before the row that references it commits.
  REFUGE_ASSIGN_OR_RETURN(FileLock store_lock, home.LockStore(FileLock::Mode::kShared));
  REFUGE_ASSIGN_OR_RETURN(ObjectInfo info, home.store().PutBytes(bytes));
  SiteRow site;
  site.site_id = result.site_id;
  site.origin = true;
  site.created_at = now;
  Publication pub;
  pub.site_id = result.site_id;
  pub.new_site = site;
  pub.metadata.push_back(MetadataRow{tuf::kRoot, 1, info.sha256, info.size});
  REFUGE_RETURN_IF_ERROR(home.db().Commit(pub));
  return result;
}

Result<PublishResult> Publish(NodeHome& home, const std::string& site_id, const std::string& dir,
                              const PublishOptions& options, const Clock& clock) {
  REFUGE_RETURN_IF_ERROR(RequireOrigin(home, site_id));
  // Everything that can be refused is refused before anything is written.
  REFUGE_ASSIGN_OR_RETURN(std::vector<SourceFile> files, ScanSourceTree(dir));
  REFUGE_ASSIGN_OR_RETURN(FileLock store_lock, home.LockStore(FileLock::Mode::kShared));
  REFUGE_ASSIGN_OR_RETURN(FileLock site_lock, home.LockSite(site_id));
  REFUGE_ASSIGN_OR_RETURN(tuf::Root root, LoadLatestRoot(home, site_id));
  REFUGE_ASSIGN_OR_RETURN(OnlineKeys keys, LoadOnlineKeys(home, site_id, root));
  REFUGE_ASSIGN_OR_RETURN(auto cache, home.db().LoadFileCache(site_id));

  int threads = options.threads;
  if (threads <= 0) threads = std::max(2u, std::thread::hardware_concurrency());
  Stager stager(home.store(), files, cache);
  Status staged = stager.Run(threads, options.progress);
  if (!staged.ok()) {
    home.store().AbortStaged(stager.staged());
    return staged;
  }
  PublishResult result;
  std::set<std::string> new_hashes;  // two new files with the same bytes make one object
  for (const StagedObject& s : stager.staged()) {
    if (!new_hashes.insert(s.info.sha256).second) continue;
    ++result.new_objects;
    result.new_bytes += s.info.size;
  }
  Status committed = home.store().CommitStaged(stager.staged());
  if (!committed.ok()) {
    home.store().AbortStaged(stager.staged());
    return committed;
  }

  std::vector<FileRow> rows;
  std::vector<FileCacheRow> cache_rows;
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& r = stager.results()[i];
    rows.push_back(FileRow{files[i].target_path, r.info.sha256, r.info.size});
    cache_rows.push_back(r.cache_row);
    result.total_bytes += r.info.size;
    if (r.from_cache) {
      ++result.unchanged_files;
    } else {
      ++result.hashed_files;
      result.hashed_bytes += r.info.size;
    }
  }
  REFUGE_ASSIGN_OR_RETURN(std::optional<FileRow> mirror_list, StoreMirrorList(home, site_id));
  if (mirror_list) {
    // The signed list replaces a file of the same name in the source directory.
    std::erase_if(rows, [](const FileRow& r) { return r.path == kMirrorListTarget; });
    rows.push_back(*mirror_list);
    result.total_bytes += mirror_list->length;
  }
  Publication pub;
  REFUGE_RETURN_IF_ERROR(SignVersion(home, site_id, root, keys, rows, options.expiry, clock, pub));
  pub.file_cache = std::move(cache_rows);
  REFUGE_RETURN_IF_ERROR(home.db().Commit(pub));
  result.version = pub.version->version;
  result.files = files.size();
  return result;
}

Result<int64_t> RefreshTimestamp(NodeHome& home, const std::string& site_id,
                                 const ExpiryPolicy& expiry, const Clock& clock) {
  REFUGE_RETURN_IF_ERROR(RequireOrigin(home, site_id));
  REFUGE_ASSIGN_OR_RETURN(FileLock store_lock, home.LockStore(FileLock::Mode::kShared));
  REFUGE_ASSIGN_OR_RETURN(FileLock site_lock, home.LockSite(site_id));
  REFUGE_ASSIGN_OR_RETURN(tuf::Root root, LoadLatestRoot(home, site_id));
  auto latest = home.db().LatestMetadata(site_id, tuf::kTimestamp);
  if (!latest.ok()) {
    return InvalidArgument("site " + site_id + " has no published version yet; run refuge publish");
  }
  REFUGE_ASSIGN_OR_RETURN(std::string bytes,
                          home.store().Read(latest->sha256, limits::kMaxTimestampBytes));
  REFUGE_ASSIGN_OR_RETURN(tuf::Timestamp old, tuf::ParseTimestamp(bytes));
  REFUGE_ASSIGN_OR_RETURN(auto keys,
                          LoadRoleKeys(root, tuf::kTimestamp, {OnlineKeyDir(home, site_id)}));
  Json ts = SignedHeader(tuf::kTimestamp, latest->version + 1,
                         clock.NowSeconds() + expiry.timestamp_days * kSecondsPerDay);
  ts["meta"] = Json{{"snapshot.json", tuf::MetaFileJson(old.snapshot_meta)}};
  REFUGE_ASSIGN_OR_RETURN(MetadataRow row, SignAndStore(home, ts, tuf::kTimestamp, keys));
  Publication pub;
  pub.site_id = site_id;
  pub.metadata.push_back(row);
  REFUGE_RETURN_IF_ERROR(home.db().Commit(pub));
  return row.version;
}

Result<RotateResult> RotateKey(NodeHome& home, const std::string& site_id, const std::string& role,
                               const std::string& root_key_dir, const ExpiryPolicy& expiry,
                               const Clock& clock) {
  if (role != tuf::kRoot && role != tuf::kTargets && role != tuf::kSnapshot &&
      role != tuf::kTimestamp) {
    return InvalidArgument("unknown role '" + role +
                           "': choose root, targets, snapshot or timestamp");
  }
  REFUGE_RETURN_IF_ERROR(RequireOrigin(home, site_id));
  REFUGE_ASSIGN_OR_RETURN(FileLock store_lock, home.LockStore(FileLock::Mode::kShared));
  REFUGE_ASSIGN_OR_RETURN(FileLock site_lock, home.LockSite(site_id));
  REFUGE_ASSIGN_OR_RETURN(tuf::Root old_root, LoadLatestRoot(home, site_id));
  const std::vector<std::string> root_dirs = RootKeyDirs(home, site_id, root_key_dir);
  REFUGE_ASSIGN_OR_RETURN(auto old_root_keys, LoadRoleKeys(old_root, tuf::kRoot, root_dirs));

  const tuf::RoleKeys& rk = old_root.roles.at(role);
  if (rk.keyids.size() != 1) {
    return InvalidArgument("role " + role + " has " + std::to_string(rk.keyids.size()) +
                           " keys; refuge key rotate replaces the key of single-key roles");
  }
  RotateResult result;
  result.role = role;
  result.old_keyid = rk.keyids[0];
  REFUGE_ASSIGN_OR_RETURN(LoadedKey new_key, GenerateKey());
  result.new_keyid = new_key.keyid;

  // Root N+1: the same as N with the role's key replaced.
  Json root = old_root.envelope.signed_json;
  root["version"] = old_root.envelope.version + 1;
  root["expires"] = FormatUtc(clock.NowSeconds() + expiry.root_days * kSecondsPerDay);
  root["roles"][role]["keyids"] = Json::array({new_key.keyid});
  root["keys"][new_key.keyid] = tuf::Ed25519KeyJson(new_key.key->PublicKey());
  bool still_used = false;
  for (const auto& [name, r] : old_root.roles) {
    if (name == role) continue;
    for (const std::string& id : r.keyids) still_used = still_used || id == result.old_keyid;
  }
  if (!still_used) root["keys"].erase(result.old_keyid);

  // Signed by a threshold of the old root keys and, for a root rotation, by the new key.
  std::vector<tuf::Signer> signers = SignersOf(old_root_keys);
  if (role == tuf::kRoot) signers.push_back(tuf::Signer{new_key.keyid, new_key.key.get()});
  REFUGE_ASSIGN_OR_RETURN(std::string root_bytes, tuf::SignMetadata(root, signers));
  REFUGE_ASSIGN_OR_RETURN(tuf::Root new_root, tuf::ParseRoot(root_bytes));
  REFUGE_RETURN_IF_ERROR(tuf::VerifyByRoot(new_root.envelope, old_root, tuf::kRoot));
  REFUGE_RETURN_IF_ERROR(tuf::VerifyByRoot(new_root.envelope, new_root, tuf::kRoot));

  const std::string key_dir =
      role == tuf::kRoot ? root_dirs.front() : OnlineKeyDir(home, site_id);
  REFUGE_RETURN_IF_ERROR(SaveKey(key_dir, new_key));
  REFUGE_ASSIGN_OR_RETURN(ObjectInfo info, home.store().PutBytes(root_bytes));
  Publication pub;
  pub.site_id = site_id;
  pub.metadata.push_back(MetadataRow{tuf::kRoot, new_root.envelope.version, info.sha256, info.size});
  result.root_version = new_root.envelope.version;

  // Re-sign the current version with the new online key, so clients see metadata signed by
  // keys the new root trusts.
  REFUGE_ASSIGN_OR_RETURN(SiteRow site, home.db().GetSite(site_id));
  if (role != tuf::kRoot && site.current_version > 0) {
    REFUGE_ASSIGN_OR_RETURN(OnlineKeys keys, LoadOnlineKeys(home, site_id, new_root));
    REFUGE_ASSIGN_OR_RETURN(auto files, home.db().VersionFiles(site_id, site.current_version));
    Publication version_pub;
    REFUGE_RETURN_IF_ERROR(
        SignVersion(home, site_id, new_root, keys, files, expiry, clock, version_pub));
    for (MetadataRow& m : version_pub.metadata) pub.metadata.push_back(std::move(m));
    pub.version = version_pub.version;
    pub.files = std::move(version_pub.files);
    result.version = pub.version->version;
  }
  REFUGE_RETURN_IF_ERROR(home.db().Commit(pub));

  // The old key signs nothing any more; keep it, out of the way, for the record.
  for (const std::string& dir :
       role == tuf::kRoot ? root_dirs : std::vector<std::string>{OnlineKeyDir(home, site_id)}) {
    std::string old_path = dir + "/" + result.old_keyid + ".pem";
    if (PathExists(old_path)) REFUGE_RETURN_IF_ERROR(RetireKeyFile(home, site_id, old_path));
  }
  return result;
}

}  // namespace refuge
