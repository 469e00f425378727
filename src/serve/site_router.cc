#include "serve/site_router.h"

#include <sys/stat.h>

#include <cstring>

#include "crypto/sha256.h"
#include "serve/byte_range.h"
#include "serve/mime_types.h"

namespace refuge::serve {

namespace {

constexpr std::string_view kSitePrefix = "/s/";
constexpr std::string_view kRefugePrefix = "/.refuge/";
constexpr std::string_view kObjectsPrefix = "/.refuge/v1/objects/";
constexpr std::string_view kSitesUrlPrefix = "/.refuge/v1/sites/";
constexpr size_t kSiteIdLength = 52;
constexpr size_t kMaxHostBytes = 255;

constexpr std::string_view kNodePage =
    "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>refuge node</title></head>\n"
    "<body><h1>refuge node</h1><p>This node serves signed publications. A site is read at "
    "<code>/s/&lt;site-id&gt;/</code>, or with <code>refuge get SITE_ID/PATH --from "
    "URL</code>, which verifies every byte.</p></body></html>\n";

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Versioned metadata ("3.root.json") and consistent-snapshot targets ("<sha256>.name")
// never change: they may be cached forever.
bool IsContentAddressedName(std::string_view last_segment) {
  size_t dot = last_segment.find('.');
  if (dot == std::string_view::npos) return false;
  std::string_view head = last_segment.substr(0, dot);
  return IsDigits(head) || IsSha256Hex(head);
}

}  // namespace

bool IfNoneMatchMatches(std::string_view header, std::string_view etag_hex) {
  size_t i = 0;
  while (i < header.size()) {
    while (i < header.size() && (header[i] == ' ' || header[i] == '\t' || header[i] == ',')) ++i;
    if (i >= header.size()) break;
    if (header[i] == '*') return true;
    if (header.compare(i, 2, "W/") == 0) i += 2;
    if (i >= header.size() || header[i] != '"') return false;  // malformed: no match
    size_t end = header.find('"', i + 1);
    if (end == std::string_view::npos) return false;
    if (header.substr(i + 1, end - i - 1) == etag_hex) return true;
    i = end + 1;
  }
  return false;
}

Result<std::shared_ptr<const ServeBlocks>> BuildServeBlocks(NodeHome& home,
                                                           std::shared_ptr<const BlockList> list) {
  auto blocks = std::make_shared<ServeBlocks>();
  REFUGE_ASSIGN_OR_RETURN(blocks->objects, BlockedObjects(home, *list, true));
  for (const Block& b : list->active()) {
    blocks->links.push_back(BlockedByLink(b.blocked_by));
    const std::string item = b.path.empty() ? b.site_id : b.site_id + "/" + b.path;
    blocks->pages.push_back(UnavailableForLegalReasonsPage(item, b.reason, b.blocked_by, b.time));
  }
  blocks->list = std::move(list);
  return std::shared_ptr<const ServeBlocks>(std::move(blocks));
}

void SiteRouter::Blocked(const Block& block, Response* out) {
  const ServeBlocks& blocks = *state_->blocks;
  const size_t i = blocks.IndexOf(&block);
  SetUnavailableForLegalReasons(out, blocks.links[i], blocks.pages[i], state_->blocks);
}

const Block* SiteRouter::FindUnheldBlock(std::string_view site_id, std::string_view path) {
  const BlockList& list = *state_->blocks->list;
  if (const Block* b = list.Find(site_id, path)) return b;
  if (!path.empty() && path.back() != '/') return nullptr;
  std::memcpy(lookup_buffer_, path.data(), path.size());
  std::memcpy(lookup_buffer_ + path.size(), "index.html", 10);
  return list.Find(site_id, std::string_view(lookup_buffer_, path.size() + 10));
}

const Block* SiteRouter::FindTargetBlock(std::string_view site_id, std::string_view target) {
  const BlockList& list = *state_->blocks->list;
  if (const Block* b = list.Find(site_id, target)) return b;
  // "<dir>/<sha256>.<name>" names "<dir>/<name>" (SiteRepository::ResolveTarget).
  const size_t slash = target.rfind('/');
  const size_t name_start = slash == std::string_view::npos ? 0 : slash + 1;
  std::string_view name = target.substr(name_start);
  if (name.size() <= 65 || name[64] != '.' || !IsSha256Hex(name.substr(0, 64))) return nullptr;
  std::memcpy(lookup_buffer_, target.data(), name_start);
  std::memcpy(lookup_buffer_ + name_start, name.data() + 65, name.size() - 65);
  return list.Find(site_id, std::string_view(lookup_buffer_, name_start + name.size() - 65));
}

void SiteRouter::NodePage(Response* out) {
  out->status = 200;
  out->content_type = "text/html; charset=utf-8";
  out->cache_control = "no-cache";
  out->body = Response::Body::kMemory;
  out->memory = kNodePage;
  out->total_length = kNodePage.size();
}

void SiteRouter::Handle(const RequestHead& request, Response* out) {
  if (request.method == Method::kOptions) {
    out->status = 204;
    out->allow = "GET, HEAD, OPTIONS";
    return;
  }
  if (request.method != Method::kGet && request.method != Method::kHead) {
    SetErrorResponse(out, 405);
    out->allow = "GET, HEAD, OPTIONS";
    return;
  }
  std::string_view path;
  if (!DecodeRequestPath(request.target, path_buffer_, &path)) {
    out->close = true;
    SetErrorResponse(out, 400);
    return;
  }
  const std::string_view raw_path = StripQuery(request.target);
  const ServeState& state = *state_;

  if (path.substr(0, kRefugePrefix.size()) == kRefugePrefix) {
    ServeRefuge(request, path, out);
    return;
  }
  if (path.substr(0, kSitePrefix.size()) == kSitePrefix) {
    std::string_view rest = path.substr(kSitePrefix.size());
    std::string_view id = rest.substr(0, std::min(rest.size(), kSiteIdLength));
    const CatalogSite* site = state.catalog->FindSite(id);
    if (state.blocks != nullptr && (site == nullptr || rest.size() == kSiteIdLength) &&
        rest.size() >= kSiteIdLength && (rest.size() == kSiteIdLength || rest[kSiteIdLength] == '/')) {
      // A site this node does not hold (an order may come before the site), or "/s/<id>".
      std::string_view in_site = rest.size() > kSiteIdLength ? rest.substr(kSiteIdLength + 1) : "";
      if (const Block* b = FindUnheldBlock(id, in_site)) {
        Blocked(*b, out);
        if (site != nullptr) out->site = site->counters;
        return;
      }
    }
    if (site == nullptr || (rest.size() > kSiteIdLength && rest[kSiteIdLength] != '/')) {
      SetErrorResponse(out, 404);
      return;
    }
    if (rest.size() == kSiteIdLength) {  // "/s/<id>": the site's root is "/s/<id>/"
      size_t n = raw_path.size();
      std::memcpy(location_buffer_, raw_path.data(), n);
      location_buffer_[n++] = '/';
      SetErrorResponse(out, 301);
      out->location = std::string_view(location_buffer_, n);
      return;
    }
    // raw_path's site part has the same length decoded or not (site IDs are base32).
    ServeSitePath(request, *site, rest.substr(kSiteIdLength + 1), raw_path, out);
    return;
  }

  // Host-based: a configured name, else the default site, else the node's own page.
  std::string_view site_id;
  std::string_view host = request.host;
  if (host.size() <= kMaxHostBytes && !state.hosts.empty()) {
    char lower[kMaxHostBytes];
    size_t n = 0;
    for (char c : host) {
      if (c == ':' && (n == 0 || lower[0] != '[')) break;
      lower[n++] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c;
    }
    auto it = state.hosts.find(std::string_view(lower, n));
    if (it != state.hosts.end()) site_id = it->second;
  }
  if (site_id.empty()) site_id = state.default_site;
  const CatalogSite* site = site_id.empty() ? nullptr : state.catalog->FindSite(site_id);
  if (site == nullptr) {
    if (state.blocks != nullptr && !site_id.empty()) {
      if (const Block* b = FindUnheldBlock(site_id, path.substr(1))) {
        Blocked(*b, out);
        return;
      }
    }
    if (path == "/") {
      NodePage(out);
    } else {
      SetErrorResponse(out, 404);
    }
    return;
  }
  ServeSitePath(request, *site, path.substr(1), raw_path, out);
}

void SiteRouter::ServeSitePath(const RequestHead& request, const CatalogSite& site,
                               std::string_view path, std::string_view raw_path, Response* out) {
  std::string_view lookup = path;
  if (path.empty() || path.back() == '/') {
    std::memcpy(lookup_buffer_, path.data(), path.size());
    std::memcpy(lookup_buffer_ + path.size(), "index.html", 10);
    lookup = std::string_view(lookup_buffer_, path.size() + 10);
  }
  if (state_->blocks != nullptr) {
    if (const Block* b = state_->blocks->list->Find(site.site_id, lookup)) {
      Blocked(*b, out);
      out->site = site.counters;
      return;
    }
  }
  const CatalogFile* file = site.Find(lookup);
  out->site = site.counters;
  if (file == nullptr) {
    if (!path.empty() && path.back() != '/' && site.directories.count(path) != 0) {
      if (state_->blocks != nullptr) {  // "<dir>" of a blocked "<dir>/": no redirect
        std::memcpy(lookup_buffer_, path.data(), path.size());
        lookup_buffer_[path.size()] = '/';
        const Block* b =
            state_->blocks->list->Find(site.site_id, std::string_view(lookup_buffer_, path.size() + 1));
        if (b != nullptr) {
          Blocked(*b, out);
          out->site = site.counters;
          return;
        }
      }
      size_t n = raw_path.size();
      std::memcpy(location_buffer_, raw_path.data(), n);
      location_buffer_[n++] = '/';
      SetErrorResponse(out, 301);
      out->location = std::string_view(location_buffer_, n);
      out->site = site.counters;
      return;
    }
    SetErrorResponse(out, 404);
    out->site = site.counters;
    return;
  }
  out->content_type = file->content_type;
  out->cache_control = state_->path_cache_control;
  out->last_modified = site.published_at;
  const int64_t expires = site.expires.load(std::memory_order_relaxed);
  if (expires != kNeverExpires && static_cast<int64_t>(::time(nullptr)) >= expires) {
    out->stale_since = expires;
  }
  ServeObject(request, file->sha256, static_cast<int64_t>(file->length), out);
}

// The names of a site's repository that move with each version (timestamp.json,
// snapshot.json, targets.json and targets by path) come from the catalog, so that a TUF
// client and a browser see the new version at the same moment. `rest` is "<id>/...".
bool SiteRouter::ServeMovingName(const RequestHead& request, std::string_view rest, Response* out) {
  if (rest.size() <= kSiteIdLength || rest[kSiteIdLength] != '/') return false;
  const CatalogSite* site = state_->catalog->FindSite(rest.substr(0, kSiteIdLength));
  if (site == nullptr) return false;
  const std::string_view name = rest.substr(kSiteIdLength + 1);
  constexpr std::string_view kMetadata = "metadata/";
  constexpr std::string_view kTargets = "targets/";
  const CatalogFile* file = nullptr;
  if (name.substr(0, kMetadata.size()) == kMetadata) {
    const std::string_view meta = name.substr(kMetadata.size());
    file = meta == "timestamp.json" ? &site->timestamp
           : meta == "snapshot.json" ? &site->snapshot
           : meta == "targets.json"  ? &site->targets
                                     : nullptr;
  } else if (name.substr(0, kTargets.size()) == kTargets) {
    const std::string_view path = name.substr(kTargets.size());
    if (IsContentAddressedName(path.substr(path.rfind('/') + 1))) return false;
    file = site->Find(path);
  }
  if (file == nullptr) return false;
  out->content_type = file->content_type;
  out->cache_control = state_->path_cache_control;
  ServeObject(request, file->sha256, static_cast<int64_t>(file->length), out);
  return true;
}

void SiteRouter::ServeRefuge(const RequestHead& request, std::string_view decoded, Response* out) {
  if (decoded.substr(0, kObjectsPrefix.size()) == kObjectsPrefix) {
    std::string_view sha = decoded.substr(kObjectsPrefix.size());
    if (!IsSha256Hex(sha)) {
      SetErrorResponse(out, 404);
      return;
    }
    if (state_->blocks != nullptr) {
      auto blocked = state_->blocks->objects.find(sha);
      if (blocked != state_->blocks->objects.end()) {
        Blocked(*blocked->second, out);
        return;
      }
    }
    out->content_type = "application/octet-stream";
    out->cache_control = kImmutableCacheControl;
    ServeObject(request, sha, -1, out);
    return;
  }
  if (decoded.substr(0, kSitesUrlPrefix.size()) == kSitesUrlPrefix) {
    if (state_->blocks != nullptr) {
      constexpr std::string_view kTargets = "/targets/";
      std::string_view rest = decoded.substr(kSitesUrlPrefix.size());
      std::string_view id = rest.substr(0, std::min(rest.size(), kSiteIdLength));
      const Block* b = state_->blocks->list->FindSite(id);  // metadata included
      if (b == nullptr && rest.size() > kSiteIdLength &&
          rest.substr(kSiteIdLength, kTargets.size()) == kTargets) {
        b = FindTargetBlock(id, rest.substr(kSiteIdLength + kTargets.size()));
      }
      if (b != nullptr) {
        Blocked(*b, out);
        return;
      }
    }
    if (ServeMovingName(request, decoded.substr(kSitesUrlPrefix.size()), out)) return;
    scratch_.assign(StripQuery(request.target));
    auto sha = repository_.ResolveUrlPath(scratch_);
    if (!sha.ok()) {
      SetErrorResponse(out, sha.status().code() == StatusCode::kNotFound ||
                                    sha.status().code() == StatusCode::kInvalidArgument
                                ? 404
                                : 500);
      return;
    }
    std::string_view last = decoded.substr(decoded.rfind('/') + 1);
    out->content_type = ContentTypeFor(last);
    out->cache_control =
        IsContentAddressedName(last) ? kImmutableCacheControl : std::string_view(state_->path_cache_control);
    scratch_ = std::move(sha).value();
    ServeObject(request, scratch_, -1, out);
    return;
  }
  SetErrorResponse(out, 404);
}

void SiteRouter::ServeObject(const RequestHead& request, std::string_view sha256, int64_t length,
                             Response* out) {
  // Small objects come from memory; an object of unknown length (metadata, objects by
  // hash) is looked up in the cache first, then measured on disk.
  std::shared_ptr<const CachedObject> cached;
  UniqueFd fd;
  if (length < 0) {
    cached = cache_.Lookup(sha256);
    if (cached) length = static_cast<int64_t>(cached->bytes.size());
  }
  if (length < 0 || !cache_.Cacheable(static_cast<uint64_t>(length))) {
    auto opened = home_.store().OpenObject(sha256);
    if (!opened.ok()) {
      SetErrorResponse(out, opened.status().code() == StatusCode::kNotFound && length < 0 ? 404 : 500);
      return;
    }
    fd = std::move(opened).value();
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) {
      SetErrorResponse(out, 500);
      return;
    }
    if (length >= 0 && static_cast<uint64_t>(st.st_size) != static_cast<uint64_t>(length)) {
      SetErrorResponse(out, 500);  // the stored object is not what the signed targets say
      return;
    }
    length = st.st_size;
    if (cache_.Cacheable(static_cast<uint64_t>(length))) fd.Reset();  // read into the cache below
  }
  const uint64_t total = static_cast<uint64_t>(length);
  out->etag_hex = sha256;
  out->total_length = total;

