#include "node/node_home.h"

#include <sys/stat.h>

#include <cstdlib>

#include "common/file_util.h"

namespace refuge {

std::string NodeHome::DefaultPath() {
  const char* env = std::getenv("REFUGE_HOME");
  if (env != nullptr && *env != '\0') return env;
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr && *home != '\0' ? home : ".") + "/.refuge";
}

Result<std::unique_ptr<NodeHome>> NodeHome::Open(const std::string& path) {
  std::unique_ptr<NodeHome> home(new NodeHome());
  home->path_ = path;
  // The home holds private keys: nobody else gets in.
  REFUGE_RETURN_IF_ERROR(MakeDirectories(path, 0700));
  REFUGE_RETURN_IF_ERROR(MakeDirectories(path + "/keys", 0700));
  REFUGE_RETURN_IF_ERROR(MakeDirectories(path + "/locks", 0700));
  REFUGE_ASSIGN_OR_RETURN(home->store_, ObjectStore::Open(path));
  REFUGE_ASSIGN_OR_RETURN(home->db_, NodeDb::Open(path + "/node.db"));
  return home;
}

std::string NodeHome::SiteKeysDir(const std::string& site_id) const {
  return path_ + "/keys/" + site_id;
}

std::string NodeHome::ClientDir(const std::string& site_id) const {
  return path_ + "/client/" + site_id;
}

Result<FileLock> NodeHome::LockStore(FileLock::Mode mode) const {
  return FileLock::Acquire(path_ + "/locks/store.lock", mode);
}

Result<FileLock> NodeHome::LockSite(const std::string& site_id) const {
  return FileLock::Acquire(path_ + "/locks/site-" + site_id + ".lock", FileLock::Mode::kExclusive);
}

bool IsSiteId(const std::string& s) {
  if (s.size() != 52) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'))) return false;
  }
  return true;
}

}  // namespace refuge
