#include "cli/cli_common.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace refuge::cli {

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return kExitOk;
    case StatusCode::kInvalidArgument:
    case StatusCode::kAlreadyExists:
    case StatusCode::kTooLarge: return kExitFailure;
    case StatusCode::kNotFound: return kExitNotFound;
    case StatusCode::kCorruption:
    case StatusCode::kVerificationFailed: return kExitVerification;
    case StatusCode::kIOError:
    case StatusCode::kUnavailable: return kExitIO;
    case StatusCode::kInternal: return kExitFailure;
  }
  return kExitFailure;
}

std::string Context::HomePath() const {
  return home_override.empty() ? NodeHome::DefaultPath() : home_override;
}

std::unique_ptr<NodeHome> Context::OpenHome() {
  auto home = NodeHome::Open(HomePath());
  if (!home.ok()) {
    Fail(home.status().Annotate("node home " + HomePath()));
    return nullptr;
  }
  return std::move(home).value();
}

std::string Printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

int Context::Fail(const Status& status) {
  std::cerr << "refuge: " << Printable(status.message()) << "\n";
  exit_code = ExitCodeFor(status);
  return exit_code;
}

void PrintJson(const Json& value) {
  std::cout << value.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
}

Progress::Progress(bool enabled) : enabled_(enabled && ::isatty(STDERR_FILENO)) {}

Progress::~Progress() { Done(); }

void Progress::Update(const std::string& line) {
  if (!enabled_) return;
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
  shown_ = true;
}

void Progress::Done() {
  if (shown_) std::fprintf(stderr, "\r\033[K");
  shown_ = false;
}

const char* const kHelpFooter = R"(Environment:
  REFUGE_HOME   where this node keeps keys, objects and state (default ~/.refuge);
                --home overrides it. Several nodes can run side by side with different homes.

Exit codes:
  0 success, 1 failure, 2 usage error, 3 not found,
  4 verification failed or corrupt data, 5 I/O or network error.
  (refuge tuf-client exits 0 on full success and 1 otherwise.)

Run 'refuge COMMAND --help' for the options of a command. Documentation: docs/ in the source.)";

CLI::App* AddCommand(CLI::App& parent, const std::string& name, const std::string& summary,
                     const std::string& details) {
  CLI::App* cmd = parent.add_subcommand(name, summary);
  cmd->footer(details.empty() ? std::string(kHelpFooter) : details + "\n\n" + kHelpFooter);
  return cmd;
}

std::string HumanBytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

}  // namespace refuge::cli
