// SiteSync (mirror/site_sync.h) end to end, in process: a publisher's node home (Publish with
// a fake clock) is served by a real serve::Server on 127.0.0.1 (port 0, no admin listener,
// its loops and control thread on a thread of the test), and a second node home follows the
// site from it. Covers bootstrap from the site ID, byte-for-byte mirroring, incremental
// syncs, a source serving corrupted objects, a dead source, rollback to an older copy (also
// after reopening the home), unfollowing, staleness, blocked paths, root rotation,
// timestamp-only updates and the signed mirror list.
#include "mirror/site_sync.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/canonical_json.h"
#include "crypto/sha256.h"
#include "mirror/announcement.h"
#include "net/fetcher.h"
#include "node/freshness.h"
#include "node/mirror_list.h"
#include "node/verifier.h"
#include "serve/config.h"
#include "serve/server.h"
#include "support/node_with_site.h"
#include "support/static_http_server.h"
#include "support/temp_dir.h"
#include "tuf/metadata.h"

namespace refuge::mirror {
namespace {

using refuge::testing::ReadTestFile;
using refuge::testing::StaticHttpServer;
using refuge::testing::TempDir;
using refuge::testing::WriteTestFile;

// A node home served by an in-process serve::Server on 127.0.0.1 with a kernel-chosen port.
// Run() goes on its own thread; the destructor drains the server and joins it.
class ServedHome {
 public:
  explicit ServedHome(const std::string& home_path) {
    serve::ServeConfig config;
    config.listen = {"127.0.0.1:0"};
    config.threads = 1;
    config.home = home_path;
    config.admin_listen = "";
    config.refresh_interval_seconds = 3600;
    config.reload_interval_ms = 20;  // a new publication is served within 20 ms
    auto server = serve::Server::Create(config, "");
    if (!server.ok()) {
      ADD_FAILURE() << "serve::Server::Create: " << server.status().ToString();
      return;
    }
    server_ = std::move(server).value();
    Status started = server_->Start();
    if (!started.ok()) {
      ADD_FAILURE() << "serve::Server::Start: " << started.ToString();
      server_.reset();
      return;
    }
    url_ = "http://" + server_->http_addresses().front();
    thread_ = std::thread([this] { server_->Run(); });
  }
  ~ServedHome() {
    if (server_) server_->Shutdown();
    if (thread_.joinable()) thread_.join();
  }
  ServedHome(const ServedHome&) = delete;
  ServedHome& operator=(const ServedHome&) = delete;

  const std::string& url() const { return url_; }

 private:
  std::unique_ptr<serve::Server> server_;
  std::thread thread_;
  std::string url_;
};

// A closed port on loopback: connections are refused at once.
std::string DeadUrl() {
  TempDir empty;
  auto server = std::make_unique<StaticHttpServer>(empty.path());
  std::string url = server->base_url();
  server.reset();
  return url;
}

size_t FilesIn(const std::string& dir) {
  if (!std::filesystem::exists(dir)) return 0;
  size_t n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) n += e.is_regular_file();
  return n;
}

void FlipByte(const std::string& path, size_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.good()) << path;
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x01));
  ASSERT_TRUE(f.good());
}

class SiteSyncTest : public refuge::testing::NodeWithSiteTest {
 protected:
  void SetUp() override {
    NodeWithSiteTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(OpenMirror());
    options_.clock = &clock_;
    options_.http.connect_timeout_ms = 2'000;
    options_.http.total_timeout_ms = 30'000;
    options_.parallel_fetches = 4;
  }

  void OpenMirror() {
    mirror_.reset();
    auto mirror = NodeHome::Open(mirror_dir_.path());
    ASSERT_TRUE(mirror.ok()) << mirror.status().ToString();
    mirror_ = std::move(mirror).value();
  }

  // Serves the publisher's home (once) and returns its URL.
  const std::string& PublisherUrl() {
    if (!publisher_server_) publisher_server_ = std::make_unique<ServedHome>(home_dir_.path());
    return publisher_server_->url();
  }

  // Serves another home for the rest of the test; returns its URL.
  std::string Serve(const std::string& home_path) {
    extra_servers_.push_back(std::make_unique<ServedHome>(home_path));
    return extra_servers_.back()->url();
  }

  void Write(const std::string& path, const std::string& contents) {
    WriteTestFile(source_.Sub(path), contents);
  }

  void PublishOk(int64_t expected_version) {
    PublishOptions options;
    options.threads = 2;
    auto r = Publish(*home_, site_id_, source_.path(), options, clock_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->version, expected_version);
  }

  void FollowOk(const std::vector<std::string>& seeds) {
    auto from = FollowSite(*mirror_, site_id_, seeds, options_);
    ASSERT_TRUE(from.ok()) << from.status().ToString();
  }

