#!/usr/bin/env bash
# Scenario 5: a malicious node. h0 publishes, h1 and h2 mirror (accepted), h3 runs
# tests/netns/evil_node.py (a fake node proxying h0, lying as told), h4 is a reader. For each
# lie (rolled-back metadata: an older, validly signed timestamp.json captured earlier; objects
# whose bytes do not hash to their name; objects that never end; metadata that never ends):
#   1. h1 is cut off from every honest node; h0 publishes a new version, h2 gets it;
#   2. the evil node sends h1 a hint naming itself ({"from": evil}): h1 tries it, must refuse
#      what it serves, and keep serving its previous version intact for 5 s (no partial version);
#   3. h1 can reach h2 again (not h0); the evil node hints again: h1 must fail over to h2 and
#      serve the new version within 20 s;
#   4. `refuge get --from EVIL --from h2` on the reader fails over to h2, byte for byte.
# At the end: the evil bytes are in no object store and no home (grep), `refuge verify` is clean.
#
#   bash tests/netns/mirror_malicious.sh build/refuge      (as root)
source "$(dirname "$0")/mirror_lib.sh" "$@"

MIRRORS=(h1 h2)
EVIL=h3
READER=h4
mnet_up 5
step "publisher h0, mirrors ${MIRRORS[*]}, accepted; v2 everywhere"
setup_publisher_and_mirrors "${MIRRORS[@]}"

step "capture v2's metadata (for the rollback); publish v3"
CAPTURED=$TEST_TMP/captured
mkdir -p "$CAPTURED"
hcurl h0 -f -o "$CAPTURED/timestamp.json" "$(url_of h0)/.refuge/v1/sites/$SITE/metadata/timestamp.json" ||
  fail "could not capture timestamp.json"
make_site "$TEST_TMP/src-v3" v3
V=$(publish_version "$TEST_TMP/src-v3")
wait_version "$V" 20 h0 "${MIRRORS[@]}"
CUR_SRC=$TEST_TMP/src-v3

step "the evil node on $EVIL, a proxy of h0 until told to lie"
MARKER="EVIL-NODE-GARBAGE-$RANDOM$RANDOM-"
MODE_FILE=$TEST_TMP/evil.mode
echo proxy >"$MODE_FILE"
EVIL_LOG=$TEST_TMP/evil.log
EVIL_URL=$(url_of "$EVIL")
netenv_spawn "$EVIL" "$EVIL_LOG" /usr/bin/python3 -u "$(dirname "$0")/evil_node.py" \
  --bind "$(netenv_addr "$EVIL")" --port "$MNET_PORT" --upstream "$(url_of h0)" \
  --mode-file "$MODE_FILE" --captured "$CAPTURED" --marker "$MARKER"
for ((i = 0; i < 100; i++)); do
  hcurl "$EVIL" -f -o /dev/null "$EVIL_URL/.refuge/v1/sites/$SITE/metadata/timestamp.json" 2>/dev/null && break
  sleep 0.1
done
expect_ok hcurl "$EVIL" -f -o /dev/null "$EVIL_URL/.refuge/v1/sites/$SITE/metadata/timestamp.json"

step "the reader trusts v$V (a first get from h2)"
expect_ok rf "$READER" get "$SITE/version.txt" --from "$(url_of h2)" -o "$TEST_TMP/reader.txt"
assert_same_file "$CUR_SRC/version.txt" "$TEST_TMP/reader.txt" "the reader's first get"

# evil_hint VERSION: the evil node tells h1 that it holds VERSION.
evil_hint() {
  local code
  code=$(hcurl "$EVIL" -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data "{\"site\": \"$SITE\", \"version\": $1, \"from\": \"$EVIL_URL\"}" \
    "$(url_of h1)/.refuge/v1/notify") || true
  say "evil hint to h1 for version $1: HTTP $code"
}

# h1_requests_to_evil: lines of the evil log for requests from h1 (GETs).
h1_requests_to_evil() { grep -c "^$(netenv_addr h1) .*\"GET " "$EVIL_LOG" || true; }

