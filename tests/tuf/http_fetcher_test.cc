// The real HTTP fetcher (libcurl) against the loopback test server: the bounds the TUF client
// relies on (endless data, announced lengths), how HTTP answers map to status codes (451
// included), the total timeout, a SOCKS5 proxy (a small one in this file) and the shared
// bandwidth cap.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "net/bandwidth_limiter.h"
#include "net/fetcher.h"
#include "support/scripted_http_server.h"
#include "support/static_http_server.h"
#include "support/temp_dir.h"

namespace refuge {
namespace {

using refuge::testing::ScriptedHttpServer;
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

// --- 451, timeouts, options ----------------------------------------------------------------

TEST(HttpFetcherTest, Http451IsNotFoundThatSaysBlocked) {
  ScriptedHttpServer server;
  server.Answer("/withheld", 451);
  server.Answer("/gone", 410);
  auto fetcher = NewHttpFetcher();
  Status s = fetcher->Fetch(server.base_url() + "/withheld", 100).status();
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_TRUE(IsBlockedByMirror(s)) << s.ToString();
  EXPECT_NE(s.message().find("blocked by the mirror (451)"), std::string::npos);
  Status gone = fetcher->Fetch(server.base_url() + "/gone", 100).status();
  EXPECT_EQ(gone.code(), StatusCode::kNotFound);
  EXPECT_FALSE(IsBlockedByMirror(gone));
}

TEST(HttpFetcherTest, ALongErrorPageIsTheErrorNotTooLarge) {
  ScriptedHttpServer server;
  ScriptedHttpServer::Script missing;
  missing.status = 404;
  missing.body = std::string(2000, 'e');
  server.Set("/missing", missing);
  ScriptedHttpServer::Script broken = missing;
  broken.status = 500;
  server.Set("/broken", broken);
  auto fetcher = NewHttpFetcher();
  EXPECT_EQ(fetcher->Fetch(server.base_url() + "/missing", 100).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(fetcher->Fetch(server.base_url() + "/broken", 100).status().code(),
            StatusCode::kUnavailable);
}

TEST(HttpFetcherTest, ServerErrorIsUnavailable) {
  ScriptedHttpServer server;
  server.Answer("/busy", 503);
  auto fetcher = NewHttpFetcher();
  EXPECT_EQ(fetcher->Fetch(server.base_url() + "/busy", 100).status().code(),
            StatusCode::kUnavailable);
}

TEST(HttpFetcherTest, TotalTimeoutEndsAStalledTransfer) {
  ScriptedHttpServer server;
  ScriptedHttpServer::Script script;
  script.body = std::string(100'000, 'a');
  script.stall_after = 1000;
  server.Set("/stall", script);
  HttpFetcherOptions options;
  options.total_timeout_ms = 300;
  auto fetcher = NewHttpFetcher(options);
  const auto start = std::chrono::steady_clock::now();
  Status s = fetcher->Fetch(server.base_url() + "/stall", 1 << 20).status();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(HttpFetcherTest, Socks5ProxyUrls) {
  EXPECT_EQ(*Socks5ProxyUrl("127.0.0.1:9050"), "socks5h://127.0.0.1:9050");
  EXPECT_EQ(*Socks5ProxyUrl("tor.local:9150"), "socks5h://tor.local:9150");
  EXPECT_EQ(*Socks5ProxyUrl("[::1]:9050"), "socks5h://[::1]:9050");
  EXPECT_EQ(*Socks5ProxyUrl("socks5h://127.0.0.1:9050/"), "socks5h://127.0.0.1:9050");
  for (const char* bad : {"", "127.0.0.1", ":9050", "127.0.0.1:", "127.0.0.1:0", "h:65536",
                          "h:12x", "socks5://127.0.0.1:9050", "http://h:1", "user@h:1", "h/x:1",
                          "::1:9050", "h :1"}) {
    EXPECT_EQ(Socks5ProxyUrl(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  HttpFetcherOptions options;
  options.socks5_proxy = "nonsense";
  EXPECT_EQ(ValidateHttpFetcherOptions(options).code(), StatusCode::kInvalidArgument);
  auto fetcher = NewHttpFetcher(options);
  EXPECT_EQ(fetcher->Fetch("http://127.0.0.1:1/x", 10).status().code(),
            StatusCode::kInvalidArgument);
}

// --- SOCKS5 -----------------------------------------------------------------------------------

// A minimal SOCKS5 proxy (RFC 1928, no authentication, CONNECT only) on 127.0.0.1 that sends
// every connection to 127.0.0.1 on the requested port, whatever host name was asked for, and
// records the names. A fetch of http://some.name.invalid:PORT/ can then only succeed if the
// name went to the proxy instead of the resolver.
class Socks5TestProxy {
 public:
  Socks5TestProxy() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listen_fd_, 16), 0);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~Socks5TestProxy() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    for (auto& t : relays_) t.join();
    ::close(listen_fd_);
  }
  uint16_t port() const { return port_; }
  std::vector<std::string> hosts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return hosts_;
  }

 private:
  static bool ReadN(int fd, unsigned char* p, size_t n) {
    while (n > 0) {
      ssize_t r = ::recv(fd, p, n, 0);
      if (r <= 0) return false;
      p += r;
      n -= static_cast<size_t>(r);
    }
    return true;
  }
  static bool WriteN(int fd, const unsigned char* p, size_t n) {
    while (n > 0) {
      ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
      if (w <= 0) return false;
      p += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }

  void Run() {
    while (!stop_) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      relays_.emplace_back([this, fd] {
        Serve(fd);
        ::close(fd);
      });
    }
  }

  void Serve(int client) {
    unsigned char b[262];
    if (!ReadN(client, b, 2) || b[0] != 5 || !ReadN(client, b + 2, b[1])) return;
    const unsigned char no_auth[2] = {5, 0};
    if (!WriteN(client, no_auth, 2)) return;
    if (!ReadN(client, b, 4) || b[0] != 5 || b[1] != 1) return;
    std::string host;
    if (b[3] == 1) {
      if (!ReadN(client, b, 4)) return;
      host = std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) +
             "." + std::to_string(b[3]);
    } else if (b[3] == 3) {
      if (!ReadN(client, b, 1)) return;
      const size_t n = b[0];
      if (!ReadN(client, b, n)) return;
      host.assign(reinterpret_cast<char*>(b), n);
    } else {
      return;
    }
    unsigned char port_bytes[2];
    if (!ReadN(client, port_bytes, 2)) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      hosts_.push_back(host);
    }
    int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::memcpy(&addr.sin_port, port_bytes, 2);
    const bool connected =
        ::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    const unsigned char reply[10] = {5, static_cast<unsigned char>(connected ? 0 : 5), 0, 1,
                                     0, 0, 0, 0, 0, 0};
    if (connected && WriteN(client, reply, sizeof reply)) {
      char buf[16384];
      for (;;) {
        pollfd fds[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
        if (::poll(fds, 2, 10'000) <= 0) break;
        int from = (fds[0].revents != 0) ? client : upstream;
        int to = from == client ? upstream : client;
        ssize_t n = ::recv(from, buf, sizeof buf, 0);
        if (n <= 0 || !WriteN(to, reinterpret_cast<unsigned char*>(buf), static_cast<size_t>(n))) {
          break;
        }
      }
    }
    ::close(upstream);
  }

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> relays_;  // joined in the destructor; touched by Run() only
  mutable std::mutex mu_;
  std::vector<std::string> hosts_;
};

TEST(HttpFetcherTest, FetchesThroughASocks5ProxyThatResolvesTheName) {
  ScriptedHttpServer server;
  server.Serve("/.refuge/v1/objects/x", "through the proxy");
  Socks5TestProxy proxy;
  const std::string url = "http://mirror.refuge-test.invalid:" + std::to_string(server.port()) +
                          "/.refuge/v1/objects/x";
  // Without the proxy the name does not resolve (.invalid is reserved, RFC 2606).
  HttpFetcherOptions direct;
  direct.connect_timeout_ms = 5000;
  EXPECT_FALSE(NewHttpFetcher(direct)->Fetch(url, 100).ok());

  HttpFetcherOptions options;
  options.socks5_proxy = "127.0.0.1:" + std::to_string(proxy.port());
  auto fetcher = NewHttpFetcher(options);
  auto body = fetcher->Fetch(url, 100);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, "through the proxy");
  ASSERT_EQ(proxy.hosts().size(), 1u);
  EXPECT_EQ(proxy.hosts()[0], "mirror.refuge-test.invalid");
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].path, "/.refuge/v1/objects/x");
}

TEST(HttpFetcherTest, ProxyThatIsDownIsUnavailable) {
  uint16_t port;
  {
    Socks5TestProxy gone;
    port = gone.port();
  }
  HttpFetcherOptions options;
  options.socks5_proxy = "127.0.0.1:" + std::to_string(port);
  auto r = NewHttpFetcher(options)->Fetch("http://mirror.refuge-test.invalid/x", 100);
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
}

// --- the bandwidth cap ------------------------------------------------------------------------

TEST(HttpFetcherTest, CappedFetchesTakeAtLeastTheirShareOfTime) {
  ScriptedHttpServer server;
  server.Serve("/a", std::string(256 * 1024, 'a'));
  server.Serve("/b", std::string(256 * 1024, 'b'));
  // 256 KiB/s with a 16 KiB bucket, shared by two fetchers on two threads: 512 KiB in all
  // take at least (512 - 16) / 256 = 1.94 s. The bound is loose on purpose (1.5 s).
  BandwidthLimiter limiter(256 * 1024, 16 * 1024);
  HttpFetcherOptions options;
  options.bandwidth_limiter = &limiter;
  const auto start = std::chrono::steady_clock::now();
  Status results[2];
  std::thread other([&] { results[1] = NewHttpFetcher(options)->Fetch(server.base_url() + "/b", 1 << 20).status(); });
  results[0] = NewHttpFetcher(options)->Fetch(server.base_url() + "/a", 1 << 20).status();
  other.join();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(results[0].ok()) << results[0].ToString();
  EXPECT_TRUE(results[1].ok()) << results[1].ToString();
  EXPECT_GE(elapsed, std::chrono::milliseconds(1500));
  EXPECT_LT(elapsed, std::chrono::seconds(30));
}

}  // namespace
}  // namespace refuge
