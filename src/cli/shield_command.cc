// refuge shield status | refuge shield mode on|off|auto: the running node's shield, through
// its admin listener (GET /shield, POST /shield/mode; loopback by default).
#include <curl/curl.h>

#include <iostream>

#include "cli/cli_common.h"
#include "serve/config.h"

namespace refuge::cli {

namespace {

// The admin listener's answer is a few KiB; more is not the shield talking.
constexpr size_t kMaxAnswerBytes = 1 << 20;
constexpr long kTimeoutMs = 5'000;

struct ShieldArgs {
  std::string admin;
  std::string config;
  std::string mode;
  bool json = false;
};

size_t Collect(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() + size * n > kMaxAnswerBytes) return 0;
  out->append(data, size * n);
  return size * n;
}

// The admin address: --admin, else the config file's [admin] listen, else the default.
Result<std::string> AdminAddress(const ShieldArgs& a) {
  if (!a.admin.empty()) return a.admin;
  if (!a.config.empty()) {
    REFUGE_ASSIGN_OR_RETURN(serve::ServeConfig config, serve::LoadServeConfig(a.config));
    if (config.admin_listen.empty()) {
      return InvalidArgument(a.config + " disables the admin listener ([admin] listen = \"\")");
    }
    return config.admin_listen;
  }
  return serve::ServeConfig().admin_listen;
}

// GET (body empty) or POST `body` to http://<admin><path>; the answer's body.
Result<std::string> Call(const std::string& admin, const std::string& path, const std::string* body) {
  REFUGE_ASSIGN_OR_RETURN(serve::ListenAddress address, serve::ParseListenAddress(admin));
  const bool v6 = address.host.find(':') != std::string::npos;
  const std::string url = std::string("http://") + (v6 ? "[" + address.host + "]" : address.host) +
                          ":" + std::to_string(address.port) + path;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Internal("curl_easy_init failed");
  std::string answer;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, kTimeoutMs);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  if (body != nullptr) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body->size()));
  }
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    return Unavailable("cannot reach the node's admin listener at " + admin + ": " +
                       curl_easy_strerror(rc) +
                       " (is refuge serve running? --admin ADDR or --config FILE names another)");
  }
  if (status != 200) {
    return Unavailable("the admin listener at " + admin + " answered " + std::to_string(status) +
                       " to " + path);
  }
  return answer;
}

void PrintStatus(const Json& s) {
  std::cout << "mode:          " << s.value("mode", "?") << " (under attack: "
            << (s.value("under_attack", false) ? "yes, for " + std::to_string(s.value("under_attack_for_seconds", 0)) + " s" : std::string("no"))
            << ")" << (s.value("dry_run", false) ? ", dry run" : "")
            << (s.value("enabled", true) ? "" : ", shield disabled") << "\n";
  std::cout << "challenge:     " << s.value("pow_bits", 0) << " leading zero bits\n";
  std::cout << "connections:   " << s.value("open_connections", 0) << " open (cap "
            << s.value("max_connections", 0) << ")\n";
  std::cout << "requests/s:    " << s.value("requests_per_second", 0) << "\n";
  std::cout << "clients:       " << s.value("tracked_clients", 0) << " tracked of "
            << s.value("table_capacity", 0) << " ("
            << HumanBytes(s.value("table_memory_bytes", uint64_t{0})) << " at most, "
            << s.value("table_evictions", 0) << " forgotten)\n";
  std::cout << "events:";
  for (const auto& [name, n] : s["events"].items()) std::cout << " " << name << "=" << n.get<uint64_t>();
  std::cout << "\n";
  std::cout << "busiest prefixes (open connections):\n";
  if (s["busiest_prefixes"].empty()) std::cout << "  none\n";
  for (const Json& p : s["busiest_prefixes"]) {
    std::cout << "  " << p.value("prefix", "?") << "  " << p.value("connections", 0) << "\n";
  }
  std::cout << "bans (" << s.value("bans_total", 0) << "):\n";
  if (s["bans"].empty()) std::cout << "  none\n";
  for (const Json& b : s["bans"]) {
    std::cout << "  " << b.value("client", "?") << "  " << b.value("seconds_left", 0) << " s left\n";
  }
  std::cout << "most refused (requests refused in a row):\n";
  if (s["most_refused"].empty()) std::cout << "  none\n";
  for (const Json& r : s["most_refused"]) {
    std::cout << "  " << r.value("client", "?") << "  " << r.value("refused_in_a_row", 0) << "\n";
  }
}

