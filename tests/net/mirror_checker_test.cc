// CheckMirror / CheckMirrors (node/mirror_checker.h) against TUF repositories copied onto
// static loopback servers in the node URL layout, with a fake clock: a fine mirror, a tampered
// or missing file, stale, rolled-back and badly signed metadata, a forged first root, a mirror
// that does not serve the site or cannot be reached, the status endpoint, "behind", sampling,
// and the reader's trusted metadata left untouched.
#include "node/mirror_checker.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "publish/publisher.h"
#include "support/static_http_server.h"
#include "support/temp_dir.h"
#include "support/test_repository.h"

namespace refuge {
namespace {

using refuge::testing::ReadTestFile;
using refuge::testing::SignWith;
using refuge::testing::StaticHttpServer;
using refuge::testing::TempDir;
using refuge::testing::TestKey;
using refuge::testing::TestRepository;
using refuge::testing::WriteTestFile;

constexpr int64_t kNow = 1'700'000'000;
constexpr int64_t kDay = 86'400;

class MirrorCheckerTest : public ::testing::Test {
 protected:
  MirrorCheckerTest() : repo_(built_.path(), kNow) {
    repo_.role(tuf::kTimestamp).expires = kNow + 10 * kDay;
    repo_.AddTarget("index.html", "<h1>hello</h1>");
    repo_.AddTarget("docs/a.txt", "a text");
    repo_.PublishRoot();
    repo_.Publish();
    site_id_ = SiteIdOf(repo_.RootBytes(1));
  }

