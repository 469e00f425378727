#include "ip_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace refuge::load {

Result<IpAddress> ParseIpLiteral(std::string_view text) {
  std::string_view inner = text;
  bool bracketed = false;
  if (!inner.empty() && inner.front() == '[') {
    if (inner.size() < 2 || inner.back() != ']') {
      return InvalidArgument("\"" + std::string(text) + "\" is not an IP address literal");
    }
    inner = inner.substr(1, inner.size() - 2);
    bracketed = true;
  }
  // inet_pton needs a NUL-terminated string; bound the copy.
  if (inner.empty() || inner.size() > INET6_ADDRSTRLEN) {
    return InvalidArgument("\"" + std::string(text) + "\" is not an IP address literal");
  }
  std::string copy(inner);
  IpAddress ip;
  if (!bracketed && inet_pton(AF_INET, copy.c_str(), ip.bytes.data()) == 1) {
    ip.family = AF_INET;
    return ip;
  }
  if (inet_pton(AF_INET6, copy.c_str(), ip.bytes.data()) == 1) {
    ip.family = AF_INET6;
    return ip;
  }
  return InvalidArgument("\"" + std::string(text) +
                         "\" is not an IP address literal (refuge-load never resolves names)");
}

std::string FormatIp(const IpAddress& ip) {
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(ip.family, ip.bytes.data(), buffer, sizeof(buffer));
  return buffer;
}

Result<Endpoint> ParseEndpoint(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 >= text.size()) {
    return InvalidArgument("\"" + std::string(text) +
                           "\" is not ADDRESS:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)");
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  // An IPv6 literal must be bracketed so the port is unambiguous.
  if (host.find(':') != std::string_view::npos && host.front() != '[') {
    return InvalidArgument("\"" + std::string(text) +
                           "\": write an IPv6 target in brackets, e.g. [::1]:8080");
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return InvalidArgument("\"" + std::string(text) + "\": bad port \"" + std::string(port_text) +
                           "\"");
  }
  REFUGE_ASSIGN_OR_RETURN(IpAddress ip, ParseIpLiteral(host));
  return Endpoint{ip, static_cast<uint16_t>(port)};
}

std::string FormatEndpoint(const Endpoint& endpoint) {
  std::string ip = FormatIp(endpoint.ip);
  if (!endpoint.ip.is_v4()) ip = "[" + ip + "]";
  return ip + ":" + std::to_string(endpoint.port);
}

Result<IpAddress> NthAddress(const IpAddress& base, uint64_t n) {
  IpAddress out = base;
  if (base.is_v4()) {
    uint32_t value = (uint32_t{base.bytes[0]} << 24) | (uint32_t{base.bytes[1]} << 16) |
                     (uint32_t{base.bytes[2]} << 8) | base.bytes[3];
    // Position among usable addresses: 254 per /24 (host parts 1..254).
    uint64_t last = value & 0xff;
    uint64_t position = uint64_t{value >> 8} * 254;
    if (last == 255) {
      position += 254;  // the next /24's .1
    } else if (last > 0) {
      position += last - 1;
    }
    constexpr uint64_t kUsable = uint64_t{1} << 24;  // number of /24s
    if (n >= kUsable * 254 || position + n >= kUsable * 254) {
      return InvalidArgument("source address range runs past 255.255.255.254");
    }
    position += n;
    uint32_t result = static_cast<uint32_t>(((position / 254) << 8) | (position % 254 + 1));
    out.bytes[0] = static_cast<uint8_t>(result >> 24);
    out.bytes[1] = static_cast<uint8_t>(result >> 16);
    out.bytes[2] = static_cast<uint8_t>(result >> 8);
    out.bytes[3] = static_cast<uint8_t>(result);
    return out;
  }
  uint64_t low = 0;
  for (int i = 8; i < 16; ++i) low = (low << 8) | base.bytes[i];
  if (low + n < low) return InvalidArgument("source address range runs past the /64");
  low += n;
  for (int i = 15; i >= 8; --i) {
    out.bytes[i] = static_cast<uint8_t>(low);
    low >>= 8;
  }
  return out;
}

SocketAddress ToSocketAddress(const IpAddress& ip, uint16_t port) {
  SocketAddress out;
  if (ip.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out.storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, ip.bytes.data(), 4);
    out.length = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    std::memcpy(&sin6->sin6_addr, ip.bytes.data(), 16);
    out.length = sizeof(sockaddr_in6);
  }
  return out;
}

IpAddress FromSocketAddress(const sockaddr_storage& storage) {
  IpAddress ip;
  ip.family = storage.ss_family;
  if (storage.ss_family == AF_INET) {
    std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, 4);
  } else if (storage.ss_family == AF_INET6) {
    std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, 16);
  }
  return ip;
}

}  // namespace refuge::load
