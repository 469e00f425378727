// TUF metadata: refuge-signed root checked by securesystemslib + PyNaCl, and metadata made
// entirely in Python (keys, key IDs, signatures) parsed and verified by refuge.
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/canonical_json.h"
#include "crypto/ed25519.h"
#include "crypto/sha256.h"
#include "interop/python_runner.h"
#include "support/temp_dir.h"
#include "tuf/metadata.h"

namespace refuge::interop {
namespace {

using refuge::testing::ReadTestFile;
using refuge::testing::TempDir;

constexpr const char* kTopLevelRoles[] = {tuf::kRoot, tuf::kTimestamp, tuf::kSnapshot,
                                          tuf::kTargets};

TEST(TufMetadataInteropTest, PythonVerifiesRefugeSignedRoot) {
  const uint64_t seed = InteropSeed();
  SCOPED_TRACE("REFUGE_INTEROP_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);

  // Three root keys (two generated, one from a seed), one key for each other role.
  std::vector<Ed25519PrivateKey> root_keys;
  for (int i = 0; i < 3; ++i) {
    std::string key_seed(32, '\0');
    for (char& c : key_seed) c = static_cast<char>(rng() & 0xff);
    auto key = i == 2 ? Ed25519PrivateKey::FromSeed(key_seed) : Ed25519PrivateKey::Generate();
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    root_keys.push_back(std::move(key).value());
  }
  std::map<std::string, std::vector<std::string>> role_keyids;
  Json keys = Json::object();
  for (const Ed25519PrivateKey& key : root_keys) {
    Json key_json = tuf::Ed25519KeyJson(key.PublicKey());
    role_keyids[tuf::kRoot].push_back(tuf::KeyIdOf(key_json));
    keys[tuf::KeyIdOf(key_json)] = key_json;
  }
  for (const char* role : {tuf::kTimestamp, tuf::kSnapshot, tuf::kTargets}) {
    auto key = Ed25519PrivateKey::Generate();
    ASSERT_TRUE(key.ok());
    Json key_json = tuf::Ed25519KeyJson(key->PublicKey());
    role_keyids[role].push_back(tuf::KeyIdOf(key_json));
    keys[tuf::KeyIdOf(key_json)] = key_json;
  }
  Json roles = Json::object();
  for (const char* role : kTopLevelRoles) {
    roles[role] = Json{{"keyids", role_keyids[role]},
                       {"threshold", std::string(role) == tuf::kRoot ? 2 : 1}};
  }
  const Json signed_json = {
      {"_type", tuf::kRoot},
      {"spec_version", tuf::kSpecVersion},
      {"version", 1},
      {"expires", "2030-01-01T00:00:00Z"},
      {"consistent_snapshot", true},
      {"keys", keys},
      {"roles", roles},
      // Signed bytes that canonicalization could get wrong: quotes, backslash, control
      // characters, non-ASCII on and off the BMP, and keys whose order depends on code points.
      {"x-refuge-note", "caf\xC3\xA9 \"q\" \\ \x01\x1f\n \xF0\x9F\x94\x90"},
      {"x-refuge-order", {{"\xEF\xBD\xA1", 1}, {"\xF0\x9F\x98\x80", 2}, {"Z", 3}, {"a", 4}}},
  };
  std::vector<tuf::Signer> signers;
  for (size_t i = 0; i < root_keys.size(); ++i) {
    signers.push_back({role_keyids[tuf::kRoot][i], &root_keys[i]});
  }
  auto bytes = tuf::SignMetadata(signed_json, signers);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();

  TempDir dir;
  refuge::testing::WriteTestFile(dir.Sub("root.json"), *bytes);
  ASSERT_TRUE(Succeeded(RunPythonScript("tuf_metadata_interop.py",
                                        {"verify-root", "--in", dir.Sub("root.json"), "--out",
                                         dir.Sub("summary.json")},
                                        dir.path())));
  auto summary = ReadJsonFile(dir.Sub("summary.json"));
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->at("valid_root_signatures"), 3);
  EXPECT_EQ(summary->at("root_threshold"), 2);
  EXPECT_EQ(summary->at("key_ids_checked"), 6);
  auto canonical = EncodeCanonical(signed_json);
  ASSERT_TRUE(canonical.ok());
  EXPECT_EQ(summary->at("canonical_hex").get<std::string>(), HexEncode(*canonical));
}

// Metadata made in Python: keys, key IDs, canonical bytes and signatures all come from
// securesystemslib and PyNaCl.
class PythonMadeMetadataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = InteropSeed();
    ASSERT_TRUE(Succeeded(RunPythonScript(
        "tuf_metadata_interop.py",
        {"make-root", "--seed", std::to_string(seed_), "--out-dir", dir_.path()}, dir_.path())));
    auto expected = ReadJsonFile(dir_.Sub("expected.json"));
    ASSERT_TRUE(expected.ok()) << expected.status().ToString();
    expected_ = std::move(expected).value();
  }

  std::string File(const std::string& name) const { return ReadTestFile(dir_.Sub(name)); }

