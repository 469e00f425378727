// refuge publish | timestamp | key rotate
#include <iostream>

#include "cli/cli_common.h"
#include "common/clock.h"
#include "publish/publisher.h"

namespace refuge::cli {

namespace {

// Parses repeated --expiry ROLE=DAYS; on error reports it and returns false.
bool ParseExpiry(Context& ctx, const std::vector<std::string>& items, ExpiryPolicy& policy) {
  for (const std::string& e : items) {
    Status s = policy.Set(e);
    if (!s.ok()) {
      ctx.Fail(s);
      ctx.exit_code = kExitUsage;
      return false;
    }
  }
  return true;
}

struct PublishArgs {
  std::string site;
  std::string dir;
  bool json = false;
  int threads = 0;
  std::vector<std::string> expiry;
};

void RunPublish(Context& ctx, const PublishArgs& args) {
  PublishOptions options;
  options.threads = args.threads;
  if (!ParseExpiry(ctx, args.expiry, options.expiry)) return;
  auto home = ctx.OpenHome();
  if (!home) return;
  Progress progress(true);
  options.progress = [&progress](const PublishProgress& p) {
    progress.Update("publishing: " + std::to_string(p.files_done) + "/" +
                    std::to_string(p.files_total) + " files, " + HumanBytes(p.bytes_done) + " of " +
                    HumanBytes(p.bytes_total));
  };
  auto r = Publish(*home, args.site, args.dir, options, SystemClock::Get());
  progress.Done();
  if (!r.ok()) {
    ctx.Fail(r.status());
    return;
  }
  if (args.json) {
    PrintJson(Json{{"site_id", args.site},
                   {"version", r->version},
                   {"files", r->files},
                   {"bytes", r->total_bytes},
                   {"unchanged_files", r->unchanged_files},
                   {"hashed_files", r->hashed_files},
                   {"hashed_bytes", r->hashed_bytes},
                   {"new_objects", r->new_objects},
                   {"new_bytes", r->new_bytes}});
    return;
  }
  std::cout << "Published version " << r->version << " of " << args.site << ": " << r->files
            << " files, " << HumanBytes(r->total_bytes) << " (" << r->hashed_files
            << " hashed, " << r->unchanged_files << " unchanged, " << r->new_objects
            << " new objects, " << HumanBytes(r->new_bytes) << " stored)\n";
}

}  // namespace

void AddPublishCommands(CLI::App& app, Context& ctx) {
  auto pub = std::make_shared<PublishArgs>();
  CLI::App* cmd = AddCommand(app, "publish", "Publish a directory as a site's next version",
      "Stores new and changed files as content-addressed objects (unchanged files are\n"
      "recognized and not read again), then signs new targets, snapshot and timestamp\n"
      "metadata. The previous version stays intact until the new one is complete; a publish\n"
      "killed at any moment leaves the node as it was.");
  cmd->add_option("--site", pub->site, "The site to publish (from refuge site init)")
      ->required()
      ->type_name("SITE_ID");
  cmd->add_option("DIR", pub->dir, "The directory to publish")->required();
  cmd->add_flag("--json", pub->json, "Print the result as JSON ({\"version\": N, ...})");
  cmd->add_option("--threads", pub->threads, "Worker threads for hashing (default: one per core)")
      ->check(CLI::Range(0, 64));
  cmd->add_option("--expiry", pub->expiry,
                  "Override an expiry: targets=DAYS (365), snapshot=DAYS (365),\n"
                  "timestamp=DAYS (30); repeatable")
      ->type_name("ROLE=DAYS");
  cmd->callback([&ctx, pub] { RunPublish(ctx, *pub); });

  struct TimestampArgs {
    std::string site;
    bool json = false;
    std::vector<std::string> expiry;
  };
  auto ts = std::make_shared<TimestampArgs>();
  CLI::App* ts_cmd = AddCommand(app, "timestamp", "Re-sign the timestamp alone (refresh its expiry)",
      "Shows readers and mirrors that the publisher is alive and that the current version\n"
      "is still current, without publishing anything new.");
  ts_cmd->add_option("--site", ts->site, "The site")->required()->type_name("SITE_ID");
  ts_cmd->add_flag("--json", ts->json, "Print JSON");
  ts_cmd->add_option("--expiry", ts->expiry, "timestamp=DAYS (default 30)")->type_name("ROLE=DAYS");
  ts_cmd->callback([&ctx, ts] {
    ExpiryPolicy policy;
    if (!ParseExpiry(ctx, ts->expiry, policy)) return;
    auto home = ctx.OpenHome();
    if (!home) return;
    auto v = RefreshTimestamp(*home, ts->site, policy, SystemClock::Get());
    if (!v.ok()) {
      ctx.Fail(v.status());
      return;
    }
    if (ts->json) {
      PrintJson(Json{{"site_id", ts->site}, {"timestamp_version", *v}});
    } else {
      std::cout << "Timestamp of " << ts->site << " re-signed (timestamp version " << *v << ")\n";
    }
  });

  CLI::App* key = AddCommand(app, "key", "Manage a site's signing keys");
  key->require_subcommand(1);
  struct RotateArgs {
    std::string site;
    std::string role;
    std::string root_key_dir;
    bool json = false;
  };
  auto rot = std::make_shared<RotateArgs>();
  CLI::App* rotate = AddCommand(*key, "rotate", "Replace the key of a role with a new one",
      "Writes the next root version, signed by the current root key(s) and, when the root\n"
      "key itself rotates, by the new one too; then re-signs the current version with the new\n"
      "online key. Clients follow the root chain one version at a time, so they accept this\n"
      "change and nothing else. The old key moves to REFUGE_HOME/keys/SITE/retired.");
  rotate->add_option("--site", rot->site, "The site")->required()->type_name("SITE_ID");
  rotate->add_option("--role", rot->role, "root, targets, snapshot or timestamp")
      ->required()
      ->check(CLI::IsMember({"root", "targets", "snapshot", "timestamp"}));
  rotate->add_option("--root-key-dir", rot->root_key_dir,
                     "Where the root key is, if not in REFUGE_HOME/keys/SITE/root")
      ->type_name("DIR");
  rotate->add_flag("--json", rot->json, "Print JSON");
  rotate->callback([&ctx, rot] {
    auto home = ctx.OpenHome();
    if (!home) return;
    auto r = RotateKey(*home, rot->site, rot->role, rot->root_key_dir, ExpiryPolicy{},
                       SystemClock::Get());
    if (!r.ok()) {
      ctx.Fail(r.status());
      return;
    }
    if (rot->json) {
      PrintJson(Json{{"site_id", rot->site},
                     {"role", r->role},
                     {"old_keyid", r->old_keyid},
                     {"new_keyid", r->new_keyid},
                     {"root_version", r->root_version},
                     {"version", r->version}});
      return;
    }
    std::cout << "Rotated the " << r->role << " key of " << rot->site << ": " << r->old_keyid.substr(0, 16)
              << "... -> " << r->new_keyid.substr(0, 16) << "... (root version " << r->root_version;
    if (r->version > 0) std::cout << ", re-signed as version " << r->version;
    std::cout << ")\n";
  });
}

}  // namespace refuge::cli
