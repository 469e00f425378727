// The real HTTP fetcher (libcurl) against the loopback test server: the bounds the TUF client
// relies on (endless data, announced lengths), and how HTTP answers map to status codes.
#include <gtest/gtest.h>

#include "net/fetcher.h"
#include "support/static_http_server.h"
#include "support/temp_dir.h"

namespace refuge {
namespace {

using refuge::testing::StaticHttpServer;
using refuge::testing::TempDir;
using refuge::testing::WriteTestFile;

class HttpFetcherLoopbackTest : public ::testing::Test {
 protected:
  HttpFetcherLoopbackTest() : server_(dir_.path()), fetcher_(NewHttpFetcher()) {}

  std::string Url(const std::string& path) const { return server_.base_url() + path; }

  TempDir dir_;
  StaticHttpServer server_;
  std::unique_ptr<Fetcher> fetcher_;
};

TEST_F(HttpFetcherLoopbackTest, FetchesAFile) {
  WriteTestFile(dir_.Sub("a/b c.txt"), "contents");
  auto body = fetcher_->Fetch(Url("/a/b%20c.txt"), 100);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, "contents");
}

TEST_F(HttpFetcherLoopbackTest, MissingFileIsNotFound) {
  EXPECT_EQ(fetcher_->Fetch(Url("/nope"), 100).status().code(), StatusCode::kNotFound);
}

TEST_F(HttpFetcherLoopbackTest, ExactlyTheLimitIsAccepted) {
  WriteTestFile(dir_.Sub("f"), std::string(1000, 'x'));
  EXPECT_TRUE(fetcher_->Fetch(Url("/f"), 1000).ok());
}

TEST_F(HttpFetcherLoopbackTest, AnnouncedLengthOverTheLimitIsTooLarge) {
  WriteTestFile(dir_.Sub("f"), std::string(1001, 'x'));
  uint64_t received = 0;
  Status s = fetcher_->FetchTo(Url("/f"), 1000, [&](std::string_view chunk) {
    received += chunk.size();
    return Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kTooLarge) << s.ToString();
  EXPECT_LE(received, 1000u);
}

TEST_F(HttpFetcherLoopbackTest, EndlessBodyIsCutAtTheLimit) {
  server_.ServeEndless("/endless");
  uint64_t received = 0;
  Status s = fetcher_->FetchTo(Url("/endless"), 5000, [&](std::string_view chunk) {
    received += chunk.size();
    return Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kTooLarge) << s.ToString();
  EXPECT_LE(received, 5000u);
  // The server saw the client hang up long before the 100 MiB it was ready to send.
  ASSERT_EQ(server_.requests().size(), 1u);
  EXPECT_LT(server_.requests()[0].body_bytes, uint64_t{16} << 20);
}

TEST_F(HttpFetcherLoopbackTest, ZeroLimitAcceptsOnlyAnEmptyBody) {
  WriteTestFile(dir_.Sub("empty"), "");
  WriteTestFile(dir_.Sub("one"), "1");
  EXPECT_TRUE(fetcher_->Fetch(Url("/empty"), 0).ok());
  EXPECT_EQ(fetcher_->Fetch(Url("/one"), 0).status().code(), StatusCode::kTooLarge);
  server_.ServeEndless("/endless");
  EXPECT_EQ(fetcher_->Fetch(Url("/endless"), 0).status().code(), StatusCode::kTooLarge);
}

TEST_F(HttpFetcherLoopbackTest, SinkErrorStopsTheTransfer) {
  WriteTestFile(dir_.Sub("f"), "data");
  Status s = fetcher_->FetchTo(Url("/f"), 100,
                               [](std::string_view) { return IOError("disk full"); });
  EXPECT_EQ(s.code(), StatusCode::kIOError);
}

TEST_F(HttpFetcherLoopbackTest, RefusedConnectionIsUnavailable) {
  uint16_t port;
  {
    StaticHttpServer gone(dir_.path());
    port = gone.port();
  }
  auto r = fetcher_->Fetch("http://127.0.0.1:" + std::to_string(port) + "/f", 100);
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
}

TEST_F(HttpFetcherLoopbackTest, ServerDoesNotServeOutsideItsRoot) {
  WriteTestFile(dir_.Sub("in/x"), "in");
  // Encoded dot segments that would climb out of the root are refused, not resolved.
  EXPECT_EQ(fetcher_->Fetch(Url("/%2E%2E/%2E%2E/%2E%2E/etc/passwd"), 1 << 20).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(fetcher_->Fetch(Url("/in/..%2F..%2F..%2Fetc%2Fpasswd"), 1 << 20).status().code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(fetcher_->Fetch(Url("/in/%2E%2E/in/x"), 100).ok());
}

}  // namespace
}  // namespace refuge
