#!/usr/bin/env bash
# Scenario 7: a reader's mirror dies in the middle of a download. h0 publishes a site with a
# 24 MiB file; h1 and h2 mirror it (accepted, so the signed mirror list names them). h1's link
# is capped at 16 Mbit/s, so the file takes about 12 s from it. The reader on h3 runs
# `refuge get SITE/big.bin --from h1 --from h2`; once h1 has sent it 2 MB of the file, h1 is
# killed with SIGKILL. The get must complete from h2, byte for byte, and say so. Then, with
# h1 still dead, `refuge get` without --from uses the mirrors the reader knows and fails over.
#
#   bash tests/netns/mirror_reader_failover.sh build/refuge      (as root)
source "$(dirname "$0")/mirror_lib.sh" "$@"

MIRRORS=(h1 h2)
READER=h3
mnet_up 4
site_extra() { [[ $2 == v2 ]] && head -c $((24 * 1024 * 1024)) /dev/urandom >"$1/big.bin"; return 0; }
step "publisher h0, mirrors ${MIRRORS[*]}, accepted; v2 (with a 24 MiB file) everywhere"
setup_publisher_and_mirrors "${MIRRORS[@]}"
BIG=$TEST_TMP/src-v2/big.bin

step "the reader learns the site (a small get from h0)"
expect_ok rf "$READER" get "$SITE/version.txt" --from "$(url_of h0)" -o "$TEST_TMP/v.txt"

# bytes_sent_to HOST PEER_ADDR: bytes HOST's sockets to PEER_ADDR had acknowledged (ss -ti).
bytes_sent_to() {
  { netenv_exec "$1" ss -tinH state established "( sport = :$MNET_PORT )" dst "$2" 2>/dev/null || true; } |
    { grep -oE 'bytes_acked:[0-9]+' || true; } | cut -d: -f2 | sort -n | tail -1
}

step "h1 capped at 16 Mbit/s; refuge get --from h1 --from h2 of the 24 MiB file; h1 killed mid-transfer"
netenv_cap h1 16mbit
READER_ADDR=$(netenv_addr "$READER")
netenv_spawn "$READER" "$TEST_TMP/get.log" timeout 120 env REFUGE_HOME="$(home_of "$READER")" \
  "$REFUGE" get "$SITE/big.bin" --from "$(url_of h1)" --from "$(url_of h2)" -o "$TEST_TMP/big.out" --json
GET_PID=$NETENV_PID
SENT=0
DEADLINE=$((SECONDS + 20))
while ((SECONDS < DEADLINE)); do
  SENT=$(bytes_sent_to h1 "$READER_ADDR")
  SENT=${SENT:-0}
  ((SENT >= 2000000)) && break
  netenv_alive "$GET_PID" || break
  sleep 0.1
done
((SENT >= 2000000)) || fail "h1 never sent 2 MB to the reader (sent $SENT; the get: $(cat "$TEST_TMP/get.log"); h2 sent $(bytes_sent_to h2 "$READER_ADDR"))"
node_kill h1 KILL
say "h1 killed after sending $SENT bytes to the reader"
timeout 100 tail --pid="$GET_PID" -f /dev/null || fail "refuge get did not finish"
GET_RC=0
wait "$GET_PID" || GET_RC=$?
say "refuge get (exit $GET_RC): $(head -c 600 "$TEST_TMP/get.log")"
assert_eq 0 "$GET_RC" "exit code of refuge get whose mirror died"
assert_same_file "$BIG" "$TEST_TMP/big.out" "the 24 MiB file"
assert_contains "$(cat "$TEST_TMP/get.log")" "$(url_of h2)" "refuge get says which mirror served"

step "no --from: the reader uses the mirrors it knows (h1 dead) and says which one served"
run timeout 60 env REFUGE_HOME="$(home_of "$READER")" ip netns exec "$NETENV_PREFIX-$READER" \
  "$REFUGE" get "$SITE/version.txt" -o "$TEST_TMP/v2.txt" --json
if [[ $RUN_RC != 0 ]]; then
  echo "FAIL [$TEST_NAME] at $(_where): refuge get without --from" >&2
  _show_run >&2
  exit 1
fi
assert_same_file "$TEST_TMP/src-v2/version.txt" "$TEST_TMP/v2.txt" "get without --from"
say "refuge get: $(head -c 400 <<<"$RUN_OUT$RUN_ERR")"
[[ $RUN_OUT$RUN_ERR == *"$(url_of h0)"* || $RUN_OUT$RUN_ERR == *"$(url_of h2)"* ]] ||
  fail "refuge get without --from does not name the node that served (h0 or h2): $RUN_OUT $RUN_ERR"
