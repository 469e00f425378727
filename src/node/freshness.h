// Freshness: whether the version a node serves is still within its signed expiry.
//
// TUF metadata expire so that a reader notices a publisher that stopped signing (or an
// attacker replaying old metadata). A node keeps serving the last verified version after
// that, marked stale: `refuge mirror list` and the status endpoint say since when, and path
// responses carry a `Refuge-Stale` header; followers keep looking for a newer version.
//
// Thread-safety: like NodeHome (one per thread).
#ifndef REFUGE_NODE_FRESHNESS_H_
#define REFUGE_NODE_FRESHNESS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "node/node_home.h"

namespace refuge {

// The earliest "expires" among the served version's timestamp (the newest), snapshot and
// targets. kNotFound before the site's first version.
Result<int64_t> EarliestExpiry(NodeHome& home, const std::string& site_id);

// EarliestExpiry if it is not after `now`; nullopt while fresh or before any version.
Result<std::optional<int64_t>> StaleSince(NodeHome& home, const std::string& site_id, int64_t now);

}  // namespace refuge

#endif  // REFUGE_NODE_FRESHNESS_H_
