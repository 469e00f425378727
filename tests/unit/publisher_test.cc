// Publisher: site creation, publishing versions (with the change-detection cache), timestamp
// refresh, key rotation and the expiry policy.
#include "publish/publisher.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/limits.h"
#include "crypto/sha256.h"
#include "support/temp_dir.h"
#include "tuf/metadata.h"

namespace refuge {
namespace {

using refuge::testing::TempDir;
using refuge::testing::WriteTestFile;

constexpr int64_t kNow = 1'700'000'000;


std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    names.push_back(entry.path().filename().string());
  }
  return names;
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// A node home with one freshly initialized site and a source directory to publish.
class PublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto home = NodeHome::Open(home_dir_->path());
    ASSERT_TRUE(home.ok()) << home.status().ToString();
    home_ = std::move(home).value();
    auto init = InitSite(*home_, InitOptions{}, clock_);
    ASSERT_TRUE(init.ok()) << init.status().ToString();
    init_ = *init;
    WriteTestFile(source_.Sub("index.html"), "<h1>home</h1>");
    WriteTestFile(source_.Sub("css/site.css"), "body { color: black; }");
    WriteTestFile(source_.Sub("img/logo.svg"), "<svg/>");
  }

  Result<PublishResult> PublishSource() {
    PublishOptions options;
    options.threads = 2;
    return Publish(*home_, init_.site_id, source_.path(), options, clock_);
  }

  std::string ReadMetadata(const std::string& role, int64_t version) {
    auto row = home_->db().GetMetadata(init_.site_id, role, version);
    EXPECT_TRUE(row.ok()) << row.status().ToString();
    if (!row.ok()) return "";
    auto bytes = home_->store().Read(row->sha256, limits::kMaxTargetsBytes);
    EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
    return bytes.ok() ? *bytes : "";
  }

  int64_t LatestVersion(const std::string& role) {
    auto row = home_->db().LatestMetadata(init_.site_id, role);
    return row.ok() ? row->version : 0;
  }

  size_t ObjectCount() {
    size_t n = 0;
    EXPECT_TRUE(home_->store()
                    .ForEachObject([&](const std::string&) {
                      ++n;
                      return Status::Ok();
                    })
                    .ok());
    return n;
  }

  std::unique_ptr<TempDir> home_dir_ = std::make_unique<TempDir>(TempDir::Medium::kFast);
  TempDir source_;
  FakeClock clock_{kNow};
  std::unique_ptr<NodeHome> home_;
  InitResult init_;
};

// --- InitSite ----------------------------------------------------------------------------------

TEST_F(PublisherTest, InitWritesPrivateKeysWithMode0600) {
  EXPECT_EQ(init_.root_key_dir, home_->SiteKeysDir(init_.site_id) + "/root");
  EXPECT_EQ(init_.online_key_dir, home_->SiteKeysDir(init_.site_id) + "/online");
  auto root_keys = ListDir(init_.root_key_dir);
  auto online_keys = ListDir(init_.online_key_dir);
  ASSERT_EQ(root_keys.size(), 1u);
  ASSERT_EQ(online_keys.size(), 3u);
  for (const std::string& name : root_keys) {
    EXPECT_EQ(ModeOf(init_.root_key_dir + "/" + name), 0600u) << name;
  }
  for (const std::string& name : online_keys) {
    EXPECT_EQ(ModeOf(init_.online_key_dir + "/" + name), 0600u) << name;
  }
  EXPECT_EQ(ModeOf(init_.online_key_dir), 0700u);
}

TEST_F(PublisherTest, InitNamesKeyFilesAfterTheRootsKeyIds) {
  auto root = LoadLatestRoot(*home_, init_.site_id);
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_EQ(ListDir(init_.root_key_dir),
            std::vector<std::string>{root->roles.at(tuf::kRoot).keyids.at(0) + ".pem"});
  for (const char* role : {tuf::kTargets, tuf::kSnapshot, tuf::kTimestamp}) {
    const std::string keyid = root->roles.at(role).keyids.at(0);
    EXPECT_TRUE(std::filesystem::exists(init_.online_key_dir + "/" + keyid + ".pem")) << role;
  }
  EXPECT_TRUE(root->consistent_snapshot);
  EXPECT_EQ(root->envelope.version, 1);
}

