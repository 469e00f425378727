// Garbage collection: which versions and objects go, which stay.
#include "node/garbage_collector.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/sha256.h"
#include "node/verifier.h"
#include "publish/publisher.h"
#include "support/temp_dir.h"

namespace refuge {
namespace {

using refuge::testing::TempDir;
using refuge::testing::WriteTestFile;

constexpr int64_t kNow = 1'700'000'000;


// A site with five published versions:
//   shared.txt  the same in every version
//   v.txt       unique to each version
//   toggle.txt  "A" in versions 1-3 and 5, "B" in version 4
class GarbageCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_dir_ = std::make_unique<TempDir>(TempDir::Medium::kFast);
    auto home = NodeHome::Open(home_dir_->path());
    ASSERT_TRUE(home.ok()) << home.status().ToString();
    home_ = std::move(home).value();
    auto init = InitSite(*home_, InitOptions{}, clock_);
    ASSERT_TRUE(init.ok()) << init.status().ToString();
    site_id_ = init->site_id;
    for (int v = 1; v <= 5; ++v) {
      WriteTestFile(source_.Sub("shared.txt"), "in every version");
      WriteTestFile(source_.Sub("v.txt"), VersionText(v));
      WriteTestFile(source_.Sub("toggle.txt"), v == 4 ? "B" : "A");
      PublishOptions options;
      options.threads = 2;
      auto r = Publish(*home_, site_id_, source_.path(), options, clock_);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_EQ(r->version, v);
      clock_.Advance(60);
    }
  }

  static std::string VersionText(int v) { return "version " + std::to_string(v) + " only"; }

  std::vector<int64_t> Versions() {
    std::vector<int64_t> out;
    auto rows = home_->db().ListVersions(site_id_);
    EXPECT_TRUE(rows.ok());
    if (rows.ok()) {
      for (const VersionRow& r : *rows) out.push_back(r.version);
    }
    return out;
  }

  std::set<std::string> Objects() {
    std::set<std::string> out;
    EXPECT_TRUE(home_->store()
                    .ForEachObject([&](const std::string& sha) {
                      out.insert(sha);
                      return Status::Ok();
                    })
                    .ok());
    return out;
  }

  Result<GcResult> Collect(std::optional<int64_t> keep, bool dry_run = false) {
    GcOptions options;
    options.keep = keep;
    options.dry_run = dry_run;
    return CollectGarbage(*home_, options);
  }

  std::unique_ptr<TempDir> home_dir_;
  TempDir source_;
  FakeClock clock_{kNow};
  std::unique_ptr<NodeHome> home_;
  std::string site_id_;
};

TEST_F(GarbageCollectorTest, KeepsTheNewestVersionsAndDeletesTheRest) {
  auto r = Collect(2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->versions_deleted, 3u);
  EXPECT_EQ(Versions(), (std::vector<int64_t>{5, 4}));
  for (int64_t v = 1; v <= 3; ++v) {
    EXPECT_EQ(home_->db().GetMetadata(site_id_, "snapshot", v).status().code(),
              StatusCode::kNotFound);
  }
}

TEST_F(GarbageCollectorTest, DeletesObjectsOnlyTheDeletedVersionsUsed) {
  ASSERT_TRUE(Collect(2).ok());
  auto& store = home_->store();
  for (int v = 1; v <= 3; ++v) {
    EXPECT_FALSE(store.Contains(Sha256Hex(VersionText(v)))) << "v.txt of version " << v;
  }
  EXPECT_TRUE(store.Contains(Sha256Hex(VersionText(4))));
  EXPECT_TRUE(store.Contains(Sha256Hex(VersionText(5))));
  EXPECT_TRUE(store.Contains(Sha256Hex("in every version")));
  EXPECT_TRUE(store.Contains(Sha256Hex("A"))) << "shared with kept version 5";
  EXPECT_TRUE(store.Contains(Sha256Hex("B")));
}

TEST_F(GarbageCollectorTest, EveryRemainingObjectIsLiveAndEveryLiveObjectRemains) {
  auto r = Collect(2);
  ASSERT_TRUE(r.ok());
  auto live = home_->db().LiveObjects();
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(Objects(), *live);
  EXPECT_EQ(r->objects_kept, live->size());
  // v.txt of versions 1-3, their targets and snapshots, and timestamps 1-4 (only the newest
  // timestamp is ever served again).
  EXPECT_EQ(r->objects_deleted, 3u + 3u + 3u + 4u);
  EXPECT_GT(r->bytes_freed, 0u);
}

TEST_F(GarbageCollectorTest, KeepsEveryRoot) {
  auto rotated = RotateKey(*home_, site_id_, "root", "", ExpiryPolicy{}, clock_);
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  auto root1 = home_->db().GetMetadata(site_id_, "root", 1);
  auto root2 = home_->db().GetMetadata(site_id_, "root", 2);
  ASSERT_TRUE(root1.ok());
  ASSERT_TRUE(root2.ok());

  ASSERT_TRUE(Collect(1).ok());
  EXPECT_TRUE(home_->db().GetMetadata(site_id_, "root", 1).ok());
  EXPECT_TRUE(home_->db().GetMetadata(site_id_, "root", 2).ok());
  EXPECT_TRUE(home_->store().Contains(root1->sha256));
  EXPECT_TRUE(home_->store().Contains(root2->sha256));
}

