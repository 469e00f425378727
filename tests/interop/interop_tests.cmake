# Cross-implementation tests: refuge against independent implementations from Debian
# (securesystemslib's canonical JSON, PyNaCl's Ed25519), run through /usr/bin/python3 with
# the scripts beside this file. Vectors are generated at test time on both sides.
# Needs the Debian packages python3-securesystemslib and python3-nacl; without them the
# tests fail, naming the packages. Run with: ctest -L interop
add_executable(refuge_interop_tests
  interop/python_runner.cc
  interop/environment_test.cc
  interop/canonical_json_interop_test.cc
  interop/ed25519_interop_test.cc
  interop/tuf_metadata_interop_test.cc
)
target_compile_definitions(refuge_interop_tests PRIVATE
  REFUGE_INTEROP_SCRIPT_DIR="${CMAKE_CURRENT_LIST_DIR}")
target_link_libraries(refuge_interop_tests PRIVATE refuge_test_support refuge_core GTest::gtest
                      GTest::gtest_main)
gtest_discover_tests(refuge_interop_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS interop)
