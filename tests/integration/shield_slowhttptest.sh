#!/usr/bin/env bash
# refuge serve under Debian's slowhttptest, three runs of thousands of connections each:
#
#   slowloris (-H)  request heads that never end (a header line every second): cut by the
#                   whole-head deadline ([server] request_head_timeout_ms, 10 s by default),
#                   which a trickle of bytes does not extend
#   slow POST (-B)  a whole head announcing an 8 KiB body, then a few bytes a second: cut by
#                   the body-rate deadline (head deadline + Content-Length / min_body_rate:
#                   10 s + 8 KiB / 1 KiB/s = 18 s by default). The node reads a body before it
#                   looks at the path, so any path exercises it; the attack targets POST
#                   /.refuge/v1/notify, the node's real POST endpoint, which is what an
#                   attacker would pick
#   slow read (-X)  GETs of a 4 MiB file through a 512-1024 byte receive window, read 32
#                   bytes every 5 s: cut when the response makes no progress for
#                   [shield] send_timeout_ms (10 s by default)
#
# The deadlines are the defaults: the test checks what a node gets without tuning.
#
# During each run a legitimate reader from another /24 (127.0.9.2) fetches a small page on a
# new connection every 25 ms. Each run asserts: the node stays up (pid alive, /healthz ok
# after), >= 99 % of the reader's requests succeed, the node's peak RSS (VmHWM) stays within
# the bound docs/SHIELD.md documents (RSS at start + peak open connections x 21 KiB: the
# Connection and reactor state, 1.1 KiB, plus the larger of a parked head, 8 KiB, and a
# buffer block, 19 KiB; plus 8 MiB for the allocator's slack and the reader), the shield counted the defence (refuge_shield_events_total{event="timed_out"} and
# refuge_http_timeouts_total grew by thousands), and every attack connection is gone after.
# It prints the reader's figures, the peak of open connections and the RSS peak.
#
# slowhttptest binds one source address; a real flood of this size comes from many, each
# under the per-address caps and rates (those are tested by shield_basic.sh). So the attacker
# here (127.0.0.1, with exempt = []) gets caps and rates lifted: the deadlines are the defence
# under test, and the shield still counts and times every connection.
#
#   bash tests/integration/shield_slowhttptest.sh build/refuge
source "$(dirname "$0")/lib.sh" "$@"

for tool in slowhttptest curl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIP [$TEST_NAME]: needs $tool (bash scripts/setup.sh installs it)" >&2
    exit 77
  fi
done

# Thousands of sockets on both sides: the soft limit up to the hard one (20,000 here).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
CONNECTIONS=3000
RATE=500
if (($(ulimit -n) < 2 * CONNECTIONS + 200)); then
  echo "SKIP [$TEST_NAME]: needs $((2 * CONNECTIONS + 200)) open files, ulimit -n is $(ulimit -n)" >&2
  exit 77
fi
# docs/SHIELD.md, "Memory per connection": at most 1.1 + 19 KiB each, rounded up.
PER_CONNECTION_KIB=21
SLACK_KIB=$((8 * 1024))
LEGIT_SRC=127.0.9.2

step "publish a site with a small page and a 4 MiB file"
expect_ok refuge site init --json
S=$(jget "$RUN_OUT" 'j["site_id"]')
SRC=$(new_dir src)
printf 'hello from refuge\n' >"$SRC/hello.txt"
head -c $((4 * 1024 * 1024)) /dev/urandom >"$SRC/big.bin"
expect_ok refuge publish --site "$S" "$SRC"

CONFIG=$TEST_TMP/serve.toml
cat >"$CONFIG" <<'EOF'
[server]
reload_interval_ms = 60000
[shield]
exempt = []
# Under-attack mode would challenge the reader (a curl-like client); not under test here.
under_attack = "off"
# One slowhttptest process stands for a botnet (see the top of this file).
max_connections_per_address = 16384
max_connections_per_prefix = 16384
rate_per_address = 100000
burst_per_address = 50000
rate_per_prefix = 100000
burst_per_prefix = 50000
EOF

