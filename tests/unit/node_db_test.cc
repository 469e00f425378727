// NodeDb: sites, atomic publications, version deletion for GC, live objects, pins and
// persistence across reopening.
#include "store/node_db.h"

#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/sha256.h"
#include "support/temp_dir.h"

namespace refuge {
namespace {

using refuge::testing::TempDir;


const std::string kSite = std::string(52, 'a');
const std::string kOtherSite = std::string(52, 'b');

std::string Hash(const std::string& what) { return Sha256Hex(what); }

std::unique_ptr<NodeDb> OpenDb(const std::string& path) {
  auto db = NodeDb::Open(path);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(db).value() : nullptr;
}

SiteRow Site(const std::string& id, int64_t created_at = 100) {
  SiteRow s;
  s.site_id = id;
  s.origin = true;
  s.created_at = created_at;
  return s;
}

// A publication of version `v` (snapshot v, targets v, timestamp v, under root 1) whose
// files are the given path -> contents.
Publication VersionPublication(int64_t v, const std::vector<std::pair<std::string, std::string>>& files) {
  Publication p;
  p.site_id = kSite;
  for (const char* role : {"targets", "snapshot", "timestamp"}) {
    p.metadata.push_back(MetadataRow{role, v, Hash(std::string(role) + std::to_string(v)), 100});
  }
  VersionRow row;
  row.version = v;
  row.targets_version = v;
  row.root_version = 1;
  row.published_at = 1000 + v;
  row.file_count = files.size();
  for (const auto& [path, contents] : files) {
    p.files.push_back(FileRow{path, Hash(contents), contents.size()});
    row.total_bytes += contents.size();
  }
  p.version = row;
  return p;
}

// A database holding kSite with root 1 committed.
class NodeDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenDb(Path());
    ASSERT_NE(db_, nullptr);
    ASSERT_TRUE(db_->InsertSite(Site(kSite)).ok());
    Publication root;
    root.site_id = kSite;
    root.metadata.push_back(MetadataRow{"root", 1, Hash("root1"), 500});
    ASSERT_TRUE(db_->Commit(root).ok());
  }
  std::string Path() const { return dir_->Sub("node.db"); }

  std::unique_ptr<TempDir> dir_ = std::make_unique<TempDir>(TempDir::Medium::kFast);
  std::unique_ptr<NodeDb> db_;
};

TEST_F(NodeDbTest, InsertedSiteCanBeReadBack) {
  SiteRow other = Site(kOtherSite, 200);
  other.origin = false;
  other.keep_versions = 7;
  ASSERT_TRUE(db_->InsertSite(other).ok());
  auto got = db_->GetSite(kOtherSite);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->site_id, kOtherSite);
  EXPECT_FALSE(got->origin);
  EXPECT_EQ(got->created_at, 200);
  EXPECT_EQ(got->keep_versions, std::optional<int64_t>(7));
  EXPECT_EQ(got->current_version, 0);

  auto list = db_->ListSites();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].site_id, kSite);  // ordered by creation time
  EXPECT_EQ((*list)[1].site_id, kOtherSite);
}

TEST_F(NodeDbTest, UnknownSiteIsNotFound) {
  EXPECT_EQ(db_->GetSite(kOtherSite).status().code(), StatusCode::kNotFound);
}

TEST_F(NodeDbTest, DuplicateSiteIsAlreadyExists) {
  Status s = db_->InsertSite(Site(kSite));
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
}

TEST_F(NodeDbTest, SetKeepVersionsUpdatesAndClears) {
  ASSERT_TRUE(db_->SetKeepVersions(kSite, 5).ok());
  EXPECT_EQ(db_->GetSite(kSite)->keep_versions, std::optional<int64_t>(5));
  ASSERT_TRUE(db_->SetKeepVersions(kSite, std::nullopt).ok());
  EXPECT_FALSE(db_->GetSite(kSite)->keep_versions.has_value());
}

