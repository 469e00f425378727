#!/usr/bin/env bash
# Mirroring with the real binary, every node on 127.0.0.1 (fixed ports picked at random in
# 20000-40000, so that a restarted node keeps its URL): a publisher and two mirrors
# (`refuge mirror add` then `refuge serve --refresh-interval 600`), plus a mirror of a mirror.
#   - the mirrors announce themselves to the publisher within seconds; `mirrors accept --all`;
#   - a new publish reaches every mirror within 5 s: with a 600 s refresh interval only the
#     notify hints can explain it; the mirror of a mirror gets it too;
#   - the signed mirror list .refuge/mirrors.json is served by the mirrors and lists both;
#   - /.refuge/v1/status and /.refuge/v1/peers JSON shapes; notify with garbage (400), wrong
#     methods (405), a forged hint (changes nothing), a burst of hints (429 after the burst);
#   - `refuge mirror list --json`, `mirror remove`, `mirror add` of a wrong site ID and of a
#     seed serving a root that does not hash to the ID; a restarted mirror keeps its version.
#
#   bash tests/integration/mirror_basic.sh build/refuge
source "$(dirname "$0")/lib.sh" "$@"

if ! command -v curl >/dev/null 2>&1; then
  echo "SKIP [$TEST_NAME]: needs curl (bash scripts/setup.sh installs it)" >&2
  exit 77
fi

OUT=$(new_dir out)

# --- helpers ------------------------------------------------------------------------------

# rf HOME ARGS...: refuge with that node home.
rf() {
  local home=$1
  shift
  "$REFUGE" --home "$home" "$@"
}

# A free TCP port of 127.0.0.1 in 20000-40000, never one handed out before in this test.
_USED_PORTS=" "
free_port() {
  local port
  port=$("$PYTHON" - "$_USED_PORTS" <<'PY'
import random, socket, sys
used = set(sys.argv[1].split())
for _ in range(500):
    p = random.randint(20000, 40000)
    if str(p) in used:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
PY
  ) || fail "no free port"
  [[ -n $port ]] || fail "no free port in 20000-40000"
  _USED_PORTS+="$port "
  echo "$port"
}

# wait_until TIMEOUT_MS CMD...: runs CMD every 0.1 s until it succeeds; prints the
# milliseconds it took; returns 1 after TIMEOUT_MS.
wait_until() {
  local timeout=$1
  shift
  local start
  start=$(now_ms)
  while ! "$@"; do
    if (($(now_ms) - start > timeout)); then return 1; fi
    sleep 0.1
  done
  echo $(($(now_ms) - start))
}

declare -A NODE_PIDS=()  # NAME -> pid of its refuge serve
declare -A NODE_HOMES=() # NAME -> node home
declare -A NODE_URLS=()  # NAME -> http://127.0.0.1:PORT

# start_serve NAME: `refuge serve` of NAME's home on its port, no admin listener, refresh
# every 600 s (so that only hints and startup explain a quick sync). Waits for its address.
start_serve() {
  local name=$1 home=${NODE_HOMES[$1]} url=${NODE_URLS[$1]}
  local n=1
  while [[ -e $TEST_TMP/node.$name.$n.out ]]; do n=$((n + 1)); done
  local out=$TEST_TMP/node.$name.$n.out
  "$REFUGE" --home "$home" serve --listen "${url#http://}" --no-admin --refresh-interval 600 \
    >"$out" 2>"$out.err" </dev/null &
  NODE_PIDS[$name]=$!
  track_pid "${NODE_PIDS[$name]}"
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -s $out ]] && break
    if ! kill -0 "${NODE_PIDS[$name]}" 2>/dev/null; then
      cat "$out.err" >&2
      fail "refuge serve of $name exited at start"
    fi
    sleep 0.05
  done
  assert_eq "http ${url#http://}" "$(head -1 "$out")" "address printed by the serve of $name"
}

# stop_serve NAME: SIGTERM; the node must exit 0 within 15 s.
stop_serve() {
  local pid=${NODE_PIDS[$1]} rc=0
  kill -TERM "$pid"
  timeout 15 tail --pid="$pid" -f /dev/null || fail "refuge serve of $1 did not exit after SIGTERM"
  wait "$pid" || rc=$?
  [[ $rc -eq 0 ]] || fail "refuge serve of $1 exited with $rc after SIGTERM"
}

