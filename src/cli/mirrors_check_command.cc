// refuge mirrors check SITE_ID [--from URL ...] [--sample N] [--json]
//
// Checks every known mirror of a site (the --from URLs, then the site's signed mirror list
// saved by `refuge get`), each on its own (node/mirror_checker.h does the work):
//   - reachable or not;
//   - the version it serves: a full TUF refresh against that mirror alone, from a temporary
//     copy of this client's trusted metadata, so that rolled-back metadata, a bad signature or
//     expired metadata show up as such (the trusted metadata itself is never touched);
//   - stale or not (expired metadata, and since when);
//   - what it withholds: the blocked items of GET /.refuge/v1/status (tolerated if absent);
//   - content that does not verify: the current version's files fetched from that mirror (all
//     of them up to 1000, or a random --sample N) and checked against the signed
//     lengths and hashes. A mismatch is evidence of a tampering mirror.
//
// Exit code: 4 if any mirror served data that does not verify (a bad signature, malformed or
// mismatching metadata, a file whose hash or length is wrong); else 5 if no mirror could be
// reached; else 0 if every mirror is fine (reachable, current, unexpired, every checked file
// verified); else 1 (a mirror unreachable, behind or rolled back, stale, missing the site or
// files). A rolled-back mirror is reported but is not exit 4: an honest mirror that has not
// synced yet looks the same from here.

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "cli/cli_common.h"
#include "common/clock.h"
#include "common/file_util.h"
#include "node/mirror_checker.h"
#include "node/site_client.h"

namespace refuge::cli {

namespace {

struct CheckArgs {
  std::string site_id;
  std::vector<std::string> from;
  int sample = 0;
  bool json = false;
};

Json CheckJson(const MirrorCheck& c) {
  auto opt = [](const std::optional<int64_t>& v) { return v ? Json(*v) : Json(nullptr); };
  auto problems = [](const std::vector<MirrorFileProblem>& v) {
    Json a = Json::array();
    for (const MirrorFileProblem& p : v) a.push_back(Json{{"path", p.path}, {"reason", p.reason}});
    return a;
  };
  Json blocked = Json::array();
  for (const MirrorFileProblem& b : c.blocked) blocked.push_back(Json{{"path", b.path}, {"reason", b.reason}});
  return Json{{"url", c.url},
              {"reachable", c.reachable},
              {"version", opt(c.version)},
              {"behind", c.behind},
              {"metadata", MirrorMetadataStateName(c.metadata)},
              {"metadata_detail", c.metadata_detail},
              {"stale_since", opt(c.stale_since)},
              {"status", Json{{"available", c.status_available},
                              {"detail", c.status_detail},
                              {"version", opt(c.status_version)},
                              {"stale_since", opt(c.status_stale_since)},
                              {"blocked", std::move(blocked)}}},
              {"files_total", c.files_total},
              {"files_checked", c.files_checked},
              {"files_verified", c.files_verified},
              {"mismatched_count", c.mismatch_count},
              {"mismatched", problems(c.mismatched)},
              {"unavailable_count", c.unavailable_count},
              {"unavailable", problems(c.unavailable)},
              {"tampering", c.Tampering()},
              {"fine", c.Fine()}};
}

void PrintTable(const std::vector<MirrorCheck>& checks) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"MIRROR", "REACHABLE", "VERSION", "METADATA", "BLOCKED", "CONTENT"});
  for (const MirrorCheck& c : checks) {
    std::string version = c.version ? std::to_string(*c.version) : "-";
    if (c.behind) version += " (behind)";
    std::string metadata = MirrorMetadataStateName(c.metadata);
    std::string blocked = c.status_available ? std::to_string(c.blocked.size()) : "n/a";
    std::string content = "-";
    if (c.files_checked > 0) {
      content = std::to_string(c.files_verified) + "/" + std::to_string(c.files_checked) + " verified";
      if (c.files_checked < c.files_total) content += " (of " + std::to_string(c.files_total) + ")";
      if (c.mismatch_count > 0) content += ", " + std::to_string(c.mismatch_count) + " DO NOT VERIFY";
      if (c.unavailable_count > 0) content += ", " + std::to_string(c.unavailable_count) + " unavailable";
    } else if (c.metadata == MirrorMetadataState::kOk) {
      content = "no files";
    }
    rows.push_back({Printable(c.url), c.reachable ? "yes" : "no", version, metadata, blocked, content});
  }
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    std::string line;
    for (size_t i = 0; i < rows[r].size(); ++i) {
      line += rows[r][i];
      if (i + 1 < rows[r].size()) line += std::string(widths[i] - rows[r][i].size() + 2, ' ');
    }
    std::cout << line << "\n";
    if (r == 0) continue;
    const MirrorCheck& c = checks[r - 1];
    if (c.metadata != MirrorMetadataState::kOk || c.behind) {
      std::cout << "    " << Printable(c.metadata_detail) << "\n";
    }
    for (const MirrorFileProblem& p : c.mismatched) {
      std::cout << "    evidence of a tampering mirror: " << Printable(p.path) << ": "
                << Printable(p.reason) << "\n";
    }
    for (const MirrorFileProblem& p : c.unavailable) {
      std::cout << "    unavailable: " << Printable(p.path) << ": " << Printable(p.reason) << "\n";
    }
    for (const MirrorFileProblem& b : c.blocked) {
      std::cout << "    blocked: " << Printable(b.path) << " (" << Printable(b.reason) << ")\n";
    }
    if (c.status_stale_since) {
      std::cout << "    the node says the site is stale since " << FormatUtc(*c.status_stale_since)
                << "\n";
    }
  }
}

