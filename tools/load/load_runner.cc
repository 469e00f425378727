#include "load_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "challenge_solver.h"
#include "event_loop.h"
#include "flood_clients.h"
#include "reader_client.h"
#include "slow_clients.h"

namespace refuge::load {
namespace {

// How much lower the attack loop's thread runs than the readers' thread (nice units).
constexpr int kAttackThreadNice = 10;

// Worker pids, for forwarding an interrupt (read by a signal handler, hence atomics).
std::atomic<pid_t> g_workers[kMaxProcesses];
std::atomic<int> g_worker_count{0};

Result<SourceRange> PlanRange(const std::string& text, const char* default_v4, uint64_t count,
                              const Endpoint& target, const NamespaceInfo& ns, const char* role) {
  SourceRange range;
  range.count = count;
  std::string base_text = text;
  if (base_text.empty()) base_text = target.ip.is_v4() ? default_v4 : "::1";
  auto base = ParseIpLiteral(base_text);
  if (!base.ok()) return base.status().Annotate(role);
  if (base->family != target.ip.family) {
    return InvalidArgument(std::string(role) + " " + base_text +
                           " is not of the target's address family");
  }
  range.base = *base;
  if (count == 0) return range;
  REFUGE_ASSIGN_OR_RETURN(IpAddress first, NthAddress(*base, 0));
  auto last = NthAddress(*base, count - 1);
  if (!last.ok()) return last.status().Annotate(role);
  REFUGE_RETURN_IF_ERROR(CheckAddressAllowed(first, ns, role));
  REFUGE_RETURN_IF_ERROR(CheckAddressAllowed(
      *last, ns, std::string(role) + " (the last of " + std::to_string(count) + ")"));
  return range;
}

SocketAddress SourceAt(const SourceRange& range, uint64_t index) {
  // The range was checked by PlanLoad, so NthAddress cannot fail here.
  auto ip = NthAddress(range.base, index % range.count);
  return ToSocketAddress(ip.ok() ? *ip : range.base, 0);
}

TimeNs Ms(int ms) { return static_cast<TimeNs>(ms) * kMillisecond; }

// Everything one worker runs, kept alive until the loops are done. Members are destroyed
// in reverse order: clients first, then what they refer to.
struct Worker {
  std::map<Mode, ModeStats> attack_stats;
  ModeStats reader_stats;
  ReaderSettings reader_settings;
  FloodSettings flood_settings;
  SlowSettings slowloris_settings;
  SlowSettings slow_post_settings;
  SlowSettings slow_read_settings;
  std::vector<std::unique_ptr<ConnectGate>> gates;
  std::unique_ptr<EventLoop> attack_loop;
  std::unique_ptr<EventLoop> reader_loop;
  std::unique_ptr<ChallengeSolver> solver;
  std::vector<std::unique_ptr<LoopClient>> clients;
  size_t attack_clients = 0;
  size_t reader_clients = 0;
};

ConnectGate* NewGate(Worker& w, int limit) {
  w.gates.push_back(std::make_unique<ConnectGate>(limit));
  return w.gates.back().get();
}

// Adds the slow connections of one kind: items worker, worker+workers, ... of `total`.
void AddSlowClients(Worker& w, const LoadPlan& plan, Mode mode, const SlowSettings& settings,
                    int total, const SourceRange& sources, int receive_buffer, int worker,
                    int workers) {
  if (total <= 0) return;
  ModeStats& stats = w.attack_stats[mode];
  ConnectGate* gate = NewGate(w, plan.options.max_pending_connects);
  SocketAddress target = ToSocketAddress(plan.target.ip, plan.target.port);
  for (int j = worker; j < total; j += workers) {
    TcpClientConfig config{SourceAt(sources, static_cast<uint64_t>(j)), target, gate,
                           receive_buffer, Ms(plan.options.connect_timeout_ms)};
    auto client = std::make_unique<SlowClient>(*w.attack_loop, stats, config, settings, j);
    w.attack_loop->Add(*client);
    w.clients.push_back(std::move(client));
    ++stats.connections;
    ++w.attack_clients;
  }
}

}  // namespace

Result<LoadPlan> PlanLoad(const LoadOptions& options, const NamespaceInfo& ns) {
  LoadPlan plan;
  plan.options = options;
  // Names are refused by the parser: no DNS, ever.
  auto target = ParseEndpoint(options.target);
  if (!target.ok()) return target.status().Annotate("--target");
  plan.target = *target;
  REFUGE_RETURN_IF_ERROR(CheckAddressAllowed(plan.target.ip, ns, "target"));
  plan.host = options.host.empty() ? FormatEndpoint(plan.target) : options.host;
  plan.slow_read_path =
      options.slow_read_path.empty() ? options.paths.front() : options.slow_read_path;

  REFUGE_ASSIGN_OR_RETURN(plan.readers,
                          PlanRange(options.reader_source, "127.0.0.1",
                                    options.readers > 0 ? uint64_t(options.reader_sources) : 0,
                                    plan.target, ns, "reader source"));
  REFUGE_ASSIGN_OR_RETURN(
      plan.flood, PlanRange(options.flood_base, "127.1.0.1", uint64_t(options.flood_sources),
                            plan.target, ns, "flood source"));
  REFUGE_ASSIGN_OR_RETURN(plan.distributed, PlanRange(options.distributed_base, "127.2.0.1",
                                                      uint64_t(options.distributed_sources),
                                                      plan.target, ns, "distributed source"));
  REFUGE_ASSIGN_OR_RETURN(plan.slowloris,
                          PlanRange(options.slowloris_base, "127.3.0.1",
                                    options.slowloris > 0 ? uint64_t(options.slowloris_sources) : 0,
                                    plan.target, ns, "slowloris source"));
  REFUGE_ASSIGN_OR_RETURN(
      plan.conn_flood, PlanRange(options.conn_flood_base, "127.4.0.1",
                                 options.conn_flood > 0 ? uint64_t(options.conn_flood_sources) : 0,
                                 plan.target, ns, "conn-flood source"));
  REFUGE_ASSIGN_OR_RETURN(plan.slow_post,
                          PlanRange(options.slow_post_base, "127.5.0.1",
                                    options.slow_post > 0 ? uint64_t(options.slow_post_sources) : 0,
                                    plan.target, ns, "slow-post source"));
  REFUGE_ASSIGN_OR_RETURN(plan.slow_read,
                          PlanRange(options.slow_read_base, "127.6.0.1",
                                    options.slow_read > 0 ? uint64_t(options.slow_read_sources) : 0,
                                    plan.target, ns, "slow-read source"));
  return plan;
}

Result<RunStats> RunWorker(const LoadPlan& plan, int worker, int workers) {
  const LoadOptions& o = plan.options;
  TimeNs start = MonotonicNow();
  auto duration = static_cast<TimeNs>(o.duration_seconds * 1e9);
  std::optional<uint64_t> budget;
  if (o.max_requests > 0) budget = ShareOf(o.max_requests, worker, workers);
  RunControl control(start + duration, budget);

  Worker w;
  REFUGE_ASSIGN_OR_RETURN(w.attack_loop, EventLoop::Create(control));
  SocketAddress target = ToSocketAddress(plan.target.ip, plan.target.port);
  TimeNs connect_timeout = Ms(o.connect_timeout_ms);

  // Readers, in their own loop.
  uint64_t my_readers = ShareOf(uint64_t(o.readers), worker, workers);
  if (my_readers > 0) {
    REFUGE_ASSIGN_OR_RETURN(w.reader_loop, EventLoop::Create(control));
    if (!o.no_solve) {
      REFUGE_ASSIGN_OR_RETURN(w.solver, ChallengeSolver::Create(*w.reader_loop));
      w.reader_loop->Add(*w.solver);
    }
    w.reader_settings = ReaderSettings{o.paths, plan.host, Ms(o.reader_interval_ms),
                                       Ms(o.reader_timeout_ms), static_cast<int>(my_readers)};
    int index = 0;
    for (int j = worker; j < o.readers; j += workers) {
      TcpClientConfig config{SourceAt(plan.readers, uint64_t(j)), target, nullptr, 0,
                             connect_timeout};
      auto client = std::make_unique<ReaderClient>(*w.reader_loop, w.reader_stats, config,
                                                   w.reader_settings, index++, w.solver.get());
      w.reader_loop->Add(*client);
      w.clients.push_back(std::move(client));
      ++w.reader_stats.connections;
      ++w.reader_clients;
    }
  }

  // HTTP flood: C connections for each of this worker's sources.
  if (o.flood_sources > 0) {
    ModeStats& stats = w.attack_stats[Mode::kFlood];
    uint64_t my_connections =
        ShareOf(uint64_t(o.flood_sources), worker, workers) * uint64_t(o.flood_connections);
    TimeNs interval =
        o.flood_rate > 0 ? static_cast<TimeNs>(1e9 * o.flood_connections / o.flood_rate) : 0;
    w.flood_settings = FloodSettings{o.paths, plan.host, interval, Ms(o.request_timeout_ms),
                                     static_cast<int>(my_connections)};
    int index = 0;
    for (int s = worker; s < o.flood_sources; s += workers) {
      for (int c = 0; c < o.flood_connections; ++c) {
        TcpClientConfig config{SourceAt(plan.flood, uint64_t(s)), target, nullptr, 0,
                               connect_timeout};
        auto client =
            std::make_unique<FloodClient>(*w.attack_loop, stats, config, w.flood_settings, index++);
        w.attack_loop->Add(*client);
        w.clients.push_back(std::move(client));
        ++stats.connections;
        ++w.attack_clients;
      }
    }
  }

  // Distributed flood: this worker's addresses, a share of the pool.
  if (o.distributed_sources > 0) {
    ModeStats& stats = w.attack_stats[Mode::kDistributed];
    std::vector<SocketAddress> sources;
    for (int j = worker; j < o.distributed_sources; j += workers) {
      sources.push_back(SourceAt(plan.distributed, uint64_t(j)));
    }
    if (!sources.empty()) {
      std::vector<std::string> requests;
      for (const std::string& path : o.paths) {
        requests.push_back(BuildGetRequest(path, plan.host, "refuge-load/0.1 (distributed)", {},
                                           /*close=*/true));
      }
      auto driver = std::make_unique<DistributedDriver>(*w.attack_loop, stats, sources,
                                                        o.distributed_rate, std::move(requests));
      w.attack_loop->Add(*driver);
      uint64_t pool =
          std::max<uint64_t>(1, ShareOf(uint64_t(o.DistributedPool()), worker, workers));
      for (uint64_t i = 0; i < pool; ++i) {
        TcpClientConfig config{sources.front(), target, nullptr, 0, connect_timeout};
        auto slot = std::make_unique<DistributedSlot>(*w.attack_loop, stats, config, *driver,
                                                      Ms(o.request_timeout_ms));
        w.attack_loop->Add(*slot);
        driver->AddSlot(slot.get());
        w.clients.push_back(std::move(slot));
        ++stats.connections;
      }
      w.clients.push_back(std::move(driver));
      ++w.attack_clients;
    }
  }

  w.slowloris_settings = SlowSettings{
      SlowKind::kSlowloris, o.paths.front(), plan.host, Ms(o.slowloris_interval_ms), 0, 0};
  w.slow_post_settings = SlowSettings{SlowKind::kSlowPost,         o.paths.front(),    plan.host,
                                      Ms(o.slow_post_interval_ms), o.slow_post_length, 0};
  w.slow_read_settings = SlowSettings{SlowKind::kSlowRead,
                                      plan.slow_read_path,
                                      plan.host,
                                      Ms(o.slow_read_interval_ms),
                                      0,
                                      static_cast<size_t>(o.slow_read_bytes)};
  AddSlowClients(w, plan, Mode::kSlowloris, w.slowloris_settings, o.slowloris, plan.slowloris, 0,
                 worker, workers);
  AddSlowClients(w, plan, Mode::kSlowPost, w.slow_post_settings, o.slow_post, plan.slow_post, 0,
                 worker, workers);
  AddSlowClients(w, plan, Mode::kSlowRead, w.slow_read_settings, o.slow_read, plan.slow_read,
                 o.slow_read_rcvbuf, worker, workers);

  if (o.conn_flood > 0) {
    ModeStats& stats = w.attack_stats[Mode::kConnFlood];
    for (int j = worker; j < o.conn_flood; j += workers) {
      TcpClientConfig config{SourceAt(plan.conn_flood, uint64_t(j)), target, nullptr, 0,
                             connect_timeout};
      auto client = std::make_unique<ConnFloodClient>(*w.attack_loop, stats, config,
                                                      Ms(o.conn_flood_hold_ms));
      w.attack_loop->Add(*client);
      w.clients.push_back(std::move(client));
      ++stats.connections;
      ++w.attack_clients;
    }
  }

  if (w.reader_loop && w.attack_clients > 0) {
    std::thread readers([&w] { w.reader_loop->Run(); });
    // The attack thread yields to the readers' thread when both want the core: readers
    // measure the server, so their wake-ups must not wait behind a round of flood events.
    // (Linux keeps nice values per thread; the readers' thread was created before this.)
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kAttackThreadNice);
    w.attack_loop->Run();
    readers.join();
  } else if (w.reader_loop) {
    w.reader_loop->Run();
  } else {
    w.attack_loop->Run();
  }

