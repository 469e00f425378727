#include "serve/server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <ctime>
#include <optional>

#include "node/mirror_list.h"
#include "serve/admin_router.h"
#include "serve/node_api_router.h"
#include "serve/redirect_router.h"
#include "serve/tls_context.h"

namespace refuge::serve {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// How often each loop checks deadlines and picks up a new catalog.
constexpr auto kSweepInterval = std::chrono::milliseconds(100);
// A sweep closes at most this many expired connections, then resumes after kSweepResumeDelay
// (128 closes take about 2 ms here: bench/shield_bench.sh scenario a).
constexpr int kMaxClosesPerSweep = 128;
constexpr auto kSweepResumeDelay = std::chrono::milliseconds(1);
// File descriptors kept out of the connection cap: the node database, the object files being
// sent, the log, the follower's outbound connections.
constexpr int64_t kReservedDescriptors = 1024;
// How long accepting pauses after the process ran out of file descriptors.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);
// How often the opt-in access log is flushed to its file.
constexpr auto kAccessLogFlushInterval = std::chrono::seconds(1);
// The listen backlog (the kernel caps it at net.core.somaxconn).
constexpr int kListenBacklog = 4096;
// Bytes of request a connection buffer holds: two heads, so that a whole head and room
// for its body always fit once the previous pipelined requests are dropped.
constexpr size_t kMinReadCapacity = 16 * 1024;

using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

std::string FormatEndpoint(const tcp::endpoint& ep) {
  if (ep.address().is_v6()) return "[" + ep.address().to_string() + "]:" + std::to_string(ep.port());
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

std::string PathCacheControl(int64_t max_age) {
  return "public, max-age=" + std::to_string(max_age);
}

// Does `next` (a re-read config file) change an option that is read only at start?
// (`running` carries the command line's overrides and the resolved home and threads.)
bool RestartOnlyOptionsDiffer(const ServeConfig& next, const ServeConfig& running) {
  return next.tls_listen != running.tls_listen || next.redirect_listen != running.redirect_listen ||
         (next.threads != 0 && next.threads != running.threads) ||
         next.reload_interval_ms != running.reload_interval_ms ||
         next.drain_timeout_ms != running.drain_timeout_ms ||
         next.keepalive_timeout_ms != running.keepalive_timeout_ms ||
         next.request_head_timeout_ms != running.request_head_timeout_ms ||
         next.max_request_head_bytes != running.max_request_head_bytes ||
         next.max_header_count != running.max_header_count ||
         next.max_body_bytes != running.max_body_bytes ||
         next.cache_bytes != running.cache_bytes ||
         next.cache_max_object_bytes != running.cache_max_object_bytes ||
         next.access_log != running.access_log || next.acme_webroot != running.acme_webroot ||
         next.https_port != running.https_port || !(next.shield == running.shield);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// BufferPool

BufferPool::~BufferPool() {
  for (char* block : free_) ::munmap(block, block_size_);
}

char* BufferPool::Acquire() {
  ++in_use_;
  if (!free_.empty()) {
    char* block = free_.back();
    free_.pop_back();
    return block;
  }
  void* p = ::mmap(nullptr, block_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    spdlog::critical("out of memory for a connection buffer ({} bytes)", block_size_);
    std::abort();
  }
  return static_cast<char*>(p);
}

void BufferPool::Release(char* block) {
  --in_use_;
  if (free_.size() < kMaxFreeBlocks) {
    free_.push_back(block);
  } else {
    ::munmap(block, block_size_);
  }
}

// ---------------------------------------------------------------------------------------
// Loop

Loop::Loop(Server& server, int index)
    : server_(server),
      io_(1),
      limits_{static_cast<size_t>(server.config().max_request_head_bytes),
              server.config().max_header_count},
      pool_(std::max<size_t>(kMinReadCapacity, 2 * server.config().max_request_head_bytes)),
      counters_(*server.metrics().loops[static_cast<size_t>(index)]),
      cache_(server.config().cache_bytes /
                 static_cast<uint64_t>(std::max<size_t>(1, server.metrics().loops.size())),
             server.config().cache_max_object_bytes),
      sweep_timer_(io_) {}

Loop::~Loop() {
  connections_.clear();
  listeners_.clear();
}

const ServeConfig& Loop::config() const { return server_.config(); }
spdlog::logger* Loop::access_log() const { return server_.access_log(); }

void Loop::Tick() {
  now_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now().time_since_epoch())
                .count();
  int64_t now = static_cast<int64_t>(::time(nullptr));
  if (now != date_second_) {
    FormatHttpDate(now, date_);
    date_second_ = now;
  }
}

void Loop::AddListener(tcp::acceptor acceptor, ListenerKind kind) {
  auto listener = std::make_unique<Listener>(Listener{std::move(acceptor), kind, asio::steady_timer(io_)});
  listeners_.push_back(std::move(listener));
}

RequestHandler& Loop::HandlerFor(ListenerKind kind) {
  switch (kind) {
    case ListenerKind::kRedirect: return *redirect_router_;
    case ListenerKind::kAdmin: return *admin_router_;
    default: return *node_api_router_;
  }
}

void Loop::Accept(Listener& listener) {
  listener.acceptor.async_accept([this, &listener](const boost::system::error_code& ec, tcp::socket socket) {
    if (draining_ || ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors or memory: pause instead of spinning; other errors (a client
      // that reset before accept) just move on.
      if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
          ec == asio::error::no_memory) {
        // Make room by closing a connection that has not sent a whole request or is idle,
        // and accept again at once; with none to close, pause.
        if (ec == asio::error::no_descriptors && EvictOne()) {
          Accept(listener);
          return;
        }
        listener.retry.expires_after(kAcceptRetryDelay);
        listener.retry.async_wait([this, &listener](const boost::system::error_code& e) {
          if (!e && !draining_) Accept(listener);
        });
        return;
      }
      Accept(listener);
      return;
    }
    OnAccepted(listener, std::move(socket));
  });
}

namespace {

// Closes a refused connection with a reset: no lingering, no FIN_WAIT state kept for a
// client the node does not want (nothing was read from it).
void Reset(tcp::socket& socket) {
  boost::system::error_code ignored;
  socket.set_option(asio::socket_base::linger(true, 0), ignored);
  socket.close(ignored);
}

}  // namespace

void Loop::OnAccepted(Listener& listener, tcp::socket socket) {
  boost::system::error_code ignored;
  // The shield decides first, before anything is read or allocated for the connection.
  shield::ClientAddress client;
  bool shielded = listener.kind != ListenerKind::kAdmin && server_.config().shield.enabled;
  bool cleared = false;
  tcp::endpoint peer;
  if (shielded) {
    boost::system::error_code ec;
    peer = socket.remote_endpoint(ec);
    if (ec) {  // reset before we got here
      Accept(listener);
      return;
    }
    shielded = !server_.shield().IsExempt(peer.address());
  }
  if (shielded) {
    client = shield::ClientAddress::From(peer.address());
    shield::Shield& shield = server_.shield();
    switch (shield.Admit(client, now_ms_, &cleared)) {
      case shield::Shield::Admission::kAccept:
        break;
      case shield::Shield::Admission::kBanned:
      case shield::Shield::Admission::kOverCap:
        Reset(socket);
        Accept(listener);
        return;
      case shield::Shield::Admission::kFull:
        if (!EvictOne()) {
          shield.Count(shield::Event::kRefused);
          Reset(socket);
          Accept(listener);
          return;
        }
        shield.AdmitAfterEviction(client);
        break;
    }
  }
  socket.non_blocking(true, ignored);
  socket.set_option(tcp::no_delay(true), ignored);
  SslPtr ssl;
  std::shared_ptr<const void> tls_owner;
  if (listener.kind == ListenerKind::kHttps) {
    std::shared_ptr<const ServeState> state = server_.state();
    if (state->tls) {
      ssl.reset(SSL_new(state->tls->context().native_handle()));
      tls_owner = state->tls;
    }
    if (!ssl) {
      if (shielded) server_.shield().Release(client);
      Accept(listener);
      return;  // the socket closes
    }
    SSL_set_mode(ssl.get(), SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  }
  LoopCounters& counters = listener.kind == ListenerKind::kAdmin ? admin_counters_ : counters_;
  connections_.push_back(std::make_unique<Connection>(*this, std::move(socket), std::move(ssl),
                                                      std::move(tls_owner),
                                                      HandlerFor(listener.kind), counters));
  auto it = std::prev(connections_.end());
  if (listener.kind != ListenerKind::kAdmin) (*it)->SetGuarded();
  if (shielded) (*it)->SetClient(client, cleared);
  Accept(listener);
  (*it)->Start(it);  // may destroy the connection at once
}

bool Loop::EvictOne() {
  // Oldest first (connections_ is in accept order): a client without a clearance if any.
  Connection* fallback = nullptr;
  for (auto& c : connections_) {
    if (!c->evictable()) continue;
    if (!c->cleared()) {
      c->Evict();
      return true;
    }
    if (fallback == nullptr) fallback = c.get();
  }
  if (fallback == nullptr) return false;
  fallback->Evict();
  return true;
}

const ShieldGate* Loop::gate() const { return &server_.gate(); }

int64_t Loop::HeadTimeoutMs() const {
  const ServeConfig& c = server_.config();
  return server_.shield_ptr()->ShrinkTimeout(c.request_head_timeout_ms,
                                             c.shield.min_request_head_timeout_ms);
}

int64_t Loop::KeepAliveTimeoutMs() const {
  const ServeConfig& c = server_.config();
  return server_.shield_ptr()->ShrinkTimeout(c.keepalive_timeout_ms,
                                             c.shield.min_keepalive_timeout_ms);
}

void Loop::CountTimeout(LoopCounters& counters) {
  counters.timeouts.fetch_add(1, std::memory_order_relaxed);
  if (&counters != &admin_counters_) server_.shield().Count(shield::Event::kTimedOut);
}

void Loop::Destroy(std::list<std::unique_ptr<Connection>>::iterator it) {
  if (sweep_partial_ && it == sweep_next_) ++sweep_next_;
  connections_.erase(it);
  if (draining_ && connections_.empty()) io_.stop();
}

void Loop::RefreshState() {
  uint64_t generation = server_.state_generation();
  if (generation != state_generation_) {
    site_router_->SetState(server_.state());
    state_generation_ = generation;
  }
}

void Loop::Sweep() {
  Tick();
  RefreshState();
  server_.shield().Tick(now_ms_);
  const int64_t now = NowMs();
  // Closing is the costly part (a close system call each): when thousands of slowloris
  // connections expire together, the sweep closes kMaxClosesPerSweep and resumes 1 ms later
  // where it stopped, so requests of other connections are answered in between.
  auto it = sweep_partial_ ? sweep_next_ : connections_.begin();
  sweep_partial_ = false;
  int closes = 0;
  while (it != connections_.end()) {
    Connection& c = **it;
    ++it;  // CheckDeadline may destroy c
    if (c.CheckDeadline(now) && ++closes == kMaxClosesPerSweep && it != connections_.end()) {
      sweep_partial_ = true;
      sweep_next_ = it;
      break;
    }
  }
  if (draining_ && connections_.empty()) {
    io_.stop();
    return;
  }
  sweep_timer_.expires_after(sweep_partial_ ? kSweepResumeDelay : kSweepInterval);
  sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Sweep();
  });
}

Status Loop::Open(const std::string& home_path) {
  REFUGE_ASSIGN_OR_RETURN(home_, NodeHome::Open(home_path));
  return Status::Ok();
}

void Loop::Run() {
  site_router_ = std::make_unique<SiteRouter>(*home_, cache_, counters_);
  node_api_router_ = std::make_unique<NodeApiRouter>(server_.follower(), *site_router_);
  redirect_router_ = std::make_unique<RedirectRouter>(server_.config().acme_webroot,
                                                      server_.config().https_port);
  admin_router_ = std::make_unique<AdminRouter>(server_.metrics(), server_.shield(), now_ms_);
  Tick();
  RefreshState();
  for (auto& listener : listeners_) Accept(*listener);
  Sweep();
  io_.run();
}

void Loop::PostDrain() {
  asio::post(io_, [this] { DrainNow(); });
}

void Loop::PostStop() { io_.stop(); }

void Loop::DrainNow() {
  draining_ = true;
  for (auto& listener : listeners_) {
    boost::system::error_code ignored;
    listener->acceptor.close(ignored);
    listener->retry.cancel();
  }
  for (auto it = connections_.begin(); it != connections_.end();) {
    Connection& c = **it;
    ++it;  // Drain may destroy c
    c.Drain();
  }
  if (connections_.empty()) io_.stop();
}

// ---------------------------------------------------------------------------------------
// Server

Result<std::unique_ptr<Server>> Server::Create(const ServeConfig& config,
                                               const std::string& config_path) {
  REFUGE_RETURN_IF_ERROR(ValidateServeConfig(config));
  std::unique_ptr<Server> server(new Server());
  server->config_ = config;
  server->config_path_ = config_path;
  if (server->config_.home.empty()) server->config_.home = NodeHome::DefaultPath();
  int threads = config.threads;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  server->config_.threads = threads;

  REFUGE_ASSIGN_OR_RETURN(server->home_, NodeHome::Open(server->config_.home));
  if (!config.access_log.empty()) {
    try {
      server->access_log_ = spdlog::basic_logger_mt("access", config.access_log);
      server->access_log_->set_pattern("%Y-%m-%dT%H:%M:%S%z %v");
      // Lines reach the file within a second (a tail -f sees them; a crash loses at most
      // one second), without a write system call per request.
      spdlog::flush_every(kAccessLogFlushInterval);
    } catch (const spdlog::spdlog_ex& e) {
      return IOError("cannot open the access log " + config.access_log + ": " + e.what());
    }
  }
  for (int i = 0; i < threads; ++i) {
    server->metrics_.loops.push_back(std::make_unique<LoopCounters>());
  }
  // Every connection needs a descriptor (two while it sends a file): the connection cap must
  // leave room under the process's limit, which is first raised to its hard maximum.
  shield::ShieldConfig effective = server->config_.shield;
  {
    rlimit fds{};
    if (::getrlimit(RLIMIT_NOFILE, &fds) == 0) {
      if (fds.rlim_cur < fds.rlim_max) {
        fds.rlim_cur = fds.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &fds);
        ::getrlimit(RLIMIT_NOFILE, &fds);
      }
      const int64_t room = static_cast<int64_t>(fds.rlim_cur) - kReservedDescriptors;
      int& cap = effective.max_connections;
      if (room < cap) {
        const int clamped = static_cast<int>(std::max<int64_t>(16, room));
        spdlog::warn("[shield] max_connections {} does not fit the process's {} file descriptors; "
                     "using {} (raise the limit, e.g. LimitNOFILE= in systemd, to hold more)",
                     cap, fds.rlim_cur, clamped);
        cap = clamped;
        effective.max_connections_per_prefix = std::min(effective.max_connections_per_prefix, cap);
        effective.max_connections_per_address = std::min(effective.max_connections_per_address, cap);
      }
    }
  }
  // The shield's secret: the configured one (clearances survive a restart) or a random one.
  std::optional<shield::Clearance> clearance;
  if (config.shield.secret_hex.empty()) {
    clearance = shield::Clearance::Random();
  } else {
    REFUGE_ASSIGN_OR_RETURN(shield::Clearance configured,
                            shield::Clearance::FromHex(config.shield.secret_hex));
    clearance = std::move(configured);
  }
  server->shield_ = std::make_unique<shield::Shield>(effective, std::move(*clearance));
  server->gate_ = std::make_unique<ShieldGate>(*server->shield_);
  server->metrics_.shield = server->shield_.get();
  for (int i = 0; i < threads; ++i) {
    server->loops_.push_back(std::make_unique<Loop>(*server, i));
    REFUGE_RETURN_IF_ERROR(server->loops_.back()->Open(server->config_.home));
  }
  return server;
}

