// Announcements (mirror/announcement.h): a mirror's signed "I mirror site S at these URLs".
// Round trip, tampering with any signed field, the time window in both directions, malformed
// and oversized bodies, the URL bound, and the node key kept in the home.
#include "mirror/announcement.h"

#include <sys/stat.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/canonical_json.h"
#include "crypto/sha256.h"
#include "support/temp_dir.h"

namespace refuge::mirror {
namespace {

using refuge::testing::TempDir;

const std::string kSite = std::string(52, 'a');
const std::string kOtherSite = std::string(52, 'b');
constexpr int64_t kNow = 1'700'000'000;

Ed25519PrivateKey NewKey() {
  auto key = Ed25519PrivateKey::Generate();
  EXPECT_TRUE(key.ok());
  return std::move(key).value();
}

std::string Make(const Ed25519PrivateKey& key, const std::vector<std::string>& urls,
                 int64_t time = kNow, const std::string& site = kSite) {
  auto body = MakeAnnouncement(key, site, urls, time);
  EXPECT_TRUE(body.ok()) << body.status().ToString();
  return body.ok() ? *body : std::string();
}

// The body with `edit` applied to its parsed JSON, re-encoded (the signature is left as is).
std::string Edited(const std::string& body, const std::function<void(Json&)>& edit) {
  auto j = ParseJson(body);
  EXPECT_TRUE(j.ok());
  Json copy = *j;
  edit(copy);
  return copy.dump();
}

class AnnouncementTest : public ::testing::Test {
 protected:
  Ed25519PrivateKey key_ = NewKey();
  const std::vector<std::string> urls_ = {"http://203.0.113.7:8080", "https://mirror.example"};
};

// --- round trip ----------------------------------------------------------------------------

TEST_F(AnnouncementTest, MadeAnnouncementVerifies) {
  auto row = VerifyAnnouncement(Make(key_, urls_), kNow);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->site_id, kSite);
  EXPECT_EQ(row->urls, urls_);
  EXPECT_EQ(row->public_key, HexEncode(key_.PublicKey()));
  EXPECT_EQ(row->key_id, Sha256Hex(key_.PublicKey()));
  EXPECT_EQ(row->received_at, kNow);
  EXPECT_EQ(row->sender, "");  // left for the caller
  EXPECT_EQ(row->status, "");
}

TEST_F(AnnouncementTest, BodyIsCanonicalJsonWithTheDocumentedShape) {
  const std::string body = Make(key_, urls_);
  auto j = ParseJson(body);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(EncodeCanonical(*j).value(), body);
  EXPECT_EQ((*j)["signed"]["_type"], "announce");
  EXPECT_EQ((*j)["signed"]["site"], kSite);
  EXPECT_EQ((*j)["signed"]["time"], kNow);
  EXPECT_EQ((*j)["signed"]["key"], HexEncode(key_.PublicKey()));
  EXPECT_TRUE((*j)["signature"].is_string());
}

TEST_F(AnnouncementTest, UrlsAreNormalizedInTheRow) {
  auto row = VerifyAnnouncement(Make(key_, {"http://a.example:8080/"}), kNow);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->urls, std::vector<std::string>{"http://a.example:8080"});
}

TEST_F(AnnouncementTest, TwoKeysGiveTwoKeyIds) {
  Ed25519PrivateKey other = NewKey();
  auto a = VerifyAnnouncement(Make(key_, urls_), kNow);
  auto b = VerifyAnnouncement(Make(other, urls_), kNow);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->key_id, b->key_id);
}

// --- tampering -----------------------------------------------------------------------------

TEST_F(AnnouncementTest, TamperedUrlFailsVerification) {
  const std::string body = Edited(Make(key_, urls_), [](Json& j) {
    j["signed"]["urls"][0] = "http://198.51.100.66:8080";
  });
  auto row = VerifyAnnouncement(body, kNow);
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().code(), StatusCode::kVerificationFailed) << row.status().ToString();
}

