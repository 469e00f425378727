// Server TLS contexts and self-signed certificates, with OpenSSL 3.
//
// Design: one boost::asio::ssl::context (one SSL_CTX) per certificate, all configured alike.
// Connections are made from the first; its servername callback (run while the ClientHello is
// processed, before a certificate is chosen) moves the connection to the context whose
// certificate serves the requested name with SSL_set_SSL_CTX. Sessions stay cached in, and
// tickets stay sealed by, the first context (OpenSSL keeps the connection's session_ctx), so
// resumption works whichever certificate was chosen.
//
// Every OpenSSL object is held by a unique_ptr with its free function. Private keys are read
// from memory the code owns and wiped after use; nothing derived from a key is logged.
#include "serve/tls_context.h"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "common/file_util.h"
#include "common/limits.h"

namespace refuge::serve {

namespace {

// A certificate chain is a few KiB (a leaf and one or two intermediates).
constexpr uint64_t kMaxCertificateFileBytes = 256 * 1024;
// TLS 1.2 suites: ECDHE (forward secrecy) with an AEAD only, ECDSA before RSA, in the order
// Mozilla's "intermediate" profile uses. TLS 1.3 suites are all forward-secret; OpenSSL's
// default list is kept.
constexpr const char* kTls12CipherList =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
// Key-exchange groups, fastest first.
constexpr const char* kGroupList = "X25519:P-256:P-384";
// Identifies this server's sessions in the cache; all contexts share it so that a session
// survives the SNI switch.
constexpr unsigned char kSessionIdContext[] = "refuge-serve";
// Server-side session cache entries per context (OpenSSL's default, 20480, named here).
constexpr long kSessionCacheEntries = 20 * 1024;
// Self-signed certificates: at most this many names, at most this many days (825 is the
// longest validity browsers ever accepted, CA/Browser Forum 2018).
constexpr size_t kMaxCertificateNames = 100;
constexpr int kMaxSelfSignedDays = 825;
// The common name is at most 64 characters (RFC 5280, ub-common-name).
constexpr size_t kMaxCommonNameBytes = 64;
// DNS limits (RFC 1035).
constexpr size_t kMaxDnsNameBytes = 253;
// Bytes of the random serial number (RFC 5280 allows up to 20; CA/B asks for 64 bits).
constexpr size_t kSerialBytes = 16;
// notBefore is set this far in the past, so a client whose clock is a little behind accepts
// a certificate made a moment ago.
constexpr long kNotBeforeSkewSeconds = 3600;

// ---------------------------------------------------------------------------------------------
// OpenSSL ownership.

struct OpenSslDeleter {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO* p) const { BIO_free_all(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
  void operator()(GENERAL_NAME* p) const { GENERAL_NAME_free(p); }
  // ASN1_OCTET_STRING, ASN1_BIT_STRING and ASN1_IA5STRING are all ASN1_STRING.
  void operator()(ASN1_STRING* p) const { ASN1_STRING_free(p); }
  void operator()(BASIC_CONSTRAINTS* p) const { BASIC_CONSTRAINTS_free(p); }
  void operator()(EXTENDED_KEY_USAGE* p) const { EXTENDED_KEY_USAGE_free(p); }
  void operator()(unsigned char* p) const { OPENSSL_free(p); }
};
template <typename T>
using OpenSslPtr = std::unique_ptr<T, OpenSslDeleter>;

// The OpenSSL error queue as one line, emptied. Never contains key material.
std::string OpenSslErrors() {
  std::string out;
  while (unsigned long err = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

// std::string whose bytes are wiped when it dies (PEM private keys).
struct SecretString {
  std::string bytes;
  SecretString() = default;
  explicit SecretString(std::string b) : bytes(std::move(b)) {}
  SecretString(const SecretString&) = delete;
  SecretString& operator=(const SecretString&) = delete;
  ~SecretString() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

// Encrypted keys are refused: OpenSSL would otherwise ask for a passphrase on the terminal.
int RefusePassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) {
  return -1;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Names a certificate serves.

// An ASN1 string as text, or empty when it holds a NUL (a forged name such as
// "good.example\0.evil" must not match anything).
std::string Asn1Text(const ASN1_STRING* s) {
  const int length = ASN1_STRING_length(s);
  const unsigned char* data = ASN1_STRING_get0_data(s);
  if (length <= 0 || data == nullptr) return "";
  std::string out(reinterpret_cast<const char*>(data), static_cast<size_t>(length));
  if (out.find('\0') != std::string::npos) return "";
  return out;
}

std::vector<std::string> CertificateNames(X509* cert) {
  std::vector<std::string> names;
  OpenSslPtr<GENERAL_NAMES> san(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (san) {
    for (int i = 0; i < sk_GENERAL_NAME_num(san.get()); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(san.get(), i);
      if (name->type == GEN_DNS) {
        std::string dns = ToLower(Asn1Text(name->d.dNSName));
        if (!dns.empty()) names.push_back(std::move(dns));
      } else if (name->type == GEN_IPADD) {
        const ASN1_OCTET_STRING* ip = name->d.iPAddress;
        char text[INET6_ADDRSTRLEN] = {};
        const int length = ASN1_STRING_length(ip);
        const int family = length == 4 ? AF_INET : length == 16 ? AF_INET6 : AF_UNSPEC;
        if (family != AF_UNSPEC &&
            ::inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof text) != nullptr) {
          names.emplace_back(text);
        }
      }
    }
  }
  if (!names.empty()) return names;
  // No DNS or IP subjectAltName: the last common name, as browsers once did.
  const X509_NAME* subject = X509_get_subject_name(cert);
  const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index >= 0) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(subject, index);
    unsigned char* utf8 = nullptr;
    const int length = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
    OpenSslPtr<unsigned char> owned(utf8);
    if (length > 0) {
      std::string cn(reinterpret_cast<const char*>(utf8), static_cast<size_t>(length));
      if (cn.find('\0') == std::string::npos) names.push_back(ToLower(cn));
    }
  }
  return names;
}

// Does certificate name `pattern` (lowercase) serve `host` (lowercase)? "*.example.org"
// matches exactly one label in front of example.org.
bool WildcardMatches(const std::string& pattern, const std::string& host) {
  if (pattern.size() < 3 || pattern.compare(0, 2, "*.") != 0) return false;
  const std::string_view suffix = std::string_view(pattern).substr(1);  // ".example.org"
  if (host.size() <= suffix.size()) return false;
  if (std::string_view(host).substr(host.size() - suffix.size()) != suffix) return false;
  const std::string_view label = std::string_view(host).substr(0, host.size() - suffix.size());
  return label.find('.') == std::string_view::npos;
}

// The index of the certificate serving `host`: an exact name first, then a wildcard, each in
// config order. -1 when none does.
int FindCertificate(const std::vector<std::vector<std::string>>& names, std::string host) {
  host = ToLower(host);
  if (!host.empty() && host.back() == '.') host.pop_back();
  for (size_t i = 0; i < names.size(); ++i) {
    for (const std::string& name : names[i]) {
      if (name == host) return static_cast<int>(i);
    }
  }
  for (size_t i = 0; i < names.size(); ++i) {
    for (const std::string& name : names[i]) {
      if (WildcardMatches(name, host)) return static_cast<int>(i);
    }
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Context setup.

Status ConfigureContext(SSL_CTX* ctx) {
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, 0) != 1) {
    return Internal("TLS: cannot set protocol versions: " + OpenSslErrors());
  }
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION |
                               SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
  if (SSL_CTX_set_cipher_list(ctx, kTls12CipherList) != 1) {
    return Internal("TLS: cannot set the TLS 1.2 cipher list: " + OpenSslErrors());
  }
  if (SSL_CTX_set1_groups_list(ctx, kGroupList) != 1) {
    return Internal("TLS: cannot set the key exchange groups: " + OpenSslErrors());
  }
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_sess_set_cache_size(ctx, kSessionCacheEntries);
  if (SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof kSessionIdContext - 1) !=
      1) {
    return Internal("TLS: cannot set the session id context: " + OpenSslErrors());
  }
  SSL_CTX_set_default_passwd_cb(ctx, &RefusePassphrase);
  return Status::Ok();
}

Status LoadCertificate(boost::asio::ssl::context& context, const CertificateConfig& config) {
  auto chain = ReadFileBounded(config.cert_file, kMaxCertificateFileBytes);
  if (!chain.ok()) return chain.status().Annotate("TLS certificate");
  boost::system::error_code ec;
  context.use_certificate_chain(boost::asio::buffer(*chain), ec);
  if (ec) {
    ERR_clear_error();
    return InvalidArgument("TLS certificate " + config.cert_file +
                           ": not a PEM certificate chain (" + ec.message() + ")");
  }

  auto key_bytes = ReadFileBounded(config.key_file, limits::kMaxKeyFileBytes);
  if (!key_bytes.ok()) return key_bytes.status().Annotate("TLS key");
  SecretString key_pem(std::move(key_bytes).value());
  // PKCS#8 "BEGIN ENCRYPTED PRIVATE KEY", or the legacy "Proc-Type: 4,ENCRYPTED" header.
  if (key_pem.bytes.find("-----BEGIN ENCRYPTED") != std::string::npos ||
      key_pem.bytes.find("Proc-Type: 4,ENCRYPTED") != std::string::npos) {
    return InvalidArgument("TLS key " + config.key_file +
                           ": the key is encrypted; refuge reads unencrypted keys only");
  }
  OpenSslPtr<BIO> bio(
      BIO_new_mem_buf(key_pem.bytes.data(), static_cast<int>(key_pem.bytes.size())));
  if (!bio) return Internal("BIO_new_mem_buf: " + OpenSslErrors());
  OpenSslPtr<EVP_PKEY> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, &RefusePassphrase, nullptr));
  if (!key) {
    ERR_clear_error();
    return InvalidArgument("TLS key " + config.key_file + ": not a PEM private key");
  }
  SSL_CTX* ctx = context.native_handle();
  if (X509_check_private_key(SSL_CTX_get0_certificate(ctx), key.get()) != 1) {
    ERR_clear_error();
    return InvalidArgument("TLS key " + config.key_file + " does not match the certificate " +
                           config.cert_file);
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return InvalidArgument("TLS key " + config.key_file + ": " + OpenSslErrors());
  }
  return Status::Ok();
}

}  // namespace

