// ClientTable (shield/client_table.h): the fixed-capacity LRU table of clients. Insert and
// find, Peek leaving the LRU order alone, eviction of exactly the least recently used, the
// bound on size and memory (a million clients in at most 64 MiB), the hash chains after many
// evictions, ForEach's order, and a randomized comparison with a reference LRU model.
#include "shield/client_table.h"

#include <algorithm>
#include <cstdint>
#include <list>
#include <random>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

namespace refuge::shield {
namespace {

// A distinct key per number (an IPv4 address, mapped).
ClientKey Key(uint32_t n, KeyKind kind = KeyKind::kAddress) {
  ClientKey k;
  k.bytes[10] = 0xff;
  k.bytes[11] = 0xff;
  k.bytes[12] = static_cast<uint8_t>(n >> 24);
  k.bytes[13] = static_cast<uint8_t>(n >> 16);
  k.bytes[14] = static_cast<uint8_t>(n >> 8);
  k.bytes[15] = static_cast<uint8_t>(n);
  k.kind = kind;
  return k;
}

ClientTable::Entry& Get(ClientTable& table, const ClientKey& key) {
  bool created = false;
  return table.Get(key, &created);
}

// The keys in ForEach order (most recently used first).
std::vector<ClientKey> Order(const ClientTable& table) {
  std::vector<ClientKey> keys;
  table.ForEach([&](const ClientTable::Entry& e) { keys.push_back(e.key); });
  return keys;
}

TEST(ClientTableTest, GetCreatesAZeroedEntryThenFindsIt) {
  ClientTable table(8);
  bool created = false;
  ClientTable::Entry& e = table.Get(Key(1), &created);
  EXPECT_TRUE(created);
  EXPECT_EQ(e.key, Key(1));
  EXPECT_EQ(e.flags, 0);
  EXPECT_EQ(e.strikes, 0);
  EXPECT_EQ(e.banned_until_s, 0u);
  EXPECT_EQ(e.cleared_until_s, 0u);
  EXPECT_EQ(e.last_ms, 0);
  EXPECT_EQ(e.tokens, 0u);
  e.strikes = 7;
  e.set_bucket(BucketState{1234, 99});

  ClientTable::Entry& again = table.Get(Key(1), &created);
  EXPECT_FALSE(created);
  EXPECT_EQ(&again, &e);
  EXPECT_EQ(again.strikes, 7);
  EXPECT_EQ(again.bucket().last_ms, 1234);
  EXPECT_EQ(again.bucket().tokens, 99u);
  EXPECT_EQ(table.size(), 1u);
}

TEST(ClientTableTest, KindsAreDistinctKeys) {
  ClientTable table(8);
  Get(table, Key(5, KeyKind::kAddress)).strikes = 1;
  Get(table, Key(5, KeyKind::kPrefix)).strikes = 2;
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.Peek(Key(5, KeyKind::kAddress))->strikes, 1);
  EXPECT_EQ(table.Peek(Key(5, KeyKind::kPrefix))->strikes, 2);
  EXPECT_EQ(table.Peek(Key(5, KeyKind::kPeer)), nullptr);
}

TEST(ClientTableTest, PeekFindsWithoutCreating) {
  ClientTable table(8);
  EXPECT_EQ(table.Peek(Key(1)), nullptr);
  EXPECT_EQ(table.size(), 0u);
  Get(table, Key(1)).flags = 3;
  const ClientTable::Entry* e = table.Peek(Key(1));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->flags, 3);
  EXPECT_EQ(table.Peek(Key(2)), nullptr);
  EXPECT_EQ(table.size(), 1u);
}

TEST(ClientTableTest, PeekDoesNotChangeLruOrder) {
  ClientTable table(3);
  Get(table, Key(1));
  Get(table, Key(2));
  Get(table, Key(3));
  ASSERT_NE(table.Peek(Key(1)), nullptr);
  EXPECT_EQ(Order(table), (std::vector<ClientKey>{Key(3), Key(2), Key(1)}));
  Get(table, Key(4));  // evicts 1 (peeked, yet the least recently used)
  EXPECT_EQ(table.Peek(Key(1)), nullptr);
  EXPECT_NE(table.Peek(Key(2)), nullptr);
}

