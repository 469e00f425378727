// Strict JSON parsing and TUF's canonical JSON encoding.
//
// Canonical JSON is the byte string that TUF signatures cover. refuge produces exactly what
// the reference implementation (securesystemslib's encode_canonical) produces: object keys
// sorted by code point, no insignificant whitespace, strings written raw (UTF-8) with only
// `"` and `\` escaped, integers only (no floats), true/false/null.
//
// ParseJson is the only way refuge reads JSON. Beyond RFC 8259 validity it refuses what an
// attacker could use to make two parsers disagree: duplicate object keys, floating-point
// numbers, nesting deeper than limits::kMaxJsonDepth, and invalid UTF-8.
//
// Thread-safety: pure functions.
#ifndef REFUGE_CRYPTO_CANONICAL_JSON_H_
#define REFUGE_CRYPTO_CANONICAL_JSON_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"

namespace refuge {

using Json = nlohmann::json;

// Parses a whole JSON document strictly (see above). Errors are kCorruption.
Result<Json> ParseJson(std::string_view text);

// Canonical bytes of a value. Fails (kInvalidArgument) on floats or excessive depth.
Result<std::string> EncodeCanonical(const Json& value);

}  // namespace refuge

#endif  // REFUGE_CRYPTO_CANONICAL_JSON_H_
