# Unit tests of the serve config loader and TLS contexts.
target_sources(refuge_unit_tests PRIVATE
  serve/config_test.cc
  serve/tls_context_test.cc
)
