#include "shield/shield.h"

#include <algorithm>
#include <bit>
#include <nlohmann/json.hpp>
#include <vector>

namespace refuge::shield {

namespace {

// How long an address counts as cleared (for eviction order at accept) after it last showed
// a valid clearance cookie.
constexpr uint32_t kClearedMemorySeconds = 600;
// How many prefixes and bans `shield status` lists.
constexpr size_t kStatusListLength = 10;
constexpr size_t kStatusBanListLength = 100;

BucketLimit PerSecond(int rate, int burst) {
  return BucketLimit{static_cast<uint32_t>(rate) * 60, static_cast<uint32_t>(burst)};
}

}  // namespace

const char* EventName(Event e) {
  switch (e) {
    case Event::kServed: return "served";
    case Event::kLimited: return "limited";
    case Event::kChallenged: return "challenged";
    case Event::kSolved: return "solved";
    case Event::kWaited: return "waited";
    case Event::kBadSolution: return "bad_solution";
    case Event::kCleared: return "cleared";
    case Event::kBanned: return "banned";
    case Event::kDropped: return "dropped";
    case Event::kRefused: return "refused";
    case Event::kEvicted: return "evicted";
    case Event::kTimedOut: return "timed_out";
    case Event::kWouldLimit: return "would_limit";
    case Event::kWouldChallenge: return "would_challenge";
    case Event::kCount: break;
  }
  return "?";
}

Shield::Shield(const ShieldConfig& config, Clearance clearance)
    : config_(config),
      clearance_(std::move(clearance)),
      address_limit_(PerSecond(config.rate_per_address, config.burst_per_address)),
      prefix_limit_(PerSecond(config.rate_per_prefix, config.burst_per_prefix)),
      peer_limit_(PerSecond(config.peer_rate, config.peer_burst)),
      noscript_limit_{static_cast<uint32_t>(config.nojs_per_minute),
                      static_cast<uint32_t>(config.nojs_per_minute)},
      mode_(config.attack_mode),
      pow_bits_(config.pow_min_bits) {
  const size_t per_shard =
      std::max<size_t>(1, static_cast<size_t>(config.table_capacity) / kShards);
  for (Shard& s : shards_) s.table = std::make_unique<ClientTable>(per_shard);
  for (const std::string& e : config.exempt) {
    Result<ExemptNetwork> network = ParseExemptNetwork(e);
    if (network.ok()) exempt_.push_back(*network);  // checked by ValidateShieldConfig
  }
  under_attack_.store(config.attack_mode == AttackMode::kOn);
}

// ---------------------------------------------------------------------------------------
// Connections

bool Shield::IsExempt(const boost::asio::ip::address& ip) const {
  if (exempt_.empty()) return false;
  const std::array<uint8_t, 16> bytes = ClientAddress::From(ip).address.bytes;
  for (const ExemptNetwork& n : exempt_) {
    if (InNetwork(n, bytes)) return true;
  }
  return false;
}

Shield::Admission Shield::Admit(const ClientAddress& client, int64_t now_ms, bool* cleared) {
  const uint32_t now_s = static_cast<uint32_t>(now_ms / 1000);
  *cleared = false;
  if (config_.enabled) {
    for (const ClientKey* key : {&client.address, &client.prefix}) {
      Shard& shard = ShardOf(*key);
      std::lock_guard<std::mutex> lock(shard.mu);
      const ClientTable::Entry* e = shard.table->Peek(*key);
      if (e == nullptr) continue;
      if (e->banned_until_s > now_s && !config_.dry_run) {
        Count(Event::kDropped);
        return Admission::kBanned;
      }
      if (key == &client.address && e->cleared_until_s > now_s) *cleared = true;
    }
  }
  // The caps are checked and the connection counted under one lock: checked under the lock
  // and counted after it, concurrent accepts from one client (one per event loop) could all
  // pass a cap that had one place left.
  std::lock_guard<std::mutex> lock(connections_mu_);
  if (config_.enabled && !config_.dry_run) {
    auto a = connections_.find(client.address);
    auto p = connections_.find(client.prefix);
    const uint32_t by_address = a == connections_.end() ? 0 : a->second;
    const uint32_t by_prefix = p == connections_.end() ? 0 : p->second;
    if (by_address >= static_cast<uint32_t>(config_.max_connections_per_address) ||
        by_prefix >= static_cast<uint32_t>(config_.max_connections_per_prefix)) {
      Count(Event::kRefused);
      return Admission::kOverCap;
    }
  }
  if (open_.load(std::memory_order_relaxed) >= config_.max_connections) return Admission::kFull;
  open_.fetch_add(1, std::memory_order_relaxed);
  ++connections_[client.address];
  ++connections_[client.prefix];
  return Admission::kAccept;
}

void Shield::AdmitAfterEviction(const ClientAddress& client) {
  open_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(connections_mu_);
  ++connections_[client.address];
  ++connections_[client.prefix];
}

void Shield::Release(const ClientAddress& client) {
  open_.fetch_sub(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(connections_mu_);
  for (const ClientKey* key : {&client.address, &client.prefix}) {
    auto it = connections_.find(*key);
    if (it == connections_.end()) continue;
    if (--it->second == 0) connections_.erase(it);
  }
}

int Shield::FillPermille() const {
  const int64_t open = open_.load(std::memory_order_relaxed);
  const int64_t permille = open * 1000 / config_.max_connections;
  return static_cast<int>(std::clamp<int64_t>((permille - 500) * 2, 0, 1000));
}

int64_t Shield::ShrinkTimeout(int64_t base_ms, int64_t floor_ms) const {
  if (base_ms <= floor_ms) return base_ms;
  return base_ms - (base_ms - floor_ms) * FillPermille() / 1000;
}

// ---------------------------------------------------------------------------------------
// Requests

Shield::Verdict Shield::Take(const ClientKey& key, const BucketLimit& limit, int64_t now_ms,
                             bool strikes) {
  const uint32_t now_s = static_cast<uint32_t>(now_ms / 1000);
  Shard& shard = ShardOf(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  bool created = false;
  ClientTable::Entry& e = shard.table->Get(key, &created);
  if (created) e.set_bucket(FullBucket(limit, now_ms));
  Verdict v;
  if (e.banned_until_s > now_s && !config_.dry_run) {
    v.kind = Verdict::kBan;
    v.retry_after = e.banned_until_s - now_s;
    return v;
  }
  BucketState b = e.bucket();
  const bool taken = TakeToken(limit, now_ms, &b);
  e.set_bucket(b);
  if (taken) {
    // The bucket was full before this request: the client has been within its rate for a
    // while, so earlier refusals are forgiven.
    if (b.tokens + kTokenCost >= limit.capacity()) e.strikes = 0;
    return v;
  }
  if (strikes && e.strikes < UINT16_MAX) ++e.strikes;
  if (strikes && e.strikes >= config_.ban_after && !config_.dry_run) {
    e.strikes = 0;
    e.banned_until_s = now_s + static_cast<uint32_t>(config_.ban_seconds);
    Count(Event::kBanned);
    v.kind = Verdict::kBan;
    v.retry_after = static_cast<uint32_t>(config_.ban_seconds);
    return v;
  }
  v.kind = Verdict::kLimit;
  v.retry_after = RetryAfterSeconds(limit, b);
  return v;
}

void Shield::MarkCleared(const ClientKey& key, uint32_t until_s) {
  Shard& shard = ShardOf(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  bool created = false;
  ClientTable::Entry& e = shard.table->Get(key, &created);
  if (created) e.set_bucket(FullBucket(address_limit_, 0));
  e.cleared_until_s = until_s;
}

bool Shield::CookieValid(const ClientAddress& client, std::string_view cookie,
                         int64_t wall_s) const {
  std::string_view value = FindCookie(cookie, kCookieName);
  return !value.empty() && clearance_.VerifyCookie(value, client, wall_s) == ClearanceCheck::kOk;
}

Shield::Verdict Shield::Check(const ClientAddress& client, std::string_view path,
                              std::string_view cookie, int64_t now_ms, int64_t wall_s) {
  Verdict v;
  if (!config_.enabled) {
    Count(Event::kServed);
    return v;
  }
  // A refusal in dry-run mode is only counted.
  auto refuse = [this](Verdict r) {
    if (config_.dry_run) {
      Count(Event::kWouldLimit);
      Count(Event::kServed);
      return Verdict();
    }
    Count(Event::kLimited);  // a ban's answer is a 429 too
    return r;
  };
  if (path.starts_with("/.refuge/")) {
    if (path == kSolvePath || path == kWaitPath) {
      // Attempts are bounded by the address's rate like any request.
      Verdict t = Take(client.address, address_limit_, now_ms);
      if (t.kind != Verdict::kServe) return refuse(t);
      v.kind = path == kSolvePath ? Verdict::kSolve : Verdict::kWait;
      return v;
    }
    Verdict t = Take(client.As(KeyKind::kPeer), peer_limit_, now_ms);
    if (t.kind != Verdict::kServe) return refuse(t);
    Count(Event::kServed);
    return v;
  }
  const bool attack = under_attack();
  if (attack && !cookie.empty() && CookieValid(client, cookie, wall_s)) {
    v.cleared = true;
    Count(Event::kCleared);
    MarkCleared(client.address, static_cast<uint32_t>(now_ms / 1000) + kClearedMemorySeconds);
  }
  Verdict t = Take(client.address, address_limit_, now_ms);
  if (t.kind != Verdict::kServe) return refuse(t);
  // A cleared client has done the work: its neighbours' flood does not count against it.
  if (!v.cleared) {
    t = Take(client.prefix, prefix_limit_, now_ms);
    if (t.kind != Verdict::kServe) return refuse(t);
  }
  if (attack && !v.cleared) {
    if (config_.dry_run) {
      Count(Event::kWouldChallenge);
      Count(Event::kServed);
      return v;
    }
    Count(Event::kChallenged);
    v.kind = Verdict::kChallenge;
    v.bits = pow_bits();
    return v;
  }
  Count(Event::kServed);
  return v;
}

Shield::Clearing Shield::Solve(const ClientAddress& client, std::string_view seed,
                               std::string_view nonce, int64_t now_ms, int64_t wall_s) {
  Clearing c;
  c.check = clearance_.VerifySolution(seed, nonce, client, wall_s);
  if (c.check != ClearanceCheck::kOk) {
    Count(Event::kBadSolution);
    return c;
  }
  Count(Event::kSolved);
  c.cookie = clearance_.MakeCookie(client, wall_s + config_.clearance_seconds);
  MarkCleared(client.address, static_cast<uint32_t>(now_ms / 1000) + kClearedMemorySeconds);
  return c;
}

Shield::Clearing Shield::Wait(const ClientAddress& client, std::string_view ticket,
                              int64_t now_ms, int64_t wall_s) {
  Clearing c;
  const ClearanceCheck check = clearance_.VerifyTicket(ticket, client, wall_s, config_.nojs_delay_seconds);
  if (check != ClearanceCheck::kOk) {
    c.check = check;
    Count(Event::kBadSolution);
    return c;
  }
  // The stricter rate of the no-script path: a few clearances per prefix per minute.
  // (No strikes: a prefix full of script-less readers is not an attacker.)
  Verdict t = Take(client.As(KeyKind::kNoScript), noscript_limit_, now_ms, /*strikes=*/false);
  if (t.kind != Verdict::kServe) {
    c.retry_after = t.retry_after;
    return c;
  }
  c.check = ClearanceCheck::kOk;
  Count(Event::kWaited);
  c.cookie = clearance_.MakeCookie(client, wall_s + config_.clearance_seconds);
  MarkCleared(client.address, static_cast<uint32_t>(now_ms / 1000) + kClearedMemorySeconds);
  return c;
}

// ---------------------------------------------------------------------------------------
// Under-attack mode

void Shield::SetMode(AttackMode mode) {
  mode_.store(mode, std::memory_order_relaxed);
  if (mode == AttackMode::kAuto) return;  // Tick decides
  const bool on = mode == AttackMode::kOn;
  if (on && !under_attack_.load()) attack_since_ms_.store(clock_ms_.load());
  under_attack_.store(on, std::memory_order_relaxed);
  if (!on) pow_bits_.store(config_.pow_min_bits);
  std::lock_guard<std::mutex> lock(tick_mu_);
  calm_since_ms_ = 0;
}

void Shield::Tick(int64_t now_ms) {
  clock_ms_.store(now_ms, std::memory_order_relaxed);
  if (attack_since_ms_.load(std::memory_order_relaxed) == 0 && under_attack()) {
    attack_since_ms_.store(now_ms);  // switched on by the config, before the first tick
  }
  int64_t next = next_tick_ms_.load(std::memory_order_relaxed);
  if (now_ms < next) return;
  if (!next_tick_ms_.compare_exchange_strong(next, now_ms + 1000)) return;
  std::lock_guard<std::mutex> lock(tick_mu_);
  const uint64_t requests = count(Event::kServed) + count(Event::kLimited) + count(Event::kChallenged);
  // Refusals that cost the node work (a request parsed, a connection held until a deadline)
  // and those that cost it almost nothing (a reset at accept).
  const uint64_t refused = count(Event::kLimited) + count(Event::kTimedOut) + count(Event::kEvicted);
  const uint64_t reset = count(Event::kDropped) + count(Event::kRefused);
  if (!ticked_ || now_ms <= last_tick_ms_) {
    ticked_ = true;
    last_tick_ms_ = now_ms;
    last_requests_ = requests;
    last_refused_ = refused;
    last_reset_ = reset;
    return;
  }
  const int64_t elapsed = now_ms - last_tick_ms_;
  const int64_t rps = static_cast<int64_t>(requests - last_requests_) * 1000 / elapsed;
  const int64_t refused_ps = static_cast<int64_t>(refused - last_refused_) * 1000 / elapsed;
  const int64_t reset_ps = static_cast<int64_t>(reset - last_reset_) * 1000 / elapsed;
  last_tick_ms_ = now_ms;
  last_requests_ = requests;
  last_refused_ = refused;
  last_reset_ = reset;
  last_rps_.store(static_cast<uint32_t>(std::min<int64_t>(rps, UINT32_MAX)));
  const int64_t connections_pct = open_connections() * 100 / config_.max_connections;
  // The load as thousandths of the nearest threshold. Connections reset at accept count
  // towards switching the mode on (they are an attack) but not towards the difficulty (they
  // cost the node nothing, and readers should not pay for a banned address's reconnects).
  const int64_t work = std::max({rps * 1000 / config_.attack_requests_per_second,
                                 refused_ps * 1000 / config_.attack_refused_per_second,
                                 connections_pct * 1000 / config_.attack_connections_percent});
  const int64_t load =
      std::max(work, (refused_ps + reset_ps) * 1000 / config_.attack_refused_per_second);
  const AttackMode mode = mode_.load();
  bool attack = under_attack_.load();
  if (mode == AttackMode::kAuto) {
    if (load >= 1000) {
      if (!attack) attack_since_ms_.store(now_ms);
      attack = true;
      calm_since_ms_ = 0;
    } else if (attack) {
      if (load >= 500) {
        calm_since_ms_ = 0;
      } else if (calm_since_ms_ == 0) {
        calm_since_ms_ = now_ms;
      } else if (now_ms - calm_since_ms_ >= config_.attack_cooldown_seconds * 1000) {
        attack = false;
        calm_since_ms_ = 0;
      }
    }
    under_attack_.store(attack);
  }
  // One more bit each time the load doubles past the threshold.
  int bits = config_.pow_min_bits;
  if (work >= 2000) bits += std::bit_width(static_cast<uint64_t>(work / 1000)) - 1;
  pow_bits_.store(std::min(bits, config_.pow_max_bits));
}

// ---------------------------------------------------------------------------------------
// Figures

size_t Shield::tracked_clients() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    n += s.table->size();
  }
  return n;
}

uint64_t Shield::table_evictions() const {
  uint64_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    n += s.table->evictions();
  }
  return n;
}

size_t Shield::table_memory_bytes() const {
  size_t n = 0;
  for (const Shard& s : shards_) n += s.table->MemoryBytes();
  return n;
}

std::string Shield::StatusJson(int64_t now_ms) const {
  using nlohmann::json;
  const uint32_t now_s = static_cast<uint32_t>(now_ms / 1000);
  json out;
  out["enabled"] = config_.enabled;
  out["dry_run"] = config_.dry_run;
  out["mode"] = AttackModeName(mode());
  out["under_attack"] = under_attack();
  out["under_attack_for_seconds"] =
      under_attack() ? (now_ms - attack_since_ms_.load()) / 1000 : 0;
  out["pow_bits"] = pow_bits();
  out["requests_per_second"] = last_rps_.load();
  out["open_connections"] = open_connections();
  out["max_connections"] = config_.max_connections;
  out["tracked_clients"] = tracked_clients();
  size_t capacity = 0;
  for (const Shard& s : shards_) capacity += s.table->capacity();
  out["table_capacity"] = capacity;
  out["table_memory_bytes"] = table_memory_bytes();
  out["table_evictions"] = table_evictions();
  json events = json::object();
  for (size_t i = 0; i < static_cast<size_t>(Event::kCount); ++i) {
    events[EventName(static_cast<Event>(i))] = count(static_cast<Event>(i));
  }
  out["events"] = events;

  // The prefixes with the most open connections.
  std::vector<std::pair<uint32_t, ClientKey>> busiest;
  {
    std::lock_guard<std::mutex> lock(connections_mu_);
    for (const auto& [key, n] : connections_) {
      if (key.kind == KeyKind::kPrefix) busiest.emplace_back(n, key);
    }
  }
  std::sort(busiest.begin(), busiest.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  json prefixes = json::array();
  for (size_t i = 0; i < busiest.size() && i < kStatusListLength; ++i) {
    prefixes.push_back({{"prefix", busiest[i].second.ToString()}, {"connections", busiest[i].first}});
  }
  out["busiest_prefixes"] = prefixes;

  // Current bans and the clients refused most since their bucket was last full.
  std::vector<std::pair<uint32_t, ClientKey>> bans;
  std::vector<std::pair<uint32_t, ClientKey>> strikers;
  for (const Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    s.table->ForEach([&](const ClientTable::Entry& e) {
      if (e.banned_until_s > now_s) bans.emplace_back(e.banned_until_s - now_s, e.key);
      if (e.strikes > 0) strikers.emplace_back(e.strikes, e.key);
    });
  }
  out["bans_total"] = bans.size();
  std::sort(bans.begin(), bans.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  json ban_list = json::array();
  for (size_t i = 0; i < bans.size() && i < kStatusBanListLength; ++i) {
    ban_list.push_back({{"client", bans[i].second.ToString()}, {"seconds_left", bans[i].first}});
  }
  out["bans"] = ban_list;
  std::sort(strikers.begin(), strikers.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  json striker_list = json::array();
  for (size_t i = 0; i < strikers.size() && i < kStatusListLength; ++i) {
    striker_list.push_back({{"client", strikers[i].second.ToString()}, {"refused_in_a_row", strikers[i].first}});
  }
  out["most_refused"] = striker_list;
  return out.dump();
}

// ---------------------------------------------------------------------------------------
// Field parsing

std::string_view FindCookie(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=') {
      std::string_view value = pair.substr(name.size() + 1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return value;
    }
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return {};
}

std::string_view FindQueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

}  // namespace refuge::shield
