// TlsContext and WriteSelfSignedCertificate: certificate files, loading errors, and real
// handshakes between an OpenSSL client and the server context over an in-memory BIO pair
// (deterministic: no sockets, no threads, no timing).
#include "serve/tls_context.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "support/temp_dir.h"

namespace refuge::serve {
namespace {

using refuge::testing::ReadTestFile;
using refuge::testing::TempDir;
using refuge::testing::WriteTestFile;

struct SslDeleter {
  void operator()(SSL* p) const { SSL_free(p); }
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
  void operator()(SSL_SESSION* p) const { SSL_SESSION_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};
template <typename T>
using SslPtr = std::unique_ptr<T, SslDeleter>;

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

SslPtr<X509> ReadCertificate(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return nullptr;
  SslPtr<X509> cert(PEM_read_X509(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  return cert;
}

// The subjectAltName entries as "DNS:name" and "IP:address".
std::vector<std::string> SubjectAltNames(X509* cert) {
  std::vector<std::string> out;
  SslPtr<GENERAL_NAMES> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) {
      const ASN1_STRING* s = name->d.dNSName;
      out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                         static_cast<size_t>(ASN1_STRING_length(s))));
    } else if (name->type == GEN_IPADD) {
      char text[INET6_ADDRSTRLEN] = {};
      const int family = ASN1_STRING_length(name->d.iPAddress) == 4 ? AF_INET : AF_INET6;
      ::inet_ntop(family, ASN1_STRING_get0_data(name->d.iPAddress), text, sizeof text);
      out.push_back(std::string("IP:") + text);
    }
  }
  return out;
}

// What a client asks of one handshake: ClientOptions().Sni("b.test").MaxVersion(...).
struct ClientOptions {
  std::string server_name;         // SNI; empty sends none
  int max_version = 0;             // 0: the highest supported
  std::string tls12_ciphers;       // empty: OpenSSL's defaults
  SSL_SESSION* session = nullptr;  // offered for resumption
  bool tickets = true;             // false: resume by session ID (the server's cache)

