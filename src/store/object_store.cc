#include "store/object_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <vector>

#include "common/file_util.h"
#include "crypto/sha256.h"

namespace refuge {

namespace {

// Copy buffer: large enough to amortize syscalls and keep SHA-256 streaming, small enough
// that a few worker threads stay well under a few MiB.
constexpr size_t kCopyBufferBytes = 1 << 20;
// How often a large staged object's dirty pages are handed to the disk early.
constexpr uint64_t kWritebackChunkBytes = 8 << 20;

// "00" .. "ff": the shard directory of objects whose hash starts with that byte.
std::string ShardName(int i) {
  const uint8_t byte = static_cast<uint8_t>(i);
  return HexEncode(&byte, 1);
}

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

}  // namespace

Result<std::unique_ptr<ObjectStore>> ObjectStore::Open(const std::string& dir) {
  std::unique_ptr<ObjectStore> store(new ObjectStore(dir));
  const std::string objects = dir + "/objects";
  bool fresh = !PathExists(objects + "/ff");
  REFUGE_RETURN_IF_ERROR(MakeDirectories(dir + "/tmp"));
  REFUGE_RETURN_IF_ERROR(MakeDirectories(objects));
  if (fresh) {
    // All 256 shard directories up front: a put then never creates a directory, so the only
    // directory it has to flush is the shard's.
    for (int i = 0; i < 256; ++i) {
      std::string shard = objects + "/" + ShardName(i);
      if (::mkdir(shard.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoStatus("mkdir " + shard, errno);
      }
    }
    REFUGE_RETURN_IF_ERROR(FsyncDirectory(objects));
    REFUGE_RETURN_IF_ERROR(FsyncDirectory(dir));
  }
  REFUGE_ASSIGN_OR_RETURN(store->dir_fd_, OpenFile(dir, O_RDONLY | O_DIRECTORY));
  return store;
}

std::string ObjectStore::PathFor(std::string_view sha256) const {
  std::string p = dir_;
  p += "/objects/";
  p.append(sha256.substr(0, 2));
  p += '/';
  p.append(sha256);
  return p;
}

bool ObjectStore::Contains(std::string_view sha256) const {
  if (!IsSha256Hex(sha256)) return false;
  struct stat st {};
  return ::stat(PathFor(sha256).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<UniqueFd> ObjectStore::OpenObject(std::string_view sha256) const {
  if (!IsSha256Hex(sha256)) return InvalidArgument("not a SHA-256: " + std::string(sha256));
  auto fd = OpenFile(PathFor(sha256), O_RDONLY);
  if (!fd.ok() && fd.status().code() == StatusCode::kNotFound) {
    return NotFound("object " + std::string(sha256) + " is missing from the store");
  }
  return fd;
}

Result<std::string> ObjectStore::Read(std::string_view sha256, uint64_t max_bytes) const {
  if (!IsSha256Hex(sha256)) return InvalidArgument("not a SHA-256: " + std::string(sha256));
  auto data = ReadFileBounded(PathFor(sha256), max_bytes);
  if (!data.ok()) {
    if (data.status().code() == StatusCode::kNotFound) {
      return NotFound("object " + std::string(sha256) + " is missing from the store");
    }
    return data.status();
  }
  if (Sha256Hex(*data) != sha256) {
    return Corruption("object " + std::string(sha256) + " does not match its hash");
  }
  return data;
}

Status ObjectStore::Check(std::string_view sha256) const {
  REFUGE_ASSIGN_OR_RETURN(UniqueFd fd, OpenObject(sha256));
  Sha256 hasher;
  std::vector<char> buf(kCopyBufferBytes);
  for (;;) {
    REFUGE_ASSIGN_OR_RETURN(size_t n, ReadSome(fd.get(), buf.data(), buf.size(), PathFor(sha256)));
    if (n == 0) break;
    hasher.Update(buf.data(), n);
  }
  if (HexEncode(hasher.Finish()) != sha256) {
    return Corruption("object " + std::string(sha256) + " does not match its hash");
  }
  return Status::Ok();
}

Result<ObjectInfo> ObjectStore::PutBytes(std::string_view data) {
  ObjectInfo info{Sha256Hex(data), data.size()};
  if (Contains(info.sha256)) return info;
  std::string final_path = PathFor(info.sha256);
  std::string tmp = TempName(dir_ + "/tmp", "put-");
  {
    REFUGE_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644));
    Status s = WriteAll(fd.get(), data.data(), data.size(), tmp);
    if (s.ok() && ::fsync(fd.get()) != 0) s = ErrnoStatus("fsync " + tmp, errno);
    if (!s.ok()) {
      ::unlink(tmp.c_str());
      return s;
    }
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    Status s = ErrnoStatus("rename to " + final_path, errno);
    ::unlink(tmp.c_str());
    return s;
  }
  REFUGE_RETURN_IF_ERROR(FsyncDirectory(DirName(final_path)));
  return info;
}

Result<StagedObject> ObjectStore::StageStream(
    const std::function<Status(const ChunkWriter&)>& produce, const std::string& what,
    const ObjectInfo* expected) {
  StagedObject staged;
  staged.temp_path = TempName(dir_ + "/tmp", "stage-");
  REFUGE_ASSIGN_OR_RETURN(UniqueFd out,
                          OpenFile(staged.temp_path, O_WRONLY | O_CREAT | O_EXCL, 0644));
  Sha256 hasher;
  uint64_t total = 0;
  Status s = produce([&](std::string_view chunk) -> Status {
    if (expected && chunk.size() > expected->size - total) {
      return VerificationFailed(what + ": longer than its signed length of " +
                                std::to_string(expected->size) + " bytes");
    }
    hasher.Update(chunk);
    REFUGE_RETURN_IF_ERROR(WriteAll(out.get(), chunk.data(), chunk.size(), staged.temp_path));
    // Start writing back what is already staged (without waiting), so the disk works while
    // the rest is hashed and the flush at commit has little left to do.
    if ((total + chunk.size()) / kWritebackChunkBytes != total / kWritebackChunkBytes) {
      ::sync_file_range(out.get(), 0, 0, SYNC_FILE_RANGE_WRITE);
    }
    total += chunk.size();
    return Status::Ok();
  });
  if (s.ok()) {
    staged.info = ObjectInfo{HexEncode(hasher.Finish()), total};
    if (expected && (staged.info.size != expected->size || staged.info.sha256 != expected->sha256)) {
      s = VerificationFailed(what + ": got " + std::to_string(total) + " bytes hashing to " +
                             staged.info.sha256 + ", not the signed " +
                             std::to_string(expected->size) + " bytes " + expected->sha256);
    }
  }
  if (!s.ok()) {
    ::unlink(staged.temp_path.c_str());
    return s;
  }
  if (Contains(staged.info.sha256)) {  // already stored: nothing to commit
    ::unlink(staged.temp_path.c_str());
    staged.temp_path.clear();
  }
  return staged;
}

Result<StagedObject> ObjectStore::StageFromFd(int source_fd, const std::string& what,
                                              const std::function<void(uint64_t)>& progress) {
  return StageStream(
      [&](const ChunkWriter& write) -> Status {
        thread_local std::vector<char> buf(kCopyBufferBytes);
        for (;;) {
          REFUGE_ASSIGN_OR_RETURN(size_t n, ReadSome(source_fd, buf.data(), buf.size(), what));
          if (n == 0) return Status::Ok();
          REFUGE_RETURN_IF_ERROR(write(std::string_view(buf.data(), n)));
          if (progress) progress(n);
        }
      },
      what);
}

Status ObjectStore::Syncfs() const {
  if (::syncfs(dir_fd_.get()) != 0) return ErrnoStatus("syncfs " + dir_, errno);
  return Status::Ok();
}

Status ObjectStore::CommitStaged(std::vector<StagedObject>& staged) {
  bool any = false;
  for (const StagedObject& s : staged) any = any || !s.temp_path.empty();
  if (!any) return Status::Ok();
  REFUGE_RETURN_IF_ERROR(Syncfs());  // the data of every temporary file is on disk
  for (StagedObject& s : staged) {
    if (s.temp_path.empty()) continue;
    // Verify before the object becomes visible: the file holds exactly what was hashed.
    struct stat st {};
    if (::stat(s.temp_path.c_str(), &st) != 0) return ErrnoStatus(s.temp_path, errno);
    if (static_cast<uint64_t>(st.st_size) != s.info.size) {
      return Corruption(s.temp_path + ": staged size changed before commit");
    }
    if (::rename(s.temp_path.c_str(), PathFor(s.info.sha256).c_str()) != 0) {
      return ErrnoStatus("rename to " + PathFor(s.info.sha256), errno);
    }
    s.temp_path.clear();
  }
  return Syncfs();  // and so is every rename
}

void ObjectStore::AbortStaged(std::vector<StagedObject>& staged) {
  for (StagedObject& s : staged) {
    if (!s.temp_path.empty()) ::unlink(s.temp_path.c_str());
    s.temp_path.clear();
  }
}

Status ObjectStore::Remove(std::string_view sha256) {
  if (!IsSha256Hex(sha256)) return InvalidArgument("not a SHA-256: " + std::string(sha256));
  if (::unlink(PathFor(sha256).c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus("unlink " + PathFor(sha256), errno);
  }
  return Status::Ok();
}

Status ObjectStore::ForEachObject(const std::function<Status(const std::string&)>& fn) const {
  for (int i = 0; i < 256; ++i) {
    std::string shard = dir_ + "/objects/" + ShardName(i);
    std::unique_ptr<DIR, DirCloser> d(::opendir(shard.c_str()));
    if (!d) {
      if (errno == ENOENT) continue;
      return ErrnoStatus("opendir " + shard, errno);
    }
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d.get())) {
      std::string name = e->d_name;
      if (IsSha256Hex(name) && name.compare(0, 2, shard.substr(shard.size() - 2)) == 0) {
        names.push_back(std::move(name));
      }
    }
    for (const std::string& name : names) REFUGE_RETURN_IF_ERROR(fn(name));
  }
  return Status::Ok();
}

Result<uint64_t> ObjectStore::RemoveTemporaryFiles() {
  std::string tmp = dir_ + "/tmp";
  std::unique_ptr<DIR, DirCloser> d(::opendir(tmp.c_str()));
  if (!d) return ErrnoStatus("opendir " + tmp, errno);
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(tmp + "/" + name);
  }
  uint64_t removed = 0;
  for (const std::string& path : names) {
    if (::unlink(path.c_str()) == 0) ++removed;
  }
  return removed;
}

}  // namespace refuge
