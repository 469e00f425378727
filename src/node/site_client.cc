#include "node/site_client.h"

#include "common/file_util.h"
#include "common/limits.h"
#include "node/site_repository.h"
#include "publish/publisher.h"

namespace refuge {

std::string IndexPath(const std::string& path) {
  if (path.empty() || path.back() == '/') return path + "index.html";
  return path;
}

Result<std::unique_ptr<SiteClient>> SiteClient::Open(const std::string& source,
                                                     const std::string& site_id,
                                                     const std::string& metadata_dir) {
  if (!IsSiteId(site_id)) {
    return InvalidArgument("'" + site_id + "' is not a site ID (52 characters of base32)");
  }
  std::unique_ptr<SiteClient> client(new SiteClient());
  std::string base;
  if (source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0) {
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
  base += std::string(kSitesPrefix) + site_id;
  const std::string metadata_url = base + "/metadata";

  if (!PathExists(metadata_dir + "/" + tuf::Updater::LocalFileName(tuf::kRoot))) {
    auto root = client->fetcher_->Fetch(metadata_url + "/1.root.json", limits::kMaxRootBytes);
    if (!root.ok()) return root.status().Annotate("fetching the site's first root");
    if (SiteIdOf(*root) != site_id) {
      return VerificationFailed(source + " served a 1.root.json that does not hash to site ID " +
                                site_id + " (a forged or wrong site)");
    }
    REFUGE_RETURN_IF_ERROR(tuf::Updater::InitTrustedRoot(metadata_dir, *root));
  }
  tuf::UpdaterOptions options;
  options.metadata_dir = metadata_dir;
  options.metadata_base_url = metadata_url;
  options.target_base_url = base + "/targets";
  options.fetcher = client->fetcher_.get();
  REFUGE_ASSIGN_OR_RETURN(client->updater_, tuf::Updater::Open(options));
  return client;
}

Result<tuf::TargetFile> SiteClient::Resolve(const std::string& path) {
  REFUGE_RETURN_IF_ERROR(updater_->Refresh());
  target_path_ = IndexPath(path);
  return updater_->GetTargetInfo(target_path_);
}

Status SiteClient::Download(const tuf::TargetFile& info, const std::string& file) {
  if (updater_->IsCached(info, file)) return Status::Ok();
  return updater_->DownloadTarget(info, target_path_, file);
}

int64_t SiteClient::version() const {
  const auto& s = updater_->trusted_snapshot();
  return s ? s->envelope.version : 0;
}

}  // namespace refuge