TEST_F(NodeDbTest, CommitStoresMetadataVersionFilesCacheAndCurrentVersion) {
  Publication p = VersionPublication(1, {{"index.html", "<h1>hi</h1>"}, {"css/a.css", "body{}"}});
  p.file_cache = std::vector<FileCacheRow>{
      FileCacheRow{"index.html", 11, 111, 222, 333, Hash("<h1>hi</h1>")}};
  ASSERT_TRUE(db_->Commit(p).ok());

  EXPECT_EQ(db_->GetSite(kSite)->current_version, 1);
  auto snapshot = db_->GetMetadata(kSite, "snapshot", 1);
  ASSERT_TRUE(snapshot.ok());
  EXPECT_EQ(snapshot->sha256, Hash("snapshot1"));
  EXPECT_EQ(snapshot->length, 100u);

  auto version = db_->GetVersion(kSite, 1);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->file_count, 2u);
  EXPECT_EQ(version->total_bytes, 17u);
  EXPECT_EQ(version->published_at, 1001);
  EXPECT_FALSE(version->pinned);

  auto files = db_->VersionFiles(kSite, 1);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].path, "css/a.css");  // sorted by path
  EXPECT_EQ((*files)[1].path, "index.html");
  EXPECT_EQ((*files)[1].sha256, Hash("<h1>hi</h1>"));

  auto found = db_->FindFile(kSite, 1, "css/a.css");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->length, 6u);
  EXPECT_EQ(db_->FindFile(kSite, 1, "missing").status().code(), StatusCode::kNotFound);

  auto cache = db_->LoadFileCache(kSite);
  ASSERT_TRUE(cache.ok());
  ASSERT_EQ(cache->size(), 1u);
  const FileCacheRow& row = cache->at("index.html");
  EXPECT_EQ(row.size, 11u);
  EXPECT_EQ(row.mtime_ns, 111);
  EXPECT_EQ(row.ctime_ns, 222);
  EXPECT_EQ(row.inode, 333u);
}

TEST_F(NodeDbTest, FailedCommitLeavesNothingBehind) {
  ASSERT_TRUE(db_->Commit(VersionPublication(1, {{"a", "A"}})).ok());
  // Version 1 again, with new metadata rows and cache: the version insert fails, so none of
  // the publication may remain.
  Publication again = VersionPublication(1, {{"b", "B"}});
  again.metadata.push_back(MetadataRow{"timestamp", 9, Hash("timestamp9"), 10});
  again.file_cache = std::vector<FileCacheRow>{FileCacheRow{"b", 1, 1, 1, 1, Hash("B")}};
  Status s = db_->Commit(again);
  EXPECT_FALSE(s.ok());

  EXPECT_EQ(db_->GetMetadata(kSite, "timestamp", 9).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db_->LatestMetadata(kSite, "timestamp")->version, 1);
  auto files = db_->VersionFiles(kSite, 1);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].path, "a");
  EXPECT_TRUE(db_->LoadFileCache(kSite)->empty());
  EXPECT_EQ(db_->GetSite(kSite)->current_version, 1);
}

TEST_F(NodeDbTest, CommitCanCreateTheSiteWithItsRoot) {
  Publication p;
  p.site_id = kOtherSite;
  p.new_site = Site(kOtherSite, 300);
  p.metadata.push_back(MetadataRow{"root", 1, Hash("other root"), 400});
  ASSERT_TRUE(db_->Commit(p).ok());
  auto site = db_->GetSite(kOtherSite);
  ASSERT_TRUE(site.ok());
  EXPECT_EQ(site->created_at, 300);
  EXPECT_EQ(db_->LatestMetadata(kOtherSite, "root")->sha256, Hash("other root"));
}

