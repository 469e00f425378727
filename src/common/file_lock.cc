#include "common/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>

#include "common/file_util.h"

namespace refuge {

Result<FileLock> FileLock::Acquire(const std::string& path, Mode mode) {
  REFUGE_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDWR | O_CREAT, 0600));
  int op = mode == Mode::kShared ? LOCK_SH : LOCK_EX;
  while (::flock(fd.get(), op) != 0) {
    if (errno != EINTR) return ErrnoStatus("lock " + path, errno);
  }
  return FileLock(std::move(fd));
}

}  // namespace refuge
