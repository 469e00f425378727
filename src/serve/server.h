// Server: `refuge serve`, one event loop per thread, each with its own listeners.
//
// Every listener address is bound once per loop with SO_REUSEPORT, so the kernel spreads
// new connections over the loops and no lock is shared on accept (port 0 is resolved by
// the first loop, the others bind the port it got). Each loop has its own buffer pool,
// object cache, database connection (for TUF metadata lookups) and counters.
//
// The control thread (the caller of Run) handles signals and reloads:
//   SIGHUP           re-read the config file (hosts, default site, max-age, access log)
//                    and reload the catalog; connections are not touched.
//   new publication  the node database is polled every reload_interval_ms; a changed site
//                    version rebuilds the catalog, which loops pick up within 100 ms.
//   SIGTERM, SIGINT  drain: listeners close, idle connections close, busy ones finish
//                    their response; after drain_timeout_ms the rest are cut.
//
// Thread-safety: Start/Run/Shutdown from one thread; loops run on their own threads.
#ifndef REFUGE_SERVE_SERVER_H_
#define REFUGE_SERVE_SERVER_H_

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "mirror/follower.h"
#include "net/bandwidth_limiter.h"
#include "node/node_home.h"
#include "serve/config.h"
#include "serve/connection.h"
#include "serve/metrics.h"
#include "serve/object_cache.h"
#include "serve/shield_gate.h"
#include "serve/site_router.h"
#include "shield/shield.h"

namespace spdlog {
class logger;
}

namespace refuge::serve {

class TlsContext;
class Server;

// Fixed-size buffer blocks for busy connections: [request bytes | response head]. Blocks
// are recycled; at most kMaxFreeBlocks stay allocated while unused. Blocks are mapped
// pages (mmap), not heap memory, so that the memory of a burst of connections goes back to
// the system when the burst is over instead of staying in the allocator's free lists.
class BufferPool {
 public:
  static constexpr size_t kMaxFreeBlocks = 128;

  explicit BufferPool(size_t read_capacity)
      : read_capacity_(read_capacity), block_size_(read_capacity + kMaxResponseHeadBytes) {}
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;
  char* Acquire();  // aborts if the system has no memory left (see docs/ERRORS.md)
  void Release(char* block);

  size_t read_capacity() const { return read_capacity_; }
  char* HeadArea(char* block) const { return block + read_capacity_; }
  size_t blocks_in_use() const { return in_use_; }

 private:
  const size_t read_capacity_;
  const size_t block_size_;
  std::vector<char*> free_;
  size_t in_use_ = 0;
};

enum class ListenerKind : uint8_t { kHttp, kHttps, kRedirect, kAdmin };

class Loop {
 public:
  Loop(Server& server, int index);
  ~Loop();
  // Opens the loop's own connection to the node home.
  Status Open(const std::string& home_path);

  boost::asio::io_context& io() { return io_; }
  BufferPool& pool() { return pool_; }
  LoopCounters& counters() { return counters_; }
  const ServeConfig& config() const;
  const ParseLimits& limits() const { return limits_; }
  spdlog::logger* access_log() const;
  // The loop's clock, read at each sweep (every kSweepInterval, 100 ms) rather than per
  // request: deadlines are checked at that granularity anyway, and the hot path saves the
  // clock reads. Milliseconds of a monotonic clock.
  int64_t NowMs() const { return now_ms_; }
  // Wall-clock seconds, read at the same time (for clearance cookies).
  int64_t WallSeconds() const { return date_second_; }
  // The shield's gate (the admin listener's connections do not use it: Connection::SetClient).
  const ShieldGate* gate() const;
  // Deadlines, shrunk by the shield as the node fills up (shield/shield.h ShrinkTimeout).
  int64_t HeadTimeoutMs() const;
  int64_t KeepAliveTimeoutMs() const;
  // Counts a connection cut by a deadline (counters and the shield's timed_out).
  void CountTimeout(LoopCounters& counters);
  // Closes the oldest connection that has not sent a whole request or is idle, one without
  // a clearance if there is one, to make room at the connection cap. False if none can go.
  bool EvictOne();
  // The Date header value, reformatted by the sweep when the second changes (so it is at
  // most 100 ms late).
  std::string_view Date() const { return std::string_view(date_, kHttpDateLength); }

  // Adds a listening socket (already bound and listening) of `kind`.
  void AddListener(boost::asio::ip::tcp::acceptor acceptor, ListenerKind kind);
  void Run();
  // Thread-safe: asks the loop to drain (and stop when empty) / to stop now.
  void PostDrain();
  void PostStop();
  void Destroy(std::list<std::unique_ptr<Connection>>::iterator it);
  size_t connection_count() const { return connections_.size(); }