# A file that is new in each version, to be fetched by the reader.
n=3
for lie in rollback badobject endless endlessmeta; do
  n=$((n + 1))
  step "lie '$lie': h1 cut off from h0 and h2; v$n published; h2 gets it"
  echo "$lie" >"$MODE_FILE"
  PREV=$V
  PREV_SRC=$CUR_SRC
  netenv_partition "h1" "h0 h2"
  make_site "$TEST_TMP/src-v$n" "v$n" 6
  head -c 300000 /dev/urandom >"$TEST_TMP/src-v$n/new-in-v$n.bin"
  V=$(publish_version "$TEST_TMP/src-v$n")
  CUR_SRC=$TEST_TMP/src-v$n
  wait_version "$V" 20 h2

  step "lie '$lie': the evil node hints h1; h1 refuses it and serves v$PREV intact for 5 s"
  BEFORE=$(h1_requests_to_evil)
  evil_hint "$V"
  END=$((SECONDS + 5))
  while ((SECONDS < END)); do
    assert_eq "$PREV" "$(served_version h1)" "version served by h1 while only the evil node offers v$V ($lie)"
    hcurl h1 -f -o "$TEST_TMP/got" "$(url_of h1)/s/$SITE/random.bin" || fail "GET random.bin on h1 ($lie)"
    assert_same_file "$PREV_SRC/random.bin" "$TEST_TMP/got" "random.bin on h1 while the evil node lies ($lie)"
    sleep 0.5
  done
  AFTER=$(h1_requests_to_evil)
  say "h1 sent $((AFTER - BEFORE)) GET(s) to the evil node"
  soft assert_int_ge "$AFTER" $((BEFORE + 1)) "GETs from h1 to the evil node after its hint (was the lie '$lie' exercised?)"
  kill -0 "${NODE_PID[h1]}" || fail "h1's serve died during the lie '$lie'"

  step "lie '$lie': h1 reaches h2 again (not h0); another evil hint; h1 fails over to h2"
  netenv_heal
  netenv_partition "h1" "h0"
  evil_hint "$V"
  wait_version "$V" 20 h1
  expect_files h1 "$CUR_SRC" "files of v$n on h1 ($lie)"

  step "lie '$lie': refuge get --from EVIL --from h2 fails over to h2"
  rm -f "$TEST_TMP/reader.bin"
  run timeout 60 env REFUGE_HOME="$(home_of "$READER")" ip netns exec "$NETENV_PREFIX-$READER" \
    "$REFUGE" get "$SITE/new-in-v$n.bin" --from "$EVIL_URL" --from "$(url_of h2)" -o "$TEST_TMP/reader.bin" --json
  if [[ $RUN_RC != 0 ]]; then
    echo "FAIL [$TEST_NAME] at $(_where): refuge get with the evil node first ($lie)" >&2
    _show_run >&2
    exit 1
  fi
  assert_same_file "$CUR_SRC/new-in-v$n.bin" "$TEST_TMP/reader.bin" "the reader's file ($lie)"
  say "refuge get: $(head -c 400 <<<"$RUN_OUT") $(head -c 400 <<<"$RUN_ERR")"
  soft assert_contains "$RUN_OUT$RUN_ERR" "$(url_of h2)" "refuge get names the mirror that served ($lie)"
  netenv_heal
done

step "the evil bytes are nowhere; refuge verify is clean"
echo proxy >"$MODE_FILE"
for h in "${MIRRORS[@]}"; do node_kill "$h" TERM; done
for h in "${MIRRORS[@]}" "$READER"; do
  HITS=$(grep -rlF -- "$MARKER" "$(home_of "$h")/objects" 2>/dev/null || true)
  assert_eq "" "$HITS" "object files of $h holding the evil node's bytes"
  HITS=$(grep -rlF -- "$MARKER" "$(home_of "$h")" 2>/dev/null || true)
  soft assert_eq "" "$HITS" "files anywhere in $h's home holding the evil node's bytes"
done
for h in "${MIRRORS[@]}"; do expect_verify_clean "$(home_of "$h")"; done
