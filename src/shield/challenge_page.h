// The challenge page of under-attack mode, and the return paths it carries.
//
// The page is a few KiB of HTML with a small script (its own SHA-256, no library, no
// request but the final one): it finds the nonce for the seed and goes to
//   /.refuge/shield/solve?s=<seed>&n=<nonce>&r=<the page asked for, percent-encoded>
// Without script, a <noscript> meta refresh goes after nojs_delay_seconds to
//   /.refuge/shield/wait?t=<ticket>&r=<...>
// Both answer 303 to the page asked for with the clearance cookie. The static parts of the
// page are built once; a challenge only splices the seed, ticket, bits and return path in.
//
// Thread-safety: const methods are thread-safe.
#ifndef REFUGE_SHIELD_CHALLENGE_PAGE_H_
#define REFUGE_SHIELD_CHALLENGE_PAGE_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace refuge::shield {

// The longest return path carried through a challenge; a longer target returns to "/".
inline constexpr size_t kMaxReturnPathBytes = 1024;

class ChallengePage {
 public:
  explicit ChallengePage(int64_t nojs_delay_seconds);

  // The page for `seed` (bits are in it), `ticket` and the request target `target`.
  std::string Render(std::string_view seed, int bits, std::string_view ticket,
                     std::string_view target) const;

 private:
  std::string head_;      // up to the noscript refresh URL's ticket
  std::string middle_;    // up to the script's seed
  std::string tail_;      // the rest
};

// Percent-encodes every byte of `target` but unreserved characters and '/' (so the result
// is safe in a URL query, an HTML attribute and a script string). Longer than
// kMaxReturnPathBytes (or not starting with '/'): "%2F".
std::string EncodeReturnPath(std::string_view target);
// Decodes a return path and checks it stays on this node: starts with one '/', then only
// visible ASCII. Anything else (an absolute URL, "//evil", control bytes): "/".
std::string DecodeReturnPath(std::string_view encoded);

}  // namespace refuge::shield

#endif  // REFUGE_SHIELD_CHALLENGE_PAGE_H_
