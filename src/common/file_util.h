// Small, EINTR-safe file helpers every module uses. Every descriptor is opened O_CLOEXEC.
//
// Durable writes follow one recipe: write a temporary file in the destination's directory,
// fsync it, rename it over the destination, fsync the directory. A reader sees the old file
// or the new one, never a mix, and a crash (kill -9 or power loss) loses no completed write.
//
// Thread-safety: all functions are thread-safe (they share no state).
#ifndef REFUGE_COMMON_FILE_UTIL_H_
#define REFUGE_COMMON_FILE_UTIL_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/unique_fd.h"

namespace refuge {

// open(2) with O_CLOEXEC added; errors name the path.
Result<UniqueFd> OpenFile(const std::string& path, int flags, mode_t mode = 0);

// Writes all of [data, data+size) or fails; retries short writes and EINTR.
Status WriteAll(int fd, const void* data, size_t size, std::string_view what);

// Reads up to `size` bytes, retrying EINTR; returns the count (0 at end of file).
Result<size_t> ReadSome(int fd, void* data, size_t size, std::string_view what);

// Reads a whole file. Fails with kTooLarge (naming the file) beyond max_bytes.
Result<std::string> ReadFileBounded(const std::string& path, uint64_t max_bytes);

// Durable replacement of `path` by `contents`, created with `mode` (0600 for keys).
Status WriteFileDurable(const std::string& path, std::string_view contents, mode_t mode = 0644);

// fsync(2) of a directory, so that renames and creations inside it are durable.
Status FsyncDirectory(const std::string& dir);

// mkdir -p with the given mode for created directories.
Status MakeDirectories(const std::string& path, mode_t mode = 0755);

bool PathExists(const std::string& path);

// The directory part of a path ("." if none).
std::string DirName(const std::string& path);

// A unique temporary file name in `dir` with the given prefix (pid + counter + random).
std::string TempName(const std::string& dir, std::string_view prefix);

}  // namespace refuge

#endif  // REFUGE_COMMON_FILE_UTIL_H_
