# Unit tests of the shield (src/shield): token buckets and the fixed-capacity LRU client table
# with a fake clock (eviction order, bounds, a million clients in 64 MiB), client keys and
# prefixes, clearances (seed, ticket and cookie signing and verification: forgery, replay,
# expiry, the proof-of-work check), the challenge page (return paths, open redirects, and its
# script run in node when /usr/bin/node exists), the config's bounds, and the Shield's
# decisions: rate limits, bans, dry run, under-attack mode and its hysteresis, connection caps.
target_sources(refuge_unit_tests PRIVATE
  shield/client_key_test.cc
  shield/token_bucket_test.cc
  shield/client_table_test.cc
  shield/clearance_test.cc
  shield/challenge_page_test.cc
  shield/shield_config_test.cc
  shield/shield_test.cc
)
