// NodeDb's mirror rows: sources (kinds, upgrades, the bound on untrusted peers), per-source
// results, sync attempts, announcements (pending cap, accepted/pending/rejected transitions,
// key ID prefixes) and DeleteSite.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/sha256.h"
#include "store/node_db.h"
#include "support/temp_dir.h"

namespace refuge {
namespace {

using refuge::testing::TempDir;

const std::string kSite = std::string(52, 'a');
const std::string kOtherSite = std::string(52, 'b');
constexpr int kMaxPeers = 3;

class NodeDbMirrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = NodeDb::Open(dir_.Sub("node.db"));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
  }

  void Add(const std::string& url, const std::string& kind, int64_t now, const std::string& site = kSite) {
    Status s = db_->AddMirrorSource(site, url, kind, now, kMaxPeers);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  std::vector<MirrorSourceRow> Sources(const std::string& site = kSite) {
    auto rows = db_->ListMirrorSources(site);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? *rows : std::vector<MirrorSourceRow>{};
  }

  std::optional<MirrorSourceRow> Source(const std::string& url) {
    for (const MirrorSourceRow& r : Sources()) {
      if (r.url == url) return r;
    }
    return std::nullopt;
  }

  std::vector<std::string> Urls(const std::string& site = kSite) {
    std::vector<std::string> out;
    for (const MirrorSourceRow& r : Sources(site)) out.push_back(r.url);
    std::sort(out.begin(), out.end());
    return out;
  }

  static AnnouncementRow Announcement(const std::string& key_id, std::vector<std::string> urls,
                                      int64_t at, const std::string& site = kSite) {
    AnnouncementRow a;
    a.site_id = site;
    a.key_id = key_id;
    a.public_key = std::string(64, 'f');
    a.urls = std::move(urls);
    a.received_at = at;
    a.sender = "127.0.0.1";
    return a;
  }

  std::vector<AnnouncementRow> Announcements(const std::string& status, const std::string& site = kSite) {
    auto rows = db_->ListAnnouncements(site, status);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? *rows : std::vector<AnnouncementRow>{};
  }

  std::optional<AnnouncementRow> AnnouncementOf(const std::string& key_id) {
    for (const AnnouncementRow& a : Announcements("")) {
      if (a.key_id == key_id) return a;
    }
    return std::nullopt;
  }

  TempDir dir_{TempDir::Medium::kFast};
  std::unique_ptr<NodeDb> db_;
};

// --- sources -------------------------------------------------------------------------------

TEST_F(NodeDbMirrorTest, SourcesOfEachKindAreListedWithTheirTimes) {
  Add("http://seed.example", "seed", 10);
  Add("http://signed.example", "signed", 20);
  Add("http://peer.example", "peer", 30);
  auto rows = Sources();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].url, "http://seed.example");
  EXPECT_EQ(rows[0].kind, "seed");
  EXPECT_EQ(rows[0].added_at, 10);
  EXPECT_EQ(rows[0].last_ok, 0);
  EXPECT_EQ(rows[0].last_error, "");
  EXPECT_EQ(rows[1].kind, "signed");
  EXPECT_EQ(rows[2].kind, "peer");
  EXPECT_TRUE(Sources(kOtherSite).empty());
}

TEST_F(NodeDbMirrorTest, AddingAKnownUrlKeepsItsRow) {
  Add("http://a.example", "seed", 10);
  ASSERT_TRUE(db_->RecordSourceResult(kSite, "http://a.example", 15, "").ok());
  Add("http://a.example", "seed", 99);
  auto rows = Sources();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].added_at, 10);
  EXPECT_EQ(rows[0].last_ok, 15);
}

TEST_F(NodeDbMirrorTest, PeerIsUpgradedToSignedAndToSeed) {
  Add("http://a.example", "peer", 10);
  Add("http://a.example", "signed", 11);
  EXPECT_EQ(Source("http://a.example")->kind, "signed");
  Add("http://a.example", "seed", 12);
  EXPECT_EQ(Source("http://a.example")->kind, "seed");
  Add("http://b.example", "peer", 13);
  Add("http://b.example", "seed", 14);
  EXPECT_EQ(Source("http://b.example")->kind, "seed");
}

