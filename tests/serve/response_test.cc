// FormatResponseHead and SetErrorResponse: the status line and header fields written for
// each kind of response.
#include "serve/response.h"

#include <string>

#include <gtest/gtest.h>

#include "serve/request_path.h"

namespace refuge::serve {
namespace {

constexpr std::string_view kDate = "Sun, 06 Nov 1994 08:49:37 GMT";
const std::string kEtag(64, 'a');

std::string Head(const Response& r) {
  std::string out(kMaxResponseHeadBytes, '\0');
  size_t n = FormatResponseHead(r, kDate, out.data());
  EXPECT_LE(n, kMaxResponseHeadBytes);
  out.resize(n);
  return out;
}

bool Has(const std::string& head, std::string_view line) {
  return head.find("\r\n" + std::string(line) + "\r\n") != std::string::npos;
}

bool HasField(const std::string& head, std::string_view name) {
  return head.find("\r\n" + std::string(name) + ":") != std::string::npos;
}

// A 200 with the whole of a 1234-byte object, as the site router builds it.
Response Object() {
  Response r;
  r.status = 200;
  r.content_type = "text/html; charset=utf-8";
  r.cache_control = kImmutableCacheControl;
  r.etag_hex = kEtag;
  r.body = Response::Body::kMemory;
  r.total_length = 1234;
  return r;
}

TEST(ResponseHeadTest, OkHasLengthValidatorAndCaching) {
  const std::string head = Head(Object());
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
  EXPECT_TRUE(Has(head, "Date: Sun, 06 Nov 1994 08:49:37 GMT")) << head;
  EXPECT_TRUE(Has(head, "Content-Type: text/html; charset=utf-8")) << head;
  EXPECT_TRUE(Has(head, "Content-Length: 1234")) << head;
  EXPECT_TRUE(Has(head, "ETag: \"" + kEtag + "\"")) << head;
  EXPECT_TRUE(Has(head, "Cache-Control: public, max-age=31536000, immutable")) << head;
  EXPECT_TRUE(Has(head, "Accept-Ranges: bytes")) << head;
  EXPECT_TRUE(Has(head, "X-Content-Type-Options: nosniff")) << head;
  EXPECT_FALSE(HasField(head, "Connection")) << head;
  EXPECT_FALSE(HasField(head, "Content-Range")) << head;
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
  EXPECT_EQ(head.find("\r\n\r\n"), head.size() - 4) << "a single empty line, at the end";
}

TEST(ResponseHeadTest, PartialHasContentRangeAndItsLength) {
  Response r = Object();
  r.status = 206;
  r.partial = true;
  r.first = 10;
  r.last = 19;
  const std::string head = Head(r);
  EXPECT_EQ(head.rfind("HTTP/1.1 206 Partial Content\r\n", 0), 0u) << head;
  EXPECT_TRUE(Has(head, "Content-Range: bytes 10-19/1234")) << head;
  EXPECT_TRUE(Has(head, "Content-Length: 10")) << head;
  EXPECT_EQ(r.BodyBytes(), 10u);
}

TEST(ResponseHeadTest, UnsatisfiableHasContentRangeWithTheLength) {
  Response r = Object();
  r.status = 416;
  r.body = Response::Body::kNone;
  const std::string head = Head(r);
  EXPECT_EQ(head.rfind("HTTP/1.1 416 Range Not Satisfiable\r\n", 0), 0u) << head;
  EXPECT_TRUE(Has(head, "Content-Range: bytes */1234")) << head;
  EXPECT_TRUE(Has(head, "Content-Length: 0")) << head;
  EXPECT_EQ(r.BodyBytes(), 0u);
}

TEST(ResponseHeadTest, NotModifiedHasValidatorsButNoContentFields) {
  Response r = Object();
  r.status = 304;
  r.body = Response::Body::kNone;
  r.last_modified = 784111777;
  const std::string head = Head(r);
  EXPECT_EQ(head.rfind("HTTP/1.1 304 Not Modified\r\n", 0), 0u) << head;
  EXPECT_FALSE(HasField(head, "Content-Length")) << head;
  EXPECT_FALSE(HasField(head, "Content-Type")) << head;
  EXPECT_TRUE(Has(head, "ETag: \"" + kEtag + "\"")) << head;
  EXPECT_TRUE(Has(head, "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT")) << head;
  EXPECT_TRUE(HasField(head, "Cache-Control")) << head;
  EXPECT_EQ(r.BodyBytes(), 0u);
}

TEST(ResponseHeadTest, CloseAddsConnectionClose) {
  Response r = Object();
  r.close = true;
  EXPECT_TRUE(Has(Head(r), "Connection: close"));
}

TEST(ResponseHeadTest, HeadKeepsTheContentLengthOfTheGet) {
  Response get = Object();
  Response head = Object();
  head.head_only = true;
  EXPECT_EQ(Head(head), Head(get));
  EXPECT_EQ(head.BodyBytes(), 0u);
  EXPECT_EQ(get.BodyBytes(), 1234u);
}

TEST(ResponseHeadTest, HeadOfAPartialKeepsItsContentLength) {
  Response r = Object();
  r.status = 206;
  r.partial = true;
  r.first = 0;
  r.last = 0;
  r.head_only = true;
  EXPECT_TRUE(Has(Head(r), "Content-Length: 1"));
  EXPECT_EQ(r.BodyBytes(), 0u);
}

TEST(ResponseHeadTest, NoBodyMeansContentLengthZero) {
  Response r;
  r.status = 200;
  r.total_length = 99;  // not sent: there is no body
  EXPECT_TRUE(Has(Head(r), "Content-Length: 0"));
  EXPECT_EQ(r.BodyBytes(), 0u);
}

TEST(ResponseHeadTest, NoContentHasNoContentLength) {
  Response r;
  r.status = 204;
  r.allow = "GET, HEAD, OPTIONS";
  const std::string head = Head(r);
  EXPECT_EQ(head.rfind("HTTP/1.1 204 No Content\r\n", 0), 0u) << head;
  EXPECT_FALSE(HasField(head, "Content-Length")) << head;
  EXPECT_TRUE(Has(head, "Allow: GET, HEAD, OPTIONS")) << head;
}

TEST(ResponseHeadTest, RedirectHasLocation) {
  Response r;
  SetErrorResponse(&r, 308);
  r.location = "/s/abc/";
  const std::string head = Head(r);
  EXPECT_EQ(head.rfind("HTTP/1.1 308 Permanent Redirect\r\n", 0), 0u) << head;
  EXPECT_TRUE(Has(head, "Location: /s/abc/")) << head;
}

TEST(ResponseHeadTest, LongestLocationFits) {
  Response r = Object();
  r.status = 301;
  const std::string location(kMaxDecodedPathBytes, 'l');
  r.location = location;
  r.allow = "GET, HEAD, OPTIONS";
  r.last_modified = 253402300799;
  r.close = true;
  r.total_length = UINT64_MAX;
  // Head() checks the length against kMaxResponseHeadBytes.
  EXPECT_TRUE(HasField(Head(r), "Location"));
}

TEST(ResponseHeadTest, ErrorResponseHasAnUncachedPage) {
  Response r = Object();
  SetErrorResponse(&r, 404);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.cache_control, kNoStoreCacheControl);
  EXPECT_TRUE(r.etag_hex.empty());
  EXPECT_EQ(r.body, Response::Body::kMemory);
  EXPECT_EQ(r.memory, ErrorPage(404));
  EXPECT_NE(r.memory.find("404 Not Found"), std::string_view::npos);
  const std::string head = Head(r);
  EXPECT_EQ(head.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << head;
  EXPECT_TRUE(Has(head, "Content-Length: " + std::to_string(r.memory.size()))) << head;
  EXPECT_TRUE(Has(head, "Cache-Control: no-store")) << head;
  EXPECT_FALSE(HasField(head, "ETag")) << head;
  EXPECT_EQ(r.BodyBytes(), r.memory.size());
}

TEST(ResponseHeadTest, ErrorResponseKeepsHeadOnlyAndClose) {
  Response r;
  r.head_only = true;
  r.close = true;
  SetErrorResponse(&r, 400);
  EXPECT_TRUE(r.head_only);
  EXPECT_TRUE(r.close);
  EXPECT_EQ(r.BodyBytes(), 0u);
  const std::string head = Head(r);
  EXPECT_TRUE(Has(head, "Content-Length: " + std::to_string(ErrorPage(400).size()))) << head;
  EXPECT_TRUE(Has(head, "Connection: close")) << head;
}

TEST(ResponseHeadTest, ErrorResponseWithoutPageHasNoBody) {
  Response r;
  SetErrorResponse(&r, 599);
  EXPECT_EQ(r.body, Response::Body::kNone);
  const std::string head = Head(r);
  EXPECT_EQ(head.rfind("HTTP/1.1 599 Unknown\r\n", 0), 0u) << head;
  EXPECT_TRUE(Has(head, "Content-Length: 0")) << head;
}

TEST(ResponseHeadTest, NoPageFor416) {
  // A 416 carries Content-Range and no body; a page would desynchronize the stream.
  Response r;
  SetErrorResponse(&r, 416);
  EXPECT_EQ(r.body, Response::Body::kNone);
}

TEST(ResponseHeadTest, EveryErrorPageHasItsStatusInTheTitle) {
  for (int status : {400, 403, 404, 405, 408, 413, 417, 429, 451, 500, 501, 503, 505}) {
    std::string title = std::to_string(status) + " " + ReasonPhrase(status);
    EXPECT_NE(ErrorPage(status).find("<title>" + title + "</title>"), std::string_view::npos)
        << status;
  }
}

}  // namespace
}  // namespace refuge::serve
