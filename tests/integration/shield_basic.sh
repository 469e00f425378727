#!/usr/bin/env bash
# The shield of refuge serve end to end, over raw HTTP/1.1 from chosen loopback source
# addresses (all of 127.0.0.0/8 is local; each scenario uses its own /24 so that the
# per-prefix limits of one do not touch another). The default config exempts 127.0.0.1 and
# ::1, so every node here runs with `[shield] exempt = []`.
#
#   1. rate limits: a small burst, then 429 with Retry-After on the same keep-alive
#      connection; ban_after refusals in a row ban the address (429 and close), its next
#      connections are reset at accept without a byte of response, while a neighbour in the
#      same /24 and another /24 are served; `refuge shield status` (text and --json) lists
#      the ban and the counters; /metrics has every refuge_shield_events_total event.
#   2. connection caps: with max_connections_per_address = 4, a 5th concurrent connection
#      from one address is reset at accept while another address is served.
#   3. dry_run: nothing is refused (all 200), would_limit and would_challenge count.
#   4. under-attack mode, from the config and at runtime (`refuge shield mode`): 503 with
#      the challenge page and Refuge-Challenge; the proof of work solved in Python, the
#      solve URL answers 303 + Set-Cookie (HttpOnly), the cookie gets 200; the cookie from
#      another /24 and a forged cookie get the challenge again; a bad nonce gets 403; the
#      no-script path (the <noscript> meta refresh): 403 before nojs_delay_seconds, 303 and
#      a cookie after; /.refuge/ paths are not challenged; `mode off` / `on` / `auto`.
#   5. an invalid [shield] value: refuge serve refuses to start and names the key.
#
#   bash tests/integration/shield_basic.sh build/refuge
source "$(dirname "$0")/lib.sh" "$@"

if ! command -v curl >/dev/null 2>&1; then
  echo "SKIP [$TEST_NAME]: needs curl (bash scripts/setup.sh installs it)" >&2
  exit 77
fi

OUT=$(new_dir out)
H_HEADERS=$OUT/last.headers
H_BODY=$OUT/last.body

# --- helpers ------------------------------------------------------------------------------

cat >"$TEST_TMP/hreq.py" <<'PYEOF'
"""Raw HTTP/1.1 from a chosen source address (refuge's shield keys on the peer address).

  hreq.py get ADDR SRC TARGET COOKIE HEAD_FILE BODY_FILE
      one GET on a new connection; prints the status, or "reset" / "closed" / "timeout"
      when the connection ends without a response
  hreq.py burst ADDR SRC TARGET N
      N GETs on keep-alive connections (a new one when the node closes one); prints one
      word per request: the status, "+close" appended when the node closed after it, or
      "reset"/"closed"/"timeout" when a connection ended without a response
  hreq.py cap ADDR SRC N OTHER_SRC TARGET
      holds N connections from SRC (each has had a 200), then tries one more from SRC and
      one from OTHER_SRC; prints "held=N extra=<what> other=<what>"
  hreq.py solve SEED BITS
      prints the first nonce n with SHA-256("SEED:n") starting with BITS zero bits
  hreq.py unsolve SEED BITS
      prints the first nonce that does not solve it
"""
import hashlib, socket, sys, time


class Ended(Exception):
    """The connection ended before a response: the word says how (reset, closed, ...)."""


def connect(addr, src):
    host, port = addr.rsplit(":", 1)
    try:
        s = socket.create_connection((host, int(port)), timeout=10, source_address=(src, 0))
    except (ConnectionResetError, BrokenPipeError):
        raise Ended("reset")
    except ConnectionRefusedError:
        raise Ended("refused")
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(s, buf):
    """Reads one response; returns (status, head_text, body, rest, closed) or (what, ...)."""
    closed = False
    while b"\r\n\r\n" not in buf:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return "timeout", "", b"", b"", True
        except (ConnectionResetError, BrokenPipeError):
            return "reset", "", b"", b"", True
        if not chunk:
            return "closed", "", b"", b"", True
        buf += chunk
    end = buf.index(b"\r\n\r\n")
    head = buf[:end].decode("latin-1")
    lines = head.split("\r\n")
    status = lines[0].split(" ")[1]
    length = 0
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
    body = buf[end + 4:]
    while len(body) < length:
        try:
            chunk = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            chunk = b""
        if not chunk:
            closed = True
            break
        body += chunk
    rest = body[length:]
    body = body[:length]
    if "connection: close" in head.lower():
        closed = True
    return status, head, body, rest, closed