  ClientOptions& Sni(std::string name) {
    server_name = std::move(name);
    return *this;
  }
  ClientOptions& MaxVersion(int version) {
    max_version = version;
    return *this;
  }
  ClientOptions& Tls12Ciphers(std::string ciphers) {
    tls12_ciphers = std::move(ciphers);
    return *this;
  }
  ClientOptions& Session(SSL_SESSION* offered) {
    session = offered;
    return *this;
  }
  ClientOptions& NoTickets() {
    tickets = false;
    return *this;
  }
};

struct HandshakeResult {
  bool ok = false;
  bool server_failed = false;       // the server refused (not the client)
  unsigned long server_error = 0;  // the server's first OpenSSL error when it refused
  bool reused = false;             // the server resumed the offered session
  int version = 0;
  SslPtr<X509> server_certificate;  // what the client received
  SslPtr<SSL_SESSION> session;      // the client's session, for a later resumption
};

// Runs a client and a server SSL connected by a BIO pair until both finish or one fails.
HandshakeResult Handshake(TlsContext& tls, const ClientOptions& options) {
  HandshakeResult result;
  SslPtr<SSL_CTX> client_ctx(SSL_CTX_new(TLS_client_method()));
  if (!client_ctx) return result;
  SSL_CTX_set_verify(client_ctx.get(), SSL_VERIFY_NONE, nullptr);
  // Security level 0 lets the client offer old protocols, so that a refusal observed below
  // is the server's doing, not the client library's.
  SSL_CTX_set_security_level(client_ctx.get(), 0);
  SSL_CTX_set_min_proto_version(client_ctx.get(), 0);
  if (options.max_version != 0) {
    SSL_CTX_set_max_proto_version(client_ctx.get(), options.max_version);
  }
  if (!options.tls12_ciphers.empty()) {
    SSL_CTX_set_cipher_list(client_ctx.get(), options.tls12_ciphers.c_str());
  } else if (options.max_version != 0 && options.max_version < TLS1_2_VERSION) {
    SSL_CTX_set_cipher_list(client_ctx.get(), "DEFAULT:@SECLEVEL=0");
  }
  // No client-side session cache: freeing a context that caches a session marks the session
  // not resumable, and the session must outlive this client context.
  SSL_CTX_set_session_cache_mode(client_ctx.get(), SSL_SESS_CACHE_OFF);
  if (!options.tickets) SSL_CTX_set_options(client_ctx.get(), SSL_OP_NO_TICKET);

  SslPtr<SSL> client(SSL_new(client_ctx.get()));
  SslPtr<SSL> server(SSL_new(tls.context().native_handle()));
  if (!client || !server) return result;
  BIO* client_bio = nullptr;
  BIO* server_bio = nullptr;
  if (BIO_new_bio_pair(&client_bio, 0, &server_bio, 0) != 1) return result;
  SSL_set_bio(client.get(), client_bio, client_bio);
  SSL_set_bio(server.get(), server_bio, server_bio);
  SSL_set_connect_state(client.get());
  SSL_set_accept_state(server.get());
  if (!options.server_name.empty()) {
    SSL_set_tlsext_host_name(client.get(), options.server_name.c_str());
  }
  if (options.session != nullptr) SSL_set_session(client.get(), options.session);

  bool client_done = false;
  bool server_done = false;
  // Each round moves the handshake at least one flight forward; 20 is far more than needed.
  for (int round = 0; round < 20 && !(client_done && server_done); ++round) {
    if (!client_done) {
      const int rc = SSL_do_handshake(client.get());
      if (rc == 1) {
        client_done = true;
      } else {
        const int err = SSL_get_error(client.get(), rc);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) break;
      }
    }
    if (!server_done) {
      const int rc = SSL_do_handshake(server.get());
      if (rc == 1) {
        server_done = true;
      } else {
        const int err = SSL_get_error(server.get(), rc);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
          result.server_failed = true;
          result.server_error = ERR_peek_error();
          break;
        }
      }
    }
  }
  ERR_clear_error();
  if (!(client_done && server_done)) return result;
  // TLS 1.3 sends session tickets after the handshake; a read on the client takes them in.
  char byte;
  SSL_read(client.get(), &byte, 1);
  // Close both ends properly: OpenSSL marks the session of a connection freed without a
  // close_notify as not resumable.
  SSL_shutdown(client.get());
  SSL_shutdown(server.get());
  ERR_clear_error();

  result.ok = true;
  result.reused = SSL_session_reused(server.get()) == 1;
  result.version = SSL_version(client.get());
  result.server_certificate.reset(SSL_get1_peer_certificate(client.get()));
  result.session.reset(SSL_get1_session(client.get()));
  return result;
}

// Two self-signed certificates, a.test (with 127.0.0.1) and b.test, written once per test.
class TlsContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(WriteSelfSignedCertificate({"a.test", "127.0.0.1"}, 1, CertA(), KeyA()).ok());
    ASSERT_TRUE(WriteSelfSignedCertificate({"b.test", "*.w.test"}, 1, CertB(), KeyB()).ok());
  }

  std::string CertA() const { return dir_.Sub("a.pem"); }
  std::string KeyA() const { return dir_.Sub("a.key"); }
  std::string CertB() const { return dir_.Sub("b.pem"); }
  std::string KeyB() const { return dir_.Sub("b.key"); }

  std::unique_ptr<TlsContext> CreateBoth() {
    auto tls = TlsContext::Create({{CertA(), KeyA()}, {CertB(), KeyB()}});
    EXPECT_TRUE(tls.ok()) << tls.status().ToString();
    return tls.ok() ? std::move(tls).value() : nullptr;
  }

  // Is `presented` the certificate in `file`?
  static bool IsCertificate(X509* presented, const std::string& file) {
    SslPtr<X509> expected = ReadCertificate(file);
    return presented != nullptr && expected && X509_cmp(presented, expected.get()) == 0;
  }

  TempDir dir_;
};

// --- Self-signed certificates --------------------------------------------------------------

TEST_F(TlsContextTest, SelfSignedWritesBothFiles) {
  EXPECT_FALSE(ReadTestFile(CertA()).empty());
  EXPECT_EQ(ReadTestFile(KeyA()).rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);  // PKCS#8
}

TEST_F(TlsContextTest, SelfSignedKeyIsPrivate) {
  EXPECT_EQ(ModeOf(KeyA()), 0600u);
  EXPECT_EQ(ModeOf(CertA()), 0644u);
}

