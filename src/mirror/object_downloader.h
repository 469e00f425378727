// ObjectDownloader: fetches missing objects from several nodes at once into the object store.
//
// Objects are content-addressed, so any node holding one can serve it at
// /.refuge/v1/objects/<sha256>, whatever version of whatever site it is on. Worker threads
// (each with its own connection-reusing libcurl handle) take objects from a shared queue in a
// random order (so that mirrors syncing at the same time hold different objects early and can
// serve them to each other); the i-th object is first asked of primary source i mod N, so the
// load spreads over all of them, and a source that fails (unreachable, 404, 451, wrong bytes,
// too long) is skipped for that object and the next one asked. Peers that are themselves
// still syncing answer 404 for what they lack yet, so the primaries are asked again for a few
// rounds before the fallback sources (the publisher, whose upload is the scarce resource) are. Every object is checked against its expected length and SHA-256 on
// the way into the store (ObjectStore::StageStream): bytes that do not verify are never
// stored. Verified objects are made durable in batches (kCommitBatchBytes), so work done
// before an interruption is kept.
//
// Thread-safety: Run() is called once, from one thread; it starts and joins its workers.
#ifndef REFUGE_MIRROR_OBJECT_DOWNLOADER_H_
#define REFUGE_MIRROR_OBJECT_DOWNLOADER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "net/fetcher.h"
#include "store/object_store.h"

namespace refuge::mirror {

struct DownloadReport {
  uint64_t objects = 0;  // fetched and stored
  uint64_t bytes = 0;
  uint64_t failed = 0;  // objects no source could provide
  // Per-source failures ("<url>: <why>"), bounded in number.
  std::vector<std::string> problems;
};

struct DownloaderOptions {
  HttpFetcherOptions http;
  int parallel = 8;
  // Rounds over the primary sources, `round_delay_ms` apart, before the fallback sources
  // are asked (only when there are fallback sources).
  int primary_rounds = 8;
  int64_t round_delay_ms = 250;
  uint64_t commit_batch_bytes = 8 * 1024 * 1024;
  const std::atomic<bool>* cancel = nullptr;
  // Called from worker threads after each stored object (must be thread-safe).
  std::function<void(uint64_t bytes)> on_object;
};

// Downloads `objects` (hash and expected size) from `primary` (node base URLs, spread over)
// and then `fallback` (in order) into `store`. Fails (kUnavailable) if some object could not
// be fetched from any source; the objects that were fetched stay stored either way.
Result<DownloadReport> DownloadObjects(ObjectStore& store, const std::vector<ObjectInfo>& objects,
                                       const std::vector<std::string>& primary,
                                       const std::vector<std::string>& fallback,
                                       const DownloaderOptions& options);

}  // namespace refuge::mirror

#endif  // REFUGE_MIRROR_OBJECT_DOWNLOADER_H_