TEST_F(PublisherTest, InitPutsRootKeyInTheGivenRootKeyDir) {
  TempDir usb_stick;
  InitOptions options;
  options.root_key_dir = usb_stick.Sub("keys");
  auto init = InitSite(*home_, options, clock_);
  ASSERT_TRUE(init.ok()) << init.status().ToString();
  EXPECT_EQ(init->root_key_dir, usb_stick.Sub("keys"));
  auto on_stick = ListDir(usb_stick.Sub("keys"));
  ASSERT_EQ(on_stick.size(), 1u);
  EXPECT_EQ(ModeOf(usb_stick.Sub("keys") + "/" + on_stick[0]), 0600u);
  EXPECT_TRUE(ListDir(home_->SiteKeysDir(init->site_id) + "/root").empty())
      << "the root key must not also be written into the home";
  EXPECT_EQ(ListDir(init->online_key_dir).size(), 3u);
}

TEST_F(PublisherTest, FirstRootHashesToTheSiteId) {
  EXPECT_TRUE(IsSiteId(init_.site_id)) << init_.site_id;
  const std::string root1 = ReadMetadata(tuf::kRoot, 1);
  ASSERT_FALSE(root1.empty());
  EXPECT_EQ(SiteIdOf(root1), init_.site_id);
  auto site = home_->db().GetSite(init_.site_id);
  ASSERT_TRUE(site.ok());
  EXPECT_TRUE(site->origin);
  EXPECT_EQ(site->current_version, 0);
  EXPECT_EQ(site->created_at, kNow);
}

TEST_F(PublisherTest, RootExpiryFollowsThePolicy) {
  auto root = LoadLatestRoot(*home_, init_.site_id);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->envelope.expires, kNow + ExpiryPolicy{}.root_days * kSecondsPerDay);
}

TEST_F(PublisherTest, TwoInitsGiveTwoSites) {
  auto second = InitSite(*home_, InitOptions{}, clock_);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->site_id, init_.site_id);
  EXPECT_EQ(home_->db().ListSites()->size(), 2u);
}

// --- Publish -----------------------------------------------------------------------------------

TEST_F(PublisherTest, PublishGivesVersionOneThenTwo) {
  auto first = PublishSource();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->version, 1);
  EXPECT_EQ(first->files, 3u);
  EXPECT_EQ(first->hashed_files, 3u);
  EXPECT_EQ(first->new_objects, 3u);
  EXPECT_EQ(first->total_bytes, 13u + 22u + 6u);
  auto second = PublishSource();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->version, 2);
  EXPECT_EQ(home_->db().GetSite(init_.site_id)->current_version, 2);
  EXPECT_EQ(LatestVersion(tuf::kTimestamp), 2);
  EXPECT_EQ(LatestVersion(tuf::kTargets), 2);
}

TEST_F(PublisherTest, PublishedTargetsListEveryFileWithItsHash) {
  ASSERT_TRUE(PublishSource().ok());
  auto root = LoadLatestRoot(*home_, init_.site_id);
  ASSERT_TRUE(root.ok());
  auto targets = tuf::ParseTargets(ReadMetadata(tuf::kTargets, 1));
  ASSERT_TRUE(targets.ok()) << targets.status().ToString();
  EXPECT_TRUE(tuf::VerifyByRoot(targets->envelope, *root, tuf::kTargets).ok());
  ASSERT_EQ(targets->targets.size(), 3u);
  const tuf::TargetFile& css = targets->targets.at("css/site.css");
  EXPECT_EQ(css.length, 22u);
  EXPECT_EQ(css.hashes.at("sha256"), Sha256Hex("body { color: black; }"));
  EXPECT_TRUE(home_->store().Contains(css.hashes.at("sha256")));

  auto snapshot = tuf::ParseSnapshot(ReadMetadata(tuf::kSnapshot, 1));
  ASSERT_TRUE(snapshot.ok());
  EXPECT_TRUE(tuf::VerifyByRoot(snapshot->envelope, *root, tuf::kSnapshot).ok());
  EXPECT_EQ(snapshot->meta.at("targets.json").version, 1);
  auto timestamp = tuf::ParseTimestamp(ReadMetadata(tuf::kTimestamp, 1));
  ASSERT_TRUE(timestamp.ok());
  EXPECT_TRUE(tuf::VerifyByRoot(timestamp->envelope, *root, tuf::kTimestamp).ok());
  EXPECT_EQ(timestamp->snapshot_meta.version, 1);
  EXPECT_EQ(timestamp->envelope.expires, kNow + 30 * kSecondsPerDay);
}

