// refuge-load against a tiny loopback HTTP server run by the test (one thread, poll): the
// readers count successes, the flood comes from distinct 127.x source addresses, readers
// solve a challenge, slowloris connections are seen closed, --max-requests stops the run.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "load_options.h"
#include "load_runner.h"
#include "proof_of_work.h"

namespace refuge::load {
namespace {

constexpr char kSeed[] = "00ff";
constexpr int kBits = 8;
constexpr char kClearance[] = "ok-42";

class TinyServer {
 public:
  struct Config {
    bool challenge = false;   // 503 + Refuge-Challenge without the clearance cookie
    int head_timeout_ms = 0;  // close connections without a complete head by then
  };

  explicit TinyServer(Config config) : config_(config) {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    listen(listener_, 1024);
    socklen_t size = sizeof(address);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~TinyServer() {
    stop_ = true;
    thread_.join();
    for (auto& [fd, client] : clients_) close(fd);
    close(listener_);
  }

  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }
  std::set<std::string> peers() {
    std::lock_guard<std::mutex> lock(mutex_);
    return peers_;
  }
  uint64_t requests() const { return requests_; }
  uint64_t solved() const { return solved_; }

 private:
  struct Client {
    std::string in;
    int64_t opened_ms = 0;
  };

  static int64_t NowMs() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1'000'000;
  }

  void Loop() {
    while (!stop_) {
      std::vector<pollfd> fds{{listener_, POLLIN, 0}};
      for (auto& [fd, client] : clients_) fds.push_back({fd, POLLIN, 0});
      poll(fds.data(), fds.size(), 10);
      if (fds[0].revents & POLLIN) Accept();
      for (size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents != 0) Serve(fds[i].fd);
      }
      if (config_.head_timeout_ms > 0) {
        int64_t now = NowMs();
        for (auto it = clients_.begin(); it != clients_.end();) {
          if (now - it->second.opened_ms > config_.head_timeout_ms) {
            close(it->first);
            it = clients_.erase(it);
          } else {
            ++it;
          }
        }
      }
    }
  }

  void Accept() {
    sockaddr_in peer{};
    socklen_t size = sizeof(peer);
    int fd = accept4(listener_, reinterpret_cast<sockaddr*>(&peer), &size, SOCK_CLOEXEC);
    if (fd < 0) return;
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &peer.sin_addr, text, sizeof(text));
    {
      std::lock_guard<std::mutex> lock(mutex_);
      peers_.insert(text);
    }
    clients_[fd].opened_ms = NowMs();
  }

  void Serve(int fd) {
    char buffer[4096];
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) {
      close(fd);
      clients_.erase(fd);
      return;
    }
    Client& client = clients_[fd];
    client.in.append(buffer, static_cast<size_t>(n));
    size_t end;
    while ((end = client.in.find("\r\n\r\n")) != std::string::npos) {
      std::string head = client.in.substr(0, end);
      client.in.erase(0, end + 4);
      client.opened_ms = NowMs();  // a complete head resets the slowloris clock
      ++requests_;
      std::string answer = Answer(head);
      (void)!write(fd, answer.data(), answer.size());
    }
  }

  std::string Answer(const std::string& head) {
    std::string target = head.substr(4, head.find(' ', 4) - 4);
    if (config_.challenge) {
      if (target.rfind("/.refuge/shield/solve?", 0) == 0) {
        std::string expected = SolvePath(kSeed, *SolveChallenge(kSeed, kBits, 1 << 20), "/page");
        if (target != expected) return "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
        ++solved_;
        return std::string(
                   "HTTP/1.1 303 See Other\r\nLocation: /page\r\nSet-Cookie: "
                   "refuge_clearance=") +
               kClearance + "; Path=/; HttpOnly\r\nContent-Length: 0\r\n\r\n";
      }
      if (head.find(std::string("Cookie: refuge_clearance=") + kClearance) == std::string::npos) {
        return std::string("HTTP/1.1 503 Service Unavailable\r\nRefuge-Challenge: ") + kSeed + " " +
               std::to_string(kBits) + "\r\nContent-Length: 4\r\n\r\nwait";
      }
    }
    return "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  }

  Config config_;
  int listener_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::map<int, Client> clients_;
  std::mutex mutex_;
  std::set<std::string> peers_;
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> solved_{0};
};

