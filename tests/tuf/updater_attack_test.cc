// The attack battery: a deliberately malicious repository, served over HTTP on loopback,
// against the real Updater and the real HTTP fetcher. Each test checks that the update fails
// with the right code AND that the client's trusted metadata is byte-for-byte as it was
// (except files the spec says must be written before the failing step, named explicitly).
//
// Spec references are to the TUF specification 1.0.x, section 5 (the client workflow).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <set>

#include "common/limits.h"
#include "crypto/sha256.h"
#include "support/test_repository.h"
#include "tuf/updater.h"

namespace refuge::tuf {
namespace {

using refuge::testing::EditMetadata;
using refuge::testing::ReadTestFile;
using refuge::testing::SignWith;
using refuge::testing::TestKey;
using refuge::testing::TestRepository;
using refuge::testing::TufTest;
using refuge::testing::WriteTestFile;
using Files = std::map<std::string, std::string>;
using Names = std::set<std::string>;

class UpdaterAttackTest : public TufTest {
 protected:
  // Publishes the repository as configured, trusts root v1 and refreshes once.
  void Baseline() {
    repo_.PublishRoot();
    repo_.Publish();
    InitClient();
    Status s = Refresh();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // A new release: timestamp, snapshot and top-level targets one version up.
  void NextRelease() {
    for (const char* r : {kTimestamp, kSnapshot, kTargets}) ++repo_.role(r).version;
    repo_.Publish();
  }

  // The trusted files whose bytes differ from `before` (added, removed or changed).
  Names Changed(const Files& before) const {
    Files after = Trusted();
    Names changed;
    for (const auto& [name, bytes] : before) {
      auto it = after.find(name);
      if (it == after.end() || it->second != bytes) changed.insert(name);
    }
    for (const auto& [name, bytes] : after) {
      if (!before.count(name)) changed.insert(name);
    }
    return changed;
  }

  void ExpectDownloadDirEmpty() {
    EXPECT_TRUE(std::filesystem::is_empty(download_dir()))
        << "a download left a file behind";
  }

  Result<TargetFile> Lookup(const std::string& path, int max_delegations = 0) {
    auto u = NewUpdater(0, max_delegations);
    if (!u) return Internal("no updater");
    return u->GetTargetInfo(path);
  }
};

// Refresh must fail with `code` and leave every trusted file as it was, except `allowed`.
#define EXPECT_REFRESH_REJECTED(expected_code, allowed)                 \
  do {                                                                  \
    const Files before_ = Trusted();                                    \
    const Status status_ = Refresh();                                   \
    EXPECT_EQ(status_.code(), expected_code) << status_.ToString();     \
    EXPECT_EQ(Changed(before_), (allowed)) << status_.ToString();       \
  } while (0)

const Names kNothing;

// --- Rollback (5.3.6, 5.4.3, 5.5.5, 5.6.4) -----------------------------------------------------

TEST_F(UpdaterAttackTest, TimestampVersionRollbackIsRefused) {
  repo_.role(kTimestamp).version = 2;
  Baseline();
  repo_.role(kTimestamp).version = 1;  // a replayed older timestamp, validly signed
  repo_.PublishTimestamp();
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, kNothing);
}

TEST_F(UpdaterAttackTest, TimestampNamingAnOlderSnapshotIsRefused) {
  Baseline();
  NextRelease();  // timestamp 2 -> snapshot 2
  ASSERT_TRUE(Refresh().ok());
  Json ts = repo_.TimestampSigned();
  ts["version"] = 3;
  ts["meta"]["snapshot.json"]["version"] = 1;
  repo_.WriteMetadata("timestamp.json", SignWith(ts, repo_.role(kTimestamp).keys));
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, kNothing);
}

TEST_F(UpdaterAttackTest, SnapshotWithALowerVersionThanTimestampNamesIsRefused) {
  repo_.timestamp_meta_hashes = false;  // so that only the version check can catch it
  Baseline();
  NextRelease();
  ASSERT_TRUE(Refresh().ok());
  const std::string old_snapshot = repo_.Published(kSnapshot);  // version 2
  NextRelease();
  repo_.WriteMetadata("3.snapshot.json", old_snapshot);
  // The new timestamp is genuine and is kept (5.4.5); the snapshot is not.
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, Names{"timestamp.json"});
  EXPECT_EQ(Trusted()["timestamp.json"], repo_.Published(kTimestamp));
}

TEST_F(UpdaterAttackTest, SnapshotDroppingTargetsJsonIsRefused) {
  Baseline();
  ++repo_.role(kSnapshot).version;
  ++repo_.role(kTimestamp).version;
  Json snap = repo_.SnapshotSigned();
  snap["meta"].erase("targets.json");
  repo_.WriteMetadata(repo_.CurrentFileName(kSnapshot),
                      SignWith(snap, repo_.role(kSnapshot).keys));
  repo_.timestamp_meta_hashes = false;
  repo_.PublishTimestamp();
  EXPECT_REFRESH_REJECTED(StatusCode::kCorruption, Names{"timestamp.json"});
}

TEST_F(UpdaterAttackTest, SnapshotDroppingADelegatedRoleIsRefused) {
  repo_.AddDelegation(kTargets, "role-a");
  Baseline();
  ++repo_.role(kSnapshot).version;
  ++repo_.role(kTimestamp).version;
  Json snap = repo_.SnapshotSigned();
  ASSERT_EQ(snap["meta"].erase("role-a.json"), 1u);
  repo_.WriteMetadata(repo_.CurrentFileName(kSnapshot),
                      SignWith(snap, repo_.role(kSnapshot).keys));
  repo_.timestamp_meta_hashes = false;
  repo_.PublishTimestamp();
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, Names{"timestamp.json"});
}