TEST_F(PublisherTest, UnchangedSecondPublishHashesNothing) {
  ASSERT_TRUE(PublishSource().ok());
  auto second = PublishSource();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->files, 3u);
  EXPECT_EQ(second->unchanged_files, second->files);
  EXPECT_EQ(second->hashed_files, 0u);
  EXPECT_EQ(second->hashed_bytes, 0u);
  EXPECT_EQ(second->new_objects, 0u);
  EXPECT_EQ(second->new_bytes, 0u);
}

TEST_F(PublisherTest, ModifiedFileIsHashedAgain) {
  ASSERT_TRUE(PublishSource().ok());
  WriteTestFile(source_.Sub("index.html"), "<h1>home, updated</h1>");
  auto second = PublishSource();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->hashed_files, 1u);
  EXPECT_EQ(second->unchanged_files, 2u);
  EXPECT_EQ(second->new_objects, 1u);
  auto file = home_->db().FindFile(init_.site_id, 2, "index.html");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->sha256, Sha256Hex("<h1>home, updated</h1>"));
}

TEST_F(PublisherTest, SameSizeRewriteIsHashedAgain) {
  ASSERT_TRUE(PublishSource().ok());
  // Same length, different bytes: only mtime/ctime tell the change.
  WriteTestFile(source_.Sub("img/logo.svg"), "<SVG/>");
  auto second = PublishSource();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->hashed_files, 1u);
  EXPECT_EQ(home_->db().FindFile(init_.site_id, 2, "img/logo.svg")->sha256, Sha256Hex("<SVG/>"));
}

TEST_F(PublisherTest, DeletedObjectIsNotTrustedFromTheCache) {
  ASSERT_TRUE(PublishSource().ok());
  ASSERT_TRUE(home_->store().Remove(Sha256Hex("<svg/>")).ok());
  auto second = PublishSource();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->hashed_files, 1u);
  EXPECT_TRUE(home_->store().Contains(Sha256Hex("<svg/>")));
}

TEST_F(PublisherTest, RemovedFileDisappearsFromTheNextVersion) {
  ASSERT_TRUE(PublishSource().ok());
  ASSERT_EQ(::unlink(source_.Sub("img/logo.svg").c_str()), 0);
  auto second = PublishSource();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->files, 2u);
  EXPECT_EQ(home_->db().FindFile(init_.site_id, 2, "img/logo.svg").status().code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(home_->db().FindFile(init_.site_id, 1, "img/logo.svg").ok());
}

TEST_F(PublisherTest, IdenticalNewFilesCountAsOneNewObject) {
  WriteTestFile(source_.Sub("copy-a.txt"), "the same bytes twice");
  WriteTestFile(source_.Sub("copy-b.txt"), "the same bytes twice");
  const size_t objects_before = ObjectCount();
  auto r = PublishSource();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->files, 5u);
  EXPECT_EQ(r->hashed_files, 5u);
  // 4 distinct file objects, plus targets, snapshot and timestamp.
  EXPECT_EQ(ObjectCount(), objects_before + 4 + 3);
  EXPECT_EQ(r->new_objects, 4u) << "new_objects counts objects the store did not hold before";
  EXPECT_EQ(r->new_bytes, 13u + 22u + 6u + 20u);
  EXPECT_TRUE(ListDir(home_dir_->Sub("tmp")).empty());
}

TEST_F(PublisherTest, RefusedPublishLeavesNothingHalfWritten) {
  ASSERT_TRUE(PublishSource().ok());
  const size_t objects_before = ObjectCount();
  TempDir outside;
  WriteTestFile(outside.Sub("secret"), "not for publication");
  WriteTestFile(source_.Sub("new-page.html"), "would be a new object");
  ASSERT_EQ(::symlink(outside.Sub("secret").c_str(), source_.Sub("z-link").c_str()), 0);

  auto failed = PublishSource();
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("outside"), std::string::npos)
      << failed.status().message();
  EXPECT_EQ(home_->db().GetSite(init_.site_id)->current_version, 1);
  EXPECT_EQ(LatestVersion(tuf::kTimestamp), 1);
  EXPECT_EQ(ObjectCount(), objects_before);
  EXPECT_TRUE(ListDir(home_dir_->Sub("tmp")).empty());
}

