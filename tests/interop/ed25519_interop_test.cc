// Ed25519: refuge (OpenSSL) against PyNaCl (libsodium), keys and signatures made at test time
// on each side.
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/ed25519.h"
#include "crypto/sha256.h"
#include "interop/python_runner.h"
#include "support/temp_dir.h"

namespace refuge::interop {
namespace {

using refuge::testing::TempDir;

constexpr int kVectorCount = 60;

struct PyNaClVector {
  std::string seed;
  std::string public_key;
  std::string message;
  std::string signature;
};

// Has PyNaCl make keys from seeds it picks, and sign messages with them.
std::optional<std::vector<PyNaClVector>> PyNaClSignatures(uint64_t seed) {
  TempDir dir;
  const std::string path = dir.Sub("pynacl_signatures.json");
  auto run = RunPythonScript("ed25519_interop.py",
                             {"sign", "--seed", std::to_string(seed), "--count",
                              std::to_string(kVectorCount), "--out", path},
                             dir.path());
  EXPECT_TRUE(Succeeded(run));
  auto json = ReadJsonFile(path);
  EXPECT_TRUE(json.ok()) << json.status().ToString();
  if (!run.spawn_error.empty() || run.exit_code != 0 || !json.ok()) return std::nullopt;
  std::vector<PyNaClVector> out;
  for (const Json& v : *json) {
    auto field = [&v](const char* name) { return Unhex(v.at(name).get<std::string>()); };
    out.push_back({field("seed"), field("public"), field("message"), field("signature")});
  }
  EXPECT_EQ(out.size(), static_cast<size_t>(kVectorCount));
  return out;
}

std::string FlipBit(std::string s, size_t byte) {
  s[byte] = static_cast<char>(s[byte] ^ 0x01);
  return s;
}

TEST(Ed25519InteropTest, RefugeVerifiesPyNaClSignatures) {
  const uint64_t seed = InteropSeed();
  SCOPED_TRACE("REFUGE_INTEROP_SEED=" + std::to_string(seed));
  auto vectors = PyNaClSignatures(seed);
  ASSERT_TRUE(vectors.has_value());
  for (size_t i = 0; i < vectors->size(); ++i) {
    const PyNaClVector& v = (*vectors)[i];
    EXPECT_TRUE(Ed25519Verify(v.public_key, v.message, v.signature))
        << "vector " << i << ": refuge rejects PyNaCl's signature of " << HexEncode(v.message);
  }
}

TEST(Ed25519InteropTest, RefugeRejectsTamperedPyNaClSignatures) {
  const uint64_t seed = InteropSeed();
  SCOPED_TRACE("REFUGE_INTEROP_SEED=" + std::to_string(seed));
  auto vectors = PyNaClSignatures(seed);
  ASSERT_TRUE(vectors.has_value());
  for (size_t i = 0; i < vectors->size(); ++i) {
    const PyNaClVector& v = (*vectors)[i];
    const PyNaClVector& other = (*vectors)[(i + 1) % vectors->size()];
    if (!v.message.empty()) {
      EXPECT_FALSE(Ed25519Verify(v.public_key, FlipBit(v.message, i % v.message.size()),
                                 v.signature))
          << "vector " << i << ": flipped message bit";
    }
    EXPECT_FALSE(Ed25519Verify(v.public_key, v.message + "x", v.signature)) << "vector " << i;
    EXPECT_FALSE(Ed25519Verify(v.public_key, v.message, FlipBit(v.signature, i % 64)))
        << "vector " << i << ": flipped signature bit";
    EXPECT_FALSE(Ed25519Verify(FlipBit(v.public_key, i % 32), v.message, v.signature))
        << "vector " << i << ": flipped key bit";
    EXPECT_FALSE(Ed25519Verify(other.public_key, v.message, v.signature))
        << "vector " << i << ": another key";
  }
}

TEST(Ed25519InteropTest, SeedDerivedPublicKeysMatchPyNaCl) {
  const uint64_t seed = InteropSeed();
  SCOPED_TRACE("REFUGE_INTEROP_SEED=" + std::to_string(seed));
  auto vectors = PyNaClSignatures(seed);
  ASSERT_TRUE(vectors.has_value());
  for (size_t i = 0; i < vectors->size(); ++i) {
    const PyNaClVector& v = (*vectors)[i];
    auto key = Ed25519PrivateKey::FromSeed(v.seed);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_EQ(HexEncode(key->PublicKey()), HexEncode(v.public_key)) << "seed " << HexEncode(v.seed);
  }
}

// Ed25519 is deterministic, so the same seed must give the same signature byte for byte.
TEST(Ed25519InteropTest, SeedDerivedSignaturesMatchPyNaClByteForByte) {
  const uint64_t seed = InteropSeed();
  SCOPED_TRACE("REFUGE_INTEROP_SEED=" + std::to_string(seed));
  auto vectors = PyNaClSignatures(seed);
  ASSERT_TRUE(vectors.has_value());
  for (size_t i = 0; i < vectors->size(); ++i) {
    const PyNaClVector& v = (*vectors)[i];
    auto key = Ed25519PrivateKey::FromSeed(v.seed);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_EQ(HexEncode(key->Sign(v.message)), HexEncode(v.signature))
        << "seed " << HexEncode(v.seed) << ", message " << HexEncode(v.message);
  }
}

TEST(Ed25519InteropTest, PyNaClVerifiesRefugeSignatures) {
  const uint64_t seed = InteropSeed();
  SCOPED_TRACE("REFUGE_INTEROP_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto random_bytes = [&rng](size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng() & 0xff);
    return s;
  };
  Json vectors = Json::array();
  for (int i = 0; i < kVectorCount; ++i) {
    // Half the keys are refuge's own (OpenSSL-generated), half come from seeds chosen here.
    auto key = i % 2 == 0 ? Ed25519PrivateKey::Generate()
                          : Ed25519PrivateKey::FromSeed(random_bytes(32));
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    const std::string message = random_bytes(i == 0 ? 0 : rng() % 2048 + 1);
    vectors.push_back(Json{{"public", HexEncode(key->PublicKey())},
                           {"message", HexEncode(message)},
                           {"signature", HexEncode(key->Sign(message))}});
  }
  TempDir dir;
  const std::string path = dir.Sub("refuge_signatures.json");
  WriteJsonFile(path, vectors);
  PythonRun run = RunPythonScript("ed25519_interop.py", {"verify", "--in", path}, dir.path());
  ASSERT_TRUE(Succeeded(run));
  EXPECT_EQ(run.stdout_text, "verified " + std::to_string(kVectorCount) + "\n");
}

}  // namespace
}  // namespace refuge::interop
