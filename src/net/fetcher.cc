#include "net/fetcher.h"

#include <curl/curl.h>

#include <cstdlib>

#include "net/curl_common.h"

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

bool IsBlockedByMirror(const Status& status) {
  return status.code() == StatusCode::kNotFound &&
         status.message().find(kBlockedByMirror) != std::string::npos;
}

Result<std::string> Socks5ProxyUrl(const std::string& host_port) {
  std::string rest = host_port;
  if (rest.rfind("socks5h://", 0) == 0) {
    rest = rest.substr(10);
  } else if (rest.find("://") != std::string::npos) {
    return InvalidArgument("SOCKS5 proxy '" + host_port +
                           "': give host:port (names are resolved by the proxy, socks5h)");
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return InvalidArgument("SOCKS5 proxy '" + host_port + "': expected host:port");
  }
  const std::string host = rest.substr(0, colon);
  const std::string port = rest.substr(colon + 1);
  for (unsigned char c : host) {
    // A host name, an IPv4 address or a bracketed IPv6 address: nothing that could smuggle
    // credentials, a path or another scheme into the proxy URL.
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']';
    if (!ok) return InvalidArgument("SOCKS5 proxy '" + host_port + "': bad host name");
  }
  if (host.find(':') != std::string::npos && (host.front() != '[' || host.back() != ']')) {
    return InvalidArgument("SOCKS5 proxy '" + host_port + "': put an IPv6 address in brackets");
  }
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) == 0 ||
      std::stoi(port) > 65535) {
    return InvalidArgument("SOCKS5 proxy '" + host_port + "': bad port");
  }
  return "socks5h://" + host + ":" + port;
}

Status ValidateHttpFetcherOptions(const HttpFetcherOptions& options) {
  if (!options.socks5_proxy.empty()) {
    auto url = Socks5ProxyUrl(options.socks5_proxy);
    if (!url.ok()) return url.status();
  }
  return Status::Ok();
}

namespace {

using curl_internal::HttpAnswer;

struct Transfer {
  const Fetcher::Sink* sink;
  uint64_t max_bytes;
  BandwidthLimiter* limiter;
  CURL* curl;
  uint64_t received = 0;
  Status status;
  long http_code = 0;
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
  // The cap: wait here until the shared bucket grants these bytes. Sleeping in the callback
  // (rather than pausing the transfer) lets TCP's receive window push back on the server, keeps
  // the easy interface's single call, and costs nothing else since this thread has no other
  // work while its one transfer is held back.
  if (t->limiter != nullptr) t->limiter->Acquire(n);
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
    curl_internal::GlobalInitOnce();
    curl_ = curl_easy_init();
    if (curl_ == nullptr) std::abort();
    options_status_ = ValidateHttpFetcherOptions(options_);
    if (options_status_.ok() && !options_.socks5_proxy.empty()) {
      proxy_url_ = *Socks5ProxyUrl(options_.socks5_proxy);
    }
  }
  ~HttpFetcher() override { curl_easy_cleanup(curl_); }

  Status FetchTo(const std::string& url, uint64_t max_bytes, const Sink& sink) override {
    if (!options_status_.ok()) return options_status_;
    Transfer t{&sink, max_bytes, options_.bandwidth_limiter, curl_, 0, Status::Ok(), 0};
    curl_easy_reset(curl_);  // keeps the connection cache
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_internal::ApplyOptions(curl_, options_, proxy_url_, max_bytes);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &OnData);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &t);
    CURLcode rc = curl_easy_perform(curl_);
    if (t.http_code == 0) curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &t.http_code);
    if (!t.status.ok()) return t.status.Annotate(url);
    // The status decides before the size: an error page longer than a small limit is still a
    // 404 (or a 500), not "too large".
    const HttpAnswer answer = curl_internal::ClassifyHttpCode(t.http_code);
    if (answer == HttpAnswer::kNotFound || rc == CURLE_FILE_COULDNT_READ_FILE) {
      return NotFound(url + ": not found");
    }
    if (answer == HttpAnswer::kBlocked) return NotFound(url + ": " + kBlockedByMirror);
    if (t.http_code >= 400) return Unavailable(url + ": HTTP status " + std::to_string(t.http_code));
    if (rc == CURLE_FILESIZE_EXCEEDED) {
      return TooLarge(url + ": more than the limit of " + std::to_string(max_bytes) + " bytes");
    }
    if (rc != CURLE_OK) return Unavailable(url + ": " + curl_easy_strerror(rc));
    if (t.http_code != 0 && t.http_code != 200) {
      return Unavailable(url + ": unexpected HTTP status " + std::to_string(t.http_code));
    }
    return Status::Ok();
  }

 private:
  HttpFetcherOptions options_;
  Status options_status_;
  std::string proxy_url_;
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