TlsContext::~TlsContext() = default;

Result<std::unique_ptr<TlsContext>> TlsContext::Create(
    const std::vector<CertificateConfig>& certificates) {
  if (certificates.empty()) return InvalidArgument("TLS needs at least one certificate");
  std::unique_ptr<TlsContext> tls(new TlsContext());
  for (const CertificateConfig& config : certificates) {
    auto context =
        std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
    REFUGE_RETURN_IF_ERROR(ConfigureContext(context->native_handle()));
    REFUGE_RETURN_IF_ERROR(LoadCertificate(*context, config));
    std::vector<std::string> names =
        CertificateNames(SSL_CTX_get0_certificate(context->native_handle()));
    if (names.empty()) {
      return InvalidArgument("TLS certificate " + config.cert_file +
                             ": names no host (no DNS or IP subjectAltName, no common name)");
    }
    tls->names_.push_back(std::move(names));
    tls->contexts_.push_back(std::move(context));
  }

  // A lambda inside a member function may use the private members; it captures nothing, so
  // it converts to the C callback OpenSSL wants. `arg` is the TlsContext, which outlives every
  // connection made from its contexts.
  auto on_server_name = [](SSL* ssl, int* /*alert*/, void* arg) -> int {
    const auto* self = static_cast<const TlsContext*>(arg);
    const char* host = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (host == nullptr) return SSL_TLSEXT_ERR_NOACK;
    const int index = FindCertificate(self->names_, host);
    // An unknown name keeps the default certificate rather than ending the handshake: the
    // client may still want it (an IP address, a name the operator forgot).
    if (index < 0) return SSL_TLSEXT_ERR_NOACK;
    if (index > 0) {
      SSL_CTX* chosen = self->contexts_[static_cast<size_t>(index)]->native_handle();
      if (SSL_set_SSL_CTX(ssl, chosen) != chosen) return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    return SSL_TLSEXT_ERR_OK;
  };
  SSL_CTX* first = tls->contexts_.front()->native_handle();
  SSL_CTX_set_tlsext_servername_callback(first, +on_server_name);
  SSL_CTX_set_tlsext_servername_arg(first, tls.get());
  return tls;
}

// ---------------------------------------------------------------------------------------------
// Self-signed certificates.

namespace {

// A subjectAltName entry: an IP address (v4 or v6) or a DNS name (optionally "*." first).
Result<OpenSslPtr<GENERAL_NAME>> MakeGeneralName(const std::string& name) {
  unsigned char ip[16];
  int ip_length = 0;
  if (::inet_pton(AF_INET, name.c_str(), ip) == 1) {
    ip_length = 4;
  } else if (::inet_pton(AF_INET6, name.c_str(), ip) == 1) {
    ip_length = 16;
  }
  OpenSslPtr<GENERAL_NAME> general(GENERAL_NAME_new());
  if (!general) return Internal("GENERAL_NAME_new: " + OpenSslErrors());
  if (ip_length > 0) {
    OpenSslPtr<ASN1_OCTET_STRING> octets(ASN1_OCTET_STRING_new());
    if (!octets || ASN1_OCTET_STRING_set(octets.get(), ip, ip_length) != 1) {
      return Internal("ASN1_OCTET_STRING_set: " + OpenSslErrors());
    }
    GENERAL_NAME_set0_value(general.get(), GEN_IPADD, octets.release());
    return general;
  }

  const std::string what = "certificate name \"" + name + "\"";
  if (name.empty() || name.size() > kMaxDnsNameBytes) {
    return InvalidArgument(what + ": not a DNS name or IP address");
  }
  const std::string_view host =
      name.compare(0, 2, "*.") == 0 ? std::string_view(name).substr(2) : std::string_view(name);
  bool label_empty = true;
  for (char ch : host) {
    if (ch == '.') {
      if (label_empty) return InvalidArgument(what + ": empty label");
      label_empty = true;
      continue;
    }
    const bool allowed = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                         (ch >= '0' && ch <= '9') || ch == '-';
    if (!allowed) {
      return InvalidArgument(what + ": a DNS name has only letters, digits, '-' and '.'");
    }
    label_empty = false;
  }
  if (label_empty) return InvalidArgument(what + ": empty label");
  const std::string lower = ToLower(name);
  ASN1_IA5STRING* dns = ASN1_IA5STRING_new();
  if (dns == nullptr ||
      ASN1_STRING_set(dns, lower.data(), static_cast<int>(lower.size())) != 1) {
    ASN1_IA5STRING_free(dns);
    return Internal("ASN1_STRING_set: " + OpenSslErrors());
  }
  GENERAL_NAME_set0_value(general.get(), GEN_DNS, dns);
  return general;
}

Status AddExtension(X509* cert, int nid, void* value, bool critical) {
  if (X509_add1_ext_i2d(cert, nid, value, critical ? 1 : 0, X509V3_ADD_DEFAULT) != 1) {
    return Internal(std::string("adding certificate extension ") + OBJ_nid2sn(nid) + ": " +
                    OpenSslErrors());
  }
  return Status::Ok();
}

Result<OpenSslPtr<X509>> MakeSelfSigned(const std::vector<std::string>& names, int days,
                                        EVP_PKEY* key) {
  OpenSslPtr<X509> cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return Internal("X509_new: " + OpenSslErrors());
  }

  // A random positive serial (top bit clear, never zero).
  unsigned char serial[kSerialBytes];
  if (RAND_bytes(serial, sizeof serial) != 1) return Internal("RAND_bytes: " + OpenSslErrors());
  serial[0] = static_cast<unsigned char>((serial[0] & 0x7f) | 0x01);
  OpenSslPtr<BIGNUM> serial_bn(BN_bin2bn(serial, sizeof serial, nullptr));
  if (!serial_bn || BN_to_ASN1_INTEGER(serial_bn.get(), X509_get_serialNumber(cert.get())) ==
                        nullptr) {
    return Internal("serial number: " + OpenSslErrors());
  }

  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kNotBeforeSkewSeconds) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, nullptr) == nullptr) {
    return Internal("certificate validity: " + OpenSslErrors());
  }

  X509_NAME* subject = X509_get_subject_name(cert.get());
  const std::string& cn = names.front();
  if (cn.size() <= kMaxCommonNameBytes &&
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1) {
    return Internal("certificate subject: " + OpenSslErrors());
  }
  if (X509_set_issuer_name(cert.get(), subject) != 1 || X509_set_pubkey(cert.get(), key) != 1) {
    return Internal("certificate issuer or key: " + OpenSslErrors());
  }

  OpenSslPtr<GENERAL_NAMES> san(GENERAL_NAMES_new());
  if (!san) return Internal("GENERAL_NAMES_new: " + OpenSslErrors());
  for (const std::string& name : names) {
    REFUGE_ASSIGN_OR_RETURN(OpenSslPtr<GENERAL_NAME> general, MakeGeneralName(name));
    if (sk_GENERAL_NAME_push(san.get(), general.get()) <= 0) {
      return Internal("subjectAltName: " + OpenSslErrors());
    }
    general.release();  // owned by `san` now
  }
  REFUGE_RETURN_IF_ERROR(AddExtension(cert.get(), NID_subject_alt_name, san.get(), false));

  OpenSslPtr<BASIC_CONSTRAINTS> constraints(BASIC_CONSTRAINTS_new());
  if (!constraints) return Internal("BASIC_CONSTRAINTS_new: " + OpenSslErrors());
  constraints->ca = 0;
  REFUGE_RETURN_IF_ERROR(
      AddExtension(cert.get(), NID_basic_constraints, constraints.get(), true));

  OpenSslPtr<ASN1_BIT_STRING> usage(ASN1_BIT_STRING_new());
  if (!usage || ASN1_BIT_STRING_set_bit(usage.get(), 0, 1) != 1) {  // bit 0: digitalSignature
    return Internal("keyUsage: " + OpenSslErrors());
  }
  REFUGE_RETURN_IF_ERROR(AddExtension(cert.get(), NID_key_usage, usage.get(), true));

  OpenSslPtr<EXTENDED_KEY_USAGE> extended(EXTENDED_KEY_USAGE_new());
  if (!extended ||
      sk_ASN1_OBJECT_push(extended.get(), OBJ_nid2obj(NID_server_auth)) <= 0) {
    return Internal("extendedKeyUsage: " + OpenSslErrors());
  }
  REFUGE_RETURN_IF_ERROR(AddExtension(cert.get(), NID_ext_key_usage, extended.get(), false));

  if (X509_sign(cert.get(), key, EVP_sha256()) <= 0) {
    return Internal("signing the certificate: " + OpenSslErrors());
  }
  return cert;
}

