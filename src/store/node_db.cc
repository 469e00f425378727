#include "store/node_db.h"

#include <sqlite3.h>

#include <utility>

namespace refuge {

namespace {

constexpr int kSchemaVersion = 1;
// How long a writer waits for another process's transaction before giving up.
constexpr int kBusyTimeoutMs = 10'000;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS sites (
  site_id TEXT PRIMARY KEY,
  origin INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  keep_versions INTEGER,
  current_version INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS metadata (
  site_id TEXT NOT NULL REFERENCES sites(site_id),
  role TEXT NOT NULL,
  version INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  length INTEGER NOT NULL,
  PRIMARY KEY (site_id, role, version)
);
CREATE TABLE IF NOT EXISTS versions (
  site_id TEXT NOT NULL REFERENCES sites(site_id),
  version INTEGER NOT NULL,
  targets_version INTEGER NOT NULL,
  root_version INTEGER NOT NULL,
  published_at INTEGER NOT NULL,
  file_count INTEGER NOT NULL,
  total_bytes INTEGER NOT NULL,
  pinned INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, version)
);
CREATE TABLE IF NOT EXISTS version_files (
  site_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  length INTEGER NOT NULL,
  PRIMARY KEY (site_id, version, path)
);
CREATE INDEX IF NOT EXISTS version_files_by_object ON version_files (site_id, path, sha256);
CREATE TABLE IF NOT EXISTS file_cache (
  site_id TEXT NOT NULL,
  path TEXT NOT NULL,
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  ctime_ns INTEGER NOT NULL,
  inode INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (site_id, path)
);
CREATE TABLE IF NOT EXISTS mirror_sources (
  site_id TEXT NOT NULL,
  url TEXT NOT NULL,
  kind TEXT NOT NULL,
  added_at INTEGER NOT NULL,
  last_ok INTEGER,
  last_error TEXT,
  PRIMARY KEY (site_id, url)
);
CREATE TABLE IF NOT EXISTS mirror_sync (
  site_id TEXT PRIMARY KEY,
  last_attempt INTEGER NOT NULL DEFAULT 0,
  last_success INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS announcements (
  site_id TEXT NOT NULL,
  key_id TEXT NOT NULL,
  public_key TEXT NOT NULL,
  urls TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  sender TEXT NOT NULL,
  status TEXT NOT NULL,
  PRIMARY KEY (site_id, key_id)
);
)sql";

// A prepared statement, finalized on destruction.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Status prepared() const {
    if (rc_ == SQLITE_OK) return Status::Ok();
    return Internal(std::string("SQL prepare: ") + sqlite3_errmsg(db_));
  }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& BindNull(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  // Returns true for a row, false when done.
  Result<bool> Step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return IOError(std::string("node database: ") + sqlite3_errmsg(db_));
  }
  Status Run() {
    auto r = Step();
    if (!r.ok()) return r.status();
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    return Status::Ok();
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) const {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t ? std::string(reinterpret_cast<const char*>(t),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

// Rolls back unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {
    ok_ = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK;
  }
  ~Transaction() {
    if (ok_ && !done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Status began() const {
    return ok_ ? Status::Ok() : IOError(std::string("node database: ") + sqlite3_errmsg(db_));
  }
  Status Commit() {
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      return IOError(std::string("node database commit: ") + sqlite3_errmsg(db_));
    }
    done_ = true;
    return Status::Ok();
  }

 private:
  sqlite3* db_;
  bool ok_ = false;
  bool done_ = false;
};

SiteRow ReadSite(const Stmt& s) {
  SiteRow r;
  r.site_id = s.Text(0);
  r.origin = s.Int(1) != 0;
  r.created_at = s.Int(2);
  if (!s.IsNull(3)) r.keep_versions = s.Int(3);
  r.current_version = s.Int(4);
  return r;
}

MetadataRow ReadMetadata(const Stmt& s) {
  return MetadataRow{s.Text(0), s.Int(1), s.Text(2), static_cast<uint64_t>(s.Int(3))};
}

VersionRow ReadVersion(const Stmt& s) {
  VersionRow v;
  v.version = s.Int(0);
  v.targets_version = s.Int(1);
  v.root_version = s.Int(2);
  v.published_at = s.Int(3);
  v.file_count = static_cast<uint64_t>(s.Int(4));
  v.total_bytes = static_cast<uint64_t>(s.Int(5));
  v.pinned = s.Int(6) != 0;
  return v;
}

constexpr const char* kSiteColumns =
    "SELECT site_id, origin, created_at, keep_versions, current_version FROM sites";
constexpr const char* kVersionColumns =
    "SELECT version, targets_version, root_version, published_at, file_count, total_bytes, "
    "pinned FROM versions";

}  // namespace

