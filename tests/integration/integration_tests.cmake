# End-to-end tests of the refuge binary: bash scripts beside this file, each run as
# `bash SCRIPT.sh PATH_TO_REFUGE` with a private temporary REFUGE_HOME (tests/integration/lib.sh).
# They need bash, python3, sqlite3 and coreutils (scripts/setup.sh); a missing tool makes a
# script exit 77, which ctest reports as skipped. Run with: ctest -L integration
#
# Included from tests/CMakeLists.txt, so CMAKE_CURRENT_SOURCE_DIR is tests/.

# refuge_integration_test(NAME TIMEOUT_SECONDS [RUN_SERIAL])
function(refuge_integration_test name timeout)
  add_test(NAME integration.${name}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/${name}.sh $<TARGET_FILE:refuge>)
  set_tests_properties(integration.${name} PROPERTIES
    LABELS integration
    TIMEOUT ${timeout}
    SKIP_RETURN_CODE 77)
  if(ARGN)
    set_tests_properties(integration.${name} PROPERTIES ${ARGN} TRUE)
  endif()
endfunction()

# Version, help, usage errors, site/publish/get/timestamp/key rotate/pin/gc happy paths.
refuge_integration_test(cli_basics 300)
# Bad directories, corrupt store, bad get arguments, tuf-client against tampered metadata.
refuge_integration_test(bad_input 300)
# publish killed with SIGKILL at random points, many times; timing-sensitive, so alone.
refuge_integration_test(durability 600 RUN_SERIAL)
# gc --keep 1 while readers run refuge get.
refuge_integration_test(gc_while_reading 300)
# refuge serve with real clients: curl (Range, ETag/304, HEAD, pipelining, keep-alive),
# wget --mirror, refuge get and tuf-client against the node, reloads, SIGTERM, metrics.
refuge_integration_test(serve_http 300)
# refuge get over several refuge serve nodes: a stopped one, one serving a corrupted object,
# one killed in the middle of a download; the signed mirror list; refuge mirrors check.
refuge_integration_test(get_failover 300)
# Malformed and smuggling-style requests over raw sockets: 400 (or close), node healthy.
refuge_integration_test(serve_malformed 300)
# HTTPS: self-signed certificates, SNI, TLS versions, resumption, the redirect listener.
refuge_integration_test(serve_tls 300)
# refuge block (HTTP 451): a blocked path, directory and site against refuge serve and curl
# (Link header, escaped reason, objects removed), block remove, a tampered audit log.
refuge_integration_test(block 300)
# Mirroring with real nodes on loopback: mirror add/list/remove, announcements and mirrors
# accept, a publish reaching two mirrors and a mirror of a mirror by hints, the signed mirror
# list, the node API (status, peers, notify: 400/405/429, forged hints), a restarted mirror.
refuge_integration_test(mirror_basic 300)
# The shield over raw HTTP from many loopback source addresses: 429 + Retry-After, bans reset
# at accept, per-address connection cap, dry run, under-attack mode (challenge solved in
# Python, replayed and forged cookies, the no-script wait), refuge shield status/mode, metrics,
# invalid [shield] values.
refuge_integration_test(shield_basic 300)
# slowhttptest (slowloris, slow POST, slow read; 3000 connections each) while a reader keeps
# fetching: the node stays up, serves >= 99 %, stays under its memory bound. Heavy and
# timing-sensitive, so alone. Skips without slowhttptest.
refuge_integration_test(shield_slowhttptest 400 RUN_SERIAL)
# Debian's Chromium through playwright-core (tests/browser): the challenge solved by the
# page's script, and the no-script wait. Skips without chromium or tests/browser/node_modules.
add_test(NAME browser_challenge
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/shield_browser.sh $<TARGET_FILE:refuge>)
set_tests_properties(browser_challenge PROPERTIES
  LABELS integration
  TIMEOUT 240
  SKIP_RETURN_CODE 77
  RUN_SERIAL TRUE)
# The shield at its connection cap: slowloris connections evicted for a reader, the cleared
# client's kept; a descriptor limit too small for max_connections lowers the cap.
refuge_integration_test(shield_eviction 120)
