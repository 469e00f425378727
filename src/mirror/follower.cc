#include "mirror/follower.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <set>

#include "common/clock.h"
#include "crypto/canonical_json.h"
#include "mirror/announcement.h"
#include "node/block_list.h"
#include "node/freshness.h"
#include "node/mirror_list.h"
#include "node/node_home.h"

namespace refuge::mirror {

namespace {

constexpr int64_t kTickMs = 1'000;
constexpr int64_t kJsonRefreshMs = 2'000;
// After a reload, how long until every event loop serves the new catalog (their sweep).
constexpr int64_t kServedDelayMs = 200;
constexpr uint64_t kMaxPeersBodyBytes = 256 * 1024;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::mt19937_64& Rng() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  return rng;
}

}  // namespace

Follower::Follower(FollowerOptions options) : options_(std::move(options)) {
  peers_json_ = std::make_shared<const std::string>("{\"sites\":{}}");
  status_json_ = std::make_shared<const std::string>("{\"sites\":{}}");
}

Follower::~Follower() { Stop(); }

Status Follower::Start() {
  REFUGE_ASSIGN_OR_RETURN(home_, NodeHome::Open(options_.home_path));
  if (!options_.public_urls.empty()) {
    REFUGE_ASSIGN_OR_RETURN(node_key_, LoadOrCreateNodeKey(options_.home_path));
  }
  options_.sync.cancel = &stop_;
  RefreshSites(SteadyMs());
  RebuildJson();
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void Follower::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Follower::TakeToken(std::string_view sender, int64_t now_ms) {
  const int64_t full = int64_t{options_.hint_burst} * 1000;
  auto it = senders_.find(std::string(sender));
  if (it == senders_.end()) {
    if (senders_.size() >= kMaxTrackedSenders) {
      // Forget senders whose bucket has refilled: they are indistinguishable from new ones.
      for (auto i = senders_.begin(); i != senders_.end();) {
        const int64_t refilled =
            i->second.tokens_milli + (now_ms - i->second.updated_ms) * 1000 / options_.hint_refill_ms;
        i = refilled >= full ? senders_.erase(i) : std::next(i);
      }
      if (senders_.size() >= kMaxTrackedSenders) return false;  // fail closed under a flood
    }
    it = senders_.emplace(std::string(sender), Bucket{full, now_ms}).first;
  }
  Bucket& b = it->second;
  b.tokens_milli = std::min(full, b.tokens_milli + (now_ms - b.updated_ms) * 1000 / options_.hint_refill_ms);
  b.updated_ms = now_ms;
  if (b.tokens_milli < 1000) return false;
  b.tokens_milli -= 1000;
  return true;
}

Follower::Verdict Follower::OfferHint(const Hint& hint, std::string_view sender_address) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!TakeToken(sender_address, SteadyMs())) return Verdict::kRateLimited;
  if (hints_.size() >= kMaxQueuedHints) return Verdict::kBusy;
  hints_.push_back(hint);
  wake_.notify_one();
  return Verdict::kAccepted;
}

Follower::Verdict Follower::OfferAnnouncement(AnnouncementRow row, std::string_view sender_address) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!TakeToken(sender_address, SteadyMs())) return Verdict::kRateLimited;
  if (announcements_.size() >= kMaxQueuedAnnouncements) return Verdict::kBusy;
  row.sender = std::string(sender_address);
  announcements_.push_back(std::move(row));
  wake_.notify_one();
  return Verdict::kAccepted;
}

void Follower::CatalogServes(std::map<std::string, int64_t> versions) {
  std::lock_guard<std::mutex> lock(mu_);
  catalog_update_ = std::move(versions);
  has_catalog_update_ = true;
  wake_.notify_one();
}

std::shared_ptr<const std::string> Follower::peers_json() const {
  std::lock_guard<std::mutex> lock(mu_);
  return peers_json_;
}

std::shared_ptr<const std::string> Follower::status_json() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_json_;
}