TEST_F(AnnouncementTest, AddedUrlFailsVerification) {
  const std::string body = Edited(Make(key_, urls_), [](Json& j) {
    j["signed"]["urls"].push_back("http://198.51.100.66:8080");
  });
  auto row = VerifyAnnouncement(body, kNow);
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().code(), StatusCode::kVerificationFailed) << row.status().ToString();
}

TEST_F(AnnouncementTest, TamperedSiteFailsVerification) {
  const std::string body = Edited(Make(key_, urls_), [](Json& j) { j["signed"]["site"] = kOtherSite; });
  auto row = VerifyAnnouncement(body, kNow);
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().code(), StatusCode::kVerificationFailed) << row.status().ToString();
}

TEST_F(AnnouncementTest, SubstitutedKeyFailsVerification) {
  Ed25519PrivateKey other = NewKey();
  const std::string body = Edited(Make(key_, urls_), [&](Json& j) {
    j["signed"]["key"] = HexEncode(other.PublicKey());
  });
  auto row = VerifyAnnouncement(body, kNow);
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().code(), StatusCode::kVerificationFailed) << row.status().ToString();
}

TEST_F(AnnouncementTest, TamperedTimeFailsVerification) {
  const std::string body = Edited(Make(key_, urls_), [](Json& j) { j["signed"]["time"] = kNow + 1; });
  auto row = VerifyAnnouncement(body, kNow);
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().code(), StatusCode::kVerificationFailed) << row.status().ToString();
}

TEST_F(AnnouncementTest, SignatureOfAnotherAnnouncementFailsVerification) {
  const std::string other_body = Make(key_, {"http://other.example"});
  const std::string other_signature = ParseJson(other_body).value()["signature"];
  const std::string body = Edited(Make(key_, urls_), [&](Json& j) { j["signature"] = other_signature; });
  auto row = VerifyAnnouncement(body, kNow);
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().code(), StatusCode::kVerificationFailed) << row.status().ToString();
}

TEST_F(AnnouncementTest, FlippedSignatureBitFailsVerification) {
  const std::string body = Edited(Make(key_, urls_), [](Json& j) {
    std::string sig = j["signature"];
    sig[0] = sig[0] == '0' ? '1' : '0';
    j["signature"] = sig;
  });
  auto row = VerifyAnnouncement(body, kNow);
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().code(), StatusCode::kVerificationFailed) << row.status().ToString();
}

// --- time window ---------------------------------------------------------------------------

TEST_F(AnnouncementTest, TimeAtTheEdgesOfTheWindowIsAccepted) {
  EXPECT_TRUE(VerifyAnnouncement(Make(key_, urls_, kNow - kAnnounceMaxSkewSeconds), kNow).ok());
  EXPECT_TRUE(VerifyAnnouncement(Make(key_, urls_, kNow + kAnnounceMaxSkewSeconds), kNow).ok());
}

TEST_F(AnnouncementTest, AnnouncementFromTooLongAgoIsRefused) {
  auto row = VerifyAnnouncement(Make(key_, urls_, kNow - kAnnounceMaxSkewSeconds - 1), kNow);
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().code(), StatusCode::kVerificationFailed) << row.status().ToString();
}

TEST_F(AnnouncementTest, AnnouncementFromTooFarInTheFutureIsRefused) {
  auto row = VerifyAnnouncement(Make(key_, urls_, kNow + kAnnounceMaxSkewSeconds + 1), kNow);
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().code(), StatusCode::kVerificationFailed) << row.status().ToString();
}

TEST_F(AnnouncementTest, ExtremeTimesAreRefusedWithoutOverflow) {
  for (int64_t t : {INT64_MIN, INT64_MIN + 1, int64_t{-1}, int64_t{0}, INT64_MAX}) {
    auto row = VerifyAnnouncement(Make(key_, urls_, t), kNow);
    ASSERT_FALSE(row.ok()) << t;
    EXPECT_EQ(row.status().code(), StatusCode::kVerificationFailed) << t;
  }
}

// --- malformed and oversized bodies ------------------------------------------------------------

