#include "node/mirror_checker.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <random>
#include <regex>
#include <thread>

#include "common/file_util.h"
#include "common/limits.h"
#include "crypto/canonical_json.h"
#include "node/site_repository.h"
#include "publish/publisher.h"
#include "tuf/updater.h"

namespace refuge {

namespace {

// GET /.refuge/v1/status answers a few hundred bytes per site.
constexpr uint64_t kMaxStatusBytes = 1024 * 1024;

// A Fetcher that remembers whether anything answered (data or a not-found), to tell
// "unreachable" from "failed part-way".
class AnswerTrackingFetcher final : public Fetcher {
 public:
  explicit AnswerTrackingFetcher(std::unique_ptr<Fetcher> inner) : inner_(std::move(inner)) {}
  Status FetchTo(const std::string& url, uint64_t max_bytes, const Sink& sink) override {
    Status s = inner_->FetchTo(url, max_bytes, sink);
    if (s.ok() || s.code() == StatusCode::kNotFound || s.code() == StatusCode::kTooLarge) {
      answered_ = true;
    }
    return s;
  }
  bool answered() const { return answered_; }

 private:
  std::unique_ptr<Fetcher> inner_;
  bool answered_ = false;
};

std::string Ago(int64_t since, int64_t now) {
  const int64_t d = now - since;
  if (d < 0) return "in the future";
  if (d < 120) return std::to_string(d) + " s ago";
  if (d < 7200) return std::to_string(d / 60) + " min ago";
  if (d < 2 * 86400) return std::to_string(d / 3600) + " h ago";
  return std::to_string(d / 86400) + " days ago";
}

// The updater's verdict as the report says it. The patterns follow the messages of
// tuf/updater.cc (Expired, Rollback) and tuf/metadata.cc (VerifyThreshold).
void ClassifyRefreshFailure(const Status& s, MirrorCheck& out, const tuf::Updater* updater,
                            int64_t now) {
  const std::string& m = s.message();
  switch (s.code()) {
    case StatusCode::kUnavailable:
      out.metadata = out.reachable ? MirrorMetadataState::kFailed : MirrorMetadataState::kUnreachable;
      out.metadata_detail = m;
      return;
    case StatusCode::kNotFound:
      out.metadata = MirrorMetadataState::kNotServed;
      out.metadata_detail = "does not serve this site (" + m + ")";
      return;
    case StatusCode::kVerificationFailed:
      break;
    case StatusCode::kCorruption:
    case StatusCode::kTooLarge:
      out.metadata = MirrorMetadataState::kBad;
      out.metadata_detail = "malformed or oversized metadata: " + m;
      return;
    default:
      out.metadata = MirrorMetadataState::kFailed;
      out.metadata_detail = m;
      return;
  }
  static const std::regex kExpired(R"((\S+) metadata version (\d+) expired at (\S+))");
  static const std::regex kOlder(R"(version (\d+) is older than trusted version (\d+))");
  static const std::regex kOlderSnapshot(R"(names snapshot version (\d+), older than trusted (\d+))");
  static const std::regex kSignature(R"((\S+) metadata version \d+ has \d+ valid signature)");
  std::smatch match;
  if (std::regex_search(m, match, kExpired)) {
    out.metadata = MirrorMetadataState::kStale;
    auto when = ParseUtc(match[3].str());
    if (when.ok()) out.stale_since = *when;
    out.metadata_detail = "stale: " + match[1].str() + " metadata expired at " + match[3].str() +
                          (when.ok() ? " (" + Ago(*when, now) + ")" : "");
    if (updater != nullptr && updater->trusted_timestamp()) {
      out.version = updater->trusted_timestamp()->snapshot_meta.version;
    }
  } else if (std::regex_search(m, match, kOlder)) {
    out.metadata = MirrorMetadataState::kRolledBack;
    out.metadata_detail = "serves rolled-back metadata (v" + match[1].str() + " < trusted v" +
                          match[2].str() + ")";
  } else if (std::regex_search(m, match, kOlderSnapshot)) {
    out.metadata = MirrorMetadataState::kRolledBack;
    out.version = std::stoll(match[1].str());
    out.metadata_detail = "serves rolled-back metadata (snapshot v" + match[1].str() +
                          " < trusted v" + match[2].str() + ")";
  } else if (m.find("rollback refused") != std::string::npos) {
    out.metadata = MirrorMetadataState::kRolledBack;
    out.metadata_detail = "serves rolled-back metadata (" + m + ")";
  } else if (std::regex_search(m, match, kSignature)) {
    out.metadata = MirrorMetadataState::kBad;
    out.metadata_detail = "bad signature on " + match[1].str() + " (" + m + ")";
  } else {
    out.metadata = MirrorMetadataState::kBad;
    out.metadata_detail = "metadata does not verify: " + m;
  }
}

void ReadStatus(const std::string& url, const MirrorCheckOptions& options, MirrorCheck& out) {
  auto fetcher = NewHttpFetcher(options.http);
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
  auto site = sites->find(options.site_id);
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
  auto blocked = site->find("blocked");
  if (blocked == site->end() || !blocked->is_array()) return;
  for (const Json& b : *blocked) {
    if (!b.is_object() || out.blocked.size() >= options.max_listed_problems) continue;
    MirrorFileProblem item;
    if (auto p = b.find("path"); p != b.end() && p->is_string()) item.path = p->get<std::string>();
    if (auto r = b.find("reason"); r != b.end() && r->is_string()) item.reason = r->get<std::string>();
    out.blocked.push_back(std::move(item));
  }
}

}  // namespace

const char* MirrorMetadataStateName(MirrorMetadataState state) {
  switch (state) {
    case MirrorMetadataState::kOk: return "ok";
    case MirrorMetadataState::kStale: return "stale";
    case MirrorMetadataState::kRolledBack: return "rolled-back";
    case MirrorMetadataState::kBad: return "bad";
    case MirrorMetadataState::kUnreachable: return "unreachable";
    case MirrorMetadataState::kNotServed: return "not-served";
    case MirrorMetadataState::kFailed: return "failed";
  }
  return "failed";
}

MirrorCheck CheckMirror(const std::string& url, const MirrorCheckOptions& options,
                        const std::string& work_dir) {
  MirrorCheck out;
  out.url = url;
  const Clock& clock = options.clock != nullptr ? *options.clock : SystemClock::Get();
  const int64_t now = clock.NowSeconds();
  ReadStatus(url, options, out);

  // A private copy of the trusted metadata: the refresh may write to it, the reader's stays.
  const std::string metadata_dir = work_dir + "/metadata";
  std::error_code ec;
  std::filesystem::create_directories(metadata_dir, ec);
  if (!ec && PathExists(options.trusted_metadata_dir + "/" + tuf::Updater::LocalFileName(tuf::kRoot))) {
    std::filesystem::copy(options.trusted_metadata_dir, metadata_dir,
                          std::filesystem::copy_options::recursive |
                              std::filesystem::copy_options::overwrite_existing,
                          ec);
  }
  if (ec) {
    out.metadata_detail = "cannot copy the trusted metadata: " + ec.message();
    return out;
  }
  AnswerTrackingFetcher fetcher(NewHttpFetcher(options.http));
  const std::string base = url + kSitesPrefix + options.site_id;
  if (!PathExists(metadata_dir + "/" + tuf::Updater::LocalFileName(tuf::kRoot))) {
    // Nothing trusted yet: this mirror's first root, if it hashes to the site ID.
    auto root = fetcher.Fetch(base + "/metadata/1.root.json", limits::kMaxRootBytes);
    out.reachable = out.reachable || fetcher.answered();
    if (!root.ok()) {
      ClassifyRefreshFailure(root.status().Annotate("first root"), out, nullptr, now);
      return out;
    }
    if (SiteIdOf(*root) != options.site_id) {
      out.metadata = MirrorMetadataState::kBad;
      out.metadata_detail = "serves a 1.root.json that does not hash to the site ID (forged)";
      return out;
    }
    if (Status s = tuf::Updater::InitTrustedRoot(metadata_dir, *root); !s.ok()) {
      out.metadata = MirrorMetadataState::kBad;
      out.metadata_detail = "bad first root: " + s.message();
      return out;
    }
  }
  tuf::UpdaterOptions updater_options;
  updater_options.metadata_dir = metadata_dir;
  updater_options.metadata_base_url = base + "/metadata";
  updater_options.target_base_url = base + "/targets";
  updater_options.fetcher = &fetcher;
  updater_options.clock = &clock;
  auto updater = tuf::Updater::Open(updater_options);
  if (!updater.ok()) {
    out.metadata_detail = "trusted metadata: " + updater.status().message();
    return out;
  }
  Status refreshed = (*updater)->Refresh();
  out.reachable = out.reachable || fetcher.answered();
  if (!refreshed.ok()) {
    ClassifyRefreshFailure(refreshed, out, updater->get(), now);
    return out;
  }
  const tuf::Updater& u = **updater;
  out.metadata = MirrorMetadataState::kOk;
  out.version = u.trusted_snapshot()->envelope.version;
  const int64_t expires = std::min({u.trusted_timestamp()->envelope.expires,
                                    u.trusted_snapshot()->envelope.expires,
                                    u.trusted_targets()->envelope.expires,
                                    u.trusted_root().envelope.expires});
  out.metadata_detail = "ok, expires " + FormatUtc(expires);

  // The files of the version it serves (top-level targets; delegated roles are not walked).
  std::vector<std::pair<std::string, tuf::TargetFile>> files(u.trusted_targets()->targets.begin(),
                                                             u.trusted_targets()->targets.end());
  out.files_total = files.size();
  const size_t want = options.sample > 0 ? options.sample : options.max_files;
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
      if (out.mismatched.size() < options.max_listed_problems) {
        out.mismatched.push_back({path, s.message()});
      }
    } else {
      ++out.unavailable_count;
      std::string reason = IsBlockedByMirror(s)                   ? kBlockedByMirror
                           : s.code() == StatusCode::kNotFound ? "missing"
                                                                : s.message();
      if (out.unavailable.size() < options.max_listed_problems) {
        out.unavailable.push_back({path, std::move(reason)});
      }
    }
  }
  return out;
}

std::vector<MirrorCheck> CheckMirrors(const std::vector<std::string>& urls,
                                      const MirrorCheckOptions& options) {
  std::vector<MirrorCheck> checks(urls.size());
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  const size_t threads = std::min(std::max<size_t>(options.parallel, 1), urls.size());
  for (size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < urls.size(); i = next++) {
        checks[i] = CheckMirror(urls[i], options, options.work_dir + "/" + std::to_string(i));
      }
    });
  }
  for (std::thread& w : workers) w.join();

  int64_t newest = 0;
  for (const MirrorCheck& c : checks) {
    if (c.metadata == MirrorMetadataState::kOk && c.version) newest = std::max(newest, *c.version);
  }
  for (MirrorCheck& c : checks) {
    if (c.metadata == MirrorMetadataState::kOk && c.version && *c.version < newest) {
      c.behind = true;
      c.metadata_detail = "behind: serves v" + std::to_string(*c.version) + ", another mirror v" +
                          std::to_string(newest);
    }
  }
  return checks;
}

}  // namespace refuge
