// The interop tests are only meaningful against Debian's independent implementations; if they
// cannot be imported this fails (naming the packages) rather than letting the others skip.
#include <iostream>
#include <string>

#include <gtest/gtest.h>

#include "interop/python_runner.h"
#include "support/temp_dir.h"

namespace refuge::interop {
namespace {

TEST(InteropEnvironmentTest, DebianPythonImportsSecuresystemslibAndPyNaCl) {
  refuge::testing::TempDir dir;
  PythonRun run = RunPythonScript("interop_common.py", {}, dir.path());
  ASSERT_TRUE(Succeeded(run));
  EXPECT_NE(run.stdout_text.find("securesystemslib "), std::string::npos) << run.stdout_text;
  EXPECT_NE(run.stdout_text.find("nacl "), std::string::npos) << run.stdout_text;
  // Print what was tested against, for the test log.
  std::cout << run.stdout_text;
}

}  // namespace
}  // namespace refuge::interop
