// The TUF client workflow when nothing is wrong: refresh, look up, download, cache, and the
// names of targets and files (spaces, '%', non-ASCII, "..").
#include "tuf/updater.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "crypto/sha256.h"
#include "support/test_repository.h"

namespace refuge::tuf {
namespace {

using refuge::testing::ReadTestFile;
using refuge::testing::TufTest;
using refuge::testing::WriteTestFile;

constexpr char kOddName[] = "dir/caf\u00e9 50%.txt";

class UpdaterTest : public TufTest {};

// Both values of consistent_snapshot.
class UpdaterBothModesTest : public TufTest, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    repo_.consistent_snapshot = GetParam();
    repo_.AddTarget("hello.txt", "hello, world\n");
    repo_.AddTarget(kOddName, "odd name\n");
    repo_.PublishRoot();
    repo_.Publish();
    InitClient();
  }
};

INSTANTIATE_TEST_SUITE_P(ConsistentSnapshot, UpdaterBothModesTest, ::testing::Bool(),
                         [](const auto& param_info) { return param_info.param ? "On" : "Off"; });

TEST_P(UpdaterBothModesTest, RefreshTrustsAndPersistsEveryTopLevelRole) {
  auto u = NewUpdater();
  ASSERT_TRUE(u);
  Status s = u->Refresh();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(u->trusted_root().envelope.version, 1);
  ASSERT_TRUE(u->trusted_timestamp() && u->trusted_snapshot() && u->trusted_targets());
  EXPECT_EQ(u->trusted_targets()->targets.size(), 2u);
  auto trusted = Trusted();
  EXPECT_EQ(trusted["root.json"], repo_.RootBytes(1));
  EXPECT_EQ(trusted["timestamp.json"], repo_.Published("timestamp"));
  EXPECT_EQ(trusted["snapshot.json"], repo_.Published("snapshot"));
  EXPECT_EQ(trusted["targets.json"], repo_.Published("targets"));
  EXPECT_EQ(trusted.size(), 4u);
}

TEST_P(UpdaterBothModesTest, FetchesMetadataUnderTheNamesTheModeRequires) {
  ASSERT_TRUE(Refresh().ok());
  const bool consistent = GetParam();
  EXPECT_EQ(server_.CountRequests("/metadata/2.root.json"), 1);
  EXPECT_EQ(server_.CountRequests("/metadata/timestamp.json"), 1);
  EXPECT_EQ(server_.CountRequests("/metadata/1.snapshot.json"), consistent ? 1 : 0);
  EXPECT_EQ(server_.CountRequests("/metadata/snapshot.json"), consistent ? 0 : 1);
  EXPECT_EQ(server_.CountRequests("/metadata/1.targets.json"), consistent ? 1 : 0);
  EXPECT_EQ(server_.CountRequests("/metadata/targets.json"), consistent ? 0 : 1);
}

TEST_P(UpdaterBothModesTest, DownloadsTargetsWithOddNamesByteForByte) {
  auto u = NewUpdater();
  ASSERT_TRUE(u);
  for (const std::string name : {"hello.txt", kOddName}) {
    auto info = u->GetTargetInfo(name);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    std::string file = download_dir() + "/" + QuoteSegment(name);
    Status s = u->DownloadTarget(*info, name, file);
    ASSERT_TRUE(s.ok()) << name << ": " << s.ToString();
    EXPECT_EQ(ReadTestFile(file), repo_.role("targets").files[name]);
  }
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(download_dir()),
                          std::filesystem::directory_iterator()),
            2);
}

TEST_P(UpdaterBothModesTest, TargetUrlIsPercentEncoded) {
  auto u = NewUpdater();
  ASSERT_TRUE(u);
  auto info = u->GetTargetInfo(kOddName);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  server_.ClearRequests();
  ASSERT_TRUE(u->DownloadTarget(*info, kOddName, download_dir() + "/x").ok());
  ASSERT_EQ(server_.requests().size(), 1u);
  std::string expected = GetParam() ? "/targets/dir/" + Sha256Hex("odd name\n") +
                                          ".caf%C3%A9%2050%25.txt"
                                    : "/targets/dir/caf%C3%A9%2050%25.txt";
  EXPECT_EQ(server_.requests()[0].target, expected);
}