Result<std::unique_ptr<NodeDb>> NodeDb::Open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  std::unique_ptr<NodeDb> db(new NodeDb(raw));
  if (rc != SQLITE_OK) {
    return IOError("node database " + path + ": " + (raw ? sqlite3_errmsg(raw) : "cannot open"));
  }
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  REFUGE_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
  // FULL: a committed publication survives power loss, not only a crash of the process.
  REFUGE_RETURN_IF_ERROR(db->Exec("PRAGMA synchronous=FULL"));
  REFUGE_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON"));
  {
    Stmt s(raw, "PRAGMA user_version");
    REFUGE_RETURN_IF_ERROR(s.prepared());
    REFUGE_ASSIGN_OR_RETURN(bool row, s.Step());
    int64_t version = row ? s.Int(0) : 0;
    if (version > kSchemaVersion) {
      return InvalidArgument("node database " + path + " has schema version " +
                             std::to_string(version) + ", newer than this refuge (" +
                             std::to_string(kSchemaVersion) + "); upgrade refuge");
    }
  }
  REFUGE_RETURN_IF_ERROR(db->Exec(kSchema).Annotate("node database " + path));
  REFUGE_RETURN_IF_ERROR(db->Exec("PRAGMA user_version=1"));
  return db;
}

NodeDb::~NodeDb() { sqlite3_close_v2(db_); }

Status NodeDb::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return IOError("node database: " + m);
  }
  return Status::Ok();
}

Status NodeDb::InsertSite(const SiteRow& site) {
  Stmt s(db_,
         "INSERT INTO sites (site_id, origin, created_at, keep_versions, current_version) "
         "VALUES (?, ?, ?, ?, ?)");
  REFUGE_RETURN_IF_ERROR(s.prepared());
  s.Bind(1, site.site_id).Bind(2, int64_t{site.origin}).Bind(3, site.created_at);
  if (site.keep_versions) {
    s.Bind(4, *site.keep_versions);
  } else {
    s.BindNull(4);
  }
  s.Bind(5, site.current_version);
  Status st = s.Run();
  if (!st.ok() && sqlite3_extended_errcode(db_) == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return AlreadyExists("site " + site.site_id + " already exists on this node");
  }
  return st;
}

Result<SiteRow> NodeDb::GetSite(const std::string& site_id) {
  Stmt s(db_, (std::string(kSiteColumns) + " WHERE site_id = ?").c_str());
  REFUGE_RETURN_IF_ERROR(s.prepared());
  s.Bind(1, site_id);
  REFUGE_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return NotFound("site " + site_id + " is not held by this node");
  return ReadSite(s);
}

Result<std::vector<SiteRow>> NodeDb::ListSites() {
  Stmt s(db_, (std::string(kSiteColumns) + " ORDER BY created_at, site_id").c_str());
  REFUGE_RETURN_IF_ERROR(s.prepared());
  std::vector<SiteRow> out;
  for (;;) {
    REFUGE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadSite(s));
  }
  return out;
}

Status NodeDb::SetKeepVersions(const std::string& site_id, std::optional<int64_t> keep) {
  Stmt s(db_, "UPDATE sites SET keep_versions = ? WHERE site_id = ?");
  REFUGE_RETURN_IF_ERROR(s.prepared());
  if (keep) {
    s.Bind(1, *keep);
  } else {
    s.BindNull(1);
  }
  s.Bind(2, site_id);
  return s.Run();
}

Result<MetadataRow> NodeDb::GetMetadata(const std::string& site_id, const std::string& role,
                                        int64_t version) {
  Stmt s(db_,
         "SELECT role, version, sha256, length FROM metadata "
         "WHERE site_id = ? AND role = ? AND version = ?");
  REFUGE_RETURN_IF_ERROR(s.prepared());
  s.Bind(1, site_id).Bind(2, role).Bind(3, version);
  REFUGE_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) {
    return NotFound(role + " version " + std::to_string(version) + " of site " + site_id +
                    " not found");
  }
  return ReadMetadata(s);
}

