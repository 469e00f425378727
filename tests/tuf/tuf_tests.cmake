# TUF metadata and client workflow (spec section 5), including the attack battery run against
# a malicious repository served over HTTP on loopback.
target_sources(refuge_unit_tests PRIVATE
  tuf/metadata_test.cc
  tuf/updater_test.cc
  tuf/updater_attack_test.cc
  tuf/http_fetcher_test.cc
)