TEST_F(NodeDbMirrorTest, SeedAndSignedAreNeverDowngradedToPeer) {
  Add("http://seed.example", "seed", 10);
  Add("http://signed.example", "signed", 10);
  Add("http://seed.example", "peer", 11);
  Add("http://signed.example", "peer", 11);
  EXPECT_EQ(Source("http://seed.example")->kind, "seed");
  EXPECT_EQ(Source("http://signed.example")->kind, "signed");
}

TEST_F(NodeDbMirrorTest, SeedStaysSeedWhenItAlsoAppearsInTheSignedList) {
  Add("http://a.example", "seed", 10);
  Add("http://a.example", "signed", 11);
  EXPECT_EQ(Source("http://a.example")->kind, "seed");
}

TEST_F(NodeDbMirrorTest, PeerBoundEvictsANeverWorkingPeerFirst) {
  Add("http://p1.example", "peer", 1);
  Add("http://p2.example", "peer", 2);
  Add("http://p3.example", "peer", 3);
  ASSERT_TRUE(db_->RecordSourceResult(kSite, "http://p1.example", 100, "").ok());
  ASSERT_TRUE(db_->RecordSourceResult(kSite, "http://p3.example", 200, "").ok());
  Add("http://p4.example", "peer", 4);
  EXPECT_EQ(Urls(), (std::vector<std::string>{"http://p1.example", "http://p3.example",
                                              "http://p4.example"}));
}

TEST_F(NodeDbMirrorTest, PeerBoundEvictsTheLeastRecentlyWorkingPeer) {
  Add("http://p1.example", "peer", 1);
  Add("http://p2.example", "peer", 2);
  Add("http://p3.example", "peer", 3);
  ASSERT_TRUE(db_->RecordSourceResult(kSite, "http://p1.example", 300, "").ok());
  ASSERT_TRUE(db_->RecordSourceResult(kSite, "http://p2.example", 100, "").ok());
  ASSERT_TRUE(db_->RecordSourceResult(kSite, "http://p3.example", 200, "").ok());
  // A failure later does not erase when it last worked.
  ASSERT_TRUE(db_->RecordSourceResult(kSite, "http://p1.example", 400, "timeout").ok());
  Add("http://p4.example", "peer", 4);
  EXPECT_EQ(Urls(), (std::vector<std::string>{"http://p1.example", "http://p3.example",
                                              "http://p4.example"}));
}

TEST_F(NodeDbMirrorTest, AmongNeverWorkingPeersTheOldestIsEvicted) {
  Add("http://p1.example", "peer", 5);
  Add("http://p2.example", "peer", 1);
  Add("http://p3.example", "peer", 9);
  Add("http://p4.example", "peer", 10);
  EXPECT_EQ(Urls(), (std::vector<std::string>{"http://p1.example", "http://p3.example",
                                              "http://p4.example"}));
}

TEST_F(NodeDbMirrorTest, PeerBoundNeverEvictsSeedsOrSignedSources) {
  Add("http://seed.example", "seed", 1);
  Add("http://signed.example", "signed", 1);
  for (int i = 0; i < 10; ++i) Add("http://p" + std::to_string(i) + ".example", "peer", 10 + i);
  auto rows = Sources();
  int peers = 0;
  for (const MirrorSourceRow& r : rows) peers += r.kind == "peer";
  EXPECT_EQ(peers, kMaxPeers);
  EXPECT_TRUE(Source("http://seed.example").has_value());
  EXPECT_TRUE(Source("http://signed.example").has_value());
  EXPECT_EQ(rows.size(), 2u + kMaxPeers);
  // The newest peers are the ones kept (none of them ever worked).
  EXPECT_TRUE(Source("http://p9.example").has_value());
  EXPECT_FALSE(Source("http://p0.example").has_value());
}

TEST_F(NodeDbMirrorTest, PeerBoundIsPerSite) {
  for (int i = 0; i < kMaxPeers; ++i) Add("http://p" + std::to_string(i) + ".example", "peer", i);
  for (int i = 0; i < kMaxPeers; ++i) {
    Add("http://q" + std::to_string(i) + ".example", "peer", i, kOtherSite);
  }
  EXPECT_EQ(Sources().size(), static_cast<size_t>(kMaxPeers));
  EXPECT_EQ(Sources(kOtherSite).size(), static_cast<size_t>(kMaxPeers));
}