  // A new mirror serving the repository as it is now; returns its index.
  size_t AddMirror() {
    dirs_.push_back(std::make_unique<TempDir>());
    servers_.push_back(std::make_unique<StaticHttpServer>(dirs_.back()->path()));
    Copy(dirs_.size() - 1);
    return dirs_.size() - 1;
  }
  void Copy(size_t i) {
    const std::string dest = SiteDir(i);
    std::filesystem::remove_all(dest);
    std::filesystem::create_directories(dest);
    std::filesystem::copy(built_.path(), dest, std::filesystem::copy_options::recursive);
  }
  std::string SiteDir(size_t i) const {
    return dirs_[i]->path() + "/.refuge/v1/sites/" + site_id_;
  }
  std::string Url(size_t i) const { return servers_[i]->base_url(); }
  std::string TargetFile(size_t i, const std::string& path, const std::string& contents) const {
    return SiteDir(i) + repo_.TargetFilePath(path, contents).substr(built_.path().size());
  }
  void BumpAndPublish() {
    for (const char* role : {tuf::kTargets, tuf::kSnapshot, tuf::kTimestamp}) ++repo_.role(role).version;
    repo_.Publish();
  }
  // The reader trusts root 1, and what a refresh against mirror i gives.
  void TrustThrough(size_t i) {
    ASSERT_TRUE(tuf::Updater::InitTrustedRoot(TrustedDir(), repo_.RootBytes(1)).ok());
    auto fetcher = NewHttpFetcher();
    tuf::UpdaterOptions o;
    o.metadata_dir = TrustedDir();
    o.metadata_base_url = SiteDir(i).replace(0, dirs_[i]->path().size(), Url(i)) + "/metadata";
    o.fetcher = fetcher.get();
    o.clock = &clock_;
    auto updater = tuf::Updater::Open(o);
    ASSERT_TRUE(updater.ok());
    Status s = (*updater)->Refresh();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  std::string TrustedDir() const { return reader_.Sub("metadata"); }
  std::map<std::string, std::string> TrustedFiles() const {
    std::map<std::string, std::string> out;
    if (!std::filesystem::exists(TrustedDir())) return out;
    for (const auto& e : std::filesystem::directory_iterator(TrustedDir())) {
      out[e.path().filename()] = ReadTestFile(e.path());
    }
    return out;
  }
  MirrorCheckOptions Options() {
    MirrorCheckOptions o;
    o.site_id = site_id_;
    o.trusted_metadata_dir = TrustedDir();
    o.work_dir = work_.path();
    o.clock = &clock_;
    return o;
  }
  MirrorCheck Check(size_t i) { return CheckMirror(Url(i), Options(), work_.Sub(std::to_string(i))); }

  TempDir built_;
  TempDir reader_;
  TempDir work_;
  FakeClock clock_{kNow};
  TestRepository repo_;
  std::string site_id_;
  std::vector<std::unique_ptr<TempDir>> dirs_;
  std::vector<std::unique_ptr<StaticHttpServer>> servers_;
};

TEST_F(MirrorCheckerTest, AFineMirror) {
  size_t m = AddMirror();
  MirrorCheck c = Check(m);
  EXPECT_TRUE(c.reachable);
  EXPECT_EQ(c.metadata, MirrorMetadataState::kOk) << c.metadata_detail;
  EXPECT_EQ(c.version, 1);
  EXPECT_EQ(c.files_total, 2u);
  EXPECT_EQ(c.files_checked, 2u);
  EXPECT_EQ(c.files_verified, 2u);
  EXPECT_TRUE(c.Fine());
  EXPECT_FALSE(c.Tampering());
  EXPECT_FALSE(c.status_available);
  EXPECT_EQ(c.status_detail, "no status endpoint");
}

TEST_F(MirrorCheckerTest, ATamperedFileIsEvidence) {
  size_t m = AddMirror();
  WriteTestFile(TargetFile(m, "docs/a.txt", "a text"), "A text");
  MirrorCheck c = Check(m);
  EXPECT_EQ(c.metadata, MirrorMetadataState::kOk);
  EXPECT_EQ(c.mismatch_count, 1u);
  ASSERT_EQ(c.mismatched.size(), 1u);
  EXPECT_EQ(c.mismatched[0].path, "docs/a.txt");
  EXPECT_TRUE(c.Tampering());
  EXPECT_FALSE(c.Fine());
}

TEST_F(MirrorCheckerTest, AMissingFileIsUnavailableNotTampering) {
  size_t m = AddMirror();
  std::filesystem::remove(TargetFile(m, "index.html", "<h1>hello</h1>"));
  MirrorCheck c = Check(m);
  EXPECT_EQ(c.unavailable_count, 1u);
  ASSERT_EQ(c.unavailable.size(), 1u);
  EXPECT_EQ(c.unavailable[0].path, "index.html");
  EXPECT_EQ(c.unavailable[0].reason, "missing");
  EXPECT_FALSE(c.Tampering());
  EXPECT_FALSE(c.Fine());
}

TEST_F(MirrorCheckerTest, ExpiredMetadataIsStaleSinceItsExpiry) {
  size_t m = AddMirror();
  clock_.Set(kNow + 13 * kDay);
  MirrorCheck c = Check(m);
  EXPECT_EQ(c.metadata, MirrorMetadataState::kStale) << c.metadata_detail;
  EXPECT_EQ(c.stale_since, kNow + 10 * kDay);
  EXPECT_EQ(c.version, 1);
  EXPECT_NE(c.metadata_detail.find("stale: timestamp metadata expired at " +
                                   FormatUtc(kNow + 10 * kDay) + " (3 days ago)"),
            std::string::npos)
      << c.metadata_detail;
  EXPECT_FALSE(c.Tampering());
}

TEST_F(MirrorCheckerTest, OlderThanTrustedIsRolledBack) {
  size_t old_mirror = AddMirror();
  BumpAndPublish();
  size_t new_mirror = AddMirror();
  TrustThrough(new_mirror);
  MirrorCheck c = Check(old_mirror);
  EXPECT_EQ(c.metadata, MirrorMetadataState::kRolledBack) << c.metadata_detail;
  EXPECT_EQ(c.metadata_detail, "serves rolled-back metadata (v1 < trusted v2)");
  EXPECT_FALSE(c.Tampering());
  EXPECT_TRUE(Check(new_mirror).Fine());
}

TEST_F(MirrorCheckerTest, ABadSignatureIsNamed) {
  size_t m = AddMirror();
  WriteTestFile(SiteDir(m) + "/metadata/timestamp.json",
                SignWith(repo_.TimestampSigned(), {TestKey::Generate()}));
  MirrorCheck c = Check(m);
  EXPECT_EQ(c.metadata, MirrorMetadataState::kBad);
  EXPECT_EQ(c.metadata_detail.rfind("bad signature on timestamp", 0), 0u) << c.metadata_detail;
  EXPECT_TRUE(c.Tampering());
}

TEST_F(MirrorCheckerTest, AForgedFirstRootIsBad) {
  size_t m = AddMirror();
  TempDir other_dir;
  TestRepository other(other_dir.path(), kNow);
  other.PublishRoot();
  WriteTestFile(SiteDir(m) + "/metadata/1.root.json", other.RootBytes(1));
  MirrorCheck c = Check(m);  // no trusted root: the mirror's own first root is checked
  EXPECT_EQ(c.metadata, MirrorMetadataState::kBad);
  EXPECT_NE(c.metadata_detail.find("does not hash to the site ID"), std::string::npos);
}

TEST_F(MirrorCheckerTest, UnreachableAndNotServing) {
  std::string closed;
  {
    StaticHttpServer gone(work_.path());
    closed = gone.base_url();
  }
  MirrorCheck down = CheckMirror(closed, Options(), work_.Sub("down"));
  EXPECT_FALSE(down.reachable);
  EXPECT_EQ(down.metadata, MirrorMetadataState::kUnreachable);
  TempDir empty;
  StaticHttpServer nothing(empty.path());
  MirrorCheck none = CheckMirror(nothing.base_url(), Options(), work_.Sub("none"));
  EXPECT_TRUE(none.reachable);
  EXPECT_EQ(none.metadata, MirrorMetadataState::kNotServed) << none.metadata_detail;
}

TEST_F(MirrorCheckerTest, TheStatusEndpointGivesBlockedItems) {
  size_t m = AddMirror();
  WriteTestFile(dirs_[m]->path() + "/.refuge/v1/status",
                R"({"sites":{")" + site_id_ +
                    R"(":{"version":1,"stale_since":null,"blocked":[{"path":"docs/a.txt","reason":"court order 12/345"}]}}})");
  MirrorCheck c = Check(m);
  EXPECT_TRUE(c.status_available);
  EXPECT_EQ(c.status_version, 1);
  EXPECT_FALSE(c.status_stale_since.has_value());
  ASSERT_EQ(c.blocked.size(), 1u);
  EXPECT_EQ(c.blocked[0].path, "docs/a.txt");
  EXPECT_EQ(c.blocked[0].reason, "court order 12/345");
  EXPECT_TRUE(c.Fine());  // blocked items are reported, not a fault
  WriteTestFile(dirs_[m]->path() + "/.refuge/v1/status", "not json");
  MirrorCheck garbled = Check(m);
  EXPECT_FALSE(garbled.status_available);
  EXPECT_TRUE(garbled.Fine());
}

