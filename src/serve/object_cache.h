// ObjectCache: one event loop's bounded in-memory cache of small objects.
//
// Objects up to `max_object_bytes` are read once from the store, checked against their
// SHA-256 name and length, and kept in memory, least recently used evicted first when the
// total would exceed `capacity_bytes`. A hit costs a hash lookup and a list splice: no heap
// allocation, no system call. Entries are reference-counted so that a response being
// written keeps its bytes alive after eviction.
//
// Each loop has its own cache (the configured budget is split between loops), so there is
// no lock on the hot path, the way nginx workers and h2o threads keep theirs.
//
// Thread-safety: one loop (thread) only.
#ifndef REFUGE_SERVE_OBJECT_CACHE_H_
#define REFUGE_SERVE_OBJECT_CACHE_H_

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"
#include "store/object_store.h"

namespace refuge::serve {

struct CachedObject {
  std::string sha256;
  std::string bytes;
};

class ObjectCache {
 public:
  ObjectCache(uint64_t capacity_bytes, uint64_t max_object_bytes)
      : capacity_bytes_(capacity_bytes), max_object_bytes_(max_object_bytes) {}

  bool Cacheable(uint64_t length) const { return length <= max_object_bytes_; }

  // The object, from memory or read from `store` (and verified) on a miss. kCorruption if
  // the stored bytes do not match the name or `length`; kNotFound if missing.
  Result<std::shared_ptr<const CachedObject>> Get(const ObjectStore& store,
                                                  std::string_view sha256, uint64_t length);

  // The object if it is in memory (a hit), else null; for callers that do not know the
  // length yet.
  std::shared_ptr<const CachedObject> Lookup(std::string_view sha256);

  uint64_t size_bytes() const { return size_bytes_; }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

 private:
  using LruList = std::list<std::shared_ptr<const CachedObject>>;
  void EvictUntilFits(uint64_t incoming);

  const uint64_t capacity_bytes_;
  const uint64_t max_object_bytes_;
  uint64_t size_bytes_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
  LruList lru_;  // most recently used first
  // Keys view the entries' own sha256 strings.
  std::unordered_map<std::string_view, LruList::iterator> index_;
};

}  // namespace refuge::serve

#endif  // REFUGE_SERVE_OBJECT_CACHE_H_