  // The publisher's server takes a new publication (or timestamp) up on its next catalog
  // reload: waits until it serves the publisher's newest timestamp.
  void WaitForPublisherServer() {
    if (!publisher_server_) return;
    auto latest = home_->db().LatestMetadata(site_id_, tuf::kTimestamp);
    if (!latest.ok()) return;  // nothing published yet
    auto want = home_->store().Read(latest->sha256, 1 << 20);
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    auto fetcher = NewHttpFetcher();
    const std::string url =
        publisher_server_->url() + "/.refuge/v1/sites/" + site_id_ + "/metadata/timestamp.json";
    for (int i = 0; i < 1000; ++i) {
      auto got = fetcher->Fetch(url, 1 << 20);
      if (got.ok() && *got == *want) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "the publisher's server did not serve its newest timestamp within 10 s";
  }

  Result<SyncResult> Sync() {
    WaitForPublisherServer();
    return SyncSite(*mirror_, site_id_, options_);
  }

  SyncResult SyncOk() {
    auto r = Sync();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : SyncResult{};
  }

  int64_t MirrorVersion() {
    auto site = mirror_->db().GetSite(site_id_);
    EXPECT_TRUE(site.ok()) << site.status().ToString();
    return site.ok() ? site->current_version : -1;
  }

  // A copy of the publisher's home as it is now (the database without its shared-memory
  // index, which SQLite rebuilds from the WAL).
  std::string CopyPublisherHome() {
    copies_.push_back(std::make_unique<TempDir>(TempDir::Medium::kFast));
    const std::filesystem::path from = home_dir_.path();
    const std::filesystem::path to = copies_.back()->path();
    for (const auto& e : std::filesystem::recursive_directory_iterator(from)) {
      const auto rel = std::filesystem::relative(e.path(), from);
      if (e.is_directory()) {
        std::filesystem::create_directories(to / rel);
      } else if (e.is_regular_file() && e.path().filename() != "node.db-shm") {
        std::filesystem::create_directories((to / rel).parent_path());
        std::filesystem::copy_file(e.path(), to / rel);
        std::filesystem::permissions(to / rel, std::filesystem::status(e.path()).permissions());
      }
    }
    return to.string();
  }

  // The mirror holds `version` exactly as the publisher does: the same file list, the same
  // bytes for each file, and the same metadata bytes.
  void ExpectMirroredExactly(int64_t version) {
    auto want = home_->db().VersionFiles(site_id_, version);
    auto got = mirror_->db().VersionFiles(site_id_, version);
    ASSERT_TRUE(want.ok() && got.ok());
    ASSERT_EQ(got->size(), want->size());
    for (size_t i = 0; i < want->size(); ++i) {
      EXPECT_EQ((*got)[i].path, (*want)[i].path);
      EXPECT_EQ((*got)[i].sha256, (*want)[i].sha256);
      EXPECT_EQ((*got)[i].length, (*want)[i].length);
      auto a = home_->store().Read((*want)[i].sha256, 64 << 20);
      auto b = mirror_->store().Read((*got)[i].sha256, 64 << 20);
      ASSERT_TRUE(a.ok()) << a.status().ToString();
      ASSERT_TRUE(b.ok()) << (*got)[i].path << ": " << b.status().ToString();
      EXPECT_EQ(*a, *b) << (*got)[i].path;
    }
    auto want_version = home_->db().GetVersion(site_id_, version);
    auto got_version = mirror_->db().GetVersion(site_id_, version);
    ASSERT_TRUE(want_version.ok() && got_version.ok());
    EXPECT_EQ(got_version->targets_version, want_version->targets_version);
    EXPECT_EQ(got_version->root_version, want_version->root_version);
    EXPECT_EQ(got_version->file_count, want_version->file_count);
    EXPECT_EQ(got_version->total_bytes, want_version->total_bytes);
    for (const auto& [role, v] : {std::pair<std::string, int64_t>{tuf::kSnapshot, version},
                                  {tuf::kTargets, want_version->targets_version},
                                  {tuf::kRoot, want_version->root_version}}) {
      auto a = home_->db().GetMetadata(site_id_, role, v);
      auto b = mirror_->db().GetMetadata(site_id_, role, v);
      ASSERT_TRUE(a.ok()) << role;
      ASSERT_TRUE(b.ok()) << role << " " << v << ": " << b.status().ToString();
      EXPECT_EQ(a->sha256, b->sha256) << role << ": other bytes than the publisher's";
    }
    // The timestamp too, when the publisher still serves that version.
    if (home_->db().GetSite(site_id_)->current_version == version) {
      auto a = home_->db().LatestMetadata(site_id_, tuf::kTimestamp);
      auto b = mirror_->db().LatestMetadata(site_id_, tuf::kTimestamp);
      ASSERT_TRUE(a.ok() && b.ok());
      EXPECT_EQ(a->sha256, b->sha256);
    }
  }

  TempDir mirror_dir_{TempDir::Medium::kFast};
  std::unique_ptr<NodeHome> mirror_;
  SyncOptions options_;
  std::vector<std::unique_ptr<TempDir>> copies_;
  // Declared last: servers stop before the homes they serve are removed.
  std::unique_ptr<ServedHome> publisher_server_;
  std::vector<std::unique_ptr<ServedHome>> extra_servers_;
};

// --- following -----------------------------------------------------------------------------

TEST_F(SiteSyncTest, FollowSiteBootstrapsTrustFromTheSiteId) {
  const std::string url = PublisherUrl();
  auto from = FollowSite(*mirror_, site_id_, {url}, options_);
  ASSERT_TRUE(from.ok()) << from.status().ToString();
  EXPECT_EQ(*from, url);
  auto site = mirror_->db().GetSite(site_id_);
  ASSERT_TRUE(site.ok());
  EXPECT_FALSE(site->origin);
  EXPECT_EQ(site->current_version, 0);
  auto root = mirror_->db().GetMetadata(site_id_, tuf::kRoot, 1);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->sha256, home_->db().GetMetadata(site_id_, tuf::kRoot, 1)->sha256);
  EXPECT_TRUE(std::filesystem::exists(MirrorTrustDir(*mirror_, site_id_) + "/root.json"));
  auto sources = mirror_->db().ListMirrorSources(site_id_);
  ASSERT_TRUE(sources.ok());
  ASSERT_EQ(sources->size(), 1u);
  EXPECT_EQ((*sources)[0].url, url);
  EXPECT_EQ((*sources)[0].kind, "seed");
}