Result<MetadataRow> NodeDb::LatestMetadata(const std::string& site_id, const std::string& role) {
  Stmt s(db_,
         "SELECT role, version, sha256, length FROM metadata "
         "WHERE site_id = ? AND role = ? ORDER BY version DESC LIMIT 1");
  REFUGE_RETURN_IF_ERROR(s.prepared());
  s.Bind(1, site_id).Bind(2, role);
  REFUGE_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return NotFound("site " + site_id + " has no " + role + " metadata");
  return ReadMetadata(s);
}

Result<std::vector<MetadataRow>> NodeDb::ListMetadata(const std::string& site_id) {
  Stmt s(db_,
         "SELECT role, version, sha256, length FROM metadata WHERE site_id = ? "
         "ORDER BY role, version");
  REFUGE_RETURN_IF_ERROR(s.prepared());
  s.Bind(1, site_id);
  std::vector<MetadataRow> out;
  for (;;) {
    REFUGE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadMetadata(s));
  }
  return out;
}

Result<std::vector<VersionRow>> NodeDb::ListVersions(const std::string& site_id) {
  Stmt s(db_, (std::string(kVersionColumns) + " WHERE site_id = ? ORDER BY version DESC").c_str());
  REFUGE_RETURN_IF_ERROR(s.prepared());
  s.Bind(1, site_id);
  std::vector<VersionRow> out;
  for (;;) {
    REFUGE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadVersion(s));
  }
  return out;
}

Result<VersionRow> NodeDb::GetVersion(const std::string& site_id, int64_t version) {
  Stmt s(db_, (std::string(kVersionColumns) + " WHERE site_id = ? AND version = ?").c_str());
  REFUGE_RETURN_IF_ERROR(s.prepared());
  s.Bind(1, site_id).Bind(2, version);
  REFUGE_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return NotFound("version " + std::to_string(version) + " of site " + site_id + " not found");
  return ReadVersion(s);
}

Result<std::vector<FileRow>> NodeDb::VersionFiles(const std::string& site_id, int64_t version) {
  Stmt s(db_,
         "SELECT path, sha256, length FROM version_files WHERE site_id = ? AND version = ? "
         "ORDER BY path");
  REFUGE_RETURN_IF_ERROR(s.prepared());
  s.Bind(1, site_id).Bind(2, version);
  std::vector<FileRow> out;
  for (;;) {
    REFUGE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(FileRow{s.Text(0), s.Text(1), static_cast<uint64_t>(s.Int(2))});
  }
  return out;
}

Result<FileRow> NodeDb::FindFile(const std::string& site_id, int64_t version,
                                 const std::string& path) {
  Stmt s(db_,
         "SELECT path, sha256, length FROM version_files "
         "WHERE site_id = ? AND version = ? AND path = ?");
  REFUGE_RETURN_IF_ERROR(s.prepared());
  s.Bind(1, site_id).Bind(2, version).Bind(3, path);
  REFUGE_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return NotFound(path + " is not part of version " + std::to_string(version));
  return FileRow{s.Text(0), s.Text(1), static_cast<uint64_t>(s.Int(2))};
}

Result<bool> NodeDb::HasFileObject(const std::string& site_id, const std::string& path,
                                   const std::string& sha256) {
  Stmt s(db_,
         "SELECT 1 FROM version_files WHERE site_id = ? AND path = ? AND sha256 = ? LIMIT 1");
  REFUGE_RETURN_IF_ERROR(s.prepared());
  s.Bind(1, site_id).Bind(2, path).Bind(3, sha256);
  return s.Step();
}

Status NodeDb::SetPinned(const std::string& site_id, int64_t version, bool pinned) {
  REFUGE_RETURN_IF_ERROR(GetVersion(site_id, version).status());
  Stmt s(db_, "UPDATE versions SET pinned = ? WHERE site_id = ? AND version = ?");
  REFUGE_RETURN_IF_ERROR(s.prepared());
  s.Bind(1, int64_t{pinned}).Bind(2, site_id).Bind(3, version);
  return s.Run();
}