int64_t Follower::Jitter(int64_t interval_ms) {
  std::uniform_int_distribution<int64_t> d(interval_ms * 8 / 10, interval_ms * 12 / 10);
  return d(Rng());
}

bool Follower::IsSelf(const std::string& url) const {
  return std::find(options_.public_urls.begin(), options_.public_urls.end(), url) !=
         options_.public_urls.end();
}

void Follower::Run() {
  int64_t next_tick = 0;
  while (!stop_) {
    std::deque<Hint> hints;
    std::deque<AnnouncementRow> announcements;
    std::map<std::string, int64_t> catalog;
    bool catalog_changed = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      int64_t until = next_tick;
      for (const NotifyJob& j : notify_jobs_) until = std::min(until, j.due_ms);
      const int64_t wait = std::max<int64_t>(0, until - SteadyMs());
      wake_.wait_for(lock, std::chrono::milliseconds(wait), [&] {
        return stop_ || !hints_.empty() || !announcements_.empty() || has_catalog_update_;
      });
      if (stop_) break;
      hints.swap(hints_);
      announcements.swap(announcements_);
      if (has_catalog_update_) {
        catalog.swap(catalog_update_);
        has_catalog_update_ = false;
        catalog_changed = true;
      }
    }
    const int64_t now = SteadyMs();
    if (catalog_changed) OnCatalogVersions(catalog, now);
    for (AnnouncementRow& a : announcements) {
      auto site = sites_.find(a.site_id);
      if (site == sites_.end()) continue;
      // Tell the announcer at once what we serve: it may have missed the last hint.
      if (site->second.version > 0) {
        std::vector<std::string> targets;
        for (const std::string& url : a.urls) {
          if (!IsSelf(url)) targets.push_back(url);
        }
        SendNotifies(NotifyJob{0, a.site_id, site->second.version, std::move(targets)});
      }
      if (!site->second.origin) {
        // A mirror of our copy: an untrusted peer worth passing hints on to (bounded).
        for (const std::string& url : a.urls) {
          if (!IsSelf(url)) {
            (void)home_->db().AddMirrorSource(a.site_id, url, "peer", SystemClock::Get().NowSeconds(),
                                              kMaxPeerSourcesPerSite);
          }
        }
        continue;
      }
      Status s = home_->db().UpsertAnnouncement(a, kMaxPendingAnnouncementsPerSite);
      if (!s.ok()) spdlog::warn("announcement from {}: {}", a.sender, s.ToString());
    }
    for (const Hint& h : hints) {
      auto it = sites_.find(h.site_id);
      if (it == sites_.end()) RefreshSites(now), it = sites_.find(h.site_id);
      if (it == sites_.end() || it->second.origin) continue;  // not followed here
      SiteState& st = it->second;
      spdlog::debug("hint: site {} version {} from {} (serving {})", h.site_id, h.version,
                    h.from.empty() ? "-" : h.from, st.version);
      if (h.version <= st.version || h.version <= st.hinted_version) continue;
      st.hinted_version = h.version;
      st.hinted_from = h.from;
      st.last_hint_from = h.from;
      if (!h.from.empty() && !IsSelf(h.from)) {
        (void)home_->db().AddMirrorSource(h.site_id, h.from, "peer", SystemClock::Get().NowSeconds(),
                                          kMaxPeerSourcesPerSite);
      }
    }
    if (now >= next_tick) {
      Tick(now);
      next_tick = now + kTickMs;
    }
    for (size_t i = 0; i < notify_jobs_.size();) {  // hints waiting for their time
      if (notify_jobs_[i].due_ms <= now) {
        SendNotifies(notify_jobs_[i]);
        notify_jobs_.erase(notify_jobs_.begin() + static_cast<long>(i));
      } else {
        ++i;
      }
    }
    // One sync per pass: hinted sites first, then those due; new hints are read in between.
    std::string chosen;
    for (auto& [id, st] : sites_) {
      if (!st.origin && st.hinted_version > st.version) {
        chosen = id;
        break;
      }
    }
    if (chosen.empty()) {
      for (auto& [id, st] : sites_) {
        if (!st.origin && now >= st.next_sync_ms) {
          chosen = id;
          break;
        }
      }
    }
    if (!chosen.empty()) SyncOne(chosen, sites_[chosen], now);
    if (SteadyMs() - last_json_ms_ >= kJsonRefreshMs) RebuildJson();
  }
}