TEST_P(UpdaterBothModesTest, SecondRefreshReusesTrustedMetadata) {
  ASSERT_TRUE(Refresh().ok());
  auto before = Trusted();
  server_.ClearRequests();
  ASSERT_TRUE(Refresh().ok());
  // Only the next root and the timestamp: snapshot and targets are already trusted.
  ASSERT_EQ(server_.requests().size(), 2u);
  EXPECT_EQ(server_.requests()[0].path, "/metadata/2.root.json");
  EXPECT_EQ(server_.requests()[1].path, "/metadata/timestamp.json");
  EXPECT_EQ(Trusted(), before);
}

TEST_F(UpdaterTest, CachedTargetIsNotDownloadedAgain) {
  repo_.AddTarget("a.bin", std::string(5000, 'a'));
  repo_.PublishRoot();
  repo_.Publish();
  InitClient();
  auto u = NewUpdater();
  ASSERT_TRUE(u);
  auto info = u->GetTargetInfo("a.bin");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  const std::string file = download_dir() + "/a.bin";
  const std::string url_path = "/targets/" + Sha256Hex(std::string(5000, 'a')) + ".a.bin";
  for (int i = 0; i < 2; ++i) {  // what a client does: download only what is not cached
    if (!u->IsCached(*info, file)) {
      ASSERT_TRUE(u->DownloadTarget(*info, "a.bin", file).ok());
    }
  }
  EXPECT_EQ(server_.CountRequests(url_path), 1);
  EXPECT_TRUE(u->IsCached(*info, file));
}

TEST_F(UpdaterTest, IsCachedChecksLengthAndHash) {
  repo_.AddTarget("a.bin", "abcdef");
  repo_.PublishRoot();
  repo_.Publish();
  InitClient();
  auto u = NewUpdater();
  ASSERT_TRUE(u);
  auto info = u->GetTargetInfo("a.bin");
  ASSERT_TRUE(info.ok());
  const std::string file = download_dir() + "/a.bin";
  EXPECT_FALSE(u->IsCached(*info, file));  // missing
  WriteTestFile(file, "abcdef");
  EXPECT_TRUE(u->IsCached(*info, file));
  WriteTestFile(file, "abcdeF");  // same length, other bytes
  EXPECT_FALSE(u->IsCached(*info, file));
  WriteTestFile(file, "abcdefg");  // longer
  EXPECT_FALSE(u->IsCached(*info, file));
  std::filesystem::remove(file);
  std::filesystem::create_directory(file);  // not a regular file
  EXPECT_FALSE(u->IsCached(*info, file));
}

TEST_F(UpdaterTest, QuoteSegmentMakesDotDotASingleSafeFileName) {
  EXPECT_EQ(QuoteSegment(".."), "%2E%2E");
  EXPECT_EQ(QuoteSegment("."), "%2E");
  EXPECT_EQ(QuoteSegment("../x"), "..%2Fx");
  EXPECT_EQ(QuoteSegment("a/../../b"), "a%2F..%2F..%2Fb");
  EXPECT_EQ(QuoteSegment("caf\u00e9 50%"), "caf%C3%A9%2050%25");
  EXPECT_EQ(QuoteSegment(""), "");
  for (const char* name : {"..", ".", "../x", "../../etc/passwd", "a/b"}) {
    std::string q = QuoteSegment(name);
    EXPECT_EQ(q.find('/'), std::string::npos) << name;
    EXPECT_NE(q, "..");
    EXPECT_NE(q, ".");
  }
  EXPECT_EQ(QuotePath("../escape.txt"), "%2E%2E/escape.txt");
  EXPECT_EQ(QuotePath("a/./b"), "a/%2E/b");
}

