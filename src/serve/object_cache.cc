#include "serve/object_cache.h"

namespace refuge::serve {

Result<std::shared_ptr<const CachedObject>> ObjectCache::Get(const ObjectStore& store,
                                                             std::string_view sha256,
                                                             uint64_t length) {
  auto it = index_.find(sha256);
  if (it != index_.end()) {
    ++hits_;
    lru_.splice(lru_.begin(), lru_, it->second);
    return *it->second;
  }
  ++misses_;
  // Read() checks that the bytes hash to the name.
  REFUGE_ASSIGN_OR_RETURN(std::string bytes, store.Read(sha256, max_object_bytes_));
  if (bytes.size() != length) {
    return Corruption("object " + std::string(sha256) + " has " + std::to_string(bytes.size()) +
                      " bytes, the signed length is " + std::to_string(length));
  }
  auto object = std::make_shared<CachedObject>();
  object->sha256 = std::string(sha256);
  object->bytes = std::move(bytes);
  if (object->bytes.size() > capacity_bytes_) return std::shared_ptr<const CachedObject>(object);
  EvictUntilFits(object->bytes.size());
  lru_.push_front(object);
  index_.emplace(object->sha256, lru_.begin());
  size_bytes_ += object->bytes.size();
  return std::shared_ptr<const CachedObject>(object);
}

std::shared_ptr<const CachedObject> ObjectCache::Lookup(std::string_view sha256) {
  auto it = index_.find(sha256);
  if (it == index_.end()) return nullptr;
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return *it->second;
}

void ObjectCache::EvictUntilFits(uint64_t incoming) {
  while (!lru_.empty() && size_bytes_ + incoming > capacity_bytes_) {
    const auto& victim = lru_.back();
    size_bytes_ -= victim->bytes.size();
    index_.erase(victim->sha256);
    lru_.pop_back();
  }
}

}  // namespace refuge::serve