Server::~Server() {
  for (auto& loop : loops_) loop->PostStop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  loops_.clear();
  if (access_log_) {
    access_log_->flush();
    spdlog::drop("access");
  }
}

std::shared_ptr<const ServeState> Server::state() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return state_;
}

size_t Server::sites_served() const {
  auto s = state();
  return s && s->catalog ? s->catalog->site_count() : 0;
}

Status Server::Bind(const std::string& address, ListenerKind kind, std::string* bound) {
  REFUGE_ASSIGN_OR_RETURN(ListenAddress parsed, ParseListenAddress(address));
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(parsed.host, ec);
  if (ec) return InvalidArgument("invalid listen address " + address);
  uint16_t port = parsed.port;
  // The admin listener lives on the first loop only; the others are bound on every loop.
  size_t loops = kind == ListenerKind::kAdmin ? 1 : loops_.size();
  if (port != 0 && loops > 1) {
    // SO_REUSEPORT would let this node share a port another process (e.g. a second node
    // started by mistake) already listens on, splitting its traffic silently. A probe bound
    // without it fails with "Address already in use" in that case.
    tcp::acceptor probe(control_);
    tcp::endpoint endpoint(ip, port);
    probe.open(endpoint.protocol(), ec);
    if (!ec && ip.is_v6()) probe.set_option(asio::ip::v6_only(true), ec);
    if (!ec) probe.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) probe.bind(endpoint, ec);
    if (ec) return IOError("cannot listen on " + address + ": " + ec.message());
  }
  for (size_t i = 0; i < loops; ++i) {
    tcp::acceptor acceptor(loops_[i]->io());
    tcp::endpoint endpoint(ip, port);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec && ip.is_v6()) acceptor.set_option(asio::ip::v6_only(true), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec && loops > 1) acceptor.set_option(ReusePort(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(kListenBacklog, ec);
    if (ec) return IOError("cannot listen on " + address + ": " + ec.message());
    if (port == 0) port = acceptor.local_endpoint().port();  // the other loops bind this one
    if (i == 0) *bound = FormatEndpoint(acceptor.local_endpoint());
    loops_[i]->AddListener(std::move(acceptor), kind);
  }
  return Status::Ok();
}