void Follower::Tick(int64_t now_ms) {
  RefreshSites(now_ms);
  for (auto& [id, st] : sites_) {
    if (!st.origin && st.synced_once) Announce(id, st, now_ms);
  }
}

void Follower::OnCatalogVersions(const std::map<std::string, int64_t>& versions, int64_t now_ms) {
  RefreshSites(now_ms);
  // The loops pick a new catalog up within their 100 ms sweep: hint after that.
  const int64_t due = now_ms + kServedDelayMs;
  for (const auto& [id, version] : versions) {
    served_[id] = version;
    auto it = sites_.find(id);
    if (it == sites_.end()) continue;
    SiteState& st = it->second;
    if (st.notified_version < 0 || version <= st.notified_version) {
      st.notified_version = std::max(st.notified_version, version);  // the first one: a baseline
      continue;
    }
    st.notified_version = version;
    std::vector<std::string> targets = NotifyTargets(id, st.origin);
    if (!st.origin) {
      targets.erase(std::remove(targets.begin(), targets.end(), st.last_hint_from), targets.end());
      notify_jobs_.push_back(NotifyJob{due, id, version, std::move(targets)});
      continue;
    }
    // A publish here: a few mirrors now, the others a little later.
    std::shuffle(targets.begin(), targets.end(), Rng());
    const size_t first = std::min(targets.size(), static_cast<size_t>(std::max(0, options_.origin_fanout)));
    notify_jobs_.push_back(NotifyJob{due, id, version,
                                     std::vector<std::string>(targets.begin(), targets.begin() + static_cast<long>(first))});
    if (first < targets.size()) {
      notify_jobs_.push_back(NotifyJob{due + options_.origin_fanout_delay_ms, id, version,
                                       std::vector<std::string>(targets.begin() + static_cast<long>(first),
                                                                targets.end())});
    }
  }
  RebuildJson();
}

void Follower::RefreshSites(int64_t now_ms) {
  auto rows = home_->db().ListSites();
  if (!rows.ok()) {
    spdlog::warn("follower: {}", rows.status().ToString());
    return;
  }
  std::set<std::string> seen;
  for (const SiteRow& row : *rows) {
    seen.insert(row.site_id);
    auto [it, added] = sites_.try_emplace(row.site_id);
    SiteState& st = it->second;
    if (added) {
      st.origin = row.origin;
      st.version = row.current_version;
      st.next_sync_ms = now_ms;  // a newly followed site is synced at once
      continue;
    }
    if (row.origin) {
      st.version = row.current_version;
    } else {
      st.version = std::max(st.version, row.current_version);  // a `refuge mirror sync` elsewhere
    }
  }
  for (auto it = sites_.begin(); it != sites_.end();) {
    it = seen.count(it->first) ? std::next(it) : sites_.erase(it);
  }
}

void Follower::SyncOne(const std::string& site_id, SiteState& st, int64_t now_ms) {
  SyncOptions o = options_.sync;
  const bool hinted = st.hinted_version > st.version;
  if (hinted) {
    o.want_version = st.hinted_version;
    o.prefer_source = st.hinted_from;
  }
  st.hinted_version = 0;
  st.hinted_from.clear();
  st.next_sync_ms = now_ms + Jitter(options_.refresh_interval_seconds * 1000);

  auto r = SyncSite(*home_, site_id, o);
  if (!r.ok()) {
    if (!stop_) spdlog::warn("sync of site {}: {}", site_id, r.status().ToString());
    return;
  }
  st.synced_once = true;
  if (r->advanced()) {
    spdlog::info("site {}: version {} -> {} ({} objects, {} bytes fetched; metadata from {})",
                 site_id, r->previous_version, r->version, r->objects_fetched, r->bytes_fetched,
                 r->metadata_source);
    st.version = r->version;
    LearnSignedMirrors(site_id, r->version);
    // Serve it at once; the hint to the peers follows when the catalog serves it.
    if (options_.request_reload) options_.request_reload();
  }
  if (!hinted) LearnPeersFrom(site_id);
}