TEST_F(NodeDbTest, CommitCreatingAnExistingSiteAddsNothing) {
  Publication p;
  p.site_id = kSite;
  p.new_site = Site(kSite);
  p.metadata.push_back(MetadataRow{"root", 2, Hash("root2"), 400});
  EXPECT_EQ(db_->Commit(p).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(db_->LatestMetadata(kSite, "root")->version, 1);
}

TEST_F(NodeDbTest, FileCacheIsReplacedNotMerged) {
  Publication first = VersionPublication(1, {{"a", "A"}});
  first.file_cache = std::vector<FileCacheRow>{FileCacheRow{"a", 1, 1, 1, 1, Hash("A")}};
  ASSERT_TRUE(db_->Commit(first).ok());
  Publication second = VersionPublication(2, {{"b", "B"}});
  second.file_cache = std::vector<FileCacheRow>{FileCacheRow{"b", 1, 2, 2, 2, Hash("B")}};
  ASSERT_TRUE(db_->Commit(second).ok());
  auto cache = db_->LoadFileCache(kSite);
  ASSERT_TRUE(cache.ok());
  ASSERT_EQ(cache->size(), 1u);
  EXPECT_EQ(cache->count("b"), 1u);
}

TEST_F(NodeDbTest, LatestMetadataIsTheHighestVersion) {
  for (int64_t v = 1; v <= 3; ++v) {
    ASSERT_TRUE(db_->Commit(VersionPublication(v, {{"f", std::to_string(v)}})).ok());
  }
  Publication root2;
  root2.site_id = kSite;
  root2.metadata.push_back(MetadataRow{"root", 2, Hash("root2"), 500});
  ASSERT_TRUE(db_->Commit(root2).ok());

  EXPECT_EQ(db_->LatestMetadata(kSite, "snapshot")->version, 3);
  EXPECT_EQ(db_->LatestMetadata(kSite, "root")->sha256, Hash("root2"));
  EXPECT_EQ(db_->LatestMetadata(kSite, "delegated").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db_->LatestMetadata(kOtherSite, "root").status().code(), StatusCode::kNotFound);
}

TEST_F(NodeDbTest, ListVersionsIsNewestFirst) {
  for (int64_t v = 1; v <= 3; ++v) {
    ASSERT_TRUE(db_->Commit(VersionPublication(v, {{"f", std::to_string(v)}})).ok());
  }
  auto versions = db_->ListVersions(kSite);
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 3u);
  EXPECT_EQ((*versions)[0].version, 3);
  EXPECT_EQ((*versions)[2].version, 1);
}

TEST_F(NodeDbTest, DeleteVersionsRemovesVersionRowsFilesAndTheirMetadata) {
  for (int64_t v = 1; v <= 3; ++v) {
    ASSERT_TRUE(db_->Commit(VersionPublication(v, {{"f", "contents " + std::to_string(v)}})).ok());
  }
  ASSERT_TRUE(db_->DeleteVersions(kSite, {1, 2}).ok());

  auto versions = db_->ListVersions(kSite);
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 1u);
  EXPECT_EQ((*versions)[0].version, 3);
  EXPECT_TRUE(db_->VersionFiles(kSite, 1)->empty());
  EXPECT_TRUE(db_->VersionFiles(kSite, 2)->empty());
  EXPECT_EQ(db_->VersionFiles(kSite, 3)->size(), 1u);
  for (const char* role : {"snapshot", "targets", "timestamp"}) {
    EXPECT_EQ(db_->GetMetadata(kSite, role, 1).status().code(), StatusCode::kNotFound) << role;
    EXPECT_EQ(db_->GetMetadata(kSite, role, 2).status().code(), StatusCode::kNotFound) << role;
    EXPECT_TRUE(db_->GetMetadata(kSite, role, 3).ok()) << role;
  }
  EXPECT_TRUE(db_->GetMetadata(kSite, "root", 1).ok()) << "roots are never deleted";
  EXPECT_FALSE(*db_->HasFileObject(kSite, "f", Hash("contents 1")));
  EXPECT_TRUE(*db_->HasFileObject(kSite, "f", Hash("contents 3")));
}

TEST_F(NodeDbTest, DeleteVersionsKeepsTargetsSharedWithARetainedVersion) {
  ASSERT_TRUE(db_->Commit(VersionPublication(1, {{"f", "x"}})).ok());
  // Version 2 re-uses targets version 1 (a snapshot-only change).
  Publication p;
  p.site_id = kSite;
  p.metadata.push_back(MetadataRow{"snapshot", 2, Hash("snapshot2"), 100});
  p.metadata.push_back(MetadataRow{"timestamp", 2, Hash("timestamp2"), 100});
  VersionRow row;
  row.version = 2;
  row.targets_version = 1;
  row.root_version = 1;
  row.file_count = 1;
  p.version = row;
  p.files.push_back(FileRow{"f", Hash("x"), 1});
  ASSERT_TRUE(db_->Commit(p).ok());

  ASSERT_TRUE(db_->DeleteVersions(kSite, {1}).ok());
  EXPECT_TRUE(db_->GetMetadata(kSite, "targets", 1).ok());
  EXPECT_EQ(db_->GetMetadata(kSite, "snapshot", 1).status().code(), StatusCode::kNotFound);
}

