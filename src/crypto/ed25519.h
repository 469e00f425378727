// Ed25519 signing and verification through OpenSSL 3's EVP interface (RFC 8032, pure Ed25519).
//
// A private key lives in a PEM file (PKCS#8, unencrypted) written with mode 0600; TUF metadata
// carries the 32-byte public key as lowercase hex.
// Thread-safety: an Ed25519PrivateKey may be used from several threads for signing (EVP_PKEY
// is reference-counted and signing creates its own context); the free functions are thread-safe.
#ifndef REFUGE_CRYPTO_ED25519_H_
#define REFUGE_CRYPTO_ED25519_H_

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace refuge {

inline constexpr size_t kEd25519PublicKeyBytes = 32;
inline constexpr size_t kEd25519SignatureBytes = 64;

class Ed25519PrivateKey {
 public:
  static Result<Ed25519PrivateKey> Generate();
  // From a 32-byte seed (RFC 8032 private key), as PyNaCl's SigningKey takes it.
  static Result<Ed25519PrivateKey> FromSeed(std::string_view seed);
  static Result<Ed25519PrivateKey> FromPem(std::string_view pem);
  // Reads a PEM file; refuses files readable by group or others (like ssh does).
  static Result<Ed25519PrivateKey> Load(const std::string& path);

  Ed25519PrivateKey(Ed25519PrivateKey&&) noexcept;
  Ed25519PrivateKey& operator=(Ed25519PrivateKey&&) noexcept;
  ~Ed25519PrivateKey();

  // Writes the key durably with mode 0600; fails if the file exists.
  Status Save(const std::string& path) const;
  std::string ToPem() const;
  // The raw 32-byte public key.
  std::string PublicKey() const;
  // The 64-byte signature of message.
  std::string Sign(std::string_view message) const;

 private:
  struct Impl;
  explicit Ed25519PrivateKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// True only if `signature` is a valid Ed25519 signature of `message` by `public_key` (raw
// 32 bytes). Any malformed input is simply "not valid".
bool Ed25519Verify(std::string_view public_key, std::string_view message,
                   std::string_view signature);

}  // namespace refuge

#endif  // REFUGE_CRYPTO_ED25519_H_
