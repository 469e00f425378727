// The TUF metadata model (specification 1.0.x): parsing, signature verification and writing
// of root, timestamp, snapshot and targets metadata, Ed25519 keys only.
//
// Parsing is strict and bounded: every field is type-checked, unknown fields are kept (they
// are covered by signatures) but ignored, and a file that does not parse is kCorruption.
// Signature checks follow the spec: the signature covers the canonical JSON of "signed"; a
// threshold counts distinct keys (a key ID listed or signing twice counts once, and two key
// IDs for the same public key count once).
//
// Thread-safety: values.
#ifndef REFUGE_TUF_METADATA_H_
#define REFUGE_TUF_METADATA_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "crypto/canonical_json.h"
#include "crypto/ed25519.h"

namespace refuge::tuf {

inline constexpr char kSpecVersion[] = "1.0.31";

inline constexpr char kRoot[] = "root";
inline constexpr char kTimestamp[] = "timestamp";
inline constexpr char kSnapshot[] = "snapshot";
inline constexpr char kTargets[] = "targets";

// A public key as it appears in "keys". Only ed25519/ed25519 keys can verify; others parse
// (a repository may list them) but never count toward a threshold.
struct Key {
  std::string keytype;
  std::string scheme;
  std::string public_raw;  // the decoded keyval.public (32 bytes for Ed25519)
  Json json;               // the key object as written

  bool CanVerify() const;
};

// The public-key object TUF writes for an Ed25519 key, and its key ID (the SHA-256 hex of its
// canonical form).
Json Ed25519KeyJson(const std::string& public_raw);
std::string KeyIdOf(const Json& key_json);

struct RoleKeys {
  std::vector<std::string> keyids;
  int64_t threshold = 1;
};

struct Signature {
  std::string keyid;
  std::string sig_hex;
};

// What every metadata file has in common.
struct Envelope {
  std::string type;
  std::string spec_version;
  int64_t version = 0;
  int64_t expires = 0;           // seconds since the epoch
  Json signed_json;              // the "signed" object, as parsed
  std::string signed_canonical;  // its canonical bytes: what signatures cover
  std::vector<Signature> signatures;

  bool IsExpired(int64_t now) const { return now >= expires; }
};

// An entry of timestamp's or snapshot's "meta".
struct MetaFile {
  int64_t version = 0;
  std::optional<uint64_t> length;
  std::map<std::string, std::string> hashes;  // algorithm -> lowercase hex
};

struct TargetFile {
  uint64_t length = 0;
  std::map<std::string, std::string> hashes;
  Json custom;  // null when absent
};

struct DelegatedRole {
  std::string name;
  RoleKeys keys;
  bool terminating = false;
  std::optional<std::vector<std::string>> paths;
  std::optional<std::vector<std::string>> path_hash_prefixes;

  // Does this role's delegation cover target_path? (spec 5.6.7.2, python-tuf's semantics:
  // patterns match segment by segment, `*` never crosses a `/`.)
  bool IsDelegatedPath(const std::string& target_path) const;
};

struct Delegations {
  std::map<std::string, Key> keys;
  std::vector<DelegatedRole> roles;
};

struct Root {
  Envelope envelope;
  bool consistent_snapshot = false;
  std::map<std::string, Key> keys;
  std::map<std::string, RoleKeys> roles;  // exactly root, timestamp, snapshot, targets
};

struct Timestamp {
  Envelope envelope;
  MetaFile snapshot_meta;  // meta["snapshot.json"]
};

struct Snapshot {
  Envelope envelope;
  std::map<std::string, MetaFile> meta;  // "targets.json", "<role>.json"
};

struct Targets {
  Envelope envelope;
  std::map<std::string, TargetFile> targets;
  std::optional<Delegations> delegations;
};

// Parse a whole metadata file. The "_type" must be the expected one.
Result<Root> ParseRoot(std::string_view bytes);
Result<Timestamp> ParseTimestamp(std::string_view bytes);
Result<Snapshot> ParseSnapshot(std::string_view bytes);
Result<Targets> ParseTargets(std::string_view bytes);

// Checks that at least role.threshold distinct keys of role.keyids, found in `keys`, made
// valid signatures over envelope.signed_canonical. `role_name` names the role in errors.
Status VerifyThreshold(const Envelope& envelope, const std::map<std::string, Key>& keys,
                       const RoleKeys& role, const std::string& role_name);

// Verifies `envelope` as signed by `role_name` of `root` (one of the four top-level roles).
Status VerifyByRoot(const Envelope& envelope, const Root& root, const std::string& role_name);

// Does `data` match the length and every hash of `meta`? (Only sha256 and sha512 are
// understood; at least one understood hash must be present when any is.)
Status CheckLengthAndHashes(std::string_view data, std::optional<uint64_t> length,
                            const std::map<std::string, std::string>& hashes,
                            const std::string& what);

// --- Writing -------------------------------------------------------------------------------

// A signer: a private key and its key ID.
struct Signer {
  std::string keyid;
  const Ed25519PrivateKey* key = nullptr;
};

// Serializes {"signed": signed_json, "signatures": [...]} with a signature by each signer.
// The bytes are compact JSON with sorted keys; signatures cover the canonical form.
Result<std::string> SignMetadata(const Json& signed_json, const std::vector<Signer>& signers);

Json MetaFileJson(const MetaFile& meta);
Json TargetFileJson(const TargetFile& target);

}  // namespace refuge::tuf

#endif  // REFUGE_TUF_METADATA_H_
