#include "common/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <random>

namespace refuge {

Result<UniqueFd> OpenFile(const std::string& path, int flags, mode_t mode) {
  for (;;) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd >= 0) return UniqueFd(fd);
    if (errno == EINTR) continue;
    return ErrnoStatus(path, errno);
  }
}

Status WriteAll(int fd, const void* data, size_t size, std::string_view what) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(std::string("write ") + std::string(what), errno);
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

Result<size_t> ReadSome(int fd, void* data, size_t size, std::string_view what) {
  for (;;) {
    ssize_t n = ::read(fd, data, size);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    return ErrnoStatus(std::string("read ") + std::string(what), errno);
  }
}

Result<std::string> ReadFileBounded(const std::string& path, uint64_t max_bytes) {
  REFUGE_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDONLY));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(path, errno);
  if (!S_ISREG(st.st_mode)) return InvalidArgument(path + ": not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return TooLarge(path + ": " + std::to_string(st.st_size) + " bytes, more than the limit of " +
                    std::to_string(max_bytes));
  }
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  // The file may grow while we read it: read one byte past the expected end to notice.
  for (;;) {
    if (got == out.size()) {
      if (out.size() >= max_bytes) {
        char probe;
        REFUGE_ASSIGN_OR_RETURN(size_t n, ReadSome(fd.get(), &probe, 1, path));
        if (n == 0) break;
        return TooLarge(path + ": more than the limit of " + std::to_string(max_bytes) + " bytes");
      }
      out.resize(std::min<uint64_t>(max_bytes, out.size() + 4096));
    }
    REFUGE_ASSIGN_OR_RETURN(size_t n, ReadSome(fd.get(), out.data() + got, out.size() - got, path));
    if (n == 0) break;
    got += n;
  }
  out.resize(got);
  return out;
}

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string TempName(const std::string& dir, std::string_view prefix) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string name = dir;
  name += '/';
  name += prefix;
  name += std::to_string(::getpid());
  name += '-';
  name += std::to_string(counter.fetch_add(1));
  name += '-';
  name += std::to_string(rng() & 0xffffffffu);
  name += ".tmp";
  return name;
}

Status FsyncDirectory(const std::string& dir) {
  REFUGE_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(dir, O_RDONLY | O_DIRECTORY));
  if (::fsync(fd.get()) != 0) return ErrnoStatus("fsync " + dir, errno);
  return Status::Ok();
}

Status WriteFileDurable(const std::string& path, std::string_view contents, mode_t mode) {
  std::string dir = DirName(path);
  std::string tmp = TempName(dir, ".");
  {
    REFUGE_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(tmp, O_WRONLY | O_CREAT | O_EXCL, mode));
    // The umask must not widen or narrow what the caller asked for (keys are 0600).
    if (::fchmod(fd.get(), mode) != 0) {
      Status s = ErrnoStatus("chmod " + tmp, errno);
      ::unlink(tmp.c_str());
      return s;
    }
    Status s = WriteAll(fd.get(), contents.data(), contents.size(), tmp);
    if (s.ok() && ::fsync(fd.get()) != 0) s = ErrnoStatus("fsync " + tmp, errno);
    if (!s.ok()) {
      ::unlink(tmp.c_str());
      return s;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = ErrnoStatus("rename to " + path, errno);
    ::unlink(tmp.c_str());
    return s;
  }
  return FsyncDirectory(dir);
}

Status MakeDirectories(const std::string& path, mode_t mode) {
  if (path.empty()) return Status::Ok();
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    size_t next = path.find('/', pos + 1);
    partial = path.substr(0, next);
    pos = next;
    if (partial.empty() || partial == "/") continue;
    if (::mkdir(partial.c_str(), mode) != 0 && errno != EEXIST) {
      return ErrnoStatus("mkdir " + partial, errno);
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus(path, errno);
  if (!S_ISDIR(st.st_mode)) return InvalidArgument(path + ": exists and is not a directory");
  return Status::Ok();
}

bool PathExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace refuge