TEST_F(UpdaterAttackTest, SnapshotLoweringAListedVersionIsRefused) {
  repo_.AddDelegation(kTargets, "role-a").version = 2;
  Baseline();
  ++repo_.role(kSnapshot).version;
  ++repo_.role(kTimestamp).version;
  Json snap = repo_.SnapshotSigned();
  snap["meta"]["role-a.json"]["version"] = 1;
  repo_.WriteMetadata(repo_.CurrentFileName(kSnapshot),
                      SignWith(snap, repo_.role(kSnapshot).keys));
  repo_.timestamp_meta_hashes = false;
  repo_.PublishTimestamp();
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, Names{"timestamp.json"});
}

TEST_F(UpdaterAttackTest, TargetsVersionNotMatchingSnapshotIsRefused) {
  repo_.consistent_snapshot = false;
  Baseline();
  const std::string old_targets = repo_.Published(kTargets);  // version 1
  NextRelease();
  repo_.WriteMetadata("targets.json", old_targets);  // the mirror serves a stale targets.json
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed,
                          (Names{"timestamp.json", "snapshot.json"}));
}

TEST_F(UpdaterAttackTest, RootFileCarryingAnotherVersionIsRefused) {
  Baseline();
  Json root = repo_.RootSigned();
  root["version"] = 3;  // served as 2.root.json, signed by the genuine root key
  repo_.WriteMetadata("2.root.json", SignWith(root, repo_.role(kRoot).keys));
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, kNothing);
}

TEST_F(UpdaterAttackTest, RootReplayedAsTheNextVersionIsRefused) {
  Baseline();
  repo_.WriteMetadata("2.root.json", repo_.RootBytes(1));
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, kNothing);
}

// --- Freeze (5.3.10, 5.4.4, 5.5.6, 5.6.5) -------------------------------------------------------

TEST_F(UpdaterAttackTest, ExpiredRootIsRefused) {
  repo_.role(kRoot).expires = kNow + 10 * kDay;
  Baseline();
  clock_.Set(kNow + 11 * kDay);
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, kNothing);
}

TEST_F(UpdaterAttackTest, ExpiredTimestampIsRefused) {
  repo_.role(kTimestamp).expires = kNow + kDay;
  Baseline();
  clock_.Set(kNow + kDay);  // "expires" is the first second that is too late
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, kNothing);
}

TEST_F(UpdaterAttackTest, ExpiredSnapshotIsRefused) {
  repo_.role(kSnapshot).expires = kNow + kDay;
  Baseline();
  clock_.Set(kNow + 2 * kDay);
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, kNothing);
}

TEST_F(UpdaterAttackTest, ExpiredTargetsIsRefused) {
  repo_.role(kTargets).expires = kNow + kDay;
  Baseline();
  clock_.Set(kNow + 2 * kDay);
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, kNothing);
}

TEST_F(UpdaterAttackTest, ExpiredDelegatedTargetsIsRefused) {
  repo_.AddDelegation(kTargets, "role-a").expires = kNow + kDay;
  repo_.AddTarget("a.txt", "a", "role-a");
  Baseline();
  ASSERT_TRUE(Lookup("a.txt").ok());
  clock_.Set(kNow + 2 * kDay);
  const Files before = Trusted();
  auto u = NewUpdater();
  ASSERT_TRUE(u);
  ASSERT_TRUE(u->Refresh().ok());  // the top-level roles are still fresh
  auto info = u->GetTargetInfo("a.txt");
  EXPECT_EQ(info.status().code(), StatusCode::kVerificationFailed) << info.status().ToString();
  EXPECT_EQ(Changed(before), kNothing);
}

TEST_F(UpdaterAttackTest, ExpiredIntermediateRootIsWalkedThrough) {
  // Only the final root must be fresh (5.3.10): version 2 expired, version 3 fresh.
  Baseline();
  repo_.role(kRoot).version = 2;
  repo_.role(kRoot).expires = kNow - kDay;
  repo_.PublishRoot();
  repo_.role(kRoot).version = 3;
  repo_.role(kRoot).expires = kNow + 30 * kDay;
  repo_.PublishRoot();
  Status s = Refresh();
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Trusted()["root.json"], repo_.RootBytes(3));
}

TEST_F(UpdaterAttackTest, ExpiredTrustedTimestampIsReplacedByAFreshOne) {
  repo_.role(kTimestamp).expires = kNow + kDay;
  Baseline();
  clock_.Set(kNow + 2 * kDay);
  repo_.role(kTimestamp).version = 2;
  repo_.role(kTimestamp).expires = kNow + 30 * kDay;
  repo_.PublishTimestamp();
  Status s = Refresh();
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Trusted()["timestamp.json"], repo_.Published(kTimestamp));
}

// --- Mix-and-match (5.5.2, 5.5.4, 5.6.2) ---------------------------------------------------------

TEST_F(UpdaterAttackTest, SnapshotNotMatchingTimestampHashIsRefused) {
  Baseline();
  NextRelease();
  // Another validly signed snapshot of the same version and the same length.
  Json snap = repo_.SnapshotSigned();
  snap["expires"] = FormatUtc(repo_.role(kSnapshot).expires - 1);
  std::string other = SignWith(snap, repo_.role(kSnapshot).keys);
  ASSERT_EQ(other.size(), repo_.Published(kSnapshot).size());
  repo_.WriteMetadata(repo_.CurrentFileName(kSnapshot), other);
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, Names{"timestamp.json"});
}

