// PercentDecode: the one place URL path escapes are undone.
#include "net/url.h"

#include <string>

#include <gtest/gtest.h>

namespace refuge {
namespace {

std::string Decoded(std::string_view s, bool allow_slash = false) {
  auto r = PercentDecode(s, allow_slash);
  EXPECT_TRUE(r.ok()) << "'" << s << "': " << r.status().ToString();
  return r.ok() ? *r : "<error>";
}

StatusCode CodeOf(std::string_view s, bool allow_slash = false) {
  return PercentDecode(s, allow_slash).status().code();
}

TEST(PercentDecodeTest, DecodesAnEscape) { EXPECT_EQ(Decoded("%41"), "A"); }

TEST(PercentDecodeTest, AcceptsBothHexCases) {
  EXPECT_EQ(Decoded("%4a%4A"), "JJ");
  EXPECT_EQ(Decoded("%e2%82%ac"), "\xe2\x82\xac");
}

TEST(PercentDecodeTest, LeavesPlainTextAlone) {
  EXPECT_EQ(Decoded(""), "");
  EXPECT_EQ(Decoded("index.html"), "index.html");
  EXPECT_EQ(Decoded("a+b"), "a+b") << "'+' is not a space in a path";
  EXPECT_EQ(Decoded("a/b", false), "a/b") << "only an encoded '/' is refused";
}

TEST(PercentDecodeTest, DecodesInTheMiddleAndAtTheEnd) {
  EXPECT_EQ(Decoded("a%20b"), "a b");
  EXPECT_EQ(Decoded("ab%20"), "ab ");
  EXPECT_EQ(Decoded("%25%32%30"), "%20") << "decoding happens once";
}

TEST(PercentDecodeTest, EncodedSlashRefusedUnlessAllowed) {
  EXPECT_EQ(CodeOf("%2f", false), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf("a%2Fb", false), StatusCode::kInvalidArgument);
  EXPECT_EQ(Decoded("a%2fb", true), "a/b");
}

TEST(PercentDecodeTest, EncodedNulRefused) {
  EXPECT_EQ(CodeOf("%00"), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf("a%00b", true), StatusCode::kInvalidArgument);
}

TEST(PercentDecodeTest, RawNulRefused) {
  EXPECT_EQ(CodeOf(std::string_view("a\0b", 3)), StatusCode::kInvalidArgument);
}

TEST(PercentDecodeTest, TruncatedEscapeRefused) {
  EXPECT_EQ(CodeOf("%4"), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf("%"), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf("abc%"), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf("abc%4"), StatusCode::kInvalidArgument);
}

TEST(PercentDecodeTest, NonHexEscapeRefused) {
  EXPECT_EQ(CodeOf("%zz"), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf("%4g"), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf("%g4"), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf("% 41"), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace refuge