def request(s, target, cookie=""):
    req = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: shield-test\r\n"
    if cookie:
        req += f"Cookie: {cookie}\r\n"
    s.sendall((req + "\r\n").encode())


def send_or_none(s, target, cookie=""):
    try:
        request(s, target, cookie)
        return None
    except (ConnectionResetError, BrokenPipeError):
        return "reset"


def get(addr, src, target, cookie, head_file, body_file):
    try:
        s = connect(addr, src)
    except Ended as e:
        print(e)
        return
    with s:
        what = send_or_none(s, target, cookie)
        status, head, body, _, _ = read_response(s, b"") if what is None else (what, "", b"", b"", True)
    open(head_file, "w").write(head.replace("\r\n", "\n") + "\n")
    open(body_file, "wb").write(body)
    print(status)


def burst(addr, src, target, n):
    words, s, buf = [], None, b""
    for _ in range(n):
        if s is None:
            try:
                s, buf = connect(addr, src), b""
            except Ended as e:
                words.append(str(e))
                continue
        what = send_or_none(s, target)
        if what is None:
            status, _, _, buf, closed = read_response(s, buf)
        else:
            status, closed = what, True
        if closed and status.isdigit():
            status += "+close"
        words.append(status)
        if closed:
            s.close()
            s = None
    if s is not None:
        s.close()
    print(" ".join(words))


def attempt(addr, src, target):
    """One connection, one GET: the status or what ended it; the socket if it stays open."""
    try:
        s = connect(addr, src)
    except Ended as e:
        return str(e), None
    what = send_or_none(s, target)
    if what is not None:
        s.close()
        return what, None
    status, _, _, _, closed = read_response(s, b"")
    if closed:
        s.close()
        return status, None
    return status, s


def cap(addr, src, n, other, target):
    held = []
    for _ in range(n):
        status, s = attempt(addr, src, target)
        if s is None:
            break
        held.append(s)
    extra, s = attempt(addr, src, target)
    if s is not None:
        s.close()
    other_status, s = attempt(addr, other, target)
    if s is not None:
        s.close()
    print(f"held={len(held)} extra={extra} other={other_status}")
    for s in held:
        s.close()


def solve(seed, bits, want=True):
    n = 0
    while True:
        d = hashlib.sha256(f"{seed}:{n}".encode()).digest()
        if (int.from_bytes(d, "big") >> (256 - bits) == 0) == want:
            print(n)
            return
        n += 1


cmd = sys.argv[1]
if cmd == "get":
    get(*sys.argv[2:5], sys.argv[5], sys.argv[6], sys.argv[7])
elif cmd == "burst":
    burst(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
elif cmd == "cap":
    cap(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6])
elif cmd == "solve":
    solve(sys.argv[2], int(sys.argv[3]))
elif cmd == "unsolve":
    solve(sys.argv[2], int(sys.argv[3]), want=False)
PYEOF

# hreq SRC TARGET [COOKIE]: one GET from source address SRC; sets H_STATUS (a status code, or
# reset/closed/timeout/refused), $H_HEADERS (the response head) and $H_BODY (the body).
hreq() {
  H_STATUS=$("$PYTHON" "$TEST_TMP/hreq.py" get "$NODE_ADDR" "$1" "$2" "${3:-}" "$H_HEADERS" "$H_BODY") ||
    fail "hreq.py get $1 $2 failed"
}

# expect_hreq STATUS SRC TARGET [COOKIE]
expect_hreq() {
  local want=$1
  shift
  hreq "$@"
  if [[ $H_STATUS != "$want" ]]; then
    fail "GET $2 from $1${3:+ with cookie $3}: expected $want, got $H_STATUS; head: $(head -20 "$H_HEADERS")"
  fi
}

# header NAME: the value of the field NAME in the last response's head (empty if absent).
header() {
  awk -v n="$1" 'BEGIN { n = tolower(n) }
    NR > 1 { i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == n) {
      v = substr($0, i + 1); sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v); print v; exit } }' "$H_HEADERS"
}

