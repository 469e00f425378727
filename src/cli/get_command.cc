// refuge get SITE_ID/PATH [--from SOURCE ...] [-o FILE] [--json]
//
// One --from: that source alone (a node URL or a node home). Several, or none: every known
// mirror of the site (the --from URLs, then the site's signed mirror list saved by an earlier
// get), with failover and racing (node/site_client.h, net/mirror_fetcher.h); the report says
// which mirror served the file and which failed.
#include <fcntl.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "cli/cli_common.h"
#include "common/file_util.h"
#include "net/bandwidth_limiter.h"
#include "node/site_client.h"

namespace refuge::cli {

namespace {

struct GetArgs {
  std::string what;
  std::vector<std::string> from;
  std::string output;
  std::string max_rate;
  bool json = false;
};

// "500K", "2M", "1G" (binary multiples) or plain bytes, per second.
Result<uint64_t> ParseRate(const std::string& text) {
  if (text.empty() || text.size() > 20) return InvalidArgument("--max-rate: empty or too long");
  uint64_t multiplier = 1;
  std::string digits = text;
  switch (digits.back()) {
    case 'k': case 'K': multiplier = uint64_t{1} << 10; digits.pop_back(); break;
    case 'm': case 'M': multiplier = uint64_t{1} << 20; digits.pop_back(); break;
    case 'g': case 'G': multiplier = uint64_t{1} << 30; digits.pop_back(); break;
    default: break;
  }
  if (digits.empty() || digits.size() > 12 || digits.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgument("--max-rate " + text + ": expected bytes per second, like 500K or 2M");
  }
  const uint64_t rate = std::stoull(digits) * multiplier;
  if (rate == 0) return InvalidArgument("--max-rate must be more than 0");
  return rate;
}

Status CopyToStdout(const std::string& path) {
  REFUGE_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDONLY));
  std::vector<char> buf(1 << 16);
  for (;;) {
    REFUGE_ASSIGN_OR_RETURN(size_t n, ReadSome(fd.get(), buf.data(), buf.size(), path));
    if (n == 0) return Status::Ok();
    REFUGE_RETURN_IF_ERROR(WriteAll(STDOUT_FILENO, buf.data(), n, "standard output"));
  }
}