TEST_F(TlsContextTest, SelfSignedHasTheNamesInSubjectAltName) {
  SslPtr<X509> cert = ReadCertificate(CertA());
  ASSERT_TRUE(cert);
  EXPECT_EQ(SubjectAltNames(cert.get()),
            (std::vector<std::string>{"DNS:a.test", "IP:127.0.0.1"}));
}

TEST_F(TlsContextTest, SelfSignedIsAServerCertificateSignedByItsKey) {
  SslPtr<X509> cert = ReadCertificate(CertA());
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_get_version(cert.get()), X509_VERSION_3);
  EVP_PKEY* key = X509_get0_pubkey(cert.get());
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
  EXPECT_EQ(X509_verify(cert.get(), key), 1);
  EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_ecdsa_with_SHA256);
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
  EXPECT_NE(X509_get_extended_key_usage(cert.get()) & XKU_SSL_SERVER, 0u);
  EXPECT_NE(X509_get_key_usage(cert.get()) & KU_DIGITAL_SIGNATURE, 0u);
}

TEST_F(TlsContextTest, SelfSignedValidityCoversNowToDays) {
  const std::string cert_file = dir_.Sub("long.pem");
  ASSERT_TRUE(WriteSelfSignedCertificate({"a.test"}, 30, cert_file, dir_.Sub("long.key")).ok());
  SslPtr<X509> cert = ReadCertificate(cert_file);
  ASSERT_TRUE(cert);
  time_t now = std::time(nullptr);
  EXPECT_LT(X509_cmp_time(X509_get0_notBefore(cert.get()), &now), 0);
  time_t in_29_days = now + 29 * 86400;
  time_t in_31_days = now + 31 * 86400;
  EXPECT_GT(X509_cmp_time(X509_get0_notAfter(cert.get()), &in_29_days), 0);
  EXPECT_LT(X509_cmp_time(X509_get0_notAfter(cert.get()), &in_31_days), 0);
}

TEST_F(TlsContextTest, SelfSignedSerialsDiffer) {
  SslPtr<X509> a = ReadCertificate(CertA());
  SslPtr<X509> b = ReadCertificate(CertB());
  ASSERT_TRUE(a && b);
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(a.get()), X509_get0_serialNumber(b.get())),
            0);
}

TEST_F(TlsContextTest, SelfSignedRefusesBadNames) {
  EXPECT_FALSE(WriteSelfSignedCertificate({}, 1, dir_.Sub("x.pem"), dir_.Sub("x.key")).ok());
  EXPECT_FALSE(
      WriteSelfSignedCertificate({"bad name"}, 1, dir_.Sub("x.pem"), dir_.Sub("x.key")).ok());
  EXPECT_FALSE(WriteSelfSignedCertificate({"a..b"}, 1, dir_.Sub("x.pem"), dir_.Sub("x.key")).ok());
  EXPECT_FALSE(PathExists(dir_.Sub("x.key")));
}

TEST_F(TlsContextTest, SelfSignedRefusesBadDays) {
  EXPECT_FALSE(
      WriteSelfSignedCertificate({"a.test"}, 0, dir_.Sub("x.pem"), dir_.Sub("x.key")).ok());
  EXPECT_FALSE(
      WriteSelfSignedCertificate({"a.test"}, 826, dir_.Sub("x.pem"), dir_.Sub("x.key")).ok());
}

// --- Loading -------------------------------------------------------------------------------

TEST_F(TlsContextTest, NamesComeFromTheCertificates) {
  auto tls = CreateBoth();
  ASSERT_TRUE(tls);
  ASSERT_EQ(tls->names().size(), 2u);
  EXPECT_EQ(tls->names()[0], (std::vector<std::string>{"a.test", "127.0.0.1"}));
  EXPECT_EQ(tls->names()[1], (std::vector<std::string>{"b.test", "*.w.test"}));
}

TEST_F(TlsContextTest, KeyNotMatchingCertificateRefused) {
  auto tls = TlsContext::Create({{CertA(), KeyB()}});
  ASSERT_FALSE(tls.ok());
  EXPECT_NE(tls.status().message().find(KeyB()), std::string::npos) << tls.status().message();
  EXPECT_NE(tls.status().message().find("does not match"), std::string::npos);
}

