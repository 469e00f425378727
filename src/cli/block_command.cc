// refuge block SITE_ID[/PATH] | block list | block remove: an operator's duty, done narrowly.
//
// A block is this node's own: it answers 451 Unavailable For Legal Reasons (RFC 7725) for the
// item, stops storing the objects only blocked files use, and records the act in the
// tamper-evident audit log (node/block_list.h). Other nodes are not affected.
#include <iostream>

#include "cli/cli_common.h"
#include "common/clock.h"
#include "node/block_list.h"

namespace refuge::cli {

namespace {

std::string ItemName(const std::string& site_id, const std::string& path) {
  return path.empty() ? site_id + " (the whole site)" : site_id + "/" + path;
}

// Fails with the usage exit code (a malformed argument).
void FailUsage(Context& ctx, const Status& status) {
  ctx.Fail(status);
  ctx.exit_code = kExitUsage;
}

// Files of the site's current version the block path covers (0 when the site is not held).
struct SiteView {
  bool held = false;
  std::vector<FileRow> files;  // of the current version
};

Result<SiteView> ViewSite(NodeHome& home, const std::string& site_id) {
  SiteView view;
  auto site = home.db().GetSite(site_id);
  if (!site.ok()) {
    if (site.status().code() == StatusCode::kNotFound) return view;
    return site.status();
  }
  view.held = true;
  if (site->current_version == 0) return view;
  REFUGE_ASSIGN_OR_RETURN(view.files, home.db().VersionFiles(site_id, site->current_version));
  return view;
}

uint64_t CountCovered(const std::vector<FileRow>& files, const std::string& block_path) {
  uint64_t n = 0;
  for (const FileRow& f : files) n += BlockCovers(block_path, f.path) ? 1 : 0;
  return n;
}

// ---------------------------------------------------------------------------------------

struct BlockArgs {
  std::string target;
  std::string reason;
  std::string blocked_by;
  bool json = false;
};

void RunBlock(Context& ctx, const BlockArgs& args) {
  if (args.target.empty()) {
    FailUsage(ctx, InvalidArgument("block needs SITE_ID[/PATH] (or: refuge block list, refuge block remove)"));
    return;
  }
  auto target = ParseBlockTarget(args.target);
  if (!target.ok()) return FailUsage(ctx, target.status());
  Status valid = ValidateBlockReason(args.reason);
  if (valid.ok() && !args.blocked_by.empty()) valid = ValidateBlockedBy(args.blocked_by);
  if (!valid.ok()) return FailUsage(ctx, valid);

  auto home = ctx.OpenHome();
  if (!home) return;
  auto view = ViewSite(*home, target->site_id);
  if (!view.ok()) {
    ctx.Fail(view.status());
    return;
  }
  std::vector<std::string> notes;
  std::string path = target->path;
  if (!view->held) {
    notes.push_back("this node does not hold site " + target->site_id +
                    " (yet): the block applies as soon as it does, and until then a request for it "
                    "is answered 451 too");
  } else if (!path.empty() && path.back() != '/' && CountCovered(view->files, path) == 0 &&
             CountCovered(view->files, path + "/") > 0) {
    notes.push_back(Printable(path) + " is a directory of the site: blocking everything under " +
                    Printable(path) + "/");
    path += "/";
  } else if (!path.empty() && CountCovered(view->files, path) == 0) {
    notes.push_back("no file of the site's current version is " + std::string(path.back() == '/' ? "under " : "") +
                    Printable(path) + "; the block applies to any version that has it");
  }
  const uint64_t covered = view->held ? CountCovered(view->files, path) : 0;

  Block block;
  block.site_id = target->site_id;
  block.path = path;
  block.reason = args.reason;
  block.blocked_by = args.blocked_by;
  auto appended = AppendBlock(home->path(), block, SystemClock::Get());
  if (!appended.ok()) {
    if (appended.status().code() == StatusCode::kInvalidArgument) return FailUsage(ctx, appended.status());
    ctx.Fail(appended.status());
    return;
  }
  // The block is recorded (and served 451); now stop storing what only blocked files use.
  BlockPurge purge;
  auto list = BlockList::Load(home->path());
  Status purged = list.ok() ? Status::Ok() : list.status();
  if (purged.ok()) {
    auto r = RemoveBlockedObjects(*home, *list);
    if (r.ok()) {
      purge = *r;
    } else {
      purged = r.status();
    }
  }

  if (args.json) {
    Json notes_json = Json::array();
    for (const std::string& n : notes) notes_json.push_back(n);
    PrintJson(Json{{"action", "block"},
                   {"site_id", block.site_id},
                   {"path", path},
                   {"reason", appended->block.reason},
                   {"blocked_by", appended->block.blocked_by},
                   {"time", appended->block.time},
                   {"seq", appended->seq},
                   {"head_hash", appended->head_hash},
                   {"log", BlockLogPath(home->path())},
                   {"site_held", view->held},
                   {"matching_files", covered},
                   {"objects_removed", purge.objects_removed},
                   {"bytes_freed", purge.bytes_freed},
                   {"notes", notes_json}});
  } else {
    for (const std::string& n : notes) std::cerr << "note: " << n << "\n";
    std::cout << "Blocked " << Printable(ItemName(block.site_id, path)) << " on this node (audit entry "
              << appended->seq << ").\n"
              << "  reason:     " << Printable(appended->block.reason) << "\n"
              << "  blocked by: " << appended->block.blocked_by << "\n";
    if (view->held) {
      std::cout << "  files:      " << covered << " of the current version; " << purge.objects_removed
                << " object(s) (" << HumanBytes(purge.bytes_freed) << ") removed from this node's store\n";
    }
    std::cout << "  audit log:  " << BlockLogPath(home->path()) << ", head " << appended->head_hash << "\n"
              << "A running refuge serve answers 451 for it within its reload interval (1 s by "
                 "default). Other nodes are not affected.\n";
  }
  if (!appended->previous_chain_error.empty()) {
    std::cerr << "warning: the audit log was already not intact before this entry: "
              << Printable(appended->previous_chain_error) << " (refuge block list)\n";
  }
  if (!purged.ok()) {
    ctx.Fail(purged.Annotate("the block is recorded and served, but its objects were not removed "
                             "from the store (run refuge block again later)"));
  }
}

// ---------------------------------------------------------------------------------------

struct RemoveArgs {
  std::string target;
  std::string reason;
  bool json = false;
};

void RunRemove(Context& ctx, const RemoveArgs& args) {
  auto target = ParseBlockTarget(args.target);
  if (!target.ok()) return FailUsage(ctx, target.status());
  Status valid = ValidateBlockReason(args.reason);
  if (!valid.ok()) return FailUsage(ctx, valid);
  auto home = ctx.OpenHome();
  if (!home) return;
  auto appended = AppendUnblock(home->path(), target->site_id, target->path, args.reason,
                                SystemClock::Get());
  if (!appended.ok()) {
    ctx.Fail(appended.status());
    return;
  }
  // Files this block covered, no other block covers, and whose bytes the node no longer has.
  uint64_t missing = 0;
  auto view = ViewSite(*home, target->site_id);
  auto list = BlockList::Load(home->path());
  if (view.ok() && list.ok()) {
    for (const FileRow& f : view->files) {
      if (BlockCovers(target->path, f.path) && list->Find(target->site_id, f.path) == nullptr &&
          !home->store().Contains(f.sha256)) {
        ++missing;
      }
    }
  }
  if (args.json) {
    PrintJson(Json{{"action", "unblock"},
                   {"site_id", target->site_id},
                   {"path", target->path},
                   {"reason", args.reason},
                   {"seq", appended->seq},
                   {"head_hash", appended->head_hash},
                   {"log", BlockLogPath(home->path())},
                   {"files_not_stored", missing}});
  } else {
    std::cout << "Removed the block of " << Printable(ItemName(target->site_id, target->path))
              << " (audit entry " << appended->seq << ", head " << appended->head_hash << ").\n"
              << "A running refuge serve serves it again within its reload interval (1 s by default).\n";
    if (missing > 0) {
      std::cout << missing << " file(s) of the current version are not stored on this node any more: "
                << "they come back with the next mirror sync, or on the origin with the next refuge "
                   "publish.\n";
    }
  }
  if (!appended->previous_chain_error.empty()) {
    std::cerr << "warning: the audit log was already not intact before this entry: "
              << Printable(appended->previous_chain_error) << " (refuge block list)\n";
  }
}

// ---------------------------------------------------------------------------------------

void RunList(Context& ctx, bool json) {
  const std::string home_path = ctx.HomePath();
  auto list = BlockList::Load(home_path);
  if (!list.ok()) {
    ctx.Fail(list.status());
    return;
  }
  const std::string log = BlockLogPath(home_path);
  if (json) {
    Json blocks = Json::array();
    for (const Block& b : list->active()) {
      blocks.push_back(Json{{"site_id", b.site_id},
                            {"path", b.path},
                            {"reason", b.reason},
                            {"blocked_by", b.blocked_by},
                            {"time", b.time},
                            {"seq", b.seq}});
    }
    PrintJson(Json{{"log", log},
                   {"entries", list->entries()},
                   {"head_hash", list->head_hash()},
                   {"chain_ok", list->chain_ok()},
                   {"chain_error", list->chain_error()},
                   {"tail_warning", list->tail_warning()},
                   {"blocks", blocks}});
  } else {
    for (const Block& b : list->active()) {
      std::cout << Printable(ItemName(b.site_id, b.path)) << "\n"
                << "  since " << FormatUtc(b.time) << " (audit entry " << b.seq << "), blocked by "
                << b.blocked_by << "\n"
                << "  reason: " << Printable(b.reason) << "\n";
    }
    std::cout << list->active().size() << " active block(s). Audit log " << log << ": "
              << list->entries() << " entries, "
              << (list->chain_ok() ? "hash chain intact" : "hash chain BROKEN") << ", head "
              << list->head_hash() << "\n";
  }
  if (!list->tail_warning().empty()) {
    std::cerr << "warning: the audit log's " << list->tail_warning() << "\n";
  }
  if (!list->chain_ok()) {
    ctx.Fail(Corruption("the audit log " + log + " is not intact: " + list->chain_error() +
                        "; the blocks it still names apply"));
  }
}

}  // namespace

void AddBlockCommand(CLI::App& app, Context& ctx) {
  auto b = std::make_shared<BlockArgs>();
  CLI::App* block = AddCommand(app, "block",
      "Answer 451 for a site or a path on this node (a legal order), with an audit log",
      "Usage:\n"
      "  refuge block SITE_ID[/PATH] --reason TEXT [--blocked-by URI] [--json]\n"
      "  refuge block list [--json]\n"
      "  refuge block remove SITE_ID[/PATH] --reason TEXT [--json]\n"
      "\n"
      "For an operator who must comply with a court order for one item without taking the\n"
      "node down. THIS node then answers 451 Unavailable For Legal Reasons (RFC 7725) for\n"
      "the item, on every URL that reaches it (/s/SITE_ID/PATH, a Host mapped to the site,\n"
      "/.refuge/v1/sites/SITE_ID/targets/..., and /.refuge/v1/objects/ for its bytes), with\n"
      "a Link header naming who blocks it and the reason on the page. The objects that only\n"
      "blocked files use are removed from the node's store, and a mirror sync does not fetch\n"
      "them again. Other nodes are not affected.\n"
      "\n"
      "What is blocked:\n"
      "  SITE_ID            the whole site: every URL of it, its metadata included\n"
      "  SITE_ID/PATH       one file, by its path in the publication (not percent-encoded)\n"
      "  SITE_ID/DIR/       everything under DIR (a PATH naming a directory of the site's\n"
      "                     current version is taken as DIR/)\n"
      "The site need not be held yet: an order may come before the site does.\n"
      "\n"
      "Every block and removal is appended to REFUGE_HOME/audit/blocks.log, one JSON line\n"
      "each, chained by SHA-256: an edited, inserted or removed line is detected by\n"
      "'refuge block list' (exit 4) and 'refuge verify'. Record the head hash it prints\n"
      "somewhere else to be able to prove later that the log was not rewritten.\n"
      "A running 'refuge serve' applies changes within its reload interval (1 s).\n"
      "\n"
      "Examples:\n"
      "  refuge block SITE_ID/docs/leak.pdf --reason 'Order 2024/123, District Court X' \\\n"
      "      --blocked-by https://example.org/legal\n"
      "  refuge block list\n"
      "  refuge block remove SITE_ID/docs/leak.pdf --reason 'Order 2024/123 lifted on appeal'\n"
      "\n"
      "Exit codes: 2 for a malformed SITE_ID, PATH, reason or URI; 1 if the item is already\n"
      "blocked; 3 (remove) if it is not; 4 (list) if the audit log is not intact.");
  block->require_subcommand(0, 1);
  block->add_option("TARGET", b->target, "SITE_ID, SITE_ID/PATH or SITE_ID/DIR/ to block")
      ->type_name("SITE_ID[/PATH]");
  block->add_option("--reason", b->reason,
                    "Why (shown to readers on the 451 page): cite the order, on one line; required")
      ->type_name("TEXT");
  block->add_option("--blocked-by", b->blocked_by,
                    "URI of the entity implementing the block, for the Link header (default " +
                        std::string(kDefaultBlockedBy) + "; give your contact URL)")
      ->type_name("URI");
  block->add_flag("--json", b->json, "Print JSON");
  block->callback([&ctx, b, block] {
    if (!block->get_subcommands().empty()) return;  // block list / block remove ran
    RunBlock(ctx, *b);
  });

  auto list_json = std::make_shared<bool>(false);
  CLI::App* list = AddCommand(*block, "list", "Show the active blocks and check the audit log",
      "Prints each active block (item, since when, audit entry, who blocks, reason), then the\n"
      "audit log's number of entries, whether its hash chain is intact and its head hash.\n"
      "Exits 4 if the chain is broken (an entry was edited, inserted or removed); the blocks\n"
      "it still names keep applying.");
  list->add_flag("--json", *list_json, "Print JSON");
  list->callback([&ctx, list_json] { RunList(ctx, *list_json); });

  auto r = std::make_shared<RemoveArgs>();
  CLI::App* remove = AddCommand(*block, "remove", "Lift a block (recorded in the audit log)",
      "Lifts the block of exactly SITE_ID[/PATH] (as 'refuge block list' shows it) and appends\n"
      "the removal, with its reason, to the audit log. The bytes the node stopped storing come\n"
      "back with the next mirror sync, or on the origin with the next 'refuge publish'.\n"
      "Exits 3 if there is no such block.");
  remove->add_option("TARGET", r->target, "The blocked item, as refuge block list shows it")
      ->type_name("SITE_ID[/PATH]")
      ->required();
  remove->add_option("--reason", r->reason, "Why the block is lifted; required")
      ->type_name("TEXT")
      ->required();
  remove->add_flag("--json", r->json, "Print JSON");
  remove->callback([&ctx, r] { RunRemove(ctx, *r); });
}

}  // namespace refuge::cli
