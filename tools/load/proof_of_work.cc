#include "proof_of_work.h"

#include <openssl/evp.h>

#include <bit>
#include <charconv>
#include <memory>

namespace refuge::load {
namespace {

bool IsHex(std::string_view s) {
  for (char c : s) {
    bool digit = c >= '0' && c <= '9';
    bool lower = c >= 'a' && c <= 'f';
    bool upper = c >= 'A' && c <= 'F';
    if (!digit && !lower && !upper) return false;
  }
  return true;
}

// One reusable SHA-256 context (OpenSSL aborts the process on allocation failure paths we
// cannot recover from anyway, so failures here are treated as impossible).
class Hasher {
 public:
  Hasher()
      : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free), md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)) {}
  ~Hasher() { EVP_MD_free(md_); }
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  // SHA-256 of prefix followed by suffix.
  void Digest(std::string_view prefix, std::string_view suffix, uint8_t out[32]) {
    unsigned int size = 0;
    EVP_DigestInit_ex2(ctx_.get(), md_, nullptr);
    EVP_DigestUpdate(ctx_.get(), prefix.data(), prefix.size());
    EVP_DigestUpdate(ctx_.get(), suffix.data(), suffix.size());
    EVP_DigestFinal_ex(ctx_.get(), out, &size);
  }

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
  EVP_MD* md_;
};

std::string_view FormatNonce(uint64_t nonce, char (&buffer)[24]) {
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), nonce);
  (void)ec;  // 24 bytes always hold a uint64_t
  return std::string_view(buffer, static_cast<size_t>(end - buffer));
}

}  // namespace

int LeadingZeroBits(const uint8_t* data, size_t size) {
  int bits = 0;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      bits += 8;
      continue;
    }
    return bits + std::countl_zero(data[i]);
  }
  return bits;
}

bool VerifyChallenge(std::string_view seed, int bits, uint64_t nonce) {
  Hasher hasher;
  std::string prefix = std::string(seed) + ":";
  char buffer[24];
  uint8_t digest[32];
  hasher.Digest(prefix, FormatNonce(nonce, buffer), digest);
  return LeadingZeroBits(digest, sizeof(digest)) >= bits;
}

Result<uint64_t> SolveChallenge(std::string_view seed, int bits, uint64_t max_attempts,
                                const std::atomic<bool>* cancel) {
  if (bits < 0 || bits > kMaxChallengeBits) {
    return InvalidArgument("challenge asks for " + std::to_string(bits) +
                           " zero bits; refuge-load solves at most " +
                           std::to_string(kMaxChallengeBits));
  }
  if (seed.empty() || seed.size() > 256 || !IsHex(seed)) {
    return InvalidArgument("challenge seed is not a hex string of 1..256 characters");
  }
  Hasher hasher;
  std::string prefix = std::string(seed) + ":";
  char buffer[24];
  uint8_t digest[32];
  for (uint64_t nonce = 0; nonce < max_attempts; ++nonce) {
    if (cancel != nullptr && (nonce & 4095) == 0 && cancel->load(std::memory_order_relaxed)) {
      return Unavailable("challenge solving cancelled");
    }
    hasher.Digest(prefix, FormatNonce(nonce, buffer), digest);
    if (LeadingZeroBits(digest, sizeof(digest)) >= bits) return nonce;
  }
  return Unavailable("no nonce found in " + std::to_string(max_attempts) + " attempts");
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') ||
                      u == '-' || u == '.' || u == '_' || u == '~' || u == '/';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

std::string SolvePath(std::string_view seed, uint64_t nonce, std::string_view original_path) {
  return "/.refuge/shield/solve?s=" + std::string(seed) + "&n=" + std::to_string(nonce) +
         "&r=" + PercentEncode(original_path);
}

}  // namespace refuge::load