TEST_F(SiteSyncTest, FollowSiteOfASiteIdTheSeedDoesNotHoldFailsAndRecordsNothing) {
  const std::string wrong = std::string(52, 'q');
  auto from = FollowSite(*mirror_, wrong, {PublisherUrl()}, options_);
  ASSERT_FALSE(from.ok());
  EXPECT_EQ(from.status().code(), StatusCode::kNotFound) << from.status().ToString();
  EXPECT_EQ(mirror_->db().GetSite(wrong).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(mirror_->db().ListMirrorSources(wrong)->empty());
  EXPECT_FALSE(std::filesystem::exists(MirrorTrustDir(*mirror_, wrong)));
}

TEST_F(SiteSyncTest, FollowSiteRefusesARootThatDoesNotHashToTheSiteId) {
  // A seed that serves this site's real root under another site's ID.
  const std::string wrong = std::string(52, 'q');
  TempDir forged(TempDir::Medium::kFast);
  auto root = home_->db().GetMetadata(site_id_, tuf::kRoot, 1);
  ASSERT_TRUE(root.ok());
  WriteTestFile(forged.path() + "/.refuge/v1/sites/" + wrong + "/metadata/1.root.json",
                home_->store().Read(root->sha256, 1 << 20).value());
  StaticHttpServer seed(forged.path());
  auto from = FollowSite(*mirror_, wrong, {seed.base_url()}, options_);
  ASSERT_FALSE(from.ok());
  EXPECT_EQ(from.status().code(), StatusCode::kVerificationFailed) << from.status().ToString();
  EXPECT_NE(from.status().message().find("site ID"), std::string::npos) << from.status().ToString();
  EXPECT_EQ(mirror_->db().GetSite(wrong).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(MirrorTrustDir(*mirror_, wrong) + "/root.json"));
}

TEST_F(SiteSyncTest, FollowSiteRefusesAMalformedSiteId) {
  auto from = FollowSite(*mirror_, "not-a-site-id", {PublisherUrl()}, options_);
  ASSERT_FALSE(from.ok());
  EXPECT_EQ(from.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SiteSyncTest, FollowSiteOfANewSiteNeedsASeed) {
  auto from = FollowSite(*mirror_, site_id_, {}, options_);
  ASSERT_FALSE(from.ok());
  EXPECT_EQ(from.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SiteSyncTest, FollowSiteOnThePublishersOwnNodeIsRefused) {
  auto from = FollowSite(*home_, site_id_, {PublisherUrl()}, options_);
  ASSERT_FALSE(from.ok());
  EXPECT_EQ(from.status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(home_->db().GetSite(site_id_)->origin);
}

TEST_F(SiteSyncTest, FollowSiteTriesTheNextSeedWhenOneIsDown) {
  const std::string dead = DeadUrl();
  auto from = FollowSite(*mirror_, site_id_, {dead, PublisherUrl()}, options_);
  ASSERT_TRUE(from.ok()) << from.status().ToString();
  EXPECT_EQ(*from, PublisherUrl());
  EXPECT_EQ(mirror_->db().ListMirrorSources(site_id_)->size(), 2u);
}

TEST_F(SiteSyncTest, FollowingAgainAddsSeedsWithoutFetchingTheRootAgain) {
  ASSERT_NO_FATAL_FAILURE(FollowOk({PublisherUrl()}));
  const std::string dead = DeadUrl();
  auto again = FollowSite(*mirror_, site_id_, {dead}, options_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, "");  // no root fetched
  EXPECT_EQ(mirror_->db().ListMirrorSources(site_id_)->size(), 2u);
}

// --- syncing -------------------------------------------------------------------------------

TEST_F(SiteSyncTest, FirstSyncMirrorsVersionOneByteForByte) {
  Write("index.html", "<h1>hello</h1>");
  Write("css/site.css", "body { color: black }");
  Write("big.bin", std::string(700 * 1024, 'B'));
  Write("empty.txt", "");
  Write("dup-a.txt", "same bytes");
  Write("dup-b.txt", "same bytes");
  ASSERT_NO_FATAL_FAILURE(PublishOk(1));
  ASSERT_NO_FATAL_FAILURE(FollowOk({PublisherUrl()}));

  SyncResult r = SyncOk();
  EXPECT_EQ(r.previous_version, 0);
  EXPECT_EQ(r.version, 1);
  EXPECT_EQ(r.trusted_version, 1);
  EXPECT_TRUE(r.advanced());
  EXPECT_EQ(r.objects_fetched, 5u);  // six files, two with the same bytes
  EXPECT_EQ(r.metadata_source, PublisherUrl());
  EXPECT_TRUE(r.problems.empty());
  EXPECT_EQ(MirrorVersion(), 1);
  ExpectMirroredExactly(1);
  EXPECT_EQ(FilesIn(mirror_dir_.path() + "/tmp"), 0u);

  auto report = VerifyNode(*mirror_, site_id_, clock_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->problems.empty()) << report->problems.front().message;
  auto sync = mirror_->db().GetMirrorSync(site_id_);
  EXPECT_EQ(sync->last_success, clock_.NowSeconds());
  EXPECT_EQ(sync->last_error, "");
}

TEST_F(SiteSyncTest, SyncWithNothingNewChangesNothing) {
  Write("index.html", "v1");
  ASSERT_NO_FATAL_FAILURE(PublishOk(1));
  ASSERT_NO_FATAL_FAILURE(FollowOk({PublisherUrl()}));
  ASSERT_EQ(SyncOk().version, 1);
  SyncResult again = SyncOk();
  EXPECT_FALSE(again.advanced());
  EXPECT_EQ(again.version, 1);
  EXPECT_EQ(again.objects_fetched, 0u);
}

TEST_F(SiteSyncTest, SecondPublishFetchesOnlyTheChangedObjects) {
  Write("a.txt", "alpha");
  Write("b.txt", "bravo");
  Write("c.txt", "charlie");
  Write("d/e.txt", "echo");
  ASSERT_NO_FATAL_FAILURE(PublishOk(1));
  ASSERT_NO_FATAL_FAILURE(FollowOk({PublisherUrl()}));
  ASSERT_EQ(SyncOk().objects_fetched, 4u);

  Write("b.txt", "bravo, changed");
  Write("f.txt", "foxtrot");
  ASSERT_NO_FATAL_FAILURE(PublishOk(2));
  SyncResult r = SyncOk();
  EXPECT_EQ(r.previous_version, 1);
  EXPECT_EQ(r.version, 2);
  EXPECT_EQ(r.objects_fetched, 2u);
  EXPECT_EQ(r.bytes_fetched, std::string("bravo, changed").size() + std::string("foxtrot").size());
  EXPECT_EQ(r.objects_present, 3u);
  ExpectMirroredExactly(2);
  // The previous version is retained, as on the publisher.
  EXPECT_TRUE(mirror_->db().GetVersion(site_id_, 1).ok());
}

TEST_F(SiteSyncTest, SyncSkippingSeveralVersionsLandsOnTheNewest) {
  Write("a.txt", "1");
  ASSERT_NO_FATAL_FAILURE(PublishOk(1));
  ASSERT_NO_FATAL_FAILURE(FollowOk({PublisherUrl()}));
  ASSERT_EQ(SyncOk().version, 1);
  for (int v = 2; v <= 4; ++v) {
    Write("a.txt", std::to_string(v));
    ASSERT_NO_FATAL_FAILURE(PublishOk(v));
  }
  SyncResult r = SyncOk();
  EXPECT_EQ(r.version, 4);
  ExpectMirroredExactly(4);
}

TEST_F(SiteSyncTest, ProgressIsReportedUpToTheLastObject) {
  for (int i = 0; i < 20; ++i) Write("f" + std::to_string(i), "file " + std::to_string(i));
  ASSERT_NO_FATAL_FAILURE(PublishOk(1));
  ASSERT_NO_FATAL_FAILURE(FollowOk({PublisherUrl()}));
  std::vector<SyncProgress> seen;
  options_.progress = [&](const SyncProgress& p) { seen.push_back(p); };
  ASSERT_EQ(SyncOk().version, 1);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().objects_done, 20u);
  EXPECT_EQ(seen.back().objects_total, 20u);
  EXPECT_EQ(seen.back().bytes_done, seen.back().bytes_total);
}

TEST_F(SiteSyncTest, CorruptedObjectAtTheSourceFailsTheSyncAndIsNeverStored) {
  Write("index.html", "v1");
  ASSERT_NO_FATAL_FAILURE(PublishOk(1));
  ASSERT_NO_FATAL_FAILURE(FollowOk({PublisherUrl()}));
  ASSERT_EQ(SyncOk().version, 1);

  // Larger than the server's memory cache limit, so it is sent from the file as it is (a
  // small object would be re-hashed by the server and refused with a 500).
  const std::string big(400 * 1024, 'x');
  Write("big.bin", big);
  ASSERT_NO_FATAL_FAILURE(PublishOk(2));
  const std::string sha = Sha256Hex(big);
  std::string corrupted = big;
  corrupted[1234] ^= 0x01;
  ASSERT_NO_FATAL_FAILURE(FlipByte(home_->store().PathFor(sha), 1234));

  auto r = Sync();
  ASSERT_FALSE(r.ok()) << "a sync with a corrupted object succeeded";
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_EQ(MirrorVersion(), 1) << "the mirror switched to a version it does not fully hold";
  EXPECT_EQ(mirror_->db().LatestMetadata(site_id_, tuf::kTimestamp)->version, 1);
  EXPECT_FALSE(mirror_->store().Contains(sha));
  EXPECT_FALSE(mirror_->store().Contains(Sha256Hex(corrupted)));
  EXPECT_EQ(FilesIn(mirror_dir_.path() + "/tmp"), 0u);
  EXPECT_NE(mirror_->db().GetMirrorSync(site_id_)->last_error, "");
  // Version 1 is still whole.
  ExpectMirroredExactly(1);
}

// An operator reading `refuge mirror sync` must learn that a source served bytes that do not
// verify (a security event), not that "no source has it".
TEST_F(SiteSyncTest, CorruptedObjectErrorNamesTheVerificationFailure) {
  Write("index.html", "v1");
  ASSERT_NO_FATAL_FAILURE(PublishOk(1));
  ASSERT_NO_FATAL_FAILURE(FollowOk({PublisherUrl()}));
  ASSERT_EQ(SyncOk().version, 1);
  const std::string big(400 * 1024, 'z');
  Write("big.bin", big);
  ASSERT_NO_FATAL_FAILURE(PublishOk(2));
  ASSERT_NO_FATAL_FAILURE(FlipByte(home_->store().PathFor(Sha256Hex(big)), 77));
  auto r = Sync();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("signed"), std::string::npos)
      << "the error does not say the bytes did not match: " << r.status().ToString();
  EXPECT_NE(mirror_->db().GetMirrorSync(site_id_)->last_error.find("signed"), std::string::npos)
      << "the recorded error does not say the bytes did not match";
}

// An object that verified but could not be made durable (its batch's commit failed: here its
// temporary file vanishes first, as a failing disk could also make happen) is not in the
// store: the version must not be switched to.
TEST_F(SiteSyncTest, ObjectWhoseCommitFailedDoesNotSwitchTheVersion) {
  Write("index.html", "v1");
  ASSERT_NO_FATAL_FAILURE(PublishOk(1));
  ASSERT_NO_FATAL_FAILURE(FollowOk({PublisherUrl()}));
  ASSERT_EQ(SyncOk().version, 1);
  Write("new.txt", "only in version 2");
  ASSERT_NO_FATAL_FAILURE(PublishOk(2));
  const std::string tmp = mirror_dir_.path() + "/tmp";
  // Progress is reported once the last object is staged, before its batch is committed.
  options_.progress = [&](const SyncProgress&) {
    for (const auto& e : std::filesystem::directory_iterator(tmp)) std::filesystem::remove(e.path());
  };
  auto r = Sync();
  ASSERT_FALSE(mirror_->store().Contains(Sha256Hex("only in version 2"))) << "test setup: the commit did not fail";
  EXPECT_FALSE(r.ok()) << "the sync succeeded although an object of the new version is not stored";
  EXPECT_EQ(MirrorVersion(), 1) << "the mirror switched to a version whose objects it does not hold";
}

TEST_F(SiteSyncTest, SyncCompletesOnceTheSourceIsRepaired) {
  Write("index.html", "v1");
  ASSERT_NO_FATAL_FAILURE(PublishOk(1));
  ASSERT_NO_FATAL_FAILURE(FollowOk({PublisherUrl()}));
  ASSERT_EQ(SyncOk().version, 1);
  const std::string big(400 * 1024, 'y');
  Write("big.bin", big);
  ASSERT_NO_FATAL_FAILURE(PublishOk(2));
  const std::string path = home_->store().PathFor(Sha256Hex(big));
  ASSERT_NO_FATAL_FAILURE(FlipByte(path, 10));
  ASSERT_FALSE(Sync().ok());
  ASSERT_NO_FATAL_FAILURE(FlipByte(path, 10));  // repaired
  SyncResult r = SyncOk();
  EXPECT_EQ(r.version, 2);
  ExpectMirroredExactly(2);
}

TEST_F(SiteSyncTest, TwoSourcesWithOneDownStillSync) {
  Write("index.html", "hello");
  ASSERT_NO_FATAL_FAILURE(PublishOk(1));
  const std::string dead = DeadUrl();
  ASSERT_NO_FATAL_FAILURE(FollowOk({PublisherUrl()}));
  ASSERT_TRUE(mirror_->db().AddMirrorSource(site_id_, dead, "seed", 1, kMaxPeerSourcesPerSite).ok());
  options_.prefer_source = dead;  // asked first, whatever the shuffle
  SyncResult r = SyncOk();
  EXPECT_EQ(r.version, 1);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].rfind(dead, 0), 0u) << r.problems[0];
  ExpectMirroredExactly(1);
  auto sources = mirror_->db().ListMirrorSources(site_id_);
  ASSERT_TRUE(sources.ok());
  for (const MirrorSourceRow& s : *sources) {
    if (s.url == dead) {
      EXPECT_EQ(s.last_ok, 0);
      EXPECT_NE(s.last_error, "");
    } else {
      EXPECT_EQ(s.last_ok, clock_.NowSeconds());
      EXPECT_EQ(s.last_error, "");
    }
  }
}

