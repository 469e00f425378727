// Clearance: the proofs a client shows the shield in under-attack mode, all stateless.
//
// The node keeps one 32-byte secret. Everything it hands out is bound by HMAC-SHA256 with
// that secret to the client's prefix (IPv4 /24, IPv6 /64) and to a time, so the node stores
// nothing per challenge and verifies with one or two hashes:
//
//   seed    "<issued:8 hex><bits:2 hex><mac:32 hex>"  a proof-of-work challenge: find a
//           decimal nonce n with SHA-256("<seed>:<n>") starting with `bits` zero bits.
//           Valid kSeedLifetimeSeconds after `issued`.
//   ticket  "<issued:8 hex><mac:32 hex>"  the no-script path: redeemable from
//           issued + delay until kSeedLifetimeSeconds after that.
//   cookie  "<expires:8 hex>.<mac:32 hex>"  the clearance itself (refuge_clearance=...).
//
// The MACs are 128-bit truncations (RFC 2104 allows it; forging one is 2^128 work) over a
// purpose label, the prefix and the times, so a seed is not a ticket nor a cookie, and one
// from another prefix, a forged one or an expired one fails. Times are wall-clock seconds
// (cookies outlive a restart when the secret is configured), passed in by the caller.
//
// Thread-safety: const methods are thread-safe.
#ifndef REFUGE_SHIELD_CLEARANCE_H_
#define REFUGE_SHIELD_CLEARANCE_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "shield/client_key.h"

namespace refuge::shield {

// How long a seed (or a ticket, after its delay) can be used.
inline constexpr int64_t kSeedLifetimeSeconds = 300;
// The largest difficulty the node asks for or accepts (2^28 hashes is minutes of script).
inline constexpr int kMaxPowBits = 28;
// Nonces are decimal numbers of at most this many digits.
inline constexpr size_t kMaxNonceDigits = 20;

enum class ClearanceCheck : uint8_t {
  kOk,
  kMalformed,    // not the format above
  kForged,       // the MAC does not match (another prefix, another node, altered)
  kExpired,      // too old
  kTooEarly,     // a ticket redeemed before its delay
  kNotEnoughWork // the hash does not start with enough zero bits
};
const char* ClearanceCheckName(ClearanceCheck check);

class Clearance {
 public:
  static constexpr size_t kSecretBytes = 32;

  // A fresh random secret (RAND_bytes).
  static Clearance Random();
  // From 64 hex digits.
  static Result<Clearance> FromHex(std::string_view hex);

  std::string MakeSeed(const ClientAddress& client, int bits, int64_t now_s) const;
  // The difficulty a (well-formed) seed asks for; 0 if malformed.
  static int SeedBits(std::string_view seed);
  ClearanceCheck VerifySolution(std::string_view seed, std::string_view nonce,
                                const ClientAddress& client, int64_t now_s) const;

  std::string MakeTicket(const ClientAddress& client, int64_t now_s) const;
  ClearanceCheck VerifyTicket(std::string_view ticket, const ClientAddress& client,
                              int64_t now_s, int64_t delay_s) const;

  std::string MakeCookie(const ClientAddress& client, int64_t expires_s) const;
  ClearanceCheck VerifyCookie(std::string_view cookie, const ClientAddress& client,
                              int64_t now_s) const;

 private:
  explicit Clearance(const std::array<uint8_t, kSecretBytes>& secret) : secret_(secret) {}
  // 32 hex digits: HMAC-SHA256(secret, label | prefix | fields) truncated to 16 bytes.
  std::string Mac(std::string_view label, const ClientAddress& client,
                  std::string_view fields) const;

  std::array<uint8_t, kSecretBytes> secret_;
};

// Does `digest` start with `bits` zero bits?
bool HasLeadingZeroBits(const uint8_t* digest, size_t size, int bits);

// Finds the smallest nonce for `seed` (what the page's script does; for tests and tools).
std::string SolveSeed(std::string_view seed, int bits);

}  // namespace refuge::shield

#endif  // REFUGE_SHIELD_CLEARANCE_H_