Result<std::map<std::string, FileCacheRow>> NodeDb::LoadFileCache(const std::string& site_id) {
  Stmt s(db_,
         "SELECT path, size, mtime_ns, ctime_ns, inode, sha256 FROM file_cache WHERE site_id = ?");
  REFUGE_RETURN_IF_ERROR(s.prepared());
  s.Bind(1, site_id);
  std::map<std::string, FileCacheRow> out;
  for (;;) {
    REFUGE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    FileCacheRow r{s.Text(0), static_cast<uint64_t>(s.Int(1)), s.Int(2), s.Int(3),
                   static_cast<uint64_t>(s.Int(4)), s.Text(5)};
    out.emplace(r.path, std::move(r));
  }
  return out;
}

Status NodeDb::Commit(const Publication& p) {
  Transaction tx(db_);
  REFUGE_RETURN_IF_ERROR(tx.began());
  if (p.new_site) REFUGE_RETURN_IF_ERROR(InsertSite(*p.new_site));
  {
    Stmt s(db_,
           "INSERT OR REPLACE INTO metadata (site_id, role, version, sha256, length) "
           "VALUES (?, ?, ?, ?, ?)");
    REFUGE_RETURN_IF_ERROR(s.prepared());
    for (const MetadataRow& m : p.metadata) {
      s.Bind(1, p.site_id).Bind(2, m.role).Bind(3, m.version).Bind(4, m.sha256);
      s.Bind(5, static_cast<int64_t>(m.length));
      REFUGE_RETURN_IF_ERROR(s.Run());
    }
  }
  if (p.version) {
    const VersionRow& v = *p.version;
    Stmt s(db_,
           "INSERT INTO versions (site_id, version, targets_version, root_version, published_at, "
           "file_count, total_bytes, pinned) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    REFUGE_RETURN_IF_ERROR(s.prepared());
    s.Bind(1, p.site_id).Bind(2, v.version).Bind(3, v.targets_version).Bind(4, v.root_version);
    s.Bind(5, v.published_at).Bind(6, static_cast<int64_t>(v.file_count));
    s.Bind(7, static_cast<int64_t>(v.total_bytes)).Bind(8, int64_t{v.pinned});
    REFUGE_RETURN_IF_ERROR(s.Run());
    Stmt f(db_,
           "INSERT INTO version_files (site_id, version, path, sha256, length) "
           "VALUES (?, ?, ?, ?, ?)");
    REFUGE_RETURN_IF_ERROR(f.prepared());
    for (const FileRow& file : p.files) {
      f.Bind(1, p.site_id).Bind(2, v.version).Bind(3, file.path).Bind(4, file.sha256);
      f.Bind(5, static_cast<int64_t>(file.length));
      REFUGE_RETURN_IF_ERROR(f.Run());
    }
    Stmt u(db_, "UPDATE sites SET current_version = ? WHERE site_id = ?");
    REFUGE_RETURN_IF_ERROR(u.prepared());
    u.Bind(1, v.version).Bind(2, p.site_id);
    REFUGE_RETURN_IF_ERROR(u.Run());
  }
  if (p.file_cache) {
    Stmt d(db_, "DELETE FROM file_cache WHERE site_id = ?");
    REFUGE_RETURN_IF_ERROR(d.prepared());
    d.Bind(1, p.site_id);
    REFUGE_RETURN_IF_ERROR(d.Run());
    Stmt c(db_,
           "INSERT INTO file_cache (site_id, path, size, mtime_ns, ctime_ns, inode, sha256) "
           "VALUES (?, ?, ?, ?, ?, ?, ?)");
    REFUGE_RETURN_IF_ERROR(c.prepared());
    for (const FileCacheRow& r : *p.file_cache) {
      c.Bind(1, p.site_id).Bind(2, r.path).Bind(3, static_cast<int64_t>(r.size));
      c.Bind(4, r.mtime_ns).Bind(5, r.ctime_ns).Bind(6, static_cast<int64_t>(r.inode));
      c.Bind(7, r.sha256);
      REFUGE_RETURN_IF_ERROR(c.Run());
    }
  }
  return tx.Commit();
}

Status NodeDb::DeleteVersions(const std::string& site_id, const std::vector<int64_t>& versions) {
  if (versions.empty()) return Status::Ok();
  Transaction tx(db_);
  REFUGE_RETURN_IF_ERROR(tx.began());
  for (int64_t v : versions) {
    REFUGE_ASSIGN_OR_RETURN(VersionRow row, GetVersion(site_id, v));
    Stmt f(db_, "DELETE FROM version_files WHERE site_id = ? AND version = ?");
    REFUGE_RETURN_IF_ERROR(f.prepared());
    f.Bind(1, site_id).Bind(2, v);
    REFUGE_RETURN_IF_ERROR(f.Run());
    Stmt d(db_, "DELETE FROM versions WHERE site_id = ? AND version = ?");
    REFUGE_RETURN_IF_ERROR(d.prepared());
    d.Bind(1, site_id).Bind(2, v);
    REFUGE_RETURN_IF_ERROR(d.Run());
    Stmt m(db_,
           "DELETE FROM metadata WHERE site_id = ? AND ((role = 'snapshot' AND version = ?) OR "
           "(role = 'targets' AND version = ? AND NOT EXISTS (SELECT 1 FROM versions WHERE "
           "site_id = ? AND targets_version = ?)))");
    REFUGE_RETURN_IF_ERROR(m.prepared());
    m.Bind(1, site_id).Bind(2, v).Bind(3, row.targets_version).Bind(4, site_id);
    m.Bind(5, row.targets_version);
    REFUGE_RETURN_IF_ERROR(m.Run());
  }
  // Timestamps older than the newest one are never served again.
  Stmt t(db_,
         "DELETE FROM metadata WHERE site_id = ? AND role = 'timestamp' AND version < "
         "(SELECT MAX(version) FROM metadata WHERE site_id = ? AND role = 'timestamp')");
  REFUGE_RETURN_IF_ERROR(t.prepared());
  t.Bind(1, site_id).Bind(2, site_id);
  REFUGE_RETURN_IF_ERROR(t.Run());
  return tx.Commit();
}

Result<std::set<std::string>> NodeDb::LiveObjects() {
  std::set<std::string> live;
  for (const char* sql : {"SELECT sha256 FROM metadata", "SELECT sha256 FROM version_files"}) {
    Stmt s(db_, sql);
    REFUGE_RETURN_IF_ERROR(s.prepared());
    for (;;) {
      REFUGE_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      live.insert(s.Text(0));
    }
  }
  return live;
}

Status NodeDb::DeleteSite(const std::string& site_id) {
  Transaction tx(db_);
  REFUGE_RETURN_IF_ERROR(tx.began());
  for (const char* sql :
       {"DELETE FROM version_files WHERE site_id = ?", "DELETE FROM versions WHERE site_id = ?",
        "DELETE FROM metadata WHERE site_id = ?", "DELETE FROM file_cache WHERE site_id = ?",
        "DELETE FROM mirror_sources WHERE site_id = ?", "DELETE FROM mirror_sync WHERE site_id = ?",
        "DELETE FROM announcements WHERE site_id = ?", "DELETE FROM sites WHERE site_id = ?"}) {
    Stmt s(db_, sql);
    REFUGE_RETURN_IF_ERROR(s.prepared());
    s.Bind(1, site_id);
    REFUGE_RETURN_IF_ERROR(s.Run());
  }
  return tx.Commit();
}

namespace {

int KindRank(const std::string& kind) { return kind == "peer" ? 0 : 1; }

}  // namespace

Status NodeDb::AddMirrorSource(const std::string& site_id, const std::string& url,
                               const std::string& kind, int64_t now, int max_peers) {
  Transaction tx(db_);
  REFUGE_RETURN_IF_ERROR(tx.began());
  std::optional<std::string> existing;
  {
    Stmt s(db_, "SELECT kind FROM mirror_sources WHERE site_id = ? AND url = ?");
    REFUGE_RETURN_IF_ERROR(s.prepared());
    s.Bind(1, site_id).Bind(2, url);
    REFUGE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row) existing = s.Text(0);
  }
  if (existing) {
    if (KindRank(kind) > KindRank(*existing) ||
        (KindRank(kind) == KindRank(*existing) && kind != *existing && kind == "seed")) {
      Stmt u(db_, "UPDATE mirror_sources SET kind = ? WHERE site_id = ? AND url = ?");
      REFUGE_RETURN_IF_ERROR(u.prepared());
      u.Bind(1, kind).Bind(2, site_id).Bind(3, url);
      REFUGE_RETURN_IF_ERROR(u.Run());
    }
    return tx.Commit();
  }
  if (kind == "peer") {
    // Bounded: evict the peers that worked least recently (never-working ones first).
    Stmt e(db_,
           "DELETE FROM mirror_sources WHERE rowid IN (SELECT rowid FROM mirror_sources "
           "WHERE site_id = ? AND kind = 'peer' ORDER BY COALESCE(last_ok, 0), added_at "
           "LIMIT MAX(0, (SELECT COUNT(*) FROM mirror_sources WHERE site_id = ? AND "
           "kind = 'peer') - ? + 1))");
    REFUGE_RETURN_IF_ERROR(e.prepared());
    e.Bind(1, site_id).Bind(2, site_id).Bind(3, int64_t{max_peers});
    REFUGE_RETURN_IF_ERROR(e.Run());
  }
  Stmt s(db_, "INSERT INTO mirror_sources (site_id, url, kind, added_at) VALUES (?, ?, ?, ?)");
  REFUGE_RETURN_IF_ERROR(s.prepared());
  s.Bind(1, site_id).Bind(2, url).Bind(3, kind).Bind(4, now);
  REFUGE_RETURN_IF_ERROR(s.Run());
  return tx.Commit();
}

