// refuge verify | gc | pin | unpin
#include <iostream>

#include "cli/cli_common.h"
#include "common/clock.h"
#include "node/garbage_collector.h"
#include "node/verifier.h"

namespace refuge::cli {

namespace {

struct VerifyArgs {
  std::string site;
  bool json = false;
};

void RunVerify(Context& ctx, const VerifyArgs& args) {
  auto home = ctx.OpenHome();
  if (!home) return;
  Progress progress(true);
  std::optional<std::string> site;
  if (!args.site.empty()) site = args.site;
  auto r = VerifyNode(*home, site, SystemClock::Get(), [&](uint64_t n) {
    if (n % 256 == 0) progress.Update("verifying: " + std::to_string(n) + " objects");
  });
  progress.Done();
  if (!r.ok()) {
    ctx.Fail(r.status());
    return;
  }
  auto findings = [](const std::vector<VerifyFinding>& list) {
    Json a = Json::array();
    for (const VerifyFinding& f : list) a.push_back(Json{{"site_id", f.site_id}, {"message", f.message}});
    return a;
  };
  if (args.json) {
    PrintJson(Json{{"ok", r->problems.empty()},
                   {"sites", r->sites},
                   {"versions", r->versions},
                   {"objects_checked", r->objects_checked},
                   {"problems", findings(r->problems)},
                   {"warnings", findings(r->warnings)}});
  } else {
    for (const VerifyFinding& f : r->problems) {
      std::cerr << "problem: " << (f.site_id.empty() ? "" : "site " + f.site_id + ": ") << f.message << "\n";
    }
    for (const VerifyFinding& f : r->warnings) {
      std::cerr << "warning: " << (f.site_id.empty() ? "" : "site " + f.site_id + ": ") << f.message << "\n";
    }
    std::cout << (r->problems.empty() ? "OK: " : "FAILED: ") << r->sites << " site(s), "
              << r->versions << " version(s), " << r->objects_checked << " object(s) checked, "
              << r->problems.size() << " problem(s), " << r->warnings.size() << " warning(s)\n";
  }
  if (!r->problems.empty()) ctx.exit_code = kExitVerification;
}

struct GcArgs {
  int64_t keep = 0;
  std::string site;
  bool dry_run = false;
  bool json = false;
};

void RunGc(Context& ctx, const GcArgs& args) {
  auto home = ctx.OpenHome();
  if (!home) return;
  GcOptions options;
  if (args.keep > 0) options.keep = args.keep;
  if (!args.site.empty()) options.site_id = args.site;
  options.dry_run = args.dry_run;
  auto r = CollectGarbage(*home, options);
  if (!r.ok()) {
    ctx.Fail(r.status());
    return;
  }
  if (args.json) {
    PrintJson(Json{{"dry_run", args.dry_run},
                   {"versions_deleted", r->versions_deleted},
                   {"objects_deleted", r->objects_deleted},
                   {"bytes_freed", r->bytes_freed},
                   {"objects_kept", r->objects_kept},
                   {"temp_files_removed", r->temp_files_removed}});
    return;
  }
  std::cout << (args.dry_run ? "Would delete " : "Deleted ") << r->versions_deleted
            << " version(s) and " << r->objects_deleted << " object(s), freeing "
            << HumanBytes(r->bytes_freed) << "; " << r->objects_kept << " object(s) kept\n";
}

}  // namespace

void AddStoreCommands(CLI::App& app, Context& ctx) {
  auto v = std::make_shared<VerifyArgs>();
  CLI::App* verify = AddCommand(app, "verify", "Re-check every signature and every stored object",
      "Checks every site's root chain and signatures, every retained version's metadata and\n"
      "file list, and the hash of every stored object. Exits 4 if anything is missing or\n"
      "corrupt; expired metadata is a warning.");
  verify->add_option("--site", v->site, "Check only this site")->type_name("SITE_ID");
  verify->add_flag("--json", v->json, "Print JSON");
  verify->callback([&ctx, v] { RunVerify(ctx, *v); });

  auto g = std::make_shared<GcArgs>();
  CLI::App* gc = AddCommand(app, "gc", "Delete old versions and unreferenced objects",
      "Keeps the newest K versions of each site, pinned versions, the current version and\n"
      "every root; deletes the rest and the objects nothing retained refers to. Safe while\n"
      "the node serves.");
  gc->add_option("--keep", g->keep, "Versions to keep per site (default: the site's setting, else 3)")
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000}));
  gc->add_option("--site", g->site, "Delete old versions of this site only")->type_name("SITE_ID");
  gc->add_flag("--dry-run", g->dry_run, "Report what would be deleted, delete nothing");
  gc->add_flag("--json", g->json, "Print JSON");
  gc->callback([&ctx, g] { RunGc(ctx, *g); });

  for (bool pin : {true, false}) {
    struct PinArgs {
      std::string site;
      int64_t version = 0;
    };
    auto p = std::make_shared<PinArgs>();
    CLI::App* cmd = AddCommand(app, pin ? "pin" : "unpin",
        pin ? "Keep a version of a site through garbage collection" : "Undo refuge pin");
    cmd->add_option("SITE_ID", p->site, "The site")->required();
    cmd->add_option("VERSION", p->version, "The version")->required();
    cmd->callback([&ctx, p, pin] {
      auto home = ctx.OpenHome();
      if (!home) return;
      Status s = home->db().SetPinned(p->site, p->version, pin);
      if (!s.ok()) ctx.Fail(s);
    });
  }
}

}  // namespace refuge::cli
