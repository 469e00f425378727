#include "shield/clearance.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

#include "crypto/sha256.h"

namespace refuge::shield {

namespace {

constexpr size_t kTimeHex = 8;
constexpr size_t kBitsHex = 2;
constexpr size_t kMacHex = 32;
constexpr size_t kSeedBytes = kTimeHex + kBitsHex + kMacHex;
constexpr size_t kTicketBytes = kTimeHex + kMacHex;
constexpr size_t kCookieBytes = kTimeHex + 1 + kMacHex;

std::string Hex32(uint32_t v) {
  char out[9];
  std::snprintf(out, sizeof out, "%08x", v);
  return std::string(out, 8);
}

bool IsLowerHexDigit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// Parses lowercase hex digits (the callers pass 8 or 2 of them).
bool ParseHex(std::string_view text, uint64_t* out) {
  uint64_t v = 0;
  for (char c : text) {
    if (!IsLowerHexDigit(c)) return false;
    v = v << 4 | static_cast<uint64_t>(HexDigitValue(c));
  }
  *out = v;
  return true;
}

// Is `text` all lowercase hex (a MAC as Mac() writes it)? Checked before the MAC is compared
// so that a MAC that is not even hex is kMalformed, as the formats say, not kForged.
bool IsLowerHex(std::string_view text) {
  for (char c : text) {
    if (!IsLowerHexDigit(c)) return false;
  }
  return true;
}

}  // namespace

const char* ClearanceCheckName(ClearanceCheck check) {
  switch (check) {
    case ClearanceCheck::kOk: return "ok";
    case ClearanceCheck::kMalformed: return "malformed";
    case ClearanceCheck::kForged: return "forged";
    case ClearanceCheck::kExpired: return "expired";
    case ClearanceCheck::kTooEarly: return "too early";
    case ClearanceCheck::kNotEnoughWork: return "not enough work";
  }
  return "?";
}

Clearance Clearance::Random() {
  std::array<uint8_t, kSecretBytes> secret{};
  if (RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1) {
    std::abort();  // no randomness: nothing the shield hands out could be trusted
  }
  return Clearance(secret);
}

Result<Clearance> Clearance::FromHex(std::string_view hex) {
  if (hex.size() != 2 * kSecretBytes) {
    return InvalidArgument("the shield secret must be 64 hex digits (32 bytes), not " +
                           std::to_string(hex.size()) + " characters");
  }
  Result<std::string> bytes = HexDecode(hex);
  if (!bytes.ok()) return InvalidArgument("the shield secret is not hexadecimal");
  std::array<uint8_t, kSecretBytes> secret{};
  for (size_t i = 0; i < kSecretBytes; ++i) secret[i] = static_cast<uint8_t>((*bytes)[i]);
  return Clearance(secret);
}

std::string Clearance::Mac(std::string_view label, const ClientAddress& client,
                           std::string_view fields) const {
  std::string message(label);
  message += '|';
  message += client.PrefixBinding();
  message += '|';
  message += fields;
  uint8_t mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const uint8_t*>(message.data()), message.size(), mac, &mac_len);
  return HexEncode(mac, kMacHex / 2);
}

std::string Clearance::MakeSeed(const ClientAddress& client, int bits, int64_t now_s) const {
  if (bits < 1) bits = 1;
  if (bits > kMaxPowBits) bits = kMaxPowBits;
  char b[3];
  std::snprintf(b, sizeof b, "%02x", bits);
  std::string fields = Hex32(static_cast<uint32_t>(now_s)) + b;
  return fields + Mac("pow", client, fields);
}

int Clearance::SeedBits(std::string_view seed) {
  uint64_t bits = 0;
  if (seed.size() != kSeedBytes || !ParseHex(seed.substr(kTimeHex, kBitsHex), &bits) ||
      !IsLowerHex(seed.substr(kTimeHex + kBitsHex))) {
    return 0;
  }
  if (bits < 1 || bits > kMaxPowBits) return 0;
  return static_cast<int>(bits);
}

