#!/usr/bin/env bash
# The multi-host test environment itself (tests/netns/netenv.sh): three hosts; h1 serves a
# file with python3 -m http.server and h2 fetches it with curl; with 20 % loss on every host the
# fetch still completes (TCP retransmits, curl retries) and the loss is measured with ping; a
# partition blocks h2 <-> h1 (and not h0 <-> h1) until netenv_heal; a tbf cap slows a transfer.
# Then teardown, in second invocations of this script: one that fails (set -e), one that gets
# SIGTERM and one that gets SIGKILL (its leftovers removed by netenv_cleanup_stale); after each,
# no namespace and no process of that run may remain.
#
#   bash tests/netns/netenv_smoke.sh build/refuge      (as root)
if [[ ${2:-} == --child ]]; then
  # A second invocation: bash netenv_smoke.sh REFUGE --child MODE INFO_FILE
  MODE=$3
  INFO=$4
  source "$(dirname "$0")/../integration/lib.sh" "$1"
  source "$(dirname "$0")/netenv.sh"
  netenv_up 2
  mkdir -p "$TEST_TMP/www"
  echo child >"$TEST_TMP/www/x"
  netenv_spawn h1 "$TEST_TMP/http.log" /usr/bin/python3 -m http.server --bind "$(netenv_addr h1)" 8000 --directory "$TEST_TMP/www"
  HTTP=$NETENV_PID
  # An untracked process too: found through `ip netns pids`.
  netenv_exec h0 sleep 1000 </dev/null >/dev/null 2>&1 &
  UNTRACKED=$!
  # A process in the root namespace, tracked.
  # shellcheck disable=SC2217
  sleep 1000 </dev/null >/dev/null 2>&1 &
  netenv_track $!
  ROOTPID=$!
  for _ in $(seq 100); do
    curl -s -o /dev/null --max-time 1 "http://$(netenv_addr h1):8000/x" 2>/dev/null && break
    [[ -n $(ip netns pids "$NETENV_PREFIX-h1") ]] || break
    sleep 0.1
  done
  echo "$NETENV_PREFIX $HTTP $UNTRACKED $ROOTPID $TEST_TMP" >"$INFO.tmp"
  mv "$INFO.tmp" "$INFO"
  case $MODE in
    fail) false ;;  # set -e: exits 1 here
    wait) while :; do sleep 0.1; done ;;  # until the parent sends a signal
  esac
  exit 0
fi

source "$(dirname "$0")/../integration/lib.sh" "$@"
source "$(dirname "$0")/netenv.sh"
netenv_require
for tool in curl ping; do
  command -v "$tool" >/dev/null 2>&1 || { echo "SKIP [$TEST_NAME]: needs $tool" >&2; exit 77; }
done

NETENV_ON_FAIL=netenv_state
netenv_up 3
A0=$(netenv_addr h0)
A1=$(netenv_addr h1)
A2=$(netenv_addr h2)
assert_match '^10\.[0-9]+\.0\.1$' "$A0" "address of h0"
assert_eq "${A0%.1}.2" "$A1" "address of h1"
for h in h0 h1 h2; do
  [[ -e /run/netns/$NETENV_PREFIX-$h ]] || fail "namespace $NETENV_PREFIX-$h missing"
  assert_contains "$(netenv_exec "$h" ip -o link show lo)" "UP" "loopback of $h"
done
# Nothing in the root namespace: no bridge, no veth of this run.
assert_eq "" "$(ip -o link show type bridge | grep -F br0 || true)" "a bridge named br0 in the root namespace"
assert_eq "" "$(ip -o link show type veth | grep -E ' (eth0|v[0-9]+)@' || true)" "veths in the root namespace"

