#!/usr/bin/env bash
# refuge block (HTTP 451, RFC 7725) against a real `refuge serve` and curl: a blocked path
# answers 451 with the Link "blocked-by" header and the (escaped) reason on every URL that
# reaches it, the rest of the site stays 200, the blocked file's object is removed from the
# store and its object URL is 451 too; a whole-site block covers the metadata; a Host-mapped
# site is covered; `block remove` serves again after a reload; verify says "blocked"; the
# metrics count 451s; an edited audit log makes `refuge block list` exit 4 and name the line.
#
#   bash tests/integration/block.sh build/refuge
source "$(dirname "$0")/lib.sh" "$@"

if ! command -v curl >/dev/null 2>&1; then
  echo "SKIP [$TEST_NAME]: needs curl (bash scripts/setup.sh installs it)" >&2
  exit 77
fi

OUT=$(new_dir out)
H_HEADERS=$OUT/last.headers
H_BODY=$OUT/last.body

# fetch URL [CURL_ARGS...]: one request; sets H_STATUS, and the head and body files.
fetch() {
  local url=$1
  shift
  rm -f "$H_HEADERS" "$H_BODY"
  H_STATUS=$(curl -sS --max-time 15 -o "$H_BODY" -D "$H_HEADERS" -w '%{http_code}' "$@" "$url") ||
    fail "curl $* $url failed"
  [[ -f $H_BODY ]] || : >"$H_BODY"
}

# header NAME: the value of field NAME in the last response head.
header() {
  awk -v n="$1" 'BEGIN { n = tolower(n) } { sub(/\r$/, "") }
    NR > 1 { i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == n) {
      v = substr($0, i + 1); sub(/^[ \t]+/, "", v); print v; exit } }' "$H_HEADERS"
}

expect_status() {
  local want=$1 url=$2
  shift 2
  fetch "$url" "$@"
  [[ $H_STATUS == "$want" ]] || fail "$url: expected $want, got $H_STATUS; head: $(tr -d '\r' <"$H_HEADERS" | head -12)"
}

# expect_451 URL [CURL_ARGS...]: 451 with the Link header and the escaped reason.
expect_451() {
  expect_status 451 "$@"
  assert_eq "<$LEGAL_URL>; rel=\"blocked-by\"" "$(header Link)" "$1: Link"
  assert_contains "$(cat "$H_BODY")" "$REASON_ESCAPED" "$1: the reason, escaped, on the page"
  assert_not_contains "$(cat "$H_BODY")" "<script>" "$1: the reason is not raw HTML"
  assert_match '^text/html' "$(header Content-Type)" "$1: Content-Type"
}

