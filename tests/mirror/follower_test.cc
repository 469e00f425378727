// Follower (mirror/follower.h), the parts an event loop calls: hints and announcements are
// rate-limited per sender address (a burst, then a refill), the queues are bounded, and the
// table of senders is bounded too (it fails closed under a flood of new addresses). Also the
// JSON bodies of /.refuge/v1/status and /.refuge/v1/peers once started on a home.
#include "mirror/follower.h"

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "crypto/canonical_json.h"
#include "support/node_with_site.h"

namespace refuge::mirror {
namespace {

using Verdict = Follower::Verdict;

const std::string kSite = std::string(52, 'a');

Hint HintFor(int64_t version) { return Hint{kSite, version, ""}; }

AnnouncementRow AnnouncementFor(const std::string& key_id) {
  AnnouncementRow a;
  a.site_id = kSite;
  a.key_id = key_id;
  a.urls = {"http://a.example"};
  return a;
}

FollowerOptions Options(int burst, int64_t refill_ms) {
  FollowerOptions o;
  o.hint_burst = burst;
  o.hint_refill_ms = refill_ms;
  return o;
}

std::string Sender(int i) { return "10." + std::to_string(i / 65536 % 256) + "." +
                                   std::to_string(i / 256 % 256) + "." + std::to_string(i % 256); }

TEST(FollowerHintTest, BurstFromOneSenderThenRateLimited) {
  Follower follower(Options(20, 60'000));
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(follower.OfferHint(HintFor(i + 1), "192.0.2.1"), Verdict::kAccepted) << i;
  }
  EXPECT_EQ(follower.OfferHint(HintFor(21), "192.0.2.1"), Verdict::kRateLimited);
  EXPECT_EQ(follower.OfferHint(HintFor(22), "192.0.2.1"), Verdict::kRateLimited);
}

TEST(FollowerHintTest, RateLimitIsPerSender) {
  Follower follower(Options(2, 60'000));
  EXPECT_EQ(follower.OfferHint(HintFor(1), "192.0.2.1"), Verdict::kAccepted);
  EXPECT_EQ(follower.OfferHint(HintFor(2), "192.0.2.1"), Verdict::kAccepted);
  EXPECT_EQ(follower.OfferHint(HintFor(3), "192.0.2.1"), Verdict::kRateLimited);
  EXPECT_EQ(follower.OfferHint(HintFor(3), "192.0.2.2"), Verdict::kAccepted);
  EXPECT_EQ(follower.OfferHint(HintFor(3), "[2001:db8::1]"), Verdict::kAccepted);
}

TEST(FollowerHintTest, TokensRefillOverTime) {
  Follower follower(Options(2, 100));
  EXPECT_EQ(follower.OfferHint(HintFor(1), "192.0.2.1"), Verdict::kAccepted);
  EXPECT_EQ(follower.OfferHint(HintFor(2), "192.0.2.1"), Verdict::kAccepted);
  ASSERT_EQ(follower.OfferHint(HintFor(3), "192.0.2.1"), Verdict::kRateLimited);
  // The follower has no clock seam: wait for one refill period (and some margin).
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  EXPECT_EQ(follower.OfferHint(HintFor(4), "192.0.2.1"), Verdict::kAccepted);
}

TEST(FollowerHintTest, AnnouncementsShareTheSendersBucket) {
  Follower follower(Options(2, 60'000));
  EXPECT_EQ(follower.OfferHint(HintFor(1), "192.0.2.1"), Verdict::kAccepted);
  EXPECT_EQ(follower.OfferAnnouncement(AnnouncementFor("k1"), "192.0.2.1"), Verdict::kAccepted);
  EXPECT_EQ(follower.OfferAnnouncement(AnnouncementFor("k2"), "192.0.2.1"), Verdict::kRateLimited);
  EXPECT_EQ(follower.OfferHint(HintFor(2), "192.0.2.1"), Verdict::kRateLimited);
}

TEST(FollowerHintTest, HintQueueIsBounded) {
  Follower follower(Options(20, 60'000));  // not started: nothing drains the queue
  for (size_t i = 0; i < kMaxQueuedHints; ++i) {
    ASSERT_EQ(follower.OfferHint(HintFor(1), Sender(static_cast<int>(i))), Verdict::kAccepted) << i;
  }
  EXPECT_EQ(follower.OfferHint(HintFor(1), Sender(static_cast<int>(kMaxQueuedHints))), Verdict::kBusy);
  EXPECT_EQ(follower.OfferHint(HintFor(1), Sender(0)), Verdict::kBusy);
}

TEST(FollowerHintTest, AnnouncementQueueIsBounded) {
  Follower follower(Options(20, 60'000));
  for (size_t i = 0; i < kMaxQueuedAnnouncements; ++i) {
    ASSERT_EQ(follower.OfferAnnouncement(AnnouncementFor("k" + std::to_string(i)), Sender(static_cast<int>(i))),
              Verdict::kAccepted)
        << i;
  }
  EXPECT_EQ(follower.OfferAnnouncement(AnnouncementFor("late"), Sender(99'999)), Verdict::kBusy);
  // Hints have their own queue.
  EXPECT_EQ(follower.OfferHint(HintFor(1), Sender(99'998)), Verdict::kAccepted);
}

TEST(FollowerHintTest, FloodOfNewSenderAddressesFailsClosed) {
  Follower follower(Options(1, 60'000));
  for (size_t i = 0; i < kMaxTrackedSenders; ++i) {
    Verdict v = follower.OfferHint(HintFor(1), Sender(static_cast<int>(i)));
    ASSERT_NE(v, Verdict::kRateLimited) << "sender " << i << " was refused before the table was full";
  }
  // The table is full of senders whose bucket has not refilled: a new one is refused.
  EXPECT_EQ(follower.OfferHint(HintFor(1), Sender(static_cast<int>(kMaxTrackedSenders))), Verdict::kRateLimited);
}

// --- the JSON bodies, once started on a home -------------------------------------------------

class FollowerJsonTest : public refuge::testing::NodeWithSiteTest {};

TEST_F(FollowerJsonTest, BeforeStartTheBodiesAreEmpty) {
  Follower follower(FollowerOptions{});
  auto status = ParseJson(*follower.status_json());
  auto peers = ParseJson(*follower.peers_json());
  ASSERT_TRUE(status.ok() && peers.ok());
  EXPECT_TRUE((*status)["sites"].empty());
  EXPECT_TRUE((*peers)["sites"].empty());
}

TEST_F(FollowerJsonTest, VersionIsZeroUntilTheCatalogServesOne) {
  refuge::testing::WriteTestFile(source_.Sub("index.html"), "hello");
  ASSERT_TRUE(PublishSource().ok());
  FollowerOptions o;
  o.home_path = home_dir_.path();
  Follower follower(std::move(o));
  ASSERT_TRUE(follower.Start().ok());
  auto status = ParseJson(*follower.status_json());
  ASSERT_TRUE(status.ok());
  EXPECT_EQ((*status)["sites"][site_id_]["version"], 0);
  EXPECT_TRUE((*status)["node"]["urls"].empty());
  follower.Stop();
}

TEST_F(FollowerJsonTest, StatusAndPeersDescribeTheHomesSites) {
  refuge::testing::WriteTestFile(source_.Sub("index.html"), "hello");
  ASSERT_TRUE(PublishSource().ok());
  FollowerOptions o;
  o.home_path = home_dir_.path();
  o.public_urls = {"http://127.0.0.1:1"};
  o.refresh_interval_seconds = 600;
  Follower follower(std::move(o));
  ASSERT_TRUE(follower.Start().ok());
  // The version reported is the one the server's catalog serves, which the server tells.
  follower.CatalogServes({{site_id_, 1}});
  for (int i = 0; i < 500 && follower.status_json()->find("\"version\":1") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  auto status = ParseJson(*follower.status_json());
  ASSERT_TRUE(status.ok()) << *follower.status_json();
  EXPECT_EQ((*status)["node"]["urls"], Json::array({"http://127.0.0.1:1"}));
  ASSERT_TRUE((*status)["sites"].contains(site_id_)) << status->dump();
  const Json& site = (*status)["sites"][site_id_];
  EXPECT_EQ(site["version"], 1);
  EXPECT_EQ(site["origin"], true);
  EXPECT_EQ(site["site_blocked"], false);
  EXPECT_TRUE(site["blocked"].is_array());
  // Published with the fake clock (2023), so its 30-day timestamp has expired by now.
  EXPECT_EQ(site["stale_since"], clock_.NowSeconds() + 30 * kSecondsPerDay);

  auto peers = ParseJson(*follower.peers_json());
  ASSERT_TRUE(peers.ok());
  EXPECT_EQ((*peers)["sites"][site_id_], Json::array({"http://127.0.0.1:1"}));
  follower.Stop();
}

}  // namespace
}  // namespace refuge::mirror
