// ClientKey and ClientAddress (shield/client_key.h): the prefixes the shield counts by (IPv4
// /24, IPv6 /64, IPv4-mapped IPv6 as IPv4), the kinds that keep an address and a prefix
// apart, the printed forms, and the spread of the hash the tables and shards use.
#include "shield/client_key.h"

#include <array>
#include <bit>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <set>
#include <string>
#include <unordered_set>

#include <gtest/gtest.h>

namespace refuge::shield {
namespace {

ClientAddress Client(const std::string& ip) {
  return ClientAddress::From(boost::asio::ip::make_address(ip));
}

TEST(ClientKeyTest, TwoAddressesOfOneSlash24ShareAPrefix) {
  const ClientAddress a = Client("192.0.2.7");
  const ClientAddress b = Client("192.0.2.250");
  EXPECT_EQ(a.prefix, b.prefix);
  EXPECT_FALSE(a.address == b.address);
}

TEST(ClientKeyTest, AddressesOfNeighbouringSlash24sHaveDifferentPrefixes) {
  EXPECT_FALSE(Client("192.0.2.7").prefix == Client("192.0.3.7").prefix);
  EXPECT_FALSE(Client("192.0.2.255").prefix == Client("192.0.3.0").prefix);
}

TEST(ClientKeyTest, Ipv4PrefixClearsOnlyTheLastByte) {
  const ClientAddress c = Client("198.51.100.77");
  EXPECT_EQ(c.prefix.bytes[12], 198);
  EXPECT_EQ(c.prefix.bytes[13], 51);
  EXPECT_EQ(c.prefix.bytes[14], 100);
  EXPECT_EQ(c.prefix.bytes[15], 0);
  EXPECT_EQ(c.address.bytes[15], 77);
  EXPECT_EQ(c.prefix.kind, KeyKind::kPrefix);
  EXPECT_EQ(c.address.kind, KeyKind::kAddress);
}

TEST(ClientKeyTest, TwoAddressesOfOneSlash64ShareAPrefix) {
  const ClientAddress a = Client("2001:db8:1:2::1");
  const ClientAddress b = Client("2001:db8:1:2:ffff:ffff:ffff:ffff");
  EXPECT_EQ(a.prefix, b.prefix);
  EXPECT_FALSE(a.address == b.address);
}

TEST(ClientKeyTest, AddressesOfNeighbouringSlash64sHaveDifferentPrefixes) {
  EXPECT_FALSE(Client("2001:db8:1:2::1").prefix == Client("2001:db8:1:3::1").prefix);
}

TEST(ClientKeyTest, Ipv6PrefixKeepsTheFirstEightBytes) {
  const ClientAddress c = Client("2001:db8:aaaa:bbbb:1:2:3:4");
  const auto v6 = boost::asio::ip::make_address_v6("2001:db8:aaaa:bbbb::").to_bytes();
  for (size_t i = 0; i < 16; ++i) EXPECT_EQ(c.prefix.bytes[i], v6[i]) << "byte " << i;
}

TEST(ClientKeyTest, Ipv4MappedIpv6IsTreatedAsIpv4) {
  const ClientAddress mapped = Client("::ffff:192.0.2.7");
  const ClientAddress plain = Client("192.0.2.7");
  EXPECT_EQ(mapped.address, plain.address);
  EXPECT_EQ(mapped.prefix, plain.prefix);
  EXPECT_TRUE(mapped.address.is_v4());
  EXPECT_EQ(mapped.prefix.ToString(), "192.0.2.0/24");
}

TEST(ClientKeyTest, IsV4TellsTheFamilies) {
  EXPECT_TRUE(Client("10.0.0.1").address.is_v4());
  EXPECT_TRUE(Client("10.0.0.1").prefix.is_v4());
  EXPECT_FALSE(Client("2001:db8::1").address.is_v4());
  EXPECT_FALSE(Client("::1").address.is_v4());
}

TEST(ClientKeyTest, AddressAndPrefixKeysDifferEvenForTheZeroAddress) {
  // 192.0.2.0 the address and 192.0.2.0/24 the prefix have the same bytes.
  const ClientAddress c = Client("192.0.2.0");
  EXPECT_EQ(c.address.bytes, c.prefix.bytes);
  EXPECT_FALSE(c.address == c.prefix);
  EXPECT_NE(c.address.Hash(), c.prefix.Hash());
}

TEST(ClientKeyTest, AsGivesThePeerAndNoScriptKeys) {
  const ClientAddress c = Client("192.0.2.7");
  const ClientKey peer = c.As(KeyKind::kPeer);
  const ClientKey noscript = c.As(KeyKind::kNoScript);
  EXPECT_EQ(peer.kind, KeyKind::kPeer);
  EXPECT_EQ(peer.bytes, c.address.bytes);
  EXPECT_EQ(noscript.kind, KeyKind::kNoScript);
  EXPECT_EQ(noscript.bytes, c.prefix.bytes);
  EXPECT_EQ(c.As(KeyKind::kAddress), c.address);
  EXPECT_EQ(c.As(KeyKind::kPrefix), c.prefix);
  EXPECT_FALSE(peer == c.address);
  EXPECT_FALSE(noscript == c.prefix);
}

TEST(ClientKeyTest, ToStringForms) {
  const ClientAddress v4 = Client("192.0.2.7");
  EXPECT_EQ(v4.address.ToString(), "192.0.2.7");
  EXPECT_EQ(v4.prefix.ToString(), "192.0.2.0/24");
  EXPECT_EQ(v4.As(KeyKind::kPeer).ToString(), "peer 192.0.2.7");
  EXPECT_EQ(v4.As(KeyKind::kNoScript).ToString(), "noscript 192.0.2.0/24");
  const ClientAddress v6 = Client("2001:db8::1");
  EXPECT_EQ(v6.address.ToString(), "2001:db8::1");
  EXPECT_EQ(v6.prefix.ToString(), "2001:db8::/64");
  EXPECT_EQ(v6.As(KeyKind::kPeer).ToString(), "peer 2001:db8::1");
  EXPECT_EQ(v6.As(KeyKind::kNoScript).ToString(), "noscript 2001:db8::/64");
}

TEST(ClientKeyTest, PrefixBindingIsKindThenPrefixBytes) {
  const ClientAddress a = Client("192.0.2.7");
  const std::string binding = a.PrefixBinding();
  ASSERT_EQ(binding.size(), 17u);
  EXPECT_EQ(static_cast<uint8_t>(binding[0]), static_cast<uint8_t>(KeyKind::kPrefix));
  for (size_t i = 0; i < 16; ++i) {
    EXPECT_EQ(static_cast<uint8_t>(binding[i + 1]), a.prefix.bytes[i]) << "byte " << i;
  }
  EXPECT_EQ(binding, Client("192.0.2.99").PrefixBinding());
  EXPECT_NE(binding, Client("192.0.3.7").PrefixBinding());
}

TEST(ClientKeyTest, HashIsDeterministicAndUsableAsStdHash) {
  const ClientAddress c = Client("203.0.113.9");
  EXPECT_EQ(c.address.Hash(), Client("203.0.113.9").address.Hash());
  EXPECT_EQ(ClientKeyHash()(c.address), static_cast<size_t>(c.address.Hash()));
  std::unordered_set<ClientKey, ClientKeyHash> set{c.address, c.prefix, c.address};
  EXPECT_EQ(set.size(), 2u);
}

// Consecutive addresses (what a scan or a /16 botnet looks like) must spread over the table's
// buckets (low bits) and the shield's shards (top four bits).
TEST(ClientKeyTest, HashSpreadsConsecutiveAddressesOverBuckets) {
  constexpr int kAddresses = 4096;
  constexpr uint64_t kBuckets = 4096;
  std::set<uint64_t> low_buckets;
  std::array<int, 16> shards{};
  for (int i = 0; i < kAddresses; ++i) {
    boost::asio::ip::address_v4::bytes_type b{10, 1, static_cast<uint8_t>(i >> 8),
                                              static_cast<uint8_t>(i & 0xff)};
    const ClientAddress c = ClientAddress::From(boost::asio::ip::address_v4(b));
    const uint64_t h = c.address.Hash();
    low_buckets.insert(h & (kBuckets - 1));
    ++shards[h >> 60];
  }
  // Random placement of 4096 keys into 4096 buckets fills about 63%.
  EXPECT_GT(low_buckets.size(), kBuckets / 2);
  for (int n : shards) {
    EXPECT_GT(n, kAddresses / 16 / 2);
    EXPECT_LT(n, kAddresses / 16 * 2);
  }
}

TEST(ClientKeyTest, HashOfNeighboursDiffersInManyBits) {
  const uint64_t a = Client("10.0.0.1").address.Hash();
  const uint64_t b = Client("10.0.0.2").address.Hash();
  EXPECT_GE(std::popcount(a ^ b), 16);
}

}  // namespace
}  // namespace refuge::shield
