// Verifier: `refuge verify`, a full re-check of what a node holds.
//
// For each site: the root chain (1.root.json hashes to the site ID; each root signed by a
// threshold of the previous root's keys and of its own), every retained version (snapshot
// and targets parse and are signed by keys of the root they were published under; the
// snapshot names the targets file by version, length and hash; the file list matches the
// signed targets), the newest timestamp (signed, naming the current snapshot), and every
// object they reference (present, and hashing to its name). Without a site filter, every
// object in the store is re-hashed too. Expired metadata is reported as a warning, not a
// problem: an expired publication is stale, not corrupt.
//
// Thread-safety: one per NodeHome.
#ifndef REFUGE_NODE_VERIFIER_H_
#define REFUGE_NODE_VERIFIER_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "node/node_home.h"

namespace refuge {

struct VerifyFinding {
  std::string site_id;  // empty for store-wide findings
  std::string message;  // one line: what is wrong and where
};

struct VerifyReport {
  uint64_t sites = 0;
  uint64_t versions = 0;
  uint64_t objects_checked = 0;
  std::vector<VerifyFinding> problems;
  std::vector<VerifyFinding> warnings;
};

Result<VerifyReport> VerifyNode(NodeHome& home, const std::optional<std::string>& site_id,
                                const Clock& clock,
                                const std::function<void(uint64_t objects)>& progress = {});

}  // namespace refuge

#endif  // REFUGE_NODE_VERIFIER_H_
