// NodeHome: the directory where one refuge node keeps everything (REFUGE_HOME, by default
// ~/.refuge). Several nodes run side by side on one machine with different homes.
//
//   <home>/node.db            node state (SQLite, see store/node_db.h)
//   <home>/objects/, tmp/     the object store (see store/object_store.h)
//   <home>/keys/<site-id>/    the site's private keys (mode 0700 directories, 0600 files):
//        online/<keyid>.pem   targets, snapshot and timestamp keys
//        root/<keyid>.pem     root keys, unless `site init --root-key-dir` put them elsewhere
//        retired/<keyid>.pem  keys replaced by `refuge key rotate`
//   <home>/client/<site-id>/  trusted TUF metadata of sites this node *reads* (`refuge get`)
//   <home>/locks/             flock files (store.lock, site-<id>.lock)
//
// Thread-safety: one NodeHome per thread (it owns a database connection).
#ifndef REFUGE_NODE_NODE_HOME_H_
#define REFUGE_NODE_NODE_HOME_H_

#include <memory>
#include <string>

#include "common/file_lock.h"
#include "common/status.h"
#include "store/node_db.h"
#include "store/object_store.h"

namespace refuge {

class NodeHome {
 public:
  // $REFUGE_HOME if set and non-empty, else $HOME/.refuge.
  static std::string DefaultPath();
  // Opens (creating if needed) the node home at `path`.
  static Result<std::unique_ptr<NodeHome>> Open(const std::string& path);

  const std::string& path() const { return path_; }
  ObjectStore& store() { return *store_; }
  NodeDb& db() { return *db_; }

  std::string SiteKeysDir(const std::string& site_id) const;
  std::string ClientDir(const std::string& site_id) const;

  // Writers of the store (publish, mirror sync) hold it shared; GC holds it exclusive.
  Result<FileLock> LockStore(FileLock::Mode mode) const;
  // One publish (or key change) of a site at a time.
  Result<FileLock> LockSite(const std::string& site_id) const;

 private:
  NodeHome() = default;
  std::string path_;
  std::unique_ptr<ObjectStore> store_;
  std::unique_ptr<NodeDb> db_;
};

// Is `s` a well-formed site ID (52 lowercase base32 characters)? Says nothing of existence.
bool IsSiteId(const std::string& s);

}  // namespace refuge

#endif  // REFUGE_NODE_NODE_HOME_H_
