// DownloadObjects (mirror/object_downloader.h): objects fetched in parallel from several
// nodes, each checked against its signed hash and size before it is stored; fallback sources
// asked only for what the primary ones lack. The sources are loopback static servers laid out
// like a node (/.refuge/v1/objects/<sha256>), some of them lying: wrong bytes, missing
// objects, endless bodies.
#include "mirror/object_downloader.h"

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/sha256.h"
#include "support/static_http_server.h"
#include "support/temp_dir.h"

namespace refuge::mirror {
namespace {

using refuge::testing::StaticHttpServer;
using refuge::testing::TempDir;
using refuge::testing::WriteTestFile;

constexpr char kObjects[] = "/.refuge/v1/objects/";

size_t FilesIn(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

// A node-like directory served over HTTP on loopback.
struct FakeNode {
  TempDir root{TempDir::Medium::kFast};
  std::unique_ptr<StaticHttpServer> server = std::make_unique<StaticHttpServer>(root.path());

  void Put(const std::string& sha256, const std::string& bytes) {
    WriteTestFile(root.path() + kObjects + sha256, bytes);
  }
  std::string url() const { return server->base_url(); }
  int Requests(const std::string& sha256) const { return server->CountRequests(kObjects + sha256); }
};

// A closed port on loopback: connections are refused.
std::string DeadUrl() {
  auto dead = std::make_unique<StaticHttpServer>(TempDir().path());
  std::string url = dead->base_url();
  dead.reset();
  return url;
}

class ObjectDownloaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = ObjectStore::Open(store_dir_.path());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    for (int i = 0; i < 24; ++i) {
      // Sizes vary, a few past the fetcher's first buffer.
      std::string bytes = "object " + std::to_string(i) + " " + std::string(100 + i * 997, 'a' + i % 26);
      contents_.push_back(bytes);
      objects_.push_back(ObjectInfo{Sha256Hex(bytes), bytes.size()});
    }
    options_.parallel = 4;
    options_.http.connect_timeout_ms = 2000;
    options_.http.total_timeout_ms = 20000;
  }

  // Wrong bytes of the right size.
  static std::string Corrupt(std::string bytes) {
    bytes[bytes.size() / 2] ^= 0x20;
    return bytes;
  }

  void ExpectAllStoredAndValid() {
    for (const ObjectInfo& o : objects_) {
      ASSERT_TRUE(store_->Contains(o.sha256)) << o.sha256;
      EXPECT_TRUE(store_->Check(o.sha256).ok()) << "bad bytes stored as " << o.sha256;
    }
    EXPECT_EQ(FilesIn(store_dir_.path() + "/tmp"), 0u);
  }

