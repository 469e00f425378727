// Shield: what keeps one small node serving real readers through floods, slowloris and
// botnets (docs/SHIELD.md). Every decision is made as early and as cheaply as possible:
//
//   accept   a banned address or prefix is closed before a byte is read; per-address and
//            per-prefix connection caps; at the global cap the caller evicts the oldest
//            connection that has not sent a whole request (clients without a clearance first)
//   request  token buckets per address and per prefix (node-to-node /.refuge/ traffic: per
//            peer instead); over the limit 429 with Retry-After; a client refused ban_after
//            times in a row is banned; in under-attack mode a client without a clearance
//            cookie gets the challenge page (a proof of work, or a short wait without script)
//
// The shield only decides and counts; the server (serve/shield_gate.h) writes the answers.
// Under-attack mode is switched by the operator (SetMode) or by Tick, once a second, from the
// load figures, with hysteresis.
//
// Memory is bounded whatever the traffic: the client tables have a fixed capacity
// (ClientTable), connection counts exist only for open connections (bounded by
// max_connections).
//
// Thread-safety: every method is thread-safe (the event loops share one Shield). The client
// tables are split in kShards shards, each under its own mutex; counters are atomics.
#ifndef REFUGE_SHIELD_SHIELD_H_
#define REFUGE_SHIELD_SHIELD_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "shield/clearance.h"
#include "shield/client_key.h"
#include "shield/client_table.h"
#include "shield/shield_config.h"

namespace refuge::shield {

// The name of the clearance cookie and the shield's own endpoints.
inline constexpr std::string_view kCookieName = "refuge_clearance";
inline constexpr std::string_view kSolvePath = "/.refuge/shield/solve";
inline constexpr std::string_view kWaitPath = "/.refuge/shield/wait";

// Every outcome the shield counts (Prometheus: refuge_shield_events_total{event="..."}).
enum class Event : uint8_t {
  kServed,          // requests that passed
  kLimited,         // 429: over a rate limit
  kChallenged,      // challenge pages sent
  kSolved,          // proofs of work accepted (a clearance cookie set)
  kWaited,          // no-script waits accepted (a clearance cookie set)
  kBadSolution,     // solutions or tickets refused (forged, expired, not enough work)
  kCleared,         // requests carrying a valid clearance in under-attack mode
  kBanned,          // clients banned
  kDropped,         // connections closed at accept: banned address or prefix
  kRefused,         // connections closed at accept: over a connection cap
  kEvicted,         // connections closed to make room at the global cap
  kTimedOut,        // connections cut by a deadline (head, body rate, send rate, idle)
  kWouldLimit,      // dry run: requests that would have been limited
  kWouldChallenge,  // dry run: requests that would have been challenged
  kCount
};
const char* EventName(Event e);

class Shield {
 public:
  // The number of shards of the client tables (each has table_capacity / kShards entries).
  static constexpr size_t kShards = 16;

  // `config` must be valid (ValidateShieldConfig). `clearance` holds the node's secret.
  Shield(const ShieldConfig& config, Clearance clearance);
  Shield(const Shield&) = delete;
  Shield& operator=(const Shield&) = delete;

  const ShieldConfig& config() const { return config_; }
  // Does `ip` fall in an exempt network (the shield lets it through untouched)?
  bool IsExempt(const boost::asio::ip::address& ip) const;
  const Clearance& clearance() const { return clearance_; }

  // --- connections ---------------------------------------------------------------------
  enum class Admission : uint8_t {
    kAccept,
    kBanned,    // close at once (counted kDropped)
    kOverCap,   // per-address or per-prefix cap (counted kRefused)
    kFull       // the global cap: accept only if the caller evicts a connection for it
  };
  // Decides on a new connection; on kAccept the connection is counted (call Release when it
  // closes). `*cleared` tells whether the client's address showed a valid clearance lately
  // (such connections are evicted last).
  Admission Admit(const ClientAddress& client, int64_t now_ms, bool* cleared);
  // After kFull and a successful eviction: counts the connection as Admit does.
  void AdmitAfterEviction(const ClientAddress& client);
  void Release(const ClientAddress& client);
  int64_t open_connections() const { return open_.load(std::memory_order_relaxed); }
  // How full the node is, from 0 (half full or less) to 1000 (at the cap): the idle and head
  // timeouts shrink with it.
  int FillPermille() const;
  // `base_ms` scaled down by FillPermille, not under `floor_ms`.
  int64_t ShrinkTimeout(int64_t base_ms, int64_t floor_ms) const;