# new_node NAME: a fresh node home and a port for NAME.
new_node() {
  NODE_HOMES[$1]=$TEST_TMP/$1
  NODE_URLS[$1]=http://127.0.0.1:$(free_port)
}

# http_get URL: the body (empty on any failure).
http_get() { curl -sS --max-time 10 "$1" 2>/dev/null || true; }

# served_version NAME: the version of $S that NAME's /.refuge/v1/status reports (0 if none).
served_version() {
  "$PYTHON" -c '
import json, sys
try:
    print(json.loads(sys.argv[1])["sites"][sys.argv[2]]["version"])
except Exception:
    print(0)' "$(http_get "${NODE_URLS[$1]}/.refuge/v1/status")" "$S"
}
serves_version() { [[ $(served_version "$1") == "$2" ]]; }

# serves_file NAME PATH FILE: NAME serves FILE's bytes at /s/$S/PATH.
serves_file() {
  curl -sS --max-time 10 -o "$OUT/fetched" "${NODE_URLS[$1]}/s/$S/$2" 2>/dev/null && cmp -s "$3" "$OUT/fetched"
}

# pending_count: how many pending announcements the publisher holds for $S.
pending_count() {
  local json
  json=$(rf "${NODE_HOMES[pub]}" mirrors pending "$S" --json) || fail "mirrors pending --json failed"
  jget "$json" 'len(j["announcements"])'
}
pending_has_url() {
  local json
  json=$(rf "${NODE_HOMES[pub]}" mirrors pending "$S" --all --json) || return 1
  [[ $(jget "$json" "any('$1' in a['urls'] for a in j['announcements'])") == true ]]
}
pending_at_least() { (($(pending_count) >= $1)); }

# post_hint NAME BODY [CURL_ARGS...]: POSTs BODY to NAME's notify endpoint; prints the status.
post_hint() {
  local name=$1 body=$2
  shift 2
  curl -sS --max-time 10 -o "$OUT/hint.body" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' --data-binary "$body" "$@" "${NODE_URLS[$name]}/.refuge/v1/notify" ||
    fail "POST notify to $name failed"
}

dump_nodes() {
  local name
  for name in "${!NODE_URLS[@]}"; do
    echo "--- $name (${NODE_URLS[$name]}): status $(http_get "${NODE_URLS[$name]}/.refuge/v1/status")" >&2
    [[ $name == pub ]] || echo "    mirror list: $(rf "${NODE_HOMES[$name]}" mirror list --json 2>&1)" >&2
  done
}
# Failures say what every node serves and knows.
fail() {
  echo "FAIL [$TEST_NAME] at $(_where): $*" >&2
  dump_nodes
  exit 1
}

# --- 1. a publisher with version 1 ------------------------------------------------------------
step "publisher: site init, publish version 1, serve"
new_node pub
SRC=$(new_dir src)
printf '<h1>version one</h1>\n' >"$SRC/index.html"
mkdir -p "$SRC/docs"
printf 'a document\n' >"$SRC/docs/readme.txt"
head -c 300000 /dev/urandom >"$SRC/big.bin"
expect_ok rf "${NODE_HOMES[pub]}" site init --json
S=$(jget "$RUN_OUT" 'j["site_id"]')
expect_ok rf "${NODE_HOMES[pub]}" publish --site "$S" "$SRC" --json
assert_eq 1 "$(jget "$RUN_OUT" 'j["version"]')" "first publish version"
start_serve pub
PUB=${NODE_URLS[pub]}

# --- 2. two mirrors follow the publisher --------------------------------------------------------
step "two mirrors: refuge mirror add SITE --from PUBLISHER, then serve"
for m in m1 m2; do
  new_node "$m"
  expect_ok rf "${NODE_HOMES[$m]}" mirror add "$S" --from "$PUB/" --json
  assert_eq "$S" "$(jget "$RUN_OUT" 'j["site_id"]')" "$m: mirror add --json site_id"
  assert_eq true "$(jget "$RUN_OUT" 'j["following"]')" "$m: mirror add --json following"
  assert_eq 1 "$(jget "$RUN_OUT" 'j["sync"]["version"]')" "$m: mirror add --json sync.version"
  assert_eq 0 "$(jget "$RUN_OUT" 'j["sync"]["previous_version"]')" "$m: mirror add --json sync.previous_version"
  assert_eq 3 "$(jget "$RUN_OUT" 'j["sync"]["objects_fetched"]')" "$m: objects fetched by the first sync"
  assert_eq "$PUB" "$(jget "$RUN_OUT" 'j["sync"]["metadata_source"]')" "$m: metadata source (the --from URL without its slash)"
  assert_eq "[]" "$(jget "$RUN_OUT" 'j["sync"]["problems"]')" "$m: problems of the first sync"
  expect_verify_clean "${NODE_HOMES[$m]}"