# The legitimate reader: a GET of hello.txt on a new connection every INTERVAL ms from
# LEGIT_SRC until the stop file exists (or MAX seconds); writes its figures as JSON.
cat >"$TEST_TMP/reader.py" <<'PYEOF'
import json, os, socket, sys, time

addr, src, target, interval_ms, max_s, stop_file, out_file = sys.argv[1:8]
host, port = addr.rsplit(":", 1)
want = b"hello from refuge\n"
interval, deadline = int(interval_ms) / 1000, time.monotonic() + float(max_s)
total, ok, failures, latencies = 0, 0, {}, []


def fetch():
    s = socket.create_connection((host, int(port)), timeout=5, source_address=(src, 0))
    try:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = bytearray()
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200 "):
        return head.split(b"\r\n")[0].decode("latin-1") or "no response"
    return "ok" if body == want else "wrong body"


while time.monotonic() < deadline and not os.path.exists(stop_file):
    start = time.monotonic()
    try:
        result = fetch()
    except OSError as e:
        result = type(e).__name__
    took = time.monotonic() - start
    total += 1
    latencies.append(took)
    if result == "ok":
        ok += 1
    else:
        failures[result] = failures.get(result, 0) + 1
    time.sleep(max(0.0, interval - took))

latencies.sort()
json.dump({"total": total, "ok": ok, "failures": failures,
           "p99_ms": round(1000 * latencies[int(0.99 * (len(latencies) - 1))]) if latencies else 0,
           "max_ms": round(1000 * latencies[-1]) if latencies else 0}, open(out_file, "w"))
PYEOF

# metric NAME_WITH_LABELS: its value in the node's /metrics (0 if absent; -1 if the admin
# listener does not answer).
metric() {
  local all
  all=$(curl -sf --max-time 5 "http://$NODE_ADMIN/metrics") || { echo -1; return; }
  awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }' <<<"$all"
}
proc_kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$NODE_PID/status"; }

SUMMARY=()

