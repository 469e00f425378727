# Unit tests of the crypto primitives and the common helpers they stand on.
target_sources(refuge_unit_tests PRIVATE
  unit/sha256_test.cc
  unit/ed25519_test.cc
  unit/base32_test.cc
  unit/canonical_json_test.cc
  unit/clock_test.cc
  unit/file_util_test.cc
)