Result<std::vector<MirrorSourceRow>> NodeDb::ListMirrorSources(const std::string& site_id) {
  Stmt s(db_,
         "SELECT url, kind, added_at, COALESCE(last_ok, 0), COALESCE(last_error, '') "
         "FROM mirror_sources WHERE site_id = ? ORDER BY added_at, url");
  REFUGE_RETURN_IF_ERROR(s.prepared());
  s.Bind(1, site_id);
  std::vector<MirrorSourceRow> out;
  for (;;) {
    REFUGE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(MirrorSourceRow{s.Text(0), s.Text(1), s.Int(2), s.Int(3), s.Text(4)});
  }
  return out;
}

Status NodeDb::RecordSourceResult(const std::string& site_id, const std::string& url,
                                  int64_t now, const std::string& error) {
  Stmt s(db_,
         error.empty()
             ? "UPDATE mirror_sources SET last_ok = ?, last_error = '' WHERE site_id = ? AND url = ?"
             : "UPDATE mirror_sources SET last_error = ? WHERE site_id = ? AND url = ?");
  REFUGE_RETURN_IF_ERROR(s.prepared());
  if (error.empty()) {
    s.Bind(1, now);
  } else {
    s.Bind(1, error);
  }
  s.Bind(2, site_id).Bind(3, url);
  return s.Run();
}