TEST_F(UpdaterAttackTest, SnapshotNotMatchingTimestampSha512IsRefused) {
  Baseline();
  NextRelease();
  // The timestamp signs a right sha256 and a wrong sha512: every hash it signs must match.
  Json ts = repo_.TimestampSigned();
  ts["meta"]["snapshot.json"]["hashes"]["sha512"] = std::string(128, 'a');
  repo_.WriteMetadata("timestamp.json", SignWith(ts, repo_.role(kTimestamp).keys));
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, Names{"timestamp.json"});
}

TEST_F(UpdaterAttackTest, SnapshotShorterThanTimestampLengthIsRefused) {
  Baseline();
  repo_.role(kTargets).version = 10;
  ++repo_.role(kSnapshot).version;
  ++repo_.role(kTimestamp).version;
  repo_.Publish();
  // A validly signed snapshot of the named version, one byte shorter ("9" for "10").
  Json snap = repo_.SnapshotSigned();
  snap["meta"]["targets.json"]["version"] = 9;
  std::string shorter = SignWith(snap, repo_.role(kSnapshot).keys);
  ASSERT_EQ(shorter.size() + 1, repo_.Published(kSnapshot).size());
  repo_.WriteMetadata(repo_.CurrentFileName(kSnapshot), shorter);
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, Names{"timestamp.json"});
}

TEST_F(UpdaterAttackTest, TargetsNotMatchingSnapshotHashIsRefused) {
  repo_.snapshot_meta_hashes = true;
  Baseline();
  NextRelease();
  Json targets = repo_.TargetsSigned(kTargets);
  targets["expires"] = FormatUtc(repo_.role(kTargets).expires - 1);
  std::string other = SignWith(targets, repo_.role(kTargets).keys);
  ASSERT_EQ(other.size(), repo_.Published(kTargets).size());
  repo_.WriteMetadata(repo_.CurrentFileName(kTargets), other);
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed,
                          (Names{"timestamp.json", "snapshot.json"}));
}

TEST_F(UpdaterAttackTest, TargetsShorterThanSnapshotLengthIsRefused) {
  repo_.snapshot_meta_hashes = true;
  repo_.AddTarget("a.txt", "a");
  Baseline();
  repo_.AddTarget("b.txt", "b");
  NextRelease();
  // A validly signed targets of the named version that leaves b.txt out.
  Json targets = repo_.TargetsSigned(kTargets);
  targets["targets"].erase("b.txt");
  repo_.WriteMetadata(repo_.CurrentFileName(kTargets),
                      SignWith(targets, repo_.role(kTargets).keys));
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed,
                          (Names{"timestamp.json", "snapshot.json"}));
}

TEST_F(UpdaterAttackTest, SnapshotVersionOtherThanTimestampNamesIsRefused) {
  repo_.timestamp_meta_hashes = false;
  Baseline();
  NextRelease();  // timestamp 2 names snapshot 2 ...
  Json snap = repo_.SnapshotSigned();
  snap["version"] = 3;  // ... but 2.snapshot.json is a (validly signed) version 3
  repo_.WriteMetadata("2.snapshot.json", SignWith(snap, repo_.role(kSnapshot).keys));
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, Names{"timestamp.json"});
}

// --- Endless data (5.3.3, 5.4.1, 5.5.1, 5.7.2) -----------------------------------------------------

TEST_F(UpdaterAttackTest, EndlessTimestampStopsAtTheTimestampLimit) {
  Baseline();
  server_.ServeEndless("/metadata/timestamp.json");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_REFRESH_REJECTED(StatusCode::kTooLarge, kNothing);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // The client hung up long before the 100 MiB the server would have sent.
  for (const auto& r : server_.requests()) {
    if (r.path == "/metadata/timestamp.json") {
      EXPECT_LT(r.body_bytes, uint64_t{16} << 20);
    }
  }
}

TEST_F(UpdaterAttackTest, TimestampOneByteOverTheLimitIsTooLarge) {
  Baseline();
  NextRelease();
  Json ts = repo_.TimestampSigned();
  ts["padding"] = "";  // an unknown field: allowed, and covered by the signature
  std::string bytes = SignWith(ts, repo_.role(kTimestamp).keys);
  ts["padding"] = std::string(limits::kMaxTimestampBytes + 1 - bytes.size(), 'x');
  bytes = SignWith(ts, repo_.role(kTimestamp).keys);
  ASSERT_EQ(bytes.size(), limits::kMaxTimestampBytes + 1);
  repo_.WriteMetadata("timestamp.json", bytes);
  EXPECT_REFRESH_REJECTED(StatusCode::kTooLarge, kNothing);
}

TEST_F(UpdaterAttackTest, EndlessRootStopsAtTheRootLimit) {
  Baseline();
  server_.ServeEndless("/metadata/2.root.json");
  EXPECT_REFRESH_REJECTED(StatusCode::kTooLarge, kNothing);
}

TEST_F(UpdaterAttackTest, EndlessSnapshotStopsAtTheLengthTimestampSigned) {
  Baseline();
  NextRelease();
  server_.ServeEndless("/metadata/2.snapshot.json");
  EXPECT_REFRESH_REJECTED(StatusCode::kTooLarge, Names{"timestamp.json"});
}