step "h1 serves a file with python3 -m http.server, h2 fetches it with curl"
WWW=$(new_dir www)
head -c 300000 /dev/urandom >"$WWW/file.bin"
netenv_spawn h1 "$TEST_TMP/http.log" /usr/bin/python3 -m http.server --bind "$A1" 8000 --directory "$WWW"
HTTP_PID=$NETENV_PID
up() { netenv_exec h2 curl -s -o /dev/null --max-time 1 "http://$A1:8000/"; }
for ((i = 0; i < 100; i++)); do up && break; sleep 0.1; done
up || fail "http.server on h1 not reachable from h2: $(cat "$TEST_TMP/http.log")"
expect_ok netenv_exec h2 curl -sS --max-time 10 -o "$TEST_TMP/got.bin" "http://$A1:8000/file.bin"
assert_same_file "$WWW/file.bin" "$TEST_TMP/got.bin" "file fetched by h2 from h1"
# The server really is in h1: the root namespace does not reach it at that address (where
# the machine's own network may answer something else, or nothing).
run curl -s -o "$TEST_TMP/root.bin" --max-time 2 "http://$A1:8000/file.bin"
if [[ $RUN_RC == 0 ]] && cmp -s "$WWW/file.bin" "$TEST_TMP/root.bin"; then
  fail "the root namespace reached h1's server at $A1"
fi

step "20 % loss on every host: measured with ping, the fetch still completes"
netenv_loss 20
expect_ok netenv_exec h2 ping -n -q -c 200 -i 0.005 -W 1 "$A1"
LOST=$(sed -nE 's/.* ([0-9.]+)% packet loss.*/\1/p' <<<"$RUN_OUT")
[[ -n $LOST ]] || LOST=100
LOST=${LOST%.*}
echo "    ping h2 -> h1 -> h2 with 20 % loss at each receiver: $LOST % lost (about 36 % expected)"
((LOST >= 15 && LOST <= 65)) || fail "round-trip loss $LOST %, expected about 36 % (1 - 0.8^2)"
rm -f "$TEST_TMP/got.bin"
expect_ok netenv_exec h2 curl -sS --retry 10 --retry-all-errors --retry-delay 1 --connect-timeout 5 \
  --max-time 60 -o "$TEST_TMP/got.bin" "http://$A1:8000/file.bin"
assert_same_file "$WWW/file.bin" "$TEST_TMP/got.bin" "file fetched through 20 % loss"
netenv_loss 0
expect_ok netenv_exec h2 ping -n -q -c 50 -i 0.005 -W 1 "$A1"
assert_contains "$RUN_OUT" " 0% packet loss" "ping after netenv_loss 0"

step "a partition h2 | h1 blocks both ways; h0 still reaches h1; heal restores"
netenv_partition "h2" "h1"
run netenv_exec h2 curl -sS --connect-timeout 2 --max-time 3 -o /dev/null "http://$A1:8000/file.bin"
assert_eq 28 "$RUN_RC" "curl h2 -> h1 across the partition (28: timeout)"
run netenv_exec h1 ping -n -q -c 2 -i 0.2 -W 1 "$A2"
assert_ne 0 "$RUN_RC" "ping h1 -> h2 across the partition"
expect_ok netenv_exec h0 curl -sS --max-time 10 -o /dev/null "http://$A1:8000/file.bin"
expect_ok netenv_exec h0 ping -n -q -c 2 -i 0.2 -W 1 "$A2"
netenv_heal
expect_ok netenv_exec h2 curl -sS --max-time 10 -o "$TEST_TMP/got2.bin" "http://$A1:8000/file.bin"
assert_same_file "$WWW/file.bin" "$TEST_TMP/got2.bin" "file fetched after heal"

step "a cap of 2 Mbit/s on h1's egress slows its transfers; off restores"
netenv_cap h1 2mbit
T0=$(now_ms)
expect_ok netenv_exec h2 curl -sS --max-time 20 -o /dev/null "http://$A1:8000/file.bin"
MS=$(($(now_ms) - T0))
echo "    300 kB at 2 Mbit/s: ${MS} ms (about 1200 expected)"
((MS >= 900)) || fail "300 kB through a 2 Mbit/s cap took ${MS} ms"
netenv_cap h1 off
assert_not_contains "$(netenv_exec h1 tc qdisc show dev eth0)" "tbf" "qdisc after cap off"