TEST_F(PublisherTest, PublishOfUnknownSiteIsNotFound) {
  auto r = Publish(*home_, std::string(52, 'a'), source_.path(), PublishOptions{}, clock_);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

TEST_F(PublisherTest, PublishOfAMirroredSiteIsRefused) {
  SiteRow mirrored;
  mirrored.site_id = std::string(52, 'b');
  mirrored.origin = false;
  ASSERT_TRUE(home_->db().InsertSite(mirrored).ok());
  auto r = Publish(*home_, mirrored.site_id, source_.path(), PublishOptions{}, clock_);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PublisherTest, PublishReportsProgressUpToTheTotal) {
  PublishOptions options;
  options.threads = 2;
  PublishProgress last;
  int calls = 0;
  options.progress = [&](const PublishProgress& p) {
    last = p;
    ++calls;
  };
  ASSERT_TRUE(Publish(*home_, init_.site_id, source_.path(), options, clock_).ok());
  EXPECT_GE(calls, 1);
  EXPECT_EQ(last.files_total, 3u);
  EXPECT_EQ(last.files_done, 3u);
  EXPECT_EQ(last.bytes_done, last.bytes_total);
}

// --- RefreshTimestamp --------------------------------------------------------------------------

TEST_F(PublisherTest, RefreshTimestampBumpsOnlyTheTimestamp) {
  ASSERT_TRUE(PublishSource().ok());
  auto old_ts = tuf::ParseTimestamp(ReadMetadata(tuf::kTimestamp, 1));
  ASSERT_TRUE(old_ts.ok());
  clock_.Advance(10 * kSecondsPerDay);

  auto refreshed = RefreshTimestamp(*home_, init_.site_id, ExpiryPolicy{}, clock_);
  ASSERT_TRUE(refreshed.ok()) << refreshed.status().ToString();
  EXPECT_EQ(*refreshed, 2);
  EXPECT_EQ(LatestVersion(tuf::kTimestamp), 2);
  EXPECT_EQ(LatestVersion(tuf::kSnapshot), 1);
  EXPECT_EQ(LatestVersion(tuf::kTargets), 1);
  EXPECT_EQ(home_->db().GetSite(init_.site_id)->current_version, 1);
  EXPECT_EQ(home_->db().ListVersions(init_.site_id)->size(), 1u);

  auto new_ts = tuf::ParseTimestamp(ReadMetadata(tuf::kTimestamp, 2));
  ASSERT_TRUE(new_ts.ok());
  EXPECT_EQ(new_ts->envelope.version, 2);
  EXPECT_EQ(new_ts->envelope.expires, kNow + 40 * kSecondsPerDay);
  EXPECT_EQ(new_ts->snapshot_meta.version, old_ts->snapshot_meta.version);
  EXPECT_EQ(new_ts->snapshot_meta.length, old_ts->snapshot_meta.length);
  EXPECT_EQ(new_ts->snapshot_meta.hashes, old_ts->snapshot_meta.hashes);
  auto root = LoadLatestRoot(*home_, init_.site_id);
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(tuf::VerifyByRoot(new_ts->envelope, *root, tuf::kTimestamp).ok());
}

TEST_F(PublisherTest, RefreshTimestampBeforeAnyPublishIsRefused) {
  auto r = RefreshTimestamp(*home_, init_.site_id, ExpiryPolicy{}, clock_);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

// --- RotateKey ---------------------------------------------------------------------------------

class RotateOnlineKeyTest : public PublisherTest,
                            public ::testing::WithParamInterface<std::string> {};

TEST_P(RotateOnlineKeyTest, WritesNextRootAndResignsTheCurrentVersion) {
  const std::string role = GetParam();
  ASSERT_TRUE(PublishSource().ok());
  auto old_root = LoadLatestRoot(*home_, init_.site_id);
  ASSERT_TRUE(old_root.ok());
  const std::string old_keyid = old_root->roles.at(role).keyids.at(0);

  auto rotated = RotateKey(*home_, init_.site_id, role, "", ExpiryPolicy{}, clock_);
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(rotated->role, role);
  EXPECT_EQ(rotated->old_keyid, old_keyid);
  EXPECT_NE(rotated->new_keyid, old_keyid);
  EXPECT_EQ(rotated->root_version, 2);
  EXPECT_EQ(rotated->version, 2);

  auto new_root = tuf::ParseRoot(ReadMetadata(tuf::kRoot, 2));
  ASSERT_TRUE(new_root.ok()) << new_root.status().ToString();
  EXPECT_EQ(new_root->envelope.version, 2);
  EXPECT_EQ(new_root->roles.at(role).keyids, std::vector<std::string>{rotated->new_keyid});
  EXPECT_EQ(new_root->keys.count(old_keyid), 0u) << "an unused old key leaves the root";
  EXPECT_TRUE(tuf::VerifyByRoot(new_root->envelope, *old_root, tuf::kRoot).ok());
  EXPECT_TRUE(tuf::VerifyByRoot(new_root->envelope, *new_root, tuf::kRoot).ok());

  // The re-signed version verifies under the new root, the old one no longer does.
  EXPECT_EQ(home_->db().GetSite(init_.site_id)->current_version, 2);
  EXPECT_EQ(home_->db().GetVersion(init_.site_id, 2)->root_version, 2);
  std::string metadata = ReadMetadata(role, 2);
  std::optional<tuf::Envelope> envelope;
  if (role == tuf::kTargets) {
    auto t = tuf::ParseTargets(metadata);
    ASSERT_TRUE(t.ok());
    envelope = t->envelope;
  } else if (role == tuf::kSnapshot) {
    auto s = tuf::ParseSnapshot(metadata);
    ASSERT_TRUE(s.ok());
    envelope = s->envelope;
  } else {
    auto t = tuf::ParseTimestamp(metadata);
    ASSERT_TRUE(t.ok());
    envelope = t->envelope;
  }
  ASSERT_TRUE(envelope.has_value());
  EXPECT_TRUE(tuf::VerifyByRoot(*envelope, *new_root, role).ok());
  EXPECT_FALSE(tuf::VerifyByRoot(*envelope, *old_root, role).ok());
  EXPECT_EQ(home_->db().VersionFiles(init_.site_id, 2)->size(), 3u);

  // Keys: the new one is online, the old one retired.
  EXPECT_TRUE(std::filesystem::exists(init_.online_key_dir + "/" + rotated->new_keyid + ".pem"));
  EXPECT_FALSE(std::filesystem::exists(init_.online_key_dir + "/" + old_keyid + ".pem"));
  EXPECT_TRUE(std::filesystem::exists(home_->SiteKeysDir(init_.site_id) + "/retired/" + old_keyid +
                                      ".pem"));
}

TEST_P(RotateOnlineKeyTest, PublishingAfterRotationUsesTheNewKey) {
  const std::string role = GetParam();
  ASSERT_TRUE(PublishSource().ok());
  ASSERT_TRUE(RotateKey(*home_, init_.site_id, role, "", ExpiryPolicy{}, clock_).ok());
  auto third = PublishSource();
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(third->version, 3);
  EXPECT_EQ(home_->db().GetVersion(init_.site_id, 3)->root_version, 2);
}

INSTANTIATE_TEST_SUITE_P(OnlineRoles, RotateOnlineKeyTest,
                         ::testing::Values(std::string(tuf::kTimestamp), std::string(tuf::kTargets),
                                           std::string(tuf::kSnapshot)));

TEST_F(PublisherTest, RotateRootKeySignsWithOldAndNewRootKeys) {
  ASSERT_TRUE(PublishSource().ok());
  auto old_root = LoadLatestRoot(*home_, init_.site_id);
  ASSERT_TRUE(old_root.ok());
  const std::string old_keyid = old_root->roles.at(tuf::kRoot).keyids.at(0);

  auto rotated = RotateKey(*home_, init_.site_id, tuf::kRoot, "", ExpiryPolicy{}, clock_);
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(rotated->root_version, 2);
  EXPECT_EQ(rotated->version, 0);

  auto new_root = tuf::ParseRoot(ReadMetadata(tuf::kRoot, 2));
  ASSERT_TRUE(new_root.ok());
  std::vector<std::string> signers;
  for (const tuf::Signature& s : new_root->envelope.signatures) signers.push_back(s.keyid);
  EXPECT_EQ(signers.size(), 2u);
  EXPECT_NE(std::find(signers.begin(), signers.end(), old_keyid), signers.end());
  EXPECT_NE(std::find(signers.begin(), signers.end(), rotated->new_keyid), signers.end());
  EXPECT_TRUE(tuf::VerifyByRoot(new_root->envelope, *old_root, tuf::kRoot).ok());
  EXPECT_TRUE(tuf::VerifyByRoot(new_root->envelope, *new_root, tuf::kRoot).ok());
  EXPECT_EQ(new_root->roles.at(tuf::kRoot).keyids, std::vector<std::string>{rotated->new_keyid});

  EXPECT_EQ(ListDir(init_.root_key_dir), std::vector<std::string>{rotated->new_keyid + ".pem"});
  EXPECT_TRUE(std::filesystem::exists(home_->SiteKeysDir(init_.site_id) + "/retired/" + old_keyid +
                                      ".pem"));
  // Online metadata is untouched by a root rotation.
  EXPECT_EQ(home_->db().GetSite(init_.site_id)->current_version, 1);
}

// Inits a site whose root key lives in `root_key_dir`, rotates its root key there, and checks
// the outcome: the new key in that directory, the old one retired into the home.
void RotateRootKeyKeptIn(NodeHome& home, const std::string& root_key_dir, const Clock& clock) {
  InitOptions options;
  options.root_key_dir = root_key_dir;
  auto init = InitSite(home, options, clock);
  ASSERT_TRUE(init.ok()) << init.status().ToString();
  auto without_dir = RotateKey(home, init->site_id, tuf::kRoot, "", ExpiryPolicy{}, clock);
  EXPECT_EQ(without_dir.status().code(), StatusCode::kNotFound)
      << "the root key is not in the home: " << without_dir.status().ToString();
  auto rotated = RotateKey(home, init->site_id, tuf::kRoot, root_key_dir, ExpiryPolicy{}, clock);
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(ListDir(root_key_dir), std::vector<std::string>{rotated->new_keyid + ".pem"});
  EXPECT_TRUE(std::filesystem::exists(home.SiteKeysDir(init->site_id) + "/retired/" +
                                      rotated->old_keyid + ".pem"));
}

TEST_F(PublisherTest, RotateRootKeyWithSeparateRootKeyDir) {
  auto same_filesystem = std::make_unique<TempDir>(TempDir::Medium::kFast);  // beside the home
  RotateRootKeyKeptIn(*home_, same_filesystem->Sub("keys"), clock_);
}

TEST_F(PublisherTest, RotateRootKeyKeptOnAnotherFilesystem) {
  // The root key directory is meant to be "anywhere (an encrypted USB stick)": typically not
  // the home's file system. Here the home is on /dev/shm and this directory under /tmp, two
  // file systems whenever both exist (as on the development machines and CI).
  TempDir usb_stick;
  RotateRootKeyKeptIn(*home_, usb_stick.Sub("keys"), clock_);
}

TEST_F(PublisherTest, RotateUnknownRoleIsRefused) {
  auto r = RotateKey(*home_, init_.site_id, "mirror", "", ExpiryPolicy{}, clock_);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LatestVersion(tuf::kRoot), 1);
}

// --- ExpiryPolicy ------------------------------------------------------------------------------

TEST(ExpiryPolicyTest, SetParsesRoleEqualsDays) {
  ExpiryPolicy policy;
  ASSERT_TRUE(policy.Set("timestamp=7").ok());
  EXPECT_EQ(policy.timestamp_days, 7);
  ASSERT_TRUE(policy.Set("root=3650").ok());
  EXPECT_EQ(policy.root_days, 3650);
  EXPECT_EQ(policy.targets_days, 365) << "other roles keep their defaults";
}

TEST(ExpiryPolicyTest, SetRejectsUnknownRole) {
  ExpiryPolicy policy;
  EXPECT_EQ(policy.Set("foo=1").code(), StatusCode::kInvalidArgument);
}

TEST(ExpiryPolicyTest, SetRejectsZeroDays) {
  ExpiryPolicy policy;
  EXPECT_EQ(policy.Set("timestamp=0").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(policy.timestamp_days, 30);
}

TEST(ExpiryPolicyTest, SetRejectsNonNumericDays) {
  ExpiryPolicy policy;
  EXPECT_EQ(policy.Set("timestamp=x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(policy.Set("timestamp=7x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(policy.Set("timestamp=").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(policy.Set("timestamp").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(policy.Set("timestamp=-5").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace refuge
