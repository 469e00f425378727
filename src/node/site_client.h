// SiteClient: reads one site as a TUF client, the way `refuge get` does, from one source or
// from every known mirror of the site.
//
// Sources. A source is an http(s) URL of a refuge node (the site's repository is under
// /.refuge/v1/sites/<site-id>/) or the path of a node home on this machine.
//   - One source (a URL or a node home): everything comes from it, as a plain TUF client.
//   - Several URLs, or none: the client reads through a MirrorFetcher (net/mirror_fetcher.h)
//     over every known mirror: the given URLs first, then the URLs of the site's signed mirror
//     list saved by an earlier read (`<client dir>/mirrors.json`). A node home cannot be
//     mixed with URLs.
//
// Trust starts from the site ID alone: if no trusted root is kept yet, the client fetches
// 1.root.json and accepts it only if its SHA-256 is the site ID; from there the TUF workflow
// (tuf/updater.h) decides everything. Trusted metadata persists in `<client dir>/metadata`, so
// a source that later serves older metadata (rollback) is refused.
//
// Mirrors are untrusted. When data from a mirror fails verification (a bad signature,
// rolled-back or expired metadata, a target whose hash does not match), the mirrors that
// delivered it are excluded for the rest of this client's life and the step is retried on
// the others, until one passes or none is left. A site whose every mirror serves expired
// metadata therefore still fails, with the expiry as the reason.
//
// The signed mirror list. After each successful refresh the client resolves the target
// `.refuge/mirrors.json` (node/mirror_list.h) through TUF, when the site has one, downloads
// and verifies it like any target, checks it (ParseSiteMirrorList) and saves the verified bytes
// as `<client dir>/mirrors.json`. A site that has no list leaves an earlier saved one in place.
// A bad list is not an error of the read: it is reported (mirror_list_warning()) and not saved.
//
// Thread-safety: one per thread.
#ifndef REFUGE_NODE_SITE_CLIENT_H_
#define REFUGE_NODE_SITE_CLIENT_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "net/fetcher.h"
#include "net/mirror_fetcher.h"
#include "node/mirror_list.h"
#include "node/node_home.h"
#include "tuf/updater.h"

namespace refuge {

struct SiteClientOptions {
  // --from values: http(s) node URLs, or exactly one node home path. Several URLs or none:
  // every known mirror (see the top of this file).
  std::vector<std::string> sources;
  // <home>/client/<site-id>: trusted metadata in metadata/, the saved list in mirrors.json.
  std::string client_dir;
  // Timings and HTTP options of the mirror fetcher; `mirror_options.http` also applies to a
  // single URL source.
  MirrorFetcherOptions mirror_options;
  const Clock* clock = nullptr;  // not owned; SystemClock if null
};

// What one mirror did during this client's reads, for reports.
struct MirrorReport {
  std::string url;
  std::string outcome;  // MirrorOutcomeName of its last attempt, "excluded", "not tried"
  std::string detail;
  bool failed = false;  // unreachable, failed, stalled, too large or excluded
};

struct MirrorAttemptReport {
  std::string url;
  std::string outcome;  // MirrorOutcomeName
  std::string detail;
  uint64_t offset = 0;  // where it started (a resume asks for the bytes from here)
  uint64_t bytes = 0;   // body bytes it delivered
};

class SiteClient {
 public:
  static Result<std::unique_ptr<SiteClient>> Open(const SiteClientOptions& options,
                                                  const std::string& site_id);
  // One source, trusted metadata in `metadata_dir`, no mirror list kept (the original form).
  static Result<std::unique_ptr<SiteClient>> Open(const std::string& source,
                                                  const std::string& site_id,
                                                  const std::string& metadata_dir);

  // Refreshes metadata (then saves the site's mirror list) and finds the target for a site
  // path ("" or "dir/" mean index.html).
  Result<tuf::TargetFile> Resolve(const std::string& path);
  // Downloads a resolved target to `file` (verified before it appears).
  Status Download(const tuf::TargetFile& info, const std::string& file);

  const std::string& target_path() const { return target_path_; }
  int64_t version() const;

  // Several mirrors (a MirrorFetcher) rather than one source?
  bool uses_mirrors() const { return mirrors_ != nullptr; }
  // The source that served the last download: the single source, or the mirror's base URL.
  const std::string& served_by() const { return served_by_; }
  // Every mirror and what it did (empty with a single source).
  std::vector<MirrorReport> mirror_reports() const;
  // The attempts of the last download's final fetch (empty with a single source): with a
  // resume, the mirror that broke off and the one that went on from `offset`.
  std::vector<MirrorAttemptReport> last_download_attempts() const { return last_download_attempts_; }
  // Set when the site's mirror list could not be saved (and why); empty otherwise.
  const std::string& mirror_list_warning() const { return mirror_list_warning_; }

 private:
  SiteClient() = default;
  // Bootstraps trust (1.root.json hashing to the site ID) if needed and opens the updater.
  Status Init(const std::string& site_id, const std::string& base, const std::string& metadata_dir,
              const Clock* clock);
  // Runs `step` until it passes, excluding the mirrors whose data failed verification.
  Status WithMirrorRetries(const std::function<Status()>& step);
  void SaveMirrorList();

  std::unique_ptr<NodeHome> source_home_;  // for a local source
  std::unique_ptr<Fetcher> fetcher_;
  MirrorFetcher* mirrors_ = nullptr;  // fetcher_, when it is a MirrorFetcher
  std::unique_ptr<tuf::Updater> updater_;
  std::string site_id_;
  std::string client_dir_;  // empty: no mirror list kept
  std::string single_source_;
  std::string target_path_;
  std::string served_by_;
  std::string mirror_list_warning_;
  std::vector<MirrorAttemptReport> last_download_attempts_;
};

// "index.html" for "" and "dir/index.html" for "dir/": directory paths name their index.
std::string IndexPath(const std::string& path);

// --- The saved mirror list ------------------------------------------------------------------

// `<client_dir>/mirrors.json`.
std::string SavedMirrorListPath(const std::string& client_dir);

// ParseMirrorList, plus what a reader requires before it uses a list: it names this site, and
// each key is empty or 64 hex digits of an Ed25519 public key (entries with another key are
// dropped, like entries whose URL is not http(s)).
Result<MirrorList> ParseSiteMirrorList(std::string_view bytes, const std::string& site_id);

// The saved list of a site, or nullopt if none is saved. A saved file that does not parse is
// an error (kCorruption), naming the file.
Result<std::optional<MirrorList>> LoadSavedMirrorList(const std::string& client_dir,
                                                      const std::string& site_id);

// The mirrors a client of the site knows: `seeds` (http(s) URLs, normalized) first, then the
// saved list's, in order, without duplicates. Seeds that are not http(s) URLs are kInvalidArgument.
Result<std::vector<std::string>> KnownMirrors(const std::vector<std::string>& seeds,
                                              const std::optional<MirrorList>& saved);

// Is `source` an http(s) URL (rather than a node home path)?
bool IsUrlSource(const std::string& source);

}  // namespace refuge

#endif  // REFUGE_NODE_SITE_CLIENT_H_
