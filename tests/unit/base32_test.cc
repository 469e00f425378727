// Base32 as refuge writes site IDs: the RFC 4648 alphabet, lowercase, without padding.
#include "crypto/base32.h"

#include <string>

#include <gtest/gtest.h>

#include "crypto/sha256.h"

namespace refuge {
namespace {

// RFC 4648 section 10, lowercased and with the "=" padding removed.
struct Vector {
  const char* plain;
  const char* encoded;
};
constexpr Vector kRfc4648Vectors[] = {
    {"", ""},           {"f", "my"},         {"fo", "mzxq"},          {"foo", "mzxw6"},
    {"foob", "mzxw6yq"}, {"fooba", "mzxw6ytb"}, {"foobar", "mzxw6ytboi"},
};

TEST(Base32Test, EncodesRfc4648Vectors) {
  for (const Vector& v : kRfc4648Vectors) {
    EXPECT_EQ(Base32Encode(v.plain), v.encoded) << "\"" << v.plain << "\"";
  }
}

TEST(Base32Test, DecodesRfc4648Vectors) {
  for (const Vector& v : kRfc4648Vectors) {
    auto decoded = Base32Decode(v.encoded);
    ASSERT_TRUE(decoded.ok()) << v.encoded << ": " << decoded.status().ToString();
    EXPECT_EQ(*decoded, v.plain) << v.encoded;
  }
}

TEST(Base32Test, RoundTripOfAllByteValuesAtEveryLength) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(255 - i));
  for (size_t len = 0; len <= 40; ++len) {
    const std::string prefix = bytes.substr(0, len);
    auto decoded = Base32Decode(Base32Encode(prefix));
    ASSERT_TRUE(decoded.ok()) << "length " << len;
    EXPECT_EQ(*decoded, prefix) << "length " << len;
  }
  auto all = Base32Decode(Base32Encode(bytes));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, bytes);
}

TEST(Base32Test, DecodeAcceptsUppercase) {
  auto decoded = Base32Decode("MZXW6YTBOI");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, "foobar");
  auto mixed = Base32Decode("MzXw6YtBoI");
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(*mixed, "foobar");
}

TEST(Base32Test, DecodeRejectsInvalidCharacters) {
  // '0', '1', '8', '9' are not in the alphabet; padding is never written.
  for (const char* bad : {"my=", "mzx1", "m0", "mzxw8yq", "mzxw6yt9", "my======", "m y", "mz-q"}) {
    EXPECT_FALSE(Base32Decode(bad).ok()) << bad;
  }
  EXPECT_FALSE(Base32Decode("m\xc3\xbc").ok());
}

TEST(Base32Test, DecodeRejectsImpossibleLengths) {
  // 1, 3 and 6 characters (mod 8) are lengths no whole number of bytes encodes to.
  for (const char* bad : {"m", "mzx", "mzxw6y", "mzxw6ytbm", "mzxw6ytbmzx"}) {
    auto decoded = Base32Decode(bad);
    EXPECT_FALSE(decoded.ok()) << bad;
  }
}

TEST(Base32Test, DecodeRejectsNonZeroPaddingBits) {
  // "my" is "f"; "mz" carries the same byte plus a 1 in the two unused trailing bits.
  EXPECT_TRUE(Base32Decode("my").ok());
  EXPECT_FALSE(Base32Decode("mz").ok());
  EXPECT_FALSE(Base32Decode("mzxr").ok());       // "fo" + a set padding bit
  EXPECT_FALSE(Base32Decode("mzxw6ytbop").ok());  // "foobar" + set padding bits
}

TEST(Base32Test, DigestEncodesTo52Characters) {
  const std::string digest_bytes = [] {
    Sha256Digest d = Sha256Of("1.root.json");
    return std::string(d.begin(), d.end());
  }();
  const std::string site_id = Base32Encode(digest_bytes);
  EXPECT_EQ(site_id.size(), 52u);
  for (char c : site_id) {
    EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) << site_id;
  }
  auto decoded = Base32Decode(site_id);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, digest_bytes);
}

}  // namespace
}  // namespace refuge