TEST(ClientTableTest, EvictsTheLeastRecentlyUsed) {
  ClientTable table(3);
  Get(table, Key(1));
  Get(table, Key(2));
  Get(table, Key(3));
  Get(table, Key(4));
  EXPECT_EQ(table.Peek(Key(1)), nullptr);
  EXPECT_NE(table.Peek(Key(2)), nullptr);
  EXPECT_NE(table.Peek(Key(3)), nullptr);
  EXPECT_NE(table.Peek(Key(4)), nullptr);
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table.evictions(), 1u);
}

TEST(ClientTableTest, TouchOrderDecidesWhoIsEvicted) {
  ClientTable table(3);
  Get(table, Key(1));
  Get(table, Key(2));
  Get(table, Key(3));
  Get(table, Key(1));  // 2 is now the least recently used
  Get(table, Key(4));
  EXPECT_EQ(table.Peek(Key(2)), nullptr);
  EXPECT_NE(table.Peek(Key(1)), nullptr);
  Get(table, Key(3));  // order: 3, 4, 1
  Get(table, Key(5));  // evicts 1
  EXPECT_EQ(table.Peek(Key(1)), nullptr);
  EXPECT_EQ(Order(table), (std::vector<ClientKey>{Key(5), Key(3), Key(4)}));
}

TEST(ClientTableTest, TouchingTheHeadKeepsTheOrder) {
  ClientTable table(3);
  Get(table, Key(1));
  Get(table, Key(2));
  Get(table, Key(2));
  EXPECT_EQ(Order(table), (std::vector<ClientKey>{Key(2), Key(1)}));
}

TEST(ClientTableTest, TouchingTheTailMovesItToTheFront) {
  ClientTable table(3);
  Get(table, Key(1));
  Get(table, Key(2));
  Get(table, Key(3));
  Get(table, Key(1));
  EXPECT_EQ(Order(table), (std::vector<ClientKey>{Key(1), Key(3), Key(2)}));
  Get(table, Key(9));
  EXPECT_EQ(Order(table), (std::vector<ClientKey>{Key(9), Key(1), Key(3)}));
}

TEST(ClientTableTest, EvictedSlotComesBackZeroed) {
  ClientTable table(1);
  ClientTable::Entry& old_entry = Get(table, Key(1));
  old_entry.strikes = 9;
  old_entry.banned_until_s = 100;
  old_entry.cleared_until_s = 200;
  old_entry.flags = 1;
  old_entry.set_bucket(BucketState{5, 6});
  bool created = false;
  ClientTable::Entry& e = table.Get(Key(2), &created);
  EXPECT_TRUE(created);
  EXPECT_EQ(e.key, Key(2));
  EXPECT_EQ(e.strikes, 0);
  EXPECT_EQ(e.banned_until_s, 0u);
  EXPECT_EQ(e.cleared_until_s, 0u);
  EXPECT_EQ(e.flags, 0);
  EXPECT_EQ(e.last_ms, 0);
  EXPECT_EQ(e.tokens, 0u);
  EXPECT_EQ(table.Peek(Key(1)), nullptr);
  EXPECT_EQ(table.size(), 1u);
}

TEST(ClientTableTest, CapacityOneKeepsOnlyTheLast) {
  ClientTable table(1);
  for (uint32_t i = 0; i < 100; ++i) {
    bool created = false;
    table.Get(Key(i), &created);
    EXPECT_TRUE(created);
    EXPECT_EQ(table.size(), 1u);
    EXPECT_NE(table.Peek(Key(i)), nullptr);
    if (i > 0) {
      EXPECT_EQ(table.Peek(Key(i - 1)), nullptr);
    }
  }
  EXPECT_EQ(table.evictions(), 99u);
}