void RunGet(Context& ctx, const GetArgs& args) {
  size_t slash = args.what.find('/');
  std::string site_id = args.what.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : args.what.substr(slash + 1);
  SiteClientOptions options;
  options.sources = args.from;
  std::unique_ptr<BandwidthLimiter> limiter;
  if (!args.max_rate.empty()) {
    auto rate = ParseRate(args.max_rate);
    if (!rate.ok()) {
      ctx.Fail(rate.status());
      ctx.exit_code = kExitUsage;
      return;
    }
    limiter = std::make_unique<BandwidthLimiter>(*rate);
    options.mirror_options.http.bandwidth_limiter = limiter.get();
  }
  if (args.from.size() > 1) {  // several sources: node URLs only
    for (const std::string& f : args.from) {
      auto url = IsUrlSource(f) ? NormalizeNodeUrl(f)
                                : Result<std::string>(InvalidArgument(
                                      "a node home directory can only be the one --from source"));
      if (!url.ok()) {
        ctx.Fail(url.status().Annotate("--from " + f));
        ctx.exit_code = kExitUsage;
        return;
      }
    }
  }
  auto home = ctx.OpenHome();
  if (!home) return;
  options.client_dir = home->ClientDir(site_id);
  if (args.from.empty() && IsSiteId(site_id)) {
    auto saved = LoadSavedMirrorList(options.client_dir, site_id);
    if (!saved.ok()) {
      ctx.Fail(saved.status());
      return;
    }
    if (!*saved || (*saved)->mirrors.empty()) {
      ctx.Fail(InvalidArgument("no known mirror for site " + site_id + ": give --from URL"));
      ctx.exit_code = kExitUsage;
      return;
    }
  }
  auto client = SiteClient::Open(options, site_id);
  if (!client.ok()) {
    ctx.Fail(client.status());
    return;
  }
  auto info = (*client)->Resolve(path);
  if (!(*client)->mirror_list_warning().empty()) {
    std::cerr << "refuge: warning: " << Printable((*client)->mirror_list_warning()) << "\n";
  }
  if (!info.ok()) {
    ctx.Fail(info.status());
    return;
  }
  const bool to_stdout = args.output.empty() || args.output == "-";
  // Bytes reach standard output only after they verified, through a temporary file.
  std::string file = to_stdout ? TempName(home->path() + "/tmp", "get-") : args.output;
  Status s = (*client)->Download(*info, file);
  if (s.ok() && to_stdout) s = CopyToStdout(file);
  if (to_stdout) ::unlink(file.c_str());
  if (!s.ok()) {
    ctx.Fail(s);
    return;
  }
  const std::string from = args.from.size() == 1 ? args.from[0] : (*client)->served_by();
  if (args.json) {
    Json out{{"site_id", site_id},
             {"path", (*client)->target_path()},
             {"version", (*client)->version()},
             {"length", info->length},
             {"sha256", info->hashes.at("sha256")},
             {"from", from}};
    if (!to_stdout) out["output"] = args.output;
    if ((*client)->uses_mirrors()) {
      out["served_by"] = (*client)->served_by();
      Json mirrors = Json::array();
      for (const MirrorReport& r : (*client)->mirror_reports()) {
        mirrors.push_back(Json{{"url", r.url}, {"outcome", r.outcome}, {"detail", r.detail},
                               {"failed", r.failed}});
      }
      out["mirrors"] = std::move(mirrors);
      Json attempts = Json::array();
      for (const MirrorAttemptReport& a : (*client)->last_download_attempts()) {
        attempts.push_back(Json{{"url", a.url}, {"outcome", a.outcome}, {"detail", a.detail},
                                {"offset", a.offset}, {"bytes", a.bytes}});
      }
      out["attempts"] = std::move(attempts);
    }
    // With --json and no -o, the data went to stdout already; the summary goes to stderr.
    if (to_stdout) {
      std::cerr << out.dump() << "\n";
    } else {
      PrintJson(out);
    }
  } else if (!to_stdout || (*client)->uses_mirrors()) {
    std::cerr << "Verified " << (*client)->target_path() << " (" << info->length
              << " bytes, version " << (*client)->version() << ") from "
              << Printable(from.empty() ? "the file already there" : from);
    if (!to_stdout) std::cerr << " -> " << args.output;
    std::cerr << "\n";
    for (const MirrorReport& r : (*client)->mirror_reports()) {
      if (!r.failed) continue;
      std::cerr << "  mirror " << Printable(r.url) << " " << r.outcome << ": " << Printable(r.detail)
                << "\n";
    }
  }
}

}  // namespace

void AddGetCommand(CLI::App& app, Context& ctx) {
  auto g = std::make_shared<GetArgs>();
  CLI::App* cmd = AddCommand(app, "get", "Fetch one file of a site and verify it",
      "The site ID pins the first root, the TUF client workflow checks the signed metadata,\n"
      "and the file's length and SHA-256 are checked before a byte is written out. Trusted\n"
      "metadata is kept in REFUGE_HOME/client/SITE_ID, so a source that later serves an\n"
      "older version is refused; so is the site's signed mirror list (mirrors.json there).\n"
      "With several mirrors, a mirror that is down, slow, or serves data that does not\n"
      "verify is left for the next; the report names the mirror that served the file.");
  cmd->add_option("SITE_ID/PATH", g->what, "The site and the file (SITE_ID/ alone: index.html)")
      ->required();
  cmd->add_option("--from", g->from,
                  "Where to fetch, repeatable: node URLs (http://host:port), or one node home\n"
                  "directory. Several URLs, or none: every known mirror (these, then the site's\n"
                  "signed mirror list saved by an earlier get), with failover")
      ->type_name("SOURCE");
  cmd->add_option("-o,--output", g->output, "Write the file here (default: standard output)")
      ->type_name("FILE");
  cmd->add_option("--max-rate", g->max_rate,
                  "Download at most this many bytes per second over the network, all\n"
                  "transfers together (500K, 2M, ...)")
      ->type_name("RATE");
  cmd->add_flag("--json", g->json, "Print a JSON summary");
  cmd->callback([&ctx, g] { RunGet(ctx, *g); });
}

}  // namespace refuge::cli
