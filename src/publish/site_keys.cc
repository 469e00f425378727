#include "publish/site_keys.h"

#include "common/file_util.h"

namespace refuge {

Result<LoadedKey> GenerateKey() {
  REFUGE_ASSIGN_OR_RETURN(Ed25519PrivateKey key, Ed25519PrivateKey::Generate());
  LoadedKey out;
  out.keyid = tuf::KeyIdOf(tuf::Ed25519KeyJson(key.PublicKey()));
  out.key = std::make_unique<Ed25519PrivateKey>(std::move(key));
  return out;
}

Status SaveKey(const std::string& dir, const LoadedKey& key) {
  REFUGE_RETURN_IF_ERROR(MakeDirectories(dir, 0700));
  return key.key->Save(dir + "/" + key.keyid + ".pem");
}

Result<std::vector<LoadedKey>> LoadRoleKeys(const tuf::Root& root, const std::string& role,
                                            const std::vector<std::string>& dirs) {
  const tuf::RoleKeys& rk = root.roles.at(role);
  std::vector<LoadedKey> out;
  for (const std::string& keyid : rk.keyids) {
    for (const std::string& dir : dirs) {
      std::string path = dir + "/" + keyid + ".pem";
      if (!PathExists(path)) continue;
      REFUGE_ASSIGN_OR_RETURN(Ed25519PrivateKey key, Ed25519PrivateKey::Load(path));
      if (tuf::KeyIdOf(tuf::Ed25519KeyJson(key.PublicKey())) != keyid) {
        return Corruption("key file " + path + " does not hold the key its name says");
      }
      out.push_back(LoadedKey{keyid, std::make_unique<Ed25519PrivateKey>(std::move(key))});
      break;
    }
  }
  if (static_cast<int64_t>(out.size()) < rk.threshold) {
    std::string searched;
    for (const std::string& d : dirs) searched += (searched.empty() ? "" : ", ") + d;
    return NotFound("found " + std::to_string(out.size()) + " of the " +
                    std::to_string(rk.threshold) + " " + role +
                    " key(s) needed to sign (searched " + searched +
                    "); point --root-key-dir at the directory holding them");
  }
  return out;
}

std::vector<tuf::Signer> SignersOf(const std::vector<LoadedKey>& keys) {
  std::vector<tuf::Signer> out;
  for (const LoadedKey& k : keys) out.push_back(tuf::Signer{k.keyid, k.key.get()});
  return out;
}

}  // namespace refuge
