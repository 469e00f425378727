// SHA-256 through OpenSSL 3's EVP interface (which uses the CPU's SHA extensions when present).
//
// Sha256 is a streaming hasher: Update() any number of times, then Finish() once.
// Thread-safety: one Sha256 per thread; the free functions are thread-safe.
#ifndef REFUGE_CRYPTO_SHA256_H_
#define REFUGE_CRYPTO_SHA256_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace refuge {

using Sha256Digest = std::array<uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t size);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  // Returns the digest; the hasher is then reset and may be reused.
  Sha256Digest Finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

Sha256Digest Sha256Of(std::string_view data);
// Lowercase hex of the SHA-256 of data.
std::string Sha256Hex(std::string_view data);

// Lowercase hex <-> bytes.
std::string HexEncode(const uint8_t* data, size_t size);
inline std::string HexEncode(const Sha256Digest& d) { return HexEncode(d.data(), d.size()); }
inline std::string HexEncode(std::string_view s) {
  return HexEncode(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
// Accepts upper and lower case; fails on odd length or a non-hex character.
Result<std::string> HexDecode(std::string_view hex);
// The value of one hex digit (either case), or -1.
int HexDigitValue(char c);
// True if `s` is exactly 64 lowercase hex characters (a SHA-256 as refuge writes it).
bool IsSha256Hex(std::string_view s);

// Constant-time equality (CRYPTO_memcmp), for secrets and MACs. Sizes are not secret.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace refuge

#endif  // REFUGE_CRYPTO_SHA256_H_