TEST_F(NodeDbMirrorTest, RecordSourceSuccessSetsLastOkAndClearsTheError) {
  Add("http://a.example", "seed", 1);
  ASSERT_TRUE(db_->RecordSourceResult(kSite, "http://a.example", 50, "connection refused").ok());
  auto failed = Source("http://a.example");
  EXPECT_EQ(failed->last_ok, 0);
  EXPECT_EQ(failed->last_error, "connection refused");
  ASSERT_TRUE(db_->RecordSourceResult(kSite, "http://a.example", 60, "").ok());
  auto ok = Source("http://a.example");
  EXPECT_EQ(ok->last_ok, 60);
  EXPECT_EQ(ok->last_error, "");
}

TEST_F(NodeDbMirrorTest, RecordSourceFailureKeepsLastOk) {
  Add("http://a.example", "seed", 1);
  ASSERT_TRUE(db_->RecordSourceResult(kSite, "http://a.example", 60, "").ok());
  ASSERT_TRUE(db_->RecordSourceResult(kSite, "http://a.example", 70, "HTTP status 500").ok());
  auto row = Source("http://a.example");
  EXPECT_EQ(row->last_ok, 60);
  EXPECT_EQ(row->last_error, "HTTP status 500");
}

TEST_F(NodeDbMirrorTest, RecordSourceResultOfAnUnknownUrlAddsNothing) {
  EXPECT_TRUE(db_->RecordSourceResult(kSite, "http://unknown.example", 60, "").ok());
  EXPECT_TRUE(Sources().empty());
}

TEST_F(NodeDbMirrorTest, RemoveMirrorSourcesRemovesOneKindOnly) {
  Add("http://seed.example", "seed", 1);
  Add("http://s1.example", "signed", 1);
  Add("http://s2.example", "signed", 1);
  Add("http://peer.example", "peer", 1);
  ASSERT_TRUE(db_->RemoveMirrorSources(kSite, "signed").ok());
  EXPECT_EQ(Urls(), (std::vector<std::string>{"http://peer.example", "http://seed.example"}));
}

// --- sync attempts -------------------------------------------------------------------------

TEST_F(NodeDbMirrorTest, SiteNeverSyncedHasAnEmptySyncRow) {
  auto row = db_->GetMirrorSync(kSite);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->last_attempt, 0);
  EXPECT_EQ(row->last_success, 0);
  EXPECT_EQ(row->last_error, "");
}

TEST_F(NodeDbMirrorTest, FirstSyncFailureRecordsNoSuccess) {
  ASSERT_TRUE(db_->RecordSyncAttempt(kSite, 100, "no source").ok());
  auto row = db_->GetMirrorSync(kSite);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->last_attempt, 100);
  EXPECT_EQ(row->last_success, 0);
  EXPECT_EQ(row->last_error, "no source");
}

TEST_F(NodeDbMirrorTest, SyncSuccessThenFailureKeepsTheLastSuccess) {
  ASSERT_TRUE(db_->RecordSyncAttempt(kSite, 100, "").ok());
  auto ok = db_->GetMirrorSync(kSite);
  EXPECT_EQ(ok->last_attempt, 100);
  EXPECT_EQ(ok->last_success, 100);
  EXPECT_EQ(ok->last_error, "");
  ASSERT_TRUE(db_->RecordSyncAttempt(kSite, 200, "objects could not be fetched").ok());
  auto failed = db_->GetMirrorSync(kSite);
  EXPECT_EQ(failed->last_attempt, 200);
  EXPECT_EQ(failed->last_success, 100);
  EXPECT_EQ(failed->last_error, "objects could not be fetched");
  ASSERT_TRUE(db_->RecordSyncAttempt(kSite, 300, "").ok());
  auto again = db_->GetMirrorSync(kSite);
  EXPECT_EQ(again->last_success, 300);
  EXPECT_EQ(again->last_error, "");
  EXPECT_EQ(db_->GetMirrorSync(kOtherSite)->last_attempt, 0);
}

// --- announcements -------------------------------------------------------------------------

