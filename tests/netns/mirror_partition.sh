#!/usr/bin/env bash
# Scenario 3: a partition splits the network: {h0 publisher, h1, h2} | {h3, h4, h5}. The
# publisher publishes twice during it; its side follows, the other keeps serving the version it
# had (never anything broken or older). After the partition heals, every mirror converges on the
# newest version within 60 s (mirrors run with --refresh-interval 30, +/- 20 % jitter, so the
# periodic refresh alone would bring them there; hints may do it sooner).
#
#   bash tests/netns/mirror_partition.sh build/refuge      (as root)
source "$(dirname "$0")/mirror_lib.sh" "$@"

MIRRORS=(h1 h2 h3 h4 h5)
SIDE_A=(h1 h2)
SIDE_B=(h3 h4 h5)
SERVE_ARGS=(--refresh-interval 30)
mnet_up 6
step "publisher h0, mirrors ${MIRRORS[*]} (refresh every 30 s), accepted; v2 everywhere"
setup_publisher_and_mirrors "${MIRRORS[@]}"

step "partition {h0 ${SIDE_A[*]}} | {${SIDE_B[*]}}; publish v3 and v4"
netenv_partition "h0 ${SIDE_A[*]}" "${SIDE_B[*]}"
make_site "$TEST_TMP/src-v3" v3
V3=$(publish_version "$TEST_TMP/src-v3")
# The publisher's side should follow during the partition (soft: the convergence after healing
# is the point of this scenario, and is checked whatever happens here).
soft wait_version "$V3" 20 "${SIDE_A[@]}"
make_site "$TEST_TMP/src-v4" v4
V4=$(publish_version "$TEST_TMP/src-v4")
soft wait_version "$V4" 20 "${SIDE_A[@]}"

step "the cut-off side keeps serving v2 (not broken, not older) for 10 s of partition"
END=$((SECONDS + 10))
while ((SECONDS < END)); do
  for h in "${SIDE_B[@]}"; do
    assert_eq "$V2" "$(served_version "$h")" "version served by $h during the partition"
    hcurl "$h" -f -o "$TEST_TMP/got" "$(url_of "$h")/s/$SITE/version.txt" || fail "GET version.txt on $h during the partition"
    assert_same_file "$TEST_TMP/src-v2/version.txt" "$TEST_TMP/got" "version.txt on $h during the partition"
  done
  sleep 1
done
say "versions before healing: $(versions)"

step "heal: every mirror serves v4 within 60 s"
netenv_heal
T0=$(now_ms)
wait_version "$V4" 60 "${MIRRORS[@]}"
say "converged $(($(now_ms) - T0)) ms after healing"
for h in "${MIRRORS[@]}"; do
  expect_files "$h" "$TEST_TMP/src-v4" "files of v4 on $h"
done

step "refuge verify is clean on every mirror"
for h in "${MIRRORS[@]}"; do
  node_kill "$h" TERM
  expect_verify_clean "$(home_of "$h")"
done