std::vector<std::string> Follower::NotifyTargets(const std::string& site_id, bool origin) {
  std::vector<std::string> out;
  auto add = [&](const std::string& url) {
    if (out.size() >= kMaxNotifyTargets || IsSelf(url)) return;
    if (std::find(out.begin(), out.end(), url) == out.end()) out.push_back(url);
  };
  if (origin) {
    auto accepted = home_->db().ListAnnouncements(site_id, "accepted");
    if (accepted.ok()) {
      for (const AnnouncementRow& a : *accepted) {
        for (const std::string& u : a.urls) add(u);
      }
    }
  }
  auto sources = home_->db().ListMirrorSources(site_id);
  if (sources.ok()) {
    for (const MirrorSourceRow& s : *sources) add(s.url);
  }
  return out;
}

void Follower::SendNotifies(const NotifyJob& job) {
  if (job.targets.empty()) return;
  Hint hint{job.site_id, job.version, options_.public_urls.empty() ? "" : options_.public_urls[0]};
  std::vector<std::string> urls;
  for (const std::string& t : job.targets) urls.push_back(t + kNotifyPath);
  const std::string body = SerializeHint(hint);
  auto outcomes = PostToAll(urls, body, options_.notify_timeout_ms, options_.sync.http.socks5_proxy);
  size_t ok = 0;
  for (const PostOutcome& o : outcomes) {
    if (o.error.empty()) {
      ++ok;
    } else {
      spdlog::debug("notify {}: {}", o.url, o.error);
    }
  }
  spdlog::info("site {} version {}: notified {} of {} node(s)", job.site_id, job.version, ok,
               outcomes.size());
}

void Follower::LearnSignedMirrors(const std::string& site_id, int64_t version) {
  auto file = home_->db().FindFile(site_id, version, kMirrorListTarget);
  if (!file.ok()) return;
  auto bytes = home_->store().Read(file->sha256, kMaxMirrorListBytes);
  if (!bytes.ok()) return;
  auto list = ParseMirrorList(*bytes);
  if (!list.ok() || list->site_id != site_id) {
    spdlog::warn("site {}: signed mirror list unusable", site_id);
    return;
  }
  (void)home_->db().RemoveMirrorSources(site_id, "signed");
  const int64_t now = SystemClock::Get().NowSeconds();
  for (const MirrorEntry& m : list->mirrors) {
    if (IsSelf(m.url)) continue;
    (void)home_->db().AddMirrorSource(site_id, m.url, "signed", now, kMaxPeerSourcesPerSite);
  }
}

void Follower::LearnPeersFrom(const std::string& site_id) {
  auto sources = home_->db().ListMirrorSources(site_id);
  if (!sources.ok() || sources->empty()) return;
  std::uniform_int_distribution<size_t> d(0, sources->size() - 1);
  const std::string& source = (*sources)[d(Rng())].url;
  HttpFetcherOptions http = options_.sync.http;
  http.connect_timeout_ms = 3'000;
  auto body = NewHttpFetcher(http)->Fetch(source + kPeersPath + "?site=" + site_id, kMaxPeersBodyBytes);
  if (!body.ok()) return;
  auto j = ParseJson(*body);
  if (!j.ok() || !j->is_object() || !j->contains("sites") || !(*j)["sites"].is_object()) return;
  const Json& sites = (*j)["sites"];
  auto it = sites.find(site_id);
  if (it == sites.end() || !it->is_array()) return;
  const int64_t now = SystemClock::Get().NowSeconds();
  size_t taken = 0;
  for (const Json& u : *it) {
    if (taken >= kMaxPeersListed) break;
    if (!u.is_string()) continue;
    auto url = NormalizeNodeUrl(u.get<std::string>());
    if (!url.ok() || IsSelf(*url)) continue;
    ++taken;
    (void)home_->db().AddMirrorSource(site_id, *url, "peer", now, kMaxPeerSourcesPerSite);
  }
}

