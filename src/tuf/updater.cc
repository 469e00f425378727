#include "tuf/updater.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "common/file_util.h"
#include "common/limits.h"
#include "crypto/sha256.h"

namespace refuge::tuf {

namespace {

std::string JoinUrl(const std::string& base, const std::string& rest) {
  std::string url = base;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += '/';
  url += rest;
  return url;
}

bool SameRoleKeys(const Root& a, const Root& b, const std::string& role) {
  const RoleKeys& ra = a.roles.at(role);
  const RoleKeys& rb = b.roles.at(role);
  std::set<std::string> ka(ra.keyids.begin(), ra.keyids.end());
  std::set<std::string> kb(rb.keyids.begin(), rb.keyids.end());
  return ka == kb && ra.threshold == rb.threshold;
}

Status Expired(const std::string& role, const Envelope& env) {
  return VerificationFailed(role + " metadata version " + std::to_string(env.version) +
                            " expired at " + FormatUtc(env.expires) +
                            " (a freeze attack, or a publisher who stopped re-signing)");
}

Status Rollback(const std::string& what) { return VerificationFailed("rollback refused: " + what); }

// The sha256 that a target's signed hashes carry; refuge requires one.
Result<std::string> TargetSha256(const TargetFile& info, const std::string& path) {
  auto it = info.hashes.find("sha256");
  if (it == info.hashes.end() || !IsSha256Hex(it->second)) {
    return VerificationFailed("target " + path + " has no valid sha256 hash");
  }
  return it->second;
}

}  // namespace

Updater::Updater(const UpdaterOptions& options)
    : options_(options), clock_(options.clock ? options.clock : &SystemClock::Get()) {
  if (options_.max_root_rotations <= 0) options_.max_root_rotations = limits::kMaxRootRotations;
  if (options_.max_delegations <= 0) options_.max_delegations = limits::kMaxDelegationsVisited;
}

std::string Updater::LocalFileName(const std::string& role) { return QuoteSegment(role) + ".json"; }

Status Updater::InitTrustedRoot(const std::string& metadata_dir, std::string_view root_bytes) {
  auto root = ParseRoot(root_bytes);
  if (!root.ok()) return root.status().Annotate("trusted root");
  REFUGE_RETURN_IF_ERROR(VerifyByRoot(root->envelope, *root, kRoot).Annotate("trusted root"));
  REFUGE_RETURN_IF_ERROR(MakeDirectories(metadata_dir));
  return WriteFileDurable(metadata_dir + "/" + LocalFileName(kRoot), root_bytes);
}

Result<std::unique_ptr<Updater>> Updater::Open(const UpdaterOptions& options) {
  if (options.fetcher == nullptr) return InvalidArgument("Updater needs a fetcher");
  std::unique_ptr<Updater> u(new Updater(options));
  std::string path = options.metadata_dir + "/" + LocalFileName(kRoot);
  auto bytes = ReadFileBounded(path, limits::kMaxRootBytes);
  if (!bytes.ok()) return bytes.status().Annotate("trusted root");
  auto root = ParseRoot(*bytes);
  if (!root.ok()) return root.status().Annotate(path);
  REFUGE_RETURN_IF_ERROR(VerifyByRoot(root->envelope, *root, kRoot).Annotate(path));
  u->root_ = std::move(root).value();
  return u;
}

Result<std::string> Updater::ReadLocal(const std::string& role) const {
  uint64_t max = role == kRoot ? limits::kMaxRootBytes
                 : role == kTimestamp ? limits::kMaxTimestampBytes
                 : role == kSnapshot ? limits::kMaxSnapshotBytes
                                     : limits::kMaxTargetsBytes;
  return ReadFileBounded(options_.metadata_dir + "/" + LocalFileName(role), max);
}

Status Updater::Persist(const std::string& role, std::string_view bytes) const {
  return WriteFileDurable(options_.metadata_dir + "/" + LocalFileName(role), bytes);
}

std::string Updater::MetadataUrl(const std::string& role, std::optional<int64_t> version) const {
  std::string name;
  if (version) name = std::to_string(*version) + ".";
  name += QuoteSegment(role) + ".json";
  return JoinUrl(options_.metadata_base_url, name);
}

// --- The workflow ------------------------------------------------------------------------------

Status Updater::Refresh() {
  reference_time_ = clock_->NowSeconds();  // 5.1
  refreshed_ = false;
  timestamp_.reset();
  snapshot_.reset();
  snapshot_final_ = false;
  targets_.reset();
  delegated_.clear();
  REFUGE_RETURN_IF_ERROR(LoadRootChain());  // 5.3
  REFUGE_RETURN_IF_ERROR(LoadTimestamp());  // 5.4
  REFUGE_RETURN_IF_ERROR(LoadSnapshot());   // 5.5
  REFUGE_RETURN_IF_ERROR(LoadTargets(kTargets, kRoot));  // 5.6
  refreshed_ = true;
  return Status::Ok();
}

Status Updater::LoadRootChain() {
  const Root original = root_;
  const int64_t first = root_.envelope.version + 1;
  for (int64_t v = first; v < first + options_.max_root_rotations; ++v) {
    auto bytes = options_.fetcher->Fetch(MetadataUrl(kRoot, v), limits::kMaxRootBytes);
    if (!bytes.ok()) {
      if (bytes.status().code() == StatusCode::kNotFound) break;  // 5.3.3: no newer root
      return bytes.status().Annotate("root version " + std::to_string(v));
    }
    REFUGE_RETURN_IF_ERROR(UpdateRoot(*bytes));
    REFUGE_RETURN_IF_ERROR(Persist(kRoot, *bytes));  // 5.3.8
  }
  if (root_.envelope.IsExpired(reference_time_)) return Expired(kRoot, root_.envelope);  // 5.3.10
  // 5.3.11: after a rotation of the timestamp or snapshot keys, the old trusted files may
  // carry versions an attacker pushed forward (fast-forward attack); forget them.
  if (!SameRoleKeys(original, root_, kTimestamp) || !SameRoleKeys(original, root_, kSnapshot)) {
    for (const char* role : {kTimestamp, kSnapshot}) {
      std::string path = options_.metadata_dir + "/" + LocalFileName(role);
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("unlink " + path, errno);
    }
  }
  return Status::Ok();
}

Status Updater::UpdateRoot(std::string_view bytes) {
  auto parsed = ParseRoot(bytes);
  if (!parsed.ok()) {
    return parsed.status().Annotate("root version " + std::to_string(root_.envelope.version + 1));
  }
  Root next = std::move(parsed).value();
  // 5.3.5: signed by a threshold of the trusted root's keys, and of its own.
  REFUGE_RETURN_IF_ERROR(
      VerifyByRoot(next.envelope, root_, kRoot).Annotate("new root (checked with trusted keys)"));
  REFUGE_RETURN_IF_ERROR(
      VerifyByRoot(next.envelope, next, kRoot).Annotate("new root (checked with its own keys)"));
  // 5.3.6: exactly the next version.
  if (next.envelope.version != root_.envelope.version + 1) {
    return Rollback("root file for version " + std::to_string(root_.envelope.version + 1) +
                    " carries version " + std::to_string(next.envelope.version));
  }
  root_ = std::move(next);
  return Status::Ok();
}

Status Updater::LoadTimestamp() {
  if (auto local = ReadLocal(kTimestamp); local.ok()) {
    // A local file that no longer verifies (for example after a key rotation) is dropped.
    (void)UpdateTimestamp(*local, /*from_local=*/true);
  }
  auto bytes = options_.fetcher->Fetch(MetadataUrl(kTimestamp, std::nullopt),
                                       limits::kMaxTimestampBytes);
  if (!bytes.ok()) return bytes.status().Annotate("timestamp");
  const std::optional<int64_t> before =
      timestamp_ ? std::optional<int64_t>(timestamp_->envelope.version) : std::nullopt;
  REFUGE_RETURN_IF_ERROR(UpdateTimestamp(*bytes, /*from_local=*/false));
  if (!before || *before != timestamp_->envelope.version) {
    REFUGE_RETURN_IF_ERROR(Persist(kTimestamp, *bytes));
  }
  return Status::Ok();
}

Status Updater::UpdateTimestamp(std::string_view bytes, bool from_local) {
  auto parsed = ParseTimestamp(bytes);
  if (!parsed.ok()) return parsed.status().Annotate("timestamp");
  Timestamp next = std::move(parsed).value();
  REFUGE_RETURN_IF_ERROR(VerifyByRoot(next.envelope, root_, kTimestamp));  // 5.4.2
  bool equal = false;
  if (timestamp_) {  // 5.4.3: no rollback of the timestamp nor of the snapshot it names
    if (next.envelope.version < timestamp_->envelope.version) {
      return Rollback("timestamp version " + std::to_string(next.envelope.version) +
                      " is older than trusted version " +
                      std::to_string(timestamp_->envelope.version));
    }
    equal = next.envelope.version == timestamp_->envelope.version;
    if (!equal && next.snapshot_meta.version < timestamp_->snapshot_meta.version) {
      return Rollback("timestamp names snapshot version " +
                      std::to_string(next.snapshot_meta.version) + ", older than trusted " +
                      std::to_string(timestamp_->snapshot_meta.version));
    }
  }
  if (!equal) timestamp_ = std::move(next);
  // 5.4.4: freeze. A local file may be expired: it still serves as the rollback reference.
  if (!from_local && timestamp_->envelope.IsExpired(reference_time_)) {
    return Expired(kTimestamp, timestamp_->envelope);
  }
  return Status::Ok();
}

Status Updater::LoadSnapshot() {
  if (auto local = ReadLocal(kSnapshot); local.ok()) {
    if (UpdateSnapshot(*local, /*from_local=*/true).ok()) return Status::Ok();
  }
  const MetaFile& meta = timestamp_->snapshot_meta;
  std::optional<int64_t> version;
  if (root_.consistent_snapshot) version = meta.version;
  auto bytes = options_.fetcher->Fetch(MetadataUrl(kSnapshot, version),
                                       meta.length.value_or(limits::kMaxSnapshotBytes));
  if (!bytes.ok()) return bytes.status().Annotate("snapshot");
  REFUGE_RETURN_IF_ERROR(UpdateSnapshot(*bytes, /*from_local=*/false));
  return Persist(kSnapshot, *bytes);
}

Status Updater::UpdateSnapshot(std::string_view bytes, bool from_local) {
  if (!timestamp_) return Internal("snapshot update before timestamp");
  const MetaFile& meta = timestamp_->snapshot_meta;
  if (!from_local) {  // 5.5.2: the hashes and length the timestamp signed
    REFUGE_RETURN_IF_ERROR(CheckLengthAndHashes(bytes, meta.length, meta.hashes, "snapshot"));
  }
  auto parsed = ParseSnapshot(bytes);
  if (!parsed.ok()) return parsed.status().Annotate("snapshot");
  Snapshot next = std::move(parsed).value();
  REFUGE_RETURN_IF_ERROR(VerifyByRoot(next.envelope, root_, kSnapshot));  // 5.5.3
  if (snapshot_) {  // 5.5.5: no targets metadata disappears or goes back in version
    for (const auto& [name, old_meta] : snapshot_->meta) {
      auto it = next.meta.find(name);
      if (it == next.meta.end()) {
        return Rollback("snapshot version " + std::to_string(next.envelope.version) +
                        " no longer lists " + name);
      }
      if (it->second.version < old_meta.version) {
        return Rollback("snapshot lists " + name + " version " +
                        std::to_string(it->second.version) + ", older than trusted " +
                        std::to_string(old_meta.version));
      }
    }
  }
  snapshot_ = std::move(next);
  snapshot_final_ = false;
  // 5.5.4: the version the timestamp names (mix-and-match); 5.5.6: freeze.
  if (snapshot_->envelope.version != meta.version) {
    return VerificationFailed("snapshot version " + std::to_string(snapshot_->envelope.version) +
                              " is not the version " + std::to_string(meta.version) +
                              " that the timestamp names");
  }
  if (snapshot_->envelope.IsExpired(reference_time_)) return Expired(kSnapshot, snapshot_->envelope);
  snapshot_final_ = true;
  return Status::Ok();
}

Status Updater::LoadTargets(const std::string& role, const std::string& delegator) {
  if (role == kTargets ? targets_.has_value() : delegated_.count(role) > 0) return Status::Ok();
  if (!snapshot_final_) return Internal("targets update before a final snapshot");
  auto meta_it = snapshot_->meta.find(role + ".json");
  if (meta_it == snapshot_->meta.end()) {
    return VerificationFailed("snapshot does not list the metadata of role " + role);
  }
  const MetaFile meta = meta_it->second;
  if (auto local = ReadLocal(role); local.ok()) {
    if (UpdateTargets(*local, role, delegator).ok()) return Status::Ok();
  }
  std::optional<int64_t> version;
  if (root_.consistent_snapshot) version = meta.version;
  auto bytes = options_.fetcher->Fetch(MetadataUrl(role, version),
                                       meta.length.value_or(limits::kMaxTargetsBytes));
  if (!bytes.ok()) return bytes.status().Annotate("role " + role);
  REFUGE_RETURN_IF_ERROR(UpdateTargets(*bytes, role, delegator));
  return Persist(role, *bytes);
}

Status Updater::UpdateTargets(std::string_view bytes, const std::string& role,
                              const std::string& delegator) {
  const MetaFile& meta = snapshot_->meta.at(role + ".json");
  // 5.6.2: always checked, local files included (the snapshot may have moved on).
  REFUGE_RETURN_IF_ERROR(CheckLengthAndHashes(bytes, meta.length, meta.hashes, "role " + role));
  auto parsed = ParseTargets(bytes);
  if (!parsed.ok()) return parsed.status().Annotate("role " + role);
  Targets next = std::move(parsed).value();
  if (delegator == kRoot) {
    REFUGE_RETURN_IF_ERROR(VerifyByRoot(next.envelope, root_, kTargets));  // 5.6.3
  } else {
    REFUGE_ASSIGN_OR_RETURN(const Targets* parent, TrustedTargetsFor(delegator));
    const DelegatedRole* delegation = nullptr;
    if (parent->delegations) {
      for (const DelegatedRole& r : parent->delegations->roles) {
        if (r.name == role) delegation = &r;
      }
    }
    if (delegation == nullptr) {
      return VerificationFailed("role " + delegator + " does not delegate to " + role);
    }
    REFUGE_RETURN_IF_ERROR(
        VerifyThreshold(next.envelope, parent->delegations->keys, delegation->keys, role));
  }
  if (next.envelope.version != meta.version) {  // 5.6.4 (mix-and-match)
    return VerificationFailed("role " + role + " version " + std::to_string(next.envelope.version) +
                              " is not the version " + std::to_string(meta.version) +
                              " that the snapshot names");
  }
  if (next.envelope.IsExpired(reference_time_)) return Expired(role, next.envelope);  // 5.6.5
  if (role == kTargets) {
    targets_ = std::move(next);
  } else {
    delegated_[role] = std::move(next);
  }
  return Status::Ok();
}

Result<const Targets*> Updater::TrustedTargetsFor(const std::string& role) {
  if (role == kTargets) {
    if (!targets_) return Internal("top-level targets not loaded");
    return &*targets_;
  }
  auto it = delegated_.find(role);
  if (it == delegated_.end()) return Internal("role " + role + " not loaded");
  return &it->second;
}

Result<TargetFile> Updater::GetTargetInfo(const std::string& target_path) {
  if (!refreshed_) REFUGE_RETURN_IF_ERROR(Refresh());
  // 5.6.7: pre-order depth-first search of the delegation graph.
  std::vector<std::pair<std::string, std::string>> to_visit{{kTargets, kRoot}};
  std::set<std::pair<std::string, std::string>> visited;
  int count = 0;
  while (!to_visit.empty() && count < options_.max_delegations) {
    auto [role, delegator] = to_visit.back();
    to_visit.pop_back();
    if (!visited.insert({role, delegator}).second) continue;
    ++count;
    REFUGE_RETURN_IF_ERROR(LoadTargets(role, delegator));
    REFUGE_ASSIGN_OR_RETURN(const Targets* targets, TrustedTargetsFor(role));
    auto found = targets->targets.find(target_path);
    if (found != targets->targets.end()) return found->second;
    if (!targets->delegations) continue;
    std::vector<std::pair<std::string, std::string>> children;
    for (const DelegatedRole& child : targets->delegations->roles) {
      if (!child.IsDelegatedPath(target_path)) continue;
      children.emplace_back(child.name, role);
      if (child.terminating) {  // 5.6.7.2.1: nothing after a terminating match is searched
        to_visit.clear();
        break;
      }
    }
    std::reverse(children.begin(), children.end());
    to_visit.insert(to_visit.end(), children.begin(), children.end());
  }
  if (!to_visit.empty()) {
    return NotFound("target " + target_path + " not found within the first " +
                    std::to_string(options_.max_delegations) + " delegated roles");
  }
  return NotFound("target " + target_path + " is not listed by any trusted targets role");
}

bool Updater::IsCached(const TargetFile& info, const std::string& file_path) const {
  auto expected = TargetSha256(info, file_path);
  if (!expected.ok()) return false;
  auto fd = OpenFile(file_path, O_RDONLY);
  if (!fd.ok()) return false;
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<uint64_t>(st.st_size) != info.length) {
    return false;
  }
  Sha256 hasher;
  std::vector<char> buf(1 << 16);
  for (;;) {
    auto n = ReadSome(fd->get(), buf.data(), buf.size(), file_path);
    if (!n.ok()) return false;
    if (*n == 0) break;
    hasher.Update(buf.data(), *n);
  }
  return ConstantTimeEquals(HexEncode(hasher.Finish()), *expected);
}

