#include "crypto/base32.h"

#include <cstdint>

namespace refuge {

namespace {
constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

int Base32Value(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}
}  // namespace

std::string Base32Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

Result<std::string> Base32Decode(std::string_view text) {
  // Lengths that no whole number of bytes encodes to (1, 3 and 6 mod 8) are malformed.
  size_t rem = text.size() % 8;
  if (rem == 1 || rem == 3 || rem == 6) return Corruption("base32 text of impossible length");
  std::string out;
  out.reserve(text.size() * 5 / 8);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = Base32Value(c);
    if (v < 0) return Corruption("invalid base32 character");
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xff));
      bits -= 8;
    }
  }
  if ((buffer & ((1u << bits) - 1)) != 0) return Corruption("base32 text has non-zero padding bits");
  return out;
}

}  // namespace refuge
