// Garbage collection: keep the last K versions of each site (plus pinned versions, every root
// and the newest timestamp) and delete every object nothing retained refers to.
//
// Safe while the node serves: the collector holds the store lock exclusively, so no publish
// or sync is between staging and committing; it first commits the removal of old versions
// from the database (after which nothing resolves to their objects) and only then unlinks
// objects. A reader that opened an object before keeps reading it (POSIX unlink semantics);
// one that resolved a name just before the commit sees "not found" and resolves again.
//
// Thread-safety: takes the node's locks.
#ifndef REFUGE_NODE_GARBAGE_COLLECTOR_H_
#define REFUGE_NODE_GARBAGE_COLLECTOR_H_

#include <cstdint>
#include <optional>
#include <string>

#include "node/node_home.h"

namespace refuge {

// Versions kept per site when neither the command nor the site says otherwise.
inline constexpr int64_t kDefaultKeepVersions = 3;

struct GcOptions {
  std::optional<int64_t> keep;         // overrides every site's setting
  std::optional<std::string> site_id;  // only this site's versions (objects: whole store)
  bool dry_run = false;
};

struct GcResult {
  uint64_t versions_deleted = 0;
  uint64_t objects_deleted = 0;
  uint64_t bytes_freed = 0;
  uint64_t temp_files_removed = 0;
  uint64_t objects_kept = 0;
};

Result<GcResult> CollectGarbage(NodeHome& home, const GcOptions& options);

}  // namespace refuge

#endif  // REFUGE_NODE_GARBAGE_COLLECTOR_H_
