// The client side of the shield's proof-of-work challenge (refuge in under-attack mode).
//
// A challenged client gets `Refuge-Challenge: <seed> <bits>` and must find the smallest
// decimal nonce n = 0, 1, 2, ... such that SHA-256 of the ASCII string "<seed>:<n>" starts
// with at least `bits` zero bits (most significant bit of the first byte first). The
// expected work is 2^bits hashes; at ~3 M hashes/s on one core here, 20 bits take ~0.3 s.
//
// Thread-safety: the functions are thread-safe (each call has its own hashing context).
#ifndef REFUGE_TOOLS_LOAD_PROOF_OF_WORK_H_
#define REFUGE_TOOLS_LOAD_PROOF_OF_WORK_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace refuge::load {

// Challenges harder than this are refused as unsolvable (2^32 hashes is ~20 min here).
inline constexpr int kMaxChallengeBits = 32;

// Leading zero bits of a byte string.
int LeadingZeroBits(const uint8_t* data, size_t size);

// True if SHA-256("<seed>:<nonce>") has at least `bits` leading zero bits.
bool VerifyChallenge(std::string_view seed, int bits, uint64_t nonce);

// The smallest nonce satisfying the challenge. Gives up (kUnavailable) after `max_attempts`
// nonces or when `cancel` becomes true (checked every 4096 attempts); refuses bits outside
// 0..kMaxChallengeBits and seeds that are empty or not hex (kInvalidArgument).
Result<uint64_t> SolveChallenge(std::string_view seed, int bits, uint64_t max_attempts,
                                const std::atomic<bool>* cancel = nullptr);

// Percent-encoding of every byte but RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~)
// and '/', for the r= parameter of the solve URL: the same as the challenge page's own
// script sends.
std::string PercentEncode(std::string_view text);

// "/.refuge/shield/solve?s=<seed>&n=<nonce>&r=<percent-encoded original path>"
std::string SolvePath(std::string_view seed, uint64_t nonce, std::string_view original_path);

}  // namespace refuge::load

#endif  // REFUGE_TOOLS_LOAD_PROOF_OF_WORK_H_
