// What every `refuge` command shares: exit codes, error and JSON output, progress lines, and
// opening the node home.
//
// Exit codes (also in `refuge --help` and docs/CLI.md):
//   0 success
//   1 failure not covered below
//   2 usage error (unknown option, missing argument, malformed value)
//   3 not found (site, version, file, URL)
//   4 verification failed or corrupt data (signature, hash, rollback, expiry, bad metadata)
//   5 I/O or network error
// `refuge tuf-client` is the exception: it exits 0 on full success and 1 otherwise, as the
// TUF conformance protocol wants.
#ifndef REFUGE_CLI_CLI_COMMON_H_
#define REFUGE_CLI_CLI_COMMON_H_

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "common/status.h"
#include "crypto/canonical_json.h"
#include "node/node_home.h"

namespace refuge::cli {

enum ExitCode {
  kExitOk = 0,
  kExitFailure = 1,
  kExitUsage = 2,
  kExitNotFound = 3,
  kExitVerification = 4,
  kExitIO = 5,
};

int ExitCodeFor(const Status& status);

// Shared by every command: where the node lives, and the result of the command that ran.
struct Context {
  std::string home_override;  // --home
  int exit_code = kExitOk;

  std::string HomePath() const;
  // Opens the node home; on failure prints the error and returns null.
  std::unique_ptr<NodeHome> OpenHome();
  // Prints "refuge: <message>" on stderr and records the exit code. Returns it.
  int Fail(const Status& status);
};

// Error messages quote untrusted names (file names, URLs, metadata fields); a newline or an
// escape sequence in one must not break the one-line message or drive the terminal. Control
// characters become \n or \xNN.
std::string Printable(const std::string& s);

// Prints a JSON value on stdout, one line.
void PrintJson(const Json& value);

// A one-line progress display on stderr, shown only when stderr is a terminal.
class Progress {
 public:
  explicit Progress(bool enabled);
  ~Progress();
  void Update(const std::string& line);
  void Done();

 private:
  bool enabled_;
  bool shown_ = false;
};

std::string HumanBytes(uint64_t bytes);

// The footer every help page ends with: environment and exit codes.
extern const char* const kHelpFooter;
// Adds a subcommand with a one-line summary (shown in the parent's list) and a longer
// description (shown, with kHelpFooter, in the subcommand's own --help).
CLI::App* AddCommand(CLI::App& parent, const std::string& name, const std::string& summary,
                     const std::string& details = "");

// Registration of each command group (one file each).
void AddSiteCommands(CLI::App& app, Context& ctx);
void AddShieldCommands(CLI::App& app, Context& ctx);
void AddPublishCommands(CLI::App& app, Context& ctx);
void AddStoreCommands(CLI::App& app, Context& ctx);
void AddGetCommand(CLI::App& app, Context& ctx);
void AddTufClientCommand(CLI::App& app, Context& ctx);
void AddCertCommand(CLI::App& app, Context& ctx);
void AddServeCommand(CLI::App& app, Context& ctx);
void AddBlockCommand(CLI::App& app, Context& ctx);
void AddMirrorCommands(CLI::App& app, Context& ctx);
// `refuge mirrors check` (mirrors_check_command.cc), added to the `mirrors` group.
void AddMirrorsCheckCommand(CLI::App& mirrors, Context& ctx);

}  // namespace refuge::cli

#endif  // REFUGE_CLI_CLI_COMMON_H_
