#include "serve/redirect_router.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <charconv>
#include <cstring>

namespace refuge::serve {

namespace {

constexpr std::string_view kAcmePrefix = "/.well-known/acme-challenge/";

bool IsTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

void RedirectRouter::Handle(const RequestHead& request, Response* out) {
  if (request.method != Method::kGet && request.method != Method::kHead) {
    SetErrorResponse(out, 405);
    out->allow = "GET, HEAD";
    return;
  }
  std::string_view path = StripQuery(request.target);
  if (path.substr(0, kAcmePrefix.size()) == kAcmePrefix && !acme_webroot_.empty()) {
    std::string_view token = path.substr(kAcmePrefix.size());
    bool valid = !token.empty() && token.size() <= kMaxTokenBytes;
    for (char c : token) valid = valid && IsTokenChar(c);
    if (!valid || acme_webroot_.size() + token.size() + kAcmePrefix.size() >= sizeof(token_path_)) {
      SetErrorResponse(out, 404);
      return;
    }
    // certbot writes <webroot>/.well-known/acme-challenge/<token>.
    size_t n = 0;
    std::memcpy(token_path_, acme_webroot_.data(), acme_webroot_.size());
    n += acme_webroot_.size();
    std::memcpy(token_path_ + n, kAcmePrefix.data(), kAcmePrefix.size());
    n += kAcmePrefix.size();
    std::memcpy(token_path_ + n, token.data(), token.size());
    n += token.size();
    token_path_[n] = '\0';
    UniqueFd fd(::open(token_path_, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    struct stat st;
    if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<uint64_t>(st.st_size) > kMaxChallengeBytes) {
      SetErrorResponse(out, 404);
      return;
    }
    out->status = 200;
    out->content_type = "text/plain";
    out->cache_control = kNoStoreCacheControl;
    out->body = Response::Body::kFile;
    out->file = std::move(fd);
    out->total_length = static_cast<uint64_t>(st.st_size);
    return;
  }
  // Host without its port; it was checked for valid characters by the parser.
  std::string_view host = request.host;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    host = close == std::string_view::npos ? std::string_view() : host.substr(0, close + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  if (host.empty() || host.size() > 256) {
    SetErrorResponse(out, 400);
    out->close = true;
    return;
  }
  size_t n = 0;
  std::memcpy(location_, "https://", 8);
  n = 8;
  std::memcpy(location_ + n, host.data(), host.size());
  n += host.size();
  if (https_port_ != 443) {
    location_[n++] = ':';
    n = static_cast<size_t>(std::to_chars(location_ + n, location_ + n + 8, https_port_).ptr - location_);
  }
  std::string_view target = request.target == "*" ? std::string_view("/") : request.target;
  if (n + target.size() > sizeof(location_)) {
    SetErrorResponse(out, 400);
    out->close = true;
    return;
  }
  std::memcpy(location_ + n, target.data(), target.size());
  n += target.size();
  SetErrorResponse(out, 308);
  out->location = std::string_view(location_, n);
}

}  // namespace refuge::serve