TEST_F(UpdaterAttackTest, SnapshotLongerThanTimestampLengthIsTooLarge) {
  Baseline();
  NextRelease();
  repo_.WriteMetadata("2.snapshot.json", repo_.Published(kSnapshot) + "\n");
  EXPECT_REFRESH_REJECTED(StatusCode::kTooLarge, Names{"timestamp.json"});
}

TEST_F(UpdaterAttackTest, TargetsLongerThanSnapshotLengthIsTooLarge) {
  repo_.snapshot_meta_hashes = true;
  Baseline();
  NextRelease();
  repo_.WriteMetadata("2.targets.json", repo_.Published(kTargets) + "\n");
  EXPECT_REFRESH_REJECTED(StatusCode::kTooLarge, (Names{"timestamp.json", "snapshot.json"}));
}

TEST_F(UpdaterAttackTest, EndlessTargetsMetadataStopsAtTheLengthSnapshotSigned) {
  repo_.snapshot_meta_hashes = true;
  Baseline();
  NextRelease();
  server_.ServeEndless("/metadata/2.targets.json");
  EXPECT_REFRESH_REJECTED(StatusCode::kTooLarge, (Names{"timestamp.json", "snapshot.json"}));
}

class TargetDownloadAttackTest : public UpdaterAttackTest {
 protected:
  static constexpr char kContents[] = "the genuine target contents\n";

  void SetUp() override {
    repo_.AddTarget("file.txt", kContents);
    Baseline();
    updater_ = NewUpdater();
    ASSERT_TRUE(updater_);
    auto info = updater_->GetTargetInfo("file.txt");
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    info_ = *info;
    served_file_ = repo_.TargetFilePath("file.txt", kContents);
    url_path_ = served_file_.substr(served_.path().size());
    trusted_before_ = Trusted();
  }

  // No download attack touches the trusted metadata.
  void TearDown() override { EXPECT_EQ(Changed(trusted_before_), kNothing); }

  Status Download() {
    return updater_->DownloadTarget(info_, "file.txt", download_dir() + "/file.txt");
  }

  std::unique_ptr<Updater> updater_;
  TargetFile info_;
  std::string served_file_;
  std::string url_path_;
  Files trusted_before_;
};

TEST_F(TargetDownloadAttackTest, GenuineTargetDownloads) {
  ASSERT_TRUE(Download().ok());
  EXPECT_EQ(ReadTestFile(download_dir() + "/file.txt"), kContents);
}

TEST_F(TargetDownloadAttackTest, EndlessTargetStopsAtTheSignedLength) {
  server_.ServeEndless(url_path_);
  Status s = Download();
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed) << s.ToString();
  ExpectDownloadDirEmpty();
  ASSERT_EQ(server_.CountRequests(url_path_), 1);
  EXPECT_LT(server_.requests().back().body_bytes, uint64_t{16} << 20);
}

TEST_F(TargetDownloadAttackTest, TargetLongerThanSignedLengthIsRefused) {
  WriteTestFile(served_file_, std::string(kContents) + "and a payload\n");
  Status s = Download();
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed) << s.ToString();
  ExpectDownloadDirEmpty();
}

TEST_F(TargetDownloadAttackTest, TargetShorterThanSignedLengthIsRefused) {
  WriteTestFile(served_file_, std::string(kContents).substr(1));
  Status s = Download();
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed) << s.ToString();
  ExpectDownloadDirEmpty();
}

TEST_F(TargetDownloadAttackTest, TargetWithWrongHashIsRefused) {
  std::string evil = kContents;
  evil[0] = 'T';
  WriteTestFile(served_file_, evil);
  Status s = Download();
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed) << s.ToString();
  ExpectDownloadDirEmpty();
}

TEST_F(TargetDownloadAttackTest, FailedDownloadKeepsThePreviousFile) {
  ASSERT_TRUE(Download().ok());
  WriteTestFile(served_file_, std::string(sizeof kContents - 1, 'X'));
  EXPECT_EQ(Download().code(), StatusCode::kVerificationFailed);
  EXPECT_EQ(ReadTestFile(download_dir() + "/file.txt"), kContents);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(download_dir()),
                          std::filesystem::directory_iterator()),
            1);
}

// --- Signatures (5.3.5, 5.4.2, 5.5.3, 5.6.3) ---------------------------------------------------

TEST_F(UpdaterAttackTest, FlippedSignatureBitIsRefused) {
  Baseline();
  NextRelease();
  repo_.WriteMetadata("timestamp.json",
                      EditMetadata(repo_.Published(kTimestamp), [](Json& doc) {
                        std::string sig = doc["signatures"][0]["sig"];
                        sig[10] = sig[10] == '0' ? '1' : '0';
                        doc["signatures"][0]["sig"] = sig;
                      }));
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, kNothing);
}

TEST_F(UpdaterAttackTest, SignedContentChangedAfterSigningIsRefused) {
  Baseline();
  NextRelease();
  repo_.WriteMetadata("timestamp.json", EditMetadata(repo_.Published(kTimestamp), [](Json& doc) {
                        doc["signed"]["expires"] = "2099-01-01T00:00:00Z";
                      }));
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, kNothing);
}

TEST_F(UpdaterAttackTest, MissingSignaturesAreRefused) {
  Baseline();
  NextRelease();
  repo_.WriteMetadata("timestamp.json", SignWith(repo_.TimestampSigned(), {}));
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, kNothing);
}

TEST_F(UpdaterAttackTest, SignatureByAnUnauthorizedKeyIsRefused) {
  Baseline();
  NextRelease();
  // Signed by the snapshot key: a key root lists, but not for the timestamp role.
  repo_.WriteMetadata("timestamp.json",
                      SignWith(repo_.TimestampSigned(), repo_.role(kSnapshot).keys));
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, kNothing);
}

