// MirrorChecker: what `refuge mirrors check` finds out about each mirror of a site, each on
// its own, without changing what the reader trusts.
//
// For one mirror (CheckMirror):
//   - reachable or not (anything answered: the status endpoint, a metadata file, a 404);
//   - the version it serves: a full TUF refresh against that mirror alone, from a copy of the
//     reader's trusted metadata (or, with none, from the mirror's own 1.root.json if it hashes
//     to the site ID), so rolled-back metadata, a bad signature or expired metadata show up as
//     such ("serves rolled-back metadata (v3 < trusted v5)", "bad signature on snapshot",
//     "stale: timestamp metadata expired at ... (3 days ago)");
//   - the node's own view from GET /.refuge/v1/status (its version, stale_since, blocked items);
//     a node without that endpoint is fine;
//   - content that does not verify: the files of the version it serves (top-level targets),
//     all of them up to `max_files`, or a random sample, each fetched from that mirror and
//     checked against the signed length and hashes.
// CheckMirrors runs CheckMirror for several mirrors in parallel, then marks the mirrors that
// serve a valid but older version than another one as "behind".
//
// Classifying a failed refresh reads the messages of tuf/updater.cc and tuf/metadata.cc (the
// patterns are in mirror_checker.cc, and the tests pin them).
//
// Thread-safety: functions without shared state; CheckMirrors uses threads of its own.
#ifndef REFUGE_NODE_MIRROR_CHECKER_H_
#define REFUGE_NODE_MIRROR_CHECKER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "net/fetcher.h"

namespace refuge {

enum class MirrorMetadataState {
  kOk,
  kStale,        // expired metadata (signed, otherwise valid)
  kRolledBack,   // older than what the reader trusts
  kBad,          // a bad signature, malformed or mismatching metadata, a forged first root
  kUnreachable,  // nothing answered
  kNotServed,    // answers, but not for this site
  kFailed,       // another failure (a transfer broke, a local error)
};
const char* MirrorMetadataStateName(MirrorMetadataState state);

struct MirrorFileProblem {
  std::string path;
  std::string reason;
};

struct MirrorCheck {
  std::string url;
  bool reachable = false;
  std::optional<int64_t> version;  // the (snapshot) version it serves, when known
  MirrorMetadataState metadata = MirrorMetadataState::kFailed;
  std::string metadata_detail;     // one line for the report
  std::optional<int64_t> stale_since;
  bool behind = false;             // valid, but older than another mirror's (CheckMirrors)

  // GET /.refuge/v1/status
  bool status_available = false;
  std::string status_detail;
  std::optional<int64_t> status_version;
  std::optional<int64_t> status_stale_since;
  std::vector<MirrorFileProblem> blocked;  // path and reason as the node gives them

  // Content of the version it serves.
  size_t files_total = 0;
  size_t files_checked = 0;
  size_t files_verified = 0;
  size_t mismatch_count = 0;
  size_t unavailable_count = 0;
  std::vector<MirrorFileProblem> mismatched;   // do not verify: evidence of tampering
  std::vector<MirrorFileProblem> unavailable;  // missing, blocked (451), or the transfer failed

  // Served data that does not verify (metadata or content).
  bool Tampering() const { return metadata == MirrorMetadataState::kBad || mismatch_count > 0; }
  // Reachable, current, unexpired, every checked file verified and available.
  bool Fine() const {
    return reachable && metadata == MirrorMetadataState::kOk && !behind && mismatch_count == 0 &&
           unavailable_count == 0;
  }
};

struct MirrorCheckOptions {
  std::string site_id;
  // The reader's trusted metadata (read only; may be missing or hold no root yet).
  std::string trusted_metadata_dir;
  // A private scratch directory (created if needed; each mirror gets a subdirectory).
  std::string work_dir;
  // Files checked per mirror: every file up to max_files; with sample > 0, that many at random.
  size_t max_files = 1000;
  size_t sample = 0;
  size_t max_listed_problems = 100;  // per list; the counts stay complete
  size_t parallel = 8;               // CheckMirrors: mirrors checked at once
  HttpFetcherOptions http;
  const Clock* clock = nullptr;  // not owned; SystemClock if null
};

// One mirror. `work_dir` is this mirror's scratch directory.
MirrorCheck CheckMirror(const std::string& url, const MirrorCheckOptions& options,
                        const std::string& work_dir);
// Every mirror (results in the order of `urls`), "behind" marked.
std::vector<MirrorCheck> CheckMirrors(const std::vector<std::string>& urls,
                                      const MirrorCheckOptions& options);

}  // namespace refuge

#endif  // REFUGE_NODE_MIRROR_CHECKER_H_
