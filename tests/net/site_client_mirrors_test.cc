// The site's signed mirror list as a reader uses it: ParseSiteMirrorList (the checks on top of
// node/mirror_list.h), the saved copy in the client directory, the order of known mirrors, and
// how SiteClient::Open picks its sources (one, several, none, a node home mixed with URLs).
// Then SiteClient over several mirrors: a tampered target or a mirror behind the trusted
// version is left for another mirror, and the signed list is saved and used.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "node/site_client.h"
#include "publish/publisher.h"
#include "support/static_http_server.h"
#include "support/temp_dir.h"
#include "support/test_repository.h"

namespace refuge {
namespace {

using refuge::testing::TempDir;
using refuge::testing::WriteTestFile;

const std::string kSite(52, 'a');
const std::string kOtherSite(52, 'b');
const std::string kKey(64, 'f');

std::string List(const std::string& site, const std::string& mirrors) {
  return R"({"site":")" + site + R"(","updated":1700000000,"mirrors":[)" + mirrors + "]}";
}

std::string Entry(const std::string& url, const std::string& key = kKey,
                  const std::string& role = "mirror") {
  return R"({"url":")" + url + R"(","key":")" + key + R"(","role":")" + role + R"("})";
}

TEST(SiteMirrorListTest, ParsesAListForThisSite) {
  auto list = ParseSiteMirrorList(
      List(kSite, Entry("http://10.77.0.3:8080") + "," +
                      Entry("https://example.org/", "", "origin")),
      kSite);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(list->site_id, kSite);
  EXPECT_EQ(list->updated, 1700000000);
  ASSERT_EQ(list->mirrors.size(), 2u);
  EXPECT_EQ(list->mirrors[0].url, "http://10.77.0.3:8080");
  EXPECT_EQ(list->mirrors[0].key, kKey);
  EXPECT_EQ(list->mirrors[0].role, "mirror");
  EXPECT_EQ(list->mirrors[1].url, "https://example.org");
  EXPECT_EQ(list->mirrors[1].role, "origin");
}

TEST(SiteMirrorListTest, AListOfAnotherSiteIsRefused) {
  auto list = ParseSiteMirrorList(List(kOtherSite, Entry("http://a")), kSite);
  EXPECT_EQ(list.status().code(), StatusCode::kVerificationFailed);
}

TEST(SiteMirrorListTest, EntriesAReaderCannotUseAreDropped) {
  auto list = ParseSiteMirrorList(
      List(kSite, Entry("ftp://a.example") + "," + Entry("file:///etc/passwd") + "," +
                      Entry("http://" + std::string(2100, 'x') + ".example") + "," +
                      Entry("http://short-key.example", "abcd") + "," +
                      Entry("http://upper-key.example", std::string(64, 'F')) + "," +
                      Entry("http://ok.example")),
      kSite);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->mirrors.size(), 1u);
  EXPECT_EQ(list->mirrors[0].url, "http://ok.example");
}

TEST(SiteMirrorListTest, BoundsAndMalformedInput) {
  std::string many;
  for (int i = 0; i < 257; ++i) many += (i ? "," : "") + Entry("http://m" + std::to_string(i));
  EXPECT_FALSE(ParseSiteMirrorList(List(kSite, many), kSite).ok());
  std::string enough;
  for (int i = 0; i < 256; ++i) enough += (i ? "," : "") + Entry("http://m" + std::to_string(i));
  auto full = ParseSiteMirrorList(List(kSite, enough), kSite);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_EQ(full->mirrors.size(), 256u);
  EXPECT_FALSE(ParseSiteMirrorList(std::string(2 * 1024 * 1024, ' '), kSite).ok());
  for (const char* bad : {"", "[]", "{}", "not json", R"({"site":1,"mirrors":[]})",
                          R"({"site":"x","mirrors":{}})"}) {
    EXPECT_FALSE(ParseSiteMirrorList(bad, kSite).ok()) << bad;
  }
}

TEST(SiteMirrorListTest, SavedListInTheClientDirectory) {
  TempDir dir;
  auto none = LoadSavedMirrorList(dir.path(), kSite);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  WriteTestFile(SavedMirrorListPath(dir.path()), List(kSite, Entry("http://a:1")));
  auto saved = LoadSavedMirrorList(dir.path(), kSite);
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  ASSERT_TRUE(saved->has_value());
  EXPECT_EQ((**saved).mirrors.at(0).url, "http://a:1");
  // Another site's client directory must not accept it.
  EXPECT_EQ(LoadSavedMirrorList(dir.path(), kOtherSite).status().code(), StatusCode::kCorruption);
  WriteTestFile(SavedMirrorListPath(dir.path()), "{broken");
  auto broken = LoadSavedMirrorList(dir.path(), kSite);
  EXPECT_EQ(broken.status().code(), StatusCode::kCorruption);
  EXPECT_NE(broken.status().message().find("mirrors.json"), std::string::npos);
}

TEST(SiteMirrorListTest, KnownMirrorsSeedsFirstWithoutDuplicates) {
  MirrorList list;
  list.site_id = kSite;
  list.mirrors = {{"http://b:2", kKey, "mirror"}, {"http://a:1", "", "origin"},
                  {"http://c:3", kKey, "mirror"}};
  auto urls = KnownMirrors({"http://a:1/", "http://d:4"}, list);
  ASSERT_TRUE(urls.ok());
  EXPECT_EQ(*urls, (std::vector<std::string>{"http://a:1", "http://d:4", "http://b:2", "http://c:3"}));
  EXPECT_TRUE(KnownMirrors({}, std::nullopt)->empty());
  EXPECT_EQ(KnownMirrors({"/var/lib/refuge"}, std::nullopt).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(SiteMirrorListTest, OpenPicksItsSources) {
  TempDir client;
  SiteClientOptions options;
  options.client_dir = client.path();
  // No --from, nothing saved.
  auto none = SiteClient::Open(options, kSite);
  EXPECT_EQ(none.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(none.status().message().find("no known mirror for site " + kSite + ": give --from URL"),
            std::string::npos)
      << none.status().ToString();
  // A node home mixed with URLs.
  options.sources = {client.path(), "http://127.0.0.1:1"};
  EXPECT_EQ(SiteClient::Open(options, kSite).status().code(), StatusCode::kInvalidArgument);
  // Not a site ID.
  options.sources = {"http://127.0.0.1:1", "http://127.0.0.1:2"};
  EXPECT_EQ(SiteClient::Open(options, "nope").status().code(), StatusCode::kInvalidArgument);
  // Several mirrors, all down: the first root cannot be fetched, and the error names them.
  auto down = SiteClient::Open(options, kSite);
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(down.status().message().find("http://127.0.0.1:2"), std::string::npos)
      << down.status().ToString();
}


// --- SiteClient over several mirrors ---------------------------------------------------------

namespace {

using refuge::testing::StaticHttpServer;
using refuge::testing::TestRepository;

constexpr int64_t kNow = 1'700'000'000;

// A TUF repository (tests/support/test_repository.h) copied onto several static servers in
// the node URL layout (<root>/.refuge/v1/sites/<site-id>/...), so that each mirror can be
// tampered with on its own.
class SiteClientMirrorsTest : public ::testing::Test {
 protected:
  SiteClientMirrorsTest() : repo_(built_.path(), kNow) {
    repo_.AddTarget("a.txt", "the genuine contents of a.txt");
    repo_.PublishRoot();
    repo_.Publish();
    site_id_ = SiteIdOf(repo_.RootBytes(1));
  }

  // Copies the repository as it is now onto mirror `i` (creating it if needed).
  void CopyTo(size_t i) {
    while (mirror_dirs_.size() <= i) {
      mirror_dirs_.push_back(std::make_unique<TempDir>());
      servers_.push_back(std::make_unique<StaticHttpServer>(mirror_dirs_.back()->path()));
    }
    const std::string dest = SiteDir(i);
    std::filesystem::remove_all(dest);
    std::filesystem::create_directories(dest);
    std::filesystem::copy(built_.path(), dest, std::filesystem::copy_options::recursive);
  }
  std::string SiteDir(size_t i) const {
    return mirror_dirs_[i]->path() + "/.refuge/v1/sites/" + site_id_;
  }
  std::string Url(size_t i) const { return servers_[i]->base_url(); }
  // The file of target `path` (with `contents`) on mirror i.
  std::string TargetFile(size_t i, const std::string& path, const std::string& contents) const {
    return SiteDir(i) + repo_.TargetFilePath(path, contents).substr(built_.path().size());
  }

  Result<std::unique_ptr<SiteClient>> Open(std::vector<std::string> sources) {
    SiteClientOptions options;
    options.sources = std::move(sources);
    options.client_dir = client_.path();
    options.clock = &clock_;
    options.mirror_options.hedge_delay_ms = 300;
    options.mirror_options.stall_ms = 500;
    return SiteClient::Open(options, site_id_);
  }

  static const MirrorReport* Report(const SiteClient& c, const std::string& url,
                                    std::vector<MirrorReport>& storage) {
    storage = c.mirror_reports();
    for (const MirrorReport& r : storage) {
      if (r.url == url) return &r;
    }
    return nullptr;
  }

  TempDir built_;
  TempDir client_;
  TempDir out_;
  FakeClock clock_{kNow};
  TestRepository repo_;
  std::string site_id_;
  std::vector<std::unique_ptr<TempDir>> mirror_dirs_;
  std::vector<std::unique_ptr<StaticHttpServer>> servers_;
};

}  // namespace

TEST_F(SiteClientMirrorsTest, ATamperedTargetComesFromTheNextMirror) {
  CopyTo(0);
  CopyTo(1);
  WriteTestFile(TargetFile(0, "a.txt", "the genuine contents of a.txt"),
                "the GENUINE contents of a.txt");  // same length, other bytes
  auto client = Open({Url(0), Url(1)});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto info = (*client)->Resolve("a.txt");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  Status s = (*client)->Download(*info, out_.Sub("a.txt"));
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(refuge::testing::ReadTestFile(out_.Sub("a.txt")), "the genuine contents of a.txt");
  EXPECT_EQ((*client)->served_by(), Url(1));
  std::vector<MirrorReport> storage;
  const MirrorReport* bad = Report(**client, Url(0), storage);
  ASSERT_NE(bad, nullptr);
  EXPECT_TRUE(bad->failed);
  EXPECT_EQ(bad->outcome, "excluded");
  EXPECT_NE(bad->detail.find("sha256 does not match"), std::string::npos) << bad->detail;
}

TEST_F(SiteClientMirrorsTest, AMirrorBehindTheTrustedVersionIsLeftForAnother) {
  CopyTo(0);  // version 1 stays on mirror 0
  repo_.AddTarget("b.txt", "new in version 2");
  repo_.role(tuf::kTargets).version = 2;
  repo_.role(tuf::kSnapshot).version = 2;
  repo_.role(tuf::kTimestamp).version = 2;
  repo_.Publish();
  CopyTo(1);
  {  // The reader has seen version 2 already.
    auto first = Open({Url(1)});
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    ASSERT_TRUE((*first)->Resolve("a.txt").ok());
    EXPECT_EQ((*first)->version(), 2);
  }
  auto client = Open({Url(0), Url(1)});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto info = (*client)->Resolve("b.txt");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ((*client)->version(), 2);
  std::vector<MirrorReport> storage;
  const MirrorReport* behind = Report(**client, Url(0), storage);
  ASSERT_NE(behind, nullptr);
  EXPECT_EQ(behind->outcome, "excluded");
  EXPECT_NE(behind->detail.find("rollback"), std::string::npos) << behind->detail;
}

TEST_F(SiteClientMirrorsTest, EveryMirrorBadFailsWithTheReason) {
  CopyTo(0);
  CopyTo(1);
  for (size_t i : {0u, 1u}) {
    WriteTestFile(TargetFile(i, "a.txt", "the genuine contents of a.txt"),
                  "forged on mirror " + std::to_string(i) + "!!!!!!!!!!!");
  }
  auto client = Open({Url(0), Url(1)});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto info = (*client)->Resolve("a.txt");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  Status s = (*client)->Download(*info, out_.Sub("a.txt"));
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed) << s.ToString();
  EXPECT_FALSE(std::filesystem::exists(out_.Sub("a.txt")));
}

TEST_F(SiteClientMirrorsTest, TheSignedMirrorListIsSavedAndUsedWithoutSources) {
  CopyTo(0);
  CopyTo(1);
  const std::string list = List(site_id_, Entry(Url(0)) + "," + Entry(Url(1), "", "origin"));
  repo_.AddTarget(kMirrorListTarget, list);
  repo_.role(tuf::kTargets).version = 2;
  repo_.role(tuf::kSnapshot).version = 2;
  repo_.role(tuf::kTimestamp).version = 2;
  repo_.Publish();
  CopyTo(0);
  CopyTo(1);
  {
    auto first = Open({Url(1)});
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    ASSERT_TRUE((*first)->Resolve("a.txt").ok());
    EXPECT_TRUE((*first)->mirror_list_warning().empty()) << (*first)->mirror_list_warning();
  }
  EXPECT_EQ(refuge::testing::ReadTestFile(SavedMirrorListPath(client_.path())), list);
  // No source given: the saved list.
  servers_[0].reset();  // mirror 0 is gone; mirror 1 still serves
  auto client = Open({});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto info = (*client)->Resolve("a.txt");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  ASSERT_TRUE((*client)->Download(*info, out_.Sub("a.txt")).ok());
  EXPECT_EQ((*client)->served_by(), "http://127.0.0.1:" + std::to_string(servers_[1]->port()));
}

TEST_F(SiteClientMirrorsTest, AMirrorListOfAnotherSiteIsNotSaved) {
  repo_.AddTarget(kMirrorListTarget, List(kOtherSite, Entry("http://127.0.0.1:1")));
  repo_.role(tuf::kTargets).version = 2;
  repo_.role(tuf::kSnapshot).version = 2;
  repo_.role(tuf::kTimestamp).version = 2;
  repo_.Publish();
  CopyTo(0);
  auto client = Open({Url(0)});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_TRUE((*client)->Resolve("a.txt").ok());  // the read itself is fine
  EXPECT_NE((*client)->mirror_list_warning().find("not saved"), std::string::npos)
      << (*client)->mirror_list_warning();
  EXPECT_FALSE(std::filesystem::exists(SavedMirrorListPath(client_.path())));
}

}  // namespace
}  // namespace refuge
