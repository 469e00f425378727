// DecodeRequestPath and StripQuery: the request target's path as a lookup key, with every
// form that could mean something else to another component refused.
#include "serve/request_path.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace refuge::serve {
namespace {

// The decoded path of `target`, or "<refused>".
std::string Decode(std::string_view target) {
  std::vector<char> out(kMaxDecodedPathBytes);
  std::string_view decoded;
  if (!DecodeRequestPath(target, out.data(), &decoded)) return "<refused>";
  EXPECT_EQ(decoded.data(), out.data()) << "the decoded path views `out`";
  return std::string(decoded);
}

void ExpectRefused(std::string_view target) {
  EXPECT_EQ(Decode(target), "<refused>") << "'" << target << "'";
}

TEST(RequestPathTest, PlainPath) { EXPECT_EQ(Decode("/a/b/index.html"), "/a/b/index.html"); }

TEST(RequestPathTest, Root) { EXPECT_EQ(Decode("/"), "/"); }

TEST(RequestPathTest, QueryIsStripped) {
  EXPECT_EQ(Decode("/a/b?x=1&y=2"), "/a/b");
  EXPECT_EQ(Decode("/?"), "/");
  EXPECT_EQ(Decode("/a?../..//%00"), "/a") << "the query is not looked at";
}

TEST(RequestPathTest, PercentEscapesAreDecoded) {
  EXPECT_EQ(Decode("/a%20b/%41%62c"), "/a b/Abc");
  EXPECT_EQ(Decode("/%7e%7E"), "/~~") << "both hex cases";
  EXPECT_EQ(Decode("/100%25"), "/100%");
  EXPECT_EQ(Decode("/a%3Fb%23c"), "/a?b#c") << "an encoded '?' or '#' is data";
}

TEST(RequestPathTest, DecodingHappensOnce) { EXPECT_EQ(Decode("/%252e%252e"), "/%2e%2e"); }

TEST(RequestPathTest, Utf8BytesAreKept) {
  EXPECT_EQ(Decode("/caf%C3%A9/%E2%82%AC.txt"), "/caf\xc3\xa9/\xe2\x82\xac.txt");
}

TEST(RequestPathTest, TrailingSlashIsKept) {
  EXPECT_EQ(Decode("/a/b/"), "/a/b/");
  EXPECT_EQ(Decode("/a/b/?x"), "/a/b/");
}

TEST(RequestPathTest, DotsInsideNamesAreAllowed) {
  EXPECT_EQ(Decode("/.well-known/x"), "/.well-known/x");
  EXPECT_EQ(Decode("/a/.hidden"), "/a/.hidden");
  EXPECT_EQ(Decode("/a..b/..."), "/a..b/...");
}

TEST(RequestPathTest, DotDotSegmentIsRefused) {
  ExpectRefused("/..");
  ExpectRefused("/../a");
  ExpectRefused("/a/../b");
  ExpectRefused("/a/..");
  ExpectRefused("/a/../");
  ExpectRefused("/a/..?x");
}

TEST(RequestPathTest, DotSegmentIsRefused) {
  ExpectRefused("/.");
  ExpectRefused("/./a");
  ExpectRefused("/a/.");
  ExpectRefused("/a/./b");
}

TEST(RequestPathTest, EncodedDotSegmentsAreRefused) {
  ExpectRefused("/%2e%2e/a");
  ExpectRefused("/a/%2E%2e");
  ExpectRefused("/a/.%2e/b");
  ExpectRefused("/a/%2e./b");
  ExpectRefused("/%2e/a");
}

TEST(RequestPathTest, EncodedSlashIsRefused) {
  ExpectRefused("/a%2Fb");
  ExpectRefused("/a%2fb");
  ExpectRefused("/%2F");
}

TEST(RequestPathTest, BackslashIsRefused) {
  ExpectRefused("/a%5Cb");
  ExpectRefused("/a%5cb");
  ExpectRefused("/a\\b");
  ExpectRefused("/..\\a");
}

TEST(RequestPathTest, NulIsRefused) {
  ExpectRefused("/a%00b");
  ExpectRefused(std::string_view("/a\0b", 4));
}

TEST(RequestPathTest, ControlCharactersAreRefused) {
  ExpectRefused("/a%0Ab");
  ExpectRefused("/a%0d%0aSet-Cookie:x");
  ExpectRefused("/a%1F");
  ExpectRefused("/a%7F");
  ExpectRefused("/a\tb");
  ExpectRefused("/a\x7f");
}

TEST(RequestPathTest, EmptySegmentIsRefused) {
  ExpectRefused("/a//b");
  ExpectRefused("//a");
  ExpectRefused("//");
  ExpectRefused("/a//");
}

TEST(RequestPathTest, MalformedEscapesAreRefused) {
  ExpectRefused("/a%zz");
  ExpectRefused("/a%4");
  ExpectRefused("/a%");
  ExpectRefused("/a%g1");
  ExpectRefused("/a%1g");
  ExpectRefused("/a%%41");
  ExpectRefused("/a%4?1");
}

TEST(RequestPathTest, FragmentIsRefused) {
  ExpectRefused("/a#b");
  ExpectRefused("/#");
}

TEST(RequestPathTest, TargetNotStartingWithSlashIsRefused) {
  ExpectRefused("");
  ExpectRefused("a/b");
  ExpectRefused("*");
  ExpectRefused("?x");
  ExpectRefused("http://example.org/a");
}

TEST(RequestPathTest, PathAtTheLimitIsAccepted) {
  const std::string target = "/" + std::string(kMaxDecodedPathBytes - 1, 'a');
  EXPECT_EQ(Decode(target), target);
  const std::string with_slash = "/" + std::string(kMaxDecodedPathBytes - 3, 'a') + "/b";
  EXPECT_EQ(Decode(with_slash), with_slash);
}

TEST(RequestPathTest, OverlongPathIsRefused) {
  ExpectRefused("/" + std::string(kMaxDecodedPathBytes, 'a'));
  ExpectRefused("/" + std::string(kMaxDecodedPathBytes - 1, 'a') + "/");
  ExpectRefused("/" + std::string(100 * kMaxDecodedPathBytes, 'a'));
}

TEST(RequestPathTest, LimitCountsDecodedBytes) {
  std::string encoded = "/";
  for (size_t i = 1; i < kMaxDecodedPathBytes; ++i) encoded += "%41";
  EXPECT_EQ(Decode(encoded), "/" + std::string(kMaxDecodedPathBytes - 1, 'A'));
  ExpectRefused(encoded + "%41");
}

TEST(RequestPathTest, StripQuery) {
  EXPECT_EQ(StripQuery("/a/b?c=d?e"), "/a/b");
  EXPECT_EQ(StripQuery("/a%3Fb"), "/a%3Fb") << "an encoded '?' stays";
  EXPECT_EQ(StripQuery("/a"), "/a");
  EXPECT_EQ(StripQuery("?"), "");
  EXPECT_EQ(StripQuery(""), "");
}

}  // namespace
}  // namespace refuge::serve
