#include "mirror/object_downloader.h"

#include <algorithm>
#include <mutex>
#include <thread>

namespace refuge::mirror {

namespace {

constexpr size_t kMaxReportedProblems = 32;
inline constexpr char kObjectsPath[] = "/.refuge/v1/objects/";

class Run {
 public:
  Run(ObjectStore& store, const std::vector<ObjectInfo>& objects,
      const std::vector<std::string>& sources, const DownloaderOptions& options)
      : store_(store), objects_(objects), sources_(sources), options_(options) {}

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
      const size_t i = next_.fetch_add(1);
      if (i >= objects_.size() || Cancelled()) break;
      const ObjectInfo& want = objects_[i];
      bool done = false;
      for (size_t k = 0; k < sources_.size() && !done && !Cancelled(); ++k) {
        const std::string& source = sources_[(i + k) % sources_.size()];
        const std::string url = source + kObjectsPath + want.sha256;
        auto staged = store_.StageStream(
            [&](const ObjectStore::ChunkWriter& write) {
              return fetcher->FetchTo(url, want.size, write);
            },
            url, &want);
        if (!staged.ok()) {
          Note(source + ": object " + want.sha256.substr(0, 12) + ": " + staged.status().message());
          continue;
        }
        done = true;
        batch_bytes += want.size;
        batch.push_back(std::move(staged).value());
        {
          std::lock_guard<std::mutex> lock(mu_);
          ++report_.objects;
          report_.bytes += want.size;
        }
        if (options_.on_object) options_.on_object(want.size);
      }
      if (!done) {
        std::lock_guard<std::mutex> lock(mu_);
        ++report_.failed;
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
  const std::vector<std::string>& sources_;
  const DownloaderOptions& options_;
  std::atomic<size_t> next_{0};
  std::mutex mu_;
  DownloadReport report_;
};

}  // namespace

Result<DownloadReport> DownloadObjects(ObjectStore& store, const std::vector<ObjectInfo>& objects,
                                       const std::vector<std::string>& sources,
                                       const DownloaderOptions& options) {
  if (objects.empty()) return DownloadReport{};
  if (sources.empty()) return Unavailable("no source to fetch objects from");
  DownloadReport report = Run(store, objects, sources, options).Go();
  if (options.cancel && options.cancel->load()) return Unavailable("sync cancelled");
  if (report.failed > 0) {
    std::string why = report.problems.empty() ? "" : " (last: " + report.problems.back() + ")";
    return Unavailable(std::to_string(report.failed) + " of " + std::to_string(objects.size()) +
                       " objects could not be fetched from any of " +
                       std::to_string(sources.size()) + " source(s)" + why);
  }
  return report;
}

}  // namespace refuge::mirror
