// ClientTable: what the shield remembers about each client, in a fixed amount of memory.
//
// A hash table of at most `capacity` entries with least-recently-used eviction: when it is
// full, a new client takes the place of the one not seen for the longest time. Memory is
// allocated for the capacity up front (the entry array is only reserved: pages the table
// never reaches cost nothing) and never grows, whatever the number of attacking addresses:
// kEntryBytes per entry plus 4 bytes of index, 60 bytes per client in all (a million
// clients: 60 MiB; the default 262,144: 15 MiB). Entries and the index are 32-bit slot
// numbers, so the LRU list and hash chains cost no pointers.
//
// Thread-safety: none; the shield shards its tables and locks each shard.
#ifndef REFUGE_SHIELD_CLIENT_TABLE_H_
#define REFUGE_SHIELD_CLIENT_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "shield/client_key.h"
#include "shield/token_bucket.h"

namespace refuge::shield {

class ClientTable {
 public:
  struct Entry {
    ClientKey key;                // 17 bytes
    uint8_t flags = 0;            // free for the caller
    uint16_t strikes = 0;         // requests refused since the bucket was last full
    uint32_t banned_until_s = 0;  // monotonic seconds; 0: never banned
    uint32_t cleared_until_s = 0;  // monotonic seconds a clearance was last shown valid to
    int64_t last_ms = 0;          // the token bucket (see token_bucket.h)
    uint32_t tokens = 0;
    uint32_t lru_prev = 0;        // slots; 0 is "none"
    uint32_t lru_next = 0;
    uint32_t chain_next = 0;

    BucketState bucket() const { return BucketState{last_ms, tokens}; }
    void set_bucket(const BucketState& b) {
      last_ms = b.last_ms;
      tokens = b.tokens;
    }
  };
  static constexpr size_t kEntryBytes = sizeof(Entry);
  // The largest capacity (slots are 32-bit; 2^26 entries is already 3.75 GiB).
  static constexpr size_t kMaxCapacity = size_t{1} << 26;

  // `capacity` is at least 1 and at most kMaxCapacity (clamped).
  explicit ClientTable(size_t capacity);
  ClientTable(const ClientTable&) = delete;
  ClientTable& operator=(const ClientTable&) = delete;

  // The entry of `key`, now the most recently used. An absent key gets a new entry (all
  // fields zero but the key) and *created is set; when the table is full, the least
  // recently used entry is forgotten to make room. The reference is valid until the next
  // call to Get.
  Entry& Get(const ClientKey& key, bool* created);
  // The entry of `key` without making it recently used; null if absent.
  const Entry* Peek(const ClientKey& key) const;

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  uint64_t evictions() const { return evictions_; }
  // Bytes the table may use at most (entries and index), and for a given capacity.
  size_t MemoryBytes() const { return MemoryBytesFor(capacity_); }
  static size_t MemoryBytesFor(size_t capacity);

  // Calls f(const Entry&) for every entry, most recently used first.
  template <typename F>
  void ForEach(F&& f) const {
    for (uint32_t s = head_; s != 0; s = entries_[s].lru_next) f(entries_[s]);
  }

 private:
  static size_t IndexSizeFor(size_t capacity);
  uint32_t Find(const ClientKey& key, uint64_t hash) const;
  void Unlink(uint32_t slot);
  void PushFront(uint32_t slot);
  void RemoveFromChain(uint32_t slot);

  const size_t capacity_;
  const uint64_t index_mask_;
  std::vector<Entry> entries_;   // slot 0 unused
  std::vector<uint32_t> index_;  // hash -> first slot of the chain
  size_t size_ = 0;
  uint32_t head_ = 0;  // most recently used
  uint32_t tail_ = 0;  // least recently used
  uint64_t evictions_ = 0;
};

}  // namespace refuge::shield

#endif  // REFUGE_SHIELD_CLIENT_TABLE_H_
