#include "node/site_client.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/file_util.h"
#include "common/limits.h"
#include "node/site_repository.h"
#include "publish/publisher.h"

namespace refuge {

namespace {

bool IsHexKey(const std::string& key) {
  return key.size() == 64 && std::all_of(key.begin(), key.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Data a mirror served failed a check: blame the mirror, not the site.
bool IsMirrorFault(const Status& s) {
  return s.code() == StatusCode::kVerificationFailed || s.code() == StatusCode::kCorruption;
}

}  // namespace

std::string IndexPath(const std::string& path) {
  if (path.empty() || path.back() == '/') return path + "index.html";
  return path;
}

bool IsUrlSource(const std::string& source) {
  return source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0;
}

// --- The saved mirror list ---------------------------------------------------------------------

std::string SavedMirrorListPath(const std::string& client_dir) {
  return client_dir + "/mirrors.json";
}

Result<MirrorList> ParseSiteMirrorList(std::string_view bytes, const std::string& site_id) {
  REFUGE_ASSIGN_OR_RETURN(MirrorList list, ParseMirrorList(bytes));
  if (list.site_id != site_id) {
    return VerificationFailed("mirror list names site '" + list.site_id.substr(0, 64) +
                              "', not " + site_id);
  }
  std::erase_if(list.mirrors, [](const MirrorEntry& e) { return !e.key.empty() && !IsHexKey(e.key); });
  return list;
}

Result<std::optional<MirrorList>> LoadSavedMirrorList(const std::string& client_dir,
                                                      const std::string& site_id) {
  const std::string path = SavedMirrorListPath(client_dir);
  if (!PathExists(path)) return std::optional<MirrorList>();
  REFUGE_ASSIGN_OR_RETURN(std::string bytes, ReadFileBounded(path, kMaxMirrorListBytes));
  auto list = ParseSiteMirrorList(bytes, site_id);
  if (!list.ok()) return Corruption(path + ": " + list.status().message());
  return std::optional<MirrorList>(std::move(list).value());
}

Result<std::vector<std::string>> KnownMirrors(const std::vector<std::string>& seeds,
                                              const std::optional<MirrorList>& saved) {
  std::vector<std::string> out;
  auto add = [&](const std::string& url) {
    if (std::find(out.begin(), out.end(), url) == out.end()) out.push_back(url);
  };
  for (const std::string& seed : seeds) {
    auto url = NormalizeNodeUrl(seed);
    if (!url.ok()) return InvalidArgument("--from " + seed + ": " + url.status().message());
    add(*url);
  }
  if (saved) {
    for (const MirrorEntry& e : saved->mirrors) add(e.url);
  }
  return out;
}

// --- Opening -----------------------------------------------------------------------------------

Result<std::unique_ptr<SiteClient>> SiteClient::Open(const std::string& source,
                                                     const std::string& site_id,
                                                     const std::string& metadata_dir) {
  if (!IsSiteId(site_id)) {
    return InvalidArgument("'" + site_id + "' is not a site ID (52 characters of base32)");
  }
  std::unique_ptr<SiteClient> client(new SiteClient());
  client->site_id_ = site_id;
  client->single_source_ = source;
  std::string base;
  if (IsUrlSource(source)) {
    client->fetcher_ = NewHttpFetcher();
    base = source;
    while (!base.empty() && base.back() == '/') base.pop_back();
  } else {
    if (!PathExists(source + "/node.db")) {
      return InvalidArgument(source + " is neither an http(s) URL nor a refuge node home");
    }
    REFUGE_ASSIGN_OR_RETURN(client->source_home_, NodeHome::Open(source));
    client->fetcher_ = NewNodeFetcher(*client->source_home_);
    base = kNodeUrlScheme;
  }
  REFUGE_RETURN_IF_ERROR(client->Init(site_id, base, metadata_dir, nullptr));
  return client;
}

Result<std::unique_ptr<SiteClient>> SiteClient::Open(const SiteClientOptions& options,
                                                     const std::string& site_id) {
  if (!IsSiteId(site_id)) {
    return InvalidArgument("'" + site_id + "' is not a site ID (52 characters of base32)");
  }
  const std::string metadata_dir = options.client_dir + "/metadata";
  const bool any_local = std::any_of(options.sources.begin(), options.sources.end(),
                                     [](const std::string& s) { return !IsUrlSource(s); });
  if (options.sources.size() == 1) {
    std::unique_ptr<SiteClient> client;
    if (any_local) {
      REFUGE_ASSIGN_OR_RETURN(client, Open(options.sources[0], site_id, metadata_dir));
    } else {
      client.reset(new SiteClient());
      client->site_id_ = site_id;
      client->single_source_ = options.sources[0];
      client->fetcher_ = NewHttpFetcher(options.mirror_options.http);
      std::string base = options.sources[0];
      while (!base.empty() && base.back() == '/') base.pop_back();
      REFUGE_RETURN_IF_ERROR(client->Init(site_id, base, metadata_dir, options.clock));
    }
    client->client_dir_ = options.client_dir;
    return client;
  }
  if (any_local) {
    return InvalidArgument("a node home directory can only be the one --from source; "
                           "several sources must all be http(s) URLs");
  }
  REFUGE_ASSIGN_OR_RETURN(auto saved, LoadSavedMirrorList(options.client_dir, site_id));
  REFUGE_ASSIGN_OR_RETURN(auto urls, KnownMirrors(options.sources, saved));
  if (urls.empty()) {
    return InvalidArgument("no known mirror for site " + site_id + ": give --from URL");
  }
  std::unique_ptr<SiteClient> client(new SiteClient());
  client->site_id_ = site_id;
  client->client_dir_ = options.client_dir;
  auto mirrors = NewMirrorFetcher(urls, options.mirror_options);
  client->mirrors_ = mirrors.get();
  client->fetcher_ = std::move(mirrors);
  REFUGE_RETURN_IF_ERROR(client->Init(site_id, kMirrorUrlScheme, metadata_dir, options.clock));
  return client;
}

Status SiteClient::Init(const std::string& site_id, const std::string& base_url,
                        const std::string& metadata_dir, const Clock* clock) {
  const std::string base = base_url + std::string(kSitesPrefix) + site_id;
  const std::string metadata_url = base + "/metadata";
  if (!PathExists(metadata_dir + "/" + tuf::Updater::LocalFileName(tuf::kRoot))) {
    Status s = WithMirrorRetries([&]() -> Status {
      auto root = fetcher_->Fetch(metadata_url + "/1.root.json", limits::kMaxRootBytes);
      if (!root.ok()) return root.status().Annotate("fetching the site's first root");
      if (SiteIdOf(*root) != site_id) {
        const std::string who = mirrors_ != nullptr && mirrors_->last_served()
                                    ? mirrors_->base_url(*mirrors_->last_served())
                                    : single_source_;
        return VerificationFailed(who + " served a 1.root.json that does not hash to site ID " +
                                  site_id + " (a forged or wrong site)");
      }
      return tuf::Updater::InitTrustedRoot(metadata_dir, *root);
    });
    REFUGE_RETURN_IF_ERROR(s);
  }
  tuf::UpdaterOptions options;
  options.metadata_dir = metadata_dir;
  options.metadata_base_url = metadata_url;
  options.target_base_url = base + "/targets";
  options.fetcher = fetcher_.get();
  options.clock = clock;
  REFUGE_ASSIGN_OR_RETURN(updater_, tuf::Updater::Open(options));
  return Status::Ok();
}

// --- Reading -----------------------------------------------------------------------------------

Status SiteClient::WithMirrorRetries(const std::function<Status()>& step) {
  for (;;) {
    Status s = step();
    if (s.ok() || mirrors_ == nullptr || !IsMirrorFault(s)) return s;
    // The data that failed came with the last fetch; its mirrors are not asked again.
    const std::vector<size_t> culprits = mirrors_->last_contributors();
    if (culprits.empty()) return s;
    for (size_t m : culprits) mirrors_->Exclude(m, "served data that does not verify (" + s.message() + ")");
    if (mirrors_->usable_count() == 0) return s;
  }
}

Result<tuf::TargetFile> SiteClient::Resolve(const std::string& path) {
  REFUGE_RETURN_IF_ERROR(WithMirrorRetries([&] { return updater_->Refresh(); }));
  if (!client_dir_.empty()) SaveMirrorList();
  target_path_ = IndexPath(path);
  return updater_->GetTargetInfo(target_path_);
}

Status SiteClient::Download(const tuf::TargetFile& info, const std::string& file) {
  if (updater_->IsCached(info, file)) return Status::Ok();
  REFUGE_RETURN_IF_ERROR(
      WithMirrorRetries([&] { return updater_->DownloadTarget(info, target_path_, file); }));
  served_by_ = mirrors_ == nullptr ? single_source_
               : mirrors_->last_served() ? mirrors_->base_url(*mirrors_->last_served())
                                         : std::string();
  last_download_attempts_.clear();
  if (mirrors_ != nullptr) {
    for (const MirrorAttempt& a : mirrors_->last_attempts()) {
      last_download_attempts_.push_back({mirrors_->base_url(a.mirror), MirrorOutcomeName(a.outcome),
                                         a.detail, a.offset, a.bytes});
    }
  }
  return Status::Ok();
}

void SiteClient::SaveMirrorList() {
  mirror_list_warning_.clear();
  auto info = updater_->GetTargetInfo(kMirrorListTarget);
  if (!info.ok()) {
    if (info.status().code() != StatusCode::kNotFound) {
      mirror_list_warning_ = "mirror list: " + info.status().message();
    }
    return;  // the site publishes no list: an earlier saved one stays
  }
  if (info->length > kMaxMirrorListBytes) {
    mirror_list_warning_ = "mirror list: larger than " + std::to_string(kMaxMirrorListBytes) + " bytes";
    return;
  }
  const std::string saved = SavedMirrorListPath(client_dir_);
  if (updater_->IsCached(*info, saved)) return;
  Status s = MakeDirectories(client_dir_);
  const std::string tmp = TempName(client_dir_, ".mirrors-");
  if (s.ok()) {
    s = WithMirrorRetries(
        [&] { return updater_->DownloadTarget(*info, kMirrorListTarget, tmp); });
  }
  if (s.ok()) {
    auto bytes = ReadFileBounded(tmp, kMaxMirrorListBytes);
    s = bytes.ok() ? ParseSiteMirrorList(*bytes, site_id_).status() : bytes.status();
  }
  if (s.ok() && ::rename(tmp.c_str(), saved.c_str()) != 0) s = ErrnoStatus("rename to " + saved, errno);
  if (s.ok()) s = FsyncDirectory(client_dir_);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    mirror_list_warning_ = "mirror list not saved: " + s.message();
  }
}

int64_t SiteClient::version() const {
  const auto& s = updater_->trusted_snapshot();
  return s ? s->envelope.version : 0;
}

std::vector<MirrorReport> SiteClient::mirror_reports() const {
  std::vector<MirrorReport> out;
  if (mirrors_ == nullptr) return out;
  for (const MirrorState& s : mirrors_->states()) {
    MirrorReport r;
    r.url = s.base_url;
    r.outcome = MirrorOutcomeName(s.last_outcome);
    r.detail = s.excluded ? s.excluded_reason : s.last_detail;
    r.failed = s.excluded || s.last_outcome == MirrorOutcome::kUnreachable ||
               s.last_outcome == MirrorOutcome::kFailed ||
               s.last_outcome == MirrorOutcome::kStalled ||
               s.last_outcome == MirrorOutcome::kTooLarge;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace refuge
