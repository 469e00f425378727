#include "node/block_list.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "common/file_lock.h"
#include "common/file_util.h"
#include "common/limits.h"
#include "crypto/canonical_json.h"
#include "crypto/sha256.h"

namespace refuge {

namespace {

constexpr std::string_view kActionBlock = "block";
constexpr std::string_view kActionUnblock = "unblock";
const std::string kZeroHash(64, '0');
// Problems named one by one in chain_error(); the rest are only counted.
constexpr uint64_t kMaxProblemsNamed = 1;

bool HasControlCharacter(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

std::string Describe(std::string_view site_id, std::string_view path) {
  return path.empty() ? std::string(site_id) + " (the whole site)"
                      : std::string(site_id) + "/" + std::string(path);
}

std::string AuditDir(const std::string& home_path) { return home_path + "/audit"; }

// The entry's line (canonical JSON, no newline), checked to read back as itself.
Result<std::string> EncodeEntry(uint64_t seq, int64_t time, std::string_view action,
                                const Block& block, const std::string& prev) {
  Json entry{{"seq", seq},
             {"time", time},
             {"action", std::string(action)},
             {"site", block.site_id},
             {"path", block.path},
             {"reason", block.reason},
             {"blocked_by", block.blocked_by},
             {"prev", prev}};
  REFUGE_ASSIGN_OR_RETURN(std::string line, EncodeCanonical(entry));
  // Invalid UTF-8 in the reason would make the log unreadable: refuse it now.
  auto parsed = ParseJson(line);
  if (!parsed.ok()) return InvalidArgument("the reason or path is not valid UTF-8 text");
  if (line.size() > kMaxBlockLogLineBytes) {
    return TooLarge("the audit log entry would be longer than " +
                    std::to_string(kMaxBlockLogLineBytes) + " bytes");
  }
  return line;
}

}  // namespace

bool BlockCovers(std::string_view block_path, std::string_view path) {
  if (block_path.empty()) return true;
  if (block_path.back() == '/') return path.substr(0, block_path.size()) == block_path;
  return path == block_path;
}

Status ValidateBlockPath(std::string_view path) {
  if (path.empty()) return Status::Ok();
  if (path.size() > limits::kMaxTargetPathBytes) {
    return InvalidArgument("the path is longer than " + std::to_string(limits::kMaxTargetPathBytes) +
                           " bytes");
  }
  if (path.front() == '/') return InvalidArgument("the path must not start with '/'");
  if (HasControlCharacter(path)) return InvalidArgument("the path holds a control character");
  size_t start = 0;
  for (;;) {
    size_t slash = path.find('/', start);
    std::string_view segment = path.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (slash == std::string_view::npos) {
      if (segment == "." || segment == "..") return InvalidArgument("the path holds a '.' or '..' segment");
      return Status::Ok();  // an empty last segment: a directory prefix "dir/"
    }
    if (segment.empty()) return InvalidArgument("the path holds an empty segment ('//')");
    if (segment == "." || segment == "..") return InvalidArgument("the path holds a '.' or '..' segment");
    start = slash + 1;
  }
}

Status ValidateBlockReason(std::string_view reason) {
  if (reason.empty()) return InvalidArgument("a reason is required (--reason TEXT)");
  if (reason.size() > kMaxBlockReasonBytes) {
    return InvalidArgument("the reason is longer than " + std::to_string(kMaxBlockReasonBytes) +
                           " bytes; give a reference to the order rather than its text");
  }
  if (HasControlCharacter(reason)) {
    return InvalidArgument("the reason holds a control character (a newline?); write it on one line");
  }
  return Status::Ok();
}

Status ValidateBlockedBy(std::string_view uri) {
  if (uri.empty()) return InvalidArgument("the blocking entity's URI is empty");
  if (uri.size() > kMaxBlockedByBytes) {
    return InvalidArgument("the --blocked-by URI is longer than " + std::to_string(kMaxBlockedByBytes) +
                           " bytes");
  }
  // An absolute URI (RFC 3986): scheme ":" then characters allowed in a URI. Nothing that
  // could end the Link header's <...> or break the response head.
  size_t colon = uri.find(':');
  bool scheme_ok = colon != std::string_view::npos && colon > 0 &&
                   ((uri[0] >= 'a' && uri[0] <= 'z') || (uri[0] >= 'A' && uri[0] <= 'Z'));
  for (size_t i = 0; scheme_ok && i < colon; ++i) {
    char c = uri[i];
    scheme_ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '+' || c == '-' || c == '.';
  }
  if (!scheme_ok || colon + 1 == uri.size()) {
    return InvalidArgument("--blocked-by must be an absolute URI (https://..., mailto:..., urn:...)");
  }
  for (unsigned char c : uri) {
    if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == '{' || c == '}' ||
        c == '|' || c == '\\' || c == '^' || c == '`') {
      return InvalidArgument("--blocked-by holds a character a URI cannot hold (percent-encode it)");
    }
  }
  return Status::Ok();
}

Result<BlockTarget> ParseBlockTarget(std::string_view text) {
  BlockTarget target;
  size_t slash = text.find('/');
  target.site_id = std::string(text.substr(0, slash));
  if (!IsSiteId(target.site_id)) {
    return InvalidArgument("not a site ID: '" + target.site_id +
                           "' (expected SITE_ID or SITE_ID/PATH, a site ID is 52 base32 characters)");
  }
  if (slash != std::string_view::npos) target.path = std::string(text.substr(slash + 1));
  REFUGE_RETURN_IF_ERROR(ValidateBlockPath(target.path));
  return target;
}

// ---------------------------------------------------------------------------------------
// Loading

void BlockList::Problem(uint64_t line, const std::string& message) {
  if (problems_ < kMaxProblemsNamed) {
    chain_error_ = "line " + std::to_string(line) + ": " + message;
  }
  ++problems_;
}

void BlockList::ApplyLine(uint64_t n, std::string_view line, const std::string& expected_prev) {
  auto parsed = ParseJson(line);
  if (!parsed.ok()) {
    Problem(n, "not valid JSON (" + parsed.status().message() + "); its entry is ignored");
    return;
  }
  const Json& j = *parsed;
  auto encoded = EncodeCanonical(j);
  if (!j.is_object() || !encoded.ok() || *encoded != line) {
    Problem(n, "not a canonical JSON object as refuge writes them; its entry is ignored");
    return;
  }
  const char* const kFields[] = {"action", "blocked_by", "path", "prev", "reason", "seq", "site", "time"};
  bool fields_ok = j.size() == std::size(kFields);
  for (const char* f : kFields) fields_ok = fields_ok && j.contains(f);
  fields_ok = fields_ok && j["action"].is_string() && j["blocked_by"].is_string() &&
              j["path"].is_string() && j["prev"].is_string() && j["reason"].is_string() &&
              j["site"].is_string() && j["seq"].is_number_integer() && j["time"].is_number_integer();
  if (!fields_ok) {
    Problem(n, "the entry's fields are not those of an audit entry; it is ignored");
    return;
  }
  // The chain: a mismatch here is reported, but the entry still applies (fail safe).
  if (!j["seq"].is_number_unsigned() || j["seq"].get<uint64_t>() != n) {
    Problem(n, "seq is " + j["seq"].dump() + ", expected " + std::to_string(n) +
                   " (a line before it was inserted or removed)");
  } else if (j["prev"].get_ref<const std::string&>() != expected_prev) {
    Problem(n, "prev does not match the SHA-256 of line " + std::to_string(n - 1) +
                   " (that line, or this one, was edited)");
  }
  Block block;
  const std::string& action = j["action"].get_ref<const std::string&>();
  block.site_id = j["site"].get<std::string>();
  block.path = j["path"].get<std::string>();
  block.reason = j["reason"].get<std::string>();
  block.blocked_by = j["blocked_by"].get<std::string>();
  block.time = j["time"].get<int64_t>();
  block.seq = n;
  if ((action != kActionBlock && action != kActionUnblock) || !IsSiteId(block.site_id) ||
      !ValidateBlockPath(block.path).ok()) {
    Problem(n, "the entry names no valid action, site and path; it is ignored");
    return;
  }
  if (!ValidateBlockedBy(block.blocked_by).ok()) block.blocked_by = std::string(kDefaultBlockedBy);
  if (!ValidateBlockReason(block.reason).ok()) block.reason = "(the reason recorded is unreadable)";
  auto same = [&](const Block& b) { return b.site_id == block.site_id && b.path == block.path; };
  auto it = std::find_if(active_.begin(), active_.end(), same);
  if (action == kActionBlock) {
    if (it == active_.end()) active_.push_back(std::move(block));  // a repeat keeps the first
    return;
  }
  if (it == active_.end()) {
    Problem(n, "unblocks " + Describe(block.site_id, block.path) + ", which is not blocked");
    return;
  }
  active_.erase(it);
}

void BlockList::BuildIndex() {
  sites_.clear();
  for (size_t i = 0; i < active_.size(); ++i) {
    const Block& b = active_[i];
    SiteIndex& site = sites_[b.site_id];
    if (b.path.empty()) {
      site.whole = i;
    } else if (b.path.back() == '/') {
      site.prefixes.emplace(b.path, i);
    } else {
      site.exact.emplace(b.path, i);
    }
  }
}

Result<BlockList> BlockList::Parse(std::string_view bytes) {
  if (bytes.size() > kMaxBlockLogBytes) {
    return TooLarge("the audit log is larger than " + std::to_string(kMaxBlockLogBytes) + " bytes");
  }
  BlockList list;
  std::string prev = kZeroHash;
  size_t start = 0;
  uint64_t n = 0;
  while (start < bytes.size()) {
    size_t newline = bytes.find('\n', start);
    if (newline == std::string_view::npos) {
      list.tail_warning_ = "line " + std::to_string(n + 1) +
                           " is incomplete (an append was interrupted); it is ignored";
      break;
    }
    ++n;
    if (n > kMaxBlockLogEntries) {
      return TooLarge("the audit log has more than " + std::to_string(kMaxBlockLogEntries) + " entries");
    }
    std::string_view line = bytes.substr(start, newline - start);
    if (line.size() > kMaxBlockLogLineBytes) {
      list.Problem(n, "longer than " + std::to_string(kMaxBlockLogLineBytes) + " bytes; it is ignored");
    } else {
      list.ApplyLine(n, line, prev);
    }
    prev = Sha256Hex(line);
    start = newline + 1;
  }
  list.entries_ = n;
  list.head_hash_ = prev;
  list.complete_bytes_ = start;
  if (list.problems_ > kMaxProblemsNamed) {
    list.chain_error_ += " (" + std::to_string(list.problems_) + " problems in all)";
  }
  list.BuildIndex();
  return list;
}

Result<BlockList> BlockList::Load(const std::string& home_path) {
  const std::string path = BlockLogPath(home_path);
  auto bytes = ReadFileBounded(path, kMaxBlockLogBytes);
  if (!bytes.ok()) {
    if (bytes.status().code() == StatusCode::kNotFound) return Parse("");
    return bytes.status();
  }
  auto list = Parse(*bytes);
  if (!list.ok()) return list.status().Annotate(path);
  return list;
}

const Block* BlockList::Find(std::string_view site_id, std::string_view path) const {
  if (sites_.empty()) return nullptr;
  auto it = sites_.find(site_id);
  if (it == sites_.end()) return nullptr;
  const SiteIndex& site = it->second;
  if (site.whole != kNone) return &active_[site.whole];
  if (!site.exact.empty()) {
    auto e = site.exact.find(path);
    if (e != site.exact.end()) return &active_[e->second];
  }
  if (!site.prefixes.empty()) {
    for (size_t slash = path.find('/'); slash != std::string_view::npos;
         slash = path.find('/', slash + 1)) {
      auto p = site.prefixes.find(path.substr(0, slash + 1));
      if (p != site.prefixes.end()) return &active_[p->second];
    }
  }
  return nullptr;
}

const Block* BlockList::FindSite(std::string_view site_id) const {
  if (sites_.empty()) return nullptr;
  auto it = sites_.find(site_id);
  if (it == sites_.end() || it->second.whole == kNone) return nullptr;
  return &active_[it->second.whole];
}

bool BlockList::HasBlocks(std::string_view site_id) const {
  return !sites_.empty() && sites_.find(site_id) != sites_.end();
}

const Block* BlockList::FindExact(std::string_view site_id, std::string_view path) const {
  for (const Block& b : active_) {
    if (b.site_id == site_id && b.path == path) return &b;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------
// Appending

std::string BlockLogPath(const std::string& home_path) { return AuditDir(home_path) + "/blocks.log"; }

Result<std::string> BlockLogFingerprint(const std::string& home_path) {
  struct stat st {};
  if (::stat(BlockLogPath(home_path).c_str(), &st) != 0) {
    if (errno == ENOENT) return std::string("none");
    return ErrnoStatus("stat " + BlockLogPath(home_path), errno);
  }
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
         std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec) + ":" + std::to_string(st.st_ctim.tv_sec) + "." +
         std::to_string(st.st_ctim.tv_nsec);
}

namespace {

// Appends one entry under the log's lock. `decide` sees the current list and returns the
// block to record (or an error); the entry is written with `action`.
Result<BlockAppend> Append(const std::string& home_path, std::string_view action, const Clock& clock,
                           const std::function<Result<Block>(const BlockList&)>& decide) {
  const std::string dir = AuditDir(home_path);
  const std::string path = BlockLogPath(home_path);
  REFUGE_RETURN_IF_ERROR(MakeDirectories(dir, 0700));
  REFUGE_RETURN_IF_ERROR(MakeDirectories(home_path + "/locks", 0700));
  REFUGE_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(home_path + "/locks/blocks.lock",
                                                           FileLock::Mode::kExclusive));
  const bool existed = PathExists(path);
  REFUGE_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDWR | O_APPEND | O_CREAT, 0600));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("stat " + path, errno);
  if (static_cast<uint64_t>(st.st_size) > kMaxBlockLogBytes) {
    return TooLarge(path + ": the audit log is larger than " + std::to_string(kMaxBlockLogBytes) + " bytes");
  }
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < bytes.size()) {
    ssize_t n = ::pread(fd.get(), bytes.data() + got, bytes.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("read " + path, errno);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  bytes.resize(got);
  auto parsed = BlockList::Parse(bytes);
  if (!parsed.ok()) return parsed.status().Annotate(path);
  const BlockList& list = *parsed;
  if (list.entries() >= kMaxBlockLogEntries) {
    return TooLarge(path + ": the audit log holds its maximum of " +
                    std::to_string(kMaxBlockLogEntries) + " entries");
  }
  REFUGE_ASSIGN_OR_RETURN(Block block, decide(list));

  BlockAppend result;
  result.seq = list.entries() + 1;
  result.previous_chain_error = list.chain_error();
  block.time = clock.NowSeconds();
  REFUGE_ASSIGN_OR_RETURN(std::string line, EncodeEntry(result.seq, block.time, action, block, list.head_hash()));
  if (list.complete_bytes() + line.size() + 1 > kMaxBlockLogBytes) {
    return TooLarge(path + ": the audit log would grow beyond " + std::to_string(kMaxBlockLogBytes) + " bytes");
  }
  if (list.complete_bytes() != got) {
    // An append cut by a crash left part of a line: it was never a complete entry, and the
    // new one must start on a line of its own.
    if (::ftruncate(fd.get(), static_cast<off_t>(list.complete_bytes())) != 0) {
      return ErrnoStatus("truncate the incomplete last line of " + path, errno);
    }
  }
  line.push_back('\n');
  REFUGE_RETURN_IF_ERROR(WriteAll(fd.get(), line.data(), line.size(), path));
  if (::fsync(fd.get()) != 0) return ErrnoStatus("fsync " + path, errno);
  if (!existed) REFUGE_RETURN_IF_ERROR(FsyncDirectory(dir));
  line.pop_back();
  result.head_hash = Sha256Hex(line);
  if (action == kActionBlock) block.seq = result.seq;
  result.block = std::move(block);
  return result;
}

}  // namespace

