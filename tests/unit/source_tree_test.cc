// SourceTree: what a publisher's directory may contain, checked before anything is written.
#include "publish/source_tree.h"

#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/limits.h"
#include "support/temp_dir.h"

namespace refuge {
namespace {

using refuge::testing::TempDir;
using refuge::testing::WriteTestFile;

std::vector<std::string> TargetPaths(const std::vector<SourceFile>& files) {
  std::vector<std::string> out;
  for (const SourceFile& f : files) out.push_back(f.target_path);
  return out;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(ScanSourceTreeTest, ListsFilesSortedByRelativePath) {
  TempDir dir;
  WriteTestFile(dir.Sub("b.html"), "b");
  WriteTestFile(dir.Sub("a.html"), "aa");
  WriteTestFile(dir.Sub("c/z.css"), "z");
  WriteTestFile(dir.Sub("c/d/e/deep.txt"), "deep");
  WriteTestFile(dir.Sub("c-sibling.txt"), "s");
  auto files = ScanSourceTree(dir.path());
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(TargetPaths(*files),
            (std::vector<std::string>{"a.html", "b.html", "c-sibling.txt", "c/d/e/deep.txt",
                                      "c/z.css"}));
  EXPECT_EQ((*files)[0].size, 2u);
  EXPECT_EQ((*files)[0].disk_path, dir.Sub("a.html"));
  EXPECT_EQ((*files)[3].disk_path, dir.Sub("c/d/e/deep.txt"));
  struct stat st {};
  ASSERT_EQ(::stat(dir.Sub("a.html").c_str(), &st), 0);
  EXPECT_EQ((*files)[0].inode, static_cast<uint64_t>(st.st_ino));
}

TEST(ScanSourceTreeTest, EmptyDirectoryHasNoFiles) {
  TempDir dir;
  ASSERT_EQ(::mkdir(dir.Sub("empty").c_str(), 0755), 0);
  auto files = ScanSourceTree(dir.path());
  ASSERT_TRUE(files.ok());
  EXPECT_TRUE(files->empty());
}

TEST(ScanSourceTreeTest, NotADirectoryIsRefused) {
  TempDir dir;
  WriteTestFile(dir.Sub("file"), "x");
  EXPECT_FALSE(ScanSourceTree(dir.Sub("file")).ok());
  EXPECT_EQ(ScanSourceTree(dir.Sub("missing")).status().code(), StatusCode::kNotFound);
}

TEST(ScanSourceTreeTest, SymlinkInsideTheDirectoryIsFollowed) {
  TempDir dir;
  WriteTestFile(dir.Sub("real/data.txt"), "0123456789");
  ASSERT_EQ(::symlink("real/data.txt", dir.Sub("alias.txt").c_str()), 0);
  auto files = ScanSourceTree(dir.path());
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(TargetPaths(*files), (std::vector<std::string>{"alias.txt", "real/data.txt"}));
  const SourceFile& alias = (*files)[0];
  EXPECT_EQ(alias.size, 10u) << "the size is the target's, not the link's";
  char resolved[PATH_MAX];
  ASSERT_NE(::realpath(dir.Sub("real/data.txt").c_str(), resolved), nullptr);
  EXPECT_EQ(alias.disk_path, std::string(resolved));
}

TEST(ScanSourceTreeTest, SymlinkPointingOutsideIsRefused) {
  TempDir dir;
  TempDir elsewhere;
  WriteTestFile(elsewhere.Sub("secret.txt"), "secret");
  WriteTestFile(dir.Sub("index.html"), "hi");
  ASSERT_EQ(::symlink(elsewhere.Sub("secret.txt").c_str(), dir.Sub("leak.txt").c_str()), 0);
  auto files = ScanSourceTree(dir.path());
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(files.status().message(), "leak.txt")) << files.status().message();
  EXPECT_TRUE(Contains(files.status().message(), "outside")) << files.status().message();
}

TEST(ScanSourceTreeTest, RelativeSymlinkEscapingWithDotDotIsRefused) {
  TempDir parent;
  WriteTestFile(parent.Sub("secret.txt"), "secret");
  WriteTestFile(parent.Sub("site/index.html"), "hi");
  ASSERT_EQ(::symlink("../secret.txt", parent.Sub("site/up.txt").c_str()), 0);
  auto files = ScanSourceTree(parent.Sub("site"));
  ASSERT_FALSE(files.ok());
  EXPECT_TRUE(Contains(files.status().message(), "outside")) << files.status().message();
}

TEST(ScanSourceTreeTest, SymlinkToSiblingWithSharedPrefixIsRefused) {
  // "/x/site-other" starts with "/x/site" but is not inside "/x/site".
  TempDir parent;
  WriteTestFile(parent.Sub("site-other/secret.txt"), "secret");
  WriteTestFile(parent.Sub("site/index.html"), "hi");
  ASSERT_EQ(::symlink(parent.Sub("site-other/secret.txt").c_str(), parent.Sub("site/s.txt").c_str()),
            0);
  auto files = ScanSourceTree(parent.Sub("site"));
  ASSERT_FALSE(files.ok());
  EXPECT_TRUE(Contains(files.status().message(), "outside")) << files.status().message();
}

TEST(ScanSourceTreeTest, SymlinkToADirectoryIsRefused) {
  TempDir dir;
  WriteTestFile(dir.Sub("docs/page.html"), "p");
  ASSERT_EQ(::symlink("docs", dir.Sub("docs-link").c_str()), 0);
  auto files = ScanSourceTree(dir.path());
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(files.status().message(), "docs-link")) << files.status().message();
  EXPECT_TRUE(Contains(files.status().message(), "directory")) << files.status().message();
}

TEST(ScanSourceTreeTest, BrokenSymlinkIsRefused) {
  TempDir dir;
  ASSERT_EQ(::symlink("nowhere", dir.Sub("dangling").c_str()), 0);
  auto files = ScanSourceTree(dir.path());
  ASSERT_FALSE(files.ok());
  EXPECT_TRUE(Contains(files.status().message(), "dangling")) << files.status().message();
}

TEST(ScanSourceTreeTest, FifoIsRefused) {
  TempDir dir;
  WriteTestFile(dir.Sub("index.html"), "hi");
  ASSERT_EQ(::mkfifo(dir.Sub("pipe").c_str(), 0644), 0);
  auto files = ScanSourceTree(dir.path());
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(files.status().message(), "pipe")) << files.status().message();
  EXPECT_TRUE(Contains(files.status().message(), "not a regular file")) << files.status().message();
}

