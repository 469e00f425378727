// ObjectStore: content addressing, on-disk layout, corruption detection and the staged
// (batch) write path.
#include "store/object_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "crypto/sha256.h"
#include "support/temp_dir.h"

namespace refuge {
namespace {

using refuge::testing::ReadTestFile;
using refuge::testing::TempDir;
using refuge::testing::WriteTestFile;


std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  return names;
}

std::unique_ptr<ObjectStore> OpenStore(const TempDir& dir) {
  auto store = ObjectStore::Open(dir.path());
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

// Stages the contents of a file written for the purpose.
Result<StagedObject> StageContents(ObjectStore& store, const TempDir& dir, const std::string& name,
                                   const std::string& contents) {
  const std::string path = dir.Sub(name);
  WriteTestFile(path, contents);
  auto fd = OpenFile(path, O_RDONLY);
  if (!fd.ok()) return fd.status();
  return store.StageFromFd(fd->get(), path);
}

TEST(ObjectStoreTest, PutBytesThenReadContainsAndCheck) {
  auto dir = std::make_unique<TempDir>(TempDir::Medium::kFast);
  auto store = OpenStore(*dir);
  ASSERT_NE(store, nullptr);
  auto info = store->PutBytes("hello, refuge");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->sha256, Sha256Hex("hello, refuge"));
  EXPECT_EQ(info->size, 13u);
  EXPECT_TRUE(store->Contains(info->sha256));
  auto data = store->Read(info->sha256, 1024);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(*data, "hello, refuge");
  EXPECT_TRUE(store->Check(info->sha256).ok());
}

TEST(ObjectStoreTest, ObjectPathIsShardedByFirstTwoHexDigits) {
  auto dir = std::make_unique<TempDir>(TempDir::Medium::kFast);
  auto store = OpenStore(*dir);
  ASSERT_NE(store, nullptr);
  auto info = store->PutBytes("layout");
  ASSERT_TRUE(info.ok());
  const std::string sha = info->sha256;
  const std::string expected = dir->path() + "/objects/" + sha.substr(0, 2) + "/" + sha;
  EXPECT_EQ(store->PathFor(sha), expected);
  EXPECT_EQ(ReadTestFile(expected), "layout");
  EXPECT_EQ(sha.size(), 64u);
}

TEST(ObjectStoreTest, CorruptedObjectIsReportedByCheckAndRead) {
  auto dir = std::make_unique<TempDir>(TempDir::Medium::kFast);
  auto store = OpenStore(*dir);
  ASSERT_NE(store, nullptr);
  auto info = store->PutBytes("precious bytes");
  ASSERT_TRUE(info.ok());
  const std::string path = store->PathFor(info->sha256);
  std::string bytes = ReadTestFile(path);
  bytes[3] ^= 0x01;  // one flipped bit, same length
  WriteTestFile(path, bytes);

  Status check = store->Check(info->sha256);
  EXPECT_EQ(check.code(), StatusCode::kCorruption) << check.ToString();
  auto read = store->Read(info->sha256, 1024);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kCorruption);
  EXPECT_NE(read.status().message().find(info->sha256), std::string::npos);
}

TEST(ObjectStoreTest, MissingObjectIsNotFound) {
  auto dir = std::make_unique<TempDir>(TempDir::Medium::kFast);
  auto store = OpenStore(*dir);
  ASSERT_NE(store, nullptr);
  const std::string sha = Sha256Hex("never stored");
  EXPECT_FALSE(store->Contains(sha));
  EXPECT_EQ(store->Check(sha).code(), StatusCode::kNotFound);
  EXPECT_EQ(store->Read(sha, 1024).status().code(), StatusCode::kNotFound);
}

TEST(ObjectStoreTest, StagedObjectIsInvisibleUntilCommitted) {
  auto dir = std::make_unique<TempDir>(TempDir::Medium::kFast);
  TempDir src;
  auto store = OpenStore(*dir);
  ASSERT_NE(store, nullptr);
  auto staged = StageContents(*store, src, "page.html", "<p>staged</p>");
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  EXPECT_EQ(staged->info.sha256, Sha256Hex("<p>staged</p>"));
  EXPECT_EQ(staged->info.size, 13u);
  ASSERT_FALSE(staged->temp_path.empty());
  EXPECT_EQ(std::filesystem::path(staged->temp_path).parent_path(),
            std::filesystem::path(dir->path() + "/tmp"));
  EXPECT_TRUE(PathExists(staged->temp_path));
  EXPECT_FALSE(store->Contains(staged->info.sha256));

  std::vector<StagedObject> batch{std::move(staged).value()};
  const std::string temp_path = batch[0].temp_path;
  ASSERT_TRUE(store->CommitStaged(batch).ok());
  EXPECT_TRUE(store->Contains(batch[0].info.sha256));
  EXPECT_FALSE(PathExists(temp_path));
  EXPECT_TRUE(ListDir(dir->path() + "/tmp").empty());
  auto data = store->Read(batch[0].info.sha256, 1024);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data, "<p>staged</p>");
}