# metric NAME_WITH_LABELS: its value in the node's /metrics (empty if absent).
metric() {
  curl -s --max-time 5 "http://$NODE_ADMIN/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}
event() { metric "refuge_shield_events_total{event=\"$1\"}"; }

# shield_json: `refuge shield status --json` of the running node.
shield_json() {
  expect_ok refuge shield status --admin "$NODE_ADMIN" --json
  printf '%s\n' "$RUN_OUT"
}

# new_node NAME CONFIG_TEXT: stops the running node (if any) and starts one with this config.
new_node() {
  if [[ -n ${NODE_PID:-} ]] && kill -0 "$NODE_PID" 2>/dev/null; then stop_node; fi
  printf '%s\n' "$2" >"$TEST_TMP/$1.toml"
  start_node --config "$TEST_TMP/$1.toml"
  expect_ok curl -sS --max-time 5 "http://$NODE_ADMIN/healthz"
}

step "publish a site"
expect_ok refuge site init --json
S=$(jget "$RUN_OUT" 'j["site_id"]')
SRC=$(new_dir src)
printf 'hello from refuge\n' >"$SRC/hello.txt"
printf '<!doctype html><title>Refuge test page</title><p>the real content</p>\n' >"$SRC/index.html"
expect_ok refuge publish --site "$S" "$SRC"
HELLO=/s/$S/hello.txt

# --- 1. rate limits and bans ----------------------------------------------------------------
step "rate limit: burst of 5, then 429 with Retry-After; a ban after 10 refusals in a row"
new_node limits '[server]
reload_interval_ms = 60000
[shield]
exempt = []
under_attack = "off"
rate_per_address = 1
burst_per_address = 5
ban_after = 10
ban_seconds = 120
max_connections_per_address = 4'

# One Python process sends them all on keep-alive connections, quickly: the bucket refills at
# one token per second, so a slow machine may let a 6th request through, never more.
WORDS=$("$PYTHON" "$TEST_TMP/hreq.py" burst "$NODE_ADDR" 127.0.2.1 "$HELLO" 17)
echo "    statuses: $WORDS"
assert_match '^200( 200){4,5}( 429){9} 429\+close( (reset|closed)){2}$' "$WORDS" \
  "a burst of 5 (or 6 on a slow machine) 200s, 9 429s on the same connection, the ban (429 and close), then resets at accept"

step "Retry-After on a 429; a neighbour in the same /24 and another /24 still served"
"$PYTHON" "$TEST_TMP/hreq.py" burst "$NODE_ADDR" 127.0.3.1 "$HELLO" 8 >/dev/null
expect_hreq 429 127.0.3.1 "$HELLO"
assert_match '^[1-9][0-9]*$' "$(header Retry-After)" "Retry-After of a 429"
expect_hreq 200 127.0.2.7 "$HELLO"
assert_eq "hello from refuge" "$(cat "$H_BODY")" "body of hello.txt for the banned address's neighbour"
expect_hreq 200 127.0.4.1 "$HELLO"
hreq 127.0.2.1 "$HELLO"
assert_match '^(reset|closed)$' "$H_STATUS" "the banned address, later (connection closed at accept)"

step "refuge shield status (text and --json) lists the ban and the counters"
expect_ok refuge shield status --admin "$NODE_ADMIN"
echo "$RUN_OUT" | sed 's/^/    /'
assert_contains "$RUN_OUT" "mode:          off" "status: the mode"
assert_match 'bans \([1-9][0-9]*\):' "$RUN_OUT" "status: the number of bans"
assert_match $'\n  127\\.0\\.2\\.1  [0-9]+ s left' "$RUN_OUT" "status: the banned address and its time left"
J=$(shield_json)
assert_eq off "$(jget "$J" 'j["mode"]')" "--json mode"
assert_eq false "$(jget "$J" 'j["under_attack"]')" "--json under_attack"
assert_eq 1 "$(jget "$J" 'j["bans_total"]')" "--json bans_total"
assert_eq 127.0.2.1 "$(jget "$J" 'j["bans"][0]["client"]')" "--json the banned client"
assert_match '^(11[0-9]|120)$' "$(jget "$J" 'j["bans"][0]["seconds_left"]')" "--json seconds left of a 120 s ban"
assert_eq 1 "$(jget "$J" 'j["events"]["banned"]')" "--json events.banned"
assert_int_ge "$(jget "$J" 'j["events"]["limited"]')" 10 "--json events.limited"
assert_int_ge "$(jget "$J" 'j["events"]["dropped"]')" 3 "--json events.dropped (connections of the banned address)"
assert_int_ge "$(jget "$J" 'j["events"]["served"]')" 8 "--json events.served"

step "/metrics has every refuge_shield_events_total event"
M=$(curl -sS --max-time 5 "http://$NODE_ADMIN/metrics")
for e in served limited challenged solved waited bad_solution cleared banned dropped refused \
  evicted timed_out would_limit would_challenge; do
  grep -qE "^refuge_shield_events_total\\{event=\"$e\"\\} [0-9]+$" <<<"$M" ||
    fail "/metrics has no line refuge_shield_events_total{event=\"$e\"} N"
done
assert_eq 1 "$(event banned)" "metric banned"
assert_eq 0 "$(metric refuge_shield_under_attack)" "metric refuge_shield_under_attack"

# --- 2. connection caps ---------------------------------------------------------------------
step "max_connections_per_address = 4: a 5th connection is reset at accept, another address served"
REFUSED_BEFORE=$(event refused)
# rate_per_address is 1 with a burst of 5: the 4 held connections and the extra one fit.
CAP=$("$PYTHON" "$TEST_TMP/hreq.py" cap "$NODE_ADDR" 127.0.5.1 4 127.0.6.1 "$HELLO")
echo "    $CAP"
assert_match '^held=4 extra=(reset|closed) other=200$' "$CAP" \
  "4 connections held (each answered), the 5th closed without a response, another address answered"
assert_int_ge "$(event refused)" $((REFUSED_BEFORE + 1)) "refused connections counted"
stop_node

# --- 3. dry run -----------------------------------------------------------------------------
step "dry_run: over the limits and under attack, everything is served and counted"
new_node dryrun '[server]
reload_interval_ms = 60000
[shield]
exempt = []
dry_run = true
under_attack = "on"
rate_per_address = 1
burst_per_address = 5
ban_after = 10'
WORDS=$("$PYTHON" "$TEST_TMP/hreq.py" burst "$NODE_ADDR" 127.0.7.1 "$HELLO" 30)
assert_match '^200( 200){29}$' "$WORDS" "30 requests over the limit, in dry run"
expect_hreq 200 127.0.7.1 "$HELLO"
assert_eq "" "$(header Refuge-Challenge)" "no challenge in dry run"
J=$(shield_json)
assert_eq true "$(jget "$J" 'j["dry_run"]')" "--json dry_run"
assert_int_ge "$(jget "$J" 'j["events"]["would_limit"]')" 24 "would_limit"
assert_int_ge "$(jget "$J" 'j["events"]["would_challenge"]')" 5 "would_challenge"
for e in limited challenged banned dropped; do
  assert_eq 0 "$(jget "$J" "j[\"events\"][\"$e\"]")" "$e in dry run"
done
assert_int_ge "$(jget "$J" 'j["events"]["served"]')" 31 "served in dry run"
assert_eq 0 "$(jget "$J" 'j["bans_total"]')" "bans in dry run"
stop_node

# --- 4. under-attack mode -------------------------------------------------------------------
step "under_attack = \"on\": the challenge page"
new_node attack '[server]
reload_interval_ms = 60000
[shield]
exempt = []
under_attack = "on"
pow_min_bits = 12
pow_max_bits = 12
nojs_delay_seconds = 2
attack_cooldown_seconds = 1
attack_requests_per_second = 50'
TARGET="$HELLO?x=1&y=%2F"
expect_hreq 503 127.0.8.1 "$TARGET"
CH=$(header Refuge-Challenge)
assert_match '^[0-9a-f]{42} 12$' "$CH" "Refuge-Challenge: <seed> <bits>"
SEED=${CH% *}
BITS=${CH#* }
assert_match '^text/html' "$(header Content-Type)" "content type of the challenge page"
assert_contains "$(header Cache-Control)" "no-store" "cache policy of the challenge page"
PAGE=$(cat "$H_BODY")
assert_contains "$PAGE" "<title>One moment</title>" "title of the challenge page"
assert_contains "$PAGE" "var S=\"$SEED\",B=12," "the page's script has the seed and bits"
RET=$(sed -n 's/.*,R="\([^"]*\)".*/\1/p' <<<"$PAGE")
assert_ne "" "$RET" "the page's return path (R)"
assert_contains "$PAGE" '<noscript><meta http-equiv="refresh" content="2;url=/.refuge/shield/wait?t=' "the no-script refresh"

step "solve the proof of work: 303 + Set-Cookie, then 200 with the cookie"
NONCE=$("$PYTHON" "$TEST_TMP/hreq.py" solve "$SEED" "$BITS")
expect_hreq 303 127.0.8.1 "/.refuge/shield/solve?s=$SEED&n=$NONCE&r=$RET"
assert_eq "$TARGET" "$(header Location)" "Location after solving: the page asked for"
SETC=$(header Set-Cookie)
assert_match '^refuge_clearance=[0-9a-f]{8}\.[0-9a-f]{32}; ' "$SETC" "Set-Cookie: the clearance"
for attr in "Path=/" "Max-Age=3600" "HttpOnly" "SameSite=Lax"; do
  assert_contains "$SETC" "$attr" "Set-Cookie attribute $attr"
done
COOKIE=${SETC%%;*}
expect_hreq 200 127.0.8.1 "$TARGET" "$COOKIE"
assert_eq "hello from refuge" "$(cat "$H_BODY")" "the content with the clearance"
expect_hreq 200 127.0.8.77 "$HELLO" "theme=dark; $COOKIE; lang=en"  # same /24, among other cookies

step "the cookie from another /24, a forged cookie, a bad nonce: refused"
expect_hreq 503 127.0.9.1 "$HELLO" "$COOKIE"
assert_match '^[0-9a-f]{42} 12$' "$(header Refuge-Challenge)" "challenge for a cookie replayed from another /24"
VAL=${COOKIE#refuge_clearance=}
flip() { if [[ $1 == 0 ]]; then echo 1; else echo 0; fi; }  # another hex digit
expect_hreq 503 127.0.8.1 "$HELLO" "refuge_clearance=${VAL%?}$(flip "${VAL: -1}")"  # the MAC's last digit
expect_hreq 503 127.0.8.1 "$HELLO" "refuge_clearance=${VAL:0:7}$(flip "${VAL:7:1}")${VAL:8}"  # the expiry
BAD_BEFORE=$(event bad_solution)
BAD_NONCE=$("$PYTHON" "$TEST_TMP/hreq.py" unsolve "$SEED" "$BITS")
expect_hreq 403 127.0.8.1 "/.refuge/shield/solve?s=$SEED&n=$BAD_NONCE&r=$RET"
assert_eq "" "$(header Set-Cookie)" "no cookie for a wrong nonce"
expect_hreq 403 127.0.9.1 "/.refuge/shield/solve?s=$SEED&n=$NONCE&r=$RET"  # seed of another /24
assert_eq $((BAD_BEFORE + 2)) "$(event bad_solution)" "bad solutions counted"

step "without script: the meta refresh's wait URL, 403 before nojs_delay_seconds, 303 after"
# The ticket holds whole seconds (and the node's clock moves every 100 ms), so a wait may
# pass up to about a second early: with a delay of 2 s, "at once" is always too early.
expect_hreq 503 127.0.10.1 "$HELLO"
WAIT=$(sed -n 's/.*<noscript><meta http-equiv="refresh" content="2;url=\([^"]*\)">.*/\1/p' "$H_BODY")
WAIT=${WAIT//&amp;/\&}  # (bash 5.2: a bare & in the replacement is the match)
assert_match '^/\.refuge/shield/wait\?t=[0-9a-f]{40}&r=' "$WAIT" "the wait URL in the page"
expect_hreq 403 127.0.10.1 "$WAIT"
sleep 2.1
expect_hreq 303 127.0.10.1 "$WAIT"
assert_eq "$HELLO" "$(header Location)" "Location after the wait"
COOKIE2=$(header Set-Cookie)
COOKIE2=${COOKIE2%%;*}
assert_match '^refuge_clearance=' "$COOKIE2" "cookie of the no-script path"
expect_hreq 200 127.0.10.1 "$HELLO" "$COOKIE2"

step "/.refuge/ paths are not challenged in under-attack mode"
expect_hreq 200 127.0.11.1 /.refuge/v1/status
assert_eq "" "$(header Refuge-Challenge)" "no challenge on /.refuge/v1/status"
assert_match '^application/json' "$(header Content-Type)" "the node's status"

step "refuge shield status in under-attack mode; refuge shield mode off / on / auto"
expect_ok refuge shield status --admin "$NODE_ADMIN"
assert_contains "$RUN_OUT" "mode:          on (under attack: yes" "status text: mode on"
assert_contains "$RUN_OUT" "challenge:     12 leading zero bits" "status text: difficulty"
J=$(shield_json)
assert_eq on "$(jget "$J" 'j["mode"]')" "--json mode"
assert_eq true "$(jget "$J" 'j["under_attack"]')" "--json under_attack"
assert_eq 12 "$(jget "$J" 'j["pow_bits"]')" "--json pow_bits"
assert_int_ge "$(jget "$J" 'j["events"]["challenged"]')" 5 "--json events.challenged"
assert_eq 1 "$(jget "$J" 'j["events"]["solved"]')" "--json events.solved"
assert_eq 1 "$(jget "$J" 'j["events"]["waited"]')" "--json events.waited"
assert_int_ge "$(jget "$J" 'j["events"]["cleared"]')" 3 "--json events.cleared"
assert_eq 1 "$(metric refuge_shield_under_attack)" "metric refuge_shield_under_attack"

expect_ok refuge shield mode off --admin "$NODE_ADMIN"
assert_contains "$RUN_OUT" "mode:          off (under attack: no)" "mode off prints the new status"
expect_hreq 200 127.0.12.1 "$HELLO"
expect_ok refuge shield mode on --admin "$NODE_ADMIN" --json
assert_eq on "$(jget "$RUN_OUT" 'j["mode"]')" "mode on --json"
expect_hreq 503 127.0.12.1 "$HELLO"
expect_hreq 200 127.0.8.1 "$HELLO" "$COOKIE"  # a clearance outlives the switch
expect_exit 2 refuge shield mode sideways --admin "$NODE_ADMIN"
assert_eq 400 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --data-binary maybe "http://$NODE_ADMIN/shield/mode")" \
  "POST /shield/mode with a bad body"

step "mode auto: calm switches it off after attack_cooldown_seconds, a flood switches it on"
expect_ok refuge shield mode auto --admin "$NODE_ADMIN"
wait_attack() {  # wait_attack true|false SECONDS
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    [[ $(jget "$(shield_json)" 'j["under_attack"]') == "$1" ]] && return 0
    sleep 0.1
  done
  fail "under_attack did not become $1 within $2 s (mode auto)"
}
wait_attack false 10
expect_hreq 200 127.0.12.1 "$HELLO"
# Bursts of 50 requests from 10 addresses (over attack_requests_per_second = 50) until told to
# stop, 150 bursts at most.
(for i in $(seq 150); do
  [[ -e $TEST_TMP/stop-flood ]] && break
  "$PYTHON" "$TEST_TMP/hreq.py" burst "$NODE_ADDR" "127.0.13.$((i % 10 + 1))" "$HELLO" 50 >/dev/null
done) &
FLOOD=$!
track_pid "$FLOOD"
wait_attack true 15
expect_hreq 503 127.0.14.1 "$HELLO"
touch "$TEST_TMP/stop-flood"
wait "$FLOOD"
wait_attack false 15
stop_node

# --- 5. invalid values ----------------------------------------------------------------------
step "an invalid [shield] value: refuge serve refuses to start, naming the key"
bad_config() {  # bad_config KEY_TEXT VALUE_LINE
  printf '[shield]\n%s\n' "$2" >"$TEST_TMP/bad.toml"
  run timeout 10 "$REFUGE" serve --listen 127.0.0.1:0 --no-admin --config "$TEST_TMP/bad.toml"
  if [[ $RUN_RC == 0 || $RUN_RC == 124 ]]; then
    fail "refuge serve with '$2': expected a refusal, got exit $RUN_RC"
  fi
  assert_contains "$RUN_ERR" "$1" "the error for '$2'"
}
bad_config "[shield] ban_after" "ban_after = 0"
bad_config "[shield] pow_min_bits" "pow_min_bits = 40"
bad_config "[shield] under_attack" 'under_attack = "sometimes"'
bad_config "[shield] exempt" 'exempt = ["not-an-address"]'
bad_config "[shield] max_connections_per_prefix" $'max_connections_per_address = 100\nmax_connections_per_prefix = 10'
bad_config "[shield] secret" 'secret = "abc"'
bad_config "[shield] rate_per_address" 'rate_per_address = "fast"'
bad_config "[shield]" 'rate_per_adress = 5'