ClearanceCheck Clearance::VerifySolution(std::string_view seed, std::string_view nonce,
                                         const ClientAddress& client, int64_t now_s) const {
  uint64_t issued = 0;
  const int bits = SeedBits(seed);
  if (bits == 0 || !ParseHex(seed.substr(0, kTimeHex), &issued)) return ClearanceCheck::kMalformed;
  if (nonce.empty() || nonce.size() > kMaxNonceDigits) return ClearanceCheck::kMalformed;
  for (char c : nonce) {
    if (c < '0' || c > '9') return ClearanceCheck::kMalformed;
  }
  if (!ConstantTimeEquals(seed.substr(kTimeHex + kBitsHex),
                          Mac("pow", client, seed.substr(0, kTimeHex + kBitsHex)))) {
    return ClearanceCheck::kForged;
  }
  const int64_t age = now_s - static_cast<int64_t>(issued);
  if (age > kSeedLifetimeSeconds || age < -kSeedLifetimeSeconds) return ClearanceCheck::kExpired;
  std::string input(seed);
  input += ':';
  input += nonce;
  Sha256Digest digest = Sha256Of(input);
  if (!HasLeadingZeroBits(digest.data(), digest.size(), bits)) return ClearanceCheck::kNotEnoughWork;
  return ClearanceCheck::kOk;
}

std::string Clearance::MakeTicket(const ClientAddress& client, int64_t now_s) const {
  std::string fields = Hex32(static_cast<uint32_t>(now_s));
  return fields + Mac("wait", client, fields);
}

ClearanceCheck Clearance::VerifyTicket(std::string_view ticket, const ClientAddress& client,
                                       int64_t now_s, int64_t delay_s) const {
  uint64_t issued = 0;
  if (ticket.size() != kTicketBytes || !ParseHex(ticket.substr(0, kTimeHex), &issued) ||
      !IsLowerHex(ticket.substr(kTimeHex))) {
    return ClearanceCheck::kMalformed;
  }
  if (!ConstantTimeEquals(ticket.substr(kTimeHex), Mac("wait", client, ticket.substr(0, kTimeHex)))) {
    return ClearanceCheck::kForged;
  }
  const int64_t age = now_s - static_cast<int64_t>(issued);
  if (age < delay_s) return ClearanceCheck::kTooEarly;
  if (age > delay_s + kSeedLifetimeSeconds) return ClearanceCheck::kExpired;
  return ClearanceCheck::kOk;
}

std::string Clearance::MakeCookie(const ClientAddress& client, int64_t expires_s) const {
  std::string fields = Hex32(static_cast<uint32_t>(expires_s));
  return fields + "." + Mac("clear", client, fields);
}

ClearanceCheck Clearance::VerifyCookie(std::string_view cookie, const ClientAddress& client,
                                       int64_t now_s) const {
  uint64_t expires = 0;
  if (cookie.size() != kCookieBytes || cookie[kTimeHex] != '.' ||
      !ParseHex(cookie.substr(0, kTimeHex), &expires) || !IsLowerHex(cookie.substr(kTimeHex + 1))) {
    return ClearanceCheck::kMalformed;
  }
  if (!ConstantTimeEquals(cookie.substr(kTimeHex + 1),
                          Mac("clear", client, cookie.substr(0, kTimeHex)))) {
    return ClearanceCheck::kForged;
  }
  if (static_cast<int64_t>(expires) <= now_s) return ClearanceCheck::kExpired;
  return ClearanceCheck::kOk;
}

bool HasLeadingZeroBits(const uint8_t* digest, size_t size, int bits) {
  if (bits < 0 || static_cast<size_t>(bits) > size * 8) return false;
  size_t i = 0;
  for (; bits >= 8; bits -= 8, ++i) {
    if (digest[i] != 0) return false;
  }
  return bits == 0 || (digest[i] >> (8 - bits)) == 0;
}

std::string SolveSeed(std::string_view seed, int bits) {
  for (uint64_t n = 0;; ++n) {
    std::string nonce = std::to_string(n);
    std::string input(seed);
    input += ':';
    input += nonce;
    Sha256Digest d = Sha256Of(input);
    if (HasLeadingZeroBits(d.data(), d.size(), bits)) return nonce;
  }
}

}  // namespace refuge::shield