TEST_F(SiteSyncTest, ObjectsComeFromAnySourceThatHoldsThem) {
  // Two copies of the publisher serve the same version; one of them lost an object.
  Write("a.txt", std::string(300 * 1024, 'a'));
  Write("b.txt", "bravo");
  ASSERT_NO_FATAL_FAILURE(PublishOk(1));
  const std::string copy = CopyPublisherHome();
  ASSERT_TRUE(std::filesystem::remove(copy + "/objects/" + Sha256Hex("bravo").substr(0, 2) + "/" +
                                      Sha256Hex("bravo")));
  const std::string copy_url = Serve(copy);
  ASSERT_NO_FATAL_FAILURE(FollowOk({copy_url, PublisherUrl()}));
  options_.prefer_source = copy_url;
  SyncResult r = SyncOk();
  EXPECT_EQ(r.version, 1);
  ExpectMirroredExactly(1);
}

TEST_F(SiteSyncTest, PreferredSourceIsUsedEvenIfNotKnownYet) {
  // A hint's sender: tried first although the site's known sources do not include it.
  Write("index.html", "hello");
  ASSERT_NO_FATAL_FAILURE(PublishOk(1));
  ASSERT_NO_FATAL_FAILURE(FollowOk({PublisherUrl()}));
  ASSERT_TRUE(mirror_->db().RemoveMirrorSources(site_id_, "seed").ok());
  const std::string dead = DeadUrl();
  ASSERT_TRUE(mirror_->db().AddMirrorSource(site_id_, dead, "seed", 1, kMaxPeerSourcesPerSite).ok());
  options_.prefer_source = PublisherUrl();
  SyncResult r = SyncOk();
  EXPECT_EQ(r.version, 1);
  EXPECT_EQ(r.metadata_source, PublisherUrl());
  ExpectMirroredExactly(1);
  // Preferring a source does not make it a known source.
  auto sources = mirror_->db().ListMirrorSources(site_id_);
  ASSERT_EQ(sources->size(), 1u);
  EXPECT_EQ((*sources)[0].url, dead);
}

