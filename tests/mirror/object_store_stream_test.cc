// ObjectStore::StageStream with an expected hash and size (how a mirror stores what peers
// send): exact bytes are staged; wrong bytes, short or long streams are refused with nothing
// left in tmp/; a long stream is cut at the first chunk past the signed size; an object the
// store already holds needs no commit.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/sha256.h"
#include "store/object_store.h"
#include "support/temp_dir.h"

namespace refuge {
namespace {

using refuge::testing::TempDir;

size_t FilesIn(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

// A producer that sends `chunks` one after the other, counting the ones the writer accepted.
struct Chunks {
  std::vector<std::string> chunks;
  int accepted = 0;
  int offered = 0;

  std::function<Status(const ObjectStore::ChunkWriter&)> Producer() {
    return [this](const ObjectStore::ChunkWriter& write) -> Status {
      for (const std::string& c : chunks) {
        ++offered;
        REFUGE_RETURN_IF_ERROR(write(c));
        ++accepted;
      }
      return Status::Ok();
    };
  }
};

class ObjectStoreStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = ObjectStore::Open(dir_.path());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  std::string TmpDir() const { return dir_.path() + "/tmp"; }

  TempDir dir_{TempDir::Medium::kFast};
  std::unique_ptr<ObjectStore> store_;
  const std::string data_ = "the signed bytes of one object, in three chunks";
  const ObjectInfo info_{Sha256Hex(data_), data_.size()};
};

TEST_F(ObjectStoreStreamTest, ExactBytesAreStagedThenCommitted) {
  Chunks c{{data_.substr(0, 10), data_.substr(10, 20), data_.substr(30)}};
  auto staged = store_->StageStream(c.Producer(), "test", &info_);
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  EXPECT_EQ(staged->info.sha256, info_.sha256);
  EXPECT_EQ(staged->info.size, info_.size);
  EXPECT_FALSE(staged->temp_path.empty());
  EXPECT_FALSE(store_->Contains(info_.sha256)) << "visible before the commit";
  std::vector<StagedObject> batch{*staged};
  ASSERT_TRUE(store_->CommitStaged(batch).ok());
  EXPECT_TRUE(store_->Contains(info_.sha256));
  EXPECT_EQ(store_->Read(info_.sha256, 1 << 20).value(), data_);
  EXPECT_EQ(FilesIn(TmpDir()), 0u);
}

TEST_F(ObjectStoreStreamTest, EmptyObjectIsStaged) {
  const ObjectInfo empty{Sha256Hex(""), 0};
  Chunks c{{}};
  auto staged = store_->StageStream(c.Producer(), "test", &empty);
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  EXPECT_EQ(staged->info.sha256, empty.sha256);
}

TEST_F(ObjectStoreStreamTest, WrongBytesOfTheRightSizeFailVerificationAndLeaveNoTempFile) {
  std::string wrong = data_;
  wrong[5] ^= 0x01;
  Chunks c{{wrong}};
  auto staged = store_->StageStream(c.Producer(), "test", &info_);
  ASSERT_FALSE(staged.ok());
  EXPECT_EQ(staged.status().code(), StatusCode::kVerificationFailed) << staged.status().ToString();
  EXPECT_EQ(FilesIn(TmpDir()), 0u);
  EXPECT_FALSE(store_->Contains(info_.sha256));
  EXPECT_FALSE(store_->Contains(Sha256Hex(wrong)));
}

TEST_F(ObjectStoreStreamTest, ShortStreamFailsVerificationAndLeavesNoTempFile) {
  Chunks c{{data_.substr(0, data_.size() - 1)}};
  auto staged = store_->StageStream(c.Producer(), "test", &info_);
  ASSERT_FALSE(staged.ok());
  EXPECT_EQ(staged.status().code(), StatusCode::kVerificationFailed) << staged.status().ToString();
  EXPECT_EQ(FilesIn(TmpDir()), 0u);
}

TEST_F(ObjectStoreStreamTest, LongerStreamIsCutAtTheFirstChunkPastTheSize) {
  // The first chunk fits; the second would pass the signed size by one byte; the rest would
  // go on forever if the writer did not refuse.
  Chunks c{{data_.substr(0, 20), data_.substr(20) + "X", "more", "and more", "and more"}};
  auto staged = store_->StageStream(c.Producer(), "test", &info_);
  ASSERT_FALSE(staged.ok());
  EXPECT_EQ(staged.status().code(), StatusCode::kVerificationFailed) << staged.status().ToString();
  EXPECT_EQ(c.accepted, 1);
  EXPECT_EQ(c.offered, 2) << "the stream was not cut at once";
  EXPECT_EQ(FilesIn(TmpDir()), 0u);
  EXPECT_FALSE(store_->Contains(info_.sha256));
}

TEST_F(ObjectStoreStreamTest, EndlessStreamIsCutAfterTheSignedSize) {
  int chunks = 0;
  auto staged = store_->StageStream(
      [&](const ObjectStore::ChunkWriter& write) -> Status {
        const std::string chunk(4096, 'z');
        for (;;) {  // a hostile peer: never ends on its own
          REFUGE_RETURN_IF_ERROR(write(chunk));
          if (++chunks > 1000) return Internal("the writer never refused");
        }
      },
      "endless", &info_);
  ASSERT_FALSE(staged.ok());
  EXPECT_EQ(staged.status().code(), StatusCode::kVerificationFailed) << staged.status().ToString();
  EXPECT_EQ(chunks, 0) << "a first chunk larger than the object was accepted";
  EXPECT_EQ(FilesIn(TmpDir()), 0u);
}

TEST_F(ObjectStoreStreamTest, RightBytesWithAnotherExpectedHashFailVerification) {
  const ObjectInfo other{Sha256Hex("something else"), data_.size()};
  Chunks c{{data_}};
  auto staged = store_->StageStream(c.Producer(), "test", &other);
  ASSERT_FALSE(staged.ok());
  EXPECT_EQ(staged.status().code(), StatusCode::kVerificationFailed);
  EXPECT_FALSE(store_->Contains(other.sha256));
  EXPECT_FALSE(store_->Contains(info_.sha256));
  EXPECT_EQ(FilesIn(TmpDir()), 0u);
}

TEST_F(ObjectStoreStreamTest, ProducerErrorIsReturnedAndLeavesNoTempFile) {
  auto staged = store_->StageStream(
      [&](const ObjectStore::ChunkWriter& write) -> Status {
        REFUGE_RETURN_IF_ERROR(write(data_.substr(0, 5)));
        return Unavailable("connection reset");
      },
      "test", &info_);
  ASSERT_FALSE(staged.ok());
  EXPECT_EQ(staged.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(FilesIn(TmpDir()), 0u);
}

TEST_F(ObjectStoreStreamTest, AlreadyPresentObjectNeedsNoCommit) {
  ASSERT_TRUE(store_->PutBytes(data_).ok());
  Chunks c{{data_}};
  auto staged = store_->StageStream(c.Producer(), "test", &info_);
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  EXPECT_TRUE(staged->temp_path.empty());
  EXPECT_EQ(staged->info.sha256, info_.sha256);
  EXPECT_EQ(FilesIn(TmpDir()), 0u);
  std::vector<StagedObject> batch{*staged};
  EXPECT_TRUE(store_->CommitStaged(batch).ok());
  EXPECT_EQ(store_->Read(info_.sha256, 1 << 20).value(), data_);
}

TEST_F(ObjectStoreStreamTest, AbortedStagedObjectLeavesNothing) {
  Chunks c{{data_}};
  auto staged = store_->StageStream(c.Producer(), "test", &info_);
  ASSERT_TRUE(staged.ok());
  std::vector<StagedObject> batch{*staged};
  store_->AbortStaged(batch);
  EXPECT_EQ(FilesIn(TmpDir()), 0u);
  EXPECT_FALSE(store_->Contains(info_.sha256));
}

TEST_F(ObjectStoreStreamTest, WithoutExpectationAnyStreamIsStagedUnderItsOwnHash) {
  Chunks c{{"free ", "form"}};
  auto staged = store_->StageStream(c.Producer(), "test");
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  EXPECT_EQ(staged->info.sha256, Sha256Hex("free form"));
  EXPECT_EQ(staged->info.size, 9u);
}

}  // namespace
}  // namespace refuge
