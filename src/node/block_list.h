// BlockList: what this node refuses to serve for legal reasons (HTTP 451, RFC 7725), read
// from its tamper-evident audit log.
//
// A node operator who receives a court order blocks one item on their own node only:
// `refuge block SITE_ID[/PATH]`. The audit log is the source of truth; nothing else records
// blocks. It lives at <home>/audit/blocks.log, one canonical-JSON line per entry:
//
//   {"action":"block","blocked_by":"urn:refuge:node-operator","path":"docs/a.pdf",
//    "prev":"<hex SHA-256 of the previous line's bytes, or 64 zeros>","reason":"...",
//    "seq":3,"site":"<site id>","time":1700000000}
//
// "action" is "block" or "unblock"; "path" is "" (the whole site), one target path, or a
// directory prefix ending in "/". "seq" counts lines from 1. Each line names the hash of the
// one before it, so an edit, insertion or deletion inside the log breaks the chain at the
// next line; the hash of the last line (the *head*) commits to the whole history, and an
// operator who records it elsewhere can later prove that nothing was rewritten (a chain
// cannot, by itself, reveal lines cut from its end). docs/SERVE.md describes the format.
//
// Loading verifies the chain and applies the entries in order. A broken chain is reported
// (chain_ok() false, chain_error() says where) but every entry that still parses applies:
// the node keeps blocking what it can read (fail safe). An incomplete last line (an append
// cut by a crash) is ignored and reported in tail_warning(); the next append drops it.
//
// Appends (AppendBlock, AppendUnblock) take <home>/locks/blocks.lock exclusively, write one
// line with O_APPEND and fsync it before they return.
//
// Thread-safety: a loaded BlockList is immutable (share it as std::shared_ptr<const ...>);
// the free functions may run in several processes at once (they lock).
#ifndef REFUGE_NODE_BLOCK_LIST_H_
#define REFUGE_NODE_BLOCK_LIST_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "node/node_home.h"

namespace refuge {

// --- Bounds on the audit log (it is a file anyone with access to the home could edit) --------
// Entries in one log: 100,000 blocks and removals is far beyond any node's legal mail, and
// loads in well under a second.
inline constexpr uint64_t kMaxBlockLogEntries = 100'000;
// One line: a 2 KiB path and a 2 KiB reason, each with every byte escaped, plus the rest.
inline constexpr uint64_t kMaxBlockLogLineBytes = 16 * 1024;
// The whole file (typical lines are a few hundred bytes).
inline constexpr uint64_t kMaxBlockLogBytes = 64 * 1024 * 1024;
// The reason shown to readers: a reference to the order, not the order itself.
inline constexpr uint64_t kMaxBlockReasonBytes = 2048;
// The URI of the blocking entity (the 451's Link header: it must fit a response head).
inline constexpr uint64_t kMaxBlockedByBytes = 512;

// Who implements a block when `refuge block` is not told (--blocked-by): the node's operator.
// RFC 7725 asks for a URI identifying the entity implementing the block; a node has no URL of
// its own to give, so operators should pass their contact URL.
inline constexpr std::string_view kDefaultBlockedBy = "urn:refuge:node-operator";

struct Block {
  std::string site_id;
  std::string path;        // "" the whole site; "dir/" a directory prefix; else a target path
  std::string reason;      // shown to readers on the 451 page
  std::string blocked_by;  // URI of the entity implementing the block (the Link header)
  int64_t time = 0;        // when the block was added, seconds since the epoch
  uint64_t seq = 0;        // the audit log entry that added it
};

// Does a block of `block_path` cover target `path`? ("" covers everything; "d/" covers
// every path under d/; anything else covers itself.)
bool BlockCovers(std::string_view block_path, std::string_view path);

// "SITE_ID" or "SITE_ID/PATH" ("SITE_ID/" is the whole site), checked (kInvalidArgument).
struct BlockTarget {
  std::string site_id;
  std::string path;
};
Result<BlockTarget> ParseBlockTarget(std::string_view text);

// Checks one field as an entry would store it (kInvalidArgument naming the problem).
Status ValidateBlockPath(std::string_view path);
Status ValidateBlockReason(std::string_view reason);
Status ValidateBlockedBy(std::string_view uri);

class BlockList {
 public:
  // Loads <home_path>/audit/blocks.log (no file: no blocks). Fails only when the file cannot
  // be read or exceeds the bounds above; a broken chain is a successful load.
  static Result<BlockList> Load(const std::string& home_path);
  // Loads a log from its bytes (for tests and for the appenders).
  static Result<BlockList> Parse(std::string_view log_bytes);

