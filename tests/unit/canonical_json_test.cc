// Canonical JSON (securesystemslib's encode_canonical) and the strict parser in front of it.
#include "crypto/canonical_json.h"

#include <cstdint>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "crypto/sha256.h"

namespace refuge {
namespace {

// Parses `text` strictly and returns its canonical encoding, or "<error: ...>".
std::string Canon(std::string_view text) {
  auto parsed = ParseJson(text);
  if (!parsed.ok()) return "<parse error: " + parsed.status().message() + ">";
  auto encoded = EncodeCanonical(*parsed);
  if (!encoded.ok()) return "<encode error: " + encoded.status().message() + ">";
  return encoded.value();
}

std::string Nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(CanonicalJsonTest, SortsAsciiKeys) {
  EXPECT_EQ(Canon(R"({"b":1,"a":2,"B":3,"_":4,"aa":5})"), R"({"B":3,"_":4,"a":2,"aa":5,"b":1})");
}

TEST(CanonicalJsonTest, SortsKeysByCodePointIncludingNonAscii) {
  // U+00E9, U+FF61 (BMP, above the surrogates) and U+1F600 (outside the BMP): code-point order
  // puts U+FF61 before U+1F600, where UTF-16 code-unit order would put it after.
  const std::string input =
      "{\"\xF0\x9F\x98\x80\":1,\"\xEF\xBD\xA1\":2,\"\xC3\xA9\":3,\"z\":4,\"\":5}";
  const std::string expected =
      "{\"\":5,\"z\":4,\"\xC3\xA9\":3,\"\xEF\xBD\xA1\":2,\"\xF0\x9F\x98\x80\":1}";
  EXPECT_EQ(Canon(input), expected);
}

TEST(CanonicalJsonTest, EscapesOnlyQuoteAndBackslash) {
  EXPECT_EQ(Canon(R"(["a\"b\\c/d"])"), R"(["a\"b\\c/d"])");
  EXPECT_EQ(Canon(R"({"k\"\\":"v"})"), R"({"k\"\\":"v"})");
}

TEST(CanonicalJsonTest, WritesControlCharactersRaw) {
  // \u0001, newline, tab, DEL arrive escaped and leave as the raw bytes.
  EXPECT_EQ(Canon(R"(["\u0001\n\t\u007f\u0000"])"), std::string("[\"\x01\n\t\x7f\0\"]", 9));
}

TEST(CanonicalJsonTest, WritesNonAsciiRawUtf8) {
  EXPECT_EQ(Canon(R"(["caf\u00e9 \ud83d\ude00"])"), "[\"caf\xC3\xA9 \xF0\x9F\x98\x80\"]");
  EXPECT_EQ(Canon("[\"\xE2\x82\xAC\"]"), "[\"\xE2\x82\xAC\"]");
}

TEST(CanonicalJsonTest, Integers) {
  EXPECT_EQ(Canon("[0,-0,1,-1,42,-42]"), "[0,0,1,-1,42,-42]");
  EXPECT_EQ(Canon("[9223372036854775807,-9223372036854775808]"),
            "[9223372036854775807,-9223372036854775808]");
  EXPECT_EQ(Canon("18446744073709551615"), "18446744073709551615");
}

TEST(CanonicalJsonTest, EncodesIntegersBuiltInCode) {
  Json v = Json::array({std::numeric_limits<uint64_t>::max(), std::numeric_limits<int64_t>::min(),
                        -7, uint64_t{0}});
  auto encoded = EncodeCanonical(v);
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(*encoded, "[18446744073709551615,-9223372036854775808,-7,0]");
}

TEST(CanonicalJsonTest, LiteralsAndScalars) {
  EXPECT_EQ(Canon("[true,false,null]"), "[true,false,null]");
  EXPECT_EQ(Canon("\"\""), "\"\"");
  EXPECT_EQ(Canon("null"), "null");
}

TEST(CanonicalJsonTest, NestedArraysAndObjects) {
  EXPECT_EQ(Canon(R"({"z":[1,[2,{"c":null,"b":true}],{},[]],"a":{"y":{"x":[]}}})"),
            R"({"a":{"y":{"x":[]}},"z":[1,[2,{"b":true,"c":null}],{},[]]})");
}

TEST(CanonicalJsonTest, NoInsignificantWhitespace) {
  EXPECT_EQ(Canon(" {\n \"b\" : [ 1 ,\t2 ] ,\r\n \"a\" : { } } \n"), R"({"a":{},"b":[1,2]})");
}

TEST(CanonicalJsonTest, EncodeRefusesFloats) {
  auto encoded = EncodeCanonical(Json::array({1.5}));
  ASSERT_FALSE(encoded.ok());
  EXPECT_EQ(encoded.status().code(), StatusCode::kInvalidArgument);
}

TEST(ParseJsonTest, AcceptsDepth32) {
  auto parsed = ParseJson(Nested(32));
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
}

TEST(ParseJsonTest, RejectsDepth33) {
  auto parsed = ParseJson(Nested(33));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kCorruption);
  std::string objects;
  for (int i = 0; i < 33; ++i) objects += "{\"a\":";
  objects += "1" + std::string(33, '}');
  EXPECT_FALSE(ParseJson(objects).ok());
}

TEST(ParseJsonTest, RejectsDuplicateKeys) {
  auto parsed = ParseJson(R"({"a":1,"a":2})");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kCorruption);
  EXPECT_NE(parsed.status().message().find("duplicate"), std::string::npos)
      << parsed.status().message();
}