RunStats RunRefugeLoad(std::vector<std::string> args) {
  auto options = ParseArguments(args);
  EXPECT_TRUE(options.ok()) << options.status().message();
  if (!options.ok()) return {};
  Status valid = ValidateOptions(*options, 20'000);
  EXPECT_TRUE(valid.ok()) << valid.message();
  auto plan = PlanLoad(*options, NamespaceInfo{});
  EXPECT_TRUE(plan.ok()) << plan.status().message();
  if (!plan.ok()) return {};
  auto stats = RunLoad(*plan);
  EXPECT_TRUE(stats.ok()) << stats.status().message();
  return stats.ok() ? *stats : RunStats();
}

TEST(EndToEndTest, ReadersSucceedAndTheFloodComesFromThreeAddresses) {
  TinyServer server({});
  RunStats stats =
      RunRefugeLoad({"--target", server.target(), "--duration", "1", "--readers", "2",
                     "--flood-sources", "3", "--flood-rate", "100", "--path", "/page"});
  const ModeStats& readers = stats.modes[Mode::kReaders];
  EXPECT_GT(readers.successes, 20u);
  EXPECT_EQ(readers.failures, 0u);
  EXPECT_EQ(readers.responses_by_status.at(200), readers.successes);
  EXPECT_GT(readers.latency_us.count(), 0u);
  const ModeStats& flood = stats.modes[Mode::kFlood];
  EXPECT_GT(flood.responses, 100u);
  EXPECT_LE(flood.requests_sent, 3u * 100u + 10u);  // paced at 100/s per source
  EXPECT_EQ(flood.connects_established, 3u);
  std::set<std::string> peers = server.peers();
  EXPECT_TRUE(peers.count("127.1.0.1") && peers.count("127.1.0.2") && peers.count("127.1.0.3"))
      << ::testing::PrintToString(peers);
  EXPECT_TRUE(peers.count("127.0.0.1"));
  EXPECT_EQ(peers.size(), 4u);
  EXPECT_EQ(stats.stop_reason, StopReason::kDuration);
}

TEST(EndToEndTest, ReadersSolveChallenges) {
  TinyServer server({.challenge = true});
  RunStats stats = RunRefugeLoad(
      {"--target", server.target(), "--duration", "1", "--readers", "2", "--path", "/page"});
  const ModeStats& readers = stats.modes[Mode::kReaders];
  EXPECT_EQ(readers.challenges_met, 2u);  // once per reader, then the cookie clears it
  EXPECT_EQ(readers.challenges_solved, 2u);
  EXPECT_EQ(server.solved(), 2u);
  EXPECT_GT(readers.successes, 10u);
  EXPECT_EQ(readers.failures, 0u) << ::testing::PrintToString(readers.failures_by_kind);
  EXPECT_EQ(readers.solve_us.count(), 2u);
}

TEST(EndToEndTest, NoSolveCountsChallengesAsFailures) {
  TinyServer server({.challenge = true});
  RunStats stats = RunRefugeLoad(
      {"--target", server.target(), "--duration", "0.3", "--readers", "1", "--no-solve"});
  const ModeStats& readers = stats.modes[Mode::kReaders];
  EXPECT_EQ(readers.successes, 0u);
  EXPECT_GT(readers.failures_by_kind.at("status_503"), 0u);
}

TEST(EndToEndTest, SlowlorisConnectionsAreHeldThenClosed) {
  TinyServer server({.head_timeout_ms = 200});
  RunStats stats =
      RunRefugeLoad({"--target", server.target(), "--duration", "1", "--slowloris", "5",
                     "--slowloris-interval-ms", "50", "--slowloris-sources", "2"});
  const ModeStats& slow = stats.modes[Mode::kSlowloris];
  EXPECT_GE(slow.closed_by_server, 10u);  // each lives ~200 ms, then is reopened
  EXPECT_GE(slow.lifetime_us.Percentile(50), 150'000u);
  EXPECT_LE(slow.lifetime_us.Percentile(50), 400'000u);
  EXPECT_EQ(slow.peak_open, 5u);
  std::set<std::string> peers = server.peers();
  EXPECT_TRUE(peers.count("127.3.0.1") && peers.count("127.3.0.2"));
}

TEST(EndToEndTest, MaxRequestsStopsTheRun) {
  TinyServer server({});
  RunStats stats = RunRefugeLoad({"--target", server.target(), "--duration", "10", "--readers", "2",
                                  "--reader-interval-ms", "0", "--max-requests", "50"});
  const ModeStats& readers = stats.modes[Mode::kReaders];
  EXPECT_EQ(readers.successes, 50u);
  EXPECT_EQ(stats.stop_reason, StopReason::kMaxRequests);
  EXPECT_LT(stats.elapsed_seconds, 3.0);
}

TEST(EndToEndTest, RefusedConnectionsAreCounted) {
  // A port nobody listens on: take one from the kernel and close it.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t size = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  close(fd);
  std::string target = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  RunStats stats = RunRefugeLoad(
      {"--target", target, "--duration", "0.3", "--readers", "1", "--conn-flood", "3"});
  EXPECT_GT(stats.modes[Mode::kReaders].failures_by_kind.at("connect_refused"), 0u);
  EXPECT_GT(stats.modes[Mode::kConnFlood].connect_refused, 0u);
}

TEST(EndToEndTest, WorkerProcessesAddUp) {
#if defined(__SANITIZE_THREAD__)
  // The test's own server thread makes this process multi-threaded at fork(), which
  // ThreadSanitizer cannot follow (refuge-load itself forks before starting any thread).
  GTEST_SKIP() << "fork from a multi-threaded process under ThreadSanitizer";
#endif
  TinyServer server({});
  RunStats stats =
      RunRefugeLoad({"--target", server.target(), "--duration", "0.5", "--readers", "3",
                     "--flood-sources", "2", "--flood-rate", "50", "--processes", "2"});
  EXPECT_EQ(stats.modes[Mode::kReaders].connections, 3u);
  EXPECT_EQ(stats.modes[Mode::kFlood].connections, 2u);
  EXPECT_GT(stats.modes[Mode::kReaders].successes, 10u);
  EXPECT_EQ(stats.modes[Mode::kReaders].failures, 0u);
  std::set<std::string> peers = server.peers();
  EXPECT_TRUE(peers.count("127.1.0.1") && peers.count("127.1.0.2"));
}

}  // namespace
}  // namespace refuge::load