# attack NAME PATH SLOWHTTPTEST_ARGS...: one run against a fresh node (see the top of this
# file), slowhttptest aimed at PATH.
attack() {
  local name=$1 path=$2
  shift 2
  step "$name: slowhttptest $* -u NODE${path/$S/SITE} (legitimate reader from $LEGIT_SRC every 25 ms)"
  start_node --config "$CONFIG"
  expect_ok curl -sS --max-time 5 "$NODE_URL/s/$S/hello.txt"
  local timeouts_before shield_before rss_start
  timeouts_before=$(metric refuge_http_timeouts_total)
  shield_before=$(metric 'refuge_shield_events_total{event="timed_out"}')
  rss_start=$(proc_kib VmRSS)

  rm -f "$TEST_TMP/stop" "$TEST_TMP/reader.json"
  "$PYTHON" "$TEST_TMP/reader.py" "$NODE_ADDR" "$LEGIT_SRC" "/s/$S/hello.txt" 25 120 \
    "$TEST_TMP/stop" "$TEST_TMP/reader.json" &
  local reader=$!
  track_pid "$reader"
  # The node's open connections, sampled every 200 ms while the attack runs.
  (while [[ ! -e $TEST_TMP/stop ]]; do
    metric refuge_http_open_connections
    sleep 0.2
  done) >"$TEST_TMP/open.samples" &
  local sampler=$!
  track_pid "$sampler"

  local started=$SECONDS rc=0
  # -l bounds the attack; timeout bounds slowhttptest itself if it misbehaves.
  timeout -k 5 90 slowhttptest "$@" -c "$CONNECTIONS" -r "$RATE" -l 30 -p 3 -u "$NODE_URL$path" >"$TEST_TMP/$name.log" 2>&1 || rc=$?
  local took=$((SECONDS - started))
  [[ $rc -eq 0 ]] || { tail -30 "$TEST_TMP/$name.log" >&2; fail "slowhttptest $name exited with $rc"; }
  # The deadlines must have closed every attack connection: wait until only the reader's
  # (at most one) and the sampler's are left, 20 s at most.
  local open i
  for ((i = 0; i < 100; i++)); do
    open=$(metric refuge_http_open_connections)
    ((open >= 0 && open <= 2)) && break
    sleep 0.2
  done
  touch "$TEST_TMP/stop"
  wait "$reader" || fail "the reader failed"
  wait "$sampler" || true

  kill -0 "$NODE_PID" 2>/dev/null || fail "$name: refuge serve died"
  assert_eq ok "$(curl -sS --max-time 5 "http://$NODE_ADMIN/healthz")" "$name: /healthz after the attack"
  expect_ok curl -sS --max-time 5 "$NODE_URL/s/$S/hello.txt"
  ((open >= 0 && open <= 2)) || fail "$name: $open connections still open 20 s after the attack (-1: no answer)"

  local r total ok pct peak_open hwm timeouts shield_timeouts
  r=$(cat "$TEST_TMP/reader.json")
  total=$(jget "$r" 'j["total"]')
  ok=$(jget "$r" 'j["ok"]')
  pct=$(jget "$r" 'round(100 * j["ok"] / max(1, j["total"]), 2)')
  peak_open=$(sort -n "$TEST_TMP/open.samples" | tail -1)
  hwm=$(proc_kib VmHWM)
  timeouts=$(($(metric refuge_http_timeouts_total) - timeouts_before))
  shield_timeouts=$(($(metric 'refuge_shield_events_total{event="timed_out"}') - shield_before))
  local line="$name: ${took} s, reader $ok/$total ok ($pct %, p99 $(jget "$r" 'j["p99_ms"]') ms, max $(jget "$r" 'j["max_ms"]') ms, failures $(jget "$r" 'j["failures"]')), peak open connections $peak_open, RSS $((rss_start / 1024)) MiB at start, peak $((hwm / 1024)) MiB, timeouts +$timeouts (shield timed_out +$shield_timeouts)"
  echo "    $line"
  SUMMARY+=("$line")
  stop_node

  assert_int_ge "$total" 200 "$name: requests of the legitimate reader"
  "$PYTHON" -c 'import sys; sys.exit(not int(sys.argv[1]) * 100 >= 99 * int(sys.argv[2]))' "$ok" "$total" ||
    fail "$name: legitimate success $pct % ($ok of $total), expected >= 99 %; failures: $(jget "$r" 'j["failures"]')"
  local bound=$((rss_start + peak_open * PER_CONNECTION_KIB + SLACK_KIB))
  ((hwm <= bound)) ||
    fail "$name: peak RSS $((hwm / 1024)) MiB with $peak_open connections, above the documented bound $((bound / 1024)) MiB"
  echo "    $name: peak RSS $((hwm / 1024)) MiB, within the documented bound $((bound / 1024)) MiB"
  assert_int_ge "$peak_open" $((CONNECTIONS / 2)) "$name: peak of open connections (the attack reached the node)"
  assert_int_ge "$timeouts" $((CONNECTIONS / 2)) "$name: refuge_http_timeouts_total growth"
  assert_int_ge "$shield_timeouts" $((CONNECTIONS / 2)) "$name: refuge_shield_events_total{event=\"timed_out\"} growth"
}

attack slowloris "/s/$S/hello.txt" -H -i 1 -x 24 -t GET
attack slow_post /.refuge/v1/notify -B -i 1 -x 10 -s 8192 -t POST
attack slow_read "/s/$S/big.bin" -X -w 512 -y 1024 -n 5 -z 32 -k 1 -t GET

step "summary"
for line in "${SUMMARY[@]}"; do echo "    $line"; done
