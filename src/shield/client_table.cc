#include "shield/client_table.h"

#include <algorithm>
#include <bit>

namespace refuge::shield {

size_t ClientTable::IndexSizeFor(size_t capacity) {
  // One index slot per entry (rounded up to a power of two): chains average at most one.
  return std::bit_ceil(std::max<size_t>(capacity, 1));
}

size_t ClientTable::MemoryBytesFor(size_t capacity) {
  capacity = std::clamp<size_t>(capacity, 1, kMaxCapacity);
  return (capacity + 1) * sizeof(Entry) + IndexSizeFor(capacity) * sizeof(uint32_t);
}

ClientTable::ClientTable(size_t capacity)
    : capacity_(std::clamp<size_t>(capacity, 1, kMaxCapacity)),
      index_mask_(IndexSizeFor(capacity_) - 1),
      index_(IndexSizeFor(capacity_), 0) {
  entries_.reserve(capacity_ + 1);
  entries_.emplace_back();  // slot 0: "none"
}

uint32_t ClientTable::Find(const ClientKey& key, uint64_t hash) const {
  for (uint32_t s = index_[hash & index_mask_]; s != 0; s = entries_[s].chain_next) {
    if (entries_[s].key == key) return s;
  }
  return 0;
}

const ClientTable::Entry* ClientTable::Peek(const ClientKey& key) const {
  uint32_t s = Find(key, key.Hash());
  return s == 0 ? nullptr : &entries_[s];
}

void ClientTable::Unlink(uint32_t slot) {
  Entry& e = entries_[slot];
  if (e.lru_prev != 0) {
    entries_[e.lru_prev].lru_next = e.lru_next;
  } else {
    head_ = e.lru_next;
  }
  if (e.lru_next != 0) {
    entries_[e.lru_next].lru_prev = e.lru_prev;
  } else {
    tail_ = e.lru_prev;
  }
  e.lru_prev = e.lru_next = 0;
}

void ClientTable::PushFront(uint32_t slot) {
  Entry& e = entries_[slot];
  e.lru_prev = 0;
  e.lru_next = head_;
  if (head_ != 0) entries_[head_].lru_prev = slot;
  head_ = slot;
  if (tail_ == 0) tail_ = slot;
}

void ClientTable::RemoveFromChain(uint32_t slot) {
  uint32_t* link = &index_[entries_[slot].key.Hash() & index_mask_];
  while (*link != slot) link = &entries_[*link].chain_next;
  *link = entries_[slot].chain_next;
}

ClientTable::Entry& ClientTable::Get(const ClientKey& key, bool* created) {
  const uint64_t hash = key.Hash();
  uint32_t slot = Find(key, hash);
  if (slot != 0) {
    if (slot != head_) {
      Unlink(slot);
      PushFront(slot);
    }
    *created = false;
    return entries_[slot];
  }
  if (size_ < capacity_) {
    entries_.emplace_back();
    slot = static_cast<uint32_t>(entries_.size() - 1);
    ++size_;
  } else {
    slot = tail_;  // the least recently used client is forgotten
    Unlink(slot);
    RemoveFromChain(slot);
    ++evictions_;
  }
  Entry& e = entries_[slot];
  e = Entry();
  e.key = key;
  uint32_t& bucket = index_[hash & index_mask_];
  e.chain_next = bucket;
  bucket = slot;
  PushFront(slot);
  *created = true;
  return e;
}

}  // namespace refuge::shield