TEST(ParseJsonTest, RejectsDuplicateKeysInNestedObjects) {
  EXPECT_FALSE(ParseJson(R"({"x":[{"k":1,"b":0,"k":1}]})").ok());
  // Same spelling after unescaping is the same key.
  EXPECT_FALSE(ParseJson(R"({"é":1,"\u00e9":2})").ok());
}

TEST(ParseJsonTest, SameKeyInSiblingObjectsIsFine) {
  EXPECT_TRUE(ParseJson(R"([{"a":1},{"a":2}])").ok());
  EXPECT_TRUE(ParseJson(R"({"a":{"a":1}})").ok());
}

TEST(ParseJsonTest, RejectsFloats) {
  for (const char* text : {"1.5", "1e3", "1E3", "-0.0", "[1.0]", R"({"a":2e-1})"}) {
    auto parsed = ParseJson(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().code(), StatusCode::kCorruption) << text;
  }
}

TEST(ParseJsonTest, RejectsIntegersBeyondUint64) {
  EXPECT_FALSE(ParseJson("18446744073709551616").ok());
  EXPECT_FALSE(ParseJson("-9223372036854775809").ok());
}

TEST(ParseJsonTest, RejectsTrailingGarbage) {
  for (const char* text : {"{} x", "{}{}", "[1]]", "1 2", "null,"}) {
    EXPECT_FALSE(ParseJson(text).ok()) << text;
  }
}

TEST(ParseJsonTest, RejectsInvalidJson) {
  for (const char* text : {"", "{", "{'a':1}", "{\"a\" 1}", "[1,]", "{\"a\":1,}", "tru", "01",
                           "\"\\x41\"", "NaN"}) {
    EXPECT_FALSE(ParseJson(text).ok()) << text;
  }
}

TEST(ParseJsonTest, RejectsRawControlCharacterInString) {
  EXPECT_FALSE(ParseJson("[\"a\nb\"]").ok());
}

TEST(ParseJsonTest, RejectsInvalidUtf8) {
  for (std::string text : {std::string("[\"\xff\"]"),            // never valid
                           std::string("[\"\xc0\xaf\"]"),        // overlong '/'
                           std::string("[\"\xed\xa0\x80\"]"),    // encoded surrogate
                           std::string("[\"\xe2\x82\"]"),        // truncated sequence
                           std::string("[\"\xf4\x90\x80\x80\"]"),  // above U+10FFFF
                           std::string("{\"\x80\":1}")}) {
    EXPECT_FALSE(ParseJson(text).ok()) << HexEncode(text);
  }
}

TEST(ParseJsonTest, RejectsLoneSurrogateEscape) {
  EXPECT_FALSE(ParseJson(R"(["\ud800"])").ok());
  EXPECT_FALSE(ParseJson(R"(["\udc00"])").ok());
}

}  // namespace
}  // namespace refuge
