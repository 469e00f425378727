#include "mirror/object_downloader.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <mutex>
#include <thread>

namespace refuge::mirror {

namespace {

constexpr size_t kMaxReportedProblems = 32;
// A source that failed this many times (unreachable, wrong bytes, errors) is skipped.
constexpr int kMaxSourceFailures = 2;
// Objects come from peers on the same kind of network as the metadata did; one that does not
// accept a connection this fast is passed over for the next (a partitioned peer must not cost
// seconds per object). A lost SYN is retransmitted after 1 s, so this still tolerates one.
constexpr long kObjectConnectTimeoutMs = 1'500;
// Attempts over the same sources when a fetch failed for a transient reason (a lossy link).
constexpr int kTransientRetries = 3;
// Besides every commit_batch_bytes, fetched objects are made durable this often.
constexpr size_t kCommitBatchObjects = 32;
constexpr auto kCommitInterval = std::chrono::milliseconds(250);
inline constexpr char kObjectsPath[] = "/.refuge/v1/objects/";

class Run {
 public:
  Run(ObjectStore& store, const std::vector<ObjectInfo>& objects,
      const std::vector<std::string>& primary, const std::vector<std::string>& fallback,
      const DownloaderOptions& options)
      : store_(store), objects_(objects), primary_(primary), fallback_(fallback), options_(options) {
    failures_ = std::make_unique<std::atomic<int>[]>(primary_.size() + fallback_.size());
    order_.resize(objects_.size());
    for (size_t i = 0; i < order_.size(); ++i) order_[i] = i;
    std::shuffle(order_.begin(), order_.end(), std::mt19937_64(std::random_device{}()));
  }

  DownloadReport Go() {
    const int threads =
        static_cast<int>(std::min<size_t>(std::max(1, options_.parallel), objects_.size()));
    std::vector<std::thread> workers;
    for (int i = 0; i < threads; ++i) workers.emplace_back([this] { Work(); });
    for (auto& t : workers) t.join();
    return report_;
  }

 private:
  bool Cancelled() const { return options_.cancel && options_.cancel->load(); }

  void Work() {
    HttpFetcherOptions http = options_.http;
    http.connect_timeout_ms = std::min(http.connect_timeout_ms, kObjectConnectTimeoutMs);
    std::unique_ptr<Fetcher> fetcher = NewHttpFetcher(http);
    std::vector<StagedObject> batch;
    uint64_t batch_bytes = 0;
    auto last_flush = std::chrono::steady_clock::now();
    auto flush = [&] {
      last_flush = std::chrono::steady_clock::now();
      if (batch.empty()) return;
      Status s = store_.CommitStaged(batch);
      if (!s.ok()) {
        // Not durable, so not stored: these objects count as failed, and the sync fails.
        store_.AbortStaged(batch);
        Note("object store: " + s.ToString());
        std::lock_guard<std::mutex> lock(mu_);
        report_.objects -= batch.size();
        report_.failed += batch.size();
        for (const StagedObject& o : batch) report_.bytes -= o.info.size;
      }
      batch.clear();
      batch_bytes = 0;
    };
    for (;;) {
      const size_t n = next_.fetch_add(1);
      if (n >= objects_.size() || Cancelled()) break;
      const size_t i = order_[n];
      const ObjectInfo& want = objects_[i];
      // Returns true when the object is staged. A failure other than "not here" counts
      // against the source; after kMaxSourceFailures it is skipped for the rest of the run
      // (a dead or lying peer must not cost a timeout per object).
      auto try_source = [&](size_t index) {
        const std::string& source = SourceAt(index);
        if (failures_[index].load() >= kMaxSourceFailures && AnotherSourceAlive(index)) return false;
        const std::string url = source + kObjectsPath + want.sha256;
        auto staged = store_.StageStream(
            [&](const ObjectStore::ChunkWriter& write) {
              return fetcher->FetchTo(url, want.size, write);
            },
            url, &want);
        if (!staged.ok()) {
          if (staged.status().code() != StatusCode::kNotFound) {
            failures_[index].fetch_add(1);
            Note(source + ": object " + want.sha256.substr(0, 12) + ": " + staged.status().message());
          }
          return false;
        }
        batch_bytes += want.size;
        batch.push_back(std::move(staged).value());
        {
          std::lock_guard<std::mutex> lock(mu_);
          ++report_.objects;
          report_.bytes += want.size;
        }
        if (options_.on_object) options_.on_object(want.size);
        return true;
      };
      bool done = false;
      // Rounds over the primaries: peers still syncing may get the object in a moment, and a
      // lossy link may fail once; then the fallbacks, also with retries.
      const int rounds = fallback_.empty() ? kTransientRetries : std::max(1, options_.primary_rounds);
      for (int round = 0; round < rounds && !done && !Cancelled(); ++round) {
        if (round > 0) std::this_thread::sleep_for(std::chrono::milliseconds(options_.round_delay_ms));
        for (size_t k = 0; k < primary_.size() && !done && !Cancelled(); ++k) {
          done = try_source((n + k) % primary_.size());
        }
      }
      for (int round = 0; round < kTransientRetries && !done && !fallback_.empty() && !Cancelled(); ++round) {
        if (round > 0) std::this_thread::sleep_for(std::chrono::milliseconds(options_.round_delay_ms));
        for (size_t k = 0; k < fallback_.size() && !done && !Cancelled(); ++k) {
          done = try_source(primary_.size() + k);
        }
      }
      if (!done) {
        std::lock_guard<std::mutex> lock(mu_);
        ++report_.failed;
        if (report_.problems.size() < kMaxReportedProblems) {
          report_.problems.push_back("object " + want.sha256.substr(0, 12) + ": no source has it");
        }
      }
      // Durable in batches, also by count and time, so that an interrupted sync keeps most
      // of what it fetched.
      if (batch_bytes >= options_.commit_batch_bytes || batch.size() >= kCommitBatchObjects ||
          std::chrono::steady_clock::now() - last_flush >= kCommitInterval) {
        flush();
      }
    }
    flush();
  }

