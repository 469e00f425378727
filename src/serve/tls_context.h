// TlsContext: the server side of TLS for `refuge serve` (OpenSSL 3 through Boost.Asio).
//
// Several certificates are chosen by SNI: each certificate serves the DNS names it carries
// (subjectAltName, else its common name; "*.example.org" wildcards match one label); the
// first certificate is the default for clients that send no name or an unknown one.
// TLS 1.2 and 1.3 only, forward-secret cipher suites only, server cipher preference,
// session resumption by session cache and tickets. Keys are never logged.
//
// Thread-safety: after Create(), the context is shared read-only by every event loop
// (asio::ssl::stream objects made from it live on one loop each).
// Lifetime: the TlsContext must outlive every SSL object made from context(); the SNI
// callback of the default SSL_CTX refers to it. Close connections with SSL_shutdown: OpenSSL
// drops from the session cache the session of a connection freed without close_notify.
#ifndef REFUGE_SERVE_TLS_CONTEXT_H_
#define REFUGE_SERVE_TLS_CONTEXT_H_

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "serve/config.h"

namespace refuge::serve {

class TlsContext {
 public:
  // Loads every certificate chain and key; errors name the file and what is wrong (missing,
  // unreadable, not PEM, key does not match the certificate).
  static Result<std::unique_ptr<TlsContext>> Create(
      const std::vector<CertificateConfig>& certificates);
  ~TlsContext();

  // The default context; its SNI callback switches a connection to the matching one.
  boost::asio::ssl::context& context() { return *contexts_.front(); }
  // The DNS names each certificate serves, in config order (for logs and tests).
  const std::vector<std::vector<std::string>>& names() const { return names_; }

 private:
  TlsContext() = default;
  std::vector<std::unique_ptr<boost::asio::ssl::context>> contexts_;
  std::vector<std::vector<std::string>> names_;
};

// `refuge cert self-signed`: writes a self-signed ECDSA P-256 certificate for `names` (DNS
// names or IP addresses, all in subjectAltName) valid for `days`, and its key (mode 0600).
Status WriteSelfSignedCertificate(const std::vector<std::string>& names, int days,
                                  const std::string& cert_file, const std::string& key_file);

}  // namespace refuge::serve

#endif  // REFUGE_SERVE_TLS_CONTEXT_H_
