// Catalog: only verified, signed publications become servable paths.
#include "serve/catalog.h"

#include <sqlite3.h>

#include <gtest/gtest.h>

#include "common/limits.h"
#include "crypto/sha256.h"
#include "publish/publisher.h"
#include "support/node_with_site.h"
#include "tuf/metadata.h"

namespace refuge::serve {
namespace {

using refuge::testing::WriteTestFile;

class CatalogTest : public refuge::testing::NodeWithSiteTest {
 protected:
  void SetUp() override {
    NodeWithSiteTest::SetUp();
    WriteTestFile(source_.Sub("index.html"), "<h1>v1</h1>");
    WriteTestFile(source_.Sub("docs/guide/intro.md"), "# intro");
    ASSERT_TRUE(PublishSource().ok());
  }

  std::shared_ptr<const Catalog> Build(const Catalog* previous, Catalog::BuildReport* report) {
    return Catalog::Build(*home_, previous, counters_, report);
  }

  // Points the database's targets row of the current version at `bytes` (stored as an object).
  void ReplaceTargetsRow(const std::string& bytes) {
    auto info = home_->store().PutBytes(bytes);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((home_dir_.path() + "/node.db").c_str(), &db), SQLITE_OK);
    std::string sql = "UPDATE metadata SET sha256 = '" + info->sha256 + "', length = " +
                      std::to_string(bytes.size()) + " WHERE role = 'targets' AND version = (SELECT MAX(version) FROM metadata WHERE role = 'targets')";
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }

  std::string CurrentTargetsBytes() {
    auto row = home_->db().LatestMetadata(site_id_, tuf::kTargets);
    EXPECT_TRUE(row.ok());
    auto bytes = home_->store().Read(row->sha256, limits::kMaxTargetsBytes);
    EXPECT_TRUE(bytes.ok());
    return *bytes;
  }

  SiteCounterRegistry counters_;
};

TEST_F(CatalogTest, PublishedFilesAreServableWithTheirSignedHashes) {
  Catalog::BuildReport report;
  auto catalog = Build(nullptr, &report);
  EXPECT_TRUE(report.warnings.empty());
  const CatalogSite* site = catalog->FindSite(site_id_);
  ASSERT_NE(site, nullptr);
  EXPECT_EQ(site->version, 1);
  const CatalogFile* index = site->Find("index.html");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->sha256, Sha256Hex("<h1>v1</h1>"));
  EXPECT_EQ(index->length, 11u);
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_NE(site->Find("docs/guide/intro.md"), nullptr);
  EXPECT_EQ(site->Find("missing.html"), nullptr);
}

TEST_F(CatalogTest, DirectoriesOfFilesAreKnown) {
  Catalog::BuildReport report;
  auto catalog = Build(nullptr, &report);
  const CatalogSite* site = catalog->FindSite(site_id_);
  ASSERT_NE(site, nullptr);
  EXPECT_EQ(site->directories.count("docs"), 1u);
  EXPECT_EQ(site->directories.count("docs/guide"), 1u);
  EXPECT_EQ(site->directories.count("doc"), 0u);
}

TEST_F(CatalogTest, SiteWithoutPublicationIsNotServed) {
  auto other = InitSite(*home_, InitOptions{}, clock_);
  ASSERT_TRUE(other.ok());
  Catalog::BuildReport report;
  auto catalog = Build(nullptr, &report);
  EXPECT_EQ(catalog->FindSite(other->site_id), nullptr);
  EXPECT_EQ(catalog->site_count(), 1u);
}

TEST_F(CatalogTest, UnsignedTargetsAreRefused) {
  // A database row pointing at a targets file whose signed part was altered: the file
  // list it claims must never become servable.
  std::string bytes = CurrentTargetsBytes();
  size_t at = bytes.find("\"length\":11");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 11, "\"length\":12");
  ReplaceTargetsRow(bytes);
  Catalog::BuildReport report;
  auto catalog = Build(nullptr, &report);
  EXPECT_EQ(catalog->FindSite(site_id_), nullptr);
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_NE(report.warnings[0].find(site_id_), std::string::npos);
}

TEST_F(CatalogTest, FailedReloadKeepsThePreviousVersion) {
  Catalog::BuildReport first_report;
  auto first = Build(nullptr, &first_report);
  WriteTestFile(source_.Sub("index.html"), "<h1>v2</h1>");
  ASSERT_TRUE(PublishSource().ok());
  std::string bytes = CurrentTargetsBytes();
  bytes.back() = bytes.back() == '}' ? ' ' : '}';  // no longer parses or verifies
  ReplaceTargetsRow(bytes);
  Catalog::BuildReport report;
  auto second = Build(first.get(), &report);
  const CatalogSite* site = second->FindSite(site_id_);
  ASSERT_NE(site, nullptr);
  EXPECT_EQ(site->version, 1);
  EXPECT_EQ(report.warnings.size(), 1u);
}

TEST_F(CatalogTest, UnchangedSitesAreReusedWithoutReloading) {
  Catalog::BuildReport first_report;
  auto first = Build(nullptr, &first_report);
  EXPECT_EQ(first_report.sites_loaded, 1);
  Catalog::BuildReport report;
  auto second = Build(first.get(), &report);
  EXPECT_EQ(report.sites_reused, 1);
  EXPECT_EQ(report.sites_loaded, 0);
  EXPECT_EQ(second->FindSite(site_id_), first->FindSite(site_id_));
}

TEST_F(CatalogTest, FingerprintChangesWithANewPublication) {
  Catalog::BuildReport report;
  auto catalog = Build(nullptr, &report);
  auto before = Catalog::Fingerprint(home_->db());
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(*before, catalog->fingerprint());
  WriteTestFile(source_.Sub("index.html"), "<h1>v2</h1>");
  ASSERT_TRUE(PublishSource().ok());
  auto after = Catalog::Fingerprint(home_->db());
  ASSERT_TRUE(after.ok());
  EXPECT_NE(*after, catalog->fingerprint());
  Catalog::BuildReport second_report;
  auto next = Build(catalog.get(), &second_report);
  EXPECT_EQ(next->FindSite(site_id_)->version, 2);
  EXPECT_EQ(next->FindSite(site_id_)->Find("index.html")->sha256, Sha256Hex("<h1>v2</h1>"));
}

}  // namespace
}  // namespace refuge::serve
