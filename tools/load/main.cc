// refuge-load: the project's loopback load and attack generator. See docs/LOAD.md and
// `refuge-load --help`.
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "load_options.h"
#include "load_runner.h"
#include "report.h"
#include "target_policy.h"

namespace {

constexpr int kExitRunFailed = 1;
constexpr int kExitUsage = 2;

void OnInterrupt(int) { refuge::load::InterruptRun(); }

// Raises the soft limit on open files to the hard one; returns the limit in force.
uint64_t RaiseDescriptorLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace refuge::load;
  CLI::App app("refuge-load", "refuge-load");
  LoadOptions options;
  DefineOptions(app, options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints --help, or the error
    return code == 0 ? 0 : kExitUsage;
  }

  uint64_t descriptor_limit = RaiseDescriptorLimit();
  if (refuge::Status valid = ValidateOptions(options, descriptor_limit); !valid.ok()) {
    std::fprintf(stderr, "refuge-load: %s\n", valid.message().c_str());
    return kExitUsage;
  }
  NamespaceInfo ns = DetectNetworkNamespace();
  auto plan = PlanLoad(options, ns);
  if (!plan.ok()) {
    std::fprintf(stderr, "refuge-load: refused: %s\n", plan.status().message().c_str());
    return kExitUsage;
  }

  // MSG_NOSIGNAL covers sends; this covers anything else that writes to a closed socket.
  signal(SIGPIPE, SIG_IGN);
  struct sigaction action {};
  action.sa_handler = OnInterrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  auto stats = RunLoad(*plan);
  if (!stats.ok()) {
    std::fprintf(stderr, "refuge-load: %s\n", stats.status().message().c_str());
    return kExitRunFailed;
  }
  if (options.json) {
    std::cout << ReportJson(*plan, *stats).dump(2) << "\n";
  } else {
    std::cout << ReportTable(*plan, *stats);
  }
  return 0;
}
