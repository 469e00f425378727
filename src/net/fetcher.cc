#include "net/fetcher.h"

#include <curl/curl.h>

#include <cstdlib>
#include <mutex>

namespace refuge {

Result<std::string> Fetcher::Fetch(const std::string& url, uint64_t max_bytes) {
  std::string body;
  Status s = FetchTo(url, max_bytes, [&](std::string_view chunk) {
    body.append(chunk);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return body;
}

namespace {

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) std::abort();
  });
}

struct Transfer {
  const Fetcher::Sink* sink;
  uint64_t max_bytes;
  uint64_t received = 0;
  Status status;
  long http_code = 0;
  CURL* curl;
};

size_t OnData(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  if (t->http_code == 0) curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &t->http_code);
  // Error bodies are not the data: do not pass them on, and stop reading them.
  if (t->http_code >= 400) return 0;
  if (t->received + n > t->max_bytes) {
    t->status = TooLarge("more than the limit of " + std::to_string(t->max_bytes) + " bytes");
    return 0;
  }
  t->received += n;
  Status s = (*t->sink)(std::string_view(data, n));
  if (!s.ok()) {
    t->status = s;
    return 0;
  }
  return n;
}

class HttpFetcher final : public Fetcher {
 public:
  explicit HttpFetcher(const HttpFetcherOptions& options) : options_(options) {
    GlobalInitOnce();
    curl_ = curl_easy_init();
    if (curl_ == nullptr) std::abort();
  }
  ~HttpFetcher() override { curl_easy_cleanup(curl_); }

  Status FetchTo(const std::string& url, uint64_t max_bytes, const Sink& sink) override {
    Transfer t{&sink, max_bytes, 0, Status::Ok(), 0, curl_};
    curl_easy_reset(curl_);  // keeps the connection cache
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http,https,file");
    curl_easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
    curl_easy_setopt(curl_, CURLOPT_LOW_SPEED_LIMIT, options_.low_speed_bytes_per_second);
    curl_easy_setopt(curl_, CURLOPT_LOW_SPEED_TIME, options_.low_speed_seconds);
    curl_easy_setopt(curl_, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &OnData);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &t);
    // A server that announces more than we accept is refused before any byte is read.
    curl_easy_setopt(curl_, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_bytes));
    CURLcode rc = curl_easy_perform(curl_);
    if (t.http_code == 0) curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &t.http_code);
    if (!t.status.ok()) return t.status.Annotate(url);
    if (rc == CURLE_FILESIZE_EXCEEDED) {
      return TooLarge(url + ": more than the limit of " + std::to_string(max_bytes) + " bytes");
    }
    if (t.http_code == 403 || t.http_code == 404 || t.http_code == 410 ||
        rc == CURLE_FILE_COULDNT_READ_FILE) {
      return NotFound(url + ": not found");
    }
    if (t.http_code >= 400) return Unavailable(url + ": HTTP status " + std::to_string(t.http_code));
    if (rc != CURLE_OK) return Unavailable(url + ": " + curl_easy_strerror(rc));
    if (t.http_code != 0 && t.http_code != 200) {
      return Unavailable(url + ": unexpected HTTP status " + std::to_string(t.http_code));
    }
    return Status::Ok();
  }

 private:
  HttpFetcherOptions options_;
  CURL* curl_;
};

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

void AppendQuoted(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  if (s == "." || s == "..") {
    for (size_t i = 0; i < s.size(); ++i) out += "%2E";
    return;
  }
  for (unsigned char c : s) {
    if (IsUnreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
}

}  // namespace

std::unique_ptr<Fetcher> NewHttpFetcher(const HttpFetcherOptions& options) {
  return std::make_unique<HttpFetcher>(options);
}

std::string QuoteSegment(std::string_view s) {
  std::string out;
  AppendQuoted(s, out);
  return out;
}

std::string QuotePath(std::string_view path) {
  std::string out;
  size_t start = 0;
  for (;;) {
    size_t slash = path.find('/', start);
    AppendQuoted(path.substr(start, slash == std::string_view::npos ? slash : slash - start), out);
    if (slash == std::string_view::npos) break;
    out.push_back('/');
    start = slash + 1;
  }
  return out;
}

}  // namespace refuge
