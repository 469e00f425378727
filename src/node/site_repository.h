// SiteRepository: a node's sites seen as TUF repositories, in the URL layout every node
// serves (see docs/ARCHITECTURE.md):
//
//   /.refuge/v1/sites/<site-id>/metadata/<N>.root.json | root.json | timestamp.json |
//                                        <N>.snapshot.json | snapshot.json |
//                                        <N>.targets.json | targets.json
//   /.refuge/v1/sites/<site-id>/targets/<dir>/<sha256>.<name>   (consistent snapshot)
//   /.refuge/v1/sites/<site-id>/targets/<path>                  (the current version)
//
// Names resolve to objects through the node database; nothing outside a site's retained
// metadata and versions can be named. `NewNodeFetcher` turns this into a Fetcher for URLs
// "node:/.refuge/v1/...", so that `refuge get --from <home>` runs the same TUF client against
// a node's home directory as against a node over HTTP.
//
// Thread-safety: like NodeDb (one per thread).
#ifndef REFUGE_NODE_SITE_REPOSITORY_H_
#define REFUGE_NODE_SITE_REPOSITORY_H_

#include <memory>
#include <string>

#include "net/fetcher.h"
#include "node/node_home.h"

namespace refuge {

inline constexpr char kSitesPrefix[] = "/.refuge/v1/sites/";
inline constexpr char kNodeUrlScheme[] = "node:";

class SiteRepository {
 public:
  explicit SiteRepository(NodeHome& home) : home_(home) {}

  // `file_name` is one decoded path segment, e.g. "3.snapshot.json".
  Result<MetadataRow> ResolveMetadata(const std::string& site_id, const std::string& file_name);
  // `path` is the decoded target path.
  Result<FileRow> ResolveTarget(const std::string& site_id, const std::string& path);
  // Resolves a URL path under kSitesPrefix (still percent-encoded) to an object hash.
  Result<std::string> ResolveUrlPath(const std::string& url_path);

 private:
  NodeHome& home_;
};

// A Fetcher over a local node home, for URLs "node:/.refuge/v1/sites/...".
std::unique_ptr<Fetcher> NewNodeFetcher(NodeHome& home);

}  // namespace refuge

#endif  // REFUGE_NODE_SITE_REPOSITORY_H_
