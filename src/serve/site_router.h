// SiteRouter: maps a request to what the node serves (the URL layout of docs/SERVE.md).
//
//   /s/<site-id>/<path>                      a site's file, by its path in the publication
//   /<path> with a Host mapped to a site     the same, for a domain name (or the default site)
//   /.refuge/v1/sites/<site-id>/metadata/... the site's TUF metadata
//   /.refuge/v1/sites/<site-id>/targets/...  the site's targets (consistent-snapshot names too)
//   /.refuge/v1/objects/<sha256>             any stored object
//
// Path URLs resolve only through the catalog (verified signed targets): "<dir>/" serves
// "<dir>/index.html", "<dir>" redirects to "<dir>/", anything else is 404. Responses carry
// a strong ETag (the SHA-256), Last-Modified (the publication time) on path URLs, and the
// cache policy: immutable for content-addressed URLs, a short max-age for path URLs.
// Conditional requests (If-None-Match, If-Modified-Since) and single byte ranges (with
// If-Range) are answered here.
//
// Blocks (node/block_list.h) are checked before anything is looked up: a blocked path of
// /s/<id>/, of a Host-mapped site and of .../targets/ (by path or consistent-snapshot name),
// every URL of a wholly blocked site (its metadata too), and an object only blocked files use
// answer 451 Unavailable For Legal Reasons (RFC 7725) with a Link "blocked-by" and the
// reason. With no block, the check is one null test.
//
// Thread-safety: one per event loop.
#ifndef REFUGE_SERVE_SITE_ROUTER_H_
#define REFUGE_SERVE_SITE_ROUTER_H_

#include <memory>
#include <string>
#include <unordered_map>

#include "node/block_list.h"
#include "node/node_home.h"
#include "node/site_repository.h"
#include "serve/catalog.h"
#include "serve/http_parser.h"
#include "serve/metrics.h"
#include "serve/object_cache.h"
#include "serve/request_path.h"
#include "serve/response.h"

namespace refuge::serve {

class TlsContext;

// The node's active blocks, prepared for routing: immutable, shared by the loops.
struct ServeBlocks {
  std::shared_ptr<const BlockList> list;  // never empty
  // Per entry of list->active(): the 451's Link field value and its HTML page.
  std::vector<std::string> links;
  std::vector<std::string> pages;
  // Objects answered 451 by /.refuge/v1/objects/ (BlockedObjects with the site metadata).
  BlockedObjectMap objects;

  size_t IndexOf(const Block* block) const {
    return static_cast<size_t>(block - list->active().data());
  }
};

// Prepares `list` (not empty) for routing, with the objects of the sites `home` holds.
Result<std::shared_ptr<const ServeBlocks>> BuildServeBlocks(NodeHome& home,
                                                           std::shared_ptr<const BlockList> list);

// What routing needs from the configuration; replaced as a whole on reload.
struct ServeState {
  std::shared_ptr<TlsContext> tls;  // certificates for new TLS connections; null without TLS
  std::shared_ptr<const Catalog> catalog;
  std::unordered_map<std::string, std::string, StringHash, std::equal_to<>> hosts;
  std::string default_site;
  std::string path_cache_control;  // "public, max-age=<path_max_age_seconds>"
  std::shared_ptr<const ServeBlocks> blocks;  // null: no active block
  std::string blocks_fingerprint;  // BlockLogFingerprint of the audit log `blocks` came from
};

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // Fills `out` (already Reset, with head_only and close set from the request).
  virtual void Handle(const RequestHead& request, Response* out) = 0;
};

class SiteRouter final : public RequestHandler {
 public:
  // `home` is this loop's own NodeHome (its own database connection).
  SiteRouter(NodeHome& home, ObjectCache& cache, LoopCounters& counters)
      : home_(home), repository_(home), cache_(cache), counters_(counters) {}

  void SetState(std::shared_ptr<const ServeState> state) { state_ = std::move(state); }
  void Handle(const RequestHead& request, Response* out) override;

 private:
  void ServeSitePath(const RequestHead& request, const CatalogSite& site, std::string_view path,
                     std::string_view raw_path, Response* out);
  void ServeRefuge(const RequestHead& request, std::string_view decoded, Response* out);
  bool ServeMovingName(const RequestHead& request, std::string_view rest, Response* out);
  // Sends object `sha256` (its length is looked up when `length` is negative).
  void ServeObject(const RequestHead& request, std::string_view sha256, int64_t length,
                   Response* out);
  void NodePage(Response* out);
  // The block of `path` of a site the catalog does not hold (or the site root "/s/<id>"):
  // `path` itself, or its index.html for a directory. Null without one.
  const Block* FindUnheldBlock(std::string_view site_id, std::string_view path);
  // The block of a .../targets/<path> URL (by path, or by consistent-snapshot name).
  const Block* FindTargetBlock(std::string_view site_id, std::string_view target);
  void Blocked(const Block& block, Response* out);

  NodeHome& home_;
  SiteRepository repository_;
  ObjectCache& cache_;
  LoopCounters& counters_;
  std::shared_ptr<const ServeState> state_;
  char path_buffer_[kMaxDecodedPathBytes];
  char lookup_buffer_[kMaxDecodedPathBytes + 16];
  char location_buffer_[kMaxDecodedPathBytes * 3 + 16];
  std::string scratch_;  // for the SQLite-backed /.refuge/v1/sites/ lookups only
};

// Does an If-None-Match value match the entity tag "<etag_hex>"? (weak comparison, "*").
bool IfNoneMatchMatches(std::string_view header, std::string_view etag_hex);

}  // namespace refuge::serve

#endif  // REFUGE_SERVE_SITE_ROUTER_H_