  RunStats stats;
  TimeNs finished = std::max(w.attack_loop->finished_at(),
                             w.reader_loop ? w.reader_loop->finished_at() : TimeNs{0});
  stats.elapsed_seconds = static_cast<double>(finished - start) / 1e9;
  stats.stop_reason = control.reason();
  if (stats.stop_reason == StopReason::kNone) stats.stop_reason = StopReason::kDuration;
  if (o.readers > 0) stats.modes[Mode::kReaders] = w.reader_stats;
  for (auto& [mode, mode_stats] : w.attack_stats) stats.modes[mode] = mode_stats;
  // Modes this worker had no share of still appear (with zeros) in the merged result.
  if (o.flood_sources > 0) stats.modes[Mode::kFlood];
  if (o.distributed_sources > 0) stats.modes[Mode::kDistributed];
  if (o.slowloris > 0) stats.modes[Mode::kSlowloris];
  if (o.slow_post > 0) stats.modes[Mode::kSlowPost];
  if (o.slow_read > 0) stats.modes[Mode::kSlowRead];
  if (o.conn_flood > 0) stats.modes[Mode::kConnFlood];
  return stats;
}

namespace {

bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string ReadAll(int fd) {
  std::string out;
  char buffer[65536];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buffer, static_cast<size_t>(n));
  }
}