TEST_F(NodeDbMirrorTest, NewAnnouncementIsPending) {
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("k1", {"http://a.example", "http://b.example"}, 10), 5).ok());
  auto rows = Announcements("pending");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].site_id, kSite);
  EXPECT_EQ(rows[0].key_id, "k1");
  EXPECT_EQ(rows[0].public_key, std::string(64, 'f'));
  EXPECT_EQ(rows[0].urls, (std::vector<std::string>{"http://a.example", "http://b.example"}));
  EXPECT_EQ(rows[0].received_at, 10);
  EXPECT_EQ(rows[0].sender, "127.0.0.1");
  EXPECT_EQ(rows[0].status, "pending");
  EXPECT_TRUE(Announcements("accepted").empty());
  EXPECT_TRUE(Announcements("", kOtherSite).empty());
}

TEST_F(NodeDbMirrorTest, PendingAnnouncementsAreCappedPerSite) {
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("k1", {"http://a.example"}, 10), 2).ok());
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("k2", {"http://b.example"}, 11), 2).ok());
  Status third = db_->UpsertAnnouncement(Announcement("k3", {"http://c.example"}, 12), 2);
  EXPECT_FALSE(third.ok());
  EXPECT_EQ(Announcements("pending").size(), 2u);
  EXPECT_FALSE(AnnouncementOf("k3").has_value());
  // Another site has its own cap.
  EXPECT_TRUE(db_->UpsertAnnouncement(Announcement("k3", {"http://c.example"}, 12, kOtherSite), 2).ok());
}

TEST_F(NodeDbMirrorTest, RepeatedPendingAnnouncementRefreshesEvenAtTheCap) {
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("k1", {"http://a.example"}, 10), 2).ok());
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("k2", {"http://b.example"}, 11), 2).ok());
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("k1", {"http://a2.example"}, 20), 2).ok());
  auto k1 = AnnouncementOf("k1");
  ASSERT_TRUE(k1.has_value());
  EXPECT_EQ(k1->received_at, 20);
  EXPECT_EQ(k1->urls, std::vector<std::string>{"http://a2.example"});
  EXPECT_EQ(k1->status, "pending");
}

TEST_F(NodeDbMirrorTest, DecidedAnnouncementsDoNotCountTowardsTheCap) {
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("k1", {"http://a.example"}, 10), 1).ok());
  ASSERT_TRUE(db_->SetAnnouncementStatus(kSite, "k1", "accepted").ok());
  EXPECT_TRUE(db_->UpsertAnnouncement(Announcement("k2", {"http://b.example"}, 11), 1).ok());
}

TEST_F(NodeDbMirrorTest, AcceptedStaysAcceptedWhenTheSameUrlsAreAnnouncedAgain) {
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("k1", {"http://a.example", "http://b.example"}, 10), 5).ok());
  ASSERT_TRUE(db_->SetAnnouncementStatus(kSite, "k1", "accepted").ok());
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("k1", {"http://a.example", "http://b.example"}, 99), 5).ok());
  auto k1 = AnnouncementOf("k1");
  ASSERT_TRUE(k1.has_value());
  EXPECT_EQ(k1->status, "accepted");
  EXPECT_EQ(k1->received_at, 99);
}

TEST_F(NodeDbMirrorTest, AcceptedGoesBackToPendingOnNewUrls) {
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("k1", {"http://a.example"}, 10), 5).ok());
  ASSERT_TRUE(db_->SetAnnouncementStatus(kSite, "k1", "accepted").ok());
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("k1", {"http://evil.example"}, 20), 5).ok());
  auto k1 = AnnouncementOf("k1");
  ASSERT_TRUE(k1.has_value());
  EXPECT_EQ(k1->status, "pending");
  EXPECT_EQ(k1->urls, std::vector<std::string>{"http://evil.example"});
  EXPECT_TRUE(Announcements("accepted").empty());
}

TEST_F(NodeDbMirrorTest, AcceptedGoesBackToPendingWhenAUrlIsAdded) {
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("k1", {"http://a.example"}, 10), 5).ok());
  ASSERT_TRUE(db_->SetAnnouncementStatus(kSite, "k1", "accepted").ok());
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("k1", {"http://a.example", "http://b.example"}, 20), 5).ok());
  EXPECT_EQ(AnnouncementOf("k1")->status, "pending");
}

