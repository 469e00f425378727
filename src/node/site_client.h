// SiteClient: reads one site from one source as a TUF client, the way `refuge get` does.
//
// The source is an http(s) URL of a refuge node (the site's repository is under
// /.refuge/v1/sites/<site-id>/) or the path of a node home on this machine. Trust starts from
// the site ID alone: if no trusted root is kept yet, the client fetches 1.root.json from the
// source and accepts it only if its SHA-256 is the site ID; from there the TUF workflow
// (tuf/updater.h) decides everything. Trusted metadata persists in `metadata_dir`, so a source
// that later serves older metadata (rollback) is refused.
//
// Thread-safety: one per thread.
#ifndef REFUGE_NODE_SITE_CLIENT_H_
#define REFUGE_NODE_SITE_CLIENT_H_

#include <memory>
#include <string>

#include "net/fetcher.h"
#include "node/node_home.h"
#include "tuf/updater.h"

namespace refuge {

class SiteClient {
 public:
  // `metadata_dir` keeps trusted metadata for this site (created if needed).
  static Result<std::unique_ptr<SiteClient>> Open(const std::string& source,
                                                  const std::string& site_id,
                                                  const std::string& metadata_dir);

  // Refreshes metadata and finds the target for a site path ("" or "dir/" mean index.html).
  Result<tuf::TargetFile> Resolve(const std::string& path);
  // Downloads a resolved target to `file` (verified before it appears).
  Status Download(const tuf::TargetFile& info, const std::string& file);

  const std::string& target_path() const { return target_path_; }
  int64_t version() const;

 private:
  SiteClient() = default;
  std::unique_ptr<NodeHome> source_home_;  // for a local source
  std::unique_ptr<Fetcher> fetcher_;
  std::unique_ptr<tuf::Updater> updater_;
  std::string target_path_;
};

// "index.html" for "" and "dir/index.html" for "dir/": directory paths name their index.
std::string IndexPath(const std::string& path);

}  // namespace refuge

#endif  // REFUGE_NODE_SITE_CLIENT_H_