TEST_F(MirrorCheckerTest, CheckMirrorsMarksThoseBehindAndKeepsTheOrder) {
  size_t old_mirror = AddMirror();
  BumpAndPublish();
  size_t new_mirror = AddMirror();
  const auto before = TrustedFiles();
  auto checks = CheckMirrors({Url(old_mirror), Url(new_mirror)}, Options());
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[0].url, Url(old_mirror));
  EXPECT_TRUE(checks[0].behind);
  EXPECT_EQ(checks[0].version, 1);
  EXPECT_FALSE(checks[0].Fine());
  EXPECT_FALSE(checks[1].behind);
  EXPECT_TRUE(checks[1].Fine());
  EXPECT_EQ(TrustedFiles(), before);  // nothing trusted was written
}

TEST_F(MirrorCheckerTest, ASampleChecksThatManyFiles) {
  size_t m = AddMirror();
  MirrorCheckOptions o = Options();
  o.sample = 1;
  MirrorCheck c = CheckMirror(Url(m), o, work_.Sub("s"));
  EXPECT_EQ(c.files_total, 2u);
  EXPECT_EQ(c.files_checked, 1u);
  o.sample = 0;
  o.max_files = 1;
  EXPECT_EQ(CheckMirror(Url(m), o, work_.Sub("t")).files_checked, 1u);
}

TEST_F(MirrorCheckerTest, TheTrustedMetadataIsNeverWritten) {
  size_t m = AddMirror();
  TrustThrough(m);
  BumpAndPublish();
  Copy(m);
  const auto before = TrustedFiles();
  MirrorCheck c = Check(m);
  EXPECT_EQ(c.version, 2);
  EXPECT_EQ(TrustedFiles(), before);
}

}  // namespace
}  // namespace refuge
