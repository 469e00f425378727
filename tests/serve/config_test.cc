// ServeConfig: TOML parsing (tables, types, unknown keys), validation of values and
// addresses, and loading from a file.
#include "serve/config.h"

#include <string>

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace refuge::serve {
namespace {

using refuge::testing::TempDir;
using refuge::testing::WriteTestFile;

// Two well-formed site IDs (52 lowercase base32 characters).
const std::string kSiteA(52, 'a');
const std::string kSiteB = std::string(51, 'b') + "7";

Result<ServeConfig> Parse(const std::string& text) { return ParseServeConfig(text, "test.toml"); }

// Expects `text` to be refused with a message containing every one of `parts`.
void ExpectError(const std::string& text, std::initializer_list<std::string> parts) {
  auto config = Parse(text);
  ASSERT_FALSE(config.ok()) << text;
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  for (const std::string& part : parts) {
    EXPECT_NE(config.status().message().find(part), std::string::npos)
        << "'" << part << "' not in: " << config.status().message();
  }
}

// Expects ValidateServeConfig to refuse `config` with a message containing `part`.
void ExpectInvalid(const ServeConfig& config, const std::string& part) {
  Status s = ValidateServeConfig(config);
  ASSERT_FALSE(s.ok()) << "expected an error about " << part;
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(part), std::string::npos) << s.message();
}

// --- Parsing -------------------------------------------------------------------------------

TEST(ServeConfigParseTest, EmptyTextGivesTheDefaults) {
  auto config = Parse("");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const ServeConfig defaults;
  EXPECT_EQ(config->listen, defaults.listen);
  EXPECT_EQ(config->threads, 0);
  EXPECT_EQ(config->max_request_head_bytes, 8u * 1024);
  EXPECT_EQ(config->cache_bytes, defaults.cache_bytes);
  EXPECT_TRUE(config->access_log.empty());
  EXPECT_TRUE(config->hosts.empty());
  EXPECT_TRUE(config->tls_listen.empty());
  EXPECT_EQ(config->admin_listen, "127.0.0.1:9090");
}

TEST(ServeConfigParseTest, DefaultsAreValid) {
  const ServeConfig defaults;
  EXPECT_TRUE(ValidateServeConfig(defaults).ok());
}

TEST(ServeConfigParseTest, ServerTable) {
  auto config = Parse(R"(
[server]
listen = ["0.0.0.0:80", "[::]:80"]
threads = 4
home = "/srv/refuge"
default_site = ")" + kSiteA + R"("
path_max_age_seconds = 300
reload_interval_ms = 500
drain_timeout_ms = 5000
keepalive_timeout_ms = 15000
request_head_timeout_ms = 2000
max_request_head_bytes = 16384
max_header_count = 100
max_body_bytes = 1024
max_ranges = 4
cache_bytes = 1048576
cache_max_object_bytes = 65536
access_log = "/var/log/refuge/access.log"
)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->listen, (std::vector<std::string>{"0.0.0.0:80", "[::]:80"}));
  EXPECT_EQ(config->threads, 4);
  EXPECT_EQ(config->home, "/srv/refuge");
  EXPECT_EQ(config->default_site, kSiteA);
  EXPECT_EQ(config->path_max_age_seconds, 300);
  EXPECT_EQ(config->reload_interval_ms, 500);
  EXPECT_EQ(config->drain_timeout_ms, 5000);
  EXPECT_EQ(config->keepalive_timeout_ms, 15000);
  EXPECT_EQ(config->request_head_timeout_ms, 2000);
  EXPECT_EQ(config->max_request_head_bytes, 16384u);
  EXPECT_EQ(config->max_header_count, 100);
  EXPECT_EQ(config->max_body_bytes, 1024u);
  EXPECT_EQ(config->max_ranges, 4);
  EXPECT_EQ(config->cache_bytes, 1048576u);
  EXPECT_EQ(config->cache_max_object_bytes, 65536u);
  EXPECT_EQ(config->access_log, "/var/log/refuge/access.log");
}

