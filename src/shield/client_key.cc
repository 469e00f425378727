#include "shield/client_key.h"

namespace refuge::shield {

namespace {

// The 16 bytes of `ip` (IPv4 mapped into IPv6).
std::array<uint8_t, 16> Bytes16(const boost::asio::ip::address& ip) {
  if (ip.is_v4()) return boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, ip.to_v4()).to_bytes();
  return ip.to_v6().to_bytes();
}

bool IsMappedV4(const std::array<uint8_t, 16>& b) {
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(b.data(), kMapped, 12) == 0;
}

}  // namespace

uint64_t ClientKey::Hash() const {
  // FNV-1a over the bytes and the kind, then a 64-bit finalizer (splitmix64) so that
  // consecutive addresses spread over the whole table.
  uint64_t h = 14695981039346656037ull;
  for (uint8_t b : bytes) h = (h ^ b) * 1099511628211ull;
  h = (h ^ static_cast<uint8_t>(kind)) * 1099511628211ull;
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

bool ClientKey::is_v4() const { return IsMappedV4(bytes); }

std::string ClientKey::ToString() const {
  std::string ip;
  if (is_v4()) {
    ip = boost::asio::ip::address_v4({bytes[12], bytes[13], bytes[14], bytes[15]}).to_string();
  } else {
    ip = boost::asio::ip::address_v6(bytes).to_string();
  }
  const char* suffix = is_v4() ? "/24" : "/64";
  switch (kind) {
    case KeyKind::kAddress: return ip;
    case KeyKind::kPrefix: return ip + suffix;
    case KeyKind::kPeer: return "peer " + ip;
    case KeyKind::kNoScript: return "noscript " + ip + suffix;
  }
  return ip;
}

ClientAddress ClientAddress::From(const boost::asio::ip::address& ip) {
  ClientAddress c;
  c.address.bytes = Bytes16(ip);
  c.address.kind = KeyKind::kAddress;
  c.prefix = c.address;
  c.prefix.kind = KeyKind::kPrefix;
  if (IsMappedV4(c.prefix.bytes)) {
    c.prefix.bytes[15] = 0;  // /24
  } else {
    std::memset(c.prefix.bytes.data() + 8, 0, 8);  // /64
  }
  return c;
}

ClientKey ClientAddress::As(KeyKind kind) const {
  ClientKey k = (kind == KeyKind::kNoScript || kind == KeyKind::kPrefix) ? prefix : address;
  k.kind = kind;
  return k;
}

std::string ClientAddress::PrefixBinding() const {
  std::string out(1, static_cast<char>(KeyKind::kPrefix));
  out.append(reinterpret_cast<const char*>(prefix.bytes.data()), prefix.bytes.size());
  return out;
}

}  // namespace refuge::shield