Result<BlockAppend> AppendBlock(const std::string& home_path, const Block& request, const Clock& clock) {
  Block block = request;
  if (block.blocked_by.empty()) block.blocked_by = std::string(kDefaultBlockedBy);
  if (!IsSiteId(block.site_id)) return InvalidArgument("not a site ID: '" + block.site_id + "'");
  REFUGE_RETURN_IF_ERROR(ValidateBlockPath(block.path));
  REFUGE_RETURN_IF_ERROR(ValidateBlockReason(block.reason));
  REFUGE_RETURN_IF_ERROR(ValidateBlockedBy(block.blocked_by));
  return Append(home_path, kActionBlock, clock, [&](const BlockList& list) -> Result<Block> {
    if (const Block* existing = list.FindExact(block.site_id, block.path)) {
      return AlreadyExists(Describe(block.site_id, block.path) + " is already blocked (audit entry " +
                           std::to_string(existing->seq) + ")");
    }
    return block;
  });
}

Result<BlockAppend> AppendUnblock(const std::string& home_path, const std::string& site_id,
                                  const std::string& path, const std::string& reason,
                                  const Clock& clock) {
  if (!IsSiteId(site_id)) return InvalidArgument("not a site ID: '" + site_id + "'");
  REFUGE_RETURN_IF_ERROR(ValidateBlockPath(path));
  REFUGE_RETURN_IF_ERROR(ValidateBlockReason(reason));
  return Append(home_path, kActionUnblock, clock, [&](const BlockList& list) -> Result<Block> {
    const Block* existing = list.FindExact(site_id, path);
    if (existing == nullptr) {
      std::string others;
      for (const Block& b : list.active()) {
        if (b.site_id != site_id) continue;
        others += others.empty() ? "" : ", ";
        others += b.path.empty() ? "(the whole site)" : b.path;
      }
      return NotFound(Describe(site_id, path) + " is not blocked" +
                      (others.empty() ? std::string(" (this site has no block)")
                                      : "; blocks of this site: " + others));
    }
    Block lifted = *existing;
    lifted.reason = reason;
    return lifted;
  });
}

