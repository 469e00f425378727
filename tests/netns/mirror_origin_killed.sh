#!/usr/bin/env bash
# Scenario 2: the origin dies right after one mirror got the new version. Publisher h0 and
# mirrors h1..h5 (accepted, so the signed mirror list names them all). h0 is cut off from
# h2..h5 (a partition: only h1 reaches it), publishes v3, and is killed with SIGKILL as soon as
# h1 serves v3. h2..h5 never talked to h0 about v3: they must reach it from h1 (and from each
# other), through the hints h1 passes on; --refresh-interval 600, so no timer explains it.
# Then the files of v3 are served byte for byte by every mirror, and `refuge get` without
# --from (mirrors it knows) still works with the origin gone.
#
#   bash tests/netns/mirror_origin_killed.sh build/refuge      (as root)
source "$(dirname "$0")/mirror_lib.sh" "$@"

MIRRORS=(h1 h2 h3 h4 h5)
OTHERS=(h2 h3 h4 h5)
mnet_up 7  # h6: a reader
step "publisher h0, mirrors ${MIRRORS[*]}, accepted; v2 everywhere"
setup_publisher_and_mirrors "${MIRRORS[@]}"

step "a reader on h6 learns the mirrors (refuge get --from h0)"
expect_ok rf h6 get "$SITE/version.txt" --from "$(url_of h0)" -o "$TEST_TMP/reader-v2.txt"
assert_same_file "$TEST_TMP/src-v2/version.txt" "$TEST_TMP/reader-v2.txt" "reader's first get"

step "h0 reachable from h1 only; publish v3; SIGKILL h0 as soon as h1 serves v3"
netenv_partition "h0" "${OTHERS[*]} h6"
make_site "$TEST_TMP/src-v3" v3 8
V3=$(publish_version "$TEST_TMP/src-v3")
say "published version $V3 on h0"
wait_version "$V3" 30 h1
node_kill h0 KILL
say "h0 killed; versions now: $(versions "${MIRRORS[@]}")"
netenv_heal  # h0 is dead: the partition no longer matters, and it must not explain anything

step "h2..h5 reach v3 from the other mirrors within 30 s"
wait_version "$V3" 30 "${OTHERS[@]}"

step "every mirror serves every file of v3 byte for byte"
for h in "${MIRRORS[@]}"; do
  expect_files "$h" "$TEST_TMP/src-v3" "files of v3 on $h"
done

step "the reader, without --from, gets v3 from a mirror it knows (the origin is gone)"
run rf h6 get "$SITE/version.txt" -o "$TEST_TMP/reader-v3.txt"
if [[ $RUN_RC != 0 ]]; then
  echo "FAIL [$TEST_NAME]: refuge get without --from, origin dead" >&2
  _show_run >&2
  exit 1
fi
assert_same_file "$TEST_TMP/src-v3/version.txt" "$TEST_TMP/reader-v3.txt" "reader's get without --from"
say "refuge get said: $(head -c 300 <<<"$RUN_ERR$RUN_OUT")"

step "refuge verify is clean on every mirror"
for h in "${MIRRORS[@]}"; do
  node_kill "$h" TERM
  expect_verify_clean "$(home_of "$h")"
done