TEST_F(UpdaterAttackTest, SignatureByAnUnknownKeyIsRefused) {
  Baseline();
  NextRelease();
  repo_.WriteMetadata("timestamp.json", SignWith(repo_.TimestampSigned(), {TestKey::Generate()}));
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, kNothing);
}

TEST_F(UpdaterAttackTest, SignaturesBelowThresholdAreRefused) {
  repo_.role(kSnapshot).keys = {TestKey::Generate(), TestKey::Generate()};
  repo_.role(kSnapshot).threshold = 2;
  Baseline();
  ++repo_.role(kSnapshot).version;
  ++repo_.role(kTimestamp).version;
  repo_.role(kSnapshot).signers = {repo_.role(kSnapshot).keys[0]};
  repo_.Publish();
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, Names{"timestamp.json"});
}

TEST_F(UpdaterAttackTest, SameKeySigningTwiceCountsOnce) {
  repo_.role(kTimestamp).keys = {TestKey::Generate(), TestKey::Generate()};
  repo_.role(kTimestamp).threshold = 2;
  Baseline();
  NextRelease();
  const TestKey& k = repo_.role(kTimestamp).keys[0];
  repo_.WriteMetadata("timestamp.json", SignWith(repo_.TimestampSigned(), {k, k}));
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, kNothing);
}

TEST_F(UpdaterAttackTest, TwoKeyIdsForTheSamePublicKeyCountOnce) {
  // Root lists one timestamp public key under two key IDs, with threshold 2.
  const TestKey k = TestKey::Generate();
  const std::string alias = Sha256Hex("alias of " + k.keyid);
  repo_.role(kTimestamp).keys = {k};
  Json root = repo_.RootSigned();
  root["keys"][alias] = k.public_json;
  root["roles"]["timestamp"] = Json{{"keyids", {k.keyid, alias}}, {"threshold", 2}};
  repo_.WriteMetadata("1.root.json", SignWith(root, repo_.role(kRoot).keys));
  repo_.Publish();
  InitClient();
  Json ts = repo_.TimestampSigned();
  auto bytes = SignMetadata(ts, {k.signer(), Signer{alias, k.private_key.get()}});
  ASSERT_TRUE(bytes.ok());
  repo_.WriteMetadata("timestamp.json", *bytes);
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, kNothing);
}

// --- Fast-forward attack and recovery (5.3.11) --------------------------------------------------

class FastForwardTest : public UpdaterAttackTest {
 protected:
  // An attacker holding the timestamp and snapshot keys publishes version 1000 of both.
  void SetUp() override {
    Baseline();
    repo_.role(kTimestamp).version = 1000;
    repo_.role(kSnapshot).version = 1000;
    repo_.Publish();
    Status s = Refresh();
    ASSERT_TRUE(s.ok()) << s.ToString();  // nothing tells the client it is an attack
    ASSERT_EQ(Trusted()["timestamp.json"], repo_.Published(kTimestamp));
  }

  // The publisher takes back control and republishes low versions.
  void Republish(bool rotate_keys) {
    if (rotate_keys) {
      repo_.role(kTimestamp).keys = {TestKey::Generate()};
      repo_.role(kSnapshot).keys = {TestKey::Generate()};
      repo_.role(kRoot).version = 2;
      repo_.PublishRoot();
    }
    repo_.role(kTimestamp).version = 2;
    repo_.role(kSnapshot).version = 2;
    repo_.Publish();
  }
};

TEST_F(FastForwardTest, LowVersionsAreRefusedWithoutAKeyRotation) {
  Republish(/*rotate_keys=*/false);
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, kNothing);
}

TEST_F(FastForwardTest, RotatingTimestampAndSnapshotKeysRecovers) {
  Republish(/*rotate_keys=*/true);
  auto u = NewUpdater();
  ASSERT_TRUE(u);
  Status s = u->Refresh();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(u->trusted_root().envelope.version, 2);
  EXPECT_EQ(u->trusted_timestamp()->envelope.version, 2);
  EXPECT_EQ(u->trusted_snapshot()->envelope.version, 2);
  EXPECT_EQ(Trusted()["timestamp.json"], repo_.Published(kTimestamp));
  EXPECT_EQ(Trusted()["snapshot.json"], repo_.Published(kSnapshot));
}

TEST_F(FastForwardTest, AnyChangeOfTheTimestampAndSnapshotKeysForgetsTheirTrustedFiles) {
  // 5.3.11 deletes the trusted timestamp and snapshot on a rotation, even one that keeps the
  // old keys (under which the fast-forwarded files would still verify).
  repo_.role(kTimestamp).keys.push_back(TestKey::Generate());
  repo_.role(kSnapshot).keys.push_back(TestKey::Generate());
  repo_.role(kRoot).version = 2;
  repo_.PublishRoot();
  repo_.role(kTimestamp).version = 2;
  repo_.role(kSnapshot).version = 2;
  repo_.Publish();
  Status s = Refresh();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Trusted()["timestamp.json"], repo_.Published(kTimestamp));
}

