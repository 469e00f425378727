// TestRepository: builds TUF repositories on disk, honest or malicious, for tests.
//
// A TestRepository holds what a publisher controls (each role's keys, threshold, version,
// expiry and signers; each targets role's files and delegations; consistent_snapshot) and
// writes it under a directory that a StaticHttpServer serves:
//
//   <dir>/metadata/N.root.json, timestamp.json, N.snapshot.json (or snapshot.json),
//                 N.targets.json (or targets.json), N.<quoted role>.json (or <quoted role>.json)
//   <dir>/targets/<dir>/<sha256>.<name> (consistent snapshots) or <dir>/targets/<path>
//
// Nothing is bumped behind the caller's back: a test sets versions and expiries, then
// publishes. To craft an attack, take a "signed" object (RootSigned(), SnapshotSigned(), ...),
// edit it as JSON, sign it with any keys (SignWith) and write it (WriteMetadata).
//
// TufTest is a gtest fixture with a served repository, a FakeClock and a client directory.
#ifndef REFUGE_TESTS_SUPPORT_TEST_REPOSITORY_H_
#define REFUGE_TESTS_SUPPORT_TEST_REPOSITORY_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "crypto/canonical_json.h"
#include "crypto/ed25519.h"
#include "net/fetcher.h"
#include "support/static_http_server.h"
#include "support/temp_dir.h"
#include "tuf/metadata.h"
#include "tuf/updater.h"

namespace refuge::testing {

// An Ed25519 key with its public-key JSON and key ID. Copyable (the private key is shared).
struct TestKey {
  std::shared_ptr<const Ed25519PrivateKey> private_key;
  Json public_json;
  std::string keyid;

  static TestKey Generate();
  tuf::Signer signer() const { return {keyid, private_key.get()}; }
};

// {"signed": ..., "signatures": [...]} signed by each key in order (duplicates included).
std::string SignWith(const Json& signed_json, const std::vector<TestKey>& keys);

// Parses and re-serializes a metadata file after `edit` changed it, signatures untouched.
std::string EditMetadata(const std::string& bytes, const std::function<void(Json&)>& edit);

class TestRepository {
 public:
  struct Role {
    int64_t version = 1;
    int64_t expires = 0;
    std::vector<TestKey> keys;     // authorized keys (listed by root, or by the delegator)
    int64_t threshold = 1;
    std::vector<TestKey> signers;  // who signs the next file; empty: `keys`
    // Targets roles only.
    std::map<std::string, std::string> files;  // target path -> contents
    std::vector<std::string> children;         // delegated roles, in order
    // Delegated roles only: how the delegator describes this role.
    bool terminating = false;
    std::optional<std::vector<std::string>> paths = std::vector<std::string>{"*"};
    std::optional<std::vector<std::string>> path_hash_prefixes;
  };

  // Every role starts with one fresh key, version 1, expiring a year after `now`.
  TestRepository(std::string dir, int64_t now);

  std::string metadata_dir() const { return dir_ + "/metadata"; }
  std::string targets_dir() const { return dir_ + "/targets"; }

  bool consistent_snapshot = true;
  bool timestamp_meta_hashes = true;  // timestamp gives snapshot's length and sha256
  bool snapshot_meta_hashes = false;  // snapshot gives each targets role's length and sha256

  // "root", "timestamp", "snapshot", "targets" or a delegated role (which must exist).
  Role& role(const std::string& name);
  // Adds `name` as the last delegation of `parent`, matching `paths`.
  Role& AddDelegation(const std::string& parent, const std::string& name,
                      std::vector<std::string> paths = {"*"}, bool terminating = false);
  void AddTarget(const std::string& path, const std::string& contents,
                 const std::string& role_name = tuf::kTargets);

  // "signed" objects of the current state. Timestamp and snapshot name the current versions
  // of the roles they list; lengths and hashes are those of the bytes last published.
  Json RootSigned() const;
  Json TimestampSigned() const;
  Json SnapshotSigned() const;
  Json TargetsSigned(const std::string& name) const;

  // The metadata file name of a role at a version ("3.snapshot.json" or "snapshot.json").
  std::string FileName(const std::string& role_name, int64_t version) const;
  std::string CurrentFileName(const std::string& role_name) {
    return FileName(role_name, role(role_name).version);
  }
  // Where a target's bytes are served from (consistent or plain form).
  std::string TargetFilePath(const std::string& target_path, const std::string& contents) const;

  // Writes N.root.json for the current root, signed by the current root signers and by the
  // keys of the previously published root (a rotation's two thresholds).
  void PublishRoot();
  // Writes one targets role, snapshot, or timestamp with the current state.
  void PublishTargets(const std::string& name);
  void PublishSnapshot();
  void PublishTimestamp();
  // Every targets role (and its files), then snapshot, then timestamp.
  void Publish();

  std::string RootBytes(int64_t version) const;
  // The bytes last published for a role.
  const std::string& Published(const std::string& role_name) const;
  void WriteMetadata(const std::string& file_name, const std::string& bytes);
  std::string ReadMetadata(const std::string& file_name) const;

 private:
  std::vector<TestKey> SignersOf(const std::string& name) const;
  Json MetaOf(const std::string& role_name, int64_t version, bool with_hashes) const;

  std::string dir_;
  int64_t now_;
  std::map<std::string, Role> roles_;
  std::map<std::string, std::string> published_;
  std::vector<TestKey> previous_root_signers_;
};

// A fixture: a repository served over HTTP on loopback, a fake clock, a client directory,
// and helpers to run the real Updater over the real HTTP fetcher.
class TufTest : public ::testing::Test {
 protected:
  static constexpr int64_t kNow = 1'700'000'000;  // Nov 2023
  static constexpr int64_t kDay = 86'400;

  TufTest();

  // Trusts root version `version` in a fresh client metadata directory.
  void InitClient(int64_t version = 1);
  std::unique_ptr<tuf::Updater> NewUpdater(int max_root_rotations = 0, int max_delegations = 0);
  // A new Updater's Refresh().
  Status Refresh();
  // The client's trusted metadata files (name -> bytes).
  std::map<std::string, std::string> Trusted() const;
  std::string client_metadata_dir() const { return client_.Sub("metadata"); }
  std::string download_dir() const { return client_.Sub("downloads"); }

  TempDir served_;
  TempDir client_;
  FakeClock clock_{kNow};
  StaticHttpServer server_;
  TestRepository repo_;
  std::unique_ptr<Fetcher> fetcher_;
};

}  // namespace refuge::testing

#endif  // REFUGE_TESTS_SUPPORT_TEST_REPOSITORY_H_
