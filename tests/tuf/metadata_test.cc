// TUF metadata: threshold counting, delegation path matching, length and hash checks.
#include "tuf/metadata.h"

#include <gtest/gtest.h>

#include "crypto/sha256.h"
#include "support/test_repository.h"

namespace refuge::tuf {
namespace {

using refuge::testing::TestKey;

struct Signed {
  Envelope envelope;
  std::map<std::string, Key> keys;
};

// An envelope signed by `signers` (key ID, key) and a key table listing `listed` (key ID, key).
Signed Make(const std::vector<std::pair<std::string, TestKey>>& signers,
            const std::vector<std::pair<std::string, TestKey>>& listed) {
  Json body{{"_type", "timestamp"},
            {"spec_version", kSpecVersion},
            {"version", 1},
            {"expires", "2030-01-01T00:00:00Z"},
            {"meta", Json{{"snapshot.json", Json{{"version", 1}}}}}};
  std::vector<Signer> s;
  for (const auto& [id, key] : signers) s.push_back({id, key.private_key.get()});
  auto bytes = SignMetadata(body, s);
  EXPECT_TRUE(bytes.ok());
  auto parsed = ParseTimestamp(*bytes);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  Signed out{parsed->envelope, {}};
  for (const auto& [id, key] : listed) {
    out.keys.emplace(id, Key{"ed25519", "ed25519", key.private_key->PublicKey(), key.public_json});
  }
  return out;
}

RoleKeys Role(std::vector<std::string> ids, int64_t threshold) {
  return RoleKeys{std::move(ids), threshold};
}

TEST(VerifyThresholdTest, CountsDistinctValidAuthorizedKeys) {
  TestKey a = TestKey::Generate(), b = TestKey::Generate();
  Signed s = Make({{a.keyid, a}, {b.keyid, b}}, {{a.keyid, a}, {b.keyid, b}});
  EXPECT_TRUE(VerifyThreshold(s.envelope, s.keys, Role({a.keyid, b.keyid}, 2), "t").ok());
  EXPECT_EQ(VerifyThreshold(s.envelope, s.keys, Role({a.keyid, b.keyid}, 3), "t").code(),
            StatusCode::kVerificationFailed);
  // A signature by a listed key that the role does not authorize does not count.
  EXPECT_EQ(VerifyThreshold(s.envelope, s.keys, Role({a.keyid}, 2), "t").code(),
            StatusCode::kVerificationFailed);
}

TEST(VerifyThresholdTest, SameKeySigningTwiceCountsOnce) {
  TestKey a = TestKey::Generate(), b = TestKey::Generate();
  Signed s = Make({{a.keyid, a}, {a.keyid, a}}, {{a.keyid, a}, {b.keyid, b}});
  EXPECT_EQ(VerifyThreshold(s.envelope, s.keys, Role({a.keyid, b.keyid}, 2), "t").code(),
            StatusCode::kVerificationFailed);
  EXPECT_TRUE(VerifyThreshold(s.envelope, s.keys, Role({a.keyid, b.keyid}, 1), "t").ok());
}

TEST(VerifyThresholdTest, TwoKeyIdsForOnePublicKeyCountOnce) {
  TestKey a = TestKey::Generate();
  const std::string alias(64, 'f');
  Signed s = Make({{a.keyid, a}, {alias, a}}, {{a.keyid, a}, {alias, a}});
  EXPECT_EQ(VerifyThreshold(s.envelope, s.keys, Role({a.keyid, alias}, 2), "t").code(),
            StatusCode::kVerificationFailed);
  EXPECT_TRUE(VerifyThreshold(s.envelope, s.keys, Role({a.keyid, alias}, 1), "t").ok());
}

TEST(VerifyThresholdTest, InvalidSignatureBeforeAValidOneOfTheSameKeyDoesNotHide) {
  TestKey a = TestKey::Generate(), b = TestKey::Generate();
  Signed s = Make({{a.keyid, b}, {a.keyid, a}}, {{a.keyid, a}});  // first "a" signature is b's
  EXPECT_TRUE(VerifyThreshold(s.envelope, s.keys, Role({a.keyid}, 1), "t").ok());
}

TEST(VerifyThresholdTest, SignatureOverOtherBytesFails) {
  TestKey a = TestKey::Generate();
  Signed s = Make({{a.keyid, a}}, {{a.keyid, a}});
  s.envelope.signed_canonical += " ";
  EXPECT_EQ(VerifyThreshold(s.envelope, s.keys, Role({a.keyid}, 1), "t").code(),
            StatusCode::kVerificationFailed);
}

DelegatedRole WithPaths(std::vector<std::string> paths) {
  DelegatedRole r;
  r.name = "r";
  r.paths = std::move(paths);
  return r;
}

TEST(DelegatedPathTest, StarDoesNotCrossASlash) {
  DelegatedRole r = WithPaths({"files/*"});
  EXPECT_TRUE(r.IsDelegatedPath("files/a"));
  EXPECT_FALSE(r.IsDelegatedPath("files/a/b"));
  EXPECT_FALSE(r.IsDelegatedPath("files"));
  EXPECT_FALSE(r.IsDelegatedPath("other/a"));
}

TEST(DelegatedPathTest, SuffixPatternMatchesOnlyTopLevelNames) {
  DelegatedRole r = WithPaths({"*.txt"});
  EXPECT_TRUE(r.IsDelegatedPath("a.txt"));
  EXPECT_TRUE(r.IsDelegatedPath(".txt"));
  EXPECT_FALSE(r.IsDelegatedPath("dir/a.txt"));
  EXPECT_FALSE(r.IsDelegatedPath("a.txt.gz"));
}

TEST(DelegatedPathTest, QuestionMarkIsOneCharacter) {
  DelegatedRole r = WithPaths({"v?/file"});
  EXPECT_TRUE(r.IsDelegatedPath("v1/file"));
  EXPECT_FALSE(r.IsDelegatedPath("v10/file"));
  EXPECT_FALSE(r.IsDelegatedPath("v/file"));
}

// python-tuf matches with Python's fnmatch: code points, not bytes, and independent of the
// process locale; a backslash is an ordinary character; "[!...]" negates, "[^...]" does not.
TEST(DelegatedPathTest, QuestionMarkMatchesOneNonAsciiCharacter) {
  DelegatedRole r = WithPaths({"caf?.txt"});
  EXPECT_TRUE(r.IsDelegatedPath("caf\u00e9.txt"));
  EXPECT_FALSE(WithPaths({"caf??.txt"}).IsDelegatedPath("caf\u00e9.txt"));
  EXPECT_TRUE(WithPaths({"?"}).IsDelegatedPath("\u20ac"));
}

TEST(DelegatedPathTest, BracketsFollowPythonFnmatch) {
  EXPECT_TRUE(WithPaths({"[ab].txt"}).IsDelegatedPath("a.txt"));
  EXPECT_FALSE(WithPaths({"[ab].txt"}).IsDelegatedPath("c.txt"));
  EXPECT_TRUE(WithPaths({"[!ab].txt"}).IsDelegatedPath("c.txt"));
  EXPECT_FALSE(WithPaths({"[!ab].txt"}).IsDelegatedPath("a.txt"));
  EXPECT_TRUE(WithPaths({"v[0-9]"}).IsDelegatedPath("v7"));
  EXPECT_FALSE(WithPaths({"v[0-9]"}).IsDelegatedPath("vx"));
  EXPECT_TRUE(WithPaths({"[a-]"}).IsDelegatedPath("-"));
  EXPECT_TRUE(WithPaths({"[]]"}).IsDelegatedPath("]"));
  EXPECT_FALSE(WithPaths({"[z-a]"}).IsDelegatedPath("m"));
  // Not a negation in Python: '^' is a member.
  EXPECT_TRUE(WithPaths({"[^a]"}).IsDelegatedPath("^"));
  EXPECT_FALSE(WithPaths({"[^a]"}).IsDelegatedPath("b"));
  // An unclosed bracket is literal.
  EXPECT_TRUE(WithPaths({"a[b"}).IsDelegatedPath("a[b"));
  EXPECT_TRUE(WithPaths({"[\u00e9]"}).IsDelegatedPath("\u00e9"));
}

TEST(DelegatedPathTest, BackslashIsAnOrdinaryCharacter) {
  EXPECT_TRUE(WithPaths({"a\\*"}).IsDelegatedPath("a\\bc"));
  EXPECT_FALSE(WithPaths({"a\\*"}).IsDelegatedPath("a*"));
}

TEST(DelegatedPathTest, StarBacktracks) {
  EXPECT_TRUE(WithPaths({"*a*b*c"}).IsDelegatedPath("xxaxxbxxabc"));
  EXPECT_FALSE(WithPaths({"*a*b*c"}).IsDelegatedPath("xxaxxbxxab"));
  EXPECT_TRUE(WithPaths({"*"}).IsDelegatedPath(""));
  EXPECT_TRUE(WithPaths({"**"}).IsDelegatedPath("abc"));
}

TEST(DelegatedPathTest, HashPrefixes) {
  DelegatedRole r;
  r.name = "r";
  r.path_hash_prefixes = std::vector<std::string>{Sha256Hex("a.txt").substr(0, 4)};
  EXPECT_TRUE(r.IsDelegatedPath("a.txt"));
  // Find a name whose hash starts differently.
  std::string other = "b0";
  for (int i = 0; Sha256Hex(other).compare(0, 4, *r.path_hash_prefixes->begin()) == 0; ++i) {
    other = "b" + std::to_string(i);
  }
  EXPECT_FALSE(r.IsDelegatedPath(other));
}

// The header promises that sha512 is understood: a wrong sha512 fails even next to a right
// sha256, and a right sha512 alone is enough.
TEST(CheckLengthAndHashesTest, ChecksSha512) {
  const std::string data = "data";
  const std::string sha512 =
      "77c7ce9a5d86bb386d443bb96390faa120633158699c8844c30b13ab0bf92760b7e4416aea397db91b4ac0e5dd56b8"
      "ef7e4b066162ab1fdc088319ce6defc876";
  EXPECT_TRUE(CheckLengthAndHashes(data, 4, {{"sha512", sha512}}, "x").ok());
  EXPECT_TRUE(
      CheckLengthAndHashes(data, 4, {{"sha256", Sha256Hex(data)}, {"sha512", sha512}}, "x").ok());
  std::string wrong = sha512;
  wrong[0] = '8';
  EXPECT_EQ(CheckLengthAndHashes(data, 4, {{"sha256", Sha256Hex(data)}, {"sha512", wrong}}, "x")
                .code(),
            StatusCode::kVerificationFailed);
  EXPECT_EQ(CheckLengthAndHashes(data, 4, {{"sha512", wrong}}, "x").code(),
            StatusCode::kVerificationFailed);
}

TEST(CheckLengthAndHashesTest, ChecksLengthAndSha256) {
  const std::string data = "data";
  const std::map<std::string, std::string> ok{{"sha256", Sha256Hex(data)}};
  EXPECT_TRUE(CheckLengthAndHashes(data, 4, ok, "x").ok());
  EXPECT_TRUE(CheckLengthAndHashes(data, std::nullopt, {}, "x").ok());
  EXPECT_EQ(CheckLengthAndHashes(data, 5, ok, "x").code(), StatusCode::kVerificationFailed);
  EXPECT_EQ(CheckLengthAndHashes("datb", 4, ok, "x").code(), StatusCode::kVerificationFailed);
  EXPECT_EQ(CheckLengthAndHashes(data, 4, {{"md5", "00"}}, "x").code(),
            StatusCode::kVerificationFailed);
}

TEST(MetadataParseTest, WrongTypeIsCorruption) {
  TestKey a = TestKey::Generate();
  auto bytes = SignMetadata(Json{{"_type", "snapshot"},
                                 {"spec_version", kSpecVersion},
                                 {"version", 1},
                                 {"expires", "2030-01-01T00:00:00Z"},
                                 {"meta", Json{{"targets.json", Json{{"version", 1}}}}}},
                            {a.signer()});
  ASSERT_TRUE(bytes.ok());
  EXPECT_TRUE(ParseSnapshot(*bytes).ok());
  EXPECT_EQ(ParseTimestamp(*bytes).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(ParseTargets(*bytes).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace refuge::tuf
