# Fetchers over the network: the shared bandwidth cap and the mirror fetcher (failover,
# racing, resumes) against scripted loopback mirrors; SiteClient's mirror list.
target_sources(refuge_unit_tests PRIVATE
  net/bandwidth_limiter_test.cc
  net/mirror_fetcher_test.cc
  net/site_client_mirrors_test.cc
  net/mirror_checker_test.cc
)
