// ObjectStore: immutable objects addressed by the SHA-256 of their bytes, kept as files.
//
// Layout (see docs/STORE.md): <dir>/objects/<first two hex digits>/<64 hex digits>, and
// <dir>/tmp/ for files being written. An object's file name is its hash, so an object is
// valid exactly when the hash of its bytes equals its name; Check() and `refuge verify` test
// that.
//
// Durability: an object becomes visible only by rename(2) of a complete temporary file whose
// data was already flushed to disk, and the rename itself is flushed before the store reports
// success. A reader therefore never sees a partial object, and a crash at any point leaves at
// worst stray files in tmp/ (removed by `refuge gc`) and complete objects nobody references yet.
// Single puts fsync file and directory; a batch (Stage* then CommitStaged) flushes the whole
// file system twice with syncfs(2), which is how publishing 20,000 files stays fast.
//
// Thread-safety: all methods may be called concurrently; two writers of the same object both
// succeed (the second rename replaces identical bytes).
#ifndef REFUGE_STORE_OBJECT_STORE_H_
#define REFUGE_STORE_OBJECT_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/unique_fd.h"

namespace refuge {

struct ObjectInfo {
  std::string sha256;  // lowercase hex
  uint64_t size = 0;
};

// An object written to tmp/ but not yet visible. Committed by ObjectStore::CommitStaged.
struct StagedObject {
  ObjectInfo info;
  std::string temp_path;  // empty if the store already held the object
};

class ObjectStore {
 public:
  // Opens (creating if needed) a store rooted at `dir`.
  static Result<std::unique_ptr<ObjectStore>> Open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  std::string PathFor(std::string_view sha256) const;
  bool Contains(std::string_view sha256) const;

  // Reads a whole object and checks its hash; kCorruption if it does not match.
  Result<std::string> Read(std::string_view sha256, uint64_t max_bytes) const;
  // Opens an object for reading (the caller streams it).
  Result<UniqueFd> OpenObject(std::string_view sha256) const;
  // Re-hashes an object: OK, kNotFound, or kCorruption.
  Status Check(std::string_view sha256) const;

  // Stores bytes durably (fsync file, rename, fsync directory).
  Result<ObjectInfo> PutBytes(std::string_view data);

  // Copies everything readable from `source_fd` into tmp/, hashing on the way, without
  // flushing. `what` names the source in errors. `progress` (optional) is told of each chunk.
  Result<StagedObject> StageFromFd(int source_fd, const std::string& what,
                                   const std::function<void(uint64_t)>& progress = {});
  // Stages an object from a stream: `produce` calls the writer it is given with successive
  // chunks (a download, say). Hashing and writing happen on the way, as in StageFromFd. If
  // `expected` is given, the object must have exactly that hash and size (kVerificationFailed
  // otherwise, and a stream longer than the size is cut off at once): nothing unverified is
  // ever staged.
  using ChunkWriter = std::function<Status(std::string_view chunk)>;
  Result<StagedObject> StageStream(const std::function<Status(const ChunkWriter&)>& produce,
                                   const std::string& what, const ObjectInfo* expected = nullptr);
  // Makes staged objects visible durably: flush data, verify sizes, rename, flush renames.
  Status CommitStaged(std::vector<StagedObject>& staged);
  // Deletes the temporary files of staged objects that will not be committed.
  void AbortStaged(std::vector<StagedObject>& staged);

  Status Remove(std::string_view sha256);
  // Calls fn for every object file name that looks like a hash (others are skipped).
  Status ForEachObject(const std::function<Status(const std::string& sha256)>& fn) const;
  // Deletes everything in tmp/. Only safe when no writer is running (callers hold the
  // exclusive store lock).
  Result<uint64_t> RemoveTemporaryFiles();

 private:
  explicit ObjectStore(std::string dir) : dir_(std::move(dir)) {}
  Status Syncfs() const;

  std::string dir_;
  UniqueFd dir_fd_;
};

}  // namespace refuge

#endif  // REFUGE_STORE_OBJECT_STORE_H_