TEST_F(NodeDbTest, DeleteVersionsKeepsTheNewestTimestampEvenIfNewerThanVersions) {
  ASSERT_TRUE(db_->Commit(VersionPublication(1, {{"f", "1"}})).ok());
  ASSERT_TRUE(db_->Commit(VersionPublication(2, {{"f", "2"}})).ok());
  // A timestamp refresh: timestamp 3 points at snapshot 2, no new version.
  Publication refresh;
  refresh.site_id = kSite;
  refresh.metadata.push_back(MetadataRow{"timestamp", 3, Hash("timestamp3"), 100});
  ASSERT_TRUE(db_->Commit(refresh).ok());

  ASSERT_TRUE(db_->DeleteVersions(kSite, {1}).ok());
  auto latest = db_->LatestMetadata(kSite, "timestamp");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, 3);
  EXPECT_EQ(db_->GetMetadata(kSite, "timestamp", 2).status().code(), StatusCode::kNotFound)
      << "older timestamps are never served again";
}

TEST_F(NodeDbTest, DeleteVersionsOfUnknownVersionChangesNothing) {
  ASSERT_TRUE(db_->Commit(VersionPublication(1, {{"f", "1"}})).ok());
  ASSERT_TRUE(db_->Commit(VersionPublication(2, {{"f", "2"}})).ok());
  Status s = db_->DeleteVersions(kSite, {1, 42});
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_TRUE(db_->GetVersion(kSite, 1).ok()) << "the transaction must roll back";
  EXPECT_TRUE(db_->GetMetadata(kSite, "snapshot", 1).ok());
}

TEST_F(NodeDbTest, LiveObjectsCoversMetadataAndFiles) {
  ASSERT_TRUE(db_->Commit(VersionPublication(1, {{"a", "A"}, {"b", "B"}})).ok());
  auto live = db_->LiveObjects();
  ASSERT_TRUE(live.ok());
  std::set<std::string> expected{Hash("root1"),  Hash("targets1"), Hash("snapshot1"),
                                 Hash("timestamp1"), Hash("A"),     Hash("B")};
  EXPECT_EQ(*live, expected);

  ASSERT_TRUE(db_->Commit(VersionPublication(2, {{"a", "A"}})).ok());
  ASSERT_TRUE(db_->DeleteVersions(kSite, {1}).ok());
  live = db_->LiveObjects();
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->count(Hash("A")), 1u);
  EXPECT_EQ(live->count(Hash("B")), 0u);
  EXPECT_EQ(live->count(Hash("snapshot1")), 0u);
  EXPECT_EQ(live->count(Hash("root1")), 1u);
}

TEST_F(NodeDbTest, PinsAreStoredAndCleared) {
  ASSERT_TRUE(db_->Commit(VersionPublication(1, {{"f", "1"}})).ok());
  ASSERT_TRUE(db_->SetPinned(kSite, 1, true).ok());
  EXPECT_TRUE(db_->GetVersion(kSite, 1)->pinned);
  ASSERT_TRUE(db_->SetPinned(kSite, 1, false).ok());
  EXPECT_FALSE(db_->GetVersion(kSite, 1)->pinned);
  EXPECT_EQ(db_->SetPinned(kSite, 7, true).code(), StatusCode::kNotFound);
}

TEST_F(NodeDbTest, ReopeningKeepsEverything) {
  Publication p = VersionPublication(1, {{"index.html", "hello"}});
  p.file_cache = std::vector<FileCacheRow>{FileCacheRow{"index.html", 5, 1, 2, 3, Hash("hello")}};
  ASSERT_TRUE(db_->Commit(p).ok());
  ASSERT_TRUE(db_->SetPinned(kSite, 1, true).ok());
  ASSERT_TRUE(db_->SetKeepVersions(kSite, 4).ok());
  db_.reset();

  auto reopened = OpenDb(Path());
  ASSERT_NE(reopened, nullptr);
  auto site = reopened->GetSite(kSite);
  ASSERT_TRUE(site.ok());
  EXPECT_EQ(site->current_version, 1);
  EXPECT_EQ(site->keep_versions, std::optional<int64_t>(4));
  EXPECT_TRUE(reopened->GetVersion(kSite, 1)->pinned);
  EXPECT_EQ(reopened->VersionFiles(kSite, 1)->size(), 1u);
  EXPECT_EQ(reopened->LatestMetadata(kSite, "root")->sha256, Hash("root1"));
  EXPECT_EQ(reopened->LoadFileCache(kSite)->size(), 1u);
}

}  // namespace
}  // namespace refuge