TEST_F(TlsContextTest, MissingCertificateFileNamed) {
  auto tls = TlsContext::Create({{dir_.Sub("absent.pem"), KeyA()}});
  ASSERT_FALSE(tls.ok());
  EXPECT_EQ(tls.status().code(), StatusCode::kNotFound);
  EXPECT_NE(tls.status().message().find(dir_.Sub("absent.pem")), std::string::npos);
}

TEST_F(TlsContextTest, MissingKeyFileNamed) {
  auto tls = TlsContext::Create({{CertA(), dir_.Sub("absent.key")}});
  ASSERT_FALSE(tls.ok());
  EXPECT_EQ(tls.status().code(), StatusCode::kNotFound);
  EXPECT_NE(tls.status().message().find(dir_.Sub("absent.key")), std::string::npos);
}

TEST_F(TlsContextTest, CertificateNotPemRefused) {
  WriteTestFile(dir_.Sub("junk.pem"), "not a certificate\n");
  auto tls = TlsContext::Create({{dir_.Sub("junk.pem"), KeyA()}});
  ASSERT_FALSE(tls.ok());
  EXPECT_NE(tls.status().message().find(dir_.Sub("junk.pem")), std::string::npos);
}

TEST_F(TlsContextTest, KeyNotPemRefused) {
  WriteTestFile(dir_.Sub("junk.key"), "not a key\n");
  auto tls = TlsContext::Create({{CertA(), dir_.Sub("junk.key")}});
  ASSERT_FALSE(tls.ok());
  EXPECT_NE(tls.status().message().find(dir_.Sub("junk.key")), std::string::npos);
}

TEST_F(TlsContextTest, EncryptedKeyRefusedWithoutPrompting) {
  SslPtr<EVP_PKEY> key(EVP_EC_gen("P-256"));
  ASSERT_TRUE(key);
  const std::string path = dir_.Sub("encrypted.key");
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  static char kPassphrase[] = "secret";
  ASSERT_EQ(PEM_write_PKCS8PrivateKey(f, key.get(), EVP_aes_128_cbc(), kPassphrase,
                                      sizeof kPassphrase - 1, nullptr, nullptr),
            1);
  std::fclose(f);
  auto tls = TlsContext::Create({{CertA(), path}});
  ASSERT_FALSE(tls.ok());
  EXPECT_NE(tls.status().message().find("encrypted"), std::string::npos);
}

TEST_F(TlsContextTest, NoCertificateRefused) { EXPECT_FALSE(TlsContext::Create({}).ok()); }

// --- Handshakes ----------------------------------------------------------------------------

TEST_F(TlsContextTest, SniSelectsTheSecondCertificate) {
  auto tls = CreateBoth();
  ASSERT_TRUE(tls);
  HandshakeResult r = Handshake(*tls, ClientOptions().Sni("b.test"));
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(IsCertificate(r.server_certificate.get(), CertB()));
}

TEST_F(TlsContextTest, NoSniGetsTheFirstCertificate) {
  auto tls = CreateBoth();
  ASSERT_TRUE(tls);
  HandshakeResult r = Handshake(*tls, ClientOptions());
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(IsCertificate(r.server_certificate.get(), CertA()));
}

TEST_F(TlsContextTest, UnknownSniGetsTheFirstCertificate) {
  auto tls = CreateBoth();
  ASSERT_TRUE(tls);
  HandshakeResult r = Handshake(*tls, ClientOptions().Sni("unknown.test"));
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(IsCertificate(r.server_certificate.get(), CertA()));
}

TEST_F(TlsContextTest, SniMatchIgnoresCase) {
  auto tls = CreateBoth();
  ASSERT_TRUE(tls);
  HandshakeResult r = Handshake(*tls, ClientOptions().Sni("B.Test"));
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(IsCertificate(r.server_certificate.get(), CertB()));
}

