// libFuzzer target: every TUF metadata parser and the strict JSON parser, on arbitrary bytes.
//
// Properties checked beyond "no crash, no leak, no undefined behaviour":
//   - whatever ParseJson accepts has a canonical form, and that form parses back to the same
//     value (so a signature over it is well defined);
//   - signature checks on parsed metadata never crash, whatever the keys and signatures say.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "crypto/canonical_json.h"
#include "tuf/metadata.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  auto json = refuge::ParseJson(input);
  if (json.ok()) {
    auto canonical = refuge::EncodeCanonical(*json);
    if (canonical.ok()) {
      // Canonical JSON is not always valid JSON (control characters are written raw), so only
      // a successful re-parse is compared.
      auto again = refuge::ParseJson(*canonical);
      if (again.ok() && *again != *json) std::abort();
    }
  }

  if (auto root = refuge::tuf::ParseRoot(input); root.ok()) {
    (void)refuge::tuf::VerifyByRoot(root->envelope, *root, refuge::tuf::kRoot);
  }
  (void)refuge::tuf::ParseTimestamp(input);
  (void)refuge::tuf::ParseSnapshot(input);
  if (auto targets = refuge::tuf::ParseTargets(input); targets.ok() && targets->delegations) {
    for (const auto& role : targets->delegations->roles) {
      (void)role.IsDelegatedPath("a/b/c.txt");
      (void)refuge::tuf::VerifyThreshold(targets->envelope, targets->delegations->keys, role.keys,
                                         role.name);
    }
  }
  return 0;
}