TEST_F(NodeDbMirrorTest, RejectedStaysRejectedAndKeepsNothingNew) {
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("k1", {"http://a.example"}, 10), 5).ok());
  ASSERT_TRUE(db_->SetAnnouncementStatus(kSite, "k1", "rejected").ok());
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("k1", {"http://a.example"}, 20), 5).ok());
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("k1", {"http://other.example"}, 30), 5).ok());
  auto k1 = AnnouncementOf("k1");
  ASSERT_TRUE(k1.has_value());
  EXPECT_EQ(k1->status, "rejected");
  EXPECT_EQ(k1->received_at, 10);
  EXPECT_EQ(k1->urls, std::vector<std::string>{"http://a.example"});
  EXPECT_TRUE(Announcements("pending").empty());
}

TEST_F(NodeDbMirrorTest, ListAnnouncementsFiltersByStatus) {
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("k1", {"http://a.example"}, 10), 5).ok());
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("k2", {"http://b.example"}, 11), 5).ok());
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("k3", {"http://c.example"}, 12), 5).ok());
  ASSERT_TRUE(db_->SetAnnouncementStatus(kSite, "k1", "accepted").ok());
  ASSERT_TRUE(db_->SetAnnouncementStatus(kSite, "k3", "rejected").ok());
  EXPECT_EQ(Announcements("accepted").size(), 1u);
  EXPECT_EQ(Announcements("pending").size(), 1u);
  EXPECT_EQ(Announcements("rejected").size(), 1u);
  auto all = Announcements("");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].key_id, "k1");  // by time received
  EXPECT_EQ(all[2].key_id, "k3");
}

TEST_F(NodeDbMirrorTest, UniqueKeyIdPrefixIsResolved) {
  const std::string k1 = Sha256Hex("mirror one");
  const std::string k2 = Sha256Hex("mirror two");
  ASSERT_NE(k1.substr(0, 4), k2.substr(0, 4));
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement(k1, {"http://a.example"}, 10), 5).ok());
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement(k2, {"http://b.example"}, 11), 5).ok());
  ASSERT_TRUE(db_->SetAnnouncementStatus(kSite, k1.substr(0, 4), "accepted").ok());
  EXPECT_EQ(AnnouncementOf(k1)->status, "accepted");
  EXPECT_EQ(AnnouncementOf(k2)->status, "pending");
  ASSERT_TRUE(db_->SetAnnouncementStatus(kSite, k2, "rejected").ok());  // the full ID too
  EXPECT_EQ(AnnouncementOf(k2)->status, "rejected");
}

TEST_F(NodeDbMirrorTest, AmbiguousKeyIdPrefixChangesNothing) {
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("abc1", {"http://a.example"}, 10), 5).ok());
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("abc2", {"http://b.example"}, 11), 5).ok());
  Status s = db_->SetAnnouncementStatus(kSite, "abc", "accepted");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(Announcements("pending").size(), 2u);
}

TEST_F(NodeDbMirrorTest, UnknownOrEmptyKeyIdIsRefused) {
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("abc1", {"http://a.example"}, 10), 5).ok());
  Status unknown = db_->SetAnnouncementStatus(kSite, "abd", "accepted");
  EXPECT_EQ(unknown.code(), StatusCode::kNotFound) << unknown.ToString();
  Status empty = db_->SetAnnouncementStatus(kSite, "", "accepted");
  EXPECT_EQ(empty.code(), StatusCode::kInvalidArgument) << empty.ToString();
  // A key of another site is not found through this one.
  Status other = db_->SetAnnouncementStatus(kOtherSite, "abc1", "accepted");
  EXPECT_EQ(other.code(), StatusCode::kNotFound) << other.ToString();
  EXPECT_EQ(AnnouncementOf("abc1")->status, "pending");
}

TEST_F(NodeDbMirrorTest, KeyIdPrefixWithLikeWildcardsIsTakenLiterally) {
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("abc1", {"http://a.example"}, 10), 5).ok());
  EXPECT_EQ(db_->SetAnnouncementStatus(kSite, "%", "accepted").code(), StatusCode::kNotFound);
  EXPECT_EQ(db_->SetAnnouncementStatus(kSite, "a_c", "accepted").code(), StatusCode::kNotFound);
  EXPECT_EQ(AnnouncementOf("abc1")->status, "pending");
}

// --- DeleteSite ----------------------------------------------------------------------------