  // The block that applies to `path` of `site_id`: a whole-site block, a block of exactly
  // `path`, or a block of a directory holding it. Null if none. Does not allocate.
  const Block* Find(std::string_view site_id, std::string_view path) const;
  // The whole-site block of `site_id`, or null.
  const Block* FindSite(std::string_view site_id) const;
  bool SiteBlocked(std::string_view site_id) const { return FindSite(site_id) != nullptr; }
  // Is any block (whole site or path) active for `site_id`?
  bool HasBlocks(std::string_view site_id) const;
  // The block of exactly (site_id, path), or null.
  const Block* FindExact(std::string_view site_id, std::string_view path) const;

  // Active blocks, in the order they were added.
  const std::vector<Block>& active() const { return active_; }
  bool empty() const { return active_.empty(); }

  // Complete lines in the log, and the hex SHA-256 of the last one (64 zeros when empty).
  uint64_t entries() const { return entries_; }
  const std::string& head_hash() const { return head_hash_; }
  // Did every line verify (canonical JSON, fields, seq, prev)? If not, chain_error() names
  // the first problem ("line 4: ...") and how many there are.
  bool chain_ok() const { return problems_ == 0; }
  const std::string& chain_error() const { return chain_error_; }
  // Non-empty when the last line is incomplete (ignored).
  const std::string& tail_warning() const { return tail_warning_; }
  // Bytes of the log up to the end of its last complete line.
  uint64_t complete_bytes() const { return complete_bytes_; }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Index = std::unordered_map<std::string, size_t, Hash, std::equal_to<>>;
  struct SiteIndex {
    size_t whole = kNone;
    Index exact;     // target path -> index in active_
    Index prefixes;  // "dir/" -> index in active_
  };
  static constexpr size_t kNone = static_cast<size_t>(-1);

  void Problem(uint64_t line, const std::string& message);
  void ApplyLine(uint64_t line_number, std::string_view line, const std::string& expected_prev);
  void BuildIndex();

  std::vector<Block> active_;
  std::unordered_map<std::string, SiteIndex, Hash, std::equal_to<>> sites_;
  uint64_t entries_ = 0;
  std::string head_hash_;
  uint64_t problems_ = 0;
  std::string chain_error_;
  std::string tail_warning_;
  uint64_t complete_bytes_ = 0;
};

// <home>/audit/blocks.log
std::string BlockLogPath(const std::string& home_path);

// A cheap fingerprint of the log (device, inode, size, modification and change times), or
// "none" when there is no log: a server reloads its blocks when this changes.
Result<std::string> BlockLogFingerprint(const std::string& home_path);

// What an append wrote.
struct BlockAppend {
  Block block;            // the block added, or the one removed
  uint64_t seq = 0;       // the new entry
  std::string head_hash;  // the log's new head (the hash of the new entry's line)
  std::string previous_chain_error;  // the log's chain was already broken (still appended)
};

// Appends a "block" entry for (site_id, path) (checked as above; an empty blocked_by is
// kDefaultBlockedBy). kAlreadyExists if exactly that is already blocked.
Result<BlockAppend> AppendBlock(const std::string& home_path, const Block& block, const Clock& clock);
// Appends an "unblock" entry lifting the block of exactly (site_id, path) with `reason`.
// kNotFound if there is none.
Result<BlockAppend> AppendUnblock(const std::string& home_path, const std::string& site_id,
                                  const std::string& path, const std::string& reason,
                                  const Clock& clock);

// Objects that only blocked files use: named by a blocked (site, path) of some retained
// version of a site this node holds, and by no unblocked file of any site nor any metadata.
// With `include_site_metadata`, the metadata objects of wholly blocked sites count as
// blocked too (what the server answers 451 for; they are never removed from the store).
// Each maps to a block that covers it.
using BlockedObjectMap = std::map<std::string, const Block*, std::less<>>;
Result<BlockedObjectMap> BlockedObjects(NodeHome& home, const BlockList& blocks,
                                        bool include_site_metadata);

struct BlockPurge {
  uint64_t objects_blocked = 0;  // objects only blocked files use
  uint64_t objects_removed = 0;  // of those, removed from the store now
  uint64_t bytes_freed = 0;
};

// "Stops storing": removes from the store every object BlockedObjects(home, blocks, false)
// names, holding the store lock exclusively (like gc: no publish or sync is between staging
// and committing meanwhile). The node database keeps its rows: the signed metadata still
// names the files, the node just does not hold their bytes (refuge verify says "blocked").
Result<BlockPurge> RemoveBlockedObjects(NodeHome& home, const BlockList& blocks);

}  // namespace refuge

#endif  // REFUGE_NODE_BLOCK_LIST_H_