done
T_SERVE=$(now_ms)
start_serve m1
start_serve m2
for m in m1 m2; do
  serves_file "$m" index.html "$SRC/index.html" || fail "$m does not serve index.html of version 1"
  serves_file "$m" big.bin "$SRC/big.bin" || fail "$m does not serve big.bin of version 1"
done

step "the mirrors announce themselves to the publisher"
wait_until 5000 pending_at_least 2 >/dev/null ||
  fail "fewer than 2 pending announcements 5 s after the mirrors started: $(rf "${NODE_HOMES[pub]}" mirrors pending "$S" --json)"
echo "    2 announcements pending $(($(now_ms) - T_SERVE)) ms after the mirrors started"
((($(now_ms) - T_SERVE) <= 3500)) || echo "    (note: slower than the ~3 s expected)"
expect_ok rf "${NODE_HOMES[pub]}" mirrors pending "$S" --json
PENDING=$RUN_OUT
assert_eq 2 "$(jget "$PENDING" 'len(j["announcements"])')" "pending announcements"
for m in m1 m2; do
  url=${NODE_URLS[$m]}
  assert_eq "[\"$url\"]" "$(jget "$PENDING" "[a['urls'] for a in j['announcements'] if '$url' in a['urls']][0]")" "$m: announced URLs"
done
assert_eq '["pending", "pending"]' "$(jget "$PENDING" '[a["status"] for a in j["announcements"]]')" "announcement statuses"
assert_eq '["127.0.0.1", "127.0.0.1"]' "$(jget "$PENDING" '[a["sender"] for a in j["announcements"]]')" "announcement senders"
assert_eq true "$(jget "$PENDING" 'all(len(a["key_id"]) == 64 and len(a["public_key"]) == 64 for a in j["announcements"])')" "key IDs and public keys are hex"
assert_eq true "$(jget "$PENDING" 'j["announcements"][0]["key_id"] != j["announcements"][1]["key_id"]')" "two mirrors, two keys"
assert_eq true "$(jget "$PENDING" "all(abs(a['received_at'] - $(date +%s)) < 60 for a in j['announcements'])")" "received_at is now"
# A mirror is not the publisher: it cannot accept.
expect_exit 1 rf "${NODE_HOMES[m1]}" mirrors accept "$S" --all
assert_one_line_error "only the publisher"

step "mirrors accept --all"
expect_ok rf "${NODE_HOMES[pub]}" mirrors accept "$S" --all
assert_eq 2 "$(grep -c '^accepted mirror ' <<<"$RUN_OUT")" "accepted lines"
assert_eq 0 "$(pending_count)" "pending announcements after accept --all"
expect_ok rf "${NODE_HOMES[pub]}" mirrors pending "$S" --all --json
assert_eq '["accepted", "accepted"]' "$(jget "$RUN_OUT" '[a["status"] for a in j["announcements"]]')" "statuses after accept --all"
expect_exit 1 rf "${NODE_HOMES[pub]}" mirrors accept "$S" --all
assert_one_line_error "no pending announcement"

# --- 3. a mirror of a mirror ------------------------------------------------------------------------
step "a third mirror follows m1 only (a mirror of a mirror)"
new_node m3
expect_ok rf "${NODE_HOMES[m3]}" mirror add "$S" --from "${NODE_URLS[m1]}" --json
assert_eq 1 "$(jget "$RUN_OUT" 'j["sync"]["version"]')" "m3: first sync from m1"
assert_eq "${NODE_URLS[m1]}" "$(jget "$RUN_OUT" 'j["sync"]["metadata_source"]')" "m3: metadata from m1"
start_serve m3
# m3 announces itself to m1, which takes it as a peer to pass hints on to.
m1_knows_m3() {
  rf "${NODE_HOMES[m1]}" mirror list --json | grep -q "\"${NODE_URLS[m3]}\""
}
MS=$(wait_until 5000 m1_knows_m3) || fail "m1 did not learn m3 from its announcement within 5 s"
echo "    m1 lists m3 as a source ${MS} ms after m3 started"

