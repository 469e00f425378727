// The durable-write, bounded-read and mkdir -p helpers.
#include "common/file_util.h"

#include <sys/stat.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace refuge {
namespace {

using refuge::testing::ReadTestFile;
using refuge::testing::TempDir;
using refuge::testing::WriteTestFile;

struct stat StatOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st;
}

// Sets the umask for one scope, so a test can show that a helper does not depend on it.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t old_;
};

int CountEntries(const std::string& dir) {
  int n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

TEST(WriteFileDurableTest, CreatesFileWithContents) {
  TempDir dir;
  const std::string path = dir.Sub("new.json");
  ASSERT_TRUE(WriteFileDurable(path, std::string("a\0b", 3)).ok());
  EXPECT_EQ(ReadTestFile(path), std::string("a\0b", 3));
}

TEST(WriteFileDurableTest, ReplacesByRenameNotInPlace) {
  TempDir dir;
  const std::string path = dir.Sub("timestamp.json");
  WriteTestFile(path, "old contents, longer than the new ones");
  // A hard link keeps the old inode reachable: an atomic replacement leaves it untouched,
  // an in-place rewrite (truncate + write) would change it.
  ASSERT_EQ(::link(path.c_str(), dir.Sub("old-link").c_str()), 0);
  const ino_t old_inode = StatOf(path).st_ino;

  Status s = WriteFileDurable(path, "new");
  ASSERT_TRUE(s.ok()) << s.ToString();

  EXPECT_EQ(ReadTestFile(path), "new");
  EXPECT_EQ(ReadTestFile(dir.Sub("old-link")), "old contents, longer than the new ones");
  EXPECT_NE(StatOf(path).st_ino, old_inode);
}

TEST(WriteFileDurableTest, LeavesNoTemporaryFiles) {
  TempDir dir;
  const std::string path = dir.Sub("f");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(WriteFileDurable(path, std::to_string(i)).ok());
  EXPECT_EQ(CountEntries(dir.path()), 1);
  EXPECT_EQ(ReadTestFile(path), "2");
}

TEST(WriteFileDurableTest, SetsRequestedModeRegardlessOfUmask) {
  TempDir dir;
  {
    ScopedUmask mask(077);
    ASSERT_TRUE(WriteFileDurable(dir.Sub("public"), "x", 0644).ok());
  }
  {
    ScopedUmask mask(0);
    ASSERT_TRUE(WriteFileDurable(dir.Sub("secret"), "x", 0600).ok());
  }
  EXPECT_EQ(StatOf(dir.Sub("public")).st_mode & 07777, 0644u);
  EXPECT_EQ(StatOf(dir.Sub("secret")).st_mode & 07777, 0600u);
}

TEST(WriteFileDurableTest, ReplacementTakesTheNewMode) {
  TempDir dir;
  const std::string path = dir.Sub("key");
  ASSERT_TRUE(WriteFileDurable(path, "v1", 0644).ok());
  ASSERT_TRUE(WriteFileDurable(path, "v2", 0600).ok());
  EXPECT_EQ(StatOf(path).st_mode & 07777, 0600u);
  EXPECT_EQ(ReadTestFile(path), "v2");
}

TEST(WriteFileDurableTest, FailsInMissingDirectory) {
  TempDir dir;
  Status s = WriteFileDurable(dir.Sub("absent/f"), "x");
  EXPECT_FALSE(s.ok());
}

TEST(ReadFileBoundedTest, ReadsFileAtTheBound) {
  TempDir dir;
  const std::string path = dir.Sub("f");
  WriteTestFile(path, std::string(100, 'x'));
  auto data = ReadFileBounded(path, 100);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(*data, std::string(100, 'x'));
}

TEST(ReadFileBoundedTest, TooLargePastTheBoundNamesTheFile) {
  TempDir dir;
  const std::string path = dir.Sub("big.json");
  WriteTestFile(path, std::string(101, 'x'));
  auto data = ReadFileBounded(path, 100);
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), StatusCode::kTooLarge);
  EXPECT_NE(data.status().message().find(path), std::string::npos) << data.status().message();
}

TEST(ReadFileBoundedTest, ReadsEmptyAndLargerThanOneBufferFiles) {
  TempDir dir;
  WriteTestFile(dir.Sub("empty"), "");
  auto empty = ReadFileBounded(dir.Sub("empty"), 10);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
  std::string big;
  for (int i = 0; i < 100'000; ++i) big.push_back(static_cast<char>(i * 7));
  WriteTestFile(dir.Sub("big"), big);
  auto read = ReadFileBounded(dir.Sub("big"), 1 << 20);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, big);
}

TEST(ReadFileBoundedTest, MissingFileIsNotFound) {
  TempDir dir;
  EXPECT_EQ(ReadFileBounded(dir.Sub("absent"), 10).status().code(), StatusCode::kNotFound);
}

TEST(ReadFileBoundedTest, RefusesDirectory) {
  TempDir dir;
  EXPECT_FALSE(ReadFileBounded(dir.path(), 1 << 20).ok());
}

TEST(MakeDirectoriesTest, CreatesNestedDirectoriesWithMode) {
  TempDir dir;
  const std::string path = dir.Sub("a/b/c");
  ScopedUmask mask(0);
  Status s = MakeDirectories(path, 0750);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(S_ISDIR(StatOf(path).st_mode));
  EXPECT_EQ(StatOf(path).st_mode & 07777, 0750u);
  EXPECT_EQ(StatOf(dir.Sub("a")).st_mode & 07777, 0750u);
}

TEST(MakeDirectoriesTest, ExistingDirectoryIsFine) {
  TempDir dir;
  ASSERT_TRUE(MakeDirectories(dir.Sub("x/y")).ok());
  EXPECT_TRUE(MakeDirectories(dir.Sub("x/y")).ok());
  EXPECT_TRUE(MakeDirectories(dir.Sub("x/y/")).ok());
  EXPECT_TRUE(MakeDirectories(dir.path()).ok());
}

TEST(MakeDirectoriesTest, FailsWhereAFileIsInTheWay) {
  TempDir dir;
  WriteTestFile(dir.Sub("file"), "x");
  EXPECT_FALSE(MakeDirectories(dir.Sub("file")).ok());
  EXPECT_FALSE(MakeDirectories(dir.Sub("file/sub")).ok());
}

TEST(FileUtilTest, DirName) {
  EXPECT_EQ(DirName("a/b/c"), "a/b");
  EXPECT_EQ(DirName("/a"), "/");
  EXPECT_EQ(DirName("name"), ".");
}

TEST(FileUtilTest, PathExists) {
  TempDir dir;
  EXPECT_TRUE(PathExists(dir.path()));
  EXPECT_FALSE(PathExists(dir.Sub("absent")));
}

}  // namespace
}  // namespace refuge
