// IP address literals, endpoints and consecutive source addresses for refuge-load.
//
// refuge-load never resolves names: every address it uses is an IP literal parsed here
// (inet_pton), so the loopback policy (target_policy.h) sees exactly what will be connected
// to. Consecutive IPv4 source addresses skip host parts .0 and .255, which some stacks and
// middleboxes treat specially, so "the 300th address after 127.1.0.1" is 127.1.1.47.
//
// Thread-safety: values and pure functions.
#ifndef REFUGE_TOOLS_LOAD_IP_ADDRESS_H_
#define REFUGE_TOOLS_LOAD_IP_ADDRESS_H_

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace refuge::load {

struct IpAddress {
  int family = 0;                   // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};  // network order; the first 4 for AF_INET

  bool is_v4() const { return family == AF_INET; }
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// "127.0.0.1", "::1" or "[::1]". Names, ports, zone ids and IPv4 shorthands ("127.1") are
// refused.
Result<IpAddress> ParseIpLiteral(std::string_view text);
std::string FormatIp(const IpAddress& ip);

struct Endpoint {
  IpAddress ip;
  uint16_t port = 0;
};

// "127.0.0.1:8080" or "[::1]:8080"; the port is required and not 0.
Result<Endpoint> ParseEndpoint(std::string_view text);
// "127.0.0.1:8080", "[::1]:8080": also the default Host header.
std::string FormatEndpoint(const Endpoint& endpoint);

// The n-th address counting from `base` (n = 0 is base itself; a base ending in .0 or .255
// starts at the next usable one). IPv4 skips host parts .0 and .255; IPv6 adds n to the low
// 64 bits. Fails when the count runs off the end of the address space.
Result<IpAddress> NthAddress(const IpAddress& base, uint64_t n);

// A sockaddr ready for bind/connect.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family() const { return storage.ss_family; }
};
SocketAddress ToSocketAddress(const IpAddress& ip, uint16_t port);
// The address part of an accepted or connected peer (tests, diagnostics).
IpAddress FromSocketAddress(const sockaddr_storage& storage);

}  // namespace refuge::load

#endif  // REFUGE_TOOLS_LOAD_IP_ADDRESS_H_