# --- 4. version 2 reaches every mirror by hints ---------------------------------------------
step "publish version 2: every mirror serves it within 5 s (refresh interval 600 s: hints only)"
printf '<h1>version two</h1>\n' >"$SRC/index.html"
printf 'new in version 2\n' >"$SRC/docs/new.txt"
T_PUBLISH=$(now_ms)
expect_ok rf "${NODE_HOMES[pub]}" publish --site "$S" "$SRC" --json
assert_eq 2 "$(jget "$RUN_OUT" 'j["version"]')" "second publish version"
for m in m1 m2 m3; do
  MS=$(wait_until 5000 serves_version "$m" 2) ||
    fail "$m does not serve version 2 within 5 s of the publish (it serves $(served_version "$m"))"
  echo "    $m serves version 2, $(($(now_ms) - T_PUBLISH)) ms after the publish began"
done
# The status reports a new version as soon as it is committed; each event loop switches its
# paths on its next catalog reload (reload_interval_ms, then a 100 ms sweep).
settled_on_v2() {
  serves_file "$1" index.html "$SRC/index.html" && serves_file "$1" docs/new.txt "$SRC/docs/new.txt" &&
    serves_file "$1" big.bin "$SRC/big.bin"
}
for m in m1 m2 m3; do
  wait_until 3000 settled_on_v2 "$m" >/dev/null || fail "$m serves version 2 in its status but not its files"
  sleep 0.3
  for i in 1 2 3 4 5 6; do settled_on_v2 "$m" || fail "$m: a request served a file of version 1 after version 2 was served"; done
done
for m in m1 m2 m3; do
  log=$(cat "$TEST_TMP"/node."$m".*.out.err)
  assert_contains "$log" "version 1 -> 2" "$m's log (a sync that advanced)"
done

step "the signed mirror list .refuge/mirrors.json is served by the mirrors and lists both"
PUB_LIST=$OUT/mirrors.pub.json
curl -sS --max-time 10 -o "$PUB_LIST" "$PUB/s/$S/.refuge/mirrors.json" || fail "GET mirrors.json from the publisher"
for m in m1 m2 m3; do
  curl -sS --max-time 10 -o "$OUT/mirrors.$m.json" -w '%{http_code}' \
    "${NODE_URLS[$m]}/s/$S/.refuge/mirrors.json" >"$OUT/code" || fail "GET mirrors.json from $m"
  assert_eq 200 "$(cat "$OUT/code")" "$m: status of /s/SITE/.refuge/mirrors.json"
  assert_same_file "$PUB_LIST" "$OUT/mirrors.$m.json" "$m's .refuge/mirrors.json (the signed bytes)"
done
LIST=$(cat "$PUB_LIST")
assert_eq "$S" "$(jget "$LIST" 'j["site"]')" "mirror list: site"
assert_eq "$(printf '%s\n' "${NODE_URLS[m1]}" "${NODE_URLS[m2]}" | sort | tr '\n' ' ')" \
  "$(jget "$LIST" '" ".join(sorted(m["url"] for m in j["mirrors"])) + " "')" "mirror list: URLs"
assert_eq '["mirror", "mirror"]' "$(jget "$LIST" '[m["role"] for m in j["mirrors"]]')" "mirror list: roles"
KEYS=$(rf "${NODE_HOMES[pub]}" mirrors pending "$S" --all --json)
assert_eq "$(jget "$KEYS" 'sorted(a["public_key"] for a in j["announcements"] if a["status"] == "accepted")')" \
  "$(jget "$LIST" 'sorted(m["key"] for m in j["mirrors"])')" "mirror list: keys are the accepted mirrors' keys"
# A TUF client that trusts the site verifies it like any target.
TUF_DIR=$(new_dir tuf)
expect_ok rf "$TEST_TMP/reader" get "$S/.refuge/mirrors.json" --from "${NODE_URLS[m2]}" -o "$TUF_DIR/mirrors.json"
assert_same_file "$PUB_LIST" "$TUF_DIR/mirrors.json" "refuge get of .refuge/mirrors.json from m2"

