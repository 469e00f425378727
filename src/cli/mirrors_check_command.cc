// refuge mirrors check SITE_ID [--from URL ...] [--sample N] [--json]
//
// Checks every known mirror of a site (the --from URLs, then the site's signed mirror list
// saved by `refuge get`), each on its own:
//   - reachable or not;
//   - the version it serves: a full TUF refresh against that mirror alone, from a temporary
//     copy of this client's trusted metadata, so that rolled-back metadata, a bad signature or
//     expired metadata show up as such (the trusted metadata itself is never touched);
//   - stale or not (expired metadata, and since when);
//   - what it withholds: the blocked items of GET /.refuge/v1/status (tolerated if absent);
//   - content that does not verify: the current version's files fetched from that mirror (all
//     of them up to kMaxCheckedFiles, or a random --sample N) and checked against the signed
//     lengths and hashes. A mismatch is evidence of a tampering mirror.
//
// Exit code: 4 if any mirror served data that does not verify (a bad signature, malformed or
// mismatching metadata, a file whose hash or length is wrong); else 5 if no mirror could be
// reached; else 0 if every mirror is fine (reachable, current, unexpired, every checked file
// verified); else 1 (a mirror unreachable, behind or rolled back, stale, missing the site or
// files). A rolled-back mirror is reported but is not exit 4: an honest mirror that has not
// synced yet looks the same from here.
//
// AddMirrorsCheckCommand() is meant for the `refuge mirrors` group; AddMirrorsCheckCommandAs()
// registers the same command under any parent and name.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <random>
#include <regex>
#include <thread>

#include "cli/cli_common.h"
#include "common/clock.h"
#include "common/file_util.h"
#include "common/limits.h"
#include "crypto/canonical_json.h"
#include "net/fetcher.h"
#include "node/site_client.h"
#include "node/site_repository.h"
#include "publish/publisher.h"
#include "tuf/updater.h"

namespace refuge::cli {

CLI::App* AddMirrorsCheckCommandAs(CLI::App& parent, const std::string& name, Context& ctx);
void AddMirrorsCheckCommand(CLI::App& mirrors, Context& ctx);

namespace {

// Files fetched from one mirror when no --sample is given: enough to cover most sites whole,
// bounded so that a check of a huge site does not download all of it from every mirror.
constexpr size_t kMaxCheckedFiles = 1000;
// Mirrors checked at once.
constexpr size_t kParallelChecks = 8;
// GET /.refuge/v1/status answers a few hundred bytes per site.
constexpr uint64_t kMaxStatusBytes = 1024 * 1024;
// Problems listed per mirror (the counts are always complete).
constexpr size_t kMaxListedProblems = 100;

struct CheckArgs {
  std::string site_id;
  std::vector<std::string> from;
  int sample = 0;
  bool json = false;
};

enum class MetadataState { kOk, kStale, kRolledBack, kBad, kUnreachable, kNotServed, kFailed };

const char* MetadataStateName(MetadataState s) {
  switch (s) {
    case MetadataState::kOk: return "ok";
    case MetadataState::kStale: return "stale";
    case MetadataState::kRolledBack: return "rolled-back";
    case MetadataState::kBad: return "bad";
    case MetadataState::kUnreachable: return "unreachable";
    case MetadataState::kNotServed: return "not-served";
    case MetadataState::kFailed: return "failed";
  }
  return "failed";
}

struct FileProblem {
  std::string path;
  std::string reason;
};

struct BlockedItem {
  std::string path;
  std::string reason;
};

struct MirrorCheck {
  std::string url;
  bool reachable = false;
  std::optional<int64_t> version;  // the snapshot version it serves (signed)
  MetadataState metadata = MetadataState::kFailed;
  std::string metadata_detail;     // one line: "serves rolled-back metadata (v3 < trusted v5)"
  std::optional<int64_t> stale_since;
  // GET /.refuge/v1/status
  bool status_available = false;
  std::string status_detail;
  std::optional<int64_t> status_version;
  std::optional<int64_t> status_stale_since;
  std::vector<BlockedItem> blocked;
  // Content
  size_t files_total = 0;
  size_t files_checked = 0;
  size_t files_verified = 0;
  size_t mismatch_count = 0;
  size_t unavailable_count = 0;
  std::vector<FileProblem> mismatched;   // does not verify: tampering
  std::vector<FileProblem> unavailable;  // missing, blocked (451), or the transfer failed
  bool behind = false;                   // an older version than another mirror serves