TEST_F(TlsContextTest, WildcardMatchesOneLabel) {
  auto tls = CreateBoth();
  ASSERT_TRUE(tls);
  HandshakeResult one = Handshake(*tls, ClientOptions().Sni("x.w.test"));
  ASSERT_TRUE(one.ok);
  EXPECT_TRUE(IsCertificate(one.server_certificate.get(), CertB()));
  HandshakeResult two = Handshake(*tls, ClientOptions().Sni("y.x.w.test"));
  ASSERT_TRUE(two.ok);
  EXPECT_TRUE(IsCertificate(two.server_certificate.get(), CertA()));
  HandshakeResult bare = Handshake(*tls, ClientOptions().Sni("w.test"));
  ASSERT_TRUE(bare.ok);
  EXPECT_TRUE(IsCertificate(bare.server_certificate.get(), CertA()));
}

TEST_F(TlsContextTest, Tls13IsNegotiatedByDefault) {
  auto tls = CreateBoth();
  ASSERT_TRUE(tls);
  HandshakeResult r = Handshake(*tls, ClientOptions().Sni("a.test"));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.version, TLS1_3_VERSION);
}

TEST_F(TlsContextTest, Tls12IsAccepted) {
  auto tls = CreateBoth();
  ASSERT_TRUE(tls);
  HandshakeResult r = Handshake(*tls, ClientOptions().Sni("b.test").MaxVersion(TLS1_2_VERSION));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.version, TLS1_2_VERSION);
  EXPECT_TRUE(IsCertificate(r.server_certificate.get(), CertB()));
}

TEST_F(TlsContextTest, Tls11IsRefusedByTheServer) {
  auto tls = CreateBoth();
  ASSERT_TRUE(tls);
  HandshakeResult r = Handshake(*tls, ClientOptions().MaxVersion(TLS1_1_VERSION));
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.server_failed);
  EXPECT_EQ(ERR_GET_REASON(r.server_error), SSL_R_UNSUPPORTED_PROTOCOL);
}

TEST_F(TlsContextTest, Tls12WithoutAeadIsRefusedByTheServer) {
  auto tls = CreateBoth();
  ASSERT_TRUE(tls);
  // Forward-secret but CBC: not in the server's list.
  HandshakeResult r = Handshake(
      *tls, ClientOptions().MaxVersion(TLS1_2_VERSION).Tls12Ciphers("ECDHE-ECDSA-AES128-SHA256"));
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.server_failed);
  EXPECT_EQ(ERR_GET_REASON(r.server_error), SSL_R_NO_SHARED_CIPHER);
}

TEST_F(TlsContextTest, Tls12SessionIsResumed) {
  auto tls = CreateBoth();
  ASSERT_TRUE(tls);
  HandshakeResult first = Handshake(*tls, ClientOptions().MaxVersion(TLS1_2_VERSION));
  ASSERT_TRUE(first.ok);
  ASSERT_TRUE(first.session);
  EXPECT_FALSE(first.reused);
  HandshakeResult second =
      Handshake(*tls, ClientOptions().MaxVersion(TLS1_2_VERSION).Session(first.session.get()));
  ASSERT_TRUE(second.ok);
  EXPECT_TRUE(second.reused);
}

TEST_F(TlsContextTest, Tls12SessionIsResumedFromTheServerCache) {
  auto tls = CreateBoth();
  ASSERT_TRUE(tls);
  const ClientOptions options = ClientOptions().MaxVersion(TLS1_2_VERSION).NoTickets();
  HandshakeResult first = Handshake(*tls, options);
  ASSERT_TRUE(first.ok);
  ASSERT_TRUE(first.session);
  EXPECT_FALSE(SSL_SESSION_has_ticket(first.session.get()));
  HandshakeResult second = Handshake(*tls, ClientOptions(options).Session(first.session.get()));
  ASSERT_TRUE(second.ok);
  EXPECT_TRUE(second.reused);
}

TEST_F(TlsContextTest, Tls13SessionIsResumedAfterSniSwitch) {
  auto tls = CreateBoth();
  ASSERT_TRUE(tls);
  HandshakeResult first = Handshake(*tls, ClientOptions().Sni("b.test"));
  ASSERT_TRUE(first.ok);
  ASSERT_TRUE(first.session);
  HandshakeResult second =
      Handshake(*tls, ClientOptions().Sni("b.test").Session(first.session.get()));
  ASSERT_TRUE(second.ok);
  EXPECT_TRUE(second.reused);
  EXPECT_EQ(second.version, TLS1_3_VERSION);
}

}  // namespace
}  // namespace refuge::serve