  TempDir store_dir_{TempDir::Medium::kFast};
  std::unique_ptr<ObjectStore> store_;
  std::vector<std::string> contents_;
  std::vector<ObjectInfo> objects_;
  DownloaderOptions options_;
};

TEST_F(ObjectDownloaderTest, AllObjectsFromOneHonestSource) {
  FakeNode good;
  for (size_t i = 0; i < objects_.size(); ++i) good.Put(objects_[i].sha256, contents_[i]);
  auto report = DownloadObjects(*store_, objects_, {good.url()}, {}, options_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->objects, objects_.size());
  uint64_t bytes = 0;
  for (const ObjectInfo& o : objects_) bytes += o.size;
  EXPECT_EQ(report->bytes, bytes);
  EXPECT_EQ(report->failed, 0u);
  ExpectAllStoredAndValid();
}

TEST_F(ObjectDownloaderTest, OneSourceServingWrongBytesForSomeObjectsIsRoutedAround) {
  FakeNode good;
  FakeNode liar;
  for (size_t i = 0; i < objects_.size(); ++i) {
    good.Put(objects_[i].sha256, contents_[i]);
    // The liar holds every object, a third of them with wrong bytes and a third too long.
    if (i % 3 == 0) {
      liar.Put(objects_[i].sha256, Corrupt(contents_[i]));
    } else if (i % 3 == 1) {
      liar.Put(objects_[i].sha256, contents_[i] + "trailing junk");
    } else {
      liar.Put(objects_[i].sha256, contents_[i]);
    }
  }
  auto report = DownloadObjects(*store_, objects_, {liar.url(), good.url()}, {}, options_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->objects, objects_.size());
  EXPECT_EQ(report->failed, 0u);
  EXPECT_FALSE(report->problems.empty()) << "the liar's bad objects were not reported";
  ExpectAllStoredAndValid();
  // The load was spread: both sources were asked for objects.
  int liar_requests = 0, good_requests = 0;
  for (const ObjectInfo& o : objects_) {
    liar_requests += liar.Requests(o.sha256);
    good_requests += good.Requests(o.sha256);
  }
  EXPECT_GT(liar_requests, 0);
  EXPECT_GT(good_requests, 0);
}

TEST_F(ObjectDownloaderTest, MissingObjectsAndADeadSourceAreRoutedAround) {
  FakeNode good;
  FakeNode partial;
  for (size_t i = 0; i < objects_.size(); ++i) {
    good.Put(objects_[i].sha256, contents_[i]);
    if (i % 2 == 0) partial.Put(objects_[i].sha256, contents_[i]);  // others: 404
  }
  auto report = DownloadObjects(*store_, objects_, {DeadUrl(), partial.url(), good.url()}, {}, options_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->objects, objects_.size());
  ExpectAllStoredAndValid();
}

TEST_F(ObjectDownloaderTest, EndlessBodyIsCutAndAnotherSourceUsed) {
  FakeNode good;
  FakeNode endless;
  std::vector<ObjectInfo> one = {objects_[0]};
  good.Put(one[0].sha256, contents_[0]);
  endless.server->ServeEndless(kObjects + one[0].sha256, uint64_t{64} << 20);
  options_.parallel = 1;
  auto report = DownloadObjects(*store_, one, {endless.url(), good.url()}, {}, options_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(store_->Check(one[0].sha256).ok());
  auto requests = endless.server->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_LT(requests[0].body_bytes, uint64_t{16} << 20) << "the endless body was read far past the signed size";
}

TEST_F(ObjectDownloaderTest, AllSourcesBadGivesUnavailableAndStoresNothingBad) {
  FakeNode liar1;
  FakeNode liar2;
  for (size_t i = 0; i < objects_.size(); ++i) {
    liar1.Put(objects_[i].sha256, Corrupt(contents_[i]));
    liar2.Put(objects_[i].sha256, contents_[i] + "x");
  }
  auto report = DownloadObjects(*store_, objects_, {liar1.url(), liar2.url()}, {}, options_);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kUnavailable) << report.status().ToString();
  EXPECT_NE(report.status().message().find("24 of 24"), std::string::npos) << report.status().ToString();
  for (size_t i = 0; i < objects_.size(); ++i) {
    EXPECT_FALSE(store_->Contains(objects_[i].sha256)) << i;
    EXPECT_FALSE(store_->Contains(Sha256Hex(Corrupt(contents_[i])))) << i;
    EXPECT_FALSE(store_->Contains(Sha256Hex(contents_[i] + "x"))) << i;
  }
  EXPECT_EQ(FilesIn(store_dir_.path() + "/objects"), 0u);
  EXPECT_EQ(FilesIn(store_dir_.path() + "/tmp"), 0u);
}

TEST_F(ObjectDownloaderTest, ObjectsThatDidVerifyStayStoredWhenOthersFail) {
  FakeNode partial;
  for (size_t i = 0; i < objects_.size(); ++i) {
    partial.Put(objects_[i].sha256, i < 10 ? contents_[i] : Corrupt(contents_[i]));
  }
  auto report = DownloadObjects(*store_, objects_, {partial.url()}, {}, options_);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kUnavailable);
  for (size_t i = 0; i < objects_.size(); ++i) {
    EXPECT_EQ(store_->Contains(objects_[i].sha256), i < 10) << i;
  }
  EXPECT_EQ(FilesIn(store_dir_.path() + "/tmp"), 0u);
}

TEST_F(ObjectDownloaderTest, CancelledBeforeStartFetchesNothing) {
  FakeNode good;
  for (size_t i = 0; i < objects_.size(); ++i) good.Put(objects_[i].sha256, contents_[i]);
  std::atomic<bool> cancel{true};
  options_.cancel = &cancel;
  auto report = DownloadObjects(*store_, objects_, {good.url()}, {}, options_);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kUnavailable) << report.status().ToString();
  EXPECT_TRUE(good.server->requests().empty());
  EXPECT_EQ(FilesIn(store_dir_.path() + "/objects"), 0u);
}

TEST_F(ObjectDownloaderTest, CancelDuringTheDownloadStopsItAndKeepsWhatWasFetched) {
  FakeNode good;
  for (size_t i = 0; i < objects_.size(); ++i) good.Put(objects_[i].sha256, contents_[i]);
  std::atomic<bool> cancel{false};
  std::atomic<int> stored{0};
  options_.cancel = &cancel;
  options_.parallel = 1;
  options_.on_object = [&](uint64_t) {
    if (++stored == 3) cancel = true;
  };
  auto report = DownloadObjects(*store_, objects_, {good.url()}, {}, options_);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kUnavailable) << report.status().ToString();
  EXPECT_EQ(stored.load(), 3);
  EXPECT_EQ(good.server->requests().size(), 3u) << "objects were fetched after the cancel";
  size_t present = 0;
  for (const ObjectInfo& o : objects_) present += store_->Contains(o.sha256);
  EXPECT_EQ(present, 3u) << "the objects fetched before the cancel were not kept";
  EXPECT_EQ(FilesIn(store_dir_.path() + "/tmp"), 0u);
}

