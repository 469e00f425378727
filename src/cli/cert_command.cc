// refuge cert self-signed --cert FILE --key FILE [--name NAME ...] [--days N] [--json]
#include <iostream>

#include "cli/cli_common.h"
#include "common/clock.h"
#include "serve/tls_context.h"

namespace refuge::cli {

namespace {

// A self-signed certificate is for testing and for a node reached by address; a month is
// long enough to try things, short enough that nobody forgets one in production.
constexpr int kDefaultCertDays = 30;
// The longest validity browsers have accepted for any server certificate (CA/B Forum, 2018).
constexpr int kMaxCertDays = 825;

struct SelfSignedArgs {
  std::string cert_file;
  std::string key_file;
  std::vector<std::string> names;
  int days = kDefaultCertDays;
  bool json = false;
};

void RunSelfSigned(Context& ctx, const SelfSignedArgs& args) {
  std::vector<std::string> names = args.names;
  if (names.empty()) names = {"localhost", "127.0.0.1", "::1"};
  // notAfter is set from the same clock a moment later; the printed time may be up to a
  // second early, never late.
  const int64_t not_after = SystemClock::Get().NowSeconds() + int64_t{args.days} * 86400;
  Status s = serve::WriteSelfSignedCertificate(names, args.days, args.cert_file, args.key_file);
  if (!s.ok()) {
    ctx.Fail(s);
    // A malformed --name is a usage error, like a malformed option value.
    if (s.code() == StatusCode::kInvalidArgument) ctx.exit_code = kExitUsage;
    return;
  }
  if (args.json) {
    PrintJson(Json{{"cert", args.cert_file},
                   {"key", args.key_file},
                   {"names", names},
                   {"not_after", FormatUtc(not_after)}});
    return;
  }
  std::cerr << "Wrote a self-signed certificate for";
  for (const std::string& name : names) std::cerr << " " << Printable(name);
  std::cerr << ", valid until " << FormatUtc(not_after) << "\n"
            << "  certificate: " << Printable(args.cert_file) << "\n"
            << "  key:         " << Printable(args.key_file) << "  (mode 0600)\n";
}

}  // namespace

void AddCertCommand(CLI::App& app, Context& ctx) {
  CLI::App* cert = AddCommand(app, "cert", "Make TLS certificates for refuge serve");
  cert->require_subcommand(1);

  auto args = std::make_shared<SelfSignedArgs>();
  CLI::App* self_signed = AddCommand(*cert, "self-signed",
      "Write a self-signed certificate and its private key",
      "Generates an ECDSA P-256 key and a certificate signed by that key, for the DNS names\n"
      "and IP addresses given with --name (all of them in subjectAltName; the first is also\n"
      "the common name). Without --name: localhost, 127.0.0.1 and ::1. The key is written as\n"
      "PKCS#8 PEM with mode 0600, the certificate as PEM; each file is replaced atomically.\n"
      "\n"
      "Browsers warn about a self-signed certificate; use one for tests, or where readers\n"
      "pin it. For a public name, get a certificate from an ACME CA (certbot --webroot with\n"
      "the [redirect] listener's acme_webroot, see docs/CONFIG.md) and list it in [tls].");
  self_signed->add_option("--cert", args->cert_file, "Write the certificate (PEM) here")
      ->required()
      ->type_name("FILE");
  self_signed->add_option("--key", args->key_file, "Write the private key (PEM, 0600) here")
      ->required()
      ->type_name("FILE");
  self_signed->add_option("--name", args->names,
                          "A DNS name or IP address the certificate serves (repeatable;\n"
                          "default: localhost, 127.0.0.1, ::1)")
      ->type_name("NAME");
  self_signed->add_option("--days", args->days, "Validity in days (default 30, at most 825)")
      ->check(CLI::Range(1, kMaxCertDays))
      ->type_name("N");
  self_signed->add_flag("--json", args->json,
                        "Print {\"cert\", \"key\", \"names\", \"not_after\"} as JSON");
  self_signed->callback([&ctx, args] { RunSelfSigned(ctx, *args); });
}

}  // namespace refuge::cli
