#include "serve/catalog.h"

#include "common/limits.h"
#include "node/freshness.h"
#include "publish/publisher.h"
#include "serve/mime_types.h"
#include "tuf/metadata.h"

namespace refuge::serve {

SiteCounters* SiteCounterRegistry::For(const std::string& site_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = counters_[site_id];
  if (!slot) slot = std::make_unique<SiteCounters>();
  return slot.get();
}

void SiteCounterRegistry::ForEach(
    const std::function<void(const std::string&, const SiteCounters&)>& fn) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, c] : counters_) fn(id, *c);
}

namespace {

// Walks the root chain from 1.root.json and returns the verified root of `version`.
Result<tuf::Root> VerifiedRoot(NodeHome& home, const std::string& site_id, int64_t version) {
  std::optional<tuf::Root> previous;
  for (int64_t v = 1; v <= version; ++v) {
    const std::string name = std::to_string(v) + ".root.json";
    REFUGE_ASSIGN_OR_RETURN(MetadataRow row, home.db().GetMetadata(site_id, tuf::kRoot, v));
    REFUGE_ASSIGN_OR_RETURN(std::string bytes, home.store().Read(row.sha256, limits::kMaxRootBytes));
    if (v == 1 && SiteIdOf(bytes) != site_id) {
      return VerificationFailed("1.root.json does not hash to the site ID");
    }
    auto root = tuf::ParseRoot(bytes);
    if (!root.ok()) return root.status().Annotate(name);
    if (root->envelope.version != v) return VerificationFailed(name + " carries another version");
    REFUGE_RETURN_IF_ERROR(tuf::VerifyByRoot(root->envelope, *root, tuf::kRoot).Annotate(name));
    if (previous) {
      REFUGE_RETURN_IF_ERROR(
          tuf::VerifyByRoot(root->envelope, *previous, tuf::kRoot).Annotate(name));
    }
    previous = std::move(root).value();
  }
  if (!previous) return NotFound("no root metadata");
  return std::move(*previous);
}

}  // namespace

Result<std::shared_ptr<CatalogSite>> LoadCatalogSite(NodeHome& home, const SiteRow& site) {
  REFUGE_ASSIGN_OR_RETURN(VersionRow version, home.db().GetVersion(site.site_id, site.current_version));
  REFUGE_ASSIGN_OR_RETURN(tuf::Root root, VerifiedRoot(home, site.site_id, version.root_version));
  REFUGE_ASSIGN_OR_RETURN(MetadataRow row,
                          home.db().GetMetadata(site.site_id, tuf::kTargets, version.targets_version));
  REFUGE_ASSIGN_OR_RETURN(std::string bytes, home.store().Read(row.sha256, limits::kMaxTargetsBytes));
  const std::string name = std::to_string(version.targets_version) + ".targets.json";
  auto targets = tuf::ParseTargets(bytes);
  if (!targets.ok()) return targets.status().Annotate(name);
  REFUGE_RETURN_IF_ERROR(tuf::VerifyByRoot(targets->envelope, root, tuf::kTargets).Annotate(name));

  REFUGE_ASSIGN_OR_RETURN(MetadataRow ts, home.db().LatestMetadata(site.site_id, tuf::kTimestamp));
  REFUGE_ASSIGN_OR_RETURN(MetadataRow snap, home.db().GetMetadata(site.site_id, tuf::kSnapshot, version.version));
  auto out = std::make_shared<CatalogSite>();
  out->timestamp_version = ts.version;
  out->timestamp = CatalogFile{ts.sha256, ts.length, ContentTypeFor("timestamp.json")};
  out->snapshot = CatalogFile{snap.sha256, snap.length, ContentTypeFor("snapshot.json")};
  out->targets = CatalogFile{row.sha256, row.length, ContentTypeFor("targets.json")};
  out->site_id = site.site_id;
  out->version = version.version;
  out->published_at = version.published_at;
  auto expires = EarliestExpiry(home, site.site_id);
  if (expires.ok()) out->expires.store(*expires, std::memory_order_relaxed);
  out->files.reserve(targets->targets.size());
  for (const auto& [path, target] : targets->targets) {
    auto sha = target.hashes.find("sha256");
    if (sha == target.hashes.end()) {
      return VerificationFailed(name + ": target " + path + " has no sha256 hash");
    }
    CatalogFile file{sha->second, target.length, ContentTypeFor(path)};
    out->files.emplace(path, std::move(file));
    for (size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      out->directories.emplace(path.substr(0, slash));
    }
  }
  return out;
}

namespace {

// One site's part of the fingerprint: its version and its newest timestamp (a re-signed
// timestamp changes the site's expiry without a new version).
std::string SiteFingerprint(NodeDb& db, const SiteRow& s) {
  auto ts = db.LatestMetadata(s.site_id, tuf::kTimestamp);
  return s.site_id + ":" + std::to_string(s.current_version) + ":" +
         std::to_string(ts.ok() ? ts->version : 0) + ";";
}

}  // namespace

Result<std::string> Catalog::Fingerprint(NodeDb& db) {
  REFUGE_ASSIGN_OR_RETURN(std::vector<SiteRow> sites, db.ListSites());
  std::string fp;
  for (const SiteRow& s : sites) fp += SiteFingerprint(db, s);
  return fp;
}

std::shared_ptr<const Catalog> Catalog::Build(NodeHome& home, const Catalog* previous,
                                              SiteCounterRegistry& counters,
                                              BuildReport* report) {
  auto catalog = std::make_shared<Catalog>();
  auto sites = home.db().ListSites();
  if (!sites.ok()) {
    report->warnings.push_back("cannot list sites: " + sites.status().message());
    if (previous != nullptr) {
      catalog->sites_ = previous->sites_;
      catalog->fingerprint_ = previous->fingerprint_;
    }
    return catalog;
  }
  for (const SiteRow& site : *sites) {
    catalog->fingerprint_ += SiteFingerprint(home.db(), site);
    if (site.current_version == 0) continue;
    const CatalogSite* old = previous ? previous->FindSite(site.site_id) : nullptr;
    auto ts = home.db().LatestMetadata(site.site_id, tuf::kTimestamp);
    if (old != nullptr && old->version == site.current_version && ts.ok() &&
        ts->version == old->timestamp_version) {
      catalog->sites_.emplace(site.site_id, previous->sites_.find(site.site_id)->second);
      ++report->sites_reused;
      continue;
    }
    auto loaded = LoadCatalogSite(home, site);
    if (!loaded.ok()) {
      report->warnings.push_back("site " + site.site_id + " version " +
                                 std::to_string(site.current_version) +
                                 " not served: " + loaded.status().message());
      if (old != nullptr) catalog->sites_.emplace(site.site_id, previous->sites_.find(site.site_id)->second);
      continue;
    }
    (*loaded)->counters = counters.For(site.site_id);
    catalog->sites_.emplace(site.site_id, std::move(loaded).value());
    ++report->sites_loaded;
  }
  return catalog;
}

}  // namespace refuge::serve
