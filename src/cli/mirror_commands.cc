// refuge mirror add | list | remove | sync     (this node follows sites published elsewhere)
// refuge mirrors pending | accept | reject      (the publisher's view of who mirrors its sites)
#include <iostream>

#include "cli/cli_common.h"
#include "common/clock.h"
#include "mirror/site_sync.h"
#include "net/bandwidth_limiter.h"
#include "node/freshness.h"
#include "node/mirror_list.h"
#include "store/node_db.h"

namespace refuge::cli {

namespace {

// Options shared by the commands that download (add, sync).
struct FetchArgs {
  int parallel = mirror::kDefaultParallelFetches;
  uint64_t bandwidth_limit = 0;
  std::string socks5;
  bool json = false;
  std::shared_ptr<BandwidthLimiter> limiter;  // made from bandwidth_limit
};

void AddFetchOptions(CLI::App* cmd, FetchArgs& a) {
  cmd->add_option("--parallel", a.parallel, "Objects downloaded at once (default 8)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--bandwidth-limit", a.bandwidth_limit,
                  "Cap the download rate, bytes per second (default: none)")
      ->type_name("BYTES");
  cmd->add_option("--socks5", a.socks5, "Fetch through this SOCKS5 proxy (Tor: 127.0.0.1:9050)")
      ->type_name("HOST:PORT");
  cmd->add_flag("--json", a.json, "Print JSON");
}

mirror::SyncOptions SyncOptionsFrom(FetchArgs& a, Progress* progress) {
  mirror::SyncOptions o;
  o.parallel_fetches = a.parallel;
  o.http.socks5_proxy = a.socks5;
  if (a.bandwidth_limit > 0) {
    if (!a.limiter) a.limiter = std::make_shared<BandwidthLimiter>(a.bandwidth_limit);
    o.http.bandwidth_limiter = a.limiter.get();
  }
  if (progress) {
    o.progress = [progress](const mirror::SyncProgress& p) {
      progress->Update("syncing: " + std::to_string(p.objects_done) + "/" +
                       std::to_string(p.objects_total) + " objects, " + HumanBytes(p.bytes_done) +
                       " of " + HumanBytes(p.bytes_total));
    };
  }
  return o;
}

Json SyncJson(const std::string& site_id, const mirror::SyncResult& r) {
  Json problems = Json::array();
  for (const std::string& p : r.problems) problems.push_back(p);
  return Json{{"site_id", site_id},
              {"previous_version", r.previous_version},
              {"version", r.version},
              {"trusted_version", r.trusted_version},
              {"objects_fetched", r.objects_fetched},
              {"bytes_fetched", r.bytes_fetched},
              {"objects_present", r.objects_present},
              {"objects_skipped", r.objects_skipped},
              {"metadata_source", r.metadata_source},
              {"problems", std::move(problems)}};
}

void PrintSync(const std::string& site_id, const mirror::SyncResult& r) {
  for (const std::string& p : r.problems) std::cerr << "warning: " << Printable(p) << "\n";
  if (r.advanced()) {
    std::cout << "site " << site_id << ": version " << r.previous_version << " -> " << r.version
              << " (" << r.objects_fetched << " object(s), " << HumanBytes(r.bytes_fetched)
              << " fetched, " << r.objects_present << " already here"
              << (r.objects_skipped ? ", " + std::to_string(r.objects_skipped) + " blocked" : "")
              << "; metadata from " << Printable(r.metadata_source) << ")\n";
  } else {
    std::cout << "site " << site_id << ": version " << r.version << ", up to date\n";
  }
}

// Runs one sync and prints it; returns false (with the exit code set) on failure.
bool SyncAndReport(Context& ctx, NodeHome& home, const std::string& site_id, FetchArgs& a,
                   Json* json_out) {
  Progress progress(!a.json);
  auto r = mirror::SyncSite(home, site_id, SyncOptionsFrom(a, &progress));
  progress.Done();
  if (!r.ok()) {
    ctx.Fail(r.status().Annotate("site " + site_id));
    return false;
  }
  if (json_out) {
    *json_out = SyncJson(site_id, *r);
  } else {
    PrintSync(site_id, *r);
  }
  return true;
}

struct AddArgs {
  std::string site;
  std::vector<std::string> from;
  bool no_sync = false;
  FetchArgs fetch;
};

void RunAdd(Context& ctx, AddArgs& args) {
  std::vector<std::string> seeds;
  for (const std::string& f : args.from) {
    auto url = NormalizeNodeUrl(f);
    if (!url.ok()) {
      ctx.Fail(InvalidArgument("--from " + f + ": " + url.status().message()));
      return;
    }
    seeds.push_back(*url);
  }
  auto home = ctx.OpenHome();
  if (!home) return;
  auto from = mirror::FollowSite(*home, args.site, seeds, SyncOptionsFrom(args.fetch, nullptr));
  if (!from.ok()) {
    ctx.Fail(from.status());
    return;
  }
  if (!args.fetch.json) {
    std::cout << "following site " << args.site
              << (from->empty() ? "" : " (root from " + Printable(*from) + ")") << "\n";
  }
  Json out = Json{{"site_id", args.site}, {"following", true}};
  if (!args.no_sync) {
    Json sync;
    if (!SyncAndReport(ctx, *home, args.site, args.fetch, args.fetch.json ? &sync : nullptr)) return;
    out["sync"] = std::move(sync);
  }
  if (args.fetch.json) PrintJson(out);
}

void RunList(Context& ctx, bool json) {
  auto home = ctx.OpenHome();
  if (!home) return;
  auto sites = home->db().ListSites();
  if (!sites.ok()) {
    ctx.Fail(sites.status());
    return;
  }
  const int64_t now = SystemClock::Get().NowSeconds();
  Json out = Json::array();
  for (const SiteRow& site : *sites) {
    if (site.origin) continue;
    auto sources = home->db().ListMirrorSources(site.site_id);
    auto sync = home->db().GetMirrorSync(site.site_id);
    auto stale = StaleSince(*home, site.site_id, now);
    if (!sources.ok() || !sync.ok()) {
      ctx.Fail(!sources.ok() ? sources.status() : sync.status());
      return;
    }
    Json src = Json::array();
    for (const MirrorSourceRow& s : *sources) {
      src.push_back(Json{{"url", s.url}, {"kind", s.kind}, {"last_ok", s.last_ok},
                         {"last_error", s.last_error}});
    }
    Json stale_json = stale.ok() && stale->has_value() ? Json(**stale) : Json(nullptr);
    out.push_back(Json{{"site_id", site.site_id},
                       {"version", site.current_version},
                       {"stale_since", stale_json},
                       {"last_sync", sync->last_success},
                       {"last_attempt", sync->last_attempt},
                       {"last_error", sync->last_error},
                       {"sources", std::move(src)}});
  }
  if (json) {
    PrintJson(Json{{"sites", out}});
    return;
  }
  if (out.empty()) {
    std::cout << "This node follows no site (refuge mirror add SITE_ID --from URL).\n";
    return;
  }
  for (const Json& s : out) {
    std::cout << s["site_id"].get<std::string>() << "  version " << s["version"].get<int64_t>();
    if (!s["stale_since"].is_null()) {
      std::cout << "  STALE since " << FormatUtc(s["stale_since"].get<int64_t>());
    }
    const int64_t last = s["last_sync"].get<int64_t>();
    std::cout << "  last sync " << (last ? FormatUtc(last) : std::string("never")) << "  "
              << s["sources"].size() << " source(s)\n";
    if (!s["last_error"].get<std::string>().empty()) {
      std::cout << "    last error: " << Printable(s["last_error"].get<std::string>()) << "\n";
    }
  }
}

struct SyncArgs {
  std::string site;
  FetchArgs fetch;
};

void RunSync(Context& ctx, SyncArgs& args) {
  auto home = ctx.OpenHome();
  if (!home) return;
  std::vector<std::string> sites;
  if (!args.site.empty()) {
    sites.push_back(args.site);
  } else {
    auto all = home->db().ListSites();
    if (!all.ok()) {
      ctx.Fail(all.status());
      return;
    }
    for (const SiteRow& s : *all) {
      if (!s.origin) sites.push_back(s.site_id);
    }
  }
  Json out = Json::array();
  for (const std::string& site : sites) {
    Json one;
    if (!SyncAndReport(ctx, *home, site, args.fetch, args.fetch.json ? &one : nullptr)) continue;
    if (args.fetch.json) out.push_back(std::move(one));
  }
  if (args.fetch.json) PrintJson(Json{{"sites", out}});
}

void PrintAnnouncements(const std::vector<AnnouncementRow>& rows, bool json) {
  if (json) {
    Json out = Json::array();
    for (const AnnouncementRow& a : rows) {
      out.push_back(Json{{"key_id", a.key_id}, {"public_key", a.public_key}, {"urls", a.urls},
                         {"received_at", a.received_at}, {"sender", a.sender},
                         {"status", a.status}});
    }
    PrintJson(Json{{"announcements", out}});
    return;
  }
  if (rows.empty()) {
    std::cout << "No announcements.\n";
    return;
  }
  for (const AnnouncementRow& a : rows) {
    std::cout << a.key_id.substr(0, 16) << "  " << a.status << "  " << FormatUtc(a.received_at)
              << "  from " << Printable(a.sender) << "\n";
    for (const std::string& u : a.urls) std::cout << "    " << Printable(u) << "\n";
  }
}

struct DecideArgs {
  std::string site;
  std::vector<std::string> keys;
  bool all = false;
};

void RunDecide(Context& ctx, const DecideArgs& args, const std::string& status) {
  auto home = ctx.OpenHome();
  if (!home) return;
  auto site = home->db().GetSite(args.site);
  if (!site.ok()) {
    ctx.Fail(site.status());
    return;
  }
  if (!site->origin) {
    ctx.Fail(InvalidArgument("this node does not publish site " + args.site +
                             "; only the publisher accepts mirrors"));
    return;
  }
  std::vector<std::string> keys = args.keys;
  if (args.all) {
    auto pending = home->db().ListAnnouncements(args.site, "pending");
    if (!pending.ok()) {
      ctx.Fail(pending.status());
      return;
    }
    for (const AnnouncementRow& a : *pending) keys.push_back(a.key_id);
  }
  if (keys.empty()) {
    ctx.Fail(InvalidArgument(args.all ? "no pending announcement" : "give KEY_ID... or --all"));
    return;
  }
  for (const std::string& k : keys) {
    Status s = home->db().SetAnnouncementStatus(args.site, k, status);
    if (!s.ok()) {
      ctx.Fail(s);
      return;
    }
    std::cout << status << " mirror " << k.substr(0, 16) << "\n";
  }
  if (status == "accepted") {
    std::cout << "The next `refuge publish` signs the new mirror list (.refuge/mirrors.json).\n";
  }
}

}  // namespace

void AddMirrorCommands(CLI::App& app, Context& ctx) {
  CLI::App* mirror = AddCommand(app, "mirror", "Follow sites published elsewhere (be a mirror)",
      "A mirror keeps a verified copy of a site and serves it (refuge serve) at its own\n"
      "address. It needs no credentials from the publisher: the site ID is the only trust\n"
      "anchor, and every version is checked with the TUF workflow before it is served.");
  mirror->require_subcommand(1);

  auto a = std::make_shared<AddArgs>();
  CLI::App* add = AddCommand(*mirror, "add", "Start following a site",
      "Fetches 1.root.json from the first --from URL that serves one hashing to SITE_ID,\n"
      "then syncs the site's current version (unless --no-sync). The URLs are kept as the\n"
      "site's seed sources; `refuge serve` then keeps the site up to date: on an interval\n"
      "with jitter, and at once when a peer sends a hint. Versions come from any node that\n"
      "holds them, not only the publisher.");
  add->add_option("SITE_ID", a->site, "The site to follow")->required();
  add->add_option("--from", a->from, "A node that serves the site (repeatable)")
      ->type_name("URL")->required();
  add->add_flag("--no-sync", a->no_sync, "Only record the site; the next sync fetches it");
  AddFetchOptions(add, a->fetch);
  add->callback([&ctx, a] { RunAdd(ctx, *a); });

  auto list_json = std::make_shared<bool>(false);
  CLI::App* list = AddCommand(*mirror, "list", "Show the sites this node follows",
      "Per site: the version served, whether it is stale (its metadata expired because the\n"
      "publisher has not re-signed it; the last verified version is still served) and since\n"
      "when, the last sync and the known sources.");
  list->add_flag("--json", *list_json, "Print JSON");
  list->callback([&ctx, list_json] { RunList(ctx, *list_json); });

  auto remove_site = std::make_shared<std::string>();
  CLI::App* remove = AddCommand(*mirror, "remove", "Stop following a site",
      "Forgets the site and its trusted metadata; its objects are deleted by the next\n"
      "`refuge gc`.");
  remove->add_option("SITE_ID", *remove_site, "The site")->required();
  remove->callback([&ctx, remove_site] {
    auto home = ctx.OpenHome();
    if (!home) return;
    Status s = mirror::UnfollowSite(*home, *remove_site);
    if (!s.ok()) {
      ctx.Fail(s);
      return;
    }
    std::cout << "no longer following site " << *remove_site << "\n";
  });

  auto s = std::make_shared<SyncArgs>();
  CLI::App* sync = AddCommand(*mirror, "sync", "Sync followed sites now",
      "Runs one sync pass (every followed site, or SITE_ID): asks the known sources for\n"
      "newer signed metadata and fetches the missing objects in parallel from all of them.");
  sync->add_option("SITE_ID", s->site, "Only this site");
  AddFetchOptions(sync, s->fetch);
  sync->callback([&ctx, s] { RunSync(ctx, *s); });

  CLI::App* mirrors = AddCommand(app, "mirrors", "Manage and check the mirrors of a site",
      "On the publisher's node: mirrors announce themselves (POST /.refuge/v1/announce, signed\n"
      "with the mirror node's key); `pending` lists them, `accept` and `reject` decide, and\n"
      "the next `refuge publish` includes the accepted ones in the site's signed mirror list\n"
      "(the target .refuge/mirrors.json), which every reader and mirror verifies.");
  mirrors->require_subcommand(1);

  struct PendingArgs {
    std::string site;
    bool all = false;
    bool json = false;
  };
  auto p = std::make_shared<PendingArgs>();
  CLI::App* pending = AddCommand(*mirrors, "pending", "List the announcements of a site's mirrors",
      "Shows pending announcements (--all: accepted and rejected ones too): the mirror's key\n"
      "ID, when it last announced itself, from which address, and its public URLs.");
  pending->add_option("SITE_ID", p->site, "The site")->required();
  pending->add_flag("--all", p->all, "Show accepted and rejected mirrors too");
  pending->add_flag("--json", p->json, "Print JSON");
  pending->callback([&ctx, p] {
    auto home = ctx.OpenHome();
    if (!home) return;
    auto site = home->db().GetSite(p->site);
    if (!site.ok()) {
      ctx.Fail(site.status());
      return;
    }
    auto rows = home->db().ListAnnouncements(p->site, p->all ? "" : "pending");
    if (!rows.ok()) {
      ctx.Fail(rows.status());
      return;
    }
    PrintAnnouncements(*rows, p->json);
  });

  for (const char* verb : {"accept", "reject"}) {
    auto d = std::make_shared<DecideArgs>();
    const bool accept = std::string(verb) == "accept";
    CLI::App* cmd = AddCommand(*mirrors, verb,
        accept ? "Accept mirrors into the site's signed list" : "Reject mirrors' announcements",
        accept ? "Accepted mirrors go into the next published .refuge/mirrors.json; a mirror\n"
                 "that later announces other URLs needs accepting again."
               : "A rejected mirror key stays rejected: its later announcements are dropped.\n"
                 "Rejecting an accepted mirror removes it from the next published list.");
    cmd->add_option("SITE_ID", d->site, "The site")->required();
    cmd->add_option("KEY_ID", d->keys, "Mirror key IDs (a unique prefix is enough)");
    if (accept) cmd->add_flag("--all", d->all, "Every pending announcement");
    const std::string status = accept ? "accepted" : "rejected";
    cmd->callback([&ctx, d, status] { RunDecide(ctx, *d, status); });
  }
  AddMirrorsCheckCommand(*mirrors, ctx);
}

}  // namespace refuge::cli