  bool AnotherSourceAlive(size_t index) const {
    for (size_t j = 0; j < primary_.size() + fallback_.size(); ++j) {
      if (j != index && failures_[j].load() < kMaxSourceFailures) return true;
    }
    return false;
  }

  const std::string& SourceAt(size_t index) const {
    return index < primary_.size() ? primary_[index] : fallback_[index - primary_.size()];
  }

  void Note(std::string problem) {
    std::lock_guard<std::mutex> lock(mu_);
    if (report_.problems.size() < kMaxReportedProblems) report_.problems.push_back(std::move(problem));
  }

  ObjectStore& store_;
  const std::vector<ObjectInfo>& objects_;
  const std::vector<std::string>& primary_;
  const std::vector<std::string>& fallback_;
  std::vector<size_t> order_;  // a random permutation of the objects
  std::unique_ptr<std::atomic<int>[]> failures_;  // per source (primary, then fallback)
  const DownloaderOptions& options_;
  std::atomic<size_t> next_{0};
  std::mutex mu_;
  DownloadReport report_;
};

}  // namespace

Result<DownloadReport> DownloadObjects(ObjectStore& store, const std::vector<ObjectInfo>& objects,
                                       const std::vector<std::string>& primary,
                                       const std::vector<std::string>& fallback,
                                       const DownloaderOptions& options) {
  if (objects.empty()) return DownloadReport{};
  if (primary.empty() && fallback.empty()) return Unavailable("no source to fetch objects from");
  if (primary.empty()) return DownloadObjects(store, objects, fallback, {}, options);
  DownloadReport report = Run(store, objects, primary, fallback, options).Go();
  if (options.cancel && options.cancel->load()) return Unavailable("sync cancelled");
  if (report.failed > 0) {
    // The first problem is the telling one (a source that served bytes that do not verify,
    // a store that cannot write); the last is usually "no source has it".
    std::string why = report.problems.empty() ? "" : " (first problem: " + report.problems.front() + ")";
    return Unavailable(std::to_string(report.failed) + " of " + std::to_string(objects.size()) +
                       " objects could not be fetched from any of " +
                       std::to_string(primary.size() + fallback.size()) + " source(s)" + why);
  }
  return report;
}

}  // namespace refuge::mirror
