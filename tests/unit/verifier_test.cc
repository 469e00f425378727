// Verifier (`refuge verify`): a healthy node has no findings; damage to the store is reported
// as a problem naming what is damaged; expiry is only a warning.
#include "node/verifier.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "crypto/sha256.h"
#include "publish/publisher.h"
#include "publish/site_keys.h"
#include "support/temp_dir.h"
#include "tuf/metadata.h"

namespace refuge {
namespace {

using refuge::testing::ReadTestFile;
using refuge::testing::TempDir;
using refuge::testing::WriteTestFile;

constexpr int64_t kNow = 1'700'000'000;


std::string AllMessages(const std::vector<VerifyFinding>& findings) {
  std::string out;
  for (const VerifyFinding& f : findings) out += f.message + "\n";
  return out;
}

bool AnyMentions(const std::vector<VerifyFinding>& findings, const std::string& a,
                 const std::string& b = "") {
  for (const VerifyFinding& f : findings) {
    if (f.message.find(a) != std::string::npos && f.message.find(b) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// A node holding one site published twice.
class VerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_dir_ = std::make_unique<TempDir>(TempDir::Medium::kFast);
    auto home = NodeHome::Open(home_dir_->path());
    ASSERT_TRUE(home.ok()) << home.status().ToString();
    home_ = std::move(home).value();
    auto init = InitSite(*home_, InitOptions{}, clock_);
    ASSERT_TRUE(init.ok()) << init.status().ToString();
    site_id_ = init->site_id;
    WriteTestFile(source_.Sub("index.html"), "first");
    WriteTestFile(source_.Sub("docs/guide.html"), "the guide");
    ASSERT_TRUE(Publish(*home_, site_id_, source_.path(), PublishOptions{}, clock_).ok());
    WriteTestFile(source_.Sub("index.html"), "second");
    ASSERT_TRUE(Publish(*home_, site_id_, source_.path(), PublishOptions{}, clock_).ok());
  }

  Result<VerifyReport> Verify() { return VerifyNode(*home_, std::nullopt, clock_); }

  std::string MetadataSha(const std::string& role, int64_t version) {
    auto row = home_->db().GetMetadata(site_id_, role, version);
    EXPECT_TRUE(row.ok());
    return row.ok() ? row->sha256 : "";
  }

  void Corrupt(const std::string& sha) {
    const std::string path = home_->store().PathFor(sha);
    std::string bytes = ReadTestFile(path);
    ASSERT_FALSE(bytes.empty());
    bytes[bytes.size() / 2] ^= 0x20;
    WriteTestFile(path, bytes);
  }

  std::unique_ptr<TempDir> home_dir_;
  TempDir source_;
  FakeClock clock_{kNow};
  std::unique_ptr<NodeHome> home_;
  std::string site_id_;
};

TEST_F(VerifierTest, FreshSiteHasNoFindings) {
  auto report = Verify();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->problems.empty()) << AllMessages(report->problems);
  EXPECT_TRUE(report->warnings.empty()) << AllMessages(report->warnings);
  EXPECT_EQ(report->sites, 1u);
  EXPECT_EQ(report->versions, 2u);
  // root 1, targets/snapshot/timestamp x2, "first", "second", "the guide"
  EXPECT_EQ(report->objects_checked, 10u);
}

TEST_F(VerifierTest, MissingTargetObjectIsAProblemNamingObjectAndFile) {
  const std::string sha = Sha256Hex("the guide");
  ASSERT_TRUE(home_->store().Remove(sha).ok());
  auto report = Verify();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_FALSE(report->problems.empty());
  EXPECT_TRUE(AnyMentions(report->problems, sha, "docs/guide.html")) << AllMessages(report->problems);
  EXPECT_TRUE(AnyMentions(report->problems, sha, "missing")) << AllMessages(report->problems);
}

TEST_F(VerifierTest, CorruptTargetObjectIsAProblem) {
  const std::string sha = Sha256Hex("first");
  Corrupt(sha);
  auto report = Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(AnyMentions(report->problems, sha, "corrupt")) << AllMessages(report->problems);
  EXPECT_TRUE(AnyMentions(report->problems, sha, "index.html")) << AllMessages(report->problems);
}

TEST_F(VerifierTest, MissingMetadataObjectIsAProblem) {
  const std::string sha = MetadataSha("snapshot", 1);
  ASSERT_TRUE(home_->store().Remove(sha).ok());
  auto report = Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(AnyMentions(report->problems, sha)) << AllMessages(report->problems);
  EXPECT_TRUE(AnyMentions(report->problems, "1.snapshot.json")) << AllMessages(report->problems);
}

TEST_F(VerifierTest, CorruptRootIsAProblem) {
  Corrupt(MetadataSha("root", 1));
  auto report = Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(AnyMentions(report->problems, "1.root.json")) << AllMessages(report->problems);
}

TEST_F(VerifierTest, CorruptUnreferencedObjectIsFoundStoreWide) {
  auto orphan = home_->store().PutBytes("nobody refers to me");
  ASSERT_TRUE(orphan.ok());
  Corrupt(orphan->sha256);
  auto report = Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(AnyMentions(report->problems, orphan->sha256)) << AllMessages(report->problems);
  // Restricted to the site, only what the site references is checked.
  auto site_only = VerifyNode(*home_, site_id_, clock_);
  ASSERT_TRUE(site_only.ok());
  EXPECT_TRUE(site_only->problems.empty()) << AllMessages(site_only->problems);
}

// Signs `signed_json` with the role's online key and stores it; returns its metadata row.
MetadataRow SignAndStore(NodeHome& home, const std::string& site_id, const tuf::Root& root,
                         const std::string& role, const Json& signed_json) {
  auto keys = LoadRoleKeys(root, role, {home.SiteKeysDir(site_id) + "/online"});
  EXPECT_TRUE(keys.ok()) << keys.status().ToString();
  if (!keys.ok()) return {};
  auto bytes = tuf::SignMetadata(signed_json, SignersOf(*keys));
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  if (!bytes.ok()) return {};
  auto info = home.store().PutBytes(*bytes);
  EXPECT_TRUE(info.ok());
  if (!info.ok()) return {};
  return MetadataRow{role, signed_json.at("version").get<int64_t>(), info->sha256, info->size};
}

Json MetaJson(const MetadataRow& row) {
  tuf::MetaFile meta;
  meta.version = row.version;
  meta.length = row.length;
  meta.hashes["sha256"] = row.sha256;
  return tuf::MetaFileJson(meta);
}

TEST_F(VerifierTest, TargetsWithOnlySha512HashesAreVerifiedWithoutThrowing) {
  // TUF lets a targets entry carry any hash algorithms; another implementation may list only
  // sha512 (this node would then hold the site as a mirror). Version 3 is such a
  // publication, correctly signed.
  auto root = LoadLatestRoot(*home_, site_id_);
  ASSERT_TRUE(root.ok());
  const std::string expires = FormatUtc(kNow + 365 * kSecondsPerDay);
  Json targets = {{"_type", "targets"}, {"spec_version", tuf::kSpecVersion}, {"version", 3},
                  {"expires", expires}};
  targets["targets"] = {
      {"index.html", {{"length", 6}, {"hashes", {{"sha512", std::string(128, 'a')}}}}}};
  MetadataRow targets_row = SignAndStore(*home_, site_id_, *root, "targets", targets);
  Json snapshot = {{"_type", "snapshot"}, {"spec_version", tuf::kSpecVersion}, {"version", 3},
                   {"expires", expires}};
  snapshot["meta"] = {{"targets.json", MetaJson(targets_row)}};
  MetadataRow snapshot_row = SignAndStore(*home_, site_id_, *root, "snapshot", snapshot);
  Json timestamp = {{"_type", "timestamp"}, {"spec_version", tuf::kSpecVersion}, {"version", 3},
                    {"expires", expires}};
  timestamp["meta"] = {{"snapshot.json", MetaJson(snapshot_row)}};
  MetadataRow timestamp_row = SignAndStore(*home_, site_id_, *root, "timestamp", timestamp);
  ASSERT_FALSE(timestamp_row.sha256.empty());

  Publication pub;
  pub.site_id = site_id_;
  pub.metadata = {targets_row, snapshot_row, timestamp_row};
  VersionRow version;
  version.version = 3;
  version.targets_version = 3;
  version.root_version = 1;
  version.file_count = 1;
  version.total_bytes = 6;
  pub.version = version;
  pub.files = {FileRow{"index.html", Sha256Hex("second"), 6}};
  ASSERT_TRUE(home_->db().Commit(pub).ok());

  Result<VerifyReport> report = Internal("VerifyNode did not return");
  EXPECT_NO_THROW(report = Verify());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->versions, 3u);
}

TEST_F(VerifierTest, ExpiredTimestampIsAWarningNotAProblem) {
  clock_.Advance(40 * kSecondsPerDay);  // past the 30-day timestamp, before the rest
  auto report = Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->problems.empty()) << AllMessages(report->problems);
  ASSERT_EQ(report->warnings.size(), 1u) << AllMessages(report->warnings);
  EXPECT_TRUE(AnyMentions(report->warnings, "timestamp expired")) << AllMessages(report->warnings);
  EXPECT_EQ(report->warnings[0].site_id, site_id_);
}