TEST_F(GarbageCollectorTest, KeepsPinnedVersions) {
  ASSERT_TRUE(home_->db().SetPinned(site_id_, 2, true).ok());
  auto r = Collect(2);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->versions_deleted, 2u);
  EXPECT_EQ(Versions(), (std::vector<int64_t>{5, 4, 2}));
  EXPECT_TRUE(home_->store().Contains(Sha256Hex(VersionText(2))));
  EXPECT_FALSE(home_->store().Contains(Sha256Hex(VersionText(3))));
}

TEST_F(GarbageCollectorTest, KeepsTheCurrentVersionEvenWhenNotAmongTheNewest) {
  // Make version 2 the one served again (as a rollback to it would), while 5 stays newest.
  auto files = home_->db().VersionFiles(site_id_, 2);
  auto row = home_->db().GetVersion(site_id_, 2);
  ASSERT_TRUE(files.ok());
  ASSERT_TRUE(row.ok());
  ASSERT_TRUE(home_->db().DeleteVersions(site_id_, {2}).ok());
  Publication again;
  again.site_id = site_id_;
  again.version = *row;
  again.files = *files;
  ASSERT_TRUE(home_->db().Commit(again).ok());
  ASSERT_EQ(home_->db().GetSite(site_id_)->current_version, 2);

  auto r = Collect(1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Versions(), (std::vector<int64_t>{5, 2}));
  EXPECT_TRUE(home_->store().Contains(Sha256Hex(VersionText(2))));
}

TEST_F(GarbageCollectorTest, UsesTheSitesKeepSettingWhenNotOverridden) {
  ASSERT_TRUE(home_->db().SetKeepVersions(site_id_, 4).ok());
  auto r = Collect(std::nullopt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Versions(), (std::vector<int64_t>{5, 4, 3, 2}));
}

TEST_F(GarbageCollectorTest, DefaultKeepIsThree) {
  ASSERT_TRUE(Collect(std::nullopt).ok());
  EXPECT_EQ(Versions().size(), static_cast<size_t>(kDefaultKeepVersions));
}

TEST_F(GarbageCollectorTest, DryRunDeletesNothing) {
  WriteTestFile(home_dir_->path() + "/tmp/stray", "x");
  const auto objects_before = Objects();
  auto r = Collect(2, /*dry_run=*/true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->versions_deleted, 3u) << "reports what it would delete";
  EXPECT_EQ(Versions(), (std::vector<int64_t>{5, 4, 3, 2, 1}));
  EXPECT_EQ(Objects(), objects_before);
  EXPECT_TRUE(std::filesystem::exists(home_dir_->path() + "/tmp/stray"));
}

TEST_F(GarbageCollectorTest, DryRunCountsOrphanObjectsWithoutDeletingThem) {
  auto orphan = home_->store().PutBytes("referenced by nothing");
  ASSERT_TRUE(orphan.ok());
  auto r = Collect(10, /*dry_run=*/true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->versions_deleted, 0u);
  EXPECT_EQ(r->objects_deleted, 1u);
  EXPECT_TRUE(home_->store().Contains(orphan->sha256));
}

TEST_F(GarbageCollectorTest, RemovesOrphanObjectsAndStrayTemporaryFiles) {
  auto orphan = home_->store().PutBytes("referenced by nothing");
  ASSERT_TRUE(orphan.ok());
  WriteTestFile(home_dir_->path() + "/tmp/stage-crashed", "half an object");
  WriteTestFile(home_dir_->path() + "/tmp/put-crashed", "another");
  auto r = Collect(10);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->versions_deleted, 0u);
  EXPECT_EQ(r->objects_deleted, 1u);
  EXPECT_EQ(r->temp_files_removed, 2u);
  EXPECT_FALSE(home_->store().Contains(orphan->sha256));
  EXPECT_TRUE(std::filesystem::is_empty(home_dir_->path() + "/tmp"));
}

TEST_F(GarbageCollectorTest, SecondRunFindsNothingToDo) {
  ASSERT_TRUE(Collect(2).ok());
  auto again = Collect(2);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->versions_deleted, 0u);
  EXPECT_EQ(again->objects_deleted, 0u);
}

TEST_F(GarbageCollectorTest, SiteStillVerifiesAfterCollection) {
  ASSERT_TRUE(Collect(2).ok());
  auto report = VerifyNode(*home_, std::nullopt, clock_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  for (const VerifyFinding& f : report->problems) ADD_FAILURE() << f.message;
  EXPECT_EQ(report->versions, 2u);
}

TEST_F(GarbageCollectorTest, KeepBelowOneIsRefused) {
  auto r = Collect(0);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Versions().size(), 5u);
}

TEST_F(GarbageCollectorTest, SiteFilterLeavesOtherSitesVersions) {
  auto other = InitSite(*home_, InitOptions{}, clock_);
  ASSERT_TRUE(other.ok());
  for (int v = 1; v <= 3; ++v) {
    WriteTestFile(source_.Sub("v.txt"), "other site " + std::to_string(v));
    ASSERT_TRUE(Publish(*home_, other->site_id, source_.path(), PublishOptions{}, clock_).ok());
  }
  GcOptions options;
  options.keep = 1;
  options.site_id = site_id_;
  ASSERT_TRUE(CollectGarbage(*home_, options).ok());
  EXPECT_EQ(Versions(), (std::vector<int64_t>{5}));
  EXPECT_EQ(home_->db().ListVersions(other->site_id)->size(), 3u);
  EXPECT_TRUE(home_->store().Contains(Sha256Hex("other site 1")));
}

}  // namespace
}  // namespace refuge
