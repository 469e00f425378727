// PythonRunner: runs the interop scripts of tests/interop/ under Debian's /usr/bin/python3.
//
// Only that interpreter is used (not `python3` on PATH): it is the one that can import Debian's
// python3-securesystemslib and python3-nacl, the independent implementations refuge is checked
// against. The scripts exchange JSON with the tests through files; stdout and stderr are
// captured for failure messages.
//
// Thread-safety: functions are thread-safe (no shared state).
#ifndef REFUGE_TESTS_INTEROP_PYTHON_RUNNER_H_
#define REFUGE_TESTS_INTEROP_PYTHON_RUNNER_H_

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/status.h"
#include "crypto/canonical_json.h"

namespace refuge::interop {

inline constexpr char kDebianPython[] = "/usr/bin/python3";

// What a script run produced.
struct PythonRun {
  std::string command;      // for messages
  std::string spawn_error;  // non-empty if the interpreter could not be started
  int exit_code = -1;       // -1 unless the script exited normally
  int signal = 0;           // the signal that killed it, if any
  std::string stdout_text;
  std::string stderr_text;
};

// Runs `kDebianPython -E -s -B <script dir>/<script> args...`; output files go to work_dir.
PythonRun RunPythonScript(const std::string& script, const std::vector<std::string>& args,
                          const std::string& work_dir);

// Success, or a failure that says what went wrong: the interpreter is missing, the Debian
// packages are missing (naming python3-securesystemslib and python3-nacl), or the script
// reported a failed check (its stderr).
::testing::AssertionResult Succeeded(const PythonRun& run);

// Reads and strictly parses a JSON exchange file.
Result<Json> ReadJsonFile(const std::string& path);

// Writes a JSON exchange file (UTF-8, compact).
void WriteJsonFile(const std::string& path, const Json& value);

// The seed for randomized cases: REFUGE_INTEROP_SEED if set (to replay a failure), otherwise
// fresh. Tests print it with SCOPED_TRACE.
uint64_t InteropSeed();

// Bytes from hex written by a script; adds a test failure for bad hex.
std::string Unhex(const std::string& hex);

}  // namespace refuge::interop

#endif  // REFUGE_TESTS_INTEROP_PYTHON_RUNNER_H_