TEST_F(AnnouncementTest, MalformedBodiesAreRefusedAsInvalid) {
  const std::string good = Make(key_, urls_);
  std::vector<std::string> bodies = {
      "",
      "not json",
      "[]",
      "{}",
      "{\"signed\": {}}",
      "{\"signature\": \"00\"}",
      Edited(good, [](Json& j) { j["signed"] = "x"; }),
      Edited(good, [](Json& j) { j["signature"] = 5; }),
      Edited(good, [](Json& j) { j["signed"]["_type"] = "notify"; }),
      Edited(good, [](Json& j) { j["signed"].erase("_type"); }),
      Edited(good, [](Json& j) { j["signed"]["site"] = "not-a-site"; }),
      Edited(good, [](Json& j) { j["signed"]["site"] = std::string(52, 'A'); }),
      Edited(good, [](Json& j) { j["signed"].erase("site"); }),
      Edited(good, [](Json& j) { j["signed"].erase("key"); }),
      Edited(good, [](Json& j) { j["signed"]["key"] = "zz"; }),
      Edited(good, [](Json& j) { j["signed"]["key"] = std::string(62, 'a'); }),
      Edited(good, [](Json& j) { j["signed"].erase("time"); }),
      Edited(good, [](Json& j) { j["signed"]["time"] = "now"; }),
      Edited(good, [](Json& j) { j["signed"]["time"] = 1.5; }),
      Edited(good, [](Json& j) { j["signed"].erase("urls"); }),
      Edited(good, [](Json& j) { j["signed"]["urls"] = Json::array(); }),
      Edited(good, [](Json& j) { j["signed"]["urls"] = "http://a.example"; }),
      Edited(good, [](Json& j) { j["signature"] = "not hex"; }),
  };
  for (const std::string& body : bodies) {
    auto row = VerifyAnnouncement(body, kNow);
    ASSERT_FALSE(row.ok()) << "accepted: " << body;
    EXPECT_NE(row.status().code(), StatusCode::kOk);
  }
}

TEST_F(AnnouncementTest, SignedButUnusableUrlIsRefused) {
  for (const std::string url : {"ftp://a.example", "http://a.example/?q", "http://", "http://a b"}) {
    auto row = VerifyAnnouncement(Make(key_, {url}), kNow);
    ASSERT_FALSE(row.ok()) << "accepted URL " << url;
    EXPECT_EQ(row.status().code(), StatusCode::kInvalidArgument) << row.status().ToString();
  }
}

TEST_F(AnnouncementTest, SignedNonStringUrlIsRefused) {
  // Signed correctly by the key, so only the URL check can refuse it.
  Json signed_json{{"_type", "announce"}, {"site", kSite}, {"urls", Json::array({"http://a.example", 7})},
                   {"key", HexEncode(key_.PublicKey())}, {"time", kNow}};
  const std::string canonical = EncodeCanonical(signed_json).value();
  const std::string body =
      Json{{"signed", signed_json}, {"signature", HexEncode(key_.Sign(canonical))}}.dump();
  auto row = VerifyAnnouncement(body, kNow);
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().code(), StatusCode::kInvalidArgument) << row.status().ToString();
}

TEST_F(AnnouncementTest, MaximumNumberOfUrlsIsAccepted) {
  std::vector<std::string> urls;
  for (size_t i = 0; i < kMaxAnnouncedUrls; ++i) urls.push_back("http://m" + std::to_string(i) + ".example");
  auto row = VerifyAnnouncement(Make(key_, urls), kNow);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->urls.size(), kMaxAnnouncedUrls);
}

TEST_F(AnnouncementTest, TooManyUrlsAreRefused) {
  std::vector<std::string> urls;
  for (size_t i = 0; i <= kMaxAnnouncedUrls; ++i) urls.push_back("http://m" + std::to_string(i) + ".example");
  auto row = VerifyAnnouncement(Make(key_, urls), kNow);
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().code(), StatusCode::kInvalidArgument) << row.status().ToString();
}