TEST(ServeConfigParseTest, ListenMayBeOneString) {
  auto config = Parse("[server]\nlisten = \"127.0.0.1:0\"\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->listen, (std::vector<std::string>{"127.0.0.1:0"}));
}

TEST(ServeConfigParseTest, HostsTable) {
  auto config = Parse("[hosts]\n\"www.example.org\" = \"" + kSiteA + "\"\n\"b.test\" = \"" +
                      kSiteB + "\"\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->hosts.size(), 2u);
  EXPECT_EQ(config->hosts.at("www.example.org"), kSiteA);
  EXPECT_EQ(config->hosts.at("b.test"), kSiteB);
}

TEST(ServeConfigParseTest, UnquotedDottedHostIsExplained) {
  ExpectError("[hosts]\nwww.example.org = \"" + kSiteA + "\"\n", {"[hosts]", "quote"});
}

TEST(ServeConfigParseTest, TlsTable) {
  auto config = Parse(R"(
[tls]
listen = ["0.0.0.0:443"]
[[tls.certificates]]
cert_file = "/etc/refuge/a.pem"
key_file = "/etc/refuge/a.key"
[[tls.certificates]]
cert_file = "/etc/refuge/b.pem"
key_file = "/etc/refuge/b.key"
)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->tls_listen, (std::vector<std::string>{"0.0.0.0:443"}));
  ASSERT_EQ(config->certificates.size(), 2u);
  EXPECT_EQ(config->certificates[0].cert_file, "/etc/refuge/a.pem");
  EXPECT_EQ(config->certificates[0].key_file, "/etc/refuge/a.key");
  EXPECT_EQ(config->certificates[1].cert_file, "/etc/refuge/b.pem");
  EXPECT_EQ(config->certificates[1].key_file, "/etc/refuge/b.key");
}

TEST(ServeConfigParseTest, CertificateNeedsBothFiles) {
  ExpectError("[tls]\nlisten = [\"127.0.0.1:0\"]\n[[tls.certificates]]\ncert_file = \"a.pem\"\n",
              {"cert_file and key_file"});
}

TEST(ServeConfigParseTest, RedirectTable) {
  auto config = Parse(R"(
[tls]
listen = ["0.0.0.0:443"]
[[tls.certificates]]
cert_file = "a.pem"
key_file = "a.key"
[redirect]
listen = ["0.0.0.0:80"]
acme_webroot = "/var/lib/refuge/acme"
https_port = 8443
)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->redirect_listen, (std::vector<std::string>{"0.0.0.0:80"}));
  EXPECT_EQ(config->acme_webroot, "/var/lib/refuge/acme");
  EXPECT_EQ(config->https_port, 8443);
}

