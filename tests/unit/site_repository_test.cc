// SiteRepository and the "node:" fetcher: the names a node serves for its sites, resolved
// through the node database.
#include "node/site_repository.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "common/limits.h"
#include "crypto/sha256.h"
#include "publish/publisher.h"
#include "support/temp_dir.h"
#include "tuf/metadata.h"

namespace refuge {
namespace {

using refuge::testing::TempDir;
using refuge::testing::WriteTestFile;

constexpr int64_t kNow = 1'700'000'000;
constexpr uint64_t kNoLimit = 1 << 20;


// A site published twice (index.html changes between the versions), with its root rotated
// once after version 1.
class SiteRepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_dir_ = std::make_unique<TempDir>(TempDir::Medium::kFast);
    auto home = NodeHome::Open(home_dir_->path());
    ASSERT_TRUE(home.ok()) << home.status().ToString();
    home_ = std::move(home).value();
    auto init = InitSite(*home_, InitOptions{}, clock_);
    ASSERT_TRUE(init.ok()) << init.status().ToString();
    site_id_ = init->site_id;
    WriteTestFile(source_.Sub("index.html"), "version 1 index");
    WriteTestFile(source_.Sub("css/site.css"), "body {}");
    WriteTestFile(source_.Sub("a b.html"), "a name with a space");
    WriteTestFile(source_.Sub("big.bin"), std::string(100, 'x'));
    ASSERT_TRUE(PublishNow().ok());
    ASSERT_TRUE(RotateKey(*home_, site_id_, tuf::kRoot, "", ExpiryPolicy{}, clock_).ok());
    WriteTestFile(source_.Sub("index.html"), "version 2 index");
    ASSERT_TRUE(PublishNow().ok());
    fetcher_ = NewNodeFetcher(*home_);
  }

  Result<PublishResult> PublishNow() {
    PublishOptions options;
    options.threads = 2;
    return Publish(*home_, site_id_, source_.path(), options, clock_);
  }

  std::string Url(const std::string& rest) const {
    return std::string(kNodeUrlScheme) + kSitesPrefix + site_id_ + "/" + rest;
  }

  Result<std::string> Fetch(const std::string& rest, uint64_t max_bytes = kNoLimit) {
    return fetcher_->Fetch(Url(rest), max_bytes);
  }

  // The stored bytes of a metadata file.
  std::string Metadata(const std::string& role, int64_t version) {
    auto row = home_->db().GetMetadata(site_id_, role, version);
    EXPECT_TRUE(row.ok()) << row.status().ToString();
    if (!row.ok()) return "<missing row>";
    auto bytes = home_->store().Read(row->sha256, kNoLimit);
    EXPECT_TRUE(bytes.ok());
    return bytes.ok() ? *bytes : "<missing object>";
  }

  std::unique_ptr<TempDir> home_dir_;
  TempDir source_;
  FakeClock clock_{kNow};
  std::unique_ptr<NodeHome> home_;
  std::unique_ptr<Fetcher> fetcher_;
  std::string site_id_;
};

void ExpectFetched(const Result<std::string>& got, const std::string& expected) {
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, expected);
}

void ExpectNotFound(const Result<std::string>& got) {
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound) << got.status().ToString();
}

TEST_F(SiteRepositoryTest, VersionedRootIsTheOneThatHashesToTheSiteId) {
  auto root1 = Fetch("metadata/1.root.json");
  ExpectFetched(root1, Metadata(tuf::kRoot, 1));
  ASSERT_TRUE(root1.ok());
  EXPECT_EQ(SiteIdOf(*root1), site_id_);
  ExpectFetched(Fetch("metadata/2.root.json"), Metadata(tuf::kRoot, 2));
}

TEST_F(SiteRepositoryTest, UnversionedRootIsTheLatest) {
  ExpectFetched(Fetch("metadata/root.json"), Metadata(tuf::kRoot, 2));
}

TEST_F(SiteRepositoryTest, TimestampIsTheLatest) {
  ExpectFetched(Fetch("metadata/timestamp.json"), Metadata(tuf::kTimestamp, 2));
}

TEST_F(SiteRepositoryTest, TimestampIsNeverVersioned) {
  ExpectNotFound(Fetch("metadata/1.timestamp.json"));
}

TEST_F(SiteRepositoryTest, SnapshotByVersionAndCurrent) {
  ExpectFetched(Fetch("metadata/1.snapshot.json"), Metadata(tuf::kSnapshot, 1));
  ExpectFetched(Fetch("metadata/2.snapshot.json"), Metadata(tuf::kSnapshot, 2));
  ExpectFetched(Fetch("metadata/snapshot.json"), Metadata(tuf::kSnapshot, 2));
}

TEST_F(SiteRepositoryTest, TargetsByVersionAndCurrent) {
  ExpectFetched(Fetch("metadata/1.targets.json"), Metadata(tuf::kTargets, 1));
  ExpectFetched(Fetch("metadata/targets.json"), Metadata(tuf::kTargets, 2));
}

TEST_F(SiteRepositoryTest, TargetByPlainPathIsTheCurrentVersion) {
  ExpectFetched(Fetch("targets/index.html"), "version 2 index");
  ExpectFetched(Fetch("targets/css/site.css"), "body {}");
}

TEST_F(SiteRepositoryTest, TargetByHashPrefixedNameReachesEveryRetainedVersion) {
  ExpectFetched(Fetch("targets/" + Sha256Hex("version 1 index") + ".index.html"),
                "version 1 index");
  ExpectFetched(Fetch("targets/" + Sha256Hex("version 2 index") + ".index.html"),
                "version 2 index");
  ExpectFetched(Fetch("targets/css/" + Sha256Hex("body {}") + ".site.css"), "body {}");
}

