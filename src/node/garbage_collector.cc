#include "node/garbage_collector.h"

#include <sys/stat.h>

#include <vector>

namespace refuge {

Result<GcResult> CollectGarbage(NodeHome& home, const GcOptions& options) {
  if (options.keep && *options.keep < 1) return InvalidArgument("--keep must be at least 1");
  REFUGE_ASSIGN_OR_RETURN(FileLock lock, home.LockStore(FileLock::Mode::kExclusive));
  GcResult result;
  REFUGE_ASSIGN_OR_RETURN(std::vector<SiteRow> sites, home.db().ListSites());
  for (const SiteRow& site : sites) {
    if (options.site_id && *options.site_id != site.site_id) continue;
    int64_t keep = options.keep.value_or(site.keep_versions.value_or(kDefaultKeepVersions));
    REFUGE_ASSIGN_OR_RETURN(std::vector<VersionRow> versions, home.db().ListVersions(site.site_id));
    std::vector<int64_t> doomed;
    int64_t newest_rank = 0;
    for (const VersionRow& v : versions) {  // newest first
      bool retained = newest_rank++ < keep || v.pinned || v.version == site.current_version;
      if (!retained) doomed.push_back(v.version);
    }
    result.versions_deleted += doomed.size();
    if (!options.dry_run) REFUGE_RETURN_IF_ERROR(home.db().DeleteVersions(site.site_id, doomed));
  }
  if (options.dry_run && result.versions_deleted > 0) {
    // Which objects would go depends on the deletions; report versions only.
    return result;
  }
  REFUGE_ASSIGN_OR_RETURN(std::set<std::string> live, home.db().LiveObjects());
  ObjectStore& store = home.store();
  REFUGE_RETURN_IF_ERROR(store.ForEachObject([&](const std::string& sha) {
    if (live.count(sha)) {
      ++result.objects_kept;
      return Status::Ok();
    }
    struct stat st {};
    if (::stat(store.PathFor(sha).c_str(), &st) == 0) result.bytes_freed += static_cast<uint64_t>(st.st_size);
    ++result.objects_deleted;
    return options.dry_run ? Status::Ok() : store.Remove(sha);
  }));
  if (!options.dry_run) {
    REFUGE_ASSIGN_OR_RETURN(result.temp_files_removed, store.RemoveTemporaryFiles());
  }
  return result;
}

}  // namespace refuge
