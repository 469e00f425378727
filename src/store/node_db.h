// NodeDb: a node's state in SQLite (WAL mode, synchronous=FULL): the sites it holds, the
// metadata files of each site (pointing at objects), the versions it retains with their file
// lists, pins, and the publisher's change-detection cache. Schema in docs/STORE.md.
//
// Every change that must be atomic (a publication: its metadata, version, file list and cache)
// is one transaction, so a crash leaves either the old state or the new one.
//
// Thread-safety: one NodeDb per thread (a SQLite connection is not shared); several
// processes may open the same database (WAL, busy timeout).
#ifndef REFUGE_STORE_NODE_DB_H_
#define REFUGE_STORE_NODE_DB_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"

struct sqlite3;

namespace refuge {

struct SiteRow {
  std::string site_id;
  bool origin = false;  // this node holds the site's online keys and publishes it
  int64_t created_at = 0;
  std::optional<int64_t> keep_versions;  // GC setting for this site; node default if unset
  int64_t current_version = 0;           // the snapshot version served; 0 before any publish
};

// One metadata file of a site: role "root", "timestamp", "snapshot", "targets" or a
// delegated role's name; its bytes are the object `sha256`.
struct MetadataRow {
  std::string role;
  int64_t version = 0;
  std::string sha256;
  uint64_t length = 0;
};

// A retained publication version (numbered by its snapshot version).
struct VersionRow {
  int64_t version = 0;
  int64_t targets_version = 0;
  int64_t root_version = 0;
  int64_t published_at = 0;
  uint64_t file_count = 0;
  uint64_t total_bytes = 0;
  bool pinned = false;
};

struct FileRow {
  std::string path;
  std::string sha256;
  uint64_t length = 0;
};

// What the publisher remembers of a source file so that an unchanged file is not hashed again.
struct FileCacheRow {
  std::string path;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
  std::string sha256;
};

// Everything one publish (or key rotation, or timestamp refresh) adds, committed at once.
struct Publication {
  std::string site_id;
  std::optional<SiteRow> new_site;  // inserted first, when the publication creates the site
  std::vector<MetadataRow> metadata;
  std::optional<VersionRow> version;  // with `files` when a new version is published
  std::vector<FileRow> files;
  std::optional<std::vector<FileCacheRow>> file_cache;  // replaces the cache when set
};

// A node this one may fetch a followed site from (see mirror/site_sync.h). `kind` says how it
// became known: "seed" (given to `refuge mirror add`), "signed" (the site's signed mirror
// list), "peer" (an untrusted hint: a notify sender or a peer list).
struct MirrorSourceRow {
  std::string url;
  std::string kind;
  int64_t added_at = 0;
  int64_t last_ok = 0;  // 0: never
  std::string last_error;
};

// The follower's record of its last attempt to sync a site.
struct MirrorSyncRow {
  int64_t last_attempt = 0;
  int64_t last_success = 0;
  std::string last_error;
};

// A mirror's signed announcement, as received by the publisher (see mirror/announcement.h).
struct AnnouncementRow {
  std::string site_id;
  std::string key_id;      // hex SHA-256 of the mirror's public key
  std::string public_key;  // hex Ed25519 public key
  std::vector<std::string> urls;
  int64_t received_at = 0;
  std::string sender;  // the address it came from, for the operator
  std::string status;  // "pending", "accepted" or "rejected"
};

class NodeDb {
 public:
  static Result<std::unique_ptr<NodeDb>> Open(const std::string& path);
  ~NodeDb();
  NodeDb(const NodeDb&) = delete;
  NodeDb& operator=(const NodeDb&) = delete;

  Status InsertSite(const SiteRow& site);
  Result<SiteRow> GetSite(const std::string& site_id);
  Result<std::vector<SiteRow>> ListSites();
  Status SetKeepVersions(const std::string& site_id, std::optional<int64_t> keep);

  Result<MetadataRow> GetMetadata(const std::string& site_id, const std::string& role,
                                  int64_t version);
  Result<MetadataRow> LatestMetadata(const std::string& site_id, const std::string& role);
  Result<std::vector<MetadataRow>> ListMetadata(const std::string& site_id);

  Result<std::vector<VersionRow>> ListVersions(const std::string& site_id);  // newest first
  Result<VersionRow> GetVersion(const std::string& site_id, int64_t version);
  Result<std::vector<FileRow>> VersionFiles(const std::string& site_id, int64_t version);
  Result<FileRow> FindFile(const std::string& site_id, int64_t version, const std::string& path);
  // Is (path, sha256) part of any retained version of the site?
  Result<bool> HasFileObject(const std::string& site_id, const std::string& path,
                             const std::string& sha256);
  Status SetPinned(const std::string& site_id, int64_t version, bool pinned);

  Result<std::map<std::string, FileCacheRow>> LoadFileCache(const std::string& site_id);

  // Atomically adds a publication; sets the site's current version when one is published.
  Status Commit(const Publication& publication);

  // Garbage collection: deletes the given versions and the snapshot/targets/timestamp rows
  // that belong only to them, in one transaction.
  Status DeleteVersions(const std::string& site_id, const std::vector<int64_t>& versions);
  // Every object that some retained row references.
  Result<std::set<std::string>> LiveObjects();

  // Forgets a site entirely (its rows in every table); its objects become garbage.
  Status DeleteSite(const std::string& site_id);

  // Mirror sources. Adding a known URL keeps it and upgrades its kind ("seed" and "signed"
  // win over "peer"). At most `max_peers` sources of kind "peer" are kept per site: a new one
  // replaces the least recently working one.
  Status AddMirrorSource(const std::string& site_id, const std::string& url,
                         const std::string& kind, int64_t now, int max_peers);
  Result<std::vector<MirrorSourceRow>> ListMirrorSources(const std::string& site_id);
  Status RecordSourceResult(const std::string& site_id, const std::string& url, int64_t now,
                            const std::string& error);
  Status RemoveMirrorSources(const std::string& site_id, const std::string& kind);

  Result<MirrorSyncRow> GetMirrorSync(const std::string& site_id);
  Status RecordSyncAttempt(const std::string& site_id, int64_t now, const std::string& error);

  // Announcements: one per (site, mirror key). A repeated announcement refreshes the time; if
  // its URLs changed an accepted mirror goes back to "pending" (the publisher vouches for
  // URLs, not only for keys); a rejected key stays rejected. At most `max_per_site` pending
  // announcements are kept per site (kTooLarge beyond).
  Status UpsertAnnouncement(const AnnouncementRow& row, int max_per_site);
  Result<std::vector<AnnouncementRow>> ListAnnouncements(const std::string& site_id,
                                                         const std::string& status);
  // kNotFound if no announcement has this key ID (a unique prefix of it is accepted).
  Status SetAnnouncementStatus(const std::string& site_id, const std::string& key_id,
                               const std::string& status);

 private:
  explicit NodeDb(sqlite3* db) : db_(db) {}
  Status Exec(const char* sql);
  sqlite3* db_;
};

}  // namespace refuge

#endif  // REFUGE_STORE_NODE_DB_H_