TEST_F(SiteSyncTest, SyncOfASiteNotFollowedIsNotFound) {
  auto r = SyncSite(*mirror_, std::string(52, 'q'), options_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

TEST_F(SiteSyncTest, SyncOnThePublishersOwnNodeIsRefused) {
  auto r = SyncSite(*home_, site_id_, options_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SiteSyncTest, FollowingASiteBeforeItsFirstPublish) {
  ASSERT_NO_FATAL_FAILURE(FollowOk({PublisherUrl()}));
  auto nothing = Sync();
  ASSERT_TRUE(nothing.ok()) << "a site with nothing published yet: " << nothing.status().ToString();
  EXPECT_EQ(nothing->version, 0);
  Write("index.html", "first");
  ASSERT_NO_FATAL_FAILURE(PublishOk(1));
  EXPECT_EQ(SyncOk().version, 1);
}

// --- rollback ------------------------------------------------------------------------------

class SiteSyncRollbackTest : public SiteSyncTest {
 protected:
  // The mirror holds version 2; `v1_url_` serves a copy of the publisher taken at version 1,
  // and is the mirror's only source.
  void SetUp() override {
    SiteSyncTest::SetUp();
    Write("index.html", "version one");
    ASSERT_NO_FATAL_FAILURE(PublishOk(1));
    v1_home_ = CopyPublisherHome();
    Write("index.html", "version two");
    ASSERT_NO_FATAL_FAILURE(PublishOk(2));
    ASSERT_NO_FATAL_FAILURE(FollowOk({PublisherUrl()}));
    ASSERT_EQ(SyncOk().version, 2);
    v1_url_ = Serve(v1_home_);
    ASSERT_TRUE(mirror_->db().RemoveMirrorSources(site_id_, "seed").ok());
    ASSERT_TRUE(mirror_->db().AddMirrorSource(site_id_, v1_url_, "seed", 1, kMaxPeerSourcesPerSite).ok());
    trusted_timestamp_ = ReadTestFile(MirrorTrustDir(*mirror_, site_id_) + "/timestamp.json");
  }

  // Syncs against the version-1 source: the mirror must stay on version 2 and say why.
  void ExpectRollbackRefused() {
    auto r = Sync();
    if (r.ok()) {
      EXPECT_EQ(r->version, 2);
      EXPECT_FALSE(r->advanced());
      EXPECT_FALSE(r->problems.empty()) << "the rollback was not reported";
    }
    EXPECT_EQ(MirrorVersion(), 2);
    EXPECT_EQ(mirror_->db().LatestMetadata(site_id_, tuf::kTimestamp)->version, 2);
    EXPECT_EQ(ReadTestFile(MirrorTrustDir(*mirror_, site_id_) + "/timestamp.json"), trusted_timestamp_);
    ExpectMirroredExactly(2);
  }

  std::string v1_home_;
  std::string v1_url_;
  std::string trusted_timestamp_;
};

TEST_F(SiteSyncRollbackTest, SourceHoldingOnlyAnOlderVersionDoesNotRollTheMirrorBack) {
  ExpectRollbackRefused();
}

TEST_F(SiteSyncRollbackTest, RollbackIsReportedAsAProblemOfThatSource) {
  // Either as the sync's error (no source served valid metadata) or as a problem of a sync
  // that otherwise went through: the source and the reason are named.
  auto r = Sync();
  const std::string report = r.ok() ? (r->problems.empty() ? "" : r->problems[0]) : r.status().message();
  EXPECT_NE(report.find(v1_url_), std::string::npos) << report;
  EXPECT_NE(report.find("rollback"), std::string::npos) << report;
  auto sources = mirror_->db().ListMirrorSources(site_id_);
  ASSERT_EQ(sources->size(), 1u);
  EXPECT_NE((*sources)[0].last_error, "");
}

TEST_F(SiteSyncRollbackTest, RollbackIsStillRefusedAfterReopeningTheHome) {
  ASSERT_NO_FATAL_FAILURE(ExpectRollbackRefused());
  ASSERT_NO_FATAL_FAILURE(OpenMirror());
  ExpectRollbackRefused();
}

// SyncSite's contract: it "fails only when nothing could be done at all (no source answered
// with valid metadata, ...)". Here no source answered with valid metadata.
TEST_F(SiteSyncRollbackTest, SyncWhereNoSourceServedValidMetadataIsNotRecordedAsASuccess) {
  clock_.Advance(3600);
  (void)Sync();
  auto sync = mirror_->db().GetMirrorSync(site_id_);
  ASSERT_TRUE(sync.ok());
  EXPECT_NE(sync->last_error, "") << "every source failed, yet the sync was recorded as a success";
  EXPECT_LT(sync->last_success, clock_.NowSeconds())
      << "every source failed, yet last_success moved to now";
}

TEST_F(SiteSyncTest, SyncWithEverySourceDownFails) {
  Write("index.html", "v1");
  ASSERT_NO_FATAL_FAILURE(PublishOk(1));
  ASSERT_NO_FATAL_FAILURE(FollowOk({PublisherUrl()}));
  ASSERT_EQ(SyncOk().version, 1);
  ASSERT_TRUE(mirror_->db().RemoveMirrorSources(site_id_, "seed").ok());
  ASSERT_TRUE(mirror_->db().AddMirrorSource(site_id_, DeadUrl(), "seed", 1, kMaxPeerSourcesPerSite).ok());
  auto r = Sync();
  EXPECT_FALSE(r.ok()) << "SyncSite reported success although no source answered"
                       << (r.ok() && !r->problems.empty() ? " (problems: " + r->problems[0] + ")" : "");
  EXPECT_EQ(MirrorVersion(), 1);
}

// `refuge mirror list` shows last_attempt and last_error from the sync row: a first sync that
// failed (no source answered) must be recorded like any other failed sync.
TEST_F(SiteSyncTest, FailedFirstSyncIsRecorded) {
  Write("index.html", "v1");
  ASSERT_NO_FATAL_FAILURE(PublishOk(1));
  ASSERT_NO_FATAL_FAILURE(FollowOk({PublisherUrl()}));
  ASSERT_TRUE(mirror_->db().RemoveMirrorSources(site_id_, "seed").ok());
  ASSERT_TRUE(mirror_->db().AddMirrorSource(site_id_, DeadUrl(), "seed", 1, kMaxPeerSourcesPerSite).ok());
  ASSERT_FALSE(Sync().ok());
  auto sync = mirror_->db().GetMirrorSync(site_id_);
  ASSERT_TRUE(sync.ok());
  EXPECT_EQ(sync->last_attempt, clock_.NowSeconds()) << "the failed sync was not recorded";
  EXPECT_NE(sync->last_error, "") << "the failed sync was not recorded";
  EXPECT_EQ(sync->last_success, 0);
}

TEST_F(SiteSyncTest, FreshMirrorAcceptsWhateverVersionItFindsFirst) {
  // Freeze and rollback protection start at the first sync: a mirror that only ever saw
  // version 1 takes it, then moves forward.
  Write("index.html", "one");
  ASSERT_NO_FATAL_FAILURE(PublishOk(1));
  const std::string v1 = Serve(CopyPublisherHome());
  Write("index.html", "two");
  ASSERT_NO_FATAL_FAILURE(PublishOk(2));
  ASSERT_NO_FATAL_FAILURE(FollowOk({v1}));
  EXPECT_EQ(SyncOk().version, 1);
  ASSERT_TRUE(mirror_->db().AddMirrorSource(site_id_, PublisherUrl(), "seed", 2, kMaxPeerSourcesPerSite).ok());
  options_.prefer_source = PublisherUrl();
  EXPECT_EQ(SyncOk().version, 2);
  ExpectMirroredExactly(2);
}

// --- unfollow ------------------------------------------------------------------------------

TEST_F(SiteSyncTest, UnfollowSiteForgetsTheSiteAndItsTrust) {
  Write("index.html", "v1");
  ASSERT_NO_FATAL_FAILURE(PublishOk(1));
  ASSERT_NO_FATAL_FAILURE(FollowOk({PublisherUrl()}));
  ASSERT_EQ(SyncOk().version, 1);
  ASSERT_TRUE(UnfollowSite(*mirror_, site_id_).ok());
  EXPECT_EQ(mirror_->db().GetSite(site_id_).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(mirror_->db().ListMirrorSources(site_id_)->empty());
  EXPECT_TRUE(mirror_->db().ListMetadata(site_id_)->empty());
  EXPECT_FALSE(std::filesystem::exists(mirror_dir_.path() + "/mirror/" + site_id_));
  EXPECT_EQ(Sync().status().code(), StatusCode::kNotFound);
  // It can be followed again from scratch.
  ASSERT_NO_FATAL_FAILURE(FollowOk({PublisherUrl()}));
  EXPECT_EQ(SyncOk().version, 1);
}

TEST_F(SiteSyncTest, UnfollowingAPublishedSiteIsRefused) {
  Status s = UnfollowSite(*home_, site_id_);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_TRUE(home_->db().GetSite(site_id_).ok());
}

TEST_F(SiteSyncTest, UnfollowingAnUnknownSiteIsNotFound) {
  EXPECT_EQ(UnfollowSite(*mirror_, std::string(52, 'q')).code(), StatusCode::kNotFound);
}

// --- staleness and timestamp-only updates ----------------------------------------------------

TEST_F(SiteSyncTest, StaleSinceIsTheTimestampExpiryOnceItPassed) {
  Write("index.html", "v1");
  ASSERT_NO_FATAL_FAILURE(PublishOk(1));
  ASSERT_NO_FATAL_FAILURE(FollowOk({PublisherUrl()}));
  ASSERT_EQ(SyncOk().version, 1);
  const int64_t expiry = clock_.NowSeconds() + ExpiryPolicy{}.timestamp_days * kSecondsPerDay;
  auto fresh = StaleSince(*mirror_, site_id_, clock_.NowSeconds());
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_FALSE(fresh->has_value());
  auto just_before = StaleSince(*mirror_, site_id_, expiry - 1);
  ASSERT_TRUE(just_before.ok());
  EXPECT_FALSE(just_before->has_value());
  auto stale = StaleSince(*mirror_, site_id_, expiry + 1);
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  ASSERT_TRUE(stale->has_value());
  EXPECT_EQ(**stale, expiry);
}

TEST_F(SiteSyncTest, StaleSinceOfASiteWithNothingServedIsNone) {
  ASSERT_NO_FATAL_FAILURE(FollowOk({PublisherUrl()}));
  auto stale = StaleSince(*mirror_, site_id_, clock_.NowSeconds() + 10 * 365 * kSecondsPerDay);
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  EXPECT_FALSE(stale->has_value());
}

TEST_F(SiteSyncTest, RefreshedTimestampIsMirroredAndEndsStaleness) {
  Write("index.html", "v1");
  ASSERT_NO_FATAL_FAILURE(PublishOk(1));
  ASSERT_NO_FATAL_FAILURE(FollowOk({PublisherUrl()}));
  ASSERT_EQ(SyncOk().version, 1);
  clock_.Advance(29 * kSecondsPerDay);
  auto ts = RefreshTimestamp(*home_, site_id_, ExpiryPolicy{}, clock_);
  ASSERT_TRUE(ts.ok()) << ts.status().ToString();
  SyncResult r = SyncOk();
  EXPECT_EQ(r.version, 1);
  EXPECT_EQ(r.objects_fetched, 0u);
  EXPECT_EQ(mirror_->db().LatestMetadata(site_id_, tuf::kTimestamp)->version, *ts);
  EXPECT_EQ(mirror_->db().LatestMetadata(site_id_, tuf::kTimestamp)->sha256,
            home_->db().LatestMetadata(site_id_, tuf::kTimestamp)->sha256);
  auto stale = StaleSince(*mirror_, site_id_, clock_.NowSeconds() + 2 * kSecondsPerDay);
  ASSERT_TRUE(stale.ok());
  EXPECT_FALSE(stale->has_value()) << "still stale after the new timestamp was mirrored";
}

// --- blocked paths, root rotation -----------------------------------------------------------

TEST_F(SiteSyncTest, SkippedPathsAreNeitherFetchedNorStored) {
  Write("index.html", "public");
  Write("secret/leak.txt", "blocked on this mirror");
  ASSERT_NO_FATAL_FAILURE(PublishOk(1));
  ASSERT_NO_FATAL_FAILURE(FollowOk({PublisherUrl()}));
  options_.skip_path = [](const std::string& path) { return path.rfind("secret/", 0) == 0; };
  SyncResult r = SyncOk();
  EXPECT_EQ(r.version, 1);
  EXPECT_EQ(r.objects_skipped, 1u);
  EXPECT_EQ(r.objects_fetched, 1u);
  EXPECT_FALSE(mirror_->store().Contains(Sha256Hex("blocked on this mirror")));
  EXPECT_TRUE(mirror_->store().Contains(Sha256Hex("public")));
  // The version's file list is still the signed one.
  EXPECT_TRUE(mirror_->db().FindFile(site_id_, 1, "secret/leak.txt").ok());
}

TEST_F(SiteSyncTest, RotatedRootsAreMirroredAsAChain) {
  Write("index.html", "v1");
  ASSERT_NO_FATAL_FAILURE(PublishOk(1));
  ASSERT_NO_FATAL_FAILURE(FollowOk({PublisherUrl()}));
  ASSERT_EQ(SyncOk().version, 1);
  ASSERT_TRUE(RotateKey(*home_, site_id_, tuf::kTimestamp, "", ExpiryPolicy{}, clock_).ok());
  ASSERT_TRUE(RotateKey(*home_, site_id_, tuf::kRoot, "", ExpiryPolicy{}, clock_).ok());
  Write("index.html", "after rotation");
  auto published = Publish(*home_, site_id_, source_.path(), PublishOptions{}, clock_);
  ASSERT_TRUE(published.ok()) << published.status().ToString();
  SyncResult r = SyncOk();
  EXPECT_EQ(r.version, published->version);
  for (int64_t v = 1; v <= 3; ++v) {
    auto a = home_->db().GetMetadata(site_id_, tuf::kRoot, v);
    auto b = mirror_->db().GetMetadata(site_id_, tuf::kRoot, v);
    ASSERT_TRUE(a.ok()) << v;
    ASSERT_TRUE(b.ok()) << "root " << v << " not mirrored: " << b.status().ToString();
    EXPECT_EQ(a->sha256, b->sha256);
  }
  ExpectMirroredExactly(published->version);
  auto report = VerifyNode(*mirror_, site_id_, clock_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->problems.empty()) << report->problems.front().message;
}

// --- the signed mirror list ----------------------------------------------------------------

TEST_F(SiteSyncTest, AcceptedMirrorsAppearInTheSignedMirrorList) {
  // Three mirrors announce themselves; the publisher accepts two and rejects one.
  std::vector<std::string> key_ids;
  std::vector<std::string> public_keys;
  const std::vector<std::vector<std::string>> urls = {
      {"http://127.0.0.1:1", "http://127.0.0.1:2/"}, {"http://127.0.0.1:3"}, {"http://127.0.0.1:4"}};
  for (int i = 0; i < 3; ++i) {
    auto key = Ed25519PrivateKey::Generate();
    ASSERT_TRUE(key.ok());
    auto body = MakeAnnouncement(*key, site_id_, urls[i], clock_.NowSeconds());
    ASSERT_TRUE(body.ok());
    auto row = VerifyAnnouncement(*body, clock_.NowSeconds());
    ASSERT_TRUE(row.ok()) << row.status().ToString();
    row->sender = "127.0.0.1";
    ASSERT_TRUE(home_->db().UpsertAnnouncement(*row, 1000).ok());
    key_ids.push_back(row->key_id);
    public_keys.push_back(row->public_key);
  }
  ASSERT_TRUE(home_->db().SetAnnouncementStatus(site_id_, key_ids[0], "accepted").ok());
  ASSERT_TRUE(home_->db().SetAnnouncementStatus(site_id_, key_ids[1].substr(0, 12), "accepted").ok());
  ASSERT_TRUE(home_->db().SetAnnouncementStatus(site_id_, key_ids[2], "rejected").ok());
  Write("index.html", "with mirrors");
  ASSERT_NO_FATAL_FAILURE(PublishOk(1));

  ASSERT_NO_FATAL_FAILURE(FollowOk({PublisherUrl()}));
  ASSERT_EQ(SyncOk().version, 1);
  auto file = mirror_->db().FindFile(site_id_, 1, kMirrorListTarget);
  ASSERT_TRUE(file.ok()) << ".refuge/mirrors.json is not a target of the mirrored version";
  auto bytes = mirror_->store().Read(file->sha256, kMaxMirrorListBytes);
  ASSERT_TRUE(bytes.ok());
  auto list = ParseMirrorList(*bytes);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(list->site_id, site_id_);
  std::vector<std::string> got;
  for (const MirrorEntry& e : list->mirrors) {
    got.push_back(e.url);
    EXPECT_EQ(e.role, "mirror");
    EXPECT_TRUE(e.key == public_keys[0] || e.key == public_keys[1]) << e.key;
  }
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"http://127.0.0.1:1", "http://127.0.0.1:2", "http://127.0.0.1:3"}));
}

TEST_F(SiteSyncTest, NoAcceptedMirrorNoMirrorList) {
  Write("index.html", "alone");
  ASSERT_NO_FATAL_FAILURE(PublishOk(1));
  EXPECT_EQ(home_->db().FindFile(site_id_, 1, kMirrorListTarget).status().code(), StatusCode::kNotFound);
}

TEST_F(SiteSyncTest, SignedMirrorListReplacesAFileOfTheSameNameInTheSource) {
  auto key = Ed25519PrivateKey::Generate();
  ASSERT_TRUE(key.ok());
  auto row = VerifyAnnouncement(MakeAnnouncement(*key, site_id_, {"http://127.0.0.1:1"}, clock_.NowSeconds()).value(),
                                clock_.NowSeconds());
  ASSERT_TRUE(row.ok());
  ASSERT_TRUE(home_->db().UpsertAnnouncement(*row, 1000).ok());
  ASSERT_TRUE(home_->db().SetAnnouncementStatus(site_id_, row->key_id, "accepted").ok());
  Write(".refuge/mirrors.json", "{\"site\": \"forged\", \"mirrors\": []}");
  Write("index.html", "x");
  ASSERT_NO_FATAL_FAILURE(PublishOk(1));
  auto file = home_->db().FindFile(site_id_, 1, kMirrorListTarget);
  ASSERT_TRUE(file.ok());
  auto list = ParseMirrorList(home_->store().Read(file->sha256, kMaxMirrorListBytes).value());
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->site_id, site_id_);
  ASSERT_EQ(list->mirrors.size(), 1u);
  EXPECT_EQ(list->mirrors[0].url, "http://127.0.0.1:1");
}

}  // namespace
}  // namespace refuge::mirror