Status NodeDb::RemoveMirrorSources(const std::string& site_id, const std::string& kind) {
  Stmt s(db_, "DELETE FROM mirror_sources WHERE site_id = ? AND kind = ?");
  REFUGE_RETURN_IF_ERROR(s.prepared());
  s.Bind(1, site_id).Bind(2, kind);
  return s.Run();
}

Result<MirrorSyncRow> NodeDb::GetMirrorSync(const std::string& site_id) {
  Stmt s(db_,
         "SELECT last_attempt, last_success, last_error FROM mirror_sync WHERE site_id = ?");
  REFUGE_RETURN_IF_ERROR(s.prepared());
  s.Bind(1, site_id);
  REFUGE_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return MirrorSyncRow{};
  return MirrorSyncRow{s.Int(0), s.Int(1), s.Text(2)};
}

Status NodeDb::RecordSyncAttempt(const std::string& site_id, int64_t now,
                                 const std::string& error) {
  Stmt s(db_,
         "INSERT INTO mirror_sync (site_id, last_attempt, last_success, last_error) "
         "VALUES (?1, ?2, CASE WHEN ?3 = '' THEN ?2 ELSE 0 END, ?3) "
         "ON CONFLICT (site_id) DO UPDATE SET last_attempt = ?2, last_error = ?3, "
         "last_success = CASE WHEN ?3 = '' THEN ?2 ELSE last_success END");
  REFUGE_RETURN_IF_ERROR(s.prepared());
  s.Bind(1, site_id).Bind(2, now).Bind(3, error);
  return s.Run();
}