TEST(ServeConfigParseTest, AdminTable) {
  auto config = Parse("[admin]\nlisten = \"[::1]:9100\"\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->admin_listen, "[::1]:9100");
}

TEST(ServeConfigParseTest, EmptyAdminListenDisablesAdmin) {
  auto config = Parse("[admin]\nlisten = \"\"\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->admin_listen.empty());
}

TEST(ServeConfigParseTest, UnknownKeyIsNamed) {
  ExpectError("[server]\nlisten = [\"127.0.0.1:0\"]\nthreds = 4\n",
              {"test.toml:3:", "[server]", "'threds'"});
}

TEST(ServeConfigParseTest, UnknownTableIsNamed) {
  ExpectError("[shield]\nrate = 10\n", {"test.toml", "[shield]"});
}

TEST(ServeConfigParseTest, UnknownTopLevelKeyIsNamed) {
  ExpectError("listen = [\"127.0.0.1:0\"]\n", {"'listen'", "top-level"});
}

TEST(ServeConfigParseTest, UnknownCertificateKeyIsNamed) {
  ExpectError("[[tls.certificates]]\ncert_file = \"a\"\nkey_file = \"b\"\nchain = \"c\"\n",
              {"[[tls.certificates]]", "'chain'"});
}

TEST(ServeConfigParseTest, WrongTypeIsNamed) {
  ExpectError("[server]\nthreads = \"4\"\n", {"[server] threads", "an integer", "a string"});
}

TEST(ServeConfigParseTest, FloatIsNotAnInteger) {
  ExpectError("[server]\nmax_ranges = 4.0\n", {"[server] max_ranges", "a float"});
}

TEST(ServeConfigParseTest, ListenElementMustBeAString) {
  ExpectError("[server]\nlisten = [8080]\n", {"[server] listen", "a string"});
}

TEST(ServeConfigParseTest, TableWhereTableExpected) {
  ExpectError("server = 3\n", {"[server]", "must be a table"});
}

TEST(ServeConfigParseTest, NegativeSizeRefused) {
  ExpectError("[server]\nmax_body_bytes = -1\n", {"[server] max_body_bytes", "negative"});
}

TEST(ServeConfigParseTest, IntegerTooLargeForFieldRefused) {
  ExpectError("[server]\nthreads = 9999999999\n", {"[server] threads", "out of range"});
}

TEST(ServeConfigParseTest, SyntaxErrorNamesTheLine) {
  ExpectError("[server]\nthreads = = 4\n", {"test.toml:2:", "TOML syntax error"});
}

TEST(ServeConfigParseTest, ValidationErrorNamesTheOrigin) {
  ExpectError("[server]\nthreads = 1000\n", {"test.toml", "[server] threads", "1000"});
}

// --- Listen addresses ----------------------------------------------------------------------

TEST(ListenAddressTest, ParsesIpv4) {
  auto address = ParseListenAddress("127.0.0.1:8080");
  ASSERT_TRUE(address.ok()) << address.status().ToString();
  EXPECT_EQ(address->host, "127.0.0.1");
  EXPECT_EQ(address->port, 8080);
}

TEST(ListenAddressTest, ParsesIpv6WithoutBrackets) {
  auto address = ParseListenAddress("[::1]:0");
  ASSERT_TRUE(address.ok()) << address.status().ToString();
  EXPECT_EQ(address->host, "::1");
  EXPECT_EQ(address->port, 0);
}

TEST(ListenAddressTest, ParsesHighestPort) {
  auto address = ParseListenAddress("0.0.0.0:65535");
  ASSERT_TRUE(address.ok()) << address.status().ToString();
  EXPECT_EQ(address->port, 65535);
}

TEST(ListenAddressTest, RefusesHostName) {
  auto address = ParseListenAddress("localhost:80");
  ASSERT_FALSE(address.ok());
  EXPECT_NE(address.status().message().find("localhost:80"), std::string::npos);
}

TEST(ListenAddressTest, RefusesPortAbove65535) {
  EXPECT_FALSE(ParseListenAddress("127.0.0.1:70000").ok());
}

TEST(ListenAddressTest, RefusesMissingPort) {
  EXPECT_FALSE(ParseListenAddress("127.0.0.1").ok());
  EXPECT_FALSE(ParseListenAddress("127.0.0.1:").ok());
  EXPECT_FALSE(ParseListenAddress("[::1]").ok());
}

TEST(ListenAddressTest, RefusesNonNumericPort) {
  EXPECT_FALSE(ParseListenAddress("127.0.0.1:80a").ok());
  EXPECT_FALSE(ParseListenAddress("127.0.0.1:-1").ok());
  EXPECT_FALSE(ParseListenAddress("127.0.0.1:+80").ok());
}

TEST(ListenAddressTest, RefusesBadIpv6) {
  EXPECT_FALSE(ParseListenAddress("[::g]:80").ok());
  EXPECT_FALSE(ParseListenAddress("[::1:80").ok());
  EXPECT_FALSE(ParseListenAddress("[127.0.0.1]:80").ok());
}

TEST(ListenAddressTest, RefusesIpv6WithoutBrackets) {
  auto address = ParseListenAddress("::1:80");
  ASSERT_FALSE(address.ok());
  EXPECT_NE(address.status().message().find("brackets"), std::string::npos);
}

TEST(ListenAddressTest, RefusesShortIpv4) { EXPECT_FALSE(ParseListenAddress("127.1:80").ok()); }

TEST(ServeConfigValidateTest, BadListenAddressIsNamed) {
  ExpectError("[server]\nlisten = [\"localhost:8080\"]\n", {"[server] listen", "localhost:8080"});
}

TEST(ServeConfigValidateTest, AddressUsedTwiceRefused) {
  ServeConfig config;
  config.listen = {"127.0.0.1:8080"};
  config.admin_listen = "127.0.0.1:8080";
  ExpectInvalid(config, "another listener");
}

TEST(ServeConfigValidateTest, PortZeroMayRepeat) {
  ServeConfig config;
  config.listen = {"127.0.0.1:0", "127.0.0.1:0"};
  config.admin_listen = "127.0.0.1:0";
  EXPECT_TRUE(ValidateServeConfig(config).ok());
}

TEST(ServeConfigValidateTest, BadAdminListenRefused) {
  ServeConfig config;
  config.admin_listen = "admin:9090";
  ExpectInvalid(config, "[admin] listen");
}

TEST(ServeConfigValidateTest, NoListenerRefused) {
  ServeConfig config;
  config.listen.clear();
  ExpectInvalid(config, "nothing to serve");
}

// --- Sites and hosts -----------------------------------------------------------------------

TEST(ServeConfigValidateTest, InvalidDefaultSiteRefused) {
  ExpectError("[server]\ndefault_site = \"not-a-site\"\n", {"default_site", "not-a-site"});
}

TEST(ServeConfigValidateTest, InvalidSiteInHostsRefused) {
  ExpectError("[hosts]\n\"a.test\" = \"" + kSiteA.substr(1) + "\"\n", {"[hosts]", "a.test"});
}

TEST(ServeConfigValidateTest, UppercaseHostRefused) {
  ServeConfig config;
  config.hosts["Example.org"] = kSiteA;
  ExpectInvalid(config, "lowercase");
}

TEST(ServeConfigValidateTest, HostWithPortRefused) {
  ServeConfig config;
  config.hosts["example.org:8080"] = kSiteA;
  ExpectInvalid(config, "without a port");
}

TEST(ServeConfigValidateTest, MalformedHostRefused) {
  for (const char* host : {"", "a..b", ".a", "a.", "a b", "a_b.test"}) {
    ServeConfig config;
    config.hosts[host] = kSiteA;
    EXPECT_FALSE(ValidateServeConfig(config).ok()) << "host '" << host << "'";
  }
}

// --- TLS and redirect ----------------------------------------------------------------------

TEST(ServeConfigValidateTest, TlsListenWithoutCertificateRefused) {
  ExpectError("[tls]\nlisten = [\"127.0.0.1:8443\"]\n", {"[tls] listen", "certificates"});
}

TEST(ServeConfigValidateTest, RedirectWithoutTlsRefused) {
  ExpectError("[redirect]\nlisten = [\"127.0.0.1:8081\"]\n", {"[redirect]", "[tls] listen"});
}

TEST(ServeConfigValidateTest, HttpsPortOutOfRangeRefused) {
  ServeConfig config;
  config.https_port = 0;
  ExpectInvalid(config, "https_port");
  config.https_port = 65536;
  ExpectInvalid(config, "https_port");
}

TEST(ServeConfigValidateTest, RelativeAcmeWebrootRefused) {
  ServeConfig config;
  config.acme_webroot = "acme";
  ExpectInvalid(config, "absolute");
}

TEST(ServeConfigValidateTest, NulInFileNameRefused) {
  ExpectError("[server]\naccess_log = \"/tmp/a\\u0000b\"\n", {"[server] access_log", "NUL"});
}

// --- Bounds --------------------------------------------------------------------------------

TEST(ServeConfigValidateTest, ThreadsBounded) {
  ServeConfig config;
  config.threads = 256;
  EXPECT_TRUE(ValidateServeConfig(config).ok());
  config.threads = 257;
  ExpectInvalid(config, "threads");
  config.threads = -1;
  ExpectInvalid(config, "threads");
}

TEST(ServeConfigValidateTest, RequestHeadBytesBounded) {
  ServeConfig config;
  config.max_request_head_bytes = 1024;
  EXPECT_TRUE(ValidateServeConfig(config).ok());
  config.max_request_head_bytes = 64 * 1024;
  EXPECT_TRUE(ValidateServeConfig(config).ok());
  config.max_request_head_bytes = 1023;
  ExpectInvalid(config, "max_request_head_bytes");
  config.max_request_head_bytes = 64 * 1024 + 1;
  ExpectInvalid(config, "max_request_head_bytes");
}

TEST(ServeConfigValidateTest, HeaderCountBounded) {
  ServeConfig config;
  config.max_header_count = 7;
  ExpectInvalid(config, "max_header_count");
  config.max_header_count = 257;
  ExpectInvalid(config, "max_header_count");
}

TEST(ServeConfigValidateTest, CacheObjectLargerThanCacheRefused) {
  ServeConfig config;
  config.cache_bytes = 1000;
  config.cache_max_object_bytes = 1001;
  ExpectInvalid(config, "cache_max_object_bytes");
}

TEST(ServeConfigValidateTest, DurationsMustBePositive) {
  ServeConfig config;
  config.keepalive_timeout_ms = 0;
  ExpectInvalid(config, "keepalive_timeout_ms");
  config = ServeConfig();
  config.reload_interval_ms = -5;
  ExpectInvalid(config, "reload_interval_ms");
  config = ServeConfig();
  config.request_head_timeout_ms = 0;
  ExpectInvalid(config, "request_head_timeout_ms");
  config = ServeConfig();
  config.drain_timeout_ms = 0;
  ExpectInvalid(config, "drain_timeout_ms");
}

TEST(ServeConfigValidateTest, DurationsBoundedAbove) {
  ServeConfig config;
  config.request_head_timeout_ms = int64_t{24} * 3600 * 1000 + 1;
  ExpectInvalid(config, "request_head_timeout_ms");
}

TEST(ServeConfigValidateTest, MaxAgeBounded) {
  ServeConfig config;
  config.path_max_age_seconds = 0;
  EXPECT_TRUE(ValidateServeConfig(config).ok());
  config.path_max_age_seconds = -1;
  ExpectInvalid(config, "path_max_age_seconds");
}

// --- Files ---------------------------------------------------------------------------------

TEST(LoadServeConfigTest, ReadsAFile) {
  TempDir dir;
  WriteTestFile(dir.Sub("serve.toml"), "[server]\nthreads = 2\n");
  auto config = LoadServeConfig(dir.Sub("serve.toml"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->threads, 2);
}

TEST(LoadServeConfigTest, MissingFileNamesThePath) {
  TempDir dir;
  auto config = LoadServeConfig(dir.Sub("absent.toml"));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kNotFound);
  EXPECT_NE(config.status().message().find(dir.Sub("absent.toml")), std::string::npos);
}

TEST(LoadServeConfigTest, ErrorsNameThePath) {
  TempDir dir;
  WriteTestFile(dir.Sub("serve.toml"), "[server]\nbogus = 1\n");
  auto config = LoadServeConfig(dir.Sub("serve.toml"));
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find(dir.Sub("serve.toml") + ":2:"), std::string::npos)
      << config.status().message();
}

TEST(LoadServeConfigTest, OversizedFileRefused) {
  TempDir dir;
  WriteTestFile(dir.Sub("serve.toml"), std::string(1024 * 1024 + 1, '#'));
  auto config = LoadServeConfig(dir.Sub("serve.toml"));
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kTooLarge);
}

}  // namespace
}  // namespace refuge::serve