  // Conditional requests (RFC 9110 13.2.2): If-None-Match wins over If-Modified-Since.
  bool not_modified = false;
  if (!request.if_none_match.empty()) {
    not_modified = IfNoneMatchMatches(request.if_none_match, sha256);
  } else if (!request.if_modified_since.empty() && out->last_modified >= 0) {
    int64_t since = 0;
    not_modified = ParseHttpDate(request.if_modified_since, &since) && out->last_modified <= since;
  }
  if (not_modified) {
    out->status = 304;
    out->body = Response::Body::kNone;
    return;
  }

  if (!request.range.empty() && request.method == Method::kGet) {
    bool apply = true;
    if (!request.if_range.empty()) {
      // Only the strong entity tag validates a range; a date is not strong enough here.
      apply = request.if_range.size() == sha256.size() + 2 && request.if_range.front() == '"' &&
              request.if_range.substr(1, sha256.size()) == sha256 && request.if_range.back() == '"';
    }
    if (apply) {
      RangeDecision d = DecideRange(request.range, total);
      if (d.kind == RangeDecision::kUnsatisfiable) {
        bool head_only = out->head_only;
        out->status = 416;
        out->body = Response::Body::kNone;
        out->head_only = head_only;
        return;
      }
      if (d.kind == RangeDecision::kPartial) {
        out->status = 206;
        out->partial = true;
        out->first = d.first;
        out->last = d.last;
      }
    }
  }

  if (fd.valid()) {
    out->body = Response::Body::kFile;
    out->file = std::move(fd);
    return;
  }
  auto object = cached ? Result<std::shared_ptr<const CachedObject>>(std::move(cached))
                       : cache_.Get(home_.store(), sha256, total);
  if (!object.ok()) {
    SetErrorResponse(out, 500);
    return;
  }
  counters_.cache_hits.store(cache_.hits(), std::memory_order_relaxed);
  counters_.cache_misses.store(cache_.misses(), std::memory_order_relaxed);
  counters_.cache_bytes.store(cache_.size_bytes(), std::memory_order_relaxed);
  out->body = Response::Body::kMemory;
  out->memory = (*object)->bytes;
  out->memory_hold = std::move(object).value();
}

}  // namespace refuge::serve
