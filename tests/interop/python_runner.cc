#include "interop/python_runner.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>

#include "common/file_util.h"
#include "crypto/sha256.h"
#include "support/temp_dir.h"

extern char** environ;

namespace refuge::interop {

namespace {

// Exit status the scripts use when Debian's packages cannot be imported (interop_common.py).
constexpr int kMissingDependencyExit = 3;

constexpr char kPackageHint[] =
    "the interop tests need Debian's python3 with the packages python3-securesystemslib and "
    "python3-nacl (apt-get install python3 python3-securesystemslib python3-nacl)";

// Script output is small; the bound only keeps a runaway script from exhausting memory.
constexpr uint64_t kMaxScriptOutputBytes = 64 * 1024 * 1024;

std::string ReadOutput(const std::string& path) {
  auto text = ReadFileBounded(path, kMaxScriptOutputBytes);
  return text.ok() ? text.value() : "<" + text.status().ToString() + ">";
}

// posix_spawn_file_actions_t with its destroy, so every path out of RunPythonScript frees it.
class FileActions {
 public:
  FileActions() { ::posix_spawn_file_actions_init(&actions_); }
  ~FileActions() { ::posix_spawn_file_actions_destroy(&actions_); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

}  // namespace

PythonRun RunPythonScript(const std::string& script, const std::vector<std::string>& args,
                          const std::string& work_dir) {
  PythonRun run;
  // -E: ignore PYTHONPATH and friends; -s: no user site-packages; -B: no __pycache__ in the
  // source tree. Together they make the run see Debian's packages and nothing else.
  std::vector<std::string> argv_strings = {kDebianPython, "-E", "-s", "-B",
                                           std::string(REFUGE_INTEROP_SCRIPT_DIR) + "/" + script};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  for (const std::string& a : argv_strings) run.command += (run.command.empty() ? "" : " ") + a;

  const std::string stdout_path = TempName(work_dir, "stdout-");
  const std::string stderr_path = TempName(work_dir, "stderr-");
  FileActions actions;
  ::posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_addopen(actions.get(), 1, stdout_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ::posix_spawn_file_actions_addopen(actions.get(), 2, stderr_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);

  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t pid = 0;
  int err = ::posix_spawn(&pid, kDebianPython, actions.get(), nullptr, argv.data(), environ);
  if (err != 0) {
    run.spawn_error = std::string("cannot run ") + kDebianPython + ": " + std::strerror(err);
    return run;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      run.spawn_error = std::string("waitpid: ") + std::strerror(errno);
      return run;
    }
  }
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) run.signal = WTERMSIG(status);
  run.stdout_text = ReadOutput(stdout_path);
  run.stderr_text = ReadOutput(stderr_path);
  return run;
}

::testing::AssertionResult Succeeded(const PythonRun& run) {
  if (!run.spawn_error.empty()) {
    return ::testing::AssertionFailure() << run.spawn_error << "; " << kPackageHint;
  }
  if (run.exit_code == 0) return ::testing::AssertionSuccess();
  auto failure = ::testing::AssertionFailure();
  if (run.exit_code == kMissingDependencyExit) failure << kPackageHint << "\n";
  if (run.signal != 0) {
    failure << run.command << "\nkilled by signal " << run.signal;
  } else {
    failure << run.command << "\nexited with status " << run.exit_code;
  }
  return failure << "\n--- stderr ---\n" << run.stderr_text << "--- stdout ---\n"
                 << run.stdout_text;
}

Result<Json> ReadJsonFile(const std::string& path) {
  REFUGE_ASSIGN_OR_RETURN(std::string text, ReadFileBounded(path, kMaxScriptOutputBytes));
  auto json = ParseJson(text);
  if (!json.ok()) return json.status().Annotate(path);
  return json;
}

void WriteJsonFile(const std::string& path, const Json& value) {
  refuge::testing::WriteTestFile(path, value.dump());
}

uint64_t InteropSeed() {
  if (const char* fixed = std::getenv("REFUGE_INTEROP_SEED"); fixed != nullptr && *fixed) {
    return std::strtoull(fixed, nullptr, 10);
  }
  std::random_device device;
  return (uint64_t{device()} << 32) ^ device();
}

std::string Unhex(const std::string& hex) {
  auto bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.ok()) << "bad hex from a script: " << hex;
  return bytes.ok() ? bytes.value() : std::string();
}

}  // namespace refuge::interop