Status Server::Start() {
  if (!config_.tls_listen.empty()) {
    REFUGE_ASSIGN_OR_RETURN(std::unique_ptr<TlsContext> tls, TlsContext::Create(config_.certificates));
    tls_ = std::move(tls);
  }
  REFUGE_RETURN_IF_ERROR(Reload(false));
  for (const std::string& a : config_.listen) {
    std::string bound;
    REFUGE_RETURN_IF_ERROR(Bind(a, ListenerKind::kHttp, &bound));
    http_addresses_.push_back(bound);
  }
  for (const std::string& a : config_.tls_listen) {
    std::string bound;
    REFUGE_RETURN_IF_ERROR(Bind(a, ListenerKind::kHttps, &bound));
    https_addresses_.push_back(bound);
  }
  for (const std::string& a : config_.redirect_listen) {
    std::string bound;
    REFUGE_RETURN_IF_ERROR(Bind(a, ListenerKind::kRedirect, &bound));
    redirect_addresses_.push_back(bound);
  }
  if (!config_.admin_listen.empty()) {
    REFUGE_RETURN_IF_ERROR(Bind(config_.admin_listen, ListenerKind::kAdmin, &admin_address_));
  }
  return StartFollower();
}

Status Server::StartFollower() {
  mirror::FollowerOptions o;
  o.home_path = config_.home;
  for (const std::string& url : config_.public_urls) {
    REFUGE_ASSIGN_OR_RETURN(std::string normalized, NormalizeNodeUrl(url));
    o.public_urls.push_back(normalized);
  }
  // Without configured URLs, a listener on a specific address names itself (a wildcard
  // address says nothing about how others reach the node).
  if (o.public_urls.empty() && !http_addresses_.empty()) {
    auto a = ParseListenAddress(http_addresses_.front());
    boost::system::error_code ec;
    auto ip = a.ok() ? asio::ip::make_address(a->host, ec) : asio::ip::address();
    if (a.ok() && !ec && !ip.is_unspecified()) o.public_urls.push_back("http://" + http_addresses_.front());
  }
  o.refresh_interval_seconds = config_.refresh_interval_seconds;
  o.origin_fanout = config_.origin_fanout;
  o.origin_fanout_delay_ms = config_.origin_fanout_delay_ms;
  o.sync.parallel_fetches = config_.parallel_fetches;
  o.sync.http.socks5_proxy = config_.socks5_proxy;
  if (config_.bandwidth_limit > 0) {
    bandwidth_ = std::make_unique<BandwidthLimiter>(config_.bandwidth_limit);
    o.sync.http.bandwidth_limiter = bandwidth_.get();
  }
  // A sync that committed a new version asks for a reload at once (else up to
  // reload_interval_ms later); the follower hints its peers once the loops serve it.
  o.request_reload = [this] {
    asio::post(control_, [this] {
      if (draining_) return;
      Status s = Reload(false);
      if (!s.ok()) spdlog::error("reload failed: {}", s.message());
    });
  };
  follower_ = std::make_unique<mirror::Follower>(std::move(o));
  REFUGE_RETURN_IF_ERROR(follower_->Start());
  follower_->CatalogServes(state()->catalog->Versions());
  return Status::Ok();
}