step "netenv_down: processes and namespaces gone"
PREFIX=$NETENV_PREFIX
netenv_down
assert_eq "" "$(ip netns list | grep -F "$PREFIX" || true)" "namespaces of the run after netenv_down"
netenv_alive "$HTTP_PID" && fail "http.server (pid $HTTP_PID) alive after netenv_down"
assert_no_file "/run/refuge-netenv/$PREFIX" "state file after netenv_down"

# check_gone INFO_FILE WHAT [killed]: no namespace and no process of the child run described in
# INFO_FILE. With "killed" (the child got SIGKILL and could not clean up), its root-namespace
# process and its temporary directory are expected to remain: only the namespaces are checked.
check_gone() {
  local prefix http untracked rootpid tmp pid
  read -r prefix http untracked rootpid tmp <"$1"
  local -a pids=("$http" "$untracked")
  [[ ${3:-} == killed ]] || pids+=("$rootpid")
  local deadline=$((SECONDS + 10))
  assert_eq "" "$(ip netns list | grep -F "$prefix" || true)" "$2: namespaces left"
  for pid in "${pids[@]}"; do
    while netenv_alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    if netenv_alive "$pid"; then
      fail "$2: process $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)) still running"
    fi
  done
  assert_no_file "/run/refuge-netenv/$prefix" "$2: state file"
  [[ ${3:-} == killed ]] || assert_no_file "$tmp" "$2: its temporary directory"
}

# child MODE: starts a second invocation in the background; waits for its info file. (A
# background job of a script starts with SIGINT ignored, which bash cannot trap: env restores it.)
child() {
  CHILD_INFO=$TEST_TMP/child-$1.info
  rm -f "$CHILD_INFO"
  TMPDIR=$TEST_TMP env --default-signal=INT,TERM bash "$0" "$REFUGE" --child "$1" "$CHILD_INFO" \
    >"$TEST_TMP/child-$1.log" 2>&1 &
  CHILD_PID=$!
  track_pid "$CHILD_PID"
  local i
  for ((i = 0; i < 200; i++)); do
    [[ -s $CHILD_INFO ]] && return 0
    kill -0 "$CHILD_PID" 2>/dev/null || break
    sleep 0.1
  done
  [[ -s $CHILD_INFO ]] || fail "child $1 did not set up: $(cat "$TEST_TMP/child-$1.log")"
}

step "teardown when a test fails (set -e)"
child fail
CHILD_RC=0
wait "$CHILD_PID" || CHILD_RC=$?
assert_eq 1 "$CHILD_RC" "exit code of the failing child ($(tail -3 "$TEST_TMP/child-fail.log"))"
check_gone "$CHILD_INFO" "after a failure"
assert_contains "$(cat "$TEST_TMP/child-fail.log")" "netenv: down" "the failing child's output"

step "teardown on SIGTERM and on SIGINT"
for sig in TERM INT; do
  child wait
  kill -"$sig" "$CHILD_PID"
  CHILD_RC=0
  timeout 20 tail --pid="$CHILD_PID" -f /dev/null || fail "child did not exit after SIG$sig"
  wait "$CHILD_PID" || CHILD_RC=$?
  assert_ne 0 "$CHILD_RC" "exit code after SIG$sig"
  check_gone "$CHILD_INFO" "after SIG$sig"
done

step "SIGKILL leaves leftovers; netenv_cleanup_stale removes them (and nothing of a live run)"
netenv_up 1  # a live run of this shell, which the cleanup must leave alone
LIVE=$NETENV_PREFIX
child wait
read -r KPREFIX _ _ KROOTPID _ <"$CHILD_INFO"
kill -KILL "$CHILD_PID"
wait "$CHILD_PID" 2>/dev/null || true
assert_ne "" "$(ip netns list | grep -F "$KPREFIX" || true)" "namespaces of the SIGKILLed run before the cleanup"
netenv_cleanup_stale
check_gone "$CHILD_INFO" "after SIGKILL and netenv_cleanup_stale" killed
# Its process in the root namespace was the killed shell's to end; it is this test's now.
kill -9 "$KROOTPID" 2>/dev/null || true
assert_ne "" "$(ip netns list | grep -F "$LIVE-h0" || true)" "the live run's namespace after netenv_cleanup_stale"
