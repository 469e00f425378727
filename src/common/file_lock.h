// FileLock: an advisory flock(2) on a lock file, released on destruction.
//
// Used to keep a publish and a garbage collection from overlapping (shared vs exclusive on
// the store lock) and to serialize publishes of one site. flock locks vanish with the
// process, so a killed publisher never leaves a stale lock behind.
// Thread-safety: one owner.
#ifndef REFUGE_COMMON_FILE_LOCK_H_
#define REFUGE_COMMON_FILE_LOCK_H_

#include <string>

#include "common/status.h"
#include "common/unique_fd.h"

namespace refuge {

class FileLock {
 public:
  enum class Mode { kShared, kExclusive };
  // Blocks until the lock is held.
  static Result<FileLock> Acquire(const std::string& path, Mode mode);

  FileLock(FileLock&&) = default;
  FileLock& operator=(FileLock&&) = default;

 private:
  explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace refuge

#endif  // REFUGE_COMMON_FILE_LOCK_H_