  tuf::Root MustParseRoot(const std::string& name) const {
    auto root = tuf::ParseRoot(File(name));
    EXPECT_TRUE(root.ok()) << name << ": " << root.status().ToString();
    return root.ok() ? std::move(root).value() : tuf::Root{};
  }

  uint64_t seed_ = 0;
  TempDir dir_;
  Json expected_;
};

TEST_F(PythonMadeMetadataTest, RootParsesAndCanonicalBytesMatch) {
  SCOPED_TRACE("REFUGE_INTEROP_SEED=" + std::to_string(seed_));
  auto root = tuf::ParseRoot(File("root.json"));
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_EQ(HexEncode(root->envelope.signed_canonical),
            expected_.at("root_canonical_hex").get<std::string>());
  EXPECT_EQ(root->envelope.version, 1);
  EXPECT_TRUE(root->consistent_snapshot);
  EXPECT_EQ(root->keys.size(), 6u);
}

TEST_F(PythonMadeMetadataTest, KeyIdsComputedInPythonMatchKeyIdOf) {
  SCOPED_TRACE("REFUGE_INTEROP_SEED=" + std::to_string(seed_));
  tuf::Root root = MustParseRoot("root.json");
  ASSERT_EQ(root.keys.size(), 6u);
  for (const auto& [keyid, key] : root.keys) {
    EXPECT_EQ(tuf::KeyIdOf(key.json), keyid);
    EXPECT_EQ(tuf::KeyIdOf(tuf::Ed25519KeyJson(key.public_raw)), keyid);
    EXPECT_TRUE(key.CanVerify()) << keyid;
  }
  for (const char* role : kTopLevelRoles) {
    EXPECT_EQ(root.roles.at(role).keyids,
              expected_.at("keyids").at(role).get<std::vector<std::string>>())
        << role;
  }
}

TEST_F(PythonMadeMetadataTest, RootMeetsItsThreshold) {
  SCOPED_TRACE("REFUGE_INTEROP_SEED=" + std::to_string(seed_));
  tuf::Root root = MustParseRoot("root.json");
  ASSERT_EQ(root.roles.count(tuf::kRoot), 1u);
  Status s = tuf::VerifyThreshold(root.envelope, root.keys, root.roles.at(tuf::kRoot), tuf::kRoot);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(tuf::VerifyByRoot(root.envelope, root, tuf::kRoot).ok());
}

TEST_F(PythonMadeMetadataTest, RootFailsAHigherThreshold) {
  SCOPED_TRACE("REFUGE_INTEROP_SEED=" + std::to_string(seed_));
  tuf::Root root = MustParseRoot("root.json");
  ASSERT_EQ(root.roles.count(tuf::kRoot), 1u);
  // Two root keys signed (the timestamp key's signature must not count for root).
  tuf::RoleKeys stricter = root.roles.at(tuf::kRoot);
  stricter.threshold = 3;
  Status s = tuf::VerifyThreshold(root.envelope, root.keys, stricter, tuf::kRoot);
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed) << s.ToString();
}

TEST_F(PythonMadeMetadataTest, DuplicateAndForeignSignaturesDoNotReachTheThreshold) {
  SCOPED_TRACE("REFUGE_INTEROP_SEED=" + std::to_string(seed_));
  tuf::Root root = MustParseRoot("root_below_threshold.json");
  ASSERT_EQ(root.roles.count(tuf::kRoot), 1u);
  Status s = tuf::VerifyByRoot(root.envelope, root, tuf::kRoot);
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed) << s.ToString();
}

TEST_F(PythonMadeMetadataTest, TamperedRootFailsVerification) {
  SCOPED_TRACE("REFUGE_INTEROP_SEED=" + std::to_string(seed_));
  tuf::Root root = MustParseRoot("root_tampered.json");
  ASSERT_EQ(root.roles.count(tuf::kRoot), 1u);
  EXPECT_EQ(root.envelope.version, 2);
  Status s = tuf::VerifyByRoot(root.envelope, root, tuf::kRoot);
  EXPECT_EQ(s.code(), StatusCode::kVerificationFailed) << s.ToString();
}

TEST_F(PythonMadeMetadataTest, TimestampVerifiesWithTheTimestampRole) {
  SCOPED_TRACE("REFUGE_INTEROP_SEED=" + std::to_string(seed_));
  tuf::Root root = MustParseRoot("root.json");
  auto timestamp = tuf::ParseTimestamp(File("timestamp.json"));
  ASSERT_TRUE(timestamp.ok()) << timestamp.status().ToString();
  EXPECT_EQ(HexEncode(timestamp->envelope.signed_canonical),
            expected_.at("timestamp_canonical_hex").get<std::string>());
  EXPECT_EQ(timestamp->envelope.version, 7);
  EXPECT_EQ(timestamp->snapshot_meta.version, 3);
  Status s = tuf::VerifyByRoot(timestamp->envelope, root, tuf::kTimestamp);
  EXPECT_TRUE(s.ok()) << s.ToString();
  // Signed by the timestamp key only: not valid as, say, snapshot metadata.
  EXPECT_EQ(tuf::VerifyByRoot(timestamp->envelope, root, tuf::kSnapshot).code(),
            StatusCode::kVerificationFailed);
}

}  // namespace
}  // namespace refuge::interop