// ---------------------------------------------------------------------------------------
// Objects of blocked files

Result<BlockedObjectMap> BlockedObjects(NodeHome& home, const BlockList& blocks,
                                        bool include_site_metadata) {
  BlockedObjectMap blocked;
  if (blocks.empty()) return blocked;
  std::set<std::string> unblocked;
  REFUGE_ASSIGN_OR_RETURN(std::vector<SiteRow> sites, home.db().ListSites());
  for (const SiteRow& site : sites) {
    const bool has_blocks = blocks.HasBlocks(site.site_id);
    const Block* whole = blocks.FindSite(site.site_id);
    REFUGE_ASSIGN_OR_RETURN(std::vector<MetadataRow> metadata, home.db().ListMetadata(site.site_id));
    for (const MetadataRow& m : metadata) {
      if (include_site_metadata && whole != nullptr) {
        blocked.emplace(m.sha256, whole);
      } else {
        unblocked.insert(m.sha256);
      }
    }
    REFUGE_ASSIGN_OR_RETURN(std::vector<VersionRow> versions, home.db().ListVersions(site.site_id));
    for (const VersionRow& v : versions) {
      REFUGE_ASSIGN_OR_RETURN(std::vector<FileRow> files, home.db().VersionFiles(site.site_id, v.version));
      for (const FileRow& f : files) {
        const Block* b = has_blocks ? blocks.Find(site.site_id, f.path) : nullptr;
        if (b != nullptr) {
          blocked.emplace(f.sha256, b);
        } else {
          unblocked.insert(f.sha256);
        }
      }
    }
  }
  for (const std::string& sha : unblocked) blocked.erase(sha);
  return blocked;
}

Result<BlockPurge> RemoveBlockedObjects(NodeHome& home, const BlockList& blocks) {
  BlockPurge result;
  if (blocks.empty()) return result;
  REFUGE_ASSIGN_OR_RETURN(FileLock lock, home.LockStore(FileLock::Mode::kExclusive));
  REFUGE_ASSIGN_OR_RETURN(BlockedObjectMap objects, BlockedObjects(home, blocks, false));
  ObjectStore& store = home.store();
  for (const auto& [sha, block] : objects) {
    ++result.objects_blocked;
    struct stat st {};
    if (::stat(store.PathFor(sha).c_str(), &st) != 0) continue;  // not stored (any more)
    REFUGE_RETURN_IF_ERROR(store.Remove(sha));
    ++result.objects_removed;
    result.bytes_freed += static_cast<uint64_t>(st.st_size);
  }
  return result;
}

}  // namespace refuge
