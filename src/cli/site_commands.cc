// refuge site init | list | show | keep
#include <iostream>

#include "cli/cli_common.h"
#include "common/clock.h"
#include "common/limits.h"
#include "node/garbage_collector.h"
#include "publish/publisher.h"

namespace refuge::cli {

namespace {

struct InitArgs {
  bool json = false;
  std::string root_key_dir;
  std::vector<std::string> expiry;
};

void RunInit(Context& ctx, const InitArgs& args) {
  InitOptions options;
  options.root_key_dir = args.root_key_dir;
  for (const std::string& e : args.expiry) {
    Status s = options.expiry.Set(e);
    if (!s.ok()) {
      ctx.Fail(s);
      ctx.exit_code = kExitUsage;
      return;
    }
  }
  auto home = ctx.OpenHome();
  if (!home) return;
  auto r = InitSite(*home, options, SystemClock::Get());
  if (!r.ok()) {
    ctx.Fail(r.status());
    return;
  }
  if (args.json) {
    PrintJson(Json{{"site_id", r->site_id},
                   {"root_key_dir", r->root_key_dir},
                   {"online_key_dir", r->online_key_dir},
                   {"home", home->path()}});
    return;
  }
  std::cout << r->site_id << "\n";
  std::cerr << "Created site " << r->site_id << "\n"
            << "  root key:    " << r->root_key_dir << "  (keep it offline; back it up)\n"
            << "  online keys: " << r->online_key_dir << "\n"
            << "Next: refuge publish --site " << r->site_id << " DIR\n";
}

void RunList(Context& ctx, bool json) {
  auto home = ctx.OpenHome();
  if (!home) return;
  auto sites = home->db().ListSites();
  if (!sites.ok()) {
    ctx.Fail(sites.status());
    return;
  }
  Json out = Json::array();
  for (const SiteRow& s : *sites) {
    out.push_back(Json{{"site_id", s.site_id},
                       {"role", s.origin ? "origin" : "mirror"},
                       {"version", s.current_version},
                       {"created_at", FormatUtc(s.created_at)}});
  }
  if (json) {
    PrintJson(Json{{"sites", out}});
    return;
  }
  if (out.empty()) {
    std::cerr << "No sites on this node. Create one with: refuge site init\n";
    return;
  }
  std::printf("%-52s  %-6s  %7s  %s\n", "SITE", "ROLE", "VERSION", "CREATED");
  for (const Json& s : out) {
    std::printf("%-52s  %-6s  %7lld  %s\n", s["site_id"].get<std::string>().c_str(),
                s["role"].get<std::string>().c_str(),
                static_cast<long long>(s["version"].get<int64_t>()),
                s["created_at"].get<std::string>().c_str());
  }
}

void RunShow(Context& ctx, const std::string& site_id, bool json) {
  auto home = ctx.OpenHome();
  if (!home) return;
  auto site = home->db().GetSite(site_id);
  if (!site.ok()) {
    ctx.Fail(site.status());
    return;
  }
  auto root = LoadLatestRoot(*home, site_id);
  auto versions = home->db().ListVersions(site_id);
  if (!root.ok() || !versions.ok()) {
    ctx.Fail(!root.ok() ? root.status() : versions.status());
    return;
  }
  Json vs = Json::array();
  for (const VersionRow& v : *versions) {
    vs.push_back(Json{{"version", v.version},
                      {"published_at", FormatUtc(v.published_at)},
                      {"files", v.file_count},
                      {"bytes", v.total_bytes},
                      {"pinned", v.pinned}});
  }
  Json out{{"site_id", site_id},
           {"role", site->origin ? "origin" : "mirror"},
           {"current_version", site->current_version},
           {"root_version", root->envelope.version},
           {"root_expires", FormatUtc(root->envelope.expires)},
           {"keep_versions", site->keep_versions.value_or(kDefaultKeepVersions)},
           {"versions", vs}};
  auto ts = home->db().LatestMetadata(site_id, "timestamp");
  if (ts.ok()) {
    auto bytes = home->store().Read(ts->sha256, limits::kMaxTimestampBytes);
    if (bytes.ok()) {
      auto parsed = tuf::ParseTimestamp(*bytes);
      if (parsed.ok()) out["timestamp_expires"] = FormatUtc(parsed->envelope.expires);
    }
  }
  if (json) {
    PrintJson(out);
    return;
  }
  std::cout << "site:            " << site_id << "\n"
            << "role:            " << out["role"].get<std::string>() << "\n"
            << "current version: " << site->current_version << "\n"
            << "root:            version " << root->envelope.version << ", expires "
            << out["root_expires"].get<std::string>() << "\n";
  if (out.contains("timestamp_expires")) {
    std::cout << "timestamp:       expires " << out["timestamp_expires"].get<std::string>() << "\n";
  }
  std::cout << "keeps:           " << out["keep_versions"].get<int64_t>() << " versions\n";
  for (const Json& v : vs) {
    std::cout << "  v" << v["version"].get<int64_t>() << "  "
              << v["published_at"].get<std::string>() << "  " << v["files"].get<uint64_t>()
              << " files, " << HumanBytes(v["bytes"].get<uint64_t>())
              << (v["pinned"].get<bool>() ? "  (pinned)" : "") << "\n";
  }
}

}  // namespace

void AddSiteCommands(CLI::App& app, Context& ctx) {
  CLI::App* site = AddCommand(app, "site", "Create and inspect sites held by this node");
  site->require_subcommand(1);

  auto init = std::make_shared<InitArgs>();
  CLI::App* init_cmd = AddCommand(*site, "init", "Create a site and print its ID",
      "Generates the site's root key (keep it offline) and its targets, snapshot and\n"
      "timestamp keys (online), writes the signed 1.root.json, and prints the site ID: the\n"
      "base32 SHA-256 of 1.root.json, which names the site everywhere, without DNS.");
  init_cmd->add_flag("--json", init->json, "Print {\"site_id\": ...} as JSON");
  init_cmd->add_option("--root-key-dir", init->root_key_dir,
                       "Write the root key here (for example removable media) instead of\n"
                       "REFUGE_HOME/keys/SITE/root")
      ->type_name("DIR");
  init_cmd->add_option("--expiry", init->expiry,
                       "Root expiry as root=DAYS (default 1825)")
      ->type_name("ROLE=DAYS");
  init_cmd->callback([&ctx, init] { RunInit(ctx, *init); });

  auto list_json = std::make_shared<bool>(false);
  CLI::App* list = AddCommand(*site, "list", "List the sites on this node");
  list->add_flag("--json", *list_json, "Print JSON");
  list->callback([&ctx, list_json] { RunList(ctx, *list_json); });

  struct ShowArgs {
    std::string site;
    bool json = false;
  };
  auto show = std::make_shared<ShowArgs>();
  CLI::App* show_cmd = AddCommand(*site, "show", "Show a site's versions, root and expiry");
  show_cmd->add_option("SITE_ID", show->site, "The site")->required();
  show_cmd->add_flag("--json", show->json, "Print JSON");
  show_cmd->callback([&ctx, show] { RunShow(ctx, show->site, show->json); });

  struct KeepArgs {
    std::string site;
    int64_t keep = 0;
  };
  auto keep = std::make_shared<KeepArgs>();
  CLI::App* keep_cmd =
      AddCommand(*site, "keep", "Set how many versions of a site gc keeps");
  keep_cmd->add_option("SITE_ID", keep->site, "The site")->required();
  keep_cmd->add_option("VERSIONS", keep->keep, "Versions to keep (at least 1)")
      ->required()
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000}));
  keep_cmd->callback([&ctx, keep] {
    auto home = ctx.OpenHome();
    if (!home) return;
    Status s = home->db().GetSite(keep->site).status();
    if (s.ok()) s = home->db().SetKeepVersions(keep->site, keep->keep);
    if (!s.ok()) ctx.Fail(s);
  });
}

}  // namespace refuge::cli