TEST(ClientTableTest, CapacityIsClamped) {
  EXPECT_EQ(ClientTable(0).capacity(), 1u);
  EXPECT_EQ(ClientTable::MemoryBytesFor(0), ClientTable::MemoryBytesFor(1));
  EXPECT_EQ(ClientTable::MemoryBytesFor(ClientTable::kMaxCapacity + 1),
            ClientTable::MemoryBytesFor(ClientTable::kMaxCapacity));
}

TEST(ClientTableTest, SizeNeverExceedsCapacityUnderManyDistinctKeys) {
  constexpr size_t kCapacity = 1000;
  ClientTable table(kCapacity);
  for (uint32_t i = 0; i < 10 * kCapacity; ++i) {
    Get(table, Key(i));
    ASSERT_LE(table.size(), kCapacity);
  }
  EXPECT_EQ(table.size(), kCapacity);
  EXPECT_EQ(table.evictions(), 9 * kCapacity);
  // The last kCapacity keys remain, in reverse order of arrival.
  const std::vector<ClientKey> order = Order(table);
  ASSERT_EQ(order.size(), kCapacity);
  for (size_t i = 0; i < kCapacity; ++i) {
    EXPECT_EQ(order[i], Key(static_cast<uint32_t>(10 * kCapacity - 1 - i)));
  }
}

TEST(ClientTableTest, EvictionsCountOnlyReplacements) {
  ClientTable table(4);
  for (uint32_t i = 0; i < 4; ++i) Get(table, Key(i));
  EXPECT_EQ(table.evictions(), 0u);
  for (uint32_t i = 0; i < 4; ++i) Get(table, Key(i));  // hits
  EXPECT_EQ(table.evictions(), 0u);
  Get(table, Key(10));
  Get(table, Key(11));
  EXPECT_EQ(table.evictions(), 2u);
}

TEST(ClientTableTest, HashChainsStayIntactAfterManyEvictions) {
  // A small index (128 slots for 100 entries): chains of several entries, unlinked from the
  // middle, head and end as entries are evicted.
  constexpr uint32_t kCapacity = 100;
  ClientTable table(kCapacity);
  std::mt19937 rng(7);
  uint32_t next = 0;
  std::vector<uint32_t> live;
  for (int round = 0; round < 20'000; ++round) {
    Get(table, Key(next++));
    // Touch a few random recent keys so that eviction does not follow arrival order.
    for (int t = 0; t < 3; ++t) {
      const uint32_t k = next - 1 - rng() % std::min<uint32_t>(next, 2 * kCapacity);
      if (table.Peek(Key(k)) != nullptr) Get(table, Key(k));
    }
  }
  size_t found = 0;
  for (const ClientKey& key : Order(table)) {
    const ClientTable::Entry* e = table.Peek(key);
    ASSERT_NE(e, nullptr) << key.ToString();
    EXPECT_EQ(e->key, key);
    ++found;
  }
  EXPECT_EQ(found, kCapacity);
  size_t absent = 0;
  for (uint32_t k = 0; k < next; ++k) absent += table.Peek(Key(k)) == nullptr;
  EXPECT_EQ(absent, next - kCapacity);
}

TEST(ClientTableTest, EntryIsAtMost56Bytes) {
  EXPECT_LE(sizeof(ClientTable::Entry), 56u);
  EXPECT_EQ(ClientTable::kEntryBytes, sizeof(ClientTable::Entry));
}

