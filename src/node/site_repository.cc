#include "node/site_repository.h"

#include <sys/stat.h>

#include <vector>

#include "common/file_util.h"
#include "crypto/sha256.h"
#include "net/url.h"
#include "tuf/metadata.h"

namespace refuge {

namespace {

// "12.snapshot.json" -> (12, "snapshot"); "timestamp.json" -> (0, "timestamp").
bool SplitMetadataName(const std::string& name, int64_t* version, std::string* role) {
  constexpr std::string_view kSuffix = ".json";
  if (name.size() <= kSuffix.size() || name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
    return false;
  }
  std::string stem = name.substr(0, name.size() - kSuffix.size());
  *version = 0;
  size_t dot = stem.find('.');
  if (dot != std::string::npos) {
    std::string digits = stem.substr(0, dot);
    if (digits.empty() || digits.size() > 18 || digits[0] == '0') return false;
    for (char c : digits) {
      if (c < '0' || c > '9') return false;
    }
    *version = std::stoll(digits);
    stem = stem.substr(dot + 1);
  }
  *role = stem;
  return !stem.empty();
}

}  // namespace

Result<MetadataRow> SiteRepository::ResolveMetadata(const std::string& site_id,
                                                    const std::string& file_name) {
  int64_t version = 0;
  std::string role;
  if (!SplitMetadataName(file_name, &version, &role)) {
    return NotFound("no metadata named " + file_name);
  }
  NodeDb& db = home_.db();
  REFUGE_ASSIGN_OR_RETURN(SiteRow site, db.GetSite(site_id));
  if (role == tuf::kTimestamp) {
    if (version != 0) return NotFound("timestamp metadata is not versioned");
    return db.LatestMetadata(site_id, role);
  }
  if (version != 0) return db.GetMetadata(site_id, role, version);
  if (role == tuf::kRoot) return db.LatestMetadata(site_id, role);
  // Non-versioned snapshot and targets: those of the version being served.
  if (site.current_version == 0) return NotFound("site " + site_id + " has no published version");
  REFUGE_ASSIGN_OR_RETURN(VersionRow v, db.GetVersion(site_id, site.current_version));
  if (role == tuf::kSnapshot) return db.GetMetadata(site_id, role, v.version);
  if (role == tuf::kTargets) return db.GetMetadata(site_id, role, v.targets_version);
  return NotFound("no metadata named " + file_name);
}

Result<FileRow> SiteRepository::ResolveTarget(const std::string& site_id, const std::string& path) {
  NodeDb& db = home_.db();
  REFUGE_ASSIGN_OR_RETURN(SiteRow site, db.GetSite(site_id));
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.size() > 65 && name[64] == '.' && IsSha256Hex(name.substr(0, 64))) {
    std::string sha = name.substr(0, 64);
    std::string target = dir + name.substr(65);
    REFUGE_ASSIGN_OR_RETURN(bool known, db.HasFileObject(site_id, target, sha));
    if (known) return FileRow{target, sha, 0};
  }
  if (site.current_version == 0) return NotFound("site " + site_id + " has no published version");
  return db.FindFile(site_id, site.current_version, path);
}

Result<std::string> SiteRepository::ResolveUrlPath(const std::string& url_path) {
  const std::string prefix = kSitesPrefix;
  if (url_path.compare(0, prefix.size(), prefix) != 0) return NotFound(url_path);
  std::string rest = url_path.substr(prefix.size());
  size_t slash = rest.find('/');
  if (slash == std::string::npos) return NotFound(url_path);
  std::string site_id = rest.substr(0, slash);
  if (!IsSiteId(site_id)) return NotFound("not a site ID: " + site_id);
  rest = rest.substr(slash + 1);
  if (rest.rfind("metadata/", 0) == 0) {
    REFUGE_ASSIGN_OR_RETURN(std::string name, PercentDecode(rest.substr(9), false));
    REFUGE_ASSIGN_OR_RETURN(MetadataRow row, ResolveMetadata(site_id, name));
    return row.sha256;
  }
  if (rest.rfind("targets/", 0) == 0) {
    // Segments are decoded one by one: an encoded '/' never creates a new segment.
    std::string path;
    std::string encoded = rest.substr(8);
    size_t start = 0;
    for (;;) {
      size_t s = encoded.find('/', start);
      REFUGE_ASSIGN_OR_RETURN(std::string seg,
                              PercentDecode(encoded.substr(start, s == std::string::npos ? s : s - start), false));
      path += seg;
      if (s == std::string::npos) break;
      path += '/';
      start = s + 1;
    }
    REFUGE_ASSIGN_OR_RETURN(FileRow row, ResolveTarget(site_id, path));
    return row.sha256;
  }
  return NotFound(url_path);
}

namespace {

class NodeFetcher final : public Fetcher {
 public:
  explicit NodeFetcher(NodeHome& home) : home_(home), repo_(home) {}

  Status FetchTo(const std::string& url, uint64_t max_bytes, const Sink& sink) override {
    const std::string scheme = kNodeUrlScheme;
    if (url.compare(0, scheme.size(), scheme) != 0) return InvalidArgument("not a node URL: " + url);
    auto sha = repo_.ResolveUrlPath(url.substr(scheme.size()));
    if (!sha.ok()) {
      if (sha.status().code() == StatusCode::kNotFound) return NotFound(url + ": not found");
      return sha.status().Annotate(url);
    }
    auto fd = home_.store().OpenObject(*sha);
    if (!fd.ok()) return fd.status().Annotate(url);
    std::vector<char> buf(1 << 16);
    uint64_t total = 0;
    for (;;) {
      REFUGE_ASSIGN_OR_RETURN(size_t n, ReadSome(fd->get(), buf.data(), buf.size(), url));
      if (n == 0) break;
      total += n;
      if (total > max_bytes) {
        return TooLarge(url + ": more than the limit of " + std::to_string(max_bytes) + " bytes");
      }
      REFUGE_RETURN_IF_ERROR(sink(std::string_view(buf.data(), n)));
    }
    return Status::Ok();
  }

 private:
  NodeHome& home_;
  SiteRepository repo_;
};

}  // namespace

std::unique_ptr<Fetcher> NewNodeFetcher(NodeHome& home) { return std::make_unique<NodeFetcher>(home); }

}  // namespace refuge