Status Server::Reload(bool reread_config) {
  ServeConfig routing = config_;
  std::shared_ptr<TlsContext> tls;
  {
    auto current = state();
    if (current) tls = current->tls;
  }
  if (!tls && tls_) tls = std::shared_ptr<TlsContext>(std::move(tls_));
  if (reread_config && !config_path_.empty()) {
    auto reread = LoadServeConfig(config_path_);
    if (!reread.ok()) return reread.status();
    routing = std::move(reread).value();
    REFUGE_RETURN_IF_ERROR(ValidateServeConfig(routing));
    if (RestartOnlyOptionsDiffer(routing, config_)) {
      spdlog::warn("the config file changed options that apply only on restart (listeners, "
                   "threads, limits, timeouts, cache sizes, access log); hosts, default_site, "
                   "path_max_age_seconds and certificates were reloaded");
    }
    if (!config_.tls_listen.empty() && !routing.certificates.empty()) {
      auto fresh = TlsContext::Create(routing.certificates);
      if (!fresh.ok()) {
        spdlog::error("certificates not reloaded: {}", fresh.status().message());
      } else {
        tls = std::shared_ptr<TlsContext>(std::move(fresh).value());
      }
    }
  }
  auto current = state();
  Catalog::BuildReport report;
  auto catalog = Catalog::Build(*home_, current ? current->catalog.get() : nullptr,
                                metrics_.sites, &report);
  for (const std::string& w : report.warnings) spdlog::warn("{}", w);
  metrics_.catalog_reload_failures.fetch_add(report.warnings.size(), std::memory_order_relaxed);
  metrics_.catalog_reloads.fetch_add(1, std::memory_order_relaxed);
  metrics_.sites_served.store(static_cast<int64_t>(catalog->site_count()), std::memory_order_relaxed);
  if (report.sites_loaded > 0) {
    spdlog::info("serving {} site(s) ({} newly verified)", catalog->site_count(), report.sites_loaded);
  }

  // Blocks (HTTP 451, node/block_list.h): the audit log is re-read when it changed, and the
  // objects only blocked files use are recomputed on every reload (a publish may add some).
  // Fail safe: a log that cannot be read keeps the previous blocks, and at start refuses to
  // serve at all; a broken hash chain is reported, and its entries still apply.
  std::shared_ptr<const BlockList> block_list =
      current && current->blocks ? current->blocks->list : nullptr;
  std::string blocks_fingerprint = current ? current->blocks_fingerprint : std::string();
  auto log_fingerprint = BlockLogFingerprint(config_.home);
  if (!current || !log_fingerprint.ok() || *log_fingerprint != blocks_fingerprint) {
    auto loaded = BlockList::Load(config_.home);
    if (!loaded.ok()) {
      if (!current) return loaded.status().Annotate("cannot read the blocks (refuge block list)");
      spdlog::error("blocks not reloaded, the previous ones stay: {}", loaded.status().message());
    } else {
      if (!loaded->chain_ok()) {
        spdlog::warn("the audit log of blocks is not intact ({}); its blocks still apply",
                     loaded->chain_error());
      }
      if (!loaded->empty() || block_list) {
        spdlog::info("{} block(s) active (audit log head {})", loaded->active().size(),
                     loaded->head_hash());
      }
      block_list = loaded->empty() ? nullptr : std::make_shared<const BlockList>(std::move(loaded).value());
    }
    if (log_fingerprint.ok()) blocks_fingerprint = *log_fingerprint;
  }
  std::shared_ptr<const ServeBlocks> blocks;
  if (block_list) {
    auto built = BuildServeBlocks(*home_, block_list);
    if (built.ok()) {
      blocks = std::move(built).value();
    } else if (current && current->blocks) {
      spdlog::error("blocks not recomputed, the previous ones stay: {}", built.status().message());
      blocks = current->blocks;
      blocks_fingerprint = current->blocks_fingerprint;  // try again at the next poll
    } else {
      return built.status().Annotate("cannot prepare the blocks");
    }
  }

  auto next = std::make_shared<ServeState>();
  std::map<std::string, int64_t> versions = catalog->Versions();
  next->catalog = std::move(catalog);
  next->blocks = std::move(blocks);
  next->blocks_fingerprint = std::move(blocks_fingerprint);
  next->tls = std::move(tls);
  for (const auto& [host, site] : routing.hosts) next->hosts.emplace(host, site);
  next->default_site = routing.default_site;
  next->path_cache_control = PathCacheControl(routing.path_max_age_seconds);
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    state_ = std::move(next);
  }
  generation_.fetch_add(1, std::memory_order_release);
  if (follower_) follower_->CatalogServes(std::move(versions));
  return Status::Ok();
}