TEST(ClientTableTest, AMillionClientsFitIn64MiB) {
  EXPECT_LE(ClientTable::MemoryBytesFor(1'000'000), size_t{64} << 20);
  // The shield's default (262,144 clients) in about 15 MiB.
  EXPECT_LE(ClientTable::MemoryBytesFor(262'144), size_t{16} << 20);
}

TEST(ClientTableTest, MemoryBytesCountsEntriesAndIndex) {
  ClientTable table(1000);
  EXPECT_EQ(table.MemoryBytes(), ClientTable::MemoryBytesFor(1000));
  EXPECT_GE(table.MemoryBytes(), 1000 * (sizeof(ClientTable::Entry) + sizeof(uint32_t)));
  EXPECT_LE(table.MemoryBytes(), 1001 * sizeof(ClientTable::Entry) + 1024 * sizeof(uint32_t));
}

TEST(ClientTableTest, ForEachGoesFromMostToLeastRecentlyUsed) {
  ClientTable table(10);
  for (uint32_t i = 1; i <= 5; ++i) Get(table, Key(i));
  Get(table, Key(2));
  Get(table, Key(4));
  EXPECT_EQ(Order(table), (std::vector<ClientKey>{Key(4), Key(2), Key(5), Key(3), Key(1)}));
}

TEST(ClientTableTest, ForEachOfAnEmptyTableCallsNothing) {
  ClientTable table(10);
  EXPECT_TRUE(Order(table).empty());
}

// A reference LRU: a list (front: most recently used) and a map into it.
class ReferenceLru {
 public:
  explicit ReferenceLru(size_t capacity) : capacity_(capacity) {}

  // Returns true if the key was created; `*evicted` gets the evicted key, if any.
  bool Get(uint32_t key, bool* evicted, uint32_t* evicted_key) {
    *evicted = false;
    auto it = where_.find(key);
    if (it != where_.end()) {
      order_.splice(order_.begin(), order_, it->second);
      return false;
    }
    if (order_.size() == capacity_) {
      *evicted = true;
      *evicted_key = order_.back();
      where_.erase(order_.back());
      order_.pop_back();
    }
    order_.push_front(key);
    where_[key] = order_.begin();
    return true;
  }
  bool Contains(uint32_t key) const { return where_.count(key) != 0; }
  const std::list<uint32_t>& order() const { return order_; }

 private:
  size_t capacity_;
  std::list<uint32_t> order_;
  std::unordered_map<uint32_t, std::list<uint32_t>::iterator> where_;
};

TEST(ClientTableTest, RandomOperationsMatchAReferenceLru) {
  constexpr size_t kCapacity = 257;
  constexpr uint32_t kKeySpace = 1000;
  ClientTable table(kCapacity);
  ReferenceLru model(kCapacity);
  std::mt19937_64 rng(20240611);
  uint64_t evictions = 0;
  for (int op = 0; op < 200'000; ++op) {
    const uint32_t k = static_cast<uint32_t>(rng() % kKeySpace);
    if (rng() % 4 == 0) {
      // Peek: present exactly when the model has it, and the order does not move.
      const ClientTable::Entry* e = table.Peek(Key(k));
      ASSERT_EQ(e != nullptr, model.Contains(k)) << "op " << op << " key " << k;
      continue;
    }
    bool model_evicted = false;
    uint32_t model_evicted_key = 0;
    const bool model_created = model.Get(k, &model_evicted, &model_evicted_key);
    bool created = false;
    ClientTable::Entry& e = table.Get(Key(k), &created);
    ASSERT_EQ(created, model_created) << "op " << op << " key " << k;
    ASSERT_EQ(e.key, Key(k));
    if (created) {
      ASSERT_EQ(e.strikes, 0);
      e.strikes = static_cast<uint16_t>(k);  // remembered until evicted
    } else {
      ASSERT_EQ(e.strikes, static_cast<uint16_t>(k));
    }
    if (model_evicted) {
      ++evictions;
      ASSERT_EQ(table.Peek(Key(model_evicted_key)), nullptr) << "op " << op;
    }
    ASSERT_EQ(table.size(), model.order().size());
  }
  EXPECT_EQ(table.evictions(), evictions);
  std::vector<ClientKey> expected;
  for (uint32_t k : model.order()) expected.push_back(Key(k));
  EXPECT_EQ(Order(table), expected);
}

}  // namespace
}  // namespace refuge::shield