 private:
  struct Listener {
    boost::asio::ip::tcp::acceptor acceptor;
    ListenerKind kind;
    boost::asio::steady_timer retry;  // accept paused after EMFILE
  };
  void Accept(Listener& listener);
  void OnAccepted(Listener& listener, boost::asio::ip::tcp::socket socket);
  void Sweep();
  void DrainNow();
  void RefreshState();
  void Tick();
  RequestHandler& HandlerFor(ListenerKind kind);

  Server& server_;
  boost::asio::io_context io_;
  ParseLimits limits_;
  BufferPool pool_;
  LoopCounters& counters_;
  LoopCounters admin_counters_;  // the admin listener's own traffic, not exported
  std::unique_ptr<NodeHome> home_;
  ObjectCache cache_;
  std::unique_ptr<SiteRouter> site_router_;
  std::unique_ptr<RequestHandler> node_api_router_;  // in front of site_router_
  std::unique_ptr<RequestHandler> redirect_router_;
  std::unique_ptr<RequestHandler> admin_router_;
  uint64_t state_generation_ = 0;
  std::list<std::unique_ptr<Listener>> listeners_;
  std::list<std::unique_ptr<Connection>> connections_;
  boost::asio::steady_timer sweep_timer_;
  // A sweep that stopped after kMaxClosesPerSweep resumes at sweep_next_ (kept valid by
  // Destroy).
  bool sweep_partial_ = false;
  std::list<std::unique_ptr<Connection>>::iterator sweep_next_;
  bool draining_ = false;
  int64_t now_ms_ = 0;
  int64_t date_second_ = -1;
  char date_[32];
};

class Server {
 public:
  // `config_path` (may be empty) is re-read on SIGHUP.
  static Result<std::unique_ptr<Server>> Create(const ServeConfig& config,
                                               const std::string& config_path);
  ~Server();

  // Binds every listener and loads the catalog. Errors name the address.
  Status Start();
  // Bound addresses ("127.0.0.1:41234", "[::1]:8443"), after Start.
  const std::vector<std::string>& http_addresses() const { return http_addresses_; }
  const std::vector<std::string>& https_addresses() const { return https_addresses_; }
  const std::vector<std::string>& redirect_addresses() const { return redirect_addresses_; }
  const std::string& admin_address() const { return admin_address_; }
  size_t sites_served() const;

  // Runs the loops and handles signals until drained. Returns when every loop stopped.
  void Run();
  // For tests and embedding: asks Run to drain and return (thread-safe).
  void Shutdown();

  // --- shared with the loops ---
  const ServeConfig& config() const { return config_; }
  ServerMetrics& metrics() { return metrics_; }
  spdlog::logger* access_log() const { return access_log_.get(); }
  mirror::Follower* follower() const { return follower_.get(); }
  shield::Shield& shield() { return *shield_; }
  const shield::Shield* shield_ptr() const { return shield_.get(); }
  const ShieldGate& gate() const { return *gate_; }
  uint64_t state_generation() const { return generation_.load(std::memory_order_acquire); }
  std::shared_ptr<const ServeState> state() const;

 private:
  Server() = default;
  Status Bind(const std::string& address, ListenerKind kind, std::string* bound);
  Status Reload(bool reread_config);
  void PublishState(std::shared_ptr<const Catalog> catalog);
  void OnSignal(int signal);
  void ArmReloadTimer();
  Status StartFollower();

  ServeConfig config_;
  std::string config_path_;
  ServerMetrics metrics_;
  std::unique_ptr<TlsContext> tls_;
  std::shared_ptr<spdlog::logger> access_log_;
  std::unique_ptr<NodeHome> home_;  // the control thread's own connection
  std::unique_ptr<BandwidthLimiter> bandwidth_;
  std::unique_ptr<mirror::Follower> follower_;  // follows sites, answers node-to-node calls
  std::unique_ptr<shield::Shield> shield_;      // shared by the loops
  std::unique_ptr<ShieldGate> gate_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::vector<std::thread> threads_;

  mutable std::mutex state_mu_;
  std::shared_ptr<const ServeState> state_;
  std::atomic<uint64_t> generation_{0};

  boost::asio::io_context control_;
  std::unique_ptr<boost::asio::steady_timer> reload_timer_;
  std::unique_ptr<boost::asio::steady_timer> drain_timer_;
  bool draining_ = false;
  std::vector<std::string> http_addresses_;
  std::vector<std::string> https_addresses_;
  std::vector<std::string> redirect_addresses_;
  std::string admin_address_;
};

}  // namespace refuge::serve

#endif  // REFUGE_SERVE_SERVER_H_
