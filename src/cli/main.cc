// refuge: keep a publication online, genuine and fast when any one host, name or link is
// taken away. This file wires the command groups together; each group lives in its own file.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/cli_common.h"
#include "common/version.h"

int main(int argc, char** argv) {
  CLI::App app{
      "refuge: publish a site as a signed, content-addressed TUF repository that any node can\n"
      "mirror and any reader can verify, with no DNS and no certificate authority.",
      "refuge"};
  app.set_version_flag("--version", "refuge " REFUGE_VERSION);
  app.footer(refuge::cli::kHelpFooter);
  app.require_subcommand(1);
  app.fallthrough();

  refuge::cli::Context ctx;
  app.add_option("--home", ctx.home_override, "Node home directory (overrides REFUGE_HOME)")
      ->type_name("DIR");

  refuge::cli::AddSiteCommands(app, ctx);
  refuge::cli::AddPublishCommands(app, ctx);
  refuge::cli::AddStoreCommands(app, ctx);
  refuge::cli::AddGetCommand(app, ctx);
  refuge::cli::AddTufClientCommand(app, ctx);
  refuge::cli::AddServeCommand(app, ctx);
  refuge::cli::AddBlockCommand(app, ctx);
  refuge::cli::AddMirrorCommands(app, ctx);
  refuge::cli::AddCertCommand(app, ctx);
  refuge::cli::AddShieldCommands(app, ctx);

  // CLI11 reports an unknown command as "a subcommand is required"; name it instead.
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--home") {
      ++i;
      continue;
    }
    if (arg.empty() || arg[0] == '-') continue;
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands({})) known = known || sub->check_name(arg);
    if (!known) {
      std::cerr << "refuge: unknown command '" << arg << "'; run refuge --help for the list\n";
      return refuge::cli::kExitUsage;
    }
    break;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    if (rc == 0) return 0;  // --help, --version
    // tuf-client's protocol: every failure is 1.
    for (const CLI::App* sub : app.get_subcommands()) {
      if (sub->get_name() == "tuf-client") return 1;
    }
    return refuge::cli::kExitUsage;
  }
  return ctx.exit_code;
}
