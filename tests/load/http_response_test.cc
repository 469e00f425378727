// The response parser: framing (length, chunked, until close), the fields the load
// generator acts on, and feeding in arbitrary pieces.
#include "http_response.h"

#include <gtest/gtest.h>

namespace refuge::load {
namespace {

// Feeds `text` in pieces of `step` bytes; returns the bytes consumed in all.
size_t FeedInPieces(ResponseParser& parser, std::string_view text, size_t step) {
  size_t used = 0;
  while (used < text.size() && !parser.complete() && !parser.failed()) {
    used += parser.Feed(text.substr(used, step));
  }
  return used;
}

TEST(HttpResponseTest, StatusAndContentLength) {
  std::string text = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello";
  for (size_t step : {1u, 3u, 7u, 1000u}) {
    ResponseParser parser;
    parser.Start();
    EXPECT_EQ(FeedInPieces(parser, text, step), text.size());
    ASSERT_TRUE(parser.complete()) << step;
    EXPECT_EQ(parser.head().status, 200);
    EXPECT_EQ(parser.head().content_length, 5u);
    EXPECT_EQ(parser.body_bytes(), 5u);
    EXPECT_FALSE(parser.head().connection_close);
  }
}

TEST(HttpResponseTest, StopsAtTheEndOfOneResponse) {
  std::string two =
      "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
  ResponseParser parser;
  parser.Start();
  size_t used = parser.Feed(two);
  ASSERT_TRUE(parser.complete());
  EXPECT_EQ(parser.head().status, 204);
  parser.Start();
  parser.Feed(std::string_view(two).substr(used));
  ASSERT_TRUE(parser.complete());
  EXPECT_EQ(parser.head().status, 404);
}

TEST(HttpResponseTest, Chunked) {
  std::string text =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n1;ext=1\r\n!\r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n";
  for (size_t step : {1u, 2u, 5u, 1000u}) {
    ResponseParser parser;
    parser.Start();
    EXPECT_EQ(FeedInPieces(parser, text, step), text.size());
    ASSERT_TRUE(parser.complete()) << step << " " << parser.error();
    EXPECT_TRUE(parser.head().chunked);
    EXPECT_EQ(parser.body_bytes(), 16u);
  }
}

TEST(HttpResponseTest, BadChunksAreErrors) {
  for (const char* body : {"zz\r\nhello\r\n0\r\n\r\n", "5\r\nhelloXX0\r\n\r\n"}) {
    ResponseParser parser;
    parser.Start();
    parser.Feed(std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") + body);
    EXPECT_TRUE(parser.failed()) << body;
  }
}

TEST(HttpResponseTest, BodylessResponses) {
  for (const char* text : {"HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n",
                           "HTTP/1.1 204 No Content\r\n\r\n"}) {
    ResponseParser parser;
    parser.Start();
    parser.Feed(text);
    EXPECT_TRUE(parser.complete()) << text;
  }
  ResponseParser head;
  head.Start(/*head_request=*/true);
  head.Feed("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
  EXPECT_TRUE(head.complete());
}

TEST(HttpResponseTest, InterimResponsesAreSkipped) {
  ResponseParser parser;
  parser.Start();
  parser.Feed(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 413 Content Too Large\r\nContent-Length: 2\r\n\r\nno");
  ASSERT_TRUE(parser.complete());
  EXPECT_EQ(parser.head().status, 413);
}

TEST(HttpResponseTest, UntilCloseAndTruncation) {
  ResponseParser parser;
  parser.Start();
  parser.Feed("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nsome bytes");
  EXPECT_FALSE(parser.complete());
  EXPECT_TRUE(parser.head().connection_close);
  parser.FinishOnEof();
  EXPECT_TRUE(parser.complete());
  EXPECT_EQ(parser.body_bytes(), 10u);

  ResponseParser truncated;
  truncated.Start();
  truncated.Feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
  truncated.FinishOnEof();
  EXPECT_TRUE(truncated.failed());

  ResponseParser nothing;
  nothing.Start();
  nothing.FinishOnEof();
  EXPECT_TRUE(nothing.failed());
  EXPECT_FALSE(nothing.received_any());
}

TEST(HttpResponseTest, MalformedHeads) {
  for (const char* text : {"HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n",
                           "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
                           "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                           "HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "garbage\r\n\r\n"}) {
    ResponseParser parser;
    parser.Start();
    parser.Feed(text);
    EXPECT_TRUE(parser.failed()) << text;
  }
  ResponseParser big;
  big.Start();
  std::string huge = "HTTP/1.1 200 OK\r\nX: " + std::string(kMaxResponseHeadBytes, 'a');
  big.Feed(huge);
  EXPECT_TRUE(big.failed());
}

TEST(HttpResponseTest, ShieldFields) {
  auto head = ParseResponseHead(
      "HTTP/1.1 503 Service Unavailable\r\n"
      "Refuge-Challenge: 9f86d081884c7d65 18\r\n"
      "Retry-After: 30\r\n"
      "Set-Cookie: other=1; Path=/\r\n"
      "set-cookie: refuge_clearance=6553f100.0123456789abcdef; Path=/; Max-Age=3600; HttpOnly\r\n"
      "\r\n");
  ASSERT_TRUE(head.ok()) << head.status().message();
  EXPECT_EQ(head->status, 503);
  EXPECT_TRUE(head->has_challenge);
  EXPECT_EQ(head->challenge_seed, "9f86d081884c7d65");
  EXPECT_EQ(head->challenge_bits, 18);
  EXPECT_EQ(head->retry_after_seconds, 30);
  EXPECT_EQ(head->clearance, "6553f100.0123456789abcdef");

  // Malformed challenges are ignored, not solved.
  for (const char* value : {"nothex 4", "abcd", "abcd x", "abcd 999", ""}) {
    auto h =
        ParseResponseHead(std::string("HTTP/1.1 503 x\r\nRefuge-Challenge: ") + value + "\r\n\r\n");
    ASSERT_TRUE(h.ok());
    EXPECT_FALSE(h->has_challenge) << value;
  }
  // A cookie whose name merely starts the same is not the clearance.
  auto other =
      ParseResponseHead("HTTP/1.1 303 See Other\r\nSet-Cookie: refuge_clearance2=v\r\n\r\n");
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->clearance.empty());
}

TEST(HttpResponseTest, ConnectionHandling) {
  auto close = ParseResponseHead("HTTP/1.1 429 Too Many Requests\r\nConnection: Close\r\n\r\n");
  ASSERT_TRUE(close.ok());
  EXPECT_TRUE(close->connection_close);
  auto http10 = ParseResponseHead("HTTP/1.0 200 OK\r\n\r\n");
  ASSERT_TRUE(http10.ok());
  EXPECT_TRUE(http10->connection_close);
  auto http10_keep = ParseResponseHead("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n");
  ASSERT_TRUE(http10_keep.ok());
  EXPECT_FALSE(http10_keep->connection_close);
  auto bare_lf = ParseResponseHead("HTTP/1.1 200\nContent-Length: 3\n\n");
  ASSERT_TRUE(bare_lf.ok());
  EXPECT_EQ(bare_lf->content_length, 3u);
}

TEST(HttpResponseTest, BuildsRequests) {
  EXPECT_EQ(BuildGetRequest("/a", "127.0.0.1:80", "t", {}, false),
            "GET /a HTTP/1.1\r\nHost: 127.0.0.1:80\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n");
  EXPECT_EQ(BuildGetRequest("/a", "h", "t", "v", true),
            "GET /a HTTP/1.1\r\nHost: h\r\nUser-Agent: t\r\nAccept: */*\r\n"
            "Cookie: refuge_clearance=v\r\nConnection: close\r\n\r\n");
}

}  // namespace
}  // namespace refuge::load
