// SourceTree: the files of a directory a publisher wants to publish, checked before anything
// is written.
//
// Each file gets a target path: its path relative to the directory, '/'-separated. Refused,
// with a one-line error naming the file: names that are not valid UTF-8 or contain control
// characters, paths longer than limits::kMaxTargetPathBytes, special files (devices, FIFOs,
// sockets), symbolic links that point outside the directory or to a directory, directories
// nested deeper than limits::kMaxDirectoryDepth, more than limits::kMaxFilesPerPublication
// files, and unreadable directories. (Unreadable files are found when they are opened.)
//
// Thread-safety: pure function over the file system.
#ifndef REFUGE_PUBLISH_SOURCE_TREE_H_
#define REFUGE_PUBLISH_SOURCE_TREE_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace refuge {

struct SourceFile {
  std::string target_path;  // "css/site.css"
  std::string disk_path;    // the file to read (a symlink's resolved target)
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
};

// Lists the files under `dir`, sorted by target path.
Result<std::vector<SourceFile>> ScanSourceTree(const std::string& dir);

// Is `path` acceptable as a target path (UTF-8, no control characters, no empty, "." or ".."
// segments, not absolute, bounded length)? Returns the reason when not.
Status CheckTargetPath(const std::string& path);

}  // namespace refuge

#endif  // REFUGE_PUBLISH_SOURCE_TREE_H_