# --- 5. the node API: status, peers ---------------------------------------------------------
step "GET /.refuge/v1/status and /.refuge/v1/peers"
STATUS=$(http_get "${NODE_URLS[m1]}/.refuge/v1/status")
assert_eq '["node", "sites"]' "$(jget "$STATUS" 'sorted(j.keys())')" "status: top-level keys"
assert_eq "[\"${NODE_URLS[m1]}\"]" "$(jget "$STATUS" 'j["node"]["urls"]')" "status: node.urls (the listen address)"
assert_eq '["blocked", "origin", "site_blocked", "stale_since", "version"]' \
  "$(jget "$STATUS" "sorted(j['sites']['$S'].keys())")" "status: keys of a site"
assert_eq 2 "$(jget "$STATUS" "j['sites']['$S']['version']")" "status: version"
assert_eq false "$(jget "$STATUS" "j['sites']['$S']['origin']")" "status: origin on a mirror"
assert_eq null "$(jget "$STATUS" "j['sites']['$S']['stale_since']")" "status: stale_since"
assert_eq false "$(jget "$STATUS" "j['sites']['$S']['site_blocked']")" "status: site_blocked"
assert_eq "[]" "$(jget "$STATUS" "j['sites']['$S']['blocked']")" "status: blocked"
PSTATUS=$(http_get "$PUB/.refuge/v1/status")
assert_eq true "$(jget "$PSTATUS" "j['sites']['$S']['origin']")" "status: origin on the publisher"
assert_eq 2 "$(jget "$PSTATUS" "j['sites']['$S']['version']")" "status: version on the publisher"
curl -sS --max-time 10 -D "$OUT/status.head" -o /dev/null "${NODE_URLS[m1]}/.refuge/v1/status" || fail "GET status"
assert_contains "$(tr -d '\r' <"$OUT/status.head")" "Content-Type: application/json" "status: content type"
assert_contains "$(tr -d '\r' <"$OUT/status.head")" "Cache-Control: no-store" "status: cache control"

PEERS=$(http_get "$PUB/.refuge/v1/peers")
assert_eq '["sites"]' "$(jget "$PEERS" 'sorted(j.keys())')" "peers: top-level keys"
for url in "$PUB" "${NODE_URLS[m1]}" "${NODE_URLS[m2]}"; do
  assert_eq true "$(jget "$PEERS" "'$url' in j['sites']['$S']")" "publisher's peers of the site include $url"
done
M1_PEERS=$(http_get "${NODE_URLS[m1]}/.refuge/v1/peers?site=$S")
assert_eq "[\"$S\"]" "$(jget "$M1_PEERS" 'list(j["sites"].keys())')" "peers?site=: one site"
assert_eq "${NODE_URLS[m1]}" "$(jget "$M1_PEERS" "j['sites']['$S'][0]")" "m1's peers start with itself"
assert_eq true "$(jget "$M1_PEERS" "'$PUB' in j['sites']['$S']")" "m1's peers include the publisher"
assert_eq true "$(jget "$M1_PEERS" "all(isinstance(u, str) and u.startswith('http') for u in j['sites']['$S'])")" "peers are URLs"
UNKNOWN=$(http_get "${NODE_URLS[m1]}/.refuge/v1/peers?site=$(printf 'q%.0s' {1..52})")
assert_eq "{}" "$(jget "$UNKNOWN" 'j["sites"]')" "peers?site= of an unknown site"

# --- 6. the node API: bad requests and hints -------------------------------------------------
step "POST /.refuge/v1/notify with garbage: 400; wrong methods: 405"
for body in 'garbage' '{}' '[]' "{\"site\":\"$S\",\"version\":0}" "{\"site\":\"$S\",\"version\":\"2\"}" \
  '{"site":"nope","version":3}' "{\"site\":\"$S\",\"version\":3,\"from\":\"ftp://x\"}"; do
  assert_eq 400 "$(post_hint m1 "$body")" "notify with body '$body'"
  assert_eq true "$(jget "$(cat "$OUT/hint.body")" '"error" in j')" "400 body is a JSON error"