// The contract: "fails (kUnavailable) if some object could not be fetched". An object that
// verified but could not be made durable (the commit of its batch failed: here its temporary
// file vanished before the commit, as a full or failing disk would also make it) is not in
// the store, so the download must not be reported as complete.
TEST_F(ObjectDownloaderTest, ObjectsWhoseCommitFailedAreNotReportedAsStored) {
  FakeNode good;
  for (size_t i = 0; i < objects_.size(); ++i) good.Put(objects_[i].sha256, contents_[i]);
  options_.parallel = 1;
  const std::string tmp = store_dir_.path() + "/tmp";
  options_.on_object = [&](uint64_t) {
    // After each object is staged and before its batch is committed.
    for (const auto& e : std::filesystem::directory_iterator(tmp)) std::filesystem::remove(e.path());
  };
  auto report = DownloadObjects(*store_, objects_, {good.url()}, {}, options_);
  size_t stored = 0;
  for (const ObjectInfo& o : objects_) stored += store_->Contains(o.sha256);
  EXPECT_LT(stored, objects_.size()) << "test setup: the commit did not fail";
  EXPECT_FALSE(report.ok()) << "DownloadObjects reported success with " << objects_.size() - stored
                            << " of " << objects_.size() << " objects missing from the store";
  if (report.ok()) {
    EXPECT_EQ(report->objects, stored) << "objects reported as fetched and stored";
  }
}

TEST_F(ObjectDownloaderTest, FallbackIsAskedOnlyForWhatThePrimariesLack) {
  FakeNode peer;       // a mirror still syncing: holds half of the objects
  FakeNode publisher;  // holds everything, but its upload is the scarce resource
  for (size_t i = 0; i < objects_.size(); ++i) {
    publisher.Put(objects_[i].sha256, contents_[i]);
    if (i % 2 == 0) peer.Put(objects_[i].sha256, contents_[i]);
  }
  options_.primary_rounds = 3;
  options_.round_delay_ms = 10;
  auto report = DownloadObjects(*store_, objects_, {peer.url()}, {publisher.url()}, options_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ExpectAllStoredAndValid();
  for (size_t i = 0; i < objects_.size(); ++i) {
    if (i % 2 == 0) {
      EXPECT_EQ(publisher.Requests(objects_[i].sha256), 0) << "the publisher was asked for an object a peer had";
      EXPECT_EQ(peer.Requests(objects_[i].sha256), 1);
    } else {
      EXPECT_EQ(peer.Requests(objects_[i].sha256), 3) << "the peer was not asked again for each round";
      EXPECT_EQ(publisher.Requests(objects_[i].sha256), 1);
    }
  }
}

TEST_F(ObjectDownloaderTest, OnlyFallbackSourcesAreUsedAsPrimaries) {
  FakeNode good;
  for (size_t i = 0; i < objects_.size(); ++i) good.Put(objects_[i].sha256, contents_[i]);
  auto report = DownloadObjects(*store_, objects_, {}, {good.url()}, options_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ExpectAllStoredAndValid();
}

TEST_F(ObjectDownloaderTest, NoObjectsIsANoOp) {
  auto report = DownloadObjects(*store_, {}, {}, {}, options_);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->objects, 0u);
}

TEST_F(ObjectDownloaderTest, NoSourcesIsUnavailable) {
  auto report = DownloadObjects(*store_, objects_, {}, {}, options_);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), StatusCode::kUnavailable);
}

TEST_F(ObjectDownloaderTest, OnObjectIsCalledOncePerStoredObject) {
  FakeNode good;
  for (size_t i = 0; i < objects_.size(); ++i) good.Put(objects_[i].sha256, contents_[i]);
  std::atomic<int> calls{0};
  std::atomic<uint64_t> bytes{0};
  options_.on_object = [&](uint64_t n) {
    ++calls;
    bytes += n;
  };
  auto report = DownloadObjects(*store_, objects_, {good.url()}, {}, options_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(calls.load(), static_cast<int>(objects_.size()));
  EXPECT_EQ(bytes.load(), report->bytes);
}

TEST_F(ObjectDownloaderTest, SmallCommitBatchesStillStoreEverything) {
  FakeNode good;
  for (size_t i = 0; i < objects_.size(); ++i) good.Put(objects_[i].sha256, contents_[i]);
  options_.commit_batch_bytes = 1;  // a commit after every object
  auto report = DownloadObjects(*store_, objects_, {good.url()}, {}, options_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ExpectAllStoredAndValid();
}

}  // namespace
}  // namespace refuge::mirror