TEST(ObjectStoreTest, AbortStagedRemovesTemporaryFiles) {
  auto dir = std::make_unique<TempDir>(TempDir::Medium::kFast);
  TempDir src;
  auto store = OpenStore(*dir);
  ASSERT_NE(store, nullptr);
  std::vector<StagedObject> batch;
  for (const char* contents : {"one", "two", "three"}) {
    auto staged = StageContents(*store, src, contents, contents);
    ASSERT_TRUE(staged.ok());
    batch.push_back(std::move(staged).value());
  }
  EXPECT_EQ(ListDir(dir->path() + "/tmp").size(), 3u);
  store->AbortStaged(batch);
  EXPECT_TRUE(ListDir(dir->path() + "/tmp").empty());
  for (const StagedObject& s : batch) EXPECT_FALSE(store->Contains(s.info.sha256));
}

TEST(ObjectStoreTest, StagingAnExistingObjectLeavesNoTemporaryFile) {
  auto dir = std::make_unique<TempDir>(TempDir::Medium::kFast);
  TempDir src;
  auto store = OpenStore(*dir);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->PutBytes("already here").ok());
  auto staged = StageContents(*store, src, "f", "already here");
  ASSERT_TRUE(staged.ok());
  EXPECT_TRUE(staged->temp_path.empty());
  EXPECT_EQ(staged->info.sha256, Sha256Hex("already here"));
  EXPECT_TRUE(ListDir(dir->path() + "/tmp").empty());
}

TEST(ObjectStoreTest, ForEachObjectListsExactlyTheStoredObjects) {
  auto dir = std::make_unique<TempDir>(TempDir::Medium::kFast);
  auto store = OpenStore(*dir);
  ASSERT_NE(store, nullptr);
  std::set<std::string> expected;
  for (int i = 0; i < 20; ++i) {
    auto info = store->PutBytes("object " + std::to_string(i));
    ASSERT_TRUE(info.ok());
    expected.insert(info->sha256);
  }
  // Things that are not objects: a stray name in a shard and a temporary file.
  WriteTestFile(dir->path() + "/objects/ab/not-a-hash", "x");
  WriteTestFile(dir->path() + "/tmp/put-leftover", "x");

  std::set<std::string> seen;
  ASSERT_TRUE(store
                  ->ForEachObject([&](const std::string& sha) {
                    EXPECT_TRUE(seen.insert(sha).second) << "listed twice: " << sha;
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(seen, expected);
}

TEST(ObjectStoreTest, ForEachObjectStopsAtTheCallbacksError) {
  auto dir = std::make_unique<TempDir>(TempDir::Medium::kFast);
  auto store = OpenStore(*dir);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->PutBytes("a").ok());
  ASSERT_TRUE(store->PutBytes("b").ok());
  int calls = 0;
  Status s = store->ForEachObject([&](const std::string&) {
    ++calls;
    return Internal("stop");
  });
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(calls, 1);
}

TEST(ObjectStoreTest, RemoveTemporaryFilesEmptiesTmpAndKeepsObjects) {
  auto dir = std::make_unique<TempDir>(TempDir::Medium::kFast);
  TempDir src;
  auto store = OpenStore(*dir);
  ASSERT_NE(store, nullptr);
  auto kept = store->PutBytes("kept");
  ASSERT_TRUE(kept.ok());
  auto staged = StageContents(*store, src, "f", "abandoned");
  ASSERT_TRUE(staged.ok());
  WriteTestFile(dir->path() + "/tmp/stray", "crash leftover");

  auto removed = store->RemoveTemporaryFiles();
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 2u);
  EXPECT_TRUE(ListDir(dir->path() + "/tmp").empty());
  EXPECT_TRUE(store->Contains(kept->sha256));
}

TEST(ObjectStoreTest, RemoveDeletesObject) {
  auto dir = std::make_unique<TempDir>(TempDir::Medium::kFast);
  auto store = OpenStore(*dir);
  ASSERT_NE(store, nullptr);
  auto info = store->PutBytes("short-lived");
  ASSERT_TRUE(info.ok());
  ASSERT_TRUE(store->Remove(info->sha256).ok());
  EXPECT_FALSE(store->Contains(info->sha256));
  EXPECT_TRUE(store->Remove(info->sha256).ok()) << "removing a missing object is not an error";
}

TEST(ObjectStoreTest, ReadRefusesObjectLargerThanLimit) {
  auto dir = std::make_unique<TempDir>(TempDir::Medium::kFast);
  auto store = OpenStore(*dir);
  ASSERT_NE(store, nullptr);
  auto info = store->PutBytes(std::string(100, 'x'));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(store->Read(info->sha256, 99).status().code(), StatusCode::kTooLarge);
}

TEST(ObjectStoreTest, MalformedHashIsRefused) {
  auto dir = std::make_unique<TempDir>(TempDir::Medium::kFast);
  auto store = OpenStore(*dir);
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->Contains("../../etc/passwd"));
  EXPECT_EQ(store->Read("../../etc/passwd", 1024).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace refuge
