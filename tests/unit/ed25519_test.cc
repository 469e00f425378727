// Ed25519 keys, signatures and key files, checked against RFC 8032 section 7.1 (test 1).
#include "crypto/ed25519.h"

#include <sys/stat.h>

#include <string>

#include <gtest/gtest.h>

#include "crypto/sha256.h"
#include "support/temp_dir.h"

namespace refuge {
namespace {

using refuge::testing::ReadTestFile;
using refuge::testing::TempDir;
using refuge::testing::WriteTestFile;

// RFC 8032, 7.1, TEST 1: a 32-byte seed, its public key, and the signature of the empty message.
constexpr char kRfcSeedHex[] = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr char kRfcPublicHex[] =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
constexpr char kRfcSignatureHex[] =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b4"
    "6bd25bf5f0595bbe24655141438e7a100b";

std::string Unhex(const char* hex) {
  auto bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? bytes.value() : std::string();
}

Ed25519PrivateKey MustGenerate() {
  auto key = Ed25519PrivateKey::Generate();
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return std::move(key).value();
}

std::string FlipBit(std::string s, size_t byte, int bit) {
  s[byte] = static_cast<char>(s[byte] ^ (1 << bit));
  return s;
}

mode_t FileMode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(Ed25519Test, Rfc8032Test1PublicKeyFromSeed) {
  auto key = Ed25519PrivateKey::FromSeed(Unhex(kRfcSeedHex));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(HexEncode(key->PublicKey()), kRfcPublicHex);
}

TEST(Ed25519Test, Rfc8032Test1SignatureOfEmptyMessage) {
  auto key = Ed25519PrivateKey::FromSeed(Unhex(kRfcSeedHex));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(HexEncode(key->Sign("")), kRfcSignatureHex);
}

TEST(Ed25519Test, Rfc8032Test1SignatureVerifies) {
  EXPECT_TRUE(Ed25519Verify(Unhex(kRfcPublicHex), "", Unhex(kRfcSignatureHex)));
}

TEST(Ed25519Test, FromSeedRejectsWrongSeedSize) {
  EXPECT_EQ(Ed25519PrivateKey::FromSeed(std::string(31, 'x')).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Ed25519PrivateKey::FromSeed(std::string(33, 'x')).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(Ed25519PrivateKey::FromSeed("").ok());
}

TEST(Ed25519Test, SignThenVerify) {
  Ed25519PrivateKey key = MustGenerate();
  const std::string message = "{\"signed\":{\"version\":1}}";
  const std::string sig = key.Sign(message);
  EXPECT_EQ(sig.size(), kEd25519SignatureBytes);
  EXPECT_EQ(key.PublicKey().size(), kEd25519PublicKeyBytes);
  EXPECT_TRUE(Ed25519Verify(key.PublicKey(), message, sig));
}

TEST(Ed25519Test, GeneratedKeysDiffer) {
  EXPECT_NE(MustGenerate().PublicKey(), MustGenerate().PublicKey());
}

TEST(Ed25519Test, VerifyRejectsFlippedBitInMessage) {
  Ed25519PrivateKey key = MustGenerate();
  const std::string message = "publication 42";
  const std::string sig = key.Sign(message);
  for (size_t i = 0; i < message.size(); ++i) {
    EXPECT_FALSE(Ed25519Verify(key.PublicKey(), FlipBit(message, i, static_cast<int>(i % 8)), sig))
        << "byte " << i;
  }
  EXPECT_FALSE(Ed25519Verify(key.PublicKey(), message + "\n", sig));
  EXPECT_FALSE(Ed25519Verify(key.PublicKey(), "", sig));
}

TEST(Ed25519Test, VerifyRejectsFlippedBitInSignature) {
  Ed25519PrivateKey key = MustGenerate();
  const std::string message = "publication 42";
  const std::string sig = key.Sign(message);
  for (size_t i = 0; i < sig.size(); ++i) {
    EXPECT_FALSE(Ed25519Verify(key.PublicKey(), message, FlipBit(sig, i, static_cast<int>(i % 8))))
        << "byte " << i;
  }
}

TEST(Ed25519Test, VerifyRejectsFlippedBitInPublicKey) {
  Ed25519PrivateKey key = MustGenerate();
  const std::string message = "publication 42";
  const std::string sig = key.Sign(message);
  for (size_t i = 0; i < kEd25519PublicKeyBytes; ++i) {
    EXPECT_FALSE(
        Ed25519Verify(FlipBit(key.PublicKey(), i, static_cast<int>(i % 8)), message, sig))
        << "byte " << i;
  }
}

TEST(Ed25519Test, VerifyRejectsAnotherKeysSignature) {
  Ed25519PrivateKey a = MustGenerate();
  Ed25519PrivateKey b = MustGenerate();
  EXPECT_FALSE(Ed25519Verify(b.PublicKey(), "m", a.Sign("m")));
}

TEST(Ed25519Test, VerifyRejectsWrongSizes) {
  Ed25519PrivateKey key = MustGenerate();
  const std::string pub = key.PublicKey();
  const std::string sig = key.Sign("m");
  EXPECT_FALSE(Ed25519Verify(pub.substr(0, 31), "m", sig));
  EXPECT_FALSE(Ed25519Verify(pub + '\0', "m", sig));
  EXPECT_FALSE(Ed25519Verify("", "m", sig));
  EXPECT_FALSE(Ed25519Verify(pub, "m", sig.substr(0, 63)));
  EXPECT_FALSE(Ed25519Verify(pub, "m", sig + '\0'));
  EXPECT_FALSE(Ed25519Verify(pub, "m", ""));
}

TEST(Ed25519Test, PemRoundTripKeepsTheKey) {
  Ed25519PrivateKey key = MustGenerate();
  const std::string pem = key.ToPem();
  EXPECT_NE(pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos) << pem;
  auto again = Ed25519PrivateKey::FromPem(pem);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->PublicKey(), key.PublicKey());
  // Ed25519 is deterministic: the same key signs the same message identically.
  EXPECT_EQ(again->Sign("message"), key.Sign("message"));
  EXPECT_EQ(again->ToPem(), pem);
}

TEST(Ed25519Test, FromPemRejectsGarbage) {
  EXPECT_FALSE(Ed25519PrivateKey::FromPem("").ok());
  EXPECT_FALSE(Ed25519PrivateKey::FromPem("not a key").ok());
  std::string pem = MustGenerate().ToPem();
  pem.resize(pem.size() / 2);
  EXPECT_FALSE(Ed25519PrivateKey::FromPem(pem).ok());
}

TEST(Ed25519Test, SaveWritesMode0600AndLoadReadsItBack) {
  TempDir dir;
  const std::string path = dir.Sub("root.key");
  Ed25519PrivateKey key = MustGenerate();
  ASSERT_TRUE(key.Save(path).ok());
  EXPECT_EQ(FileMode(path), 0600u);
  auto loaded = Ed25519PrivateKey::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->PublicKey(), key.PublicKey());
}

TEST(Ed25519Test, SaveRefusesToOverwrite) {
  TempDir dir;
  const std::string path = dir.Sub("root.key");
  WriteTestFile(path, "precious");
  Status s = MustGenerate().Save(path);
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
  EXPECT_EQ(ReadTestFile(path), "precious");
}

TEST(Ed25519Test, LoadRefusesKeyFileReadableByOthers) {
  TempDir dir;
  const std::string path = dir.Sub("root.key");
  Ed25519PrivateKey key = MustGenerate();
  ASSERT_TRUE(key.Save(path).ok());
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto loaded = Ed25519PrivateKey::Load(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("chmod"), std::string::npos)
      << loaded.status().message();
  EXPECT_NE(loaded.status().message().find(path), std::string::npos)
      << loaded.status().message();
}

TEST(Ed25519Test, LoadOfMissingFileIsNotFound) {
  TempDir dir;
  EXPECT_EQ(Ed25519PrivateKey::Load(dir.Sub("absent.key")).status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace refuge