void RunCheck(Context& ctx, const CheckArgs& args) {
  if (!IsSiteId(args.site_id)) {
    ctx.Fail(InvalidArgument("'" + args.site_id + "' is not a site ID (52 characters of base32)"));
    return;
  }
  for (const std::string& f : args.from) {
    if (!IsUrlSource(f)) {
      ctx.Fail(InvalidArgument("--from " + f + ": mirrors check needs node URLs (http(s)://...)"));
      ctx.exit_code = kExitUsage;
      return;
    }
  }
  auto home = ctx.OpenHome();
  if (!home) return;
  const std::string client_dir = home->ClientDir(args.site_id);
  auto saved = LoadSavedMirrorList(client_dir, args.site_id);
  if (!saved.ok()) {
    ctx.Fail(saved.status());
    return;
  }
  auto urls = KnownMirrors(args.from, *saved);
  if (!urls.ok()) {
    ctx.Fail(urls.status());
    ctx.exit_code = kExitUsage;
    return;
  }
  if (urls->empty()) {
    ctx.Fail(InvalidArgument("no known mirror for site " + args.site_id + ": give --from URL"));
    ctx.exit_code = kExitUsage;
    return;
  }
  const std::string work = TempName(home->path() + "/tmp", "mirrors-check-");
  if (Status s = MakeDirectories(work, 0700); !s.ok()) {
    ctx.Fail(s);
    return;
  }
  MirrorCheckOptions options;
  options.site_id = args.site_id;
  options.trusted_metadata_dir = client_dir + "/metadata";
  options.work_dir = work;
  options.sample = static_cast<size_t>(args.sample);
  std::vector<MirrorCheck> checks;
  {
    Progress progress(!args.json);
    progress.Update("checking " + std::to_string(urls->size()) + " mirror(s)...");
    checks = CheckMirrors(*urls, options);
  }
  std::error_code ec;
  std::filesystem::remove_all(work, ec);

  const bool tampering = std::any_of(checks.begin(), checks.end(),
                                     [](const MirrorCheck& c) { return c.Tampering(); });
  const bool none_reachable = std::none_of(checks.begin(), checks.end(),
                                           [](const MirrorCheck& c) { return c.reachable; });
  const bool all_fine = std::all_of(checks.begin(), checks.end(),
                                    [](const MirrorCheck& c) { return c.Fine(); });
  ctx.exit_code = tampering ? kExitVerification
                  : none_reachable ? kExitIO
                  : all_fine ? kExitOk
                             : kExitFailure;
  if (args.json) {
    Json mirrors = Json::array();
    for (const MirrorCheck& c : checks) mirrors.push_back(CheckJson(c));
    PrintJson(Json{{"site_id", args.site_id},
                   {"mirrors", std::move(mirrors)},
                   {"ok", all_fine},
                   {"tampering", tampering},
                   {"exit_code", ctx.exit_code}});
    return;
  }
  PrintTable(checks);
  const size_t fine = static_cast<size_t>(
      std::count_if(checks.begin(), checks.end(), [](const MirrorCheck& c) { return c.Fine(); }));
  std::cout << fine << " of " << checks.size() << " mirror(s) fine";
  if (tampering) std::cout << "; EVIDENCE OF TAMPERING (see above)";
  std::cout << "\n";
}

}  // namespace

void AddMirrorsCheckCommand(CLI::App& mirrors, Context& ctx) {
  auto a = std::make_shared<CheckArgs>();
  CLI::App* cmd = AddCommand(
      mirrors, "check", "Check every known mirror of a site: reachable, version, stale, blocked, tampering",
      "Each mirror is checked on its own: a full TUF refresh against it alone (from a copy of\n"
      "this client's trusted metadata, which is never changed), its /.refuge/v1/status for\n"
      "blocked items, and the files of the version it serves, fetched and verified (all up to\n"
      "1000, or --sample N at random). Mirrors: the --from URLs, then the site's signed mirror\n"
      "list saved by `refuge get`.\n"
      "Exit code: 0 every mirror fine; 4 a mirror served data that does not verify (evidence\n"
      "of tampering); 5 no mirror reachable; 1 otherwise (unreachable, behind, stale, missing).");
  cmd->add_option("SITE_ID", a->site_id, "The site")->required();
  cmd->add_option("--from", a->from, "A mirror to check (node URL), repeatable")->type_name("URL");
  cmd->add_option("--sample", a->sample, "Check N files at random instead of all (up to 1000)")
      ->check(CLI::Range(1, 1'000'000))
      ->type_name("N");
  cmd->add_flag("--json", a->json, "Print JSON");
  cmd->callback([&ctx, a] { RunCheck(ctx, *a); });
}

}  // namespace refuge::cli