status_of() { curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$1"; }
# wait_status WANT URL: polls (every 0.1 s, at most 5 s) until URL answers WANT.
wait_status() {
  local i
  for ((i = 0; i < 50; i++)); do
    [[ $(status_of "$2") == "$1" ]] && { sleep 0.25; return 0; }  # let every loop catch up
    sleep 0.1
  done
  fail "$2: still $(status_of "$2") after 5 s, expected $1"
}

metric() {
  curl -s --max-time 5 "http://$NODE_ADMIN/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}

# --- a site, served ------------------------------------------------------------------------
step "a published site and a running node"
expect_ok refuge site init --json
S=$(jget "$RUN_OUT" 'j["site_id"]')
SRC=$(new_dir src)
mkdir -p "$SRC/docs" "$SRC/press"
echo '<h1>home</h1>' >"$SRC/index.html"
echo 'the contested document' >"$SRC/docs/leak.txt"
echo 'an ordinary document' >"$SRC/docs/ordinary.txt"
echo 'press release one' >"$SRC/press/one.txt"
echo 'press release two' >"$SRC/press/two.txt"
expect_ok refuge publish --site "$S" "$SRC"
LEAK_SHA=$(sha256_of "$SRC/docs/leak.txt")
CONF=$TEST_TMP/node.toml
printf '[hosts]\n"news.test" = "%s"\n' "$S" >"$CONF"
start_node --config "$CONF"
expect_status 200 "$NODE_URL/s/$S/docs/leak.txt"
C451_BEFORE=$(metric 'refuge_http_requests_total{code="451"}')
assert_eq 0 "$C451_BEFORE" "451s before any block"

# --- block one path --------------------------------------------------------------------------
step "refuge block SITE/docs/leak.txt: 451 with Link and reason everywhere, the rest 200"
LEGAL_URL=https://legal.example.org/orders
REASON='Order 2024/17 <script>alert(1)</script> & co'
REASON_ESCAPED='Order 2024/17 &lt;script&gt;alert(1)&lt;/script&gt; &amp; co'
expect_ok refuge block "$S/docs/leak.txt" --reason "$REASON" --blocked-by "$LEGAL_URL" --json
assert_eq 1 "$(jget "$RUN_OUT" 'j["seq"]')" "first audit entry"
assert_eq 1 "$(jget "$RUN_OUT" 'j["objects_removed"]')" "the blocked file's object is removed"
assert_eq true "$(jget "$RUN_OUT" 'j["site_held"]')" "site held"
[[ ! -e $(object_path "$REFUGE_HOME" "$LEAK_SHA") ]] || fail "the blocked object is still stored"
wait_status 451 "$NODE_URL/s/$S/docs/leak.txt"
expect_451 "$NODE_URL/s/$S/docs/leak.txt"
expect_451 "$NODE_URL/.refuge/v1/sites/$S/targets/docs/leak.txt"
expect_451 "$NODE_URL/.refuge/v1/sites/$S/targets/docs/$LEAK_SHA.leak.txt"
expect_451 "$NODE_URL/.refuge/v1/objects/$LEAK_SHA"
expect_451 "$NODE_URL/docs/leak.txt" -H 'Host: news.test'
expect_status 451 "$NODE_URL/s/$S/docs/leak.txt" -I
assert_eq "<$LEGAL_URL>; rel=\"blocked-by\"" "$(header Link)" "HEAD: Link"
expect_status 200 "$NODE_URL/s/$S/docs/ordinary.txt"
assert_same_file "$SRC/docs/ordinary.txt" "$H_BODY" "an unblocked file of the same directory"
expect_status 200 "$NODE_URL/s/$S/"
expect_status 200 "$NODE_URL/.refuge/v1/sites/$S/metadata/timestamp.json"
expect_status 200 "$NODE_URL/.refuge/v1/objects/$(sha256_of "$SRC/press/one.txt")"
C451=$(metric 'refuge_http_requests_total{code="451"}')
assert_int_ge "$C451" 6 "refuge_http_requests_total{code=\"451\"}"

step "refuge verify says blocked, not missing; refuge gc still works"
expect_ok refuge verify --json
assert_eq true "$(jget "$RUN_OUT" 'j["ok"]')" "verify ok with a blocked object missing"
assert_contains "$(jget "$RUN_OUT" 'j["warnings"]')" "blocked on this node" "verify warning"
expect_ok refuge gc --json

# --- a directory, then the whole site ------------------------------------------------------
step "a directory block and a whole-site block"
expect_ok refuge block "$S/press" --reason "$REASON" --blocked-by "$LEGAL_URL" --json
assert_eq "press/" "$(jget "$RUN_OUT" 'j["path"]')" "a directory is blocked as DIR/"
wait_status 451 "$NODE_URL/s/$S/press/one.txt"
expect_451 "$NODE_URL/s/$S/press/two.txt"
expect_451 "$NODE_URL/s/$S/press"
expect_status 200 "$NODE_URL/s/$S/index.html"

expect_ok refuge block "$S" --reason "$REASON" --blocked-by "$LEGAL_URL"
wait_status 451 "$NODE_URL/s/$S/index.html"
expect_451 "$NODE_URL/s/$S/"
expect_451 "$NODE_URL/.refuge/v1/sites/$S/metadata/1.root.json"
expect_451 "$NODE_URL/.refuge/v1/sites/$S/metadata/timestamp.json"
expect_451 "$NODE_URL/" -H 'Host: news.test'

# --- a site the node does not hold -----------------------------------------------------------
step "a block may come before the site"
OTHER=$(printf 'q%.0s' $(seq 52))
expect_ok refuge block "$OTHER/x.html" --reason "$REASON" --blocked-by "$LEGAL_URL"
assert_contains "$RUN_ERR" "does not hold site" "a note that the site is not held"
wait_status 451 "$NODE_URL/s/$OTHER/x.html"

# --- remove ------------------------------------------------------------------------------------
step "refuge block remove: served again after a reload (the origin re-publishes the bytes)"
expect_exit 3 refuge block remove "$S/nothing.txt" --reason "no such block"
expect_ok refuge block remove "$S" --reason "whole-site order lifted"
# The metadata was never removed from the store: it is served again at once.
wait_status 200 "$NODE_URL/.refuge/v1/sites/$S/metadata/timestamp.json"
expect_451 "$NODE_URL/s/$S/docs/leak.txt"  # the path block stays
expect_ok refuge block remove "$S/press/" --reason "press order lifted"
expect_ok refuge block remove "$S/docs/leak.txt" --reason "order lifted on appeal" --json
assert_eq 1 "$(jget "$RUN_OUT" 'j["files_not_stored"]')" "the lifted file's bytes are not stored"
wait_status 500 "$NODE_URL/s/$S/docs/leak.txt"  # no longer 451, not stored yet
expect_ok refuge publish --site "$S" "$SRC"  # the origin stores the files' bytes again
wait_status 200 "$NODE_URL/s/$S/docs/leak.txt"
fetch "$NODE_URL/s/$S/docs/leak.txt"
assert_same_file "$SRC/docs/leak.txt" "$H_BODY" "the lifted file"
expect_status 200 "$NODE_URL/s/$S/press/one.txt"
expect_status 200 "$NODE_URL/s/$S/index.html"
expect_status 200 "$NODE_URL/.refuge/v1/objects/$LEAK_SHA"
expect_status 451 "$NODE_URL/s/$OTHER/x.html"  # the other block stays
expect_verify_clean

# --- the audit log -----------------------------------------------------------------------------
step "refuge block list: the chain is intact, then an edited byte is reported"
expect_ok refuge block list --json
assert_eq true "$(jget "$RUN_OUT" 'j["chain_ok"]')" "chain intact"
assert_eq 7 "$(jget "$RUN_OUT" 'j["entries"]')" "entries"
assert_eq 1 "$(jget "$RUN_OUT" 'len(j["blocks"])')" "active blocks"
HEAD=$(jget "$RUN_OUT" 'j["head_hash"]')
assert_eq "$(tail -n 1 "$REFUGE_HOME/audit/blocks.log" | tr -d '\n' | sha256sum | cut -d' ' -f1)" "$HEAD" \
  "the head is the SHA-256 of the last line"
expect_ok refuge block list
assert_contains "$RUN_OUT" "hash chain intact" "block list text"
assert_contains "$RUN_OUT" "$HEAD" "block list prints the head"

sed -i '2s/Order 2024\/17/Order 2024\/18/' "$REFUGE_HOME/audit/blocks.log"
expect_exit 4 refuge block list
assert_contains "$RUN_ERR" "line 3" "the break is located"
assert_contains "$RUN_OUT" "BROKEN" "block list text says broken"
expect_exit 4 refuge block list --json
assert_eq false "$(jget "$RUN_OUT" 'j["chain_ok"]')" "chain_ok false"
expect_exit 4 refuge verify
# The node keeps serving, and keeps blocking (fail safe).
sleep 1.5
expect_status 451 "$NODE_URL/s/$OTHER/x.html"
expect_status 200 "$NODE_URL/s/$S/index.html"
assert_contains "$(cat "$NODE_ERR")" "not intact" "the node warns about the broken chain"
stop_node