void Follower::Announce(const std::string& site_id, SiteState& st, int64_t now_ms) {
  if (!node_key_ || options_.public_urls.empty()) return;
  if (st.last_announce_ms >= 0 && now_ms - st.last_announce_ms < options_.announce_interval_seconds * 1000) {
    return;
  }
  st.last_announce_ms = now_ms;
  auto sources = home_->db().ListMirrorSources(site_id);
  if (!sources.ok()) return;
  std::vector<std::string> urls;
  // Every source: the publisher may be any of them (nodes that do not publish the site drop
  // the announcement).
  for (const MirrorSourceRow& s : *sources) urls.push_back(s.url + kAnnouncePath);
  auto body = MakeAnnouncement(*node_key_, site_id, options_.public_urls, SystemClock::Get().NowSeconds());
  if (!body.ok() || urls.empty()) return;
  for (const PostOutcome& o : PostToAll(urls, *body, options_.notify_timeout_ms, options_.sync.http.socks5_proxy)) {
    if (!o.error.empty()) spdlog::debug("announce to {}: {}", o.url, o.error);
  }
}

void Follower::RebuildJson() {
  last_json_ms_ = SteadyMs();
  const int64_t now = SystemClock::Get().NowSeconds();
  auto rows = home_->db().ListSites();
  if (!rows.ok()) return;
  auto blocks = BlockList::Load(options_.home_path);
  Json peers = Json::object();
  Json status = Json::object();
  for (const SiteRow& row : *rows) {
    Json urls = Json::array();
    for (const std::string& u : options_.public_urls) urls.push_back(u);
    auto sources = home_->db().ListMirrorSources(row.site_id);
    if (sources.ok()) {
      for (const MirrorSourceRow& s : *sources) {
        if (urls.size() >= kMaxPeersListed) break;
        if (s.last_ok > 0) urls.push_back(s.url);
      }
    }
    if (row.origin) {
      auto accepted = home_->db().ListAnnouncements(row.site_id, "accepted");
      if (accepted.ok()) {
        for (const AnnouncementRow& a : *accepted) {
          for (const std::string& u : a.urls) {
            if (urls.size() < kMaxPeersListed) urls.push_back(u);
          }
        }
      }
    }
    peers[row.site_id] = std::move(urls);
    auto stale = StaleSince(*home_, row.site_id, now);
    Json blocked = Json::array();
    bool site_blocked = false;
    if (blocks.ok()) {
      for (const Block& b : blocks->active()) {
        if (b.site_id != row.site_id) continue;
        if (b.path.empty()) site_blocked = true;
        blocked.push_back(Json{{"path", b.path}, {"reason", b.reason}, {"since", b.time}});
      }
    }
    auto served = served_.find(row.site_id);
    const int64_t version = served != served_.end() ? served->second : 0;
    status[row.site_id] = Json{{"version", version},
                               {"origin", row.origin},
                               {"stale_since", stale.ok() && stale->has_value() ? Json(**stale) : Json(nullptr)},
                               {"site_blocked", site_blocked},
                               {"blocked", std::move(blocked)}};
  }
  Json node_urls = Json::array();
  for (const std::string& u : options_.public_urls) node_urls.push_back(u);
  auto p = std::make_shared<const std::string>(Json{{"sites", std::move(peers)}}.dump());
  auto s = std::make_shared<const std::string>(
      Json{{"node", Json{{"urls", std::move(node_urls)}}}, {"sites", std::move(status)}}.dump());
  std::lock_guard<std::mutex> lock(mu_);
  peers_json_ = std::move(p);
  status_json_ = std::move(s);
}

}  // namespace refuge::mirror