TEST_F(UpdaterAttackTest, FastForwardedTargetsVersionRecoversAfterSnapshotKeyRotation) {
  Baseline();
  // The attacker's snapshot claims targets.json version 1000, which does not exist.
  repo_.role(kTimestamp).version = 2;
  repo_.role(kSnapshot).version = 2;
  Json snap = repo_.SnapshotSigned();
  snap["meta"]["targets.json"]["version"] = 1000;
  repo_.WriteMetadata("2.snapshot.json", SignWith(snap, repo_.role(kSnapshot).keys));
  repo_.timestamp_meta_hashes = false;
  repo_.PublishTimestamp();
  EXPECT_FALSE(Refresh().ok());
  // Without a rotation the genuine snapshot (targets.json version 1) is a rollback ...
  repo_.role(kTimestamp).version = 3;
  repo_.role(kSnapshot).version = 3;
  repo_.Publish();
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, Names{"timestamp.json"});
  // ... and after the snapshot key is rotated, the client recovers.
  repo_.role(kSnapshot).keys = {TestKey::Generate()};
  repo_.role(kRoot).version = 2;
  repo_.PublishRoot();
  repo_.role(kTimestamp).version = 4;
  repo_.role(kSnapshot).version = 4;
  repo_.Publish();
  Status s = Refresh();
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Trusted()["snapshot.json"], repo_.Published(kSnapshot));
}

// --- Root rotation (5.3.2 to 5.3.9) ----------------------------------------------------------------

TEST_F(UpdaterAttackTest, RootKeyAddedIsFollowed) {
  Baseline();
  const TestKey old_key = repo_.role(kRoot).keys[0];
  const TestKey new_key = TestKey::Generate();
  repo_.role(kRoot).keys = {old_key, new_key};
  repo_.role(kRoot).version = 2;
  repo_.PublishRoot();
  // Version 3 signed by the added key alone (threshold 1 of {old, new}).
  repo_.role(kRoot).version = 3;
  repo_.WriteMetadata("3.root.json", SignWith(repo_.RootSigned(), {new_key}));
  auto u = NewUpdater();
  ASSERT_TRUE(u);
  ASSERT_TRUE(u->Refresh().ok());
  EXPECT_EQ(u->trusted_root().envelope.version, 3);
  EXPECT_EQ(Trusted()["root.json"], repo_.RootBytes(3));
}

TEST_F(UpdaterAttackTest, RemovedRootKeyCannotSignTheNextRoot) {
  Baseline();
  const TestKey old_key = repo_.role(kRoot).keys[0];
  repo_.role(kRoot).keys = {TestKey::Generate()};
  repo_.role(kRoot).version = 2;
  repo_.PublishRoot();  // signed by the old key and the new one
  ASSERT_TRUE(Refresh().ok());
  ASSERT_EQ(Trusted()["root.json"], repo_.RootBytes(2));
  // The removed key signs a version 3 that hands root back to it.
  repo_.role(kRoot).keys = {old_key};
  repo_.role(kRoot).version = 3;
  repo_.WriteMetadata("3.root.json", SignWith(repo_.RootSigned(), {old_key}));
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, kNothing);
}

TEST_F(UpdaterAttackTest, RaisedRootThresholdNeedsEnoughNewSignatures) {
  Baseline();
  const TestKey a = repo_.role(kRoot).keys[0];
  const TestKey b = TestKey::Generate();
  repo_.role(kRoot).keys = {a, b};
  repo_.role(kRoot).threshold = 2;
  repo_.role(kRoot).version = 2;
  // Signed by `a` only: enough for the old root (1 of {a}), too few for the new (2 of {a, b}).
  repo_.WriteMetadata("2.root.json", SignWith(repo_.RootSigned(), {a}));
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, kNothing);
  repo_.WriteMetadata("2.root.json", SignWith(repo_.RootSigned(), {a, b}));
  auto u = NewUpdater();
  ASSERT_TRUE(u);
  ASSERT_TRUE(u->Refresh().ok());
  EXPECT_EQ(u->trusted_root().envelope.version, 2);
}

TEST_F(UpdaterAttackTest, NewRootNotSignedByTheTrustedKeysIsRefused) {
  Baseline();
  const TestKey b = TestKey::Generate();
  repo_.role(kRoot).keys = {b};
  repo_.role(kRoot).version = 2;
  repo_.WriteMetadata("2.root.json", SignWith(repo_.RootSigned(), {b}));
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, kNothing);
}

TEST_F(UpdaterAttackTest, NewRootNotSignedByItsOwnKeysIsRefused) {
  Baseline();
  const TestKey a = repo_.role(kRoot).keys[0];
  repo_.role(kRoot).keys = {TestKey::Generate()};
  repo_.role(kRoot).version = 2;
  repo_.WriteMetadata("2.root.json", SignWith(repo_.RootSigned(), {a}));
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, kNothing);
}

class RootChainTest : public UpdaterAttackTest {
 protected:
  // Root versions 2, 3 and 4, each with entirely new root keys, each signed by the previous
  // root's keys and its own. Version 4 also rotates the timestamp key, so that only a client
  // that reached version 4 verifies the new timestamp.
  void SetUp() override {
    Baseline();
    for (int v = 2; v <= 4; ++v) {
      repo_.role(kRoot).keys = {TestKey::Generate()};
      if (v == 4) repo_.role(kTimestamp).keys = {TestKey::Generate()};
      repo_.role(kRoot).version = v;
      repo_.PublishRoot();
    }
    repo_.role(kTimestamp).version = 2;
    repo_.PublishTimestamp();
    server_.ClearRequests();
  }
};