// The bytes a memory BIO holds.
std::string BioContents(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  return length > 0 ? std::string(data, static_cast<size_t>(length)) : std::string();
}

}  // namespace

Status WriteSelfSignedCertificate(const std::vector<std::string>& names, int days,
                                  const std::string& cert_file, const std::string& key_file) {
  if (names.empty()) return InvalidArgument("a certificate needs at least one name");
  if (names.size() > kMaxCertificateNames) {
    return InvalidArgument("a certificate holds at most " +
                           std::to_string(kMaxCertificateNames) + " names");
  }
  if (days < 1 || days > kMaxSelfSignedDays) {
    return InvalidArgument("certificate validity of " + std::to_string(days) +
                           " days: must be between 1 and " + std::to_string(kMaxSelfSignedDays));
  }
  if (cert_file.empty() || key_file.empty() || cert_file == key_file) {
    return InvalidArgument("the certificate and the key need two different files");
  }

  OpenSslPtr<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (!key) return Internal("generating a P-256 key: " + OpenSslErrors());
  REFUGE_ASSIGN_OR_RETURN(OpenSslPtr<X509> cert, MakeSelfSigned(names, days, key.get()));

  // The PEM key passes through the secure heap when one is configured and is wiped after.
  OpenSslPtr<BIO> key_bio(BIO_new(BIO_s_secmem()));
  if (!key_bio || PEM_write_bio_PKCS8PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0,
                                                nullptr, nullptr) != 1) {
    return Internal("encoding the private key: " + OpenSslErrors());
  }
  SecretString key_pem(BioContents(key_bio.get()));
  OpenSslPtr<BIO> cert_bio(BIO_new(BIO_s_mem()));
  if (!cert_bio || PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1) {
    return Internal("encoding the certificate: " + OpenSslErrors());
  }
  const std::string cert_pem = BioContents(cert_bio.get());

  // The key first: a certificate on disk without its key would be useless.
  REFUGE_RETURN_IF_ERROR(
      WriteFileDurable(key_file, key_pem.bytes, 0600).Annotate("writing key " + key_file));
  return WriteFileDurable(cert_file, cert_pem, 0644).Annotate("writing certificate " + cert_file);
}

}  // namespace refuge::serve
