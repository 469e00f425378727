#!/usr/bin/env bash
# Scenario 4: 20 % packet loss on every link (each host drops a fifth of what it receives, so
# a round trip loses about 36 %). The mirrors follow the site, announce, get accepted and follow
# the next publication of a site with 40 files (about 1.4 MB) through the loss. Nothing corrupt:
# every file served by every mirror and every object in every mirror's store is compared with
# the source (cmp), and `refuge verify` is clean on every mirror home.
#
#   bash tests/netns/mirror_loss.sh build/refuge      (as root)
source "$(dirname "$0")/mirror_lib.sh" "$@"

MIRRORS=(h1 h2 h3 h4 h5)
SERVE_ARGS=(--refresh-interval 20)
mnet_up 6

# make_big_site DIR TAG: make_site plus 30 files of 1 byte to 87 kB (1.3 MB in all).
make_big_site() {
  make_site "$1" "$2" 8
  local i
  mkdir -p "$1/data"
  for ((i = 0; i < 30; i++)); do
    head -c $((i * 3000 + 1)) /dev/urandom >"$1/data/blob-$i.bin"
  done
}

step "20 % loss on every host, from the start"
netenv_loss 20
site_init_on_h0
make_big_site "$TEST_TMP/src-v1" v1
V1=$(publish_version "$TEST_TMP/src-v1")
node_start h0
step "mirrors follow h0 through the loss (refuge mirror add, all at once), start, announce, are accepted"
declare -A ADD_PID=()
for h in "${MIRRORS[@]}"; do
  netenv_spawn "$h" "$TEST_TMP/add.$h.log" env REFUGE_HOME="$(home_of "$h")" "$REFUGE" mirror add "$SITE" --from "$(url_of h0)"
  ADD_PID[$h]=$NETENV_PID
done
for h in "${MIRRORS[@]}"; do
  rc=0
  timeout 120 tail --pid="${ADD_PID[$h]}" -f /dev/null || fail "refuge mirror add on $h still running after 120 s"
  wait "${ADD_PID[$h]}" || rc=$?
  if [[ $rc != 0 ]]; then
    # Soft: the site is followed anyway when the initial sync fails, and serve syncs it again.
    echo "FAIL [$TEST_NAME]: refuge mirror add on $h through 20 % loss exited $rc: $(tr '\n' ' ' <"$TEST_TMP/add.$h.log" | head -c 1500)" >&2
    _SOFT_FAILURES=$((_SOFT_FAILURES + 1))
  fi
  say "mirror add on $h: exit $rc"
done
for h in "${MIRRORS[@]}"; do node_start "$h" "${SERVE_ARGS[@]}"; done
wait_version "$V1" 90 "${MIRRORS[@]}"
accept_mirrors ${#MIRRORS[@]}

step "publish v2 (the mirror list and 40 new files) through the loss: every mirror serves it within 90 s"
make_big_site "$TEST_TMP/src-v2" v2
T0=$(now_ms)
V=$(publish_version "$TEST_TMP/src-v2")
wait_version "$V" 90 "${MIRRORS[@]}"
say "version $V everywhere, $(($(now_ms) - T0)) ms after the publish"
LAST=$TEST_TMP/src-v2

step "loss off; every file of v2 from every mirror byte for byte; every object in every store"
netenv_loss 0
for h in "${MIRRORS[@]}"; do
  expect_files "$h" "$LAST" "files of v2 on $h"
  while IFS= read -r -d '' f; do
    rel=${f#"$LAST/"}
    assert_same_file "$f" "$(object_path "$(home_of "$h")" "$(sha256_of "$f")")" "object of $rel in $h's store"
  done < <(find "$LAST" -type f -print0)
done

step "every object file in every mirror's store hashes to its name; refuge verify is clean"
for h in "${MIRRORS[@]}"; do
  node_kill "$h" TERM
  BAD=$(find "$(home_of "$h")/objects" -type f -print0 | xargs -0 -r sha256sum |
    awk '{ n = $2; sub(/.*\//, "", n); if (n != $1) print $2 }')
  assert_eq "" "$BAD" "objects of $h that do not hash to their name"
  expect_verify_clean "$(home_of "$h")"
done