  // --- requests ------------------------------------------------------------------------
  struct Verdict {
    enum Kind : uint8_t {
      kServe,      // go on
      kLimit,      // 429, Retry-After: retry_after
      kBan,        // banned now (or still): 429 and close
      kChallenge,  // the challenge page (bits: its difficulty)
      kSolve,      // a GET of kSolvePath: the caller verifies it (Solve)
      kWait        // a GET of kWaitPath: the caller verifies it (Wait)
    } kind = kServe;
    uint32_t retry_after = 0;
    int bits = 0;
    bool cleared = false;  // the request carried a valid clearance
  };
  // `path` is the request target's path (before '?'); `cookie` the Cookie field.
  Verdict Check(const ClientAddress& client, std::string_view path, std::string_view cookie,
                int64_t now_ms, int64_t wall_s);

  // Verifies a solution (the query of kSolvePath: s=<seed>&n=<nonce>) or a ticket (the
  // query of kWaitPath: t=<ticket>); on success returns the cookie value to set.
  struct Clearing {
    ClearanceCheck check = ClearanceCheck::kMalformed;
    std::string cookie;        // when check is kOk
    uint32_t retry_after = 0;  // > 0: a valid ticket over nojs_per_minute (answer 429)
  };
  Clearing Solve(const ClientAddress& client, std::string_view seed, std::string_view nonce,
                 int64_t now_ms, int64_t wall_s);
  Clearing Wait(const ClientAddress& client, std::string_view ticket, int64_t now_ms,
                int64_t wall_s);

  // --- under-attack mode ---------------------------------------------------------------
  void SetMode(AttackMode mode);
  AttackMode mode() const { return mode_.load(std::memory_order_relaxed); }
  bool under_attack() const { return under_attack_.load(std::memory_order_relaxed); }
  int pow_bits() const { return pow_bits_.load(std::memory_order_relaxed); }
  // Called often (every loop sweep); acts at most once per second: measures the load,
  // switches kAuto's state and the difficulty.
  void Tick(int64_t now_ms);

  // --- figures -------------------------------------------------------------------------
  void Count(Event e) { events_[static_cast<size_t>(e)].fetch_add(1, std::memory_order_relaxed); }
  uint64_t count(Event e) const { return events_[static_cast<size_t>(e)].load(std::memory_order_relaxed); }
  size_t tracked_clients() const;
  uint64_t table_evictions() const;
  size_t table_memory_bytes() const;
  // `refuge shield status --json`: mode, figures, the busiest prefixes, current bans.
  std::string StatusJson(int64_t now_ms) const;

 private:
  struct Shard {
    mutable std::mutex mu;
    std::unique_ptr<ClientTable> table;
  };
  Shard& ShardOf(const ClientKey& key) { return shards_[key.Hash() >> 60 & (kShards - 1)]; }
  // Takes a token from `key`'s bucket; on refusal counts a strike (and bans at ban_after)
  // when `strikes` is set.
  Verdict Take(const ClientKey& key, const BucketLimit& limit, int64_t now_ms,
               bool strikes = true);
  void MarkCleared(const ClientKey& key, uint32_t until_s);
  bool CookieValid(const ClientAddress& client, std::string_view cookie, int64_t wall_s) const;

  const ShieldConfig config_;
  const Clearance clearance_;
  const BucketLimit address_limit_;
  const BucketLimit prefix_limit_;
  const BucketLimit peer_limit_;
  const BucketLimit noscript_limit_;
  std::vector<ExemptNetwork> exempt_;
  std::array<Shard, kShards> shards_;

  // Open connections per address and per prefix (entries exist only while > 0).
  mutable std::mutex connections_mu_;
  std::unordered_map<ClientKey, uint32_t, ClientKeyHash> connections_;
  std::atomic<int64_t> open_{0};

  std::array<std::atomic<uint64_t>, static_cast<size_t>(Event::kCount)> events_{};
  std::atomic<AttackMode> mode_;
  std::atomic<bool> under_attack_{false};
  std::atomic<int> pow_bits_;
  std::atomic<int64_t> next_tick_ms_{0};
  std::atomic<int64_t> clock_ms_{0};  // the last time Tick was given
  // Tick's state (only the thread that won next_tick_ms_ touches it).
  std::mutex tick_mu_;
  bool ticked_ = false;  // last_* hold a first measurement
  int64_t last_tick_ms_ = 0;
  uint64_t last_requests_ = 0;
  uint64_t last_refused_ = 0;
  uint64_t last_reset_ = 0;
  int64_t calm_since_ms_ = 0;
  std::atomic<int64_t> attack_since_ms_{0};
  std::atomic<uint32_t> last_rps_{0};
};

// The value of cookie `name` in a Cookie field ("a=1; refuge_clearance=v; b=2"), or empty.
std::string_view FindCookie(std::string_view header, std::string_view name);
// The value of query parameter `name` in "a=1&b=2" (not decoded), or empty.
std::string_view FindQueryParam(std::string_view query, std::string_view name);

}  // namespace refuge::shield

#endif  // REFUGE_SHIELD_SHIELD_H_
