// MirrorFetcher: the rules are at the top of mirror_fetcher.h. This file is one fetch loop
// over the libcurl multi interface (FetchTo), the two libcurl callbacks that feed it, and the
// bookkeeping behind the reports.
#include "net/mirror_fetcher.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

#include "net/curl_common.h"

namespace refuge {

namespace {

using curl_internal::ClassifyHttpCode;
using curl_internal::HttpAnswer;

int64_t NowMs() { return SystemMonotonicClock::Get().NowNanos() / 1'000'000; }

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsFailure(MirrorOutcome o) {
  return o == MirrorOutcome::kUnreachable || o == MirrorOutcome::kFailed ||
         o == MirrorOutcome::kStalled || o == MirrorOutcome::kTooLarge;
}

// A node base URL: http(s), no spaces or control characters, bounded; trailing '/' dropped.
bool NormalizeBase(std::string& url) {
  if (url.size() > 2048) return false;
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) return false;
  for (unsigned char c : url) {
    if (c <= 0x20 || c == 0x7f) return false;
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url.find("://") + 3 < url.size();
}

// ---------------------------------------------------------------------------------------------
// One fetch and its attempts.

struct FetchState;

struct Attempt {
  FetchState* fetch = nullptr;
  size_t mirror = 0;
  size_t record = 0;  // index in last_attempts_
  CURL* easy = nullptr;
  uint64_t offset = 0;
  uint64_t skip = 0;         // bytes of a 200 answer to a Range request still to drop
  bool answer_checked = false;
  bool was_winner = false;
  uint64_t received = 0;     // body bytes taken from this attempt (after skip)
  int64_t started_ms = 0;
  int64_t last_progress_ms = 0;
  long http_code = 0;
  std::optional<uint64_t> content_range_start;
  Status error;              // set by the callbacks: too large, a wrong Range answer
  std::string buffer;        // buffered mode: the body so far
  char curl_error[CURL_ERROR_SIZE] = {};
};

struct FetchState {
  std::string path;
  uint64_t max_bytes = 0;
  const Fetcher::Sink* sink = nullptr;
  bool buffered = true;
  bool immutable = false;
  BandwidthLimiter* limiter = nullptr;
  uint64_t delivered = 0;  // streaming mode: bytes passed to the sink
  Attempt* winner = nullptr;
  Status sink_status;
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* a = static_cast<Attempt*>(user);
  const size_t n = size * count;
  a->last_progress_ms = NowMs();
  std::string_view line(data, n);
  if (line.rfind("HTTP/", 0) == 0) {
    a->content_range_start.reset();  // a new response (after a 1xx)
    return n;
  }
  constexpr std::string_view kName = "content-range:";
  if (line.size() > kName.size() &&
      std::equal(kName.begin(), kName.end(), line.begin(),
                 [](char x, char y) { return x == std::tolower(static_cast<unsigned char>(y)); })) {
    std::string_view v = line.substr(kName.size());
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    if (v.rfind("bytes ", 0) == 0) {
      v.remove_prefix(6);
      uint64_t start = 0;
      size_t i = 0;
      for (; i < v.size() && i < 20 && v[i] >= '0' && v[i] <= '9'; ++i) {
        start = start * 10 + static_cast<uint64_t>(v[i] - '0');
      }
      if (i > 0 && i < v.size() && v[i] == '-') a->content_range_start = start;
    }
  }
  return n;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* a = static_cast<Attempt*>(user);
  FetchState& f = *a->fetch;
  const size_t n = size * count;
  a->last_progress_ms = NowMs();
  if (a->http_code == 0) curl_easy_getinfo(a->easy, CURLINFO_RESPONSE_CODE, &a->http_code);
  // Error bodies are not the data: stop reading them; the status is classified at the end.
  if (ClassifyHttpCode(a->http_code) != HttpAnswer::kData) return 0;
  if (f.winner != nullptr && f.winner != a) return 0;  // lost the race
  if (!a->answer_checked) {
    a->answer_checked = true;
    if (a->http_code == 206) {
      if (a->offset == 0 || a->content_range_start != a->offset) {
        a->error = Unavailable("answered with the wrong part (HTTP 206)");
        return 0;
      }
    } else if (a->http_code == 200) {
      a->skip = a->offset;  // Range ignored: the whole body, from its first byte
    } else {
      a->error = Unavailable("unexpected HTTP status " + std::to_string(a->http_code));
      return 0;
    }
  }
  std::string_view chunk(data, n);
  if (a->skip > 0) {
    const size_t k = static_cast<size_t>(std::min<uint64_t>(a->skip, chunk.size()));
    chunk.remove_prefix(k);
    a->skip -= k;
    if (chunk.empty()) return n;
  }
  if (a->offset + a->received + chunk.size() > f.max_bytes) {
    a->error = TooLarge("more than the limit of " + std::to_string(f.max_bytes) + " bytes");
    return 0;
  }
  if (f.winner == nullptr) {
    f.winner = a;
    a->was_winner = true;
  }
  // The shared cap: sleep here until the bucket grants the bytes (see fetcher.cc). Only the
  // winner gets this far, so the sleep holds back no other transfer of this fetch that
  // matters; the progress time is taken after it, so the cap never looks like a stall.
  if (f.limiter != nullptr) f.limiter->Acquire(chunk.size());
  if (f.buffered) {
    a->buffer.append(chunk);
  } else {
    Status s = (*f.sink)(chunk);
    if (!s.ok()) {
      f.sink_status = s;
      return 0;
    }
    f.delivered += chunk.size();
  }
  a->received += chunk.size();
  a->last_progress_ms = NowMs();
  return n;
}

bool IsConnectFailure(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_PROXY:
      return true;
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------

class MirrorFetcherImpl final : public MirrorFetcher {
 public:
  MirrorFetcherImpl(std::vector<std::string> base_urls, MirrorFetcherOptions options)
      : options_(std::move(options)) {
    curl_internal::GlobalInitOnce();
    multi_ = curl_multi_init();
    if (multi_ == nullptr) std::abort();
    init_status_ = ValidateHttpFetcherOptions(options_.http);
    if (init_status_.ok() && !options_.http.socks5_proxy.empty()) {
      proxy_url_ = *Socks5ProxyUrl(options_.http.socks5_proxy);
    }
    for (std::string& url : base_urls) {
      if (!NormalizeBase(url)) {
        init_status_ = InvalidArgument("mirror '" + url + "' is not an http(s) node URL");
        continue;
      }
      if (std::any_of(states_.begin(), states_.end(),
                      [&](const MirrorState& s) { return s.base_url == url; })) {
        continue;
      }
      MirrorState state;
      state.base_url = url;
      states_.push_back(std::move(state));
    }
    if (states_.empty() && init_status_.ok()) init_status_ = InvalidArgument("no mirror to fetch from");
    options_.max_attempts = std::max(1, options_.max_attempts);
    options_.not_found_quorum = std::max(1, options_.not_found_quorum);
    options_.hedge_delay_ms = std::max(0L, options_.hedge_delay_ms);
    options_.stall_ms = std::max(1L, options_.stall_ms);
  }

  ~MirrorFetcherImpl() override { curl_multi_cleanup(multi_); }

  Status FetchTo(const std::string& url, uint64_t max_bytes, const Sink& sink) override;

  size_t mirror_count() const override { return states_.size(); }
  const std::string& base_url(size_t mirror) const override { return states_.at(mirror).base_url; }
  std::optional<size_t> last_served() const override { return last_served_; }
  std::vector<size_t> last_contributors() const override { return last_contributors_; }
  const std::vector<MirrorAttempt>& last_attempts() const override { return last_attempts_; }
  std::vector<MirrorState> states() const override { return states_; }
  void Exclude(size_t mirror, const std::string& reason) override {
    if (mirror >= states_.size()) return;
    states_[mirror].excluded = true;
    states_[mirror].excluded_reason = reason;
    states_[mirror].last_outcome = MirrorOutcome::kExcluded;
    states_[mirror].last_detail = reason;
    if (preferred_ == mirror) preferred_.reset();
  }
  size_t usable_count() const override {
    return static_cast<size_t>(std::count_if(states_.begin(), states_.end(),
                                             [](const MirrorState& s) { return !s.excluded; }));
  }

 private:
  std::vector<size_t> CandidateOrder() const;
  Attempt* Start(FetchState& f, size_t mirror, uint64_t offset);
  // Takes the attempt out of the multi handle and records how it ended.
  void Finish(Attempt* a, MirrorOutcome outcome, const std::string& detail);
  std::string Summary() const;

  MirrorFetcherOptions options_;
  Status init_status_;
  std::string proxy_url_;
  CURLM* multi_ = nullptr;
  std::vector<MirrorState> states_;
  std::optional<size_t> preferred_;
  std::optional<size_t> last_served_;
  std::vector<size_t> last_contributors_;
  std::vector<MirrorAttempt> last_attempts_;
  std::vector<std::unique_ptr<Attempt>> active_;
};

std::vector<size_t> MirrorFetcherImpl::CandidateOrder() const {
  std::vector<size_t> order;
  if (preferred_ && !states_[*preferred_].excluded) order.push_back(*preferred_);
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < states_.size(); ++i) {
      if (states_[i].excluded || (preferred_ && i == *preferred_)) continue;
      // Those that worked (or were never asked) first, those that failed last time after.
      if (IsFailure(states_[i].last_outcome) == (pass == 1)) order.push_back(i);
    }
  }
  return order;
}

Attempt* MirrorFetcherImpl::Start(FetchState& f, size_t mirror, uint64_t offset) {
  auto a = std::make_unique<Attempt>();
  a->fetch = &f;
  a->mirror = mirror;
  a->offset = offset;
  a->started_ms = a->last_progress_ms = NowMs();
  a->record = last_attempts_.size();
  MirrorAttempt record;
  record.mirror = mirror;
  record.offset = offset;
  last_attempts_.push_back(record);

  a->easy = curl_easy_init();
  if (a->easy == nullptr) std::abort();
  const std::string url = states_[mirror].base_url + f.path;
  curl_easy_setopt(a->easy, CURLOPT_URL, url.c_str());
  curl_internal::ApplyOptions(a->easy, options_.http, proxy_url_, f.max_bytes);
  curl_easy_setopt(a->easy, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(a->easy, CURLOPT_WRITEDATA, a.get());
  curl_easy_setopt(a->easy, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(a->easy, CURLOPT_HEADERDATA, a.get());
  curl_easy_setopt(a->easy, CURLOPT_PRIVATE, a.get());
  curl_easy_setopt(a->easy, CURLOPT_ERRORBUFFER, a->curl_error);
  if (offset > 0) {
    const std::string range = std::to_string(offset) + "-";
    curl_easy_setopt(a->easy, CURLOPT_RANGE, range.c_str());
  }
  curl_multi_add_handle(multi_, a->easy);
  active_.push_back(std::move(a));
  return active_.back().get();
}

void MirrorFetcherImpl::Finish(Attempt* a, MirrorOutcome outcome, const std::string& detail) {
  curl_multi_remove_handle(multi_, a->easy);
  curl_easy_cleanup(a->easy);
  a->easy = nullptr;
  MirrorAttempt& record = last_attempts_[a->record];
  record.outcome = outcome;
  record.detail = detail;
  record.bytes = a->received;
  record.elapsed_ms = NowMs() - a->started_ms;
  if (a->was_winner && a->received > 0 &&
      (outcome == MirrorOutcome::kServed || !a->fetch->buffered)) {
    last_contributors_.push_back(a->mirror);
  }
  MirrorState& state = states_[a->mirror];
  if (outcome != MirrorOutcome::kCancelled) {
    state.last_outcome = outcome;
    state.last_detail = detail;
  }
  if (outcome == MirrorOutcome::kServed) ++state.served;
  if (outcome == MirrorOutcome::kNotFound || outcome == MirrorOutcome::kBlocked) ++state.not_found;
  if (IsFailure(outcome)) ++state.failures;
  auto it = std::find_if(active_.begin(), active_.end(),
                         [a](const std::unique_ptr<Attempt>& p) { return p.get() == a; });
  if (it != active_.end()) active_.erase(it);
}

std::string MirrorFetcherImpl::Summary() const {
  std::string out;
  for (const MirrorAttempt& r : last_attempts_) {
    if (r.outcome == MirrorOutcome::kCancelled) continue;
    if (!out.empty()) out += "; ";
    out += states_[r.mirror].base_url + ": " + (r.detail.empty() ? MirrorOutcomeName(r.outcome) : r.detail);
  }
  return out;
}

Status MirrorFetcherImpl::FetchTo(const std::string& url, uint64_t max_bytes, const Sink& sink) {
  if (!init_status_.ok()) return init_status_;
  const std::string_view scheme = kMirrorUrlScheme;
  if (url.rfind(scheme, 0) != 0 || url.size() <= scheme.size() || url[scheme.size()] != '/') {
    return InvalidArgument("'" + url + "' is not a mirror:/ URL");
  }
  last_attempts_.clear();
  last_contributors_.clear();
  last_served_.reset();

  FetchState f;
  f.path = url.substr(scheme.size());
  f.max_bytes = max_bytes;
  f.sink = &sink;
  f.buffered = max_bytes <= options_.whole_body_max_bytes;
  f.immutable = IsImmutableRefugeUrl(f.path);
  f.limiter = options_.http.bandwidth_limiter;

  const std::vector<size_t> order = CandidateOrder();
  if (order.empty()) return Unavailable(url + ": every mirror was excluded (they served bad data)");
  const int quorum =
      static_cast<int>(std::min<size_t>(static_cast<size_t>(options_.not_found_quorum), order.size()));
  size_t next = 0;
  int started = 0;
  int not_found_answers = 0;
  int blocked_answers = 0;
  bool too_large = false;
  int64_t last_start_ms = 0;

  auto can_start = [&] { return next < order.size() && started < options_.max_attempts; };
  auto start_next = [&]() -> bool {
    if (!can_start()) return false;
    Start(f, order[next++], f.buffered ? 0 : f.delivered);
    ++started;
    last_start_ms = NowMs();
    return true;
  };
  // Ends the fetch: every attempt still running is cancelled.
  auto end = [&](Status s) {
    while (!active_.empty()) Finish(active_.front().get(), MirrorOutcome::kCancelled, "cancelled");
    return s;
  };
  // A winner that failed: resume (streaming, immutable), restart (buffered) or give up.
  auto after_winner_failed = [&](const MirrorState& who) -> std::optional<Status> {
    f.winner = nullptr;
    if (!f.buffered && f.delivered > 0 && !f.immutable) {
      return Unavailable(url + ": " + who.base_url + " failed after " +
                         std::to_string(f.delivered) +
                         " bytes, and a URL that may change cannot be resumed from another mirror");
    }
    start_next();
    return std::nullopt;
  };

  start_next();
  for (;;) {
    int running = 0;
    curl_multi_perform(multi_, &running);

    // 1. Transfers that ended.
    std::vector<std::pair<Attempt*, CURLcode>> done;
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      void* p = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p);
      done.emplace_back(static_cast<Attempt*>(p), msg->data.result);
    }
    for (auto [a, rc] : done) {
      if (a->http_code == 0) curl_easy_getinfo(a->easy, CURLINFO_RESPONSE_CODE, &a->http_code);
      const bool was_winner = f.winner == a;
      if (was_winner && !f.sink_status.ok()) return end(f.sink_status);
      const MirrorState& who = states_[a->mirror];
      const HttpAnswer answer = ClassifyHttpCode(a->http_code);
      if (rc == CURLE_OK && answer == HttpAnswer::kData && a->error.ok()) {
        std::string bad;
        if (a->offset > 0 && !a->answer_checked) bad = "an empty answer to a Range request";
        if (a->skip > 0) bad = "a body shorter than the bytes already delivered";
        if (a->http_code == 206 && a->offset == 0) bad = "a partial answer (206) to a full request";
        if (!bad.empty()) {
          Finish(a, MirrorOutcome::kFailed, bad);
          if (was_winner) {
            if (auto s = after_winner_failed(who)) return end(*s);
          } else if (f.winner == nullptr) {
            start_next();
          }
          continue;
        }
        if (f.winner == nullptr) {  // an empty body: complete without a byte
          f.winner = a;
          a->was_winner = true;
        }
        if (f.winner != a) {
          Finish(a, MirrorOutcome::kCancelled, "lost the race");
          continue;
        }
        Status delivered = Status::Ok();
        if (f.buffered && !a->buffer.empty()) delivered = sink(a->buffer);
        const size_t mirror = a->mirror;
        Finish(a, MirrorOutcome::kServed, "");
        if (!delivered.ok()) return end(delivered);
        preferred_ = mirror;
        last_served_ = mirror;
        return end(Status::Ok());
      }
      // A failure of some kind.
      MirrorOutcome outcome;
      std::string detail;
      // The status decides before the size: a long error page is an error, not endless data.
      if (a->error.code() == StatusCode::kTooLarge ||
          (rc == CURLE_FILESIZE_EXCEEDED && (a->http_code == 0 || answer == HttpAnswer::kData))) {
        outcome = MirrorOutcome::kTooLarge;
        detail = "more than the limit of " + std::to_string(max_bytes) + " bytes";
        too_large = true;
      } else if (!a->error.ok()) {
        outcome = MirrorOutcome::kFailed;
        detail = a->error.message();
      } else if (answer == HttpAnswer::kNotFound) {
        outcome = MirrorOutcome::kNotFound;
        detail = "not found (HTTP " + std::to_string(a->http_code) + ")";
        ++not_found_answers;
      } else if (answer == HttpAnswer::kBlocked) {
        outcome = MirrorOutcome::kBlocked;
        detail = kBlockedByMirror;
        ++not_found_answers;
        ++blocked_answers;
      } else if (a->http_code >= 100) {
        outcome = MirrorOutcome::kFailed;
        detail = "HTTP status " + std::to_string(a->http_code);
        if (answer == HttpAnswer::kData) {
          detail = (a->received > 0 ? "broken after " + std::to_string(a->received) + " bytes: "
                                    : std::string()) +
                   (a->curl_error[0] != '\0' ? a->curl_error : curl_easy_strerror(rc));
        }
        if (rc == CURLE_WRITE_ERROR && f.winner != nullptr && f.winner != a) {
          outcome = MirrorOutcome::kCancelled;
          detail = "lost the race";
        }
      } else if (IsConnectFailure(rc) || rc == CURLE_OPERATION_TIMEDOUT) {
        outcome = MirrorOutcome::kUnreachable;
        detail = a->curl_error[0] != '\0' ? a->curl_error : curl_easy_strerror(rc);
      } else {
        outcome = MirrorOutcome::kFailed;
        detail = a->curl_error[0] != '\0' ? a->curl_error : curl_easy_strerror(rc);
      }
      Finish(a, outcome, detail);
      if (was_winner) {
        if (auto s = after_winner_failed(who)) return end(*s);
      } else if (f.winner == nullptr && outcome != MirrorOutcome::kCancelled) {
        start_next();  // rule 3: move on at once
      }
    }

    // 2. A winner cancels the others (rule 2).
    if (f.winner != nullptr) {
      for (size_t i = 0; i < active_.size();) {
        if (active_[i].get() == f.winner) {
          ++i;
        } else {
          Finish(active_[i].get(), MirrorOutcome::kCancelled, "lost the race");
        }
      }
    }

    // 3. Enough mirrors said not-found (rule 6).
    if (f.winner == nullptr && f.delivered == 0 && not_found_answers >= quorum) break;

    // 4. Stalls (rule 4).
    const int64_t now = NowMs();
    for (size_t i = 0; i < active_.size();) {
      Attempt* a = active_[i].get();
      const bool cannot_switch = f.winner == a && !f.buffered && f.delivered > 0 && !f.immutable;
      const bool something_else = active_.size() > 1 || can_start() || not_found_answers > 0;
      if (now - a->last_progress_ms < options_.stall_ms || cannot_switch || !something_else) {
        ++i;
        continue;
      }
      const bool was_winner = f.winner == a;
      const MirrorState& who = states_[a->mirror];
      Finish(a, MirrorOutcome::kStalled,
             "stalled: nothing received for " + std::to_string(options_.stall_ms) + " ms" +
                 (a->received > 0 ? " after " + std::to_string(a->received) + " bytes" : ""));
      if (was_winner) {
        if (auto s = after_winner_failed(who)) return end(*s);
      } else if (f.winner == nullptr) {
        start_next();
      }
      i = 0;  // the list changed
    }

    // 5. Hedging (rule 2).
    if (f.winner == nullptr && !active_.empty() && now - last_start_ms >= options_.hedge_delay_ms) {
      start_next();
    }

    // 6. Nothing running and nothing left to try.
    if (active_.empty() && !start_next()) break;

    // 7. Wait for data, the next hedge or the next stall deadline.
    long timeout = 1000;
    if (f.winner == nullptr && can_start()) {
      timeout = std::min<long>(timeout, static_cast<long>(last_start_ms + options_.hedge_delay_ms - now));
    }
    for (const auto& a : active_) {
      const int64_t deadline = a->last_progress_ms + options_.stall_ms;
      if (deadline > now) timeout = std::min<long>(timeout, static_cast<long>(deadline - now));
    }
    long curl_timeout = -1;
    curl_multi_timeout(multi_, &curl_timeout);
    if (curl_timeout >= 0) timeout = std::min(timeout, curl_timeout);
    timeout = std::max(timeout, 0L);
    if (timeout > 0) curl_multi_poll(multi_, nullptr, 0, static_cast<int>(timeout), nullptr);
  }

  // No mirror delivered the whole body.
  const std::string summary = Summary();
  if (f.delivered > 0) {
    return end(Unavailable(url + ": the transfer broke after " + std::to_string(f.delivered) +
                           " bytes and no mirror could resume it (" + summary + ")"));
  }
  if (not_found_answers > 0) {
    if (blocked_answers == not_found_answers) {
      return end(NotFound(url + ": " + kBlockedByMirror + " (" + summary + ")"));
    }
    return end(NotFound(url + ": not found (" + summary + ")"));
  }
  if (too_large) {
    return end(TooLarge(url + ": more than the limit of " + std::to_string(max_bytes) +
                        " bytes (" + summary + ")"));
  }
  return end(Unavailable(url + ": no mirror could serve it (" + summary + ")"));
}

}  // namespace

