#include "mirror/object_downloader.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <mutex>
#include <thread>

namespace refuge::mirror {

namespace {

constexpr size_t kMaxReportedProblems = 32;
inline constexpr char kObjectsPath[] = "/.refuge/v1/objects/";

class Run {
 public:
  Run(ObjectStore& store, const std::vector<ObjectInfo>& objects,
      const std::vector<std::string>& primary, const std::vector<std::string>& fallback,
      const DownloaderOptions& options)
      : store_(store), objects_(objects), primary_(primary), fallback_(fallback), options_(options) {
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
    std::unique_ptr<Fetcher> fetcher = NewHttpFetcher(options_.http);
    std::vector<StagedObject> batch;
    uint64_t batch_bytes = 0;
    auto flush = [&] {
      if (batch.empty()) return;
      Status s = store_.CommitStaged(batch);
      if (!s.ok()) {
        store_.AbortStaged(batch);
        Note("object store: " + s.ToString());
      }
      batch.clear();
      batch_bytes = 0;
    };
    for (;;) {
      const size_t n = next_.fetch_add(1);
      if (n >= objects_.size() || Cancelled()) break;
      const size_t i = order_[n];
      const ObjectInfo& want = objects_[i];
      auto try_source = [&](const std::string& source) {
        const std::string url = source + kObjectsPath + want.sha256;
        auto staged = store_.StageStream(
            [&](const ObjectStore::ChunkWriter& write) {
              return fetcher->FetchTo(url, want.size, write);
            },
            url, &want);
        if (!staged.ok()) {
          if (staged.status().code() != StatusCode::kNotFound) {
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
      const int rounds = fallback_.empty() ? 1 : std::max(1, options_.primary_rounds);
      for (int round = 0; round < rounds && !done && !Cancelled(); ++round) {
        if (round > 0) std::this_thread::sleep_for(std::chrono::milliseconds(options_.round_delay_ms));
        for (size_t k = 0; k < primary_.size() && !done && !Cancelled(); ++k) {
          done = try_source(primary_[(n + k) % primary_.size()]);
        }
      }
      for (size_t k = 0; k < fallback_.size() && !done && !Cancelled(); ++k) {
        done = try_source(fallback_[k]);
      }
      if (!done) {
        std::lock_guard<std::mutex> lock(mu_);
        ++report_.failed;
        if (report_.problems.size() < kMaxReportedProblems) {
          report_.problems.push_back("object " + want.sha256.substr(0, 12) + ": no source has it");
        }
      }
      if (batch_bytes >= options_.commit_batch_bytes) flush();
    }
    flush();
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
    std::string why = report.problems.empty() ? "" : " (last: " + report.problems.back() + ")";
    return Unavailable(std::to_string(report.failed) + " of " + std::to_string(objects.size()) +
                       " objects could not be fetched from any of " +
                       std::to_string(primary.size() + fallback.size()) + " source(s)" + why);
  }
  return report;
}

}  // namespace refuge::mirror
