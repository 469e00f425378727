// Catalog: what `refuge serve` can serve by path, built only from verified metadata.
//
// For every site the node holds with a published version, the catalog maps each target
// path of the current version to its object (SHA-256, length, Content-Type). It is built
// from the site's signed targets metadata, verified on load against the site's root chain
// (1.root.json hashes to the site ID; each later root is signed by the previous one and by
// itself; the targets file is signed by the targets keys of the root it was published
// under). The node database's file list is not trusted for this: nothing outside a signed
// publication can ever be named by a path URL.
//
// A catalog is immutable once built and shared by every event loop. Reloading builds a new
// one, reusing the entries of sites whose version did not change (no re-verification), and
// keeping the previous entry of a site whose new version fails to load (with a warning).
//
// Thread-safety: immutable after Build(); share it through std::shared_ptr<const Catalog>.
#ifndef REFUGE_SERVE_CATALOG_H_
#define REFUGE_SERVE_CATALOG_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/status.h"
#include "node/node_home.h"

namespace refuge::serve {

// Heterogeneous lookup (by std::string_view) in unordered containers keyed by std::string.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Aggregate per-site counters, shared by all loops (relaxed atomics). They live in a
// registry so that they survive catalog reloads.
struct SiteCounters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> bytes{0};
};

class SiteCounterRegistry {
 public:
  // Stable for the registry's lifetime.
  SiteCounters* For(const std::string& site_id);
  void ForEach(const std::function<void(const std::string&, const SiteCounters&)>& fn) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<SiteCounters>> counters_;
};

inline constexpr int64_t kNeverExpires = INT64_MAX;

struct CatalogFile {
  std::string sha256;  // lowercase hex
  uint64_t length = 0;
  std::string_view content_type;  // static storage
};

struct CatalogSite {
  std::string site_id;
  int64_t version = 0;       // the publication (snapshot) version served
  int64_t published_at = 0;  // seconds since the epoch: Last-Modified of path URLs
  // The earliest expiry of the served timestamp, snapshot and targets; past it the site is
  // stale. A new timestamp for the same version updates it in place (reload), hence atomic.
  mutable std::atomic<int64_t> expires{kNeverExpires};
  // The metadata whose names move with each version (timestamp.json, snapshot.json,
  // targets.json), as of this catalog entry, so that they switch together with the paths.
  int64_t timestamp_version = 0;
  CatalogFile timestamp;
  CatalogFile snapshot;
  CatalogFile targets;
  std::unordered_map<std::string, CatalogFile, StringHash, std::equal_to<>> files;
  // Every directory that holds a file ("a", "a/b"), to redirect "/a" to "/a/".
  std::unordered_set<std::string, StringHash, std::equal_to<>> directories;
  SiteCounters* counters = nullptr;

  const CatalogFile* Find(std::string_view path) const {
    auto it = files.find(path);
    return it == files.end() ? nullptr : &it->second;
  }
};

class Catalog {
 public:
  struct BuildReport {
    std::vector<std::string> warnings;  // one line each: a site that failed to load and why
    int sites_loaded = 0;               // newly loaded (verified) sites
    int sites_reused = 0;               // unchanged since `previous`
  };

  // Builds the catalog of every published site in `home`. `previous` may be null.
  static std::shared_ptr<const Catalog> Build(NodeHome& home, const Catalog* previous,
                                              SiteCounterRegistry& counters,
                                              BuildReport* report);

  // What the catalog was built from: site IDs with their current versions. A reload is
  // needed when the database's fingerprint differs.
  static Result<std::string> Fingerprint(NodeDb& db);
  const std::string& fingerprint() const { return fingerprint_; }

  const CatalogSite* FindSite(std::string_view site_id) const {
    auto it = sites_.find(site_id);
    return it == sites_.end() ? nullptr : it->second.get();
  }
  size_t site_count() const { return sites_.size(); }
  // Site ID -> the version served.
  std::map<std::string, int64_t> Versions() const {
    std::map<std::string, int64_t> out;
    for (const auto& [id, site] : sites_) out.emplace(id, site->version);
    return out;
  }

 private:
  std::unordered_map<std::string, std::shared_ptr<const CatalogSite>, StringHash,
                     std::equal_to<>> sites_;
  std::string fingerprint_;
};

// Loads and verifies one site's current version (exposed for tests).
Result<std::shared_ptr<CatalogSite>> LoadCatalogSite(NodeHome& home, const SiteRow& site);

}  // namespace refuge::serve

#endif  // REFUGE_SERVE_CATALOG_H_