TEST_F(AnnouncementTest, BodyLargerThanTheLimitIsRefusedBeforeParsing) {
  std::string body = Make(key_, urls_);
  body.append(kMaxAnnouncementBytes, ' ');  // still valid JSON, but too large
  auto row = VerifyAnnouncement(body, kNow);
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().code(), StatusCode::kTooLarge) << row.status().ToString();
}

// --- the node key ----------------------------------------------------------------------------

TEST(NodeKeyTest, CreatedOnFirstUseWithMode0600) {
  TempDir home(TempDir::Medium::kFast);
  const std::string path = home.path() + "/keys/node.pem";
  struct stat st {};
  ASSERT_NE(::stat(path.c_str(), &st), 0) << "no key before first use";
  auto key = LoadOrCreateNodeKey(home.path());
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  ASSERT_NE(*key, nullptr);
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST(NodeKeyTest, SameKeyOnReload) {
  TempDir home(TempDir::Medium::kFast);
  auto first = LoadOrCreateNodeKey(home.path());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const std::string pem_before = refuge::testing::ReadTestFile(home.path() + "/keys/node.pem");
  auto second = LoadOrCreateNodeKey(home.path());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ((*first)->PublicKey(), (*second)->PublicKey());
  EXPECT_EQ(refuge::testing::ReadTestFile(home.path() + "/keys/node.pem"), pem_before)
      << "the key file was rewritten";
}

TEST(NodeKeyTest, TwoHomesGetTwoKeys) {
  TempDir a(TempDir::Medium::kFast);
  TempDir b(TempDir::Medium::kFast);
  auto ka = LoadOrCreateNodeKey(a.path());
  auto kb = LoadOrCreateNodeKey(b.path());
  ASSERT_TRUE(ka.ok() && kb.ok());
  EXPECT_NE((*ka)->PublicKey(), (*kb)->PublicKey());
}

TEST(NodeKeyTest, KeyReadableByOthersIsRefused) {
  TempDir home(TempDir::Medium::kFast);
  ASSERT_TRUE(LoadOrCreateNodeKey(home.path()).ok());
  ASSERT_EQ(::chmod((home.path() + "/keys/node.pem").c_str(), 0644), 0);
  auto key = LoadOrCreateNodeKey(home.path());
  EXPECT_FALSE(key.ok()) << "a world-readable node key was used";
}

// The header promises that two processes racing to create the key agree on one ("the loser
// reads the winner's key"). Threads of one process race the same way.
TEST(NodeKeyTest, ConcurrentFirstUsesAgreeOnOneKey) {
  constexpr int kRounds = 100;
  constexpr int kThreads = 16;
  for (int round = 0; round < kRounds; ++round) {
    TempDir home(TempDir::Medium::kFast);
    std::atomic<bool> go{false};
    std::vector<std::string> keys(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        while (!go.load()) {
        }
        auto key = LoadOrCreateNodeKey(home.path());
        if (key.ok()) keys[i] = (*key)->PublicKey();
      });
    }
    go = true;
    for (auto& t : threads) t.join();
    auto on_disk = LoadOrCreateNodeKey(home.path());
    ASSERT_TRUE(on_disk.ok()) << on_disk.status().ToString();
    for (int i = 0; i < kThreads; ++i) {
      ASSERT_FALSE(keys[i].empty()) << "round " << round << ", thread " << i << " got no key";
      ASSERT_EQ(HexEncode(keys[i]), HexEncode((*on_disk)->PublicKey()))
          << "round " << round << ": thread " << i
          << " signs with a key that is not the one kept in keys/node.pem";
    }
  }
}

TEST(NodeKeyTest, ItsAnnouncementsVerify) {
  TempDir home(TempDir::Medium::kFast);
  auto key = LoadOrCreateNodeKey(home.path());
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  auto body = MakeAnnouncement(**key, kSite, {"http://a.example"}, kNow);
  ASSERT_TRUE(body.ok());
  auto row = VerifyAnnouncement(*body, kNow);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->public_key, HexEncode((*key)->PublicKey()));
}

}  // namespace
}  // namespace refuge::mirror
