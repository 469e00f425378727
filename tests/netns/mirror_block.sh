#!/usr/bin/env bash
# Scenario 8: a block on one node. h0 publishes, h1..h3 mirror. On h2 the operator runs
# `refuge block SITE/pages/p1.txt --reason ...` (a court order for one item): h2 answers 451
# for that path (and only that path), while h0, h1 and h3 still answer 200 with the file; h2's
# /.refuge/v1/status lists the block with its reason. The block survives a new version (v3):
# still 451 on h2 and the new content elsewhere, and h2 keeps following the site otherwise.
#
#   bash tests/netns/mirror_block.sh build/refuge      (as root)
source "$(dirname "$0")/mirror_lib.sh" "$@"

MIRRORS=(h1 h2 h3)
BLOCKED=pages/p1.txt
REASON="court order 2026-451 (test)"
mnet_up 4
step "publisher h0, mirrors ${MIRRORS[*]}, accepted; v2 everywhere"
setup_publisher_and_mirrors "${MIRRORS[@]}"

# status_of HOST PATH: the HTTP status of GET /s/SITE/PATH on HOST (asked from HOST itself).
status_of() { hcurl "$1" -o "$TEST_TMP/body.$1" -w '%{http_code}' "$(url_of "$1")/s/$SITE/$2" || echo 000; }

step "refuge block on h2"
expect_ok rf h2 block "$SITE/$BLOCKED" --reason "$REASON"
T0=$(now_ms)
while [[ $(status_of h2 "$BLOCKED") != 451 ]]; do
  (($(now_ms) - T0 < 10000)) || fail "h2 answers $(status_of h2 "$BLOCKED") for the blocked path 10 s after refuge block"
  sleep 0.2
done
say "h2 answers 451 $(($(now_ms) - T0)) ms after refuge block"

check_block() {  # SRC_DIR WHAT
  local h
  assert_eq 451 "$(status_of h2 "$BLOCKED")" "$2: the blocked path on h2"
  hcurl h2 -D "$TEST_TMP/h451" -o /dev/null "$(url_of h2)/s/$SITE/$BLOCKED" || true
  for h in h0 h1 h3; do
    assert_eq 200 "$(status_of "$h" "$BLOCKED")" "$2: the blocked path on $h"
    assert_same_file "$1/$BLOCKED" "$TEST_TMP/body.$h" "$2: $BLOCKED on $h"
  done
  for rel in pages/p0.txt pages/p2.txt version.txt index.html; do
    assert_eq 200 "$(status_of h2 "$rel")" "$2: $rel (not blocked) on h2"
    assert_same_file "$1/$rel" "$TEST_TMP/body.h2" "$2: $rel on h2"
  done
}
# settled_check_block SRC_DIR WHAT: check_block, allowing 3 s for the nodes to switch their
# files after their timestamp.json (the immediate switch is check_switch's business).
settled_check_block() {
  local deadline=$((SECONDS + 3))
  until (check_block "$@") 2>/dev/null; do
    ((SECONDS < deadline)) || break
    sleep 0.2
  done
  check_block "$@"
}
settled_check_block "$TEST_TMP/src-v2" "v2"
say "451 head on h2: $(tr -d '\r' <"$TEST_TMP/h451" | tr '\n' '|' | head -c 400)"
# For the record (the contract names the path only): the same bytes by their hash on h2.
OBJ=$(sha256_of "$TEST_TMP/src-v2/$BLOCKED")
say "GET /.refuge/v1/objects/<sha256 of the blocked file> on h2: HTTP $(hcurl h2 -o /dev/null -w '%{http_code}' "$(url_of h2)/.refuge/v1/objects/$OBJ" || true)"

step "h2's status lists the block and its reason (within 5 s: the follower rebuilds it every 2 s)"
DEADLINE=$((SECONDS + 5))
while [[ $(status_json h2) != *"$BLOCKED"* ]] && ((SECONDS < DEADLINE)); do sleep 0.2; done
ST=$(status_json h2)
assert_contains "$ST" "$BLOCKED" "h2's /.refuge/v1/status"
assert_contains "$ST" "court order 2026-451" "h2's /.refuge/v1/status"
for h in h1 h3; do
  assert_not_contains "$(status_json "$h")" "$BLOCKED" "$h's /.refuge/v1/status"
done

step "v3 published: the block stays on h2, the others serve the new file, h2 follows the rest"
make_site "$TEST_TMP/src-v3" v3
V3=$(publish_version "$TEST_TMP/src-v3")
wait_version "$V3" 20 h0 "${MIRRORS[@]}"
settled_check_block "$TEST_TMP/src-v3" "v3"

step "refuge verify is clean on every mirror"
for h in "${MIRRORS[@]}"; do
  node_kill "$h" TERM
  expect_verify_clean "$(home_of "$h")"
done
