#!/usr/bin/env bash
# Scenario 1: a publisher h0 and five mirrors h1..h5, each in its own network namespace. The
# mirrors follow the site (refuge mirror add), announce themselves, are accepted, and then
# follow two more publications (v3, v4 after the v2 that carries the mirror list) within a few
# seconds of the publish. Every mirror runs with --refresh-interval 600, so only the notify
# hints (from the publisher, passed on between mirrors) can explain it. Every mirror then serves
# the new files byte for byte, and the publisher's status and mirror list are consistent.
#
#   bash tests/netns/mirror_hints.sh build/refuge      (as root)
source "$(dirname "$0")/mirror_lib.sh" "$@"

MIRRORS=(h1 h2 h3 h4 h5)
mnet_up 6
step "publisher h0, mirrors ${MIRRORS[*]} follow it, announce themselves, are accepted; v2 published"
setup_publisher_and_mirrors "${MIRRORS[@]}"

for tag in v3 v4; do
  step "publish $tag: every mirror serves it within 15 s (refresh interval 600 s: hints only)"
  make_site "$TEST_TMP/src-$tag" "$tag" 8
  T0=$(now_ms)
  V=$(publish_version "$TEST_TMP/src-$tag")
  say "published version $V"
  wait_version "$V" 15 h0 "${MIRRORS[@]}"
  say "all mirrors serve version $V, $(($(now_ms) - T0)) ms after the publish began"
done

step "every mirror serves every file of the last version byte for byte"
for h in "${MIRRORS[@]}"; do
  expect_files "$h" "$TEST_TMP/src-v4" "files of v4 on $h"
done

step "status and mirror list"
# The status body is rebuilt by the follower every 2 s: it may lag that much.
status_version() { jget "$(status_json "$1")" "j['sites']['$SITE']['version']"; }
for h in "${MIRRORS[@]}"; do
  DEADLINE=$((SECONDS + 5))
  while [[ $(status_version "$h") != "$V" ]] && ((SECONDS < DEADLINE)); do sleep 0.2; done
  ST=$(status_json "$h")
  assert_eq "$V" "$(jget "$ST" "j['sites']['$SITE']['version']")" "/.refuge/v1/status version on $h (5 s after its timestamp.json said so)"
  assert_eq None "$(jget "$ST" "str(j['sites']['$SITE']['stale_since'])")" "stale_since on $h"
  expect_ok rf "$h" mirror list --json
  LIST=$RUN_OUT
  assert_eq "$SITE" "$(jget "$LIST" "[s for s in j['sites']][0]['site_id']")" "mirror list on $h"
  assert_eq "$V" "$(jget "$LIST" "[s for s in j['sites'] if s['site_id'] == '$SITE'][0]['version']")" "mirror list version on $h"
  assert_contains "$LIST" "$(url_of h0)" "mirror list sources on $h"
done

step "refuge verify is clean on every mirror"
for h in "${MIRRORS[@]}"; do
  node_kill "$h" TERM
  expect_verify_clean "$(home_of "$h")"
done