Status Updater::DownloadTarget(const TargetFile& info, const std::string& target_path,
                               const std::string& file_path) {
  REFUGE_ASSIGN_OR_RETURN(std::string sha256, TargetSha256(info, target_path));
  std::string relative;
  if (root_.consistent_snapshot) {  // spec 5.7.3: <dir>/<hash>.<name>
    size_t slash = target_path.rfind('/');
    std::string dir = slash == std::string::npos ? "" : target_path.substr(0, slash + 1);
    std::string name = slash == std::string::npos ? target_path : target_path.substr(slash + 1);
    relative = QuotePath(dir) + sha256 + "." + QuoteSegment(name);
  } else {
    relative = QuotePath(target_path);
  }
  std::string url = JoinUrl(options_.target_base_url, relative);

  std::string tmp = TempName(DirName(file_path), ".refuge-download-");
  REFUGE_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644));
  Sha256 hasher;
  uint64_t received = 0;
  Status s = options_.fetcher->FetchTo(url, info.length, [&](std::string_view chunk) {
    hasher.Update(chunk);
    received += chunk.size();
    return WriteAll(fd.get(), chunk.data(), chunk.size(), tmp);
  });
  if (s.ok() && received != info.length) {
    s = VerificationFailed("target " + target_path + ": got " + std::to_string(received) +
                           " bytes, the signed length is " + std::to_string(info.length));
  }
  if (s.ok() && !ConstantTimeEquals(HexEncode(hasher.Finish()), sha256)) {
    s = VerificationFailed("target " + target_path + ": sha256 does not match the signed hash");
  }
  if (s.ok() && ::fsync(fd.get()) != 0) s = ErrnoStatus("fsync " + tmp, errno);
  fd.Reset();
  if (s.ok() && ::rename(tmp.c_str(), file_path.c_str()) != 0) {
    s = ErrnoStatus("rename to " + file_path, errno);
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s.code() == StatusCode::kTooLarge
               ? VerificationFailed("target " + target_path + ": more bytes than the signed length " +
                                    std::to_string(info.length))
               : s;
  }
  return FsyncDirectory(DirName(file_path));
}

}  // namespace refuge::tuf