namespace {

std::string JoinUrls(const std::vector<std::string>& urls) {
  std::string out;
  for (const std::string& u : urls) {
    if (!out.empty()) out += '\n';
    out += u;
  }
  return out;
}

std::vector<std::string> SplitUrls(const std::string& joined) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < joined.size()) {
    size_t end = joined.find('\n', start);
    if (end == std::string::npos) end = joined.size();
    out.push_back(joined.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

Status NodeDb::UpsertAnnouncement(const AnnouncementRow& row, int max_per_site) {
  Transaction tx(db_);
  REFUGE_RETURN_IF_ERROR(tx.began());
  const std::string urls = JoinUrls(row.urls);
  std::optional<std::pair<std::string, std::string>> existing;  // status, urls
  {
    Stmt s(db_, "SELECT status, urls FROM announcements WHERE site_id = ? AND key_id = ?");
    REFUGE_RETURN_IF_ERROR(s.prepared());
    s.Bind(1, row.site_id).Bind(2, row.key_id);
    REFUGE_ASSIGN_OR_RETURN(bool found, s.Step());
    if (found) existing.emplace(s.Text(0), s.Text(1));
  }
  std::string status = "pending";
  if (existing) {
    if (existing->first == "rejected") return tx.Commit();  // stays rejected, nothing kept
    if (existing->first == "accepted" && existing->second == urls) status = "accepted";
  } else {
    Stmt c(db_, "SELECT COUNT(*) FROM announcements WHERE site_id = ? AND status = 'pending'");
    REFUGE_RETURN_IF_ERROR(c.prepared());
    c.Bind(1, row.site_id);
    REFUGE_ASSIGN_OR_RETURN(bool found, c.Step());
    if (found && c.Int(0) >= max_per_site) {
      return TooLarge("too many pending announcements for site " + row.site_id);
    }
  }
  Stmt s(db_,
         "INSERT OR REPLACE INTO announcements (site_id, key_id, public_key, urls, received_at, "
         "sender, status) VALUES (?, ?, ?, ?, ?, ?, ?)");
  REFUGE_RETURN_IF_ERROR(s.prepared());
  s.Bind(1, row.site_id).Bind(2, row.key_id).Bind(3, row.public_key).Bind(4, urls);
  s.Bind(5, row.received_at).Bind(6, row.sender).Bind(7, status);
  REFUGE_RETURN_IF_ERROR(s.Run());
  return tx.Commit();
}

Result<std::vector<AnnouncementRow>> NodeDb::ListAnnouncements(const std::string& site_id,
                                                               const std::string& status) {
  Stmt s(db_,
         "SELECT site_id, key_id, public_key, urls, received_at, sender, status "
         "FROM announcements WHERE site_id = ? AND (? = '' OR status = ?) "
         "ORDER BY received_at, key_id");
  REFUGE_RETURN_IF_ERROR(s.prepared());
  s.Bind(1, site_id).Bind(2, status).Bind(3, status);
  std::vector<AnnouncementRow> out;
  for (;;) {
    REFUGE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    AnnouncementRow a;
    a.site_id = s.Text(0);
    a.key_id = s.Text(1);
    a.public_key = s.Text(2);
    a.urls = SplitUrls(s.Text(3));
    a.received_at = s.Int(4);
    a.sender = s.Text(5);
    a.status = s.Text(6);
    out.push_back(std::move(a));
  }
  return out;
}

Status NodeDb::SetAnnouncementStatus(const std::string& site_id, const std::string& key_id,
                                     const std::string& status) {
  if (key_id.empty()) return InvalidArgument("empty mirror key ID");
  std::vector<std::string> matches;
  {
    Stmt s(db_, "SELECT key_id FROM announcements WHERE site_id = ? AND substr(key_id, 1, ?) = ?");
    REFUGE_RETURN_IF_ERROR(s.prepared());
    s.Bind(1, site_id).Bind(2, static_cast<int64_t>(key_id.size())).Bind(3, key_id);
    for (;;) {
      REFUGE_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      matches.push_back(s.Text(0));
    }
  }
  if (matches.empty()) return NotFound("no announcement from mirror key " + key_id);
  if (matches.size() > 1) return InvalidArgument("mirror key ID prefix " + key_id + " is ambiguous");
  Stmt s(db_, "UPDATE announcements SET status = ? WHERE site_id = ? AND key_id = ?");
  REFUGE_RETURN_IF_ERROR(s.prepared());
  s.Bind(1, status).Bind(2, site_id).Bind(3, matches[0]);
  return s.Run();
}

}  // namespace refuge