[[noreturn]] void RunChild(const LoadPlan& plan, int worker, int workers, int out_fd) {
  g_worker_count.store(0);  // a worker forwards interrupts to no one
  nlohmann::json message;
  Result<RunStats> stats = RunWorker(plan, worker, workers);
  if (stats.ok()) {
    message["stats"] = stats->ToJson();
  } else {
    message["error"] = stats.status().message();
  }
  bool written = WriteAll(out_fd, message.dump());
  _exit(stats.ok() && written ? 0 : 1);
}

}  // namespace

Result<RunStats> RunLoad(const LoadPlan& plan) {
  int workers = plan.options.processes;
  if (workers <= 1) return RunWorker(plan, 0, 1);

  std::vector<UniqueFd> pipes;
  std::vector<pid_t> pids;
  for (int w = 0; w < workers; ++w) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoStatus("pipe2", errno);
    UniqueFd read_end(fds[0]);
    UniqueFd write_end(fds[1]);
    pid_t pid = fork();
    if (pid < 0) return ErrnoStatus("fork", errno);
    if (pid == 0) {
      read_end.Reset();
      for (UniqueFd& other : pipes) other.Reset();
      RunChild(plan, w, workers, write_end.get());
    }
    g_workers[w].store(pid);
    g_worker_count.store(w + 1);
    pids.push_back(pid);
    pipes.push_back(std::move(read_end));
  }

  RunStats total;
  Status first_error;
  for (int w = 0; w < workers; ++w) {
    std::string text = ReadAll(pipes[static_cast<size_t>(w)].get());
    int status = 0;
    while (waitpid(pids[static_cast<size_t>(w)], &status, 0) < 0 && errno == EINTR) {
    }
    auto message = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (message.is_object() && message.contains("stats")) {
      try {
        total.Merge(RunStats::FromJson(message["stats"]));
        continue;
      } catch (const nlohmann::json::exception& e) {
        text = e.what();
      }
    }
    if (first_error.ok()) {
      std::string why = message.is_object() && message.contains("error")
                            ? message["error"].get<std::string>()
                            : "worker " + std::to_string(w) + " sent no results";
      first_error = Internal("worker " + std::to_string(w) + ": " + why);
    }
  }
  g_worker_count.store(0);
  if (!first_error.ok()) return first_error;
  return total;
}

void InterruptRun() {
  RunControl::Interrupt();
  int count = g_worker_count.load();
  for (int i = 0; i < count && i < kMaxProcesses; ++i) {
    pid_t pid = g_workers[i].load();
    if (pid > 0) kill(pid, SIGINT);
  }
}

}  // namespace refuge::load