TEST(ScanSourceTreeTest, FileNameWithControlCharacterIsRefused) {
  TempDir dir;
  WriteTestFile(dir.Sub("bad\nname.txt"), "x");
  auto files = ScanSourceTree(dir.path());
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(files.status().message(), "control character")) << files.status().message();
}

TEST(ScanSourceTreeTest, FileNameWithInvalidUtf8IsRefused) {
  TempDir dir;
  WriteTestFile(dir.Sub("caf\xe9.txt"), "latin-1 name");
  auto files = ScanSourceTree(dir.path());
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(files.status().message(), "UTF-8")) << files.status().message();
}

TEST(ScanSourceTreeTest, FileInDirectoryWithControlCharacterIsRefused) {
  TempDir dir;
  WriteTestFile(dir.Sub("sub\tdir/ok.txt"), "x");
  auto files = ScanSourceTree(dir.path());
  ASSERT_FALSE(files.ok());
  EXPECT_TRUE(Contains(files.status().message(), "control character")) << files.status().message();
}

TEST(ScanSourceTreeTest, UnreadableDirectoryIsRefused) {
  if (::geteuid() == 0) {
    GTEST_SKIP() << "running as root: root reads a mode-000 directory anyway, so the refusal "
                    "cannot be provoked";
  }
  TempDir dir;
  WriteTestFile(dir.Sub("locked/inside.txt"), "x");
  ASSERT_EQ(::chmod(dir.Sub("locked").c_str(), 0), 0);
  auto files = ScanSourceTree(dir.path());
  ::chmod(dir.Sub("locked").c_str(), 0755);  // so that TempDir can clean up
  ASSERT_FALSE(files.ok());
  EXPECT_TRUE(Contains(files.status().message(), "locked")) << files.status().message();
}

TEST(ScanSourceTreeTest, NestingDeeperThanTheLimitIsRefused) {
  TempDir dir;
  std::string path = dir.path();
  for (int i = 0; i <= limits::kMaxDirectoryDepth; ++i) path += "/d";
  WriteTestFile(path + "/f", "x");
  auto files = ScanSourceTree(dir.path());
  ASSERT_FALSE(files.ok());
  EXPECT_TRUE(Contains(files.status().message(), "deeper")) << files.status().message();
}

TEST(CheckTargetPathTest, AcceptsOrdinaryPaths) {
  EXPECT_TRUE(CheckTargetPath("index.html").ok());
  EXPECT_TRUE(CheckTargetPath("css/site.css").ok());
  EXPECT_TRUE(CheckTargetPath("日本/ページ.html").ok());
  EXPECT_TRUE(CheckTargetPath(".well-known/x").ok());
  EXPECT_TRUE(CheckTargetPath("a..b").ok());
}

TEST(CheckTargetPathTest, RejectsEmpty) { EXPECT_FALSE(CheckTargetPath("").ok()); }

TEST(CheckTargetPathTest, RejectsAbsolute) { EXPECT_FALSE(CheckTargetPath("/a").ok()); }

TEST(CheckTargetPathTest, RejectsEmptySegment) {
  EXPECT_FALSE(CheckTargetPath("a//b").ok());
  EXPECT_FALSE(CheckTargetPath("a/").ok());
}

TEST(CheckTargetPathTest, RejectsDotSegment) {
  EXPECT_FALSE(CheckTargetPath("a/./b").ok());
  EXPECT_FALSE(CheckTargetPath(".").ok());
}

TEST(CheckTargetPathTest, RejectsDotDotSegment) {
  EXPECT_FALSE(CheckTargetPath("a/../b").ok());
  EXPECT_FALSE(CheckTargetPath("..").ok());
  EXPECT_FALSE(CheckTargetPath("../a").ok());
}

TEST(CheckTargetPathTest, RejectsOverLongPathButAcceptsTheLimit) {
  std::string at_limit(limits::kMaxTargetPathBytes, 'a');
  EXPECT_TRUE(CheckTargetPath(at_limit).ok());
  Status s = CheckTargetPath(at_limit + "a");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

TEST(CheckTargetPathTest, RejectsControlCharactersAndDelete) {
  EXPECT_FALSE(CheckTargetPath("a\x01" "b").ok());
  EXPECT_FALSE(CheckTargetPath("a\x7f").ok());
  EXPECT_FALSE(CheckTargetPath(std::string("a\0b", 3)).ok());
}

TEST(CheckTargetPathTest, RejectsInvalidUtf8) {
  EXPECT_FALSE(CheckTargetPath("\xff").ok());
  EXPECT_FALSE(CheckTargetPath("\xc0\xaf").ok()) << "overlong encoding of '/'";
  EXPECT_FALSE(CheckTargetPath("\xed\xa0\x80").ok()) << "surrogate";
  EXPECT_FALSE(CheckTargetPath("\xe2\x82").ok()) << "truncated sequence";
}

}  // namespace
}  // namespace refuge
