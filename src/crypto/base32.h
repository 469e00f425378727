// Base32 (RFC 4648 alphabet), lowercase and unpadded: the encoding of site IDs.
//
// A site ID is Base32Encode(SHA-256(bytes of 1.root.json)): 52 characters.
// Thread-safety: pure functions.
#ifndef REFUGE_CRYPTO_BASE32_H_
#define REFUGE_CRYPTO_BASE32_H_

#include <string>
#include <string_view>

#include "common/status.h"

namespace refuge {

std::string Base32Encode(std::string_view bytes);
// Accepts lowercase or uppercase, no padding; rejects non-canonical trailing bits.
Result<std::string> Base32Decode(std::string_view text);

}  // namespace refuge

#endif  // REFUGE_CRYPTO_BASE32_H_