TEST_F(RootChainTest, EveryIntermediateVersionIsWalkedInOrder) {
  auto u = NewUpdater();
  ASSERT_TRUE(u);
  Status s = u->Refresh();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(u->trusted_root().envelope.version, 4);
  EXPECT_EQ(Trusted()["root.json"], repo_.RootBytes(4));
  std::vector<std::string> roots;
  for (const auto& r : server_.requests()) {
    if (r.path.find(".root.json") != std::string::npos) roots.push_back(r.path);
  }
  EXPECT_EQ(roots, (std::vector<std::string>{"/metadata/2.root.json", "/metadata/3.root.json",
                                             "/metadata/4.root.json", "/metadata/5.root.json"}));
}

TEST_F(RootChainTest, AMissingIntermediateVersionCannotBeSkipped) {
  std::filesystem::remove(repo_.metadata_dir() + "/3.root.json");
  // The walk stops at 2 (verified, so kept: 5.3.8); the timestamp needs root 4's key.
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, Names{"root.json"});
  EXPECT_EQ(Trusted()["root.json"], repo_.RootBytes(2));
  EXPECT_EQ(server_.CountRequests("/metadata/4.root.json"), 0);
}

TEST_F(RootChainTest, ALaterVersionServedInPlaceOfAnIntermediateIsRefused) {
  repo_.WriteMetadata("3.root.json", repo_.RootBytes(4));
  EXPECT_REFRESH_REJECTED(StatusCode::kVerificationFailed, Names{"root.json"});
  EXPECT_EQ(Trusted()["root.json"], repo_.RootBytes(2));
}

TEST_F(UpdaterAttackTest, RootRotationsPerRefreshAreBounded) {
  Baseline();
  for (int v = 2; v <= 5; ++v) {
    repo_.role(kRoot).version = v;
    repo_.PublishRoot();
  }
  server_.ClearRequests();
  auto u = NewUpdater(/*max_root_rotations=*/2);
  ASSERT_TRUE(u);
  ASSERT_TRUE(u->Refresh().ok());
  EXPECT_EQ(u->trusted_root().envelope.version, 3);
  EXPECT_EQ(server_.CountRequests("/metadata/4.root.json"), 0);
  EXPECT_EQ(Trusted()["root.json"], repo_.RootBytes(3));
  // The next refresh goes on from there.
  auto next = NewUpdater(/*max_root_rotations=*/2);
  ASSERT_TRUE(next);
  ASSERT_TRUE(next->Refresh().ok());
  EXPECT_EQ(next->trusted_root().envelope.version, 5);
}

// --- Delegations (5.6.7) ------------------------------------------------------------------------

TEST_F(UpdaterAttackTest, FirstDelegationInOrderWins) {
  repo_.AddDelegation(kTargets, "first");
  repo_.AddDelegation(kTargets, "second");
  repo_.AddTarget("t.txt", "from first", "first");
  repo_.AddTarget("t.txt", "from second", "second");
  Baseline();
  auto info = Lookup("t.txt");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->hashes.at("sha256"), Sha256Hex("from first"));
  EXPECT_EQ(server_.CountRequests("/metadata/1.second.json"), 0);
}

TEST_F(UpdaterAttackTest, NestedDelegationIsSearchedBeforeALaterSibling) {
  repo_.AddDelegation(kTargets, "a");
  repo_.AddDelegation(kTargets, "b");
  repo_.AddDelegation("a", "a-child");
  repo_.AddTarget("t.txt", "from a-child", "a-child");
  repo_.AddTarget("t.txt", "from b", "b");
  Baseline();
  auto info = Lookup("t.txt");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->hashes.at("sha256"), Sha256Hex("from a-child"));
}

TEST_F(UpdaterAttackTest, TopLevelTargetsWinOverDelegations) {
  repo_.AddDelegation(kTargets, "a");
  repo_.AddTarget("t.txt", "from targets");
  repo_.AddTarget("t.txt", "from a", "a");
  Baseline();
  auto info = Lookup("t.txt");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->hashes.at("sha256"), Sha256Hex("from targets"));
}

TEST_F(UpdaterAttackTest, TerminatingDelegationStopsTheSearch) {
  repo_.AddDelegation(kTargets, "stop", {"*"}, /*terminating=*/true);
  repo_.AddDelegation(kTargets, "later");
  repo_.AddTarget("t.txt", "from later", "later");
  Baseline();
  EXPECT_EQ(Lookup("t.txt").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(server_.CountRequests("/metadata/1.later.json"), 0);
}

TEST_F(UpdaterAttackTest, NonTerminatingDelegationLetsTheSearchGoOn) {
  repo_.AddDelegation(kTargets, "go-on", {"*"}, /*terminating=*/false);
  repo_.AddDelegation(kTargets, "later");
  repo_.AddTarget("t.txt", "from later", "later");
  Baseline();
  auto info = Lookup("t.txt");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->hashes.at("sha256"), Sha256Hex("from later"));
}

TEST_F(UpdaterAttackTest, TerminatingDelegationOnlyStopsForPathsItMatches) {
  repo_.AddDelegation(kTargets, "stop", {"other/*"}, /*terminating=*/true);
  repo_.AddDelegation(kTargets, "later");
  repo_.AddTarget("t.txt", "from later", "later");
  Baseline();
  EXPECT_TRUE(Lookup("t.txt").ok());
  EXPECT_EQ(server_.CountRequests("/metadata/1.stop.json"), 0);
}

TEST_F(UpdaterAttackTest, StarPatternDoesNotCrossASlash) {
  repo_.AddDelegation(kTargets, "files", {"files/*"});
  repo_.AddTarget("files/a", "a", "files");
  repo_.AddTarget("files/a/b", "b", "files");  // listed, but outside the delegation
  Baseline();
  EXPECT_TRUE(Lookup("files/a").ok());
  EXPECT_EQ(Lookup("files/a/b").status().code(), StatusCode::kNotFound);
}

