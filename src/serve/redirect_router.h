// RedirectRouter: the optional plain-HTTP listener of a node that serves HTTPS.
//
// Every request is answered 308 to "https://<host>[:<https_port>]<target>", except
// "/.well-known/acme-challenge/<token>", which is served from the configured webroot so
// that certbot's webroot mode (certbot certonly --webroot -w <acme_webroot>) can renew the
// node's certificate. Tokens are base64url characters only; nothing else of the webroot
// can be named.
//
// Thread-safety: one per event loop.
#ifndef REFUGE_SERVE_REDIRECT_ROUTER_H_
#define REFUGE_SERVE_REDIRECT_ROUTER_H_

#include <string>

#include "serve/site_router.h"

namespace refuge::serve {

class RedirectRouter final : public RequestHandler {
 public:
  // The longest ACME token accepted (RFC 8555 tokens are 43 characters).
  static constexpr size_t kMaxTokenBytes = 128;
  // The largest challenge file served.
  static constexpr uint64_t kMaxChallengeBytes = 4096;

  RedirectRouter(std::string acme_webroot, int https_port)
      : acme_webroot_(std::move(acme_webroot)), https_port_(https_port) {}
  void Handle(const RequestHead& request, Response* out) override;

 private:
  std::string acme_webroot_;
  int https_port_;
  char location_[8 + 256 + 8 + 8192];
  char token_path_[4096 + kMaxTokenBytes + 64];
};

}  // namespace refuge::serve

#endif  // REFUGE_SERVE_REDIRECT_ROUTER_H_
