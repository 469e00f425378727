// serve_alloc_bench: counts heap allocations per request of `refuge serve` in steady state.
//
// The claim to check: a request for a cached object allocates nothing. This program
// replaces the global operator new with a counting one, starts the real Server in-process
// on 127.0.0.1:0 with one loop, publishes a site with small files, warms the cache, then
// sends requests over keep-alive connections with an allocation-free client (raw sockets,
// a pre-built request, a fixed read buffer) and prints allocations per request. It also
// does the same for a conditional request (304), a Range request (206), a 404 and a
// large object sent with sendfile (which opens the file: a few allocations are expected).
//
//   build-release/bench/serve_alloc_bench [REQUESTS]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/file_util.h"
#include "node/node_home.h"
#include "publish/publisher.h"
#include "serve/server.h"

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace {

using refuge::Status;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "serve_alloc_bench: %s\n", what.c_str());
  std::exit(1);
}

int Connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) Die("connect failed");
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Sends `request` and reads one response whose total size is known from the first one.
// Returns the response size (head + body), found by reading until Content-Length is met.
size_t RoundTrip(int fd, const std::string& request, char* buf, size_t cap) {
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    Die("send failed");
  }
  size_t have = 0;
  size_t want = 0;
  for (;;) {
    ssize_t n = ::recv(fd, buf + have, cap - have, 0);
    if (n <= 0) Die("connection closed");
    have += static_cast<size_t>(n);
    if (want == 0) {
      const char* end = static_cast<const char*>(memmem(buf, have, "\r\n\r\n", 4));
      if (end == nullptr) continue;
      size_t head = static_cast<size_t>(end - buf) + 4;
      const char* cl = static_cast<const char*>(memmem(buf, head, "Content-Length: ", 16));
      size_t body = 0;
      const bool no_body = std::strncmp(buf + 9, "304", 3) == 0 || request.compare(0, 4, "HEAD") == 0;
      if (cl != nullptr && !no_body) body = std::strtoull(cl + 16, nullptr, 10);
      want = head + body;
    }
    if (have >= want) return want;
    if (have == cap) have = 0, want -= cap;  // large bodies: keep reading, discard
  }
}

double AllocationsPerRequest(uint16_t port, const std::string& request, int requests) {
  constexpr int kConnections = 4;
  std::vector<int> fds;
  for (int i = 0; i < kConnections; ++i) fds.push_back(Connect(port));
  static char buf[1 << 16];
  for (int i = 0; i < 200; ++i) RoundTrip(fds[static_cast<size_t>(i % kConnections)], request, buf, sizeof buf);
  uint64_t before = g_allocations.load();
  for (int i = 0; i < requests; ++i) RoundTrip(fds[static_cast<size_t>(i % kConnections)], request, buf, sizeof buf);
  uint64_t after = g_allocations.load();
  for (int fd : fds) ::close(fd);
  return static_cast<double>(after - before) / requests;
}

}  // namespace

int main(int argc, char** argv) {
  const int requests = argc > 1 ? std::atoi(argv[1]) : 100'000;
  char tmpl[] = "/tmp/refuge-alloc-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) Die("mkdtemp failed");
  const std::string dir = tmpl;
  const std::string site_dir = dir + "/site";
  refuge::SystemClock clock;
  auto home = refuge::NodeHome::Open(dir + "/home");
  if (!home.ok()) Die(home.status().message());
  if (!refuge::MakeDirectories(site_dir).ok()) Die("mkdir failed");
  std::string small(1024, 'a');
  std::string large(1 << 20, 'b');
  if (!refuge::WriteFileDurable(site_dir + "/small.txt", small).ok() ||
      !refuge::WriteFileDurable(site_dir + "/large.bin", large).ok()) {
    Die("cannot write the site");
  }
  auto site = refuge::InitSite(**home, refuge::InitOptions{}, clock);
  if (!site.ok()) Die(site.status().message());
  auto published = refuge::Publish(**home, site->site_id, site_dir, refuge::PublishOptions{}, clock);
  if (!published.ok()) Die(published.status().message());

  refuge::serve::ServeConfig config;
  config.home = dir + "/home";
  config.listen = {"127.0.0.1:0"};
  config.admin_listen.clear();
  config.threads = 1;
  config.reload_interval_ms = 3'600'000;  // no catalog polling during the measurement
  auto server = refuge::serve::Server::Create(config, "");
  if (!server.ok()) Die(server.status().message());
  Status started = (*server)->Start();
  if (!started.ok()) Die(started.message());
  const std::string addr = (*server)->http_addresses().front();
  const uint16_t port = static_cast<uint16_t>(std::stoi(addr.substr(addr.rfind(':') + 1)));
  std::thread runner([&] { (*server)->Run(); });

  const std::string base = "/s/" + site->site_id + "/";
  auto get = [&](const std::string& path, const std::string& extra) {
    return "GET " + base + path + " HTTP/1.1\r\nHost: bench\r\n" + extra + "\r\n";
  };
  std::string etag;
  {
    int fd = Connect(port);
    static char buf[1 << 16];
    RoundTrip(fd, get("small.txt", ""), buf, sizeof buf);
    const char* e = static_cast<const char*>(memmem(buf, sizeof buf, "ETag: ", 6));
    if (e == nullptr) Die("no ETag");
    etag = std::string(e + 6, 66);
    ::close(fd);
  }
  struct Case {
    const char* name;
    std::string request;
    int requests;
  } cases[] = {
      {"GET 1 KiB (cached)", get("small.txt", ""), requests},
      {"HEAD 1 KiB (cached)", "HEAD " + base + "small.txt HTTP/1.1\r\nHost: bench\r\n\r\n", requests},
      {"GET If-None-Match (304)", get("small.txt", "If-None-Match: " + etag + "\r\n"), requests},
      {"GET Range (206, cached)", get("small.txt", "Range: bytes=10-99\r\n"), requests},
      {"GET missing path (404)", get("missing", ""), requests},
      {"GET 1 MiB (sendfile)", get("large.bin", ""), requests / 50},
  };
  std::printf("%-28s %12s %16s\n", "request", "requests", "allocs/request");
  for (const Case& c : cases) {
    double per = AllocationsPerRequest(port, c.request, c.requests);
    std::printf("%-28s %12d %16.4f\n", c.name, c.requests, per);
  }
  (*server)->Shutdown();
  runner.join();
  std::string cleanup = "rm -rf '" + dir + "'";
  return std::system(cleanup.c_str()) == 0 ? 0 : 1;
}