TEST_F(UpdaterAttackTest, SuffixPatternMatchesOneSegment) {
  repo_.AddDelegation(kTargets, "text", {"*.txt"});
  repo_.AddTarget("a.txt", "a", "text");
  repo_.AddTarget("dir/b.txt", "b", "text");
  repo_.AddTarget("c.bin", "c", "text");
  Baseline();
  EXPECT_TRUE(Lookup("a.txt").ok());
  EXPECT_EQ(Lookup("dir/b.txt").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Lookup("c.bin").status().code(), StatusCode::kNotFound);
}

TEST_F(UpdaterAttackTest, QuestionMarkPatternMatchesOneCharacter) {
  repo_.AddDelegation(kTargets, "v", {"v?.tar"});
  repo_.AddTarget("v1.tar", "1", "v");
  repo_.AddTarget("v10.tar", "10", "v");
  Baseline();
  EXPECT_TRUE(Lookup("v1.tar").ok());
  EXPECT_EQ(Lookup("v10.tar").status().code(), StatusCode::kNotFound);
}

TEST_F(UpdaterAttackTest, QuestionMarkPatternMatchesOneNonAsciiCharacter) {
  repo_.AddDelegation(kTargets, "cafe", {"caf?.txt"});
  repo_.AddTarget("caf\u00e9.txt", "e", "cafe");
  repo_.AddTarget("cafe\u0301.txt", "e + combining accent: two code points", "cafe");
  Baseline();
  EXPECT_TRUE(Lookup("caf\u00e9.txt").ok());
  EXPECT_EQ(Lookup("cafe\u0301.txt").status().code(), StatusCode::kNotFound);
}

TEST_F(UpdaterAttackTest, PathHashPrefixesSelectTargets) {
  // Two names whose SHA-256 hex starts with different characters.
  std::string in = "in.txt", out = "out0.txt";
  for (int i = 1; Sha256Hex(out)[0] == Sha256Hex(in)[0]; ++i) {
    out = "out" + std::to_string(i) + ".txt";
  }
  TestRepository::Role& bin = repo_.AddDelegation(kTargets, "bin");
  bin.paths.reset();
  bin.path_hash_prefixes = std::vector<std::string>{Sha256Hex(in).substr(0, 1)};
  repo_.AddTarget(in, "in", "bin");
  repo_.AddTarget(out, "out", "bin");
  Baseline();
  EXPECT_TRUE(Lookup(in).ok());
  EXPECT_EQ(Lookup(out).status().code(), StatusCode::kNotFound);
}

TEST_F(UpdaterAttackTest, DelegationsVisitedAreBounded) {
  // targets -> r1 -> r2 -> r3 -> r4, the target in r4: five roles to visit.
  std::string parent = kTargets;
  for (int i = 1; i <= 4; ++i) {
    std::string name = "r" + std::to_string(i);
    repo_.AddDelegation(parent, name);
    parent = name;
  }
  repo_.AddTarget("deep.txt", "deep", "r4");
  Baseline();
  auto limited = Lookup("deep.txt", /*max_delegations=*/4);
  EXPECT_EQ(limited.status().code(), StatusCode::kNotFound) << limited.status().ToString();
  EXPECT_EQ(server_.CountRequests("/metadata/1.r4.json"), 0);
  EXPECT_TRUE(Lookup("deep.txt", /*max_delegations=*/5).ok());
}

TEST_F(UpdaterAttackTest, DelegatedRoleSignedByTheWrongKeyIsRefused) {
  repo_.AddDelegation(kTargets, "a").signers = {TestKey::Generate()};
  repo_.AddTarget("t.txt", "t", "a");
  Baseline();
  const Files before = Trusted();
  auto info = Lookup("t.txt");
  EXPECT_EQ(info.status().code(), StatusCode::kVerificationFailed) << info.status().ToString();
  EXPECT_EQ(Changed(before), kNothing);
}

TEST_F(UpdaterAttackTest, DelegatedRoleSignedByTheTopLevelTargetsKeyIsRefused) {
  // The delegator's own key is not a key of the delegated role.
  repo_.AddDelegation(kTargets, "a").signers = repo_.role(kTargets).keys;
  repo_.AddTarget("t.txt", "t", "a");
  Baseline();
  const Files before = Trusted();
  EXPECT_EQ(Lookup("t.txt").status().code(), StatusCode::kVerificationFailed);
  EXPECT_EQ(Changed(before), kNothing);
}

TEST_F(UpdaterAttackTest, DelegatedRoleVersionNotMatchingSnapshotIsRefused) {
  repo_.consistent_snapshot = false;
  repo_.AddDelegation(kTargets, "a");
  repo_.AddTarget("t.txt", "t", "a");
  Baseline();
  ASSERT_TRUE(Lookup("t.txt").ok());
  const std::string old_a = repo_.Published("a");
  ++repo_.role("a").version;
  NextRelease();
  repo_.WriteMetadata("a.json", old_a);  // a stale mirror
  auto u = NewUpdater();
  ASSERT_TRUE(u);
  ASSERT_TRUE(u->Refresh().ok());
  const Files before = Trusted();
  EXPECT_EQ(u->GetTargetInfo("t.txt").status().code(), StatusCode::kVerificationFailed);
  EXPECT_EQ(Changed(before), kNothing);
}

}  // namespace
}  // namespace refuge::tuf