TEST_F(SiteRepositoryTest, HashPrefixedNameMustMatchThePath) {
  // The object exists, but not under this name: no way to name arbitrary objects.
  ExpectNotFound(Fetch("targets/" + Sha256Hex("body {}") + ".index.html"));
  ExpectNotFound(Fetch("targets/css/" + Sha256Hex("version 2 index") + ".index.html"));
  ExpectNotFound(Fetch("targets/" + Sha256Hex("never published") + ".index.html"));
}

TEST_F(SiteRepositoryTest, MetadataObjectsCannotBeReachedAsTargets) {
  auto row = home_->db().GetMetadata(site_id_, tuf::kRoot, 1);
  ASSERT_TRUE(row.ok());
  ExpectNotFound(Fetch("targets/" + row->sha256 + ".root.json"));
}

TEST_F(SiteRepositoryTest, UnknownNamesAreNotFound) {
  ExpectNotFound(Fetch("metadata/3.root.json"));
  ExpectNotFound(Fetch("metadata/0.root.json"));
  ExpectNotFound(Fetch("metadata/01.root.json"));
  ExpectNotFound(Fetch("metadata/9.snapshot.json"));
  ExpectNotFound(Fetch("metadata/mirrors.json"));
  ExpectNotFound(Fetch("metadata/root.txt"));
  ExpectNotFound(Fetch("metadata/.json"));
  ExpectNotFound(Fetch("metadata/"));
  ExpectNotFound(Fetch("targets/missing.html"));
  ExpectNotFound(Fetch("targets/"));
  ExpectNotFound(Fetch("elsewhere/index.html"));
}

TEST_F(SiteRepositoryTest, UnknownSiteIsNotFound) {
  const std::string other = SiteIdOf("not a root");
  ExpectNotFound(fetcher_->Fetch(std::string(kNodeUrlScheme) + kSitesPrefix + other +
                                     "/metadata/1.root.json",
                                 kNoLimit));
  ExpectNotFound(fetcher_->Fetch(std::string(kNodeUrlScheme) + kSitesPrefix + "not-a-site-id" +
                                     "/metadata/1.root.json",
                                 kNoLimit));
  ExpectNotFound(fetcher_->Fetch(std::string(kNodeUrlScheme) + "/elsewhere/file", kNoLimit));
}

TEST_F(SiteRepositoryTest, PercentEncodedNamesAreDecoded) {
  ExpectFetched(Fetch("targets/a%20b.html"), "a name with a space");
  ExpectFetched(Fetch("targets/%69ndex.html"), "version 2 index");
  ExpectFetched(Fetch("metadata/1.root%2Ejson"), Metadata(tuf::kRoot, 1));
}

TEST_F(SiteRepositoryTest, EncodedSlashInMetadataNameIsRefused) {
  auto got = Fetch("metadata/1.root%2Fjson");
  EXPECT_FALSE(got.ok());
  EXPECT_NE(got.status().code(), StatusCode::kOk);
  auto escaped = Fetch("metadata/..%2F1.root.json");
  EXPECT_FALSE(escaped.ok());
}

TEST_F(SiteRepositoryTest, EncodedSlashInTargetPathIsRefused) {
  auto got = Fetch("targets/css%2Fsite.css");
  EXPECT_FALSE(got.ok()) << "an encoded '/' must not join segments";
}

TEST_F(SiteRepositoryTest, FetcherEnforcesMaxBytes) {
  ExpectFetched(Fetch("targets/big.bin", 100), std::string(100, 'x'));
  auto got = Fetch("targets/big.bin", 99);
  EXPECT_EQ(got.status().code(), StatusCode::kTooLarge) << got.status().ToString();
}

TEST_F(SiteRepositoryTest, FetcherRefusesOtherSchemes) {
  auto got = fetcher_->Fetch("http://example.invalid" + std::string(kSitesPrefix), kNoLimit);
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SiteRepositoryTest, MissingObjectIsNotFound) {
  ASSERT_TRUE(home_->store().Remove(Sha256Hex("body {}")).ok());
  ExpectNotFound(Fetch("targets/css/site.css"));
}

TEST_F(SiteRepositoryTest, ResolveMetadataGivesTheRow) {
  SiteRepository repo(*home_);
  auto row = repo.ResolveMetadata(site_id_, "snapshot.json");
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->role, "snapshot");
  EXPECT_EQ(row->version, 2);
  EXPECT_EQ(Sha256Hex(Metadata(tuf::kSnapshot, 2)), row->sha256);
}

TEST_F(SiteRepositoryTest, ResolveTargetGivesTheRow) {
  SiteRepository repo(*home_);
  auto row = repo.ResolveTarget(site_id_, "css/site.css");
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->path, "css/site.css");
  EXPECT_EQ(row->sha256, Sha256Hex("body {}"));
  EXPECT_EQ(row->length, 7u);
}

TEST(SiteRepositoryEmptyTest, UnpublishedSiteHasOnlyItsRoot) {
  auto dir = std::make_unique<TempDir>(TempDir::Medium::kFast);
  auto home = NodeHome::Open(dir->path());
  ASSERT_TRUE(home.ok());
  FakeClock clock(kNow);
  auto init = InitSite(**home, InitOptions{}, clock);
  ASSERT_TRUE(init.ok());
  SiteRepository repo(**home);
  EXPECT_TRUE(repo.ResolveMetadata(init->site_id, "1.root.json").ok());
  EXPECT_EQ(repo.ResolveMetadata(init->site_id, "timestamp.json").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(repo.ResolveMetadata(init->site_id, "snapshot.json").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(repo.ResolveTarget(init->site_id, "index.html").status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace refuge