void Run(Context& ctx, const ShieldArgs& a, bool set_mode) {
  Result<std::string> admin = AdminAddress(a);
  if (!admin.ok()) {
    ctx.Fail(admin.status());
    return;
  }
  Result<std::string> answer = set_mode ? Call(*admin, "/shield/mode", &a.mode)
                                        : Call(*admin, "/shield", nullptr);
  if (!answer.ok()) {
    ctx.Fail(answer.status());
    return;
  }
  Json status = Json::parse(*answer, nullptr, false);
  if (status.is_discarded() || !status.is_object()) {
    ctx.Fail(Internal("the admin listener at " + *admin + " did not answer with the shield's JSON"));
    return;
  }
  if (a.json) {
    PrintJson(status);
  } else {
    PrintStatus(status);
  }
}

void AddAdminOptions(CLI::App* cmd, ShieldArgs& a) {
  cmd->add_option("--admin", a.admin, "The node's admin listener (default 127.0.0.1:9090)")
      ->type_name("ADDR:PORT");
  cmd->add_option("--config", a.config, "Read the admin address from this serve config")
      ->type_name("FILE");
  cmd->add_flag("--json", a.json, "Print the status as one JSON object");
}

}  // namespace

void AddShieldCommands(CLI::App& app, Context& ctx) {
  CLI::App* shield = AddCommand(
      app, "shield", "Show or steer the running node's shield (rate limits, bans, challenges)",
      "The shield keeps a node serving real readers through floods, slowloris and botnets:\n"
      "connection caps, per-address and per-prefix rate limits (429 with Retry-After), bans\n"
      "dropped at accept, and an under-attack mode where browsers solve a small proof of work\n"
      "once an hour. Its thresholds are the [shield] table of the serve config\n"
      "(docs/CONFIG.md); these commands talk to the running node's admin listener.");
  shield->require_subcommand(1);

  auto args = std::make_shared<ShieldArgs>();
  CLI::App* status = AddCommand(
      *shield, "status", "Mode, counters, the busiest prefixes and the current bans",
      "Prints the under-attack mode and whether it is on, the challenge's difficulty, open\n"
      "connections, requests per second, the client table's use, every shield counter, the\n"
      "prefixes holding the most connections, the current bans and the clients refused most.\n"
      "Example: refuge shield status --json | jq .events");
  AddAdminOptions(status, *args);
  status->callback([&ctx, args] { Run(ctx, *args, false); });

  auto mode_args = std::make_shared<ShieldArgs>();
  CLI::App* mode = AddCommand(
      *shield, "mode", "Switch under-attack mode: on, off or auto",
      "on: every browser request without a clearance gets the challenge page; off: never;\n"
      "auto: on when the load crosses the [shield] attack_* thresholds, off after\n"
      "attack_cooldown_seconds of calm. Lasts until the node restarts (the config's\n"
      "[shield] under_attack is the mode at start). Prints the new status.\n"
      "Example: refuge shield mode on");
  mode->add_option("MODE", mode_args->mode, "on, off or auto")
      ->required()
      ->check(CLI::IsMember({"on", "off", "auto"}));
  AddAdminOptions(mode, *mode_args);
  mode->callback([&ctx, mode_args] { Run(ctx, *mode_args, true); });
}

}  // namespace refuge::cli
