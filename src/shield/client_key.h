// ClientKey: who a request comes from, as the shield counts it.
//
// An address is kept as 16 bytes (IPv4 as ::ffff:a.b.c.d); a prefix is the address with its
// host bits cleared: IPv4 /24, IPv6 /64 (one customer's network, for most providers). The
// kind tells them apart, so that 192.0.2.0 the address and 192.0.2.0/24 the prefix are two
// clients. Keys are plain values (no allocation): the shield makes one or two per request.
//
// Thread-safety: values.
#ifndef REFUGE_SHIELD_CLIENT_KEY_H_
#define REFUGE_SHIELD_CLIENT_KEY_H_

#include <array>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <cstring>
#include <string>

namespace refuge::shield {

enum class KeyKind : uint8_t {
  kAddress = 1,  // one address: its request rate
  kPrefix = 2,   // an IPv4 /24 or IPv6 /64: its request rate
  kPeer = 3,     // one address's node-to-node traffic (/.refuge/)
  kNoScript = 4  // a prefix's no-script clearances
};

struct ClientKey {
  std::array<uint8_t, 16> bytes{};
  KeyKind kind = KeyKind::kAddress;

  bool operator==(const ClientKey& o) const { return kind == o.kind && bytes == o.bytes; }
  // A 64-bit hash (the table and the shards use different bits of it).
  uint64_t Hash() const;
  // "192.0.2.7", "192.0.2.0/24", "2001:db8::/64", "peer 192.0.2.7", "noscript 192.0.2.0/24".
  std::string ToString() const;
  bool is_v4() const;
};

// The keys of one client, made once per connection.
struct ClientAddress {
  ClientKey address;
  ClientKey prefix;

  static ClientAddress From(const boost::asio::ip::address& ip);
  ClientKey As(KeyKind kind) const;  // the address (kPeer) or prefix (kNoScript) as `kind`
  // The prefix as bytes for binding clearances to it (17 bytes: kind then the address).
  std::string PrefixBinding() const;
};

struct ClientKeyHash {
  size_t operator()(const ClientKey& k) const { return static_cast<size_t>(k.Hash()); }
};

}  // namespace refuge::shield

#endif  // REFUGE_SHIELD_CLIENT_KEY_H_
