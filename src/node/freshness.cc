#include "node/freshness.h"

#include <algorithm>

#include "common/clock.h"
#include "common/limits.h"
#include "crypto/canonical_json.h"
#include "tuf/metadata.h"

namespace refuge {

Result<int64_t> EarliestExpiry(NodeHome& home, const std::string& site_id) {
  REFUGE_ASSIGN_OR_RETURN(SiteRow site, home.db().GetSite(site_id));
  if (site.current_version == 0) return NotFound("site " + site_id + " has no version yet");
  int64_t earliest = INT64_MAX;
  auto expiry_of = [&](const MetadataRow& row, uint64_t max) -> Status {
    REFUGE_ASSIGN_OR_RETURN(std::string bytes, home.store().Read(row.sha256, max));
    REFUGE_ASSIGN_OR_RETURN(Json j, ParseJson(bytes));
    auto signed_it = j.find("signed");
    if (signed_it == j.end() || !signed_it->is_object() || !signed_it->contains("expires") ||
        !(*signed_it)["expires"].is_string()) {
      return Corruption(row.role + " metadata without expires");
    }
    REFUGE_ASSIGN_OR_RETURN(int64_t t, ParseUtc((*signed_it)["expires"].get<std::string>()));
    earliest = std::min(earliest, t);
    return Status::Ok();
  };
  REFUGE_ASSIGN_OR_RETURN(MetadataRow ts, home.db().LatestMetadata(site_id, tuf::kTimestamp));
  REFUGE_RETURN_IF_ERROR(expiry_of(ts, limits::kMaxTimestampBytes));
  REFUGE_ASSIGN_OR_RETURN(VersionRow v, home.db().GetVersion(site_id, site.current_version));
  REFUGE_ASSIGN_OR_RETURN(MetadataRow snap, home.db().GetMetadata(site_id, tuf::kSnapshot, v.version));
  REFUGE_RETURN_IF_ERROR(expiry_of(snap, limits::kMaxSnapshotBytes));
  REFUGE_ASSIGN_OR_RETURN(MetadataRow tg, home.db().GetMetadata(site_id, tuf::kTargets, v.targets_version));
  REFUGE_RETURN_IF_ERROR(expiry_of(tg, limits::kMaxTargetsBytes));
  return earliest;
}

Result<std::optional<int64_t>> StaleSince(NodeHome& home, const std::string& site_id, int64_t now) {
  auto expiry = EarliestExpiry(home, site_id);
  if (!expiry.ok()) {
    if (expiry.status().code() == StatusCode::kNotFound) return std::optional<int64_t>();
    return expiry.status();
  }
  if (*expiry > now) return std::optional<int64_t>();
  return std::optional<int64_t>(*expiry);
}

}  // namespace refuge