TEST_F(NodeDbMirrorTest, DeleteSiteRemovesEveryRowOfTheSiteAndNoOther) {
  for (const std::string& site : {kSite, kOtherSite}) {
    Publication pub;
    pub.site_id = site;
    pub.new_site = SiteRow{site, false, 1, std::nullopt, 0};
    for (const char* role : {"root", "targets", "snapshot", "timestamp"}) {
      pub.metadata.push_back(MetadataRow{role, 1, Sha256Hex(site + role), 10});
    }
    pub.version = VersionRow{1, 1, 1, 5, 1, 4, false};
    pub.files.push_back(FileRow{"index.html", Sha256Hex(site + "index"), 4});
    pub.file_cache = std::vector<FileCacheRow>{FileCacheRow{"index.html", 4, 1, 1, 7, Sha256Hex(site + "index")}};
    ASSERT_TRUE(db_->Commit(pub).ok());
    Add("http://seed.example", "seed", 1, site);
    Add("http://peer.example", "peer", 1, site);
    ASSERT_TRUE(db_->RecordSyncAttempt(site, 5, "").ok());
    ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("k1", {"http://a.example"}, 10, site), 5).ok());
  }
  ASSERT_TRUE(db_->SetPinned(kSite, 1, true).ok());

  ASSERT_TRUE(db_->DeleteSite(kSite).ok());

  EXPECT_EQ(db_->GetSite(kSite).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(db_->ListMetadata(kSite)->empty());
  EXPECT_TRUE(db_->ListVersions(kSite)->empty());
  EXPECT_TRUE(db_->VersionFiles(kSite, 1)->empty());
  EXPECT_TRUE(db_->LoadFileCache(kSite)->empty());
  EXPECT_TRUE(Sources(kSite).empty());
  EXPECT_EQ(db_->GetMirrorSync(kSite)->last_attempt, 0);
  EXPECT_TRUE(Announcements("", kSite).empty());
  auto live = db_->LiveObjects();
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->count(Sha256Hex(kSite + "index")), 0u);
  EXPECT_EQ(live->count(Sha256Hex(kSite + "root")), 0u);

  // The other site is untouched.
  ASSERT_TRUE(db_->GetSite(kOtherSite).ok());
  EXPECT_EQ(db_->GetSite(kOtherSite)->current_version, 1);
  EXPECT_EQ(db_->ListMetadata(kOtherSite)->size(), 4u);
  EXPECT_EQ(db_->VersionFiles(kOtherSite, 1)->size(), 1u);
  EXPECT_EQ(db_->LoadFileCache(kOtherSite)->size(), 1u);
  EXPECT_EQ(Sources(kOtherSite).size(), 2u);
  EXPECT_EQ(db_->GetMirrorSync(kOtherSite)->last_attempt, 5);
  EXPECT_EQ(Announcements("", kOtherSite).size(), 1u);
  EXPECT_EQ(live->count(Sha256Hex(kOtherSite + "index")), 1u);
}

TEST_F(NodeDbMirrorTest, DeletedSiteCanBeAddedAgain) {
  Publication pub;
  pub.site_id = kSite;
  pub.new_site = SiteRow{kSite, false, 1, std::nullopt, 0};
  ASSERT_TRUE(db_->Commit(pub).ok());
  ASSERT_TRUE(db_->DeleteSite(kSite).ok());
  ASSERT_TRUE(db_->Commit(pub).ok());
  EXPECT_TRUE(db_->GetSite(kSite).ok());
}

TEST_F(NodeDbMirrorTest, MirrorRowsSurviveReopening) {
  Add("http://seed.example", "seed", 1);
  ASSERT_TRUE(db_->RecordSyncAttempt(kSite, 5, "").ok());
  ASSERT_TRUE(db_->UpsertAnnouncement(Announcement("k1", {"http://a.example"}, 10), 5).ok());
  ASSERT_TRUE(db_->SetAnnouncementStatus(kSite, "k1", "accepted").ok());
  db_.reset();
  auto db = NodeDb::Open(dir_.Sub("node.db"));
  ASSERT_TRUE(db.ok());
  db_ = std::move(db).value();
  EXPECT_EQ(Sources().size(), 1u);
  EXPECT_EQ(db_->GetMirrorSync(kSite)->last_success, 5);
  EXPECT_EQ(Announcements("accepted").size(), 1u);
}

}  // namespace
}  // namespace refuge