  bool Tampering() const { return metadata == MetadataState::kBad || mismatch_count > 0; }
  bool Fine() const {
    return reachable && metadata == MetadataState::kOk && !behind && mismatch_count == 0 &&
           unavailable_count == 0;
  }
};

// A Fetcher that remembers whether anything came through, to tell "unreachable" from
// "failed part-way".
class CountingFetcher final : public Fetcher {
 public:
  explicit CountingFetcher(std::unique_ptr<Fetcher> inner) : inner_(std::move(inner)) {}
  Status FetchTo(const std::string& url, uint64_t max_bytes, const Sink& sink) override {
    Status s = inner_->FetchTo(url, max_bytes, sink);
    if (s.ok() || s.code() == StatusCode::kNotFound) answered_ = true;
    return s;
  }
  bool answered() const { return answered_; }

 private:
  std::unique_ptr<Fetcher> inner_;
  bool answered_ = false;
};

std::string Ago(int64_t since, int64_t now) {
  int64_t d = now - since;
  if (d < 0) return "in the future";
  if (d < 120) return std::to_string(d) + " s ago";
  if (d < 7200) return std::to_string(d / 60) + " min ago";
  if (d < 2 * 86400) return std::to_string(d / 3600) + " h ago";
  return std::to_string(d / 86400) + " days ago";
}

// Turns the updater's verdict into what the report says. The updater's messages are the
// source (tuf/updater.cc, tuf/metadata.cc); the patterns below follow them.
void ClassifyRefreshFailure(const Status& s, MirrorCheck& out, const tuf::Updater* updater,
                            int64_t now) {
  const std::string& m = s.message();
  std::smatch match;
  switch (s.code()) {
    case StatusCode::kUnavailable:
      out.metadata = out.reachable ? MetadataState::kFailed : MetadataState::kUnreachable;
      out.metadata_detail = m;
      return;
    case StatusCode::kNotFound:
      out.metadata = MetadataState::kNotServed;
      out.metadata_detail = "does not serve this site (" + m + ")";
      return;
    case StatusCode::kVerificationFailed:
      break;
    case StatusCode::kCorruption:
    case StatusCode::kTooLarge:
      out.metadata = MetadataState::kBad;
      out.metadata_detail = "malformed or oversized metadata: " + m;
      return;
    default:
      out.metadata = MetadataState::kFailed;
      out.metadata_detail = m;
      return;
  }
  static const std::regex kExpired(R"((\w+) metadata version (\d+) expired at (\S+))");
  static const std::regex kOlder(R"(version (\d+) is older than trusted version (\d+))");
  static const std::regex kOlderSnapshot(R"(names snapshot version (\d+), older than trusted (\d+))");
  static const std::regex kSignature(R"((\w+) metadata version \d+ has \d+ valid signature)");
  if (std::regex_search(m, match, kExpired)) {
    out.metadata = MetadataState::kStale;
    auto when = ParseUtc(match[3].str());
    if (when.ok()) out.stale_since = *when;
    out.metadata_detail = "stale: " + match[1].str() + " metadata expired at " + match[3].str() +
                          (when.ok() ? " (" + Ago(*when, now) + ")" : "");
    if (updater != nullptr && updater->trusted_timestamp()) {
      out.version = updater->trusted_timestamp()->snapshot_meta.version;
    }
  } else if (std::regex_search(m, match, kOlder)) {
    out.metadata = MetadataState::kRolledBack;
    out.metadata_detail = "serves rolled-back metadata (v" + match[1].str() + " < trusted v" +
                          match[2].str() + ")";
  } else if (std::regex_search(m, match, kOlderSnapshot)) {
    out.metadata = MetadataState::kRolledBack;
    out.version = std::stoll(match[1].str());
    out.metadata_detail = "serves rolled-back metadata (snapshot v" + match[1].str() +
                          " < trusted v" + match[2].str() + ")";
  } else if (m.find("rollback refused") != std::string::npos) {
    out.metadata = MetadataState::kRolledBack;
    out.metadata_detail = "serves rolled-back metadata (" + m + ")";
  } else if (std::regex_search(m, match, kSignature)) {
    out.metadata = MetadataState::kBad;
    out.metadata_detail = "bad signature on " + match[1].str() + " (" + m + ")";
  } else {
    out.metadata = MetadataState::kBad;
    out.metadata_detail = "metadata does not verify: " + m;
  }
}

void ReadStatus(const std::string& url, const std::string& site_id, MirrorCheck& out) {
  auto fetcher = NewHttpFetcher();
  auto body = fetcher->Fetch(url + "/.refuge/v1/status", kMaxStatusBytes);
  if (!body.ok()) {
    const bool answered = body.status().code() == StatusCode::kNotFound;
    out.reachable = out.reachable || answered;
    out.status_detail = answered ? "no status endpoint" : "status: " + body.status().message();
    return;
  }
  out.reachable = true;
  auto json = ParseJson(*body);
  auto bad = [&](const std::string& why) { out.status_detail = "status: " + why; };
  if (!json.ok() || !json->is_object()) return bad("not a JSON object");
  auto sites = json->find("sites");
  if (sites == json->end() || !sites->is_object()) return bad("no \"sites\" object");
  out.status_available = true;
  auto site = sites->find(site_id);
  if (site == sites->end()) {
    out.status_detail = "the node does not list this site";
    return;
  }
  if (!site->is_object()) return bad("the site's entry is not an object");
  if (auto v = site->find("version"); v != site->end() && v->is_number_integer()) {
    out.status_version = v->get<int64_t>();
  }
  if (auto v = site->find("stale_since"); v != site->end() && v->is_number_integer()) {
    out.status_stale_since = v->get<int64_t>();
  }
  if (auto blocked = site->find("blocked"); blocked != site->end() && blocked->is_array()) {
    for (const Json& b : *blocked) {
      if (!b.is_object()) continue;
      BlockedItem item;
      if (auto p = b.find("path"); p != b.end() && p->is_string()) item.path = p->get<std::string>();
      if (auto r = b.find("reason"); r != b.end() && r->is_string()) {
        item.reason = r->get<std::string>();
      }
      if (out.blocked.size() < kMaxListedProblems) out.blocked.push_back(std::move(item));
    }
  }
}

// One mirror, on its own: `trusted_dir` is this client's metadata (never written); the work
// happens in `work_dir`.
MirrorCheck CheckMirror(const std::string& url, const std::string& site_id,
                        const std::string& trusted_dir, const std::string& work_dir, int sample) {
  MirrorCheck out;
  out.url = url;
  const int64_t now = SystemClock::Get().NowSeconds();
  ReadStatus(url, site_id, out);

  const std::string metadata_dir = work_dir + "/metadata";
  std::error_code ec;
  std::filesystem::create_directories(metadata_dir, ec);
  if (PathExists(trusted_dir + "/root.json")) {
    std::filesystem::copy(trusted_dir, metadata_dir,
                          std::filesystem::copy_options::recursive |
                              std::filesystem::copy_options::overwrite_existing,
                          ec);
    if (ec) {
      out.metadata_detail = "cannot copy the trusted metadata: " + ec.message();
      return out;
    }
  }
  auto counting = std::make_unique<CountingFetcher>(NewHttpFetcher());
  CountingFetcher* fetcher = counting.get();
  const std::string base = url + kSitesPrefix + site_id;
  if (!PathExists(metadata_dir + "/root.json")) {
    // No trusted root yet: this mirror's 1.root.json, if it hashes to the site ID.
    auto root = fetcher->Fetch(base + "/metadata/1.root.json", limits::kMaxRootBytes);
    out.reachable = out.reachable || fetcher->answered();
    if (!root.ok()) {
      ClassifyRefreshFailure(root.status().Annotate("first root"), out, nullptr, now);
      return out;
    }
    if (SiteIdOf(*root) != site_id) {
      out.metadata = MetadataState::kBad;
      out.metadata_detail = "serves a 1.root.json that does not hash to the site ID (forged)";
      return out;
    }
    Status s = tuf::Updater::InitTrustedRoot(metadata_dir, *root);
    if (!s.ok()) {
      out.metadata = MetadataState::kBad;
      out.metadata_detail = "bad first root: " + s.message();
      return out;
    }
  }
  tuf::UpdaterOptions options;
  options.metadata_dir = metadata_dir;
  options.metadata_base_url = base + "/metadata";
  options.target_base_url = base + "/targets";
  options.fetcher = fetcher;
  auto updater = tuf::Updater::Open(options);
  if (!updater.ok()) {
    out.metadata_detail = "trusted metadata: " + updater.status().message();
    return out;
  }
  Status refreshed = (*updater)->Refresh();
  out.reachable = out.reachable || fetcher->answered();
  if (!refreshed.ok()) {
    ClassifyRefreshFailure(refreshed, out, updater->get(), now);
    return out;
  }
  out.metadata = MetadataState::kOk;
  out.version = (*updater)->trusted_snapshot()->envelope.version;
  const int64_t expires = std::min({(*updater)->trusted_timestamp()->envelope.expires,
                                    (*updater)->trusted_snapshot()->envelope.expires,
                                    (*updater)->trusted_targets()->envelope.expires});
  out.metadata_detail = "ok, expires " + FormatUtc(expires);

  // The files of the version it serves (top-level targets; delegated roles are not walked).
  std::vector<std::pair<std::string, tuf::TargetFile>> files(
      (*updater)->trusted_targets()->targets.begin(), (*updater)->trusted_targets()->targets.end());
  out.files_total = files.size();
  const size_t want = sample > 0 ? static_cast<size_t>(sample) : kMaxCheckedFiles;
  if (files.size() > want) {
    std::mt19937_64 rng(std::random_device{}());
    std::shuffle(files.begin(), files.end(), rng);
    files.resize(want);
    std::sort(files.begin(), files.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  const std::string file = work_dir + "/file";
  for (const auto& [path, info] : files) {
    Status s = (*updater)->DownloadTarget(info, path, file);
    ::unlink(file.c_str());
    ++out.files_checked;
    if (s.ok()) {
      ++out.files_verified;
    } else if (s.code() == StatusCode::kVerificationFailed || s.code() == StatusCode::kCorruption) {
      ++out.mismatch_count;
      if (out.mismatched.size() < kMaxListedProblems) out.mismatched.push_back({path, s.message()});
    } else {
      ++out.unavailable_count;
      std::string reason = IsBlockedByMirror(s) ? kBlockedByMirror
                           : s.code() == StatusCode::kNotFound ? "missing"
                                                                : s.message();
      if (out.unavailable.size() < kMaxListedProblems) out.unavailable.push_back({path, reason});
    }
  }
  return out;
}

Json CheckJson(const MirrorCheck& c) {
  auto opt = [](const std::optional<int64_t>& v) { return v ? Json(*v) : Json(nullptr); };
  auto problems = [](const std::vector<FileProblem>& v) {
    Json a = Json::array();
    for (const FileProblem& p : v) a.push_back(Json{{"path", p.path}, {"reason", p.reason}});
    return a;
  };
  Json blocked = Json::array();
  for (const BlockedItem& b : c.blocked) blocked.push_back(Json{{"path", b.path}, {"reason", b.reason}});
  return Json{{"url", c.url},
              {"reachable", c.reachable},
              {"version", opt(c.version)},
              {"behind", c.behind},
              {"metadata", MetadataStateName(c.metadata)},
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
    std::string metadata = MetadataStateName(c.metadata);
    std::string blocked = c.status_available ? std::to_string(c.blocked.size()) : "n/a";
    std::string content = "-";
    if (c.files_checked > 0) {
      content = std::to_string(c.files_verified) + "/" + std::to_string(c.files_checked) + " verified";
      if (c.files_checked < c.files_total) content += " (of " + std::to_string(c.files_total) + ")";
      if (c.mismatch_count > 0) content += ", " + std::to_string(c.mismatch_count) + " DO NOT VERIFY";
      if (c.unavailable_count > 0) content += ", " + std::to_string(c.unavailable_count) + " unavailable";
    } else if (c.metadata == MetadataState::kOk) {
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
    if (c.metadata != MetadataState::kOk || c.behind) {
      std::cout << "    " << Printable(c.metadata_detail) << "\n";
    }
    for (const FileProblem& p : c.mismatched) {
      std::cout << "    evidence of a tampering mirror: " << Printable(p.path) << ": "
                << Printable(p.reason) << "\n";
    }
    for (const FileProblem& p : c.unavailable) {
      std::cout << "    unavailable: " << Printable(p.path) << ": " << Printable(p.reason) << "\n";
    }
    for (const BlockedItem& b : c.blocked) {
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
  std::vector<MirrorCheck> checks(urls->size());
  {
    Progress progress(!args.json);
    progress.Update("checking " + std::to_string(urls->size()) + " mirror(s)...");
    std::atomic<size_t> next{0};
    std::vector<std::thread> workers;
    for (size_t t = 0; t < std::min(kParallelChecks, urls->size()); ++t) {
      workers.emplace_back([&] {
        for (size_t i = next++; i < urls->size(); i = next++) {
          checks[i] = CheckMirror((*urls)[i], args.site_id, client_dir + "/metadata",
                                  work + "/" + std::to_string(i), args.sample);
        }
      });
    }
    for (std::thread& w : workers) w.join();
  }
  std::error_code ec;
  std::filesystem::remove_all(work, ec);

  int64_t newest = 0;
  for (const MirrorCheck& c : checks) {
    if (c.metadata == MetadataState::kOk && c.version) newest = std::max(newest, *c.version);
  }
  for (MirrorCheck& c : checks) {
    if (c.metadata == MetadataState::kOk && c.version && *c.version < newest) {
      c.behind = true;
      c.metadata_detail = "behind: serves v" + std::to_string(*c.version) + ", another mirror v" +
                          std::to_string(newest);
    }
  }
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

CLI::App* AddMirrorsCheckCommandAs(CLI::App& parent, const std::string& name, Context& ctx) {
  auto a = std::make_shared<CheckArgs>();
  CLI::App* cmd = AddCommand(
      parent, name, "Check every known mirror of a site: reachable, version, stale, blocked, tampering",
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
  return cmd;
}

void AddMirrorsCheckCommand(CLI::App& mirrors, Context& ctx) {
  AddMirrorsCheckCommandAs(mirrors, "check", ctx);
}

}  // namespace refuge::cli
