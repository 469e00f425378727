// SHA-256 against the FIPS 180-2 example vectors, plus the hex helpers and constant-time
// comparison that live beside it.
#include "crypto/sha256.h"

#include <string>

#include <gtest/gtest.h>

namespace refuge {
namespace {

TEST(Sha256Test, EmptyString) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256Test, Abc) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, TwoBlock448BitMessage) {
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, OneMillionA) {
  EXPECT_EQ(Sha256Hex(std::string(1'000'000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, StreamingInOddChunksEqualsOneShot) {
  std::string data;
  for (int i = 0; i < 10'007; ++i) data.push_back(static_cast<char>((i * 131 + 7) & 0xff));
  const Sha256Digest expected = Sha256Of(data);
  // Chunk sizes that straddle the 64-byte block boundary in every way, including empty updates.
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{7}, size_t{63}, size_t{64}, size_t{65},
                       size_t{127}, size_t{1000}}) {
    Sha256 hasher;
    hasher.Update("", 0);
    for (size_t pos = 0; pos < data.size(); pos += chunk) {
      hasher.Update(std::string_view(data).substr(pos, chunk));
    }
    EXPECT_EQ(HexEncode(hasher.Finish()), HexEncode(expected)) << "chunk size " << chunk;
  }
}

TEST(Sha256Test, FinishResetsTheHasherForReuse) {
  Sha256 hasher;
  hasher.Update("garbage that must not leak into the next digest");
  (void)hasher.Finish();
  hasher.Update("abc");
  EXPECT_EQ(HexEncode(hasher.Finish()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HexTest, EncodeIsLowercase) {
  const uint8_t bytes[] = {0x00, 0x0f, 0xab, 0xff};
  EXPECT_EQ(HexEncode(bytes, sizeof bytes), "000fabff");
}

TEST(HexTest, RoundTripOfEveryByteValue) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  auto decoded = HexDecode(HexEncode(all));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, all);
}

TEST(HexTest, DecodeAcceptsUppercase) {
  auto decoded = HexDecode("00FFaB");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, std::string("\x00\xff\xab", 3));
}

TEST(HexTest, DecodeRejectsOddLength) {
  auto decoded = HexDecode("abc");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
}

TEST(HexTest, DecodeRejectsNonHexCharacters) {
  for (const char* bad : {"0g", "g0", "  ", "0x", "-1", "zz"}) {
    EXPECT_FALSE(HexDecode(bad).ok()) << bad;
  }
  EXPECT_FALSE(HexDecode(std::string_view("0\0", 2)).ok());
}

TEST(HexTest, IsSha256HexWantsExactly64LowercaseHexDigits) {
  const std::string digest = Sha256Hex("abc");
  EXPECT_TRUE(IsSha256Hex(digest));
  EXPECT_FALSE(IsSha256Hex(digest.substr(1)));
  EXPECT_FALSE(IsSha256Hex(digest + "0"));
  std::string upper = digest;
  upper[0] = 'B';
  EXPECT_FALSE(IsSha256Hex(upper));
  std::string non_hex = digest;
  non_hex[10] = 'g';
  EXPECT_FALSE(IsSha256Hex(non_hex));
}

TEST(ConstantTimeEqualsTest, EqualAndUnequal) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("Secret", "secret"));
  EXPECT_TRUE(ConstantTimeEquals(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

TEST(ConstantTimeEqualsTest, DifferentLengthsAreUnequal) {
  EXPECT_FALSE(ConstantTimeEquals("secret", "secrets"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
}

}  // namespace
}  // namespace refuge
