#include "support/test_repository.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <utility>

#include "crypto/sha256.h"

namespace refuge::testing {

namespace {

void Check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "TestRepository: %s\n", what.c_str());
    std::abort();
  }
}

bool IsTopLevel(const std::string& name) {
  return name == tuf::kRoot || name == tuf::kTimestamp || name == tuf::kSnapshot ||
         name == tuf::kTargets;
}

Json Sha256Hashes(const std::string& bytes) { return Json{{"sha256", Sha256Hex(bytes)}}; }

// Metadata file names are URL-quoted ("1.a%2Fb.json"); on disk they are stored where the
// server looks for the decoded URL path ("1.a/b.json").
std::string Unquote(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

TestKey TestKey::Generate() {
  auto key = Ed25519PrivateKey::Generate();
  Check(key.ok(), "key generation failed");
  TestKey k;
  k.public_json = tuf::Ed25519KeyJson(key->PublicKey());
  k.keyid = tuf::KeyIdOf(k.public_json);
  k.private_key = std::make_shared<const Ed25519PrivateKey>(std::move(key).value());
  return k;
}

std::string SignWith(const Json& signed_json, const std::vector<TestKey>& keys) {
  std::vector<tuf::Signer> signers;
  for (const TestKey& k : keys) signers.push_back(k.signer());
  auto bytes = tuf::SignMetadata(signed_json, signers);
  Check(bytes.ok(), "SignMetadata: " + bytes.status().ToString());
  return *bytes;
}

std::string EditMetadata(const std::string& bytes, const std::function<void(Json&)>& edit) {
  Json doc = Json::parse(bytes);
  edit(doc);
  return doc.dump();
}

TestRepository::TestRepository(std::string dir, int64_t now) : dir_(std::move(dir)), now_(now) {
  for (const char* name : {tuf::kRoot, tuf::kTimestamp, tuf::kSnapshot, tuf::kTargets}) {
    Role& r = roles_[name];
    r.expires = now_ + 365 * 86'400;
    r.keys = {TestKey::Generate()};
  }
  std::filesystem::create_directories(metadata_dir());
  std::filesystem::create_directories(targets_dir());
}

TestRepository::Role& TestRepository::role(const std::string& name) {
  auto it = roles_.find(name);
  Check(it != roles_.end(), "no role " + name);
  return it->second;
}

TestRepository::Role& TestRepository::AddDelegation(const std::string& parent,
                                                    const std::string& name,
                                                    std::vector<std::string> paths,
                                                    bool terminating) {
  Check(!roles_.count(name), "role " + name + " exists");
  role(parent).children.push_back(name);
  Role& r = roles_[name];
  r.expires = now_ + 365 * 86'400;
  r.keys = {TestKey::Generate()};
  r.paths = std::move(paths);
  r.terminating = terminating;
  return r;
}

void TestRepository::AddTarget(const std::string& path, const std::string& contents,
                               const std::string& role_name) {
  role(role_name).files[path] = contents;
}

Json TestRepository::RootSigned() const {
  Json keys = Json::object();
  Json roles = Json::object();
  for (const char* name : {tuf::kRoot, tuf::kTimestamp, tuf::kSnapshot, tuf::kTargets}) {
    const Role& r = roles_.at(name);
    Json ids = Json::array();
    for (const TestKey& k : r.keys) {
      keys[k.keyid] = k.public_json;
      ids.push_back(k.keyid);
    }
    roles[name] = Json{{"keyids", ids}, {"threshold", r.threshold}};
  }
  const Role& root = roles_.at(tuf::kRoot);
  return Json{{"_type", "root"},
              {"spec_version", tuf::kSpecVersion},
              {"version", root.version},
              {"expires", FormatUtc(root.expires)},
              {"consistent_snapshot", consistent_snapshot},
              {"keys", keys},
              {"roles", roles}};
}

Json TestRepository::MetaOf(const std::string& role_name, int64_t version,
                            bool with_hashes) const {
  Json meta{{"version", version}};
  auto it = published_.find(role_name);
  if (with_hashes && it != published_.end()) {
    meta["length"] = it->second.size();
    meta["hashes"] = Sha256Hashes(it->second);
  }
  return meta;
}

Json TestRepository::TimestampSigned() const {
  const Role& r = roles_.at(tuf::kTimestamp);
  const int64_t snapshot_version = roles_.at(tuf::kSnapshot).version;
  return Json{{"_type", "timestamp"},
              {"spec_version", tuf::kSpecVersion},
              {"version", r.version},
              {"expires", FormatUtc(r.expires)},
              {"meta", Json{{"snapshot.json", MetaOf(tuf::kSnapshot, snapshot_version,
                                                      timestamp_meta_hashes)}}}};
}

Json TestRepository::SnapshotSigned() const {
  const Role& r = roles_.at(tuf::kSnapshot);
  Json meta = Json::object();
  for (const auto& [name, role_state] : roles_) {
    if (IsTopLevel(name) && name != tuf::kTargets) continue;
    meta[name + ".json"] = MetaOf(name, role_state.version, snapshot_meta_hashes);
  }
  return Json{{"_type", "snapshot"},
              {"spec_version", tuf::kSpecVersion},
              {"version", r.version},
              {"expires", FormatUtc(r.expires)},
              {"meta", meta}};
}

Json TestRepository::TargetsSigned(const std::string& name) const {
  const Role& r = roles_.at(name);
  Json targets = Json::object();
  for (const auto& [path, contents] : r.files) {
    targets[path] = Json{{"length", contents.size()}, {"hashes", Sha256Hashes(contents)}};
  }
  Json signed_json{{"_type", "targets"},
                   {"spec_version", tuf::kSpecVersion},
                   {"version", r.version},
                   {"expires", FormatUtc(r.expires)},
                   {"targets", targets}};
  if (!r.children.empty()) {
    Json keys = Json::object();
    Json roles = Json::array();
    for (const std::string& child : r.children) {
      const Role& c = roles_.at(child);
      Json ids = Json::array();
      for (const TestKey& k : c.keys) {
        keys[k.keyid] = k.public_json;
        ids.push_back(k.keyid);
      }
      Json d{{"name", child},
             {"keyids", ids},
             {"threshold", c.threshold},
             {"terminating", c.terminating}};
      if (c.paths) d["paths"] = *c.paths;
      if (c.path_hash_prefixes) d["path_hash_prefixes"] = *c.path_hash_prefixes;
      roles.push_back(d);
    }
    signed_json["delegations"] = Json{{"keys", keys}, {"roles", roles}};
  }
  return signed_json;
}

std::string TestRepository::FileName(const std::string& role_name, int64_t version) const {
  std::string base = QuoteSegment(role_name) + ".json";
  if (role_name == tuf::kTimestamp) return base;
  if (role_name == tuf::kRoot || consistent_snapshot) return std::to_string(version) + "." + base;
  return base;
}

std::string TestRepository::TargetFilePath(const std::string& target_path,
                                           const std::string& contents) const {
  if (!consistent_snapshot) return targets_dir() + "/" + target_path;
  size_t slash = target_path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : target_path.substr(0, slash + 1);
  std::string name = slash == std::string::npos ? target_path : target_path.substr(slash + 1);
  return targets_dir() + "/" + dir + Sha256Hex(contents) + "." + name;
}

std::vector<TestKey> TestRepository::SignersOf(const std::string& name) const {
  const Role& r = roles_.at(name);
  return r.signers.empty() ? r.keys : r.signers;
}

void TestRepository::PublishRoot() {
  std::vector<TestKey> signers = SignersOf(tuf::kRoot);
  std::set<std::string> ids;
  for (const TestKey& k : signers) ids.insert(k.keyid);
  for (const TestKey& k : previous_root_signers_) {
    if (ids.insert(k.keyid).second) signers.push_back(k);
  }
  const Role& root = roles_.at(tuf::kRoot);
  std::string bytes = SignWith(RootSigned(), signers);
  WriteMetadata(FileName(tuf::kRoot, root.version), bytes);
  published_[tuf::kRoot] = bytes;
  previous_root_signers_ = SignersOf(tuf::kRoot);
}

void TestRepository::PublishTargets(const std::string& name) {
  const Role& r = roles_.at(name);
  for (const auto& [path, contents] : r.files) {
    std::string file = TargetFilePath(path, contents);
    std::filesystem::create_directories(std::filesystem::path(file).parent_path());
    WriteTestFile(file, contents);
  }
  std::string bytes = SignWith(TargetsSigned(name), SignersOf(name));
  WriteMetadata(FileName(name, r.version), bytes);
  published_[name] = bytes;
}

void TestRepository::PublishSnapshot() {
  const Role& r = roles_.at(tuf::kSnapshot);
  std::string bytes = SignWith(SnapshotSigned(), SignersOf(tuf::kSnapshot));
  WriteMetadata(FileName(tuf::kSnapshot, r.version), bytes);
  published_[tuf::kSnapshot] = bytes;
}

void TestRepository::PublishTimestamp() {
  std::string bytes = SignWith(TimestampSigned(), SignersOf(tuf::kTimestamp));
  WriteMetadata(FileName(tuf::kTimestamp, 0), bytes);
  published_[tuf::kTimestamp] = bytes;
}

void TestRepository::Publish() {
  for (const auto& [name, r] : roles_) {
    if (name == tuf::kTargets || !IsTopLevel(name)) PublishTargets(name);
  }
  PublishSnapshot();
  PublishTimestamp();
}

std::string TestRepository::RootBytes(int64_t version) const {
  return ReadMetadata(FileName(tuf::kRoot, version));
}

const std::string& TestRepository::Published(const std::string& role_name) const {
  auto it = published_.find(role_name);
  Check(it != published_.end(), role_name + " was not published");
  return it->second;
}

void TestRepository::WriteMetadata(const std::string& file_name, const std::string& bytes) {
  WriteTestFile(metadata_dir() + "/" + Unquote(file_name), bytes);
}

std::string TestRepository::ReadMetadata(const std::string& file_name) const {
  const std::string path = metadata_dir() + "/" + Unquote(file_name);
  Check(std::filesystem::exists(path), "no file " + file_name);
  return ReadTestFile(path);
}

// --- TufTest ----------------------------------------------------------------------------------

TufTest::TufTest()
    : server_(served_.path()), repo_(served_.path(), kNow), fetcher_(NewHttpFetcher()) {}

void TufTest::InitClient(int64_t version) {
  std::filesystem::remove_all(client_metadata_dir());
  Status s = tuf::Updater::InitTrustedRoot(client_metadata_dir(), repo_.RootBytes(version));
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::filesystem::create_directories(download_dir());
}

std::unique_ptr<tuf::Updater> TufTest::NewUpdater(int max_root_rotations, int max_delegations) {
  tuf::UpdaterOptions options;
  options.metadata_dir = client_metadata_dir();
  options.metadata_base_url = server_.base_url() + "/metadata";
  options.target_base_url = server_.base_url() + "/targets";
  options.fetcher = fetcher_.get();
  options.clock = &clock_;
  options.max_root_rotations = max_root_rotations;
  options.max_delegations = max_delegations;
  auto updater = tuf::Updater::Open(options);
  EXPECT_TRUE(updater.ok()) << updater.status().ToString();
  if (!updater.ok()) return nullptr;
  return std::move(updater).value();
}

Status TufTest::Refresh() {
  auto updater = NewUpdater();
  if (!updater) return Internal("cannot open the updater");
  return updater->Refresh();
}

std::map<std::string, std::string> TufTest::Trusted() const {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(client_metadata_dir())) {
    files[entry.path().filename().string()] = ReadTestFile(entry.path().string());
  }
  return files;
}

}  // namespace refuge::testing
