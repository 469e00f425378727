// The HTTP/1.1 request head parser (ParseRequestHead), the chunked body decoder and HTTP
// dates: what is accepted, what every refusal listed in http_parser.h answers, and that the
// parser never decides early on an incomplete head.
#include "serve/http_parser.h"

#include <algorithm>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace refuge::serve {
namespace {

struct Parsed {
  ParseStatus status = ParseStatus::kError;
  RequestHead head;
  ParseError error;
};

// Parses `text`, which must outlive the returned views.
Parsed Parse(std::string_view text, const ParseLimits& limits = {}) {
  Parsed p;
  p.status = ParseRequestHead(text.data(), text.size(), limits, &p.head, &p.error);
  return p;
}

// Expects `text` to parse completely, taking all of its bytes.
RequestHead ParseComplete(std::string_view text, const ParseLimits& limits = {}) {
  Parsed p = Parse(text, limits);
  EXPECT_EQ(p.status, ParseStatus::kComplete) << "refused (" << p.error.http_status << " "
                                              << p.error.reason << "): " << text;
  EXPECT_EQ(p.head.head_bytes, text.size()) << text;
  return p.head;
}

// Expects `text` to be refused with `status` and a reason for the error page.
void ExpectRefused(std::string_view text, int status, const ParseLimits& limits = {}) {
  Parsed p = Parse(text, limits);
  ASSERT_EQ(p.status, ParseStatus::kError) << "accepted: " << text;
  EXPECT_EQ(p.error.http_status, status) << p.error.reason << ": " << text;
  EXPECT_NE(std::string_view(p.error.reason), "") << text;
}

// A valid HTTP/1.1 GET of `target` with `fields` (each ending in CRLF) after Host.
std::string Get(std::string_view target, std::string_view fields = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: example.org\r\n" +
         std::string(fields) + "\r\n";
}

// Whether `view` is empty or lies inside [begin, begin + size).
bool Inside(std::string_view view, const char* begin, size_t size) {
  return view.empty() || (view.data() >= begin && view.data() + view.size() <= begin + size);
}

// --- Request line -------------------------------------------------------------------------

TEST(HttpParserTest, SimpleGet) {
  const std::string text = "GET /index.html HTTP/1.1\r\nHost: example.org\r\n\r\n";
  RequestHead head = ParseComplete(text);
  EXPECT_EQ(head.method, Method::kGet);
  EXPECT_EQ(head.method_text, "GET");
  EXPECT_EQ(head.target, "/index.html");
  EXPECT_EQ(head.minor_version, 1);
  EXPECT_EQ(head.host, "example.org");
  EXPECT_EQ(head.header_count, 1);
  EXPECT_FALSE(head.chunked);
  EXPECT_FALSE(head.has_content_length);
  EXPECT_FALSE(head.expect_continue);
}

TEST(HttpParserTest, Head) {
  const std::string text = "HEAD /a HTTP/1.1\r\nHost: example.org\r\n\r\n";
  RequestHead head = ParseComplete(text);
  EXPECT_EQ(head.method, Method::kHead);
  EXPECT_EQ(head.method_text, "HEAD");
}

TEST(HttpParserTest, PostAndOptionsAreRecognized) {
  const std::string post = "POST /a HTTP/1.1\r\nHost: h\r\n\r\n";
  EXPECT_EQ(ParseComplete(post).method, Method::kPost);
  const std::string options = "OPTIONS /a HTTP/1.1\r\nHost: h\r\n\r\n";
  EXPECT_EQ(ParseComplete(options).method, Method::kOptions);
}

TEST(HttpParserTest, OtherTokenMethodsAreKeptAsText) {
  const std::string text = "PROPFIND /a HTTP/1.1\r\nHost: h\r\n\r\n";
  RequestHead head = ParseComplete(text);
  EXPECT_EQ(head.method, Method::kOther);
  EXPECT_EQ(head.method_text, "PROPFIND");
}

TEST(HttpParserTest, MethodsAreCaseSensitive) {
  const std::string text = "get /a HTTP/1.1\r\nHost: h\r\n\r\n";
  EXPECT_EQ(ParseComplete(text).method, Method::kOther);
}

TEST(HttpParserTest, MethodThatIsNotATokenIsRefused) {
  ExpectRefused("GE(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  ExpectRefused("GE\"T / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST(HttpParserTest, RequestLineNeedsSingleSpaces) {
  ExpectRefused("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  ExpectRefused("GET /  HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  ExpectRefused(" GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  ExpectRefused("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400);
  ExpectRefused("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  ExpectRefused("GET /\r\nHost: h\r\n\r\n", 400);
  ExpectRefused("GET\r\n\r\n", 400);
}

TEST(HttpParserTest, TargetWithSpaceOrControlOrNonAsciiIsRefused) {
  ExpectRefused("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  ExpectRefused("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  ExpectRefused("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST(HttpParserTest, Http2VersionGets505) {
  ExpectRefused("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505);
  ExpectRefused("GET / HTTP/3.0\r\nHost: h\r\n\r\n", 505);
}

TEST(HttpParserTest, OtherHttp1MinorVersionsGet505) {
  ExpectRefused("GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505);
  ExpectRefused("GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505);
}

TEST(HttpParserTest, GarbageVersionGets400) {
  ExpectRefused("GET / HTTP/1.1x\r\nHost: h\r\n\r\n", 400);
  ExpectRefused("GET / http/1.1\r\nHost: h\r\n\r\n", 400);
  ExpectRefused("GET / HTTP/1\r\nHost: h\r\n\r\n", 400);
  ExpectRefused("GET / HTTP/11.1\r\nHost: h\r\n\r\n", 400);
  ExpectRefused("GET / FOO\r\nHost: h\r\n\r\n", 400);
}

TEST(HttpParserTest, AsteriskTargetForOptions) {
  const std::string text = "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n";
  RequestHead head = ParseComplete(text);
  EXPECT_EQ(head.method, Method::kOptions);
  EXPECT_EQ(head.target, "*");
}

TEST(HttpParserTest, AsteriskTargetOutsideOptionsIsRefused) {
  ExpectRefused("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  ExpectRefused("HEAD * HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST(HttpParserTest, AuthorityFormIsRefused) {
  ExpectRefused("CONNECT example.org:443 HTTP/1.1\r\nHost: example.org\r\n\r\n", 400);
}

// --- Absolute-form ------------------------------------------------------------------------

TEST(HttpParserTest, AbsoluteFormSetsHostAndTarget) {
  const std::string text = "GET http://example.org:8080/a/b?c=d HTTP/1.1\r\n\r\n";
  RequestHead head = ParseComplete(text);
  EXPECT_EQ(head.host, "example.org:8080");
  EXPECT_EQ(head.target, "/a/b?c=d");
}

TEST(HttpParserTest, AbsoluteFormWithoutPathTargetsTheRootInsideTheBuffer) {
  const std::string text = "GET http://example.org HTTP/1.1\r\n\r\n";
  RequestHead head = ParseComplete(text);
  EXPECT_EQ(head.host, "example.org");
  EXPECT_EQ(head.target, "/");
  EXPECT_TRUE(Inside(head.target, text.data(), head.head_bytes));
}

TEST(HttpParserTest, AbsoluteFormSchemeIsCaseInsensitive) {
  const std::string text = "GET HTTPS://example.org/x HTTP/1.1\r\n\r\n";
  RequestHead head = ParseComplete(text);
  EXPECT_EQ(head.host, "example.org");
  EXPECT_EQ(head.target, "/x");
}

TEST(HttpParserTest, AbsoluteFormAuthorityWinsOverTheHostField) {
  const std::string text = "GET http://a.example/x HTTP/1.1\r\nHost: b.example\r\n\r\n";
  EXPECT_EQ(ParseComplete(text).host, "a.example");
}

TEST(HttpParserTest, AbsoluteFormStillChecksTheHostField) {
  ExpectRefused("GET http://a.example/x HTTP/1.1\r\nHost: b.example\r\nHost: c\r\n\r\n", 400);
  ExpectRefused("GET http://a.example/x HTTP/1.1\r\nHost: b/c\r\n\r\n", 400);
}

TEST(HttpParserTest, AbsoluteFormWithOtherSchemeIsRefused) {
  ExpectRefused("GET ftp://example.org/x HTTP/1.1\r\n\r\n", 400);
  ExpectRefused("GET example.org/x HTTP/1.1\r\n\r\n", 400);
}

TEST(HttpParserTest, AbsoluteFormWithBadAuthorityIsRefused) {
  ExpectRefused("GET http:///x HTTP/1.1\r\n\r\n", 400);
  ExpectRefused("GET http://user@example.org/x HTTP/1.1\r\n\r\n", 400);
  ExpectRefused("GET http://example.org?x HTTP/1.1\r\n\r\n", 400);
  ExpectRefused("GET http://example.org#x HTTP/1.1\r\n\r\n", 400);
}

TEST(HttpParserTest, AbsoluteFormAuthorityWithInvalidHostCharactersIsRefused) {
  // The authority replaces Host, so it gets the same character check as a Host field.
  ExpectRefused("GET http://exa\"mple.org/x HTTP/1.1\r\n\r\n", 400);
  ExpectRefused("GET http://exa<mple>.org/x HTTP/1.1\r\n\r\n", 400);
  ExpectRefused("GET http://example.org\\x/ HTTP/1.1\r\n\r\n", 400);
}

TEST(HttpParserTest, AbsoluteFormAcceptsIpLiteralWithPort) {
  const std::string text = "GET http://[::1]:8080/x HTTP/1.1\r\n\r\n";
  EXPECT_EQ(ParseComplete(text).host, "[::1]:8080");
}

// --- Persistence --------------------------------------------------------------------------

TEST(HttpParserTest, Http11DefaultsToKeepAlive) {
  const std::string text = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  EXPECT_TRUE(ParseComplete(text).keep_alive);
}

TEST(HttpParserTest, Http10DefaultsToClose) {
  const std::string text = "GET / HTTP/1.0\r\n\r\n";
  RequestHead head = ParseComplete(text);
  EXPECT_EQ(head.minor_version, 0);
  EXPECT_FALSE(head.keep_alive);
}

TEST(HttpParserTest, Http10WithKeepAliveStaysOpen) {
  const std::string text = "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";
  EXPECT_TRUE(ParseComplete(text).keep_alive);
}

TEST(HttpParserTest, Http11WithCloseCloses) {
  const std::string text = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  EXPECT_FALSE(ParseComplete(text).keep_alive);
}

TEST(HttpParserTest, ConnectionOptionsAreACaseInsensitiveList) {
  const std::string text = "GET / HTTP/1.1\r\nHost: h\r\nConnection: TE , CLOSE\r\n\r\n";
  EXPECT_FALSE(ParseComplete(text).keep_alive);
}

TEST(HttpParserTest, CloseWinsOverKeepAlive) {
  // RFC 9112 9.6: a server that receives "close" must close after the response, whatever
  // else the client listed.
  const std::string one_field = "GET / HTTP/1.0\r\nConnection: close, keep-alive\r\n\r\n";
  EXPECT_FALSE(ParseComplete(one_field).keep_alive);
  const std::string two_fields =
      "GET / HTTP/1.0\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n";
  EXPECT_FALSE(ParseComplete(two_fields).keep_alive);
}

TEST(HttpParserTest, UnknownConnectionOptionsKeepTheDefault) {
  const std::string text = "GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n";
  EXPECT_TRUE(ParseComplete(text).keep_alive);
}

// --- Framing of several requests ------------------------------------------------------------

TEST(HttpParserTest, PipelinedRequestsParseOneAfterTheOther) {
  const std::string first = "GET /one HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string second = "HEAD /two HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  const std::string buffer = first + second;

  Parsed p1 = Parse(buffer);
  ASSERT_EQ(p1.status, ParseStatus::kComplete);
  EXPECT_EQ(p1.head.target, "/one");
  ASSERT_EQ(p1.head.head_bytes, first.size());

  Parsed p2 = Parse(std::string_view(buffer).substr(p1.head.head_bytes));
  ASSERT_EQ(p2.status, ParseStatus::kComplete);
  EXPECT_EQ(p2.head.method, Method::kHead);
  EXPECT_EQ(p2.head.target, "/two");
  EXPECT_FALSE(p2.head.keep_alive);
  EXPECT_EQ(p2.head.head_bytes, second.size());
}

TEST(HttpParserTest, EveryPrefixOfAValidRequestIsIncomplete) {
  const std::string text =
      "\r\n"
      "GET /a%20b?x=1 HTTP/1.1\r\n"
      "Host: example.org:8080\r\n"
      "User-Agent: test\tagent \xc3\xa9\r\n"
      "Range: bytes=0-9\r\n"
      "If-None-Match: \"abc\"\r\n"
      "Content-Length: 0\r\n"
      "\r\n";
  ASSERT_EQ(ParseComplete(text).target, "/a%20b?x=1");
  for (size_t n = 0; n < text.size(); ++n) {
    Parsed p = Parse(std::string_view(text).substr(0, n));
    EXPECT_EQ(p.status, ParseStatus::kIncomplete)
        << "prefix of " << n << " bytes; error " << p.error.http_status << " " << p.error.reason;
  }
}

TEST(HttpParserTest, LeadingEmptyLinesAreSkipped) {
  const std::string text = "\r\n\r\n\r\n\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n";
  RequestHead head = ParseComplete(text);
  EXPECT_EQ(head.target, "/a");
  EXPECT_EQ(head.head_bytes, text.size()) << "the empty lines count in head_bytes";
}

TEST(HttpParserTest, TooManyLeadingEmptyLinesAreRefused) {
  ExpectRefused("\r\n\r\n\r\n\r\n\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST(HttpParserTest, LeadingBareLfIsRefused) {
  ExpectRefused("\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  ExpectRefused("\r\n\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

// --- Line endings and control characters ------------------------------------------------------

TEST(HttpParserTest, BareCrIsRefused) {
  ExpectRefused("GET / HTTP/1.1\rHost: h\r\n\r\n", 400);
  ExpectRefused("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", 400);
  ExpectRefused("GET / HTTP/1.1\r\nHost: h\r\n\rX", 400);
  ExpectRefused("\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST(HttpParserTest, BareLfIsRefused) {
  ExpectRefused("GET / HTTP/1.1\nHost: h\n\n", 400);
  ExpectRefused("GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", 400);
  ExpectRefused("GET / HTTP/1.1\r\nHost: h\r\n\n", 400);
}

TEST(HttpParserTest, BareLfIsRefusedBeforeTheHeadIsComplete) {
  ExpectRefused("GET / HTTP/1.1\n", 400);
  ExpectRefused("GET / HTTP/1.1\r\nHost: h\n", 400);
}

TEST(HttpParserTest, NulIsRefused) {
  using namespace std::string_literals;
  ExpectRefused("GET /\0 HTTP/1.1\r\nHost: h\r\n\r\n"s, 400);
  ExpectRefused("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n"s, 400);
  ExpectRefused("GET / HTTP/1.1\r\nHost: h\r\nX\0: a\r\n\r\n"s, 400);
}

TEST(HttpParserTest, NulIsRefusedBeforeTheHeadIsComplete) {
  using namespace std::string_literals;
  ExpectRefused("GET /\0"s, 400);
  ExpectRefused("GET / HTTP/1.1\r\nX: \0"s, 400);
}

TEST(HttpParserTest, ControlCharactersInFieldValuesAreRefused) {
  ExpectRefused(Get("/", "X: a\x01z\r\n"), 400);
  ExpectRefused(Get("/", "X: a\x7fz\r\n"), 400);
}

TEST(HttpParserTest, TabAndObsTextInFieldValuesAreAccepted) {
  const std::string text = Get("/", "User-Agent: a\tb \xc3\xa9\r\n");
  EXPECT_EQ(ParseComplete(text).user_agent, "a\tb \xc3\xa9");
}

// --- Header fields ------------------------------------------------------------------------

TEST(HttpParserTest, ObsFoldIsRefused) {
  ExpectRefused("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400);
  ExpectRefused("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", 400);
}

TEST(HttpParserTest, WhitespaceBeforeTheFirstFieldIsRefused) {
  ExpectRefused("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400);
}

TEST(HttpParserTest, SpaceBeforeColonIsRefused) {
  ExpectRefused("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400);
  ExpectRefused("GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400);
}

TEST(HttpParserTest, InvalidHeaderNameCharactersAreRefused) {
  ExpectRefused(Get("/", "X(Y): 1\r\n"), 400);
  ExpectRefused(Get("/", "X@Y: 1\r\n"), 400);
  ExpectRefused(Get("/", "\"X\": 1\r\n"), 400);
  ExpectRefused(Get("/", "X\xc3\xa9: 1\r\n"), 400);
  ExpectRefused(Get("/", ": 1\r\n"), 400);
  ExpectRefused(Get("/", "NoColon\r\n"), 400);
}

TEST(HttpParserTest, FieldNamesAreCaseInsensitive) {
  const std::string text = "GET / HTTP/1.1\r\nhOsT: h\r\nrAnGe: bytes=0-1\r\n\r\n";
  RequestHead head = ParseComplete(text);
  EXPECT_EQ(head.host, "h");
  EXPECT_EQ(head.range, "bytes=0-1");
}

TEST(HttpParserTest, FieldValuesAreTrimmed) {
  const std::string text = Get("/", "Range: \t bytes=0-1 \t\r\nIf-Range:\"x\"\r\n");
  RequestHead head = ParseComplete(text);
  EXPECT_EQ(head.range, "bytes=0-1");
  EXPECT_EQ(head.if_range, "\"x\"");
}

TEST(HttpParserTest, ConditionalAndLoggedFieldsAreKept) {
  const std::string text = Get("/",
                               "If-None-Match: \"abc\"\r\n"
                               "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                               "User-Agent: curl/8\r\n"
                               "Referer: https://example.org/\r\n");
  RequestHead head = ParseComplete(text);
  EXPECT_EQ(head.if_none_match, "\"abc\"");
  EXPECT_EQ(head.if_modified_since, "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(head.user_agent, "curl/8");
  EXPECT_EQ(head.referer, "https://example.org/");
  EXPECT_EQ(head.header_count, 5);
}

TEST(HttpParserTest, TwoRangeFieldsAreRefused) {
  ExpectRefused(Get("/", "Range: bytes=0-1\r\nRange: bytes=2-3\r\n"), 400);
}

TEST(HttpParserTest, ViewsPointInsideTheBuffer) {
  const std::string text = Get("/a?b",
                               "Range: bytes=0-1\r\n"
                               "If-None-Match: \"abc\"\r\n"
                               "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                               "If-Range: \"abc\"\r\n"
                               "User-Agent: curl/8\r\n"
                               "Referer: https://example.org/\r\n") +
                           "GET /next HTTP/1.1\r\n";
  Parsed p = Parse(text);
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  const RequestHead& h = p.head;
  const size_t n = h.head_bytes;
  for (std::string_view view : {h.method_text, h.target, h.host, h.range, h.if_none_match,
                                h.if_modified_since, h.if_range, h.user_agent, h.referer}) {
    EXPECT_FALSE(view.empty());
    EXPECT_TRUE(Inside(view, text.data(), n)) << view;
  }
}

// --- Host ---------------------------------------------------------------------------------

TEST(HttpParserTest, MissingHostInHttp11IsRefused) {
  ExpectRefused("GET / HTTP/1.1\r\n\r\n", 400);
  ExpectRefused("GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n", 400);
}

TEST(HttpParserTest, Http10WithoutHostIsAccepted) {
  const std::string text = "GET / HTTP/1.0\r\n\r\n";
  EXPECT_EQ(ParseComplete(text).host, "");
}

TEST(HttpParserTest, TwoHostFieldsAreRefused) {
  ExpectRefused("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
  ExpectRefused("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400);
}

TEST(HttpParserTest, HostWithInvalidCharactersIsRefused) {
  ExpectRefused("GET / HTTP/1.1\r\nHost: exa mple\r\n\r\n", 400);
  ExpectRefused("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400);
  ExpectRefused("GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400);
  ExpectRefused("GET / HTTP/1.1\r\nHost: a\"b\r\n\r\n", 400);
  ExpectRefused("GET / HTTP/1.1\r\nHost: a\xc3\xa9\r\n\r\n", 400);
}

TEST(HttpParserTest, HostWithPortOrIpLiteralIsAccepted) {
  const std::string port = "GET / HTTP/1.1\r\nHost: example.org:8080\r\n\r\n";
  EXPECT_EQ(ParseComplete(port).host, "example.org:8080");
  const std::string literal = "GET / HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n\r\n";
  EXPECT_EQ(ParseComplete(literal).host, "[2001:db8::1]:443");
}

// --- Message body framing (request smuggling) -------------------------------------------------

TEST(HttpParserTest, ContentLengthIsParsed) {
  const std::string text = Get("/", "Content-Length: 42\r\n");
  RequestHead head = ParseComplete(text);
  EXPECT_TRUE(head.has_content_length);
  EXPECT_EQ(head.content_length, 42u);
}

TEST(HttpParserTest, ContentLengthOfEighteenDigitsIsAccepted) {
  const std::string text = Get("/", "Content-Length: 999999999999999999\r\n");
  EXPECT_EQ(ParseComplete(text).content_length, 999999999999999999u);
}

TEST(HttpParserTest, ContentLengthWithTransferEncodingIsRefused) {
  ExpectRefused(Get("/", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 400);
  ExpectRefused(Get("/", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), 400);
}

TEST(HttpParserTest, TwoEqualContentLengthsAreRefused) {
  ExpectRefused(Get("/", "Content-Length: 5\r\nContent-Length: 5\r\n"), 400);
}

TEST(HttpParserTest, TwoDifferentContentLengthsAreRefused) {
  ExpectRefused(Get("/", "Content-Length: 5\r\nContent-Length: 6\r\n"), 400);
}

TEST(HttpParserTest, ContentLengthListIsRefused) {
  ExpectRefused(Get("/", "Content-Length: 5, 5\r\n"), 400);
}

TEST(HttpParserTest, ContentLengthWithNonDigitIsRefused) {
  ExpectRefused(Get("/", "Content-Length: 5a\r\n"), 400);
  ExpectRefused(Get("/", "Content-Length: 0x10\r\n"), 400);
  ExpectRefused(Get("/", "Content-Length: 1 0\r\n"), 400);
  ExpectRefused(Get("/", "Content-Length: 1.0\r\n"), 400);
  ExpectRefused(Get("/", "Content-Length:\r\n"), 400);
}

TEST(HttpParserTest, ContentLengthWithSignIsRefused) {
  ExpectRefused(Get("/", "Content-Length: +5\r\n"), 400);
  ExpectRefused(Get("/", "Content-Length: -5\r\n"), 400);
}

TEST(HttpParserTest, ContentLengthTooLongIsRefused) {
  ExpectRefused(Get("/", "Content-Length: 1000000000000000000\r\n"), 400);
  ExpectRefused(Get("/", "Content-Length: 99999999999999999999999\r\n"), 400);
}

TEST(HttpParserTest, TransferEncodingChunkedIsAccepted) {
  const std::string text = Get("/", "Transfer-Encoding: Chunked\r\n");
  RequestHead head = ParseComplete(text);
  EXPECT_TRUE(head.chunked);
  EXPECT_FALSE(head.has_content_length);
}

TEST(HttpParserTest, TransferEncodingOtherTokenGets501) {
  ExpectRefused(Get("/", "Transfer-Encoding: gzip\r\n"), 501);
  ExpectRefused(Get("/", "Transfer-Encoding: chunkedx\r\n"), 501);
}

TEST(HttpParserTest, TransferEncodingListGets400) {
  ExpectRefused(Get("/", "Transfer-Encoding: gzip, chunked\r\n"), 400);
  ExpectRefused(Get("/", "Transfer-Encoding: chunked, chunked\r\n"), 400);
  ExpectRefused(Get("/", "Transfer-Encoding: \"chunked\"\r\n"), 400);
  ExpectRefused(Get("/", "Transfer-Encoding:\r\n"), 400);
}

TEST(HttpParserTest, TwoTransferEncodingsAreRefused) {
  ExpectRefused(Get("/", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 400);
}

TEST(HttpParserTest, TransferEncodingInHttp10IsRefused) {
  ExpectRefused("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
}

TEST(HttpParserTest, ExpectContinueIsRecognized) {
  const std::string text = Get("/", "Expect: 100-Continue\r\nContent-Length: 3\r\n");
  EXPECT_TRUE(ParseComplete(text).expect_continue);
}

TEST(HttpParserTest, OtherExpectationGets417) {
  ExpectRefused(Get("/", "Expect: 200-ok\r\n"), 417);
  ExpectRefused(Get("/", "Expect: 100-continue, x\r\n"), 417);
}

// --- Limits -------------------------------------------------------------------------------

TEST(HttpParserTest, HeaderCountUpToTheLimitIsAccepted) {
  ParseLimits limits;
  limits.max_header_count = 3;
  const std::string text = Get("/", "A: 1\r\nB: 2\r\n");
  EXPECT_EQ(ParseComplete(text, limits).header_count, 3);
}

TEST(HttpParserTest, TooManyHeaderFieldsAreRefused) {
  ParseLimits limits;
  limits.max_header_count = 3;
  ExpectRefused(Get("/", "A: 1\r\nB: 2\r\nC: 3\r\n"), 400, limits);
}

TEST(HttpParserTest, HeadAtTheLimitIsAccepted) {
  const std::string text = Get("/", "X: " + std::string(100, 'x') + "\r\n");
  ParseLimits limits;
  limits.max_head_bytes = text.size();
  ParseComplete(text, limits);
  limits.max_head_bytes = text.size() + 1;
  ParseComplete(text, limits);
}

TEST(HttpParserTest, HeadOverTheLimitIsRefused) {
  const std::string text = Get("/", "X: " + std::string(100, 'x') + "\r\n");
  ParseLimits limits;
  limits.max_head_bytes = text.size() - 1;
  ExpectRefused(text, 400, limits);
}

TEST(HttpParserTest, IncompleteHeadUnderTheLimitWaitsAndAtTheLimitIsRefused) {
  const std::string text = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(100, 'x');
  ParseLimits limits;
  limits.max_head_bytes = text.size() + 1;
  EXPECT_EQ(Parse(text, limits).status, ParseStatus::kIncomplete);
  limits.max_head_bytes = text.size();
  ExpectRefused(text, 400, limits);
}

TEST(HttpParserTest, BytesBeyondTheLimitAfterACompleteHeadAreNotCounted) {
  const std::string head = Get("/a");
  ParseLimits limits;
  limits.max_head_bytes = head.size();
  const std::string buffer = head + std::string(1000, 'z');
  Parsed p = Parse(buffer, limits);
  ASSERT_EQ(p.status, ParseStatus::kComplete);
  EXPECT_EQ(p.head.head_bytes, head.size());
}

// --- ChunkedDecoder -----------------------------------------------------------------------

struct Decoded {
  ChunkedDecoder::Result result = ChunkedDecoder::Result::kNeedMore;
  std::string data;
  size_t consumed = 0;
  uint64_t body_bytes = 0;
};

// Feeds `body` to a fresh decoder `step` bytes at a time, until it stops needing more.
Decoded Decode(std::string_view body, size_t step) {
  ChunkedDecoder decoder;
  Decoded d;
  while (d.consumed < body.size()) {
    size_t n = std::min(step, body.size() - d.consumed);
    size_t consumed = 0;
    d.result = decoder.Feed(body.data() + d.consumed, n, &consumed,
                            [&](std::string_view piece) { d.data.append(piece); });
    EXPECT_LE(consumed, n);
    d.consumed += consumed;
    if (d.result != ChunkedDecoder::Result::kNeedMore) break;
  }
  d.body_bytes = decoder.body_bytes();
  return d;
}

void ExpectDecodeError(std::string_view body) {
  EXPECT_EQ(Decode(body, body.size()).result, ChunkedDecoder::Result::kError) << body;
  EXPECT_EQ(Decode(body, 1).result, ChunkedDecoder::Result::kError) << body;
}

TEST(ChunkedDecoderTest, ValidBodyInOnePiece) {
  const std::string body = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  Decoded d = Decode(body, body.size());
  EXPECT_EQ(d.result, ChunkedDecoder::Result::kDone);
  EXPECT_EQ(d.data, "hello world");
  EXPECT_EQ(d.consumed, body.size());
  EXPECT_EQ(d.body_bytes, 11u);
}

TEST(ChunkedDecoderTest, ByteByByteGivesTheSameData) {
  const std::string body = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  Decoded d = Decode(body, 1);
  EXPECT_EQ(d.result, ChunkedDecoder::Result::kDone);
  EXPECT_EQ(d.data, "hello world");
  EXPECT_EQ(d.consumed, body.size());
  EXPECT_EQ(d.body_bytes, 11u);
}

TEST(ChunkedDecoderTest, EverySplitGivesTheSameData) {
  const std::string body = "3;a=b\r\nabc\r\n1A\r\n" + std::string(26, 'z') + "\r\n0\r\nT: v\r\n\r\n";
  for (size_t step = 1; step <= body.size(); ++step) {
    Decoded d = Decode(body, step);
    EXPECT_EQ(d.result, ChunkedDecoder::Result::kDone) << step;
    EXPECT_EQ(d.data, "abc" + std::string(26, 'z')) << step;
    EXPECT_EQ(d.consumed, body.size()) << step;
  }
}

TEST(ChunkedDecoderTest, HexSizesInBothCases) {
  const std::string body = "a\r\n0123456789\r\nB\r\n0123456789A\r\n0\r\n\r\n";
  Decoded d = Decode(body, body.size());
  EXPECT_EQ(d.result, ChunkedDecoder::Result::kDone);
  EXPECT_EQ(d.body_bytes, 21u);
}

TEST(ChunkedDecoderTest, SixteenHexDigitsAreAccepted) {
  const std::string body = "0000000000000005\r\nhello\r\n0\r\n\r\n";
  EXPECT_EQ(Decode(body, body.size()).data, "hello");
  const std::string huge = "ffffffffffffffff\r\nabc";
  Decoded d = Decode(huge, huge.size());
  EXPECT_EQ(d.result, ChunkedDecoder::Result::kNeedMore);
  EXPECT_EQ(d.data, "abc");
}

TEST(ChunkedDecoderTest, ExtensionsAreIgnored) {
  const std::string body = "5;name=value;flag\r\nhello\r\n0;last=\"yes\"\r\n\r\n";
  Decoded d = Decode(body, body.size());
  EXPECT_EQ(d.result, ChunkedDecoder::Result::kDone);
  EXPECT_EQ(d.data, "hello");
  EXPECT_EQ(d.consumed, body.size());
}

TEST(ChunkedDecoderTest, TrailersAreConsumed) {
  const std::string body = "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nY: z\r\n\r\n";
  Decoded d = Decode(body, body.size());
  EXPECT_EQ(d.result, ChunkedDecoder::Result::kDone);
  EXPECT_EQ(d.data, "hello");
  EXPECT_EQ(d.consumed, body.size());
}

TEST(ChunkedDecoderTest, BytesAfterTheBodyAreNotConsumed) {
  const std::string body = "5\r\nhello\r\n0\r\n\r\n";
  const std::string buffer = body + "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  Decoded d = Decode(buffer, buffer.size());
  EXPECT_EQ(d.result, ChunkedDecoder::Result::kDone);
  EXPECT_EQ(d.consumed, body.size());
}

TEST(ChunkedDecoderTest, FeedingAfterTheEndConsumesNothing) {
  ChunkedDecoder decoder;
  const std::string body = "0\r\n\r\nmore";
  size_t consumed = 0;
  auto ignore = [](std::string_view) {};
  ASSERT_EQ(decoder.Feed(body.data(), body.size(), &consumed, ignore),
            ChunkedDecoder::Result::kDone);
  EXPECT_EQ(consumed, 5u);
  EXPECT_EQ(decoder.Feed(body.data() + 5, 4, &consumed, ignore), ChunkedDecoder::Result::kDone);
  EXPECT_EQ(consumed, 0u);
}

TEST(ChunkedDecoderTest, ErrorIsFinal) {
  ChunkedDecoder decoder;
  size_t consumed = 0;
  auto ignore = [](std::string_view) {};
  ASSERT_EQ(decoder.Feed("x", 1, &consumed, ignore), ChunkedDecoder::Result::kError);
  EXPECT_EQ(decoder.Feed("0\r\n\r\n", 5, &consumed, ignore), ChunkedDecoder::Result::kError);
}

TEST(ChunkedDecoderTest, NonHexSizeIsAnError) {
  ExpectDecodeError("g\r\nhello\r\n0\r\n\r\n");
  ExpectDecodeError("5g\r\nhello\r\n0\r\n\r\n");
  ExpectDecodeError("\r\n");
}

TEST(ChunkedDecoderTest, SeventeenHexDigitsAreAnError) {
  ExpectDecodeError("00000000000000005\r\nhello\r\n0\r\n\r\n");
  ExpectDecodeError("10000000000000000\r\n");
}

TEST(ChunkedDecoderTest, SizeWithSpaceSignOrPrefixIsAnError) {
  ExpectDecodeError("5 \r\nhello\r\n0\r\n\r\n");
  ExpectDecodeError(" 5\r\nhello\r\n0\r\n\r\n");
  ExpectDecodeError("5 ;x\r\nhello\r\n0\r\n\r\n");
  ExpectDecodeError("+5\r\nhello\r\n0\r\n\r\n");
  ExpectDecodeError("-5\r\nhello\r\n0\r\n\r\n");
  ExpectDecodeError("0x5\r\nhello\r\n0\r\n\r\n");
}

TEST(ChunkedDecoderTest, MissingCrlfAfterDataIsAnError) {
  ExpectDecodeError("5\r\nhelloX\r\n0\r\n\r\n");
  ExpectDecodeError("5\r\nhello0\r\n\r\n");
  ExpectDecodeError("5\r\nhello\rX0\r\n\r\n");
}

TEST(ChunkedDecoderTest, BareLfIsAnError) {
  ExpectDecodeError("5\nhello\r\n0\r\n\r\n");
  ExpectDecodeError("5\r\nhello\n0\r\n\r\n");
  ExpectDecodeError("5\r\nhello\r\n0\n\r\n");
  ExpectDecodeError("5\r\nhello\r\n0\r\nX: y\n\r\n");
  ExpectDecodeError("5\r\nhello\r\n0\r\n\n");
  ExpectDecodeError("5;ext\nhello\r\n0\r\n\r\n");
}

TEST(ChunkedDecoderTest, BareCrIsAnError) {
  ExpectDecodeError("5\rhello\r\n0\r\n\r\n");
  ExpectDecodeError("5\r\nhello\r\n0\r\n\rX");
  ExpectDecodeError("5\r\nhello\r\n0\r\nX: y\rZ\r\n\r\n");
}

TEST(ChunkedDecoderTest, ControlCharacterInMetadataIsAnError) {
  ExpectDecodeError("5;a\x01\r\nhello\r\n0\r\n\r\n");
  ExpectDecodeError("5\r\nhello\r\n0\r\nX: \x7f\r\n\r\n");
}

TEST(ChunkedDecoderTest, MetadataUnderTheLimitIsAccepted) {
  const std::string ext(ChunkedDecoder::kMaxMetadataBytes / 2, 'e');
  const std::string body = "5;" + ext + "\r\nhello\r\n0\r\nX: " + ext.substr(10) + "\r\n\r\n";
  EXPECT_EQ(Decode(body, body.size()).result, ChunkedDecoder::Result::kDone);
}

TEST(ChunkedDecoderTest, ExtensionOverTheLimitIsAnError) {
  const std::string ext(ChunkedDecoder::kMaxMetadataBytes + 1, 'e');
  ExpectDecodeError("5;" + ext + "\r\nhello\r\n0\r\n\r\n");
}

TEST(ChunkedDecoderTest, TrailersOverTheLimitAreAnError) {
  const std::string value(ChunkedDecoder::kMaxMetadataBytes + 1, 'v');
  ExpectDecodeError("0\r\nX: " + value + "\r\n\r\n");
}

TEST(ChunkedDecoderTest, MetadataLimitCountsTheWholeBody) {
  // Many small extensions and trailers add up to more than the limit.
  std::string body;
  for (size_t i = 0; i < ChunkedDecoder::kMaxMetadataBytes / 8; ++i) body += "1;abcdef\r\nx\r\n";
  body += "0\r\n";
  for (int i = 0; i < 100; ++i) body += "T: abcdefgh\r\n";
  body += "\r\n";
  ExpectDecodeError(body);
}

// --- HTTP dates ---------------------------------------------------------------------------

constexpr int64_t kRfcExampleTime = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

std::string Format(int64_t t) {
  char out[kHttpDateLength];
  FormatHttpDate(t, out);
  return std::string(out, kHttpDateLength);
}

bool ParsesTo(std::string_view text, int64_t expected) {
  int64_t t = -1;
  return ParseHttpDate(text, &t) && t == expected;
}

TEST(HttpDateTest, ImfFixdate) {
  EXPECT_TRUE(ParsesTo("Sun, 06 Nov 1994 08:49:37 GMT", kRfcExampleTime));
}

TEST(HttpDateTest, Rfc850Date) {
  EXPECT_TRUE(ParsesTo("Sunday, 06-Nov-94 08:49:37 GMT", kRfcExampleTime));
}

TEST(HttpDateTest, AsctimeDate) {
  EXPECT_TRUE(ParsesTo("Sun Nov  6 08:49:37 1994", kRfcExampleTime));
  EXPECT_TRUE(ParsesTo("Sun Nov 06 08:49:37 1994", kRfcExampleTime));
}

TEST(HttpDateTest, Rfc850TwoDigitYearsPivotAt70) {
  EXPECT_TRUE(ParsesTo("Thursday, 01-Jan-70 00:00:00 GMT", 0));
  EXPECT_TRUE(ParsesTo("Saturday, 01-Jan-00 00:00:00 GMT", 946684800));
  EXPECT_TRUE(ParsesTo("Tuesday, 01-Jan-69 00:00:00 GMT", 3124224000));
}

TEST(HttpDateTest, FormatsImfFixdate) {
  EXPECT_EQ(Format(kRfcExampleTime), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(Format(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(Format(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
}

TEST(HttpDateTest, FormatThenParseRoundTrips) {
  for (int64_t t : {int64_t{0}, int64_t{1}, kRfcExampleTime, int64_t{951782400},
                    int64_t{1700000000}, int64_t{4102444799}, int64_t{253402300799}}) {
    int64_t back = -1;
    EXPECT_TRUE(ParseHttpDate(Format(t), &back)) << Format(t);
    EXPECT_EQ(back, t) << Format(t);
  }
}

TEST(HttpDateTest, MalformedDatesAreRefused) {
  int64_t t = 0;
  for (std::string_view text : {
           "",
           "yesterday",
           "Sun, 06 Nov 1994 08:49:37 UTC",
           "Sun, 06 Nov 1994 08:49:37 GMT ",
           " Sun, 06 Nov 1994 08:49:37 GMT",
           "Sun, 6 Nov 1994 08:49:37 GMT",
           "Sun, 06 nov 1994 08:49:37 GMT",
           "Sun, 06 Foo 1994 08:49:37 GMT",
           "Sun, 00 Nov 1994 08:49:37 GMT",
           "Sun, 32 Nov 1994 08:49:37 GMT",
           "Sun, 06 Nov 1994 24:49:37 GMT",
           "Sun, 06 Nov 1994 08:60:37 GMT",
           "Sun, 06 Nov 1994 08:49:61 GMT",
           "Sun, 06 Nov 1994 08-49-37 GMT",
           "Sun, 06 Nov 19a4 08:49:37 GMT",
           "Sun, 06 Nov 1994 8:49:37 GMT",
           "Sun, 06-Nov-94 08:49:37 GMT",
           "Funday, 06-Nov-94 08:49:37 GMT",
           "Sunday, 06-Nov-1994 08:49:37 GMT",
           "Sunday, 06 Nov 94 08:49:37 GMT",
           "Sunday, 06-Nov-94 08:49:37 UTC",
           "Sun Nov  6 08:49:37 94",
           "Sun Nov x6 08:49:37 1994",
           "Sun Nov   6 08:49:37 1994",
           "Sun Nov  6 08:49:37 1994 ",
           "Sun Foo  6 08:49:37 1994",
       }) {
    EXPECT_FALSE(ParseHttpDate(text, &t)) << "'" << text << "'";
  }
}

}  // namespace
}  // namespace refuge::serve