TEST_F(VerifierTest, EverythingExpiredIsStillOnlyWarnings) {
  clock_.Advance(100 * 365 * kSecondsPerDay);
  auto report = Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->problems.empty()) << AllMessages(report->problems);
  EXPECT_TRUE(AnyMentions(report->warnings, "timestamp expired")) << AllMessages(report->warnings);
  EXPECT_TRUE(AnyMentions(report->warnings, "root")) << AllMessages(report->warnings);
}

TEST_F(VerifierTest, RotatedKeysStillVerify) {
  ASSERT_TRUE(RotateKey(*home_, site_id_, "targets", "", ExpiryPolicy{}, clock_).ok());
  ASSERT_TRUE(RotateKey(*home_, site_id_, "root", "", ExpiryPolicy{}, clock_).ok());
  auto report = Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->problems.empty()) << AllMessages(report->problems);
  EXPECT_EQ(report->versions, 3u);
}

TEST_F(VerifierTest, UnknownSiteFilterIsNotFound) {
  auto report = VerifyNode(*home_, std::string(52, 'a'), clock_);
  EXPECT_EQ(report.status().code(), StatusCode::kNotFound);
}

TEST_F(VerifierTest, ProgressCountsCheckedObjects) {
  uint64_t last = 0;
  auto report = VerifyNode(*home_, std::nullopt, clock_, [&](uint64_t n) { last = n; });
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(last, report->objects_checked);
}

}  // namespace
}  // namespace refuge
