// SiteKeys: where a publisher's private keys live and how they are found again.
//
// A key file is named after its TUF key ID (`<keyid>.pem`, PKCS#8 PEM, mode 0600), so the
// signers of a role are found from the role's key IDs in the trusted root. Online keys
// (targets, snapshot, timestamp) sit in <home>/keys/<site>/online/; root keys in a root key
// directory that may be anywhere (an encrypted USB stick, say) and defaults to
// <home>/keys/<site>/root/. Replaced keys move to <home>/keys/<site>/retired/.
//
// Thread-safety: values; the loaded keys may sign from several threads.
#ifndef REFUGE_PUBLISH_SITE_KEYS_H_
#define REFUGE_PUBLISH_SITE_KEYS_H_

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "crypto/ed25519.h"
#include "tuf/metadata.h"

namespace refuge {

struct LoadedKey {
  std::string keyid;
  std::unique_ptr<Ed25519PrivateKey> key;
};

// Generates a key and its TUF key ID (the key itself is not saved).
Result<LoadedKey> GenerateKey();

// Saves a key as <dir>/<keyid>.pem with mode 0600 (dir created with mode 0700).
Status SaveKey(const std::string& dir, const LoadedKey& key);

// Loads the private keys of `role` (its key IDs from `root`), searching `dirs` in order.
// Fails with a message naming the role, the directories searched and what to do unless at
// least the role's threshold of keys is found.
Result<std::vector<LoadedKey>> LoadRoleKeys(const tuf::Root& root, const std::string& role,
                                            const std::vector<std::string>& dirs);

std::vector<tuf::Signer> SignersOf(const std::vector<LoadedKey>& keys);

}  // namespace refuge

#endif  // REFUGE_PUBLISH_SITE_KEYS_H_