done
assert_eq 405 "$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "${NODE_URLS[m1]}/.refuge/v1/notify")" "GET notify"
assert_eq 405 "$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -X POST --data '{}' "${NODE_URLS[m1]}/.refuge/v1/status")" "POST status"
assert_eq 405 "$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -X POST --data '{}' "${NODE_URLS[m1]}/.refuge/v1/peers")" "POST peers"
assert_eq 405 "$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "${NODE_URLS[m1]}/.refuge/v1/announce")" "GET announce"
ANN=$(curl -sS --max-time 10 -o "$OUT/ann.body" -w '%{http_code}' -X POST --data 'not json' "$PUB/.refuge/v1/announce") || fail "POST announce"
assert_eq 400 "$ANN" "announce with garbage"
# Well-formed, but the signature is not the key's: 403, and nothing is recorded.
FORGED_ANN=$("$PYTHON" -c '
import json, os, sys, time
signed = {"_type": "announce", "site": sys.argv[1], "urls": ["http://127.0.0.1:9"],
          "key": os.urandom(32).hex(), "time": int(time.time())}
print(json.dumps({"signed": signed, "signature": os.urandom(64).hex()}))' "$S")
ANN=$(curl -sS --max-time 10 -o "$OUT/ann.body" -w '%{http_code}' -X POST --data-binary "$FORGED_ANN" "$PUB/.refuge/v1/announce") ||
  fail "POST announce"
assert_eq 403 "$ANN" "announce with a bad signature"
sleep 1
expect_ok rf "${NODE_HOMES[pub]}" mirrors pending "$S" --all --json
assert_not_contains "$RUN_OUT" "http://127.0.0.1:9\"" "announcements after a forged one"
assert_eq 2 "$(served_version m1)" "m1 after the bad requests"

step "a forged hint for a version that does not exist changes nothing"
# The hint names a logging HTTP server as its sender: a hint for a version the mirror already
# has must not make it fetch anything; one for a newer version costs one refresh (metadata
# only), and the mirror stays on what it verified.
LOGGER_DIR=$(new_dir logger)
start_http_server "$LOGGER_DIR"
LOGGER=$HTTP_URL
assert_eq 202 "$(post_hint m2 "{\"site\":\"$S\",\"version\":2,\"from\":\"$LOGGER\"}")" "hint for the version m2 has"
assert_eq 202 "$(post_hint m2 "{\"site\":\"$S\",\"version\":1,\"from\":\"$LOGGER\"}")" "hint for an older version"
sleep 2
assert_eq 0 "$(http_requests /)" "requests to the sender of hints for versions m2 already has"
T_HINT=$(now_ms)
assert_eq 202 "$(post_hint m2 "{\"site\":\"$S\",\"version\":99,\"from\":\"$LOGGER\"}")" "forged hint for version 99"
logger_asked() { (($(http_requests /) > 0)); }
wait_until 5000 logger_asked >/dev/null || fail "the forged hint's sender was never asked (the hint was not acted on)"
sleep 1
echo "    requests made to the forged hint's sender: $(grep -o '"GET [^ ]*' "$HTTP_LOG" | sort | uniq -c | tr '\n' ';')"
assert_eq 0 "$(grep -c '"GET /.refuge/v1/objects/' "$HTTP_LOG" || true)" "objects asked of the forged hint's sender"
assert_eq 2 "$(served_version m2)" "m2's version after a forged hint"
serves_file m2 index.html "$SRC/index.html" || fail "m2's content after a forged hint"
expect_ok rf "${NODE_HOMES[m2]}" mirror list --json
assert_eq 2 "$(jget "$RUN_OUT" 'j["sites"][0]["version"]')" "m2's mirror list version after the forged hint"
kill -0 "${NODE_PIDS[m2]}" || fail "m2 died on a forged hint"
echo "    (the forged hint cost m2 one refresh, $(($(now_ms) - T_HINT)) ms ago)"

# --- 7. refuge mirror list --json --------------------------------------------------------------
step "refuge mirror list --json"
expect_ok rf "${NODE_HOMES[m1]}" mirror list --json
LISTJ=$RUN_OUT
assert_eq 1 "$(jget "$LISTJ" 'len(j["sites"])')" "m1 follows one site"
assert_eq '["last_attempt", "last_error", "last_sync", "site_id", "sources", "stale_since", "version"]' \
  "$(jget "$LISTJ" 'sorted(j["sites"][0].keys())')" "mirror list: keys of a site"
assert_eq "$S" "$(jget "$LISTJ" 'j["sites"][0]["site_id"]')" "mirror list: site_id"
assert_eq 2 "$(jget "$LISTJ" 'j["sites"][0]["version"]')" "mirror list: version"
assert_eq null "$(jget "$LISTJ" 'j["sites"][0]["stale_since"]')" "mirror list: stale_since"
assert_eq "" "$(jget "$LISTJ" 'j["sites"][0]["last_error"]')" "mirror list: last_error"
assert_eq true "$(jget "$LISTJ" "abs(j['sites'][0]['last_sync'] - $(date +%s)) < 120")" "mirror list: last_sync is recent"
assert_eq true "$(jget "$LISTJ" 'j["sites"][0]["last_attempt"] >= j["sites"][0]["last_sync"]')" "mirror list: last_attempt >= last_sync"
assert_eq true "$(jget "$LISTJ" 'all(sorted(s.keys()) == ["kind", "last_error", "last_ok", "url"] for s in j["sites"][0]["sources"])')" \
  "mirror list: keys of a source"
assert_eq seed "$(jget "$LISTJ" "[s['kind'] for s in j['sites'][0]['sources'] if s['url'] == '$PUB'][0]")" "mirror list: the --from URL is a seed"
assert_eq true "$(jget "$LISTJ" "[s['last_ok'] for s in j['sites'][0]['sources'] if s['url'] == '$PUB'][0] > 0")" "mirror list: the seed worked"
assert_eq true "$(jget "$LISTJ" "any(s['url'] == '${NODE_URLS[m2]}' and s['kind'] in ('signed', 'peer') for s in j['sites'][0]['sources'])")" \
  "mirror list: m1 knows m2 (from the signed list)"
expect_ok rf "${NODE_HOMES[m1]}" mirror list
assert_contains "$RUN_OUT" "$S  version 2" "mirror list (text)"
expect_ok rf "${NODE_HOMES[pub]}" mirror list --json
assert_eq "[]" "$(jget "$RUN_OUT" 'j["sites"]')" "the publisher follows no site"

# --- 8. a restarted mirror keeps its version ---------------------------------------------------
step "a mirror restarted keeps its version"
stop_serve m2
expect_ok rf "${NODE_HOMES[m2]}" mirror list --json
assert_eq 2 "$(jget "$RUN_OUT" 'j["sites"][0]["version"]')" "m2's version while stopped"
start_serve m2
assert_eq 2 "$(served_version m2)" "m2's status right after the restart"
serves_file m2 index.html "$SRC/index.html" || fail "m2's index.html right after the restart"
sleep 2  # its startup sync has run by now
assert_eq 2 "$(served_version m2)" "m2's status after its startup sync"
expect_verify_clean "${NODE_HOMES[m2]}"

# --- 9. refuge mirror add of a wrong site ID ----------------------------------------------------
step "refuge mirror add of a wrong site ID"
WRONG=$(printf 'q%.0s' {1..52})
new_node bad
expect_exit 3 rf "${NODE_HOMES[bad]}" mirror add "$WRONG" --from "$PUB"
assert_one_line_error "$WRONG" "not found"
expect_ok rf "${NODE_HOMES[bad]}" mirror list --json
assert_eq "[]" "$(jget "$RUN_OUT" 'j["sites"]')" "nothing followed after a failed mirror add"
expect_exit 1 rf "${NODE_HOMES[bad]}" mirror add "not-a-site-id" --from "$PUB"
assert_one_line_error "site ID"
expect_exit 1 rf "${NODE_HOMES[bad]}" mirror add "$S" --from "ftp://127.0.0.1/"
assert_one_line_error "ftp://127.0.0.1/"
# A seed that serves the site's real root under another ID: verification (exit 4).
FORGED=$(new_dir forged)
mkdir -p "$FORGED/.refuge/v1/sites/$WRONG/metadata"
curl -sS --max-time 10 -o "$FORGED/.refuge/v1/sites/$WRONG/metadata/1.root.json" \
  "$PUB/.refuge/v1/sites/$S/metadata/1.root.json" || fail "GET 1.root.json"
start_http_server "$FORGED"
expect_exit 4 rf "${NODE_HOMES[bad]}" mirror add "$WRONG" --from "$HTTP_URL"
assert_one_line_error "does not hash to the site ID"
expect_ok rf "${NODE_HOMES[bad]}" mirror list --json
assert_eq "[]" "$(jget "$RUN_OUT" 'j["sites"]')" "nothing followed after a forged root"
# The publisher cannot mirror its own site.
expect_exit 1 rf "${NODE_HOMES[pub]}" mirror add "$S" --from "${NODE_URLS[m1]}"
assert_one_line_error "publishes site"

# --- 10. refuge mirror remove ----------------------------------------------------------------
step "refuge mirror remove (while the mirror serves)"
expect_ok rf "${NODE_HOMES[m3]}" mirror remove "$S"
assert_contains "$RUN_OUT" "no longer following site $S" "mirror remove output"
expect_ok rf "${NODE_HOMES[m3]}" mirror list --json
assert_eq "[]" "$(jget "$RUN_OUT" 'j["sites"]')" "m3's mirror list after remove"
assert_no_file "${NODE_HOMES[m3]}/mirror/$S" "m3's trusted metadata after remove"
m3_dropped() { [[ $(jget "$(http_get "${NODE_URLS[m3]}/.refuge/v1/status")" "'$S' in j['sites']") == false ]]; }
wait_until 5000 m3_dropped >/dev/null || fail "m3's status still lists the site 5 s after mirror remove"
m3_404() { [[ $(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "${NODE_URLS[m3]}/s/$S/index.html") == 404 ]]; }
wait_until 5000 m3_404 >/dev/null || fail "m3 still serves the site 5 s after mirror remove"
expect_exit 3 rf "${NODE_HOMES[m3]}" mirror remove "$S"
assert_one_line_error "$S"
expect_exit 1 rf "${NODE_HOMES[pub]}" mirror remove "$S"
assert_one_line_error "publishes site"
kill -0 "${NODE_PIDS[m3]}" || fail "m3 died after mirror remove"

# --- 11. a burst of hints from one address ------------------------------------------------------
step "25 hints in a burst from one address: some get 429"
# One client sending them back to back on one keep-alive connection (a few milliseconds in
# all), from 127.0.0.2 when it can bind it, so that the nodes' own hints (from 127.0.0.1)
# keep their tokens.
"$PYTHON" - "${NODE_URLS[m1]#http://}" "$S" >"$OUT/burst.out" 2>&1 <<'PY' || fail "burst client: $(cat "$OUT/burst.out")"
import http.client, json, sys
host, port = sys.argv[1].rsplit(":", 1)
body = json.dumps({"site": sys.argv[2], "version": 2})
try:
    conn = http.client.HTTPConnection(host, int(port), timeout=10, source_address=("127.0.0.2", 0))
    conn.connect()
except OSError:
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
codes, last429 = [], None
for _ in range(25):
    conn.request("POST", "/.refuge/v1/notify", body, {"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    codes.append(r.status)
    if r.status == 429:
        last429 = json.loads(data)
print(" ".join(map(str, codes)))
print(json.dumps(last429))
PY
read -r -a CODES <"$OUT/burst.out"
echo "    codes: ${CODES[*]}"
N202=$(printf '%s\n' "${CODES[@]}" | grep -c '^202$' || true)
N429=$(printf '%s\n' "${CODES[@]}" | grep -c '^429$' || true)
assert_eq 25 "$((N202 + N429))" "every burst hint answered 202 or 429"
assert_int_ge "$N429" 1 "429 answers in a burst of 25"
assert_eq 202 "${CODES[0]}" "the first hint of the burst"
assert_eq 429 "${CODES[24]}" "the last hint of the burst"
((N202 <= 21)) || fail "$N202 hints of a burst of 25 accepted (the burst is 20)"
assert_eq true "$(jget "$(sed -n 2p "$OUT/burst.out")" '"error" in j')" "429 body is a JSON error"
assert_eq 2 "$(served_version m1)" "m1 after the burst"

# --- 12. everything still verifies --------------------------------------------------------------
step "refuge verify on every node"
for n in pub m1 m2; do expect_verify_clean "${NODE_HOMES[$n]}"; done
for n in pub m1 m2 m3; do kill -0 "${NODE_PIDS[$n]}" || fail "$n is not running at the end"; done
for n in pub m1 m2 m3; do stop_serve "$n"; done
