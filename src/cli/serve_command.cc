// refuge serve [--config FILE] [--listen ADDR:PORT ...] [--threads N] [--admin ADDR:PORT]
#include <spdlog/cfg/env.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <iostream>

#include "cli/cli_common.h"
#include "common/file_util.h"
#include "serve/config.h"
#include "serve/server.h"

namespace refuge::cli {

namespace {

struct ServeArgs {
  std::string config;
  std::vector<std::string> listen;
  int threads = -1;
  std::string admin;
  bool no_admin = false;
  bool json = false;
  std::vector<std::string> public_urls;
  int64_t refresh_interval = 0;
  uint64_t bandwidth_limit = 0;
  std::string socks5;
};

void RunServe(Context& ctx, const ServeArgs& args) {
  // Server messages go to stderr; stdout carries only the bound addresses.
  auto log = spdlog::stderr_color_mt("serve");
  log->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
  spdlog::set_default_logger(log);
  spdlog::cfg::load_env_levels();  // SPDLOG_LEVEL=debug shows hints and notifications
  serve::ServeConfig config;
  if (!args.config.empty()) {
    auto loaded = serve::LoadServeConfig(args.config);
    if (!loaded.ok()) {
      ctx.Fail(loaded.status());
      return;
    }
    config = std::move(loaded).value();
  }
  if (!args.listen.empty()) config.listen = args.listen;
  if (args.threads >= 0) config.threads = args.threads;
  if (!args.admin.empty()) config.admin_listen = args.admin;
  if (args.no_admin) config.admin_listen.clear();
  if (!args.public_urls.empty()) config.public_urls = args.public_urls;
  if (args.refresh_interval > 0) config.refresh_interval_seconds = args.refresh_interval;
  if (args.bandwidth_limit > 0) config.bandwidth_limit = args.bandwidth_limit;
  if (!args.socks5.empty()) config.socks5_proxy = args.socks5;
  if (!ctx.home_override.empty() || config.home.empty()) config.home = ctx.HomePath();

  auto server = serve::Server::Create(config, args.config);
  if (!server.ok()) {
    ctx.Fail(server.status());
    return;
  }
  Status started = (*server)->Start();
  if (!started.ok()) {
    ctx.Fail(started);
    return;
  }
  // Scripts read the bound address (port 0 picks a free one) from here or from stdout.
  const std::string addr_file = config.home + "/serve.addr";
  const auto& http = (*server)->http_addresses();
  Status written = WriteFileDurable(addr_file, (http.empty() ? std::string() : http.front()) + "\n");
  if (!written.ok()) {
    ctx.Fail(written);
    return;
  }
  if (args.json) {
    Json out{{"http", http},
             {"https", (*server)->https_addresses()},
             {"redirect", (*server)->redirect_addresses()},
             {"admin", (*server)->admin_address()},
             {"threads", (*server)->config().threads},
             {"sites", (*server)->sites_served()},
             {"home", config.home}};
    PrintJson(out);
  } else {
    for (const auto& a : http) std::cout << "http " << a << "\n";
    for (const auto& a : (*server)->https_addresses()) std::cout << "https " << a << "\n";
    for (const auto& a : (*server)->redirect_addresses()) std::cout << "redirect " << a << "\n";
    if (!(*server)->admin_address().empty()) std::cout << "admin " << (*server)->admin_address() << "\n";
  }
  std::cout.flush();
  std::cerr << "refuge serve: " << (*server)->sites_served() << " site(s), "
            << (*server)->config().threads << " thread(s), home " << config.home
            << "; SIGHUP reloads, SIGTERM stops\n";
  (*server)->Run();
  ::unlink(addr_file.c_str());
}

}  // namespace

void AddServeCommand(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<ServeArgs>();
  CLI::App* cmd = AddCommand(app, "serve", "Serve the node's sites over HTTP and HTTPS",
      "Serves every published site of the node home to browsers, TUF clients and mirrors:\n"
      "  /s/SITE_ID/PATH                       a site's file, with no DNS needed\n"
      "  /PATH                                 the site the Host maps to (config [hosts]),\n"
      "                                        or the default site\n"
      "  /.refuge/v1/sites/SITE_ID/metadata/   the site's TUF metadata\n"
      "  /.refuge/v1/sites/SITE_ID/targets/    the site's targets\n"
      "  /.refuge/v1/objects/SHA256            any stored object\n"
      "  /.refuge/v1/notify, announce, peers, status   node-to-node calls (docs/MIRRORING.md)\n"
      "Only files of a verified, signed publication can be served. A new publish on this\n"
      "node is picked up within reload_interval_ms; SIGHUP re-reads the config file and the\n"
      "certificates; SIGTERM finishes the responses in flight and exits.\n"
      "The bound addresses are printed on stdout, one per line (\"http ADDR:PORT\"), and the\n"
      "first HTTP address is written to REFUGE_HOME/serve.addr. No access log is kept unless\n"
      "the config asks for one. Every option and its default: docs/CONFIG.md.\n"
      "The node also keeps the sites it follows (refuge mirror add) up to date: on an\n"
      "interval with jitter and at once on a hint; after a publish on this node it notifies\n"
      "the site's accepted mirrors.\n"
      "Every connection passes the shield first (docs/SHIELD.md, config [shield]): connection\n"
      "caps, slowloris and slow-read deadlines, per-address and per-network rate limits (429),\n"
      "bans, and under attack a small proof of work for browsers; refuge shield status shows it.");
  cmd->add_option("-c,--config", a->config, "TOML config file (default: none, all defaults)")
      ->type_name("FILE");
  cmd->add_option("-l,--listen", a->listen,
                  "HTTP listen address, repeatable; replaces the config's (default 127.0.0.1:8080;\n"
                  "port 0 picks a free port)")
      ->type_name("ADDR:PORT");
  cmd->add_option("-t,--threads", a->threads, "Event-loop threads (default: one per core)")
      ->type_name("N")
      ->check(CLI::Range(0, 256));
  cmd->add_option("--admin", a->admin, "Admin (metrics) listen address (default 127.0.0.1:9090)")
      ->type_name("ADDR:PORT");
  cmd->add_flag("--no-admin", a->no_admin, "Do not open the admin listener");
  cmd->add_flag("--json", a->json, "Print the bound addresses as one JSON line");
  cmd->add_option("--public-url", a->public_urls,
                  "How other nodes reach this one, repeatable (config [mirror] public_urls;\n"
                  "default: the first HTTP listener, when it is a specific address)")
      ->type_name("URL");
  cmd->add_option("--refresh-interval", a->refresh_interval,
                  "Refresh each followed site every SECONDS, +/- 20 % (default 300)")
      ->type_name("SECONDS")
      ->check(CLI::Range(int64_t{1}, int64_t{7 * 86'400}));
  cmd->add_option("--bandwidth-limit", a->bandwidth_limit,
                  "Cap the download rate of all syncs, bytes per second (default: none)")
      ->type_name("BYTES");
  cmd->add_option("--socks5", a->socks5, "Make every outbound request through this SOCKS5 proxy\n"
                  "(Tor: 127.0.0.1:9050)")
      ->type_name("HOST:PORT");
  cmd->callback([&ctx, a] { RunServe(ctx, *a); });
}

}  // namespace refuge::cli