void Server::ArmReloadTimer() {
  reload_timer_->expires_after(std::chrono::milliseconds(config_.reload_interval_ms));
  reload_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec || draining_) return;
    auto fingerprint = Catalog::Fingerprint(home_->db());
    auto current = state();
    auto blocks_fingerprint = BlockLogFingerprint(config_.home);  // `refuge block` changed it
    if ((fingerprint.ok() && (!current || *fingerprint != current->catalog->fingerprint())) ||
        (blocks_fingerprint.ok() && current && *blocks_fingerprint != current->blocks_fingerprint)) {
      Status s = Reload(false);
      if (!s.ok()) spdlog::error("reload failed: {}", s.message());
    }
    ArmReloadTimer();
  });
}

void Server::OnSignal(int signal) {
  if (signal == SIGHUP) {
    Status s = Reload(true);
    if (s.ok()) {
      spdlog::info("configuration and sites reloaded");
    } else {
      spdlog::error("reload failed, the previous configuration stays: {}", s.message());
    }
    return;
  }
  if (draining_) return;
  draining_ = true;
  spdlog::info("draining connections (at most {} ms)", config_.drain_timeout_ms);
  reload_timer_->cancel();
  for (auto& loop : loops_) loop->PostDrain();
  drain_timer_->expires_after(std::chrono::milliseconds(config_.drain_timeout_ms));
  drain_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    for (auto& loop : loops_) loop->PostStop();
  });
}

void Server::Shutdown() {
  asio::post(control_, [this] { OnSignal(SIGTERM); });
}

void Server::Run() {
  ::signal(SIGPIPE, SIG_IGN);
  asio::signal_set signals(control_, SIGINT, SIGTERM, SIGHUP);
  std::function<void()> wait_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      OnSignal(signal);
      wait_signal();
    });
  };
  wait_signal();
  reload_timer_ = std::make_unique<asio::steady_timer>(control_);
  drain_timer_ = std::make_unique<asio::steady_timer>(control_);
  ArmReloadTimer();

  std::atomic<int> running{static_cast<int>(loops_.size())};
  for (auto& loop : loops_) {
    Loop* l = loop.get();
    threads_.emplace_back([l, &running, this] {
      l->Run();
      if (running.fetch_sub(1) == 1) asio::post(control_, [this] { control_.stop(); });
    });
  }
  control_.run();
  for (auto& t : threads_) t.join();
  threads_.clear();
  if (follower_) follower_->Stop();
  if (access_log_) access_log_->flush();
}

}  // namespace refuge::serve
