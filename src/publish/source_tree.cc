#include "publish/source_tree.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <memory>

#include "common/limits.h"

namespace refuge {

namespace {

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

bool IsValidUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and values beyond Unicode are invalid.
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n;
  }
  return true;
}

int64_t Nanos(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct Walker {
  std::string root_real;  // realpath of the directory, for the symlink check
  std::vector<SourceFile> files;

  Status Walk(const std::string& disk_dir, const std::string& prefix, int depth) {
    if (depth > limits::kMaxDirectoryDepth) {
      return InvalidArgument(disk_dir + ": directories nested deeper than " +
                             std::to_string(limits::kMaxDirectoryDepth) + " levels");
    }
    std::unique_ptr<DIR, DirCloser> d(::opendir(disk_dir.c_str()));
    if (!d) return ErrnoStatus("cannot read directory " + disk_dir, errno);
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(d.get())) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      std::string disk = disk_dir + "/" + name;
      std::string target = prefix.empty() ? name : prefix + "/" + name;
      struct stat st {};
      if (::lstat(disk.c_str(), &st) != 0) return ErrnoStatus(disk, errno);
      if (S_ISDIR(st.st_mode)) {
        REFUGE_RETURN_IF_ERROR(Walk(disk, target, depth + 1));
        continue;
      }
      REFUGE_RETURN_IF_ERROR(CheckTargetPath(target).Annotate(disk));
      std::string read_path = disk;
      if (S_ISLNK(st.st_mode)) {
        char resolved[PATH_MAX];
        if (::realpath(disk.c_str(), resolved) == nullptr) {
          return ErrnoStatus(disk + ": broken symbolic link", errno);
        }
        std::string real = resolved;
        if (real.compare(0, root_real.size() + 1, root_real + "/") != 0) {
          return InvalidArgument(disk + ": symbolic link points outside the published directory (to " +
                                 real + ")");
        }
        if (::stat(real.c_str(), &st) != 0) return ErrnoStatus(disk, errno);
        if (S_ISDIR(st.st_mode)) {
          return InvalidArgument(disk + ": symbolic link to a directory (publish the directory itself)");
        }
        read_path = real;
      }
      if (!S_ISREG(st.st_mode)) {
        return InvalidArgument(disk + ": not a regular file (device, FIFO or socket)");
      }
      if (files.size() >= limits::kMaxFilesPerPublication) {
        return TooLarge("more than " + std::to_string(limits::kMaxFilesPerPublication) +
                        " files to publish");
      }
      files.push_back(SourceFile{target, read_path, static_cast<uint64_t>(st.st_size),
                                 Nanos(st.st_mtim), Nanos(st.st_ctim),
                                 static_cast<uint64_t>(st.st_ino)});
    }
    return Status::Ok();
  }
};

}  // namespace

Status CheckTargetPath(const std::string& path) {
  if (path.empty()) return InvalidArgument("empty path");
  if (path.size() > limits::kMaxTargetPathBytes) {
    return InvalidArgument("path longer than " + std::to_string(limits::kMaxTargetPathBytes) +
                           " bytes");
  }
  if (!IsValidUtf8(path)) return InvalidArgument("file name is not valid UTF-8");
  for (unsigned char c : path) {
    if (c < 0x20 || c == 0x7f) return InvalidArgument("file name contains a control character");
  }
  if (path.front() == '/') return InvalidArgument("absolute path");
  size_t start = 0;
  for (;;) {
    size_t slash = path.find('/', start);
    std::string seg = path.substr(start, slash == std::string::npos ? slash : slash - start);
    if (seg.empty() || seg == "." || seg == "..") {
      return InvalidArgument("path has an empty, '.' or '..' segment");
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return Status::Ok();
}

Result<std::vector<SourceFile>> ScanSourceTree(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return ErrnoStatus(dir, errno);
  if (!S_ISDIR(st.st_mode)) return InvalidArgument(dir + ": not a directory");
  char resolved[PATH_MAX];
  if (::realpath(dir.c_str(), resolved) == nullptr) return ErrnoStatus(dir, errno);
  Walker w;
  w.root_real = resolved;
  REFUGE_RETURN_IF_ERROR(w.Walk(dir, "", 0));
  std::sort(w.files.begin(), w.files.end(),
            [](const SourceFile& a, const SourceFile& b) { return a.target_path < b.target_path; });
  return std::move(w.files);
}

}  // namespace refuge