TEST_F(UpdaterTest, DotDotTargetIsFetchedEncodedAndStoredInsideTheDownloadDir) {
  // The repository (legitimately) signs a target literally named "../escape.txt".
  const std::string name = "../escape.txt";
  repo_.AddTarget(name, "escaped?\n");
  repo_.PublishRoot();
  repo_.Publish();
  InitClient();
  auto u = NewUpdater();
  ASSERT_TRUE(u);
  auto info = u->GetTargetInfo(name);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  server_.ClearRequests();
  const std::string file = download_dir() + "/" + QuoteSegment(name);
  Status s = u->DownloadTarget(*info, name, file);
  ASSERT_TRUE(s.ok()) << s.ToString();
  // The ".." went out percent-encoded (curl did not resolve it away) ...
  ASSERT_EQ(server_.requests().size(), 1u);
  EXPECT_EQ(server_.requests()[0].target,
            "/targets/%2E%2E/" + Sha256Hex("escaped?\n") + ".escape.txt");
  // ... and the file is one name inside the download directory.
  EXPECT_EQ(ReadTestFile(download_dir() + "/..%2Fescape.txt"), "escaped?\n");
  EXPECT_FALSE(std::filesystem::exists(client_.Sub("escape.txt")));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(download_dir()),
                          std::filesystem::directory_iterator()),
            1);
}

TEST_F(UpdaterTest, LocalFileNamesAreQuoted) {
  EXPECT_EQ(Updater::LocalFileName("root"), "root.json");
  EXPECT_EQ(Updater::LocalFileName("a/b"), "a%2Fb.json");
  EXPECT_EQ(Updater::LocalFileName(".."), "%2E%2E.json");
}

TEST_F(UpdaterTest, DelegatedRoleWithSlashInNameIsFetchedAndStoredQuoted) {
  repo_.AddDelegation("targets", "team/a b");
  repo_.AddTarget("t.txt", "t", "team/a b");
  repo_.PublishRoot();
  repo_.Publish();
  InitClient();
  auto u = NewUpdater();
  ASSERT_TRUE(u);
  auto info = u->GetTargetInfo("t.txt");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(server_.requests().back().target, "/metadata/1.team%2Fa%20b.json");
  EXPECT_EQ(Trusted()["team%2Fa%20b.json"], repo_.Published("team/a b"));
}

TEST_F(UpdaterTest, OpenNeedsATrustedRoot) {
  UpdaterOptions options;
  options.metadata_dir = client_metadata_dir();
  options.metadata_base_url = server_.base_url() + "/metadata";
  options.fetcher = fetcher_.get();
  options.clock = &clock_;
  EXPECT_EQ(Updater::Open(options).status().code(), StatusCode::kNotFound);
}

TEST_F(UpdaterTest, InitTrustedRootRefusesARootNotSignedByItsOwnKeys) {
  std::string bytes = testing::SignWith(repo_.RootSigned(), {testing::TestKey::Generate()});
  Status s = Updater::InitTrustedRoot(client_metadata_dir(), bytes);
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed) << s.ToString();
  EXPECT_FALSE(std::filesystem::exists(client_metadata_dir() + "/root.json"));
}

TEST_F(UpdaterTest, NewReleaseIsPickedUp) {
  repo_.AddTarget("a.txt", "v1");
  repo_.PublishRoot();
  repo_.Publish();
  InitClient();
  ASSERT_TRUE(Refresh().ok());
  repo_.AddTarget("a.txt", "v2");
  for (const char* r : {"timestamp", "snapshot", "targets"}) repo_.role(r).version = 2;
  repo_.Publish();
  auto u = NewUpdater();
  ASSERT_TRUE(u);
  auto info = u->GetTargetInfo("a.txt");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->hashes.at("sha256"), Sha256Hex("v2"));
  EXPECT_EQ(u->trusted_targets()->envelope.version, 2);
  EXPECT_EQ(Trusted()["targets.json"], repo_.Published("targets"));
}

TEST_F(UpdaterTest, UnknownTargetIsNotFound) {
  repo_.PublishRoot();
  repo_.Publish();
  InitClient();
  auto u = NewUpdater();
  ASSERT_TRUE(u);
  EXPECT_EQ(u->GetTargetInfo("nope.txt").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace refuge::tuf
