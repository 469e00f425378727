# Multi-host tests: each host is a Linux network namespace (tests/netns/netenv.sh), with real
# addresses, packet loss and partitions (nftables) and capped links (tbf). Each script is run
# as `bash SCRIPT.sh PATH_TO_REFUGE`, needs root, iproute2, nftables and curl (iputils-ping for
# the smoke test), tears down everything it made even when it fails or is interrupted, and
# removes what earlier killed runs left. Without root or `ip netns` it exits 77: skipped.
# They share the machine's CPU and time-sensitive waits, so they run one at a time.
# Run with: ctest -L netns
#
# Included from tests/CMakeLists.txt, so CMAKE_CURRENT_SOURCE_DIR is tests/.

# refuge_netns_test(NAME TIMEOUT_SECONDS)
function(refuge_netns_test name timeout)
  add_test(NAME netns.${name}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/netns/${name}.sh $<TARGET_FILE:refuge>)
  set_tests_properties(netns.${name} PROPERTIES
    LABELS netns
    TIMEOUT ${timeout}
    SKIP_RETURN_CODE 77
    RUN_SERIAL TRUE)
endfunction()

# The environment itself: http.server and curl across hosts, loss, partition, cap, teardown.
refuge_netns_test(netenv_smoke 120)
# 1. Publisher and 5 mirrors: new versions reach every mirror within seconds, by hints only.
refuge_netns_test(mirror_hints 180)
# 2. The origin killed right after one mirror has the new version: the others get it from it.
refuge_netns_test(mirror_origin_killed 180)
# 3. A partition during two publications; all converge within 60 s of healing.
refuge_netns_test(mirror_partition 240)
# 4. 20 % packet loss on every link: all converge; every file and object compared; verify.
refuge_netns_test(mirror_loss 300)
# 5. A malicious node (rollback, bad objects, endless bodies): refused, failed over, not stored.
refuge_netns_test(mirror_malicious 240)
# 6. A mirror killed with SIGKILL 50 times during a sync: never a partial version; completes.
refuge_netns_test(mirror_sigkill_sync 300)
# 7. A reader's mirror dies mid-download: refuge get completes from another mirror.
refuge_netns_test(mirror_reader_failover 180)
# 8. A block on one node: 451 there, 200 on the others, across a new version.
refuge_netns_test(mirror_block 180)