const char* MirrorOutcomeName(MirrorOutcome outcome) {
  switch (outcome) {
    case MirrorOutcome::kNotTried: return "not tried";
    case MirrorOutcome::kServed: return "served";
    case MirrorOutcome::kNotFound: return "not found";
    case MirrorOutcome::kBlocked: return "blocked";
    case MirrorOutcome::kUnreachable: return "unreachable";
    case MirrorOutcome::kFailed: return "failed";
    case MirrorOutcome::kStalled: return "stalled";
    case MirrorOutcome::kTooLarge: return "too large";
    case MirrorOutcome::kCancelled: return "cancelled";
    case MirrorOutcome::kExcluded: return "excluded";
  }
  return "unknown";
}

std::unique_ptr<MirrorFetcher> NewMirrorFetcher(std::vector<std::string> base_urls,
                                                MirrorFetcherOptions options) {
  return std::make_unique<MirrorFetcherImpl>(std::move(base_urls), std::move(options));
}

bool IsImmutableRefugeUrl(std::string_view path) {
  path = path.substr(0, path.find_first_of("?#"));
  constexpr std::string_view kObjects = "/.refuge/v1/objects/";
  if (path.rfind(kObjects, 0) == 0) return IsHex64(path.substr(kObjects.size()));
  // /.refuge/v1/sites/<site-id>/targets/[<dir>/]<sha256>.<name>
  constexpr std::string_view kSites = "/.refuge/v1/sites/";
  if (path.rfind(kSites, 0) != 0) return false;
  std::string_view rest = path.substr(kSites.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return false;
  rest = rest.substr(slash);
  constexpr std::string_view kTargets = "/targets/";
  if (rest.rfind(kTargets, 0) != 0) return false;
  const std::string_view last = rest.substr(rest.rfind('/') + 1);
  return last.size() > 65 && IsHex64(last.substr(0, 64)) && last[64] == '.';
}

}  // namespace refuge
