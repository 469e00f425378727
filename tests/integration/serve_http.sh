#!/usr/bin/env bash
# refuge serve with real clients: curl (redirects, 404s, percent-encoded names, HEAD, Range,
# ETag and conditional requests, cache policy, keep-alive), pipelining over a raw socket,
# wget --mirror, refuge get and refuge tuf-client against the node, a new publish picked up
# without restart, SIGHUP with a config file ([hosts], default_site) while a keep-alive
# connection stays open, metrics, no access log by default (and one when configured), and
# SIGTERM while a large download is in flight.
#
#   bash tests/integration/serve_http.sh build/refuge
source "$(dirname "$0")/lib.sh" "$@"

for tool in curl wget diff; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIP [$TEST_NAME]: needs $tool (bash scripts/setup.sh installs it)" >&2
    exit 77
  fi
done

OUT=$(new_dir out)

# --- helpers ------------------------------------------------------------------------------

# fetch URL [CURL_ARGS...]: one request with curl; sets H_STATUS, H_HEADERS (file of the
# response head) and H_BODY (file of the body). Never follows redirects.
H_HEADERS=$OUT/last.headers
H_BODY=$OUT/last.body
fetch() {
  local url=$1
  shift
  rm -f "$H_HEADERS" "$H_BODY"
  H_STATUS=$(curl -sS --max-time 15 -o "$H_BODY" -D "$H_HEADERS" -w '%{http_code}' "$@" "$url") ||
    fail "curl $* $url failed"
  [[ -f $H_BODY ]] || : >"$H_BODY"
}

# header NAME: the value of the field NAME in the last response's head (empty if absent).
header() {
  awk -v n="$1" 'BEGIN { n = tolower(n) }
    { sub(/\r$/, "") }
    NR > 1 { i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == n) {
      v = substr($0, i + 1); sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v); print v; exit } }' "$H_HEADERS"
}

# has_header NAME: is the field NAME in the last response's head?
has_header() {
  awk -v n="$1" 'BEGIN { n = tolower(n); found = 1 }
    NR > 1 { i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == n) { found = 0; exit } }
    END { exit found }' "$H_HEADERS"
}

# expect_fetch STATUS URL [CURL_ARGS...]: fetch, and the status must be STATUS.
expect_fetch() {
  local want=$1
  shift
  fetch "$@"
  if [[ $H_STATUS != "$want" ]]; then
    fail "curl ${*:2} $1: expected status $want, got $H_STATUS; head: $(tr -d '\r' <"$H_HEADERS" | head -20)"
  fi
}

# assert_header NAME VALUE WHAT
assert_header() { assert_eq "$2" "$(header "$1")" "$3: $1"; }

# assert_body_is FILE WHAT: the last body is byte-for-byte FILE.
assert_body_is() { assert_same_file "$1" "$H_BODY" "$2"; }

# assert_empty_body WHAT: the last response had no body bytes.
assert_empty_body() {
  local n
  n=$(stat -c %s "$H_BODY")
  assert_eq 0 "$n" "$1: body length"
}

# url_path PATH: PATH percent-encoded segment by segment ("/" kept).
url_path() { "$PYTHON" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe="/~"))' "$1"; }

# wait_until TIMEOUT_MS CMD...: runs CMD every 0.1 s until it succeeds; fails after TIMEOUT_MS.
# Prints the milliseconds it took.
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

# settle: after a poll saw a new state (publication, SIGHUP) on one connection. Each event
# loop picks up the node's new state on its own 100 ms sweep, so for up to 100 ms another
# connection (on another loop) may still see the previous one.
settle() { sleep 0.25; }

# A raw HTTP/1.1 client, for what curl cannot do: several requests in one write, a HEAD
# followed by a GET on one connection, watching the server close, one socket across a SIGHUP.
cat >"$TEST_TMP/rawhttp.py" <<'PY'
import hashlib, os, socket, sys, time

def connect(addr, timeout=10):
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=timeout)
    return s, s.makefile("rb")

def request(target, host="localhost", method="GET", extra=""):
    return (f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n").encode()

def read_response(f, head_only=False):
    line = f.readline()
    if not line:
        raise EOFError("the connection was closed before a response")
    parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError(f"not a status line: {line!r}")
    status = int(parts[1])
    headers = {}
    while True:
        l = f.readline()
        if l in (b"\r\n", b"\n"):
            break
        if not l:
            raise EOFError("the connection was closed in a response head")
        k, v = l.decode("latin-1").split(":", 1)
        headers[k.strip().lower()] = v.strip()
    body = b""
    if not head_only and status not in (204, 304) and status >= 200:
        n = int(headers.get("content-length", "0"))
        body = f.read(n)
        if len(body) != n:
            raise EOFError(f"body cut short: {len(body)} of {n} bytes")
    return status, headers, body

def closed_by_server(s, f, timeout=5):
    """True when the server closes the connection (EOF) within timeout, sending nothing more."""
    s.settimeout(timeout)
    try:
        rest = f.read()
    except (socket.timeout, TimeoutError):
        return False
    return rest == b""

def sha(b):
    return hashlib.sha256(b).hexdigest()
PY
# raw_py ARGS... <<'PY' ... PY: runs the Python program on stdin with rawhttp importable.
raw_py() { PYTHONPATH=$TEST_TMP "$PYTHON" - "$@"; }
# py_check WHAT ARGS... <<'PY' ... PY: the same, and fails the test (showing the Python error)
# unless the program exits 0. (Not expect_ok: `run` gives the command /dev/null as stdin.)
py_check() {
  local what=$1 rc=0
  shift
  raw_py "$@" >"$OUT/py.out" 2>&1 || rc=$?
  [[ $rc == 0 ]] || fail "$what: exit $rc: $(tail -15 "$OUT/py.out")"
}

# --- 1. the site ----------------------------------------------------------------------------
step "a site with nested directories, odd names, an empty file, a 3 MiB file; published; node started"
expect_ok refuge site init --json
S=$(jget "$RUN_OUT" 'j["site_id"]')
SRC=$(new_dir src)
ODD_DIR="dir with space"
ODD_NAME="héllo wörld €.txt"
PCT_NAME="100% sure+sign.txt"
mkdir -p "$SRC/sub/deeper" "$SRC/$ODD_DIR"
head -c 3145728 /dev/urandom >"$SRC/big.bin"
head -c 16777216 /dev/urandom >"$SRC/huge.bin"  # for the SIGTERM drain
: >"$SRC/empty.txt"
printf 'small text file, served from the cache\n' >"$SRC/small.txt"
printf 'body { color: #333; }\n' >"$SRC/style.css"
printf '{"a": [1, 2, 3]}\n' >"$SRC/data.json"
head -c 1000 /dev/urandom >"$SRC/sub/random-1000.bin"
printf 'deeper page\n' >"$SRC/sub/deeper/page.html"
printf 'UTF-8 and spaces: \xc3\xa9\n' >"$SRC/$ODD_DIR/$ODD_NAME"
printf 'percent and plus\n' >"$SRC/$ODD_DIR/$PCT_NAME"
# Index pages link to every file, so that wget --mirror finds them all.
{
  echo '<!doctype html><html><head><meta charset="utf-8"><title>serve_http root</title>'
  echo '<link rel="stylesheet" href="style.css"></head><body><h1>root index</h1><ul>'
  for f in big.bin huge.bin empty.txt small.txt style.css data.json "sub/" "$ODD_DIR/$ODD_NAME" "$ODD_DIR/$PCT_NAME"; do
    echo "<li><a href=\"$(url_path "$f")\">$f</a></li>"
  done
  echo '</ul></body></html>'
} >"$SRC/index.html"
{
  echo '<!doctype html><html><head><meta charset="utf-8"><title>sub</title></head><body><h1>sub index</h1>'
  echo '<a href="random-1000.bin">random</a> <a href="deeper/page.html">deeper</a> <a href="../">up</a>'
  echo '</body></html>'
} >"$SRC/sub/index.html"
FILE_COUNT=$(find "$SRC" -type f | wc -l)
expect_ok refuge publish --site "$S" "$SRC" --json
assert_eq "$FILE_COUNT" "$(jget "$RUN_OUT" 'j["files"]')" "publish: files"
# A second site, served later as [server] default_site.
expect_ok refuge site init --json
S2=$(jget "$RUN_OUT" 'j["site_id"]')
SRC2=$(new_dir src2)
echo '<html><body>the default site</body></html>' >"$SRC2/index.html"
expect_ok refuge publish --site "$S2" "$SRC2"

start_node
assert_match '^127\.0\.0\.1:[0-9]+$' "$NODE_ADDR" "node HTTP address"
assert_match '^127\.0\.0\.1:[0-9]+$' "$NODE_ADMIN" "node admin address"
assert_eq "$NODE_ADDR" "$(cat "$REFUGE_HOME/serve.addr")" "serve.addr"
BASE=$NODE_URL/s/$S

# --- 2. routing -----------------------------------------------------------------------------
step "routing: index pages, directory redirects, 404s, percent-encoded names"
expect_fetch 200 "$BASE/"
assert_body_is "$SRC/index.html" "GET /s/S/"
assert_header Content-Type "text/html; charset=utf-8" "GET /s/S/"
expect_fetch 200 "$BASE/index.html"
assert_body_is "$SRC/index.html" "GET /s/S/index.html"
expect_fetch 200 "$BASE/sub/"
assert_body_is "$SRC/sub/index.html" "GET /s/S/sub/"

expect_fetch 301 "$BASE/sub"
assert_header Location "/s/$S/sub/" "GET /s/S/sub"
expect_fetch 301 "$BASE/sub/deeper"
assert_header Location "/s/$S/sub/deeper/" "GET /s/S/sub/deeper"
expect_fetch 301 "$BASE"
assert_header Location "/s/$S/" "GET /s/S"
# A directory with no index.html: its "/" form is 404, but it is still a directory.
expect_fetch 301 "$BASE/$(url_path "$ODD_DIR")"
assert_header Location "/s/$S/$(url_path "$ODD_DIR")/" "GET of a directory with spaces"
# The redirect is followed to the right page.
expect_fetch 200 "$BASE/sub" -L
assert_body_is "$SRC/sub/index.html" "GET /s/S/sub, redirect followed"

expect_fetch 404 "$BASE/no-such-file.html"
assert_header Content-Type "text/html; charset=utf-8" "404 page"
assert_contains "$(cat "$H_BODY")" "<h1>404 Not Found</h1>" "404 page body"
assert_eq "$(stat -c %s "$H_BODY")" "$(header Content-Length)" "404 page: Content-Length"
expect_fetch 404 "$BASE/sub/deeper/"   # a directory without index.html
expect_fetch 404 "$BASE/small.txt/"    # a file is not a directory
expect_fetch 404 "$NODE_URL/s/$(printf 'a%.0s' {1..52})/"
assert_contains "$(cat "$H_BODY")" "<h1>404 Not Found</h1>" "404 page body (unknown site)"
expect_fetch 404 "$NODE_URL/s/${S:0:51}/"
expect_fetch 404 "$NODE_URL/s/${S}x/"
expect_fetch 404 "$NODE_URL/nothing/here"  # no Host mapping, no default site

ODD_URL="$BASE/dir%20with%20space/h%C3%A9llo%20w%C3%B6rld%20%E2%82%AC.txt"
expect_fetch 200 "$ODD_URL" --path-as-is
assert_body_is "$SRC/$ODD_DIR/$ODD_NAME" "percent-encoded UTF-8 name"
expect_fetch 200 "$BASE/dir%20with%20space/100%25%20sure%2Bsign.txt" --path-as-is
assert_body_is "$SRC/$ODD_DIR/$PCT_NAME" "name with %25 and %2B"
expect_fetch 200 "$BASE/dir%20with%20space/100%25%20sure+sign.txt" --path-as-is
assert_body_is "$SRC/$ODD_DIR/$PCT_NAME" "name with %25 and a literal +"
# Lowercase hex digits decode the same.
expect_fetch 200 "$BASE/dir%20with%20space/h%c3%a9llo%20w%c3%b6rld%20%e2%82%ac.txt" --path-as-is
assert_body_is "$SRC/$ODD_DIR/$ODD_NAME" "lowercase percent-encoding"
# A query string is not part of the path.
expect_fetch 200 "$BASE/small.txt?x=1&y=%20"
assert_body_is "$SRC/small.txt" "GET with a query string"

# --- 3. every file -------------------------------------------------------------------------
step "every file byte-for-byte"
n=0
while IFS= read -r -d '' f; do
  rel=${f#"$SRC"/}
  expect_fetch 200 "$BASE/$(url_path "$rel")"
  assert_body_is "$f" "GET of '$rel'"
  assert_header Content-Length "$(stat -c %s "$f")" "GET of '$rel'"
  n=$((n + 1))
done < <(find "$SRC" -type f -print0)
assert_eq "$FILE_COUNT" "$n" "files fetched"
expect_fetch 200 "$BASE/empty.txt"
assert_header Content-Length 0 "GET of the empty file"
assert_empty_body "GET of the empty file"

# A second node on the port of a running one is refused, instead of sharing it through
# SO_REUSEPORT and silently taking half of its connections.
step "a second node on the same port is refused"
expect_exit 5 timeout 10 "$REFUGE" serve --listen "$NODE_ADDR" --threads 2 --no-admin
assert_contains "$RUN_ERR" "Address already in use" "second node's error"

# --- 4. HEAD -------------------------------------------------------------------------------
step "HEAD: the same head as GET, no body"
for rel in small.txt big.bin empty.txt index.html; do
  expect_fetch 200 "$BASE/$rel"
  GET_HEAD=$(tr -d '\r' <"$H_HEADERS" | grep -v '^Date:')
  expect_fetch 200 "$BASE/$rel" -I
  HEAD_HEAD=$(tr -d '\r' <"$H_HEADERS" | grep -v '^Date:')
  assert_eq "$GET_HEAD" "$HEAD_HEAD" "HEAD /s/S/$rel: head (Date aside) equals GET's"
  assert_header Content-Length "$(stat -c %s "$SRC/$rel")" "HEAD /s/S/$rel"
  assert_header ETag "\"$(sha256_of "$SRC/$rel")\"" "HEAD /s/S/$rel"
done
# No body bytes: a GET right after a HEAD on the same connection must parse cleanly.
py_check "HEAD then GET on one connection" "$NODE_ADDR" "/s/$S/big.bin" "/s/$S/small.txt" "$(sha256_of "$SRC/small.txt")" <<'PY'
import sys
from rawhttp import *
addr, head_target, get_target, want = sys.argv[1:]
s, f = connect(addr)
s.sendall(request(head_target, method="HEAD") + request(get_target))
st, h, _ = read_response(f, head_only=True)
assert st == 200 and h["content-length"] == "3145728", (st, h)
st, h, body = read_response(f)
assert st == 200 and sha(body) == want, f"response after HEAD: {st} {h} {body[:80]!r}"
# A HEAD of a 404 has no body either.
s.sendall(request(head_target + "-missing", method="HEAD") + request(get_target))
st, h, _ = read_response(f, head_only=True)
assert st == 404, st
st, h, body = read_response(f)
assert st == 200 and sha(body) == want, f"response after HEAD 404: {st} {h} {body[:80]!r}"
PY

# --- 5. Range ------------------------------------------------------------------------------
step "Range: 206 for one range, 416, several ranges 200, If-Range"
for rel in sub/random-1000.bin big.bin; do
  F=$SRC/$rel
  N=$(stat -c %s "$F")
  ETAG="\"$(sha256_of "$F")\""
  head -c 10 "$F" >"$OUT/r.want"
  expect_fetch 206 "$BASE/$rel" -H 'Range: bytes=0-9'
  assert_header Content-Range "bytes 0-9/$N" "$rel bytes=0-9"
  assert_header Content-Length 10 "$rel bytes=0-9"
  assert_header ETag "$ETAG" "$rel bytes=0-9"
  assert_body_is "$OUT/r.want" "$rel bytes=0-9"

  tail -c +11 "$F" >"$OUT/r.want"
  expect_fetch 206 "$BASE/$rel" -H 'Range: bytes=10-'
  assert_header Content-Range "bytes 10-$((N - 1))/$N" "$rel bytes=10-"
  assert_header Content-Length $((N - 10)) "$rel bytes=10-"
  assert_body_is "$OUT/r.want" "$rel bytes=10-"

  tail -c 5 "$F" >"$OUT/r.want"
  expect_fetch 206 "$BASE/$rel" -H 'Range: bytes=-5'
  assert_header Content-Range "bytes $((N - 5))-$((N - 1))/$N" "$rel bytes=-5"
  assert_body_is "$OUT/r.want" "$rel bytes=-5"

  # A range past the end is clipped to the end.
  tail -c +$((N - 2)) "$F" >"$OUT/r.want"
  expect_fetch 206 "$BASE/$rel" -H "Range: bytes=$((N - 3))-$((N + 100))"
  assert_header Content-Range "bytes $((N - 3))-$((N - 1))/$N" "$rel range past the end"
  assert_body_is "$OUT/r.want" "$rel range past the end"

  expect_fetch 416 "$BASE/$rel" -H 'Range: bytes=999999999-'
  assert_header Content-Range "bytes */$N" "$rel bytes=999999999-"
  assert_empty_body "$rel 416"

  expect_fetch 200 "$BASE/$rel" -H 'Range: bytes=0-1,5-6'
  assert_header Content-Length "$N" "$rel two ranges"
  assert_body_is "$F" "$rel two ranges: the whole file"
  has_header Content-Range && fail "$rel two ranges: Content-Range on a 200"

  head -c 10 "$F" >"$OUT/r.want"
  expect_fetch 206 "$BASE/$rel" -H 'Range: bytes=0-9' -H "If-Range: $ETAG"
  assert_body_is "$OUT/r.want" "$rel If-Range with the ETag"
  expect_fetch 200 "$BASE/$rel" -H 'Range: bytes=0-9' -H "If-Range: \"$(printf '0%.0s' {1..64})\""
  assert_body_is "$F" "$rel If-Range with another ETag: the whole file"
  # A weak tag never validates a range (RFC 9110 13.1.5); nor, on this node, a date.
  expect_fetch 200 "$BASE/$rel" -H 'Range: bytes=0-9' -H "If-Range: W/$ETAG"
  assert_body_is "$F" "$rel If-Range with the weak ETag: the whole file"
  expect_fetch 200 "$BASE/$rel" -H 'Range: bytes=0-9' -H "If-Range: $(header Last-Modified)"
  assert_body_is "$F" "$rel If-Range with a date: the whole file"
done
# Range on the empty file: nothing can be satisfied.
expect_fetch 416 "$BASE/empty.txt" -H 'Range: bytes=0-0'
assert_header Content-Range "bytes */0" "empty file bytes=0-0"
# A Range with another unit is ignored.
expect_fetch 200 "$BASE/small.txt" -H 'Range: items=0-1'
assert_body_is "$SRC/small.txt" "Range: items=0-1"

# --- 6. ETag and conditional requests --------------------------------------------------------
step "ETag is the SHA-256; If-None-Match and If-Modified-Since give 304"
for rel in small.txt big.bin; do
  SUM=$(sha256_of "$SRC/$rel")
  expect_fetch 200 "$BASE/$rel"
  assert_header ETag "\"$SUM\"" "$rel"
  LM=$(header Last-Modified)
  assert_match '^[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT$' "$LM" "$rel Last-Modified"

  expect_fetch 304 "$BASE/$rel" -H "If-None-Match: \"$SUM\""
  assert_empty_body "$rel If-None-Match"
  assert_header ETag "\"$SUM\"" "$rel 304"
  assert_header Cache-Control "public, max-age=60" "$rel 304"
  has_header Content-Length && assert_eq 0 "$(header Content-Length)" "$rel 304 Content-Length"
  expect_fetch 304 "$BASE/$rel" -H "If-None-Match: W/\"$SUM\""
  assert_empty_body "$rel If-None-Match W/"
  expect_fetch 304 "$BASE/$rel" -H "If-None-Match: \"abc\", \"$SUM\""
  expect_fetch 304 "$BASE/$rel" -H "If-None-Match: *"
  expect_fetch 200 "$BASE/$rel" -H "If-None-Match: \"$(printf 'f%.0s' {1..64})\""
  assert_body_is "$SRC/$rel" "$rel If-None-Match of another ETag"

  expect_fetch 304 "$BASE/$rel" -H "If-Modified-Since: $LM"
  assert_empty_body "$rel If-Modified-Since"
  expect_fetch 200 "$BASE/$rel" -H "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT"
  assert_body_is "$SRC/$rel" "$rel If-Modified-Since an old date"
  # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
  expect_fetch 200 "$BASE/$rel" -H "If-None-Match: \"abc\"" -H "If-Modified-Since: $LM"
done
# 304 on a HEAD too.
expect_fetch 304 "$BASE/small.txt" -I -H "If-None-Match: \"$(sha256_of "$SRC/small.txt")\""

# --- 7. cache policy and content types --------------------------------------------------------
step "Cache-Control, objects and metadata URLs, Content-Type"
expect_fetch 200 "$BASE/small.txt"
assert_header Cache-Control "public, max-age=60" "path URL"
assert_header Content-Type "text/plain; charset=utf-8" "small.txt"
expect_fetch 200 "$BASE/style.css"
assert_header Content-Type "text/css; charset=utf-8" "style.css"
expect_fetch 200 "$BASE/sub/deeper/page.html"
assert_header Content-Type "text/html; charset=utf-8" "page.html"
expect_fetch 200 "$BASE/data.json"
assert_match '^application/json' "$(header Content-Type)" "data.json Content-Type"
expect_fetch 200 "$BASE/sub/" # an index page
assert_header Content-Type "text/html; charset=utf-8" "sub/"
assert_eq nosniff "$(header X-Content-Type-Options)" "X-Content-Type-Options"
assert_eq bytes "$(header Accept-Ranges)" "Accept-Ranges"
expect_fetch 301 "$BASE/sub"
assert_header Cache-Control "no-store" "301"
expect_fetch 404 "$BASE/none"
assert_header Cache-Control "no-store" "404"

for rel in small.txt big.bin empty.txt; do
  SUM=$(sha256_of "$SRC/$rel")
  expect_fetch 200 "$NODE_URL/.refuge/v1/objects/$SUM"
  assert_header Cache-Control "public, max-age=31536000, immutable" "object $rel"
  assert_header ETag "\"$SUM\"" "object $rel"
  assert_body_is "$SRC/$rel" "object $rel"
done
expect_fetch 404 "$NODE_URL/.refuge/v1/objects/$(printf '0%.0s' {1..64})"
expect_fetch 404 "$NODE_URL/.refuge/v1/objects/not-a-sha"

META=$NODE_URL/.refuge/v1/sites/$S/metadata
expect_fetch 200 "$META/1.root.json"
assert_header Cache-Control "public, max-age=31536000, immutable" "1.root.json"
assert_match '^application/json' "$(header Content-Type)" "1.root.json Content-Type"
ROOT_SHA=$(db_query "$REFUGE_HOME" "select sha256 from metadata where site_id='$S' and role='root' and version=1")
assert_body_is "$(object_path "$REFUGE_HOME" "$ROOT_SHA")" "1.root.json"
assert_header ETag "\"$ROOT_SHA\"" "1.root.json"
cp "$H_BODY" "$OUT/1.root.json"
expect_fetch 200 "$META/timestamp.json"
assert_header Cache-Control "public, max-age=60" "timestamp.json"
expect_fetch 200 "$META/1.snapshot.json"
assert_header Cache-Control "public, max-age=31536000, immutable" "1.snapshot.json"
expect_fetch 404 "$META/99.root.json"
TGT=$NODE_URL/.refuge/v1/sites/$S/targets
expect_fetch 200 "$TGT/small.txt"
assert_header Cache-Control "public, max-age=60" "targets/small.txt"
assert_body_is "$SRC/small.txt" "targets/small.txt"
expect_fetch 200 "$TGT/sub/$(sha256_of "$SRC/sub/random-1000.bin").random-1000.bin"
assert_header Cache-Control "public, max-age=31536000, immutable" "consistent-snapshot target"
assert_body_is "$SRC/sub/random-1000.bin" "consistent-snapshot target"

# --- 8. keep-alive ---------------------------------------------------------------------------
step "keep-alive: one connection for several URLs; HTTP/1.0 and Connection: close are closed"
CONNECTS=$(curl -sS --max-time 15 -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
  -w '%{num_connects} ' "$BASE/small.txt" "$BASE/big.bin" "$BASE/style.css" "$BASE/empty.txt")
assert_eq "1 0 0 0 " "$CONNECTS" "curl's new connections for 4 URLs"
REUSED=$(curl -sS -v --max-time 15 -o /dev/null -o /dev/null -o /dev/null \
  "$BASE/" "$BASE/sub/" "$BASE/data.json" 2>&1 | grep -c 'Re-using existing connection' || true)
assert_eq 2 "$REUSED" "curl -v: 'Re-using existing connection' for 3 URLs"
py_check "HTTP/1.0, Connection: close, keep-alive" "$NODE_ADDR" "/s/$S/small.txt" "$(sha256_of "$SRC/small.txt")" <<'PY'
import sys
from rawhttp import *
addr, target, want = sys.argv[1:]
# HTTP/1.0 without keep-alive: one response, then the server closes.
s, f = connect(addr)
s.sendall(f"GET {target} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
st, h, body = read_response(f)
assert st == 200 and sha(body) == want, (st, h)
assert h.get("connection", "").lower() == "close", f"HTTP/1.0 response: Connection: {h.get('connection')}"
assert closed_by_server(s, f), "HTTP/1.0: the server did not close the connection within 5 s"
# HTTP/1.1 with Connection: close: the same.
s, f = connect(addr)
s.sendall(request(target, extra="Connection: close\r\n"))
st, h, body = read_response(f)
assert st == 200 and sha(body) == want, (st, h)
assert h.get("connection", "").lower() == "close", h
assert closed_by_server(s, f), "Connection: close: the server did not close the connection within 5 s"
# HTTP/1.1 without it: the connection stays open for a second request.
s, f = connect(addr)
for _ in range(3):
    s.sendall(request(target))
    st, h, body = read_response(f)
    assert st == 200 and sha(body) == want and "connection" not in h, (st, h)
PY

# --- 9. pipelining ---------------------------------------------------------------------------
step "pipelining: several requests in one write, answered in order"
py_check "pipelining" "$NODE_ADDR" \
  "/s/$S/small.txt" "$(sha256_of "$SRC/small.txt")" \
  "/s/$S/big.bin" "$(sha256_of "$SRC/big.bin")" \
  "/s/$S/sub/" "$(sha256_of "$SRC/sub/index.html")" \
  "/s/$S/empty.txt" "$(sha256_of "$SRC/empty.txt")" <<'PY'
import sys
from rawhttp import *
addr = sys.argv[1]
pairs = list(zip(sys.argv[2::2], sys.argv[3::2]))
s, f = connect(addr)
# Three requests in one write.
s.sendall(b"".join(request(t) for t, _ in pairs[:3]))
for t, want in pairs[:3]:
    st, h, body = read_response(f)
    assert st == 200, f"{t}: status {st}"
    assert sha(body) == want, f"{t}: wrong body ({len(body)} bytes), ETag {h.get('etag')}"
    assert h["etag"] == f'"{want}"', (t, h)
# Then four more in one write, the last closing: a 404, a HEAD, a range and the empty file.
t_small, w_small = pairs[0]
s.sendall(request(t_small + ".missing") + request(pairs[1][0], method="HEAD")
          + request(t_small, extra="Range: bytes=0-4\r\n")
          + request(pairs[3][0], extra="Connection: close\r\n"))
st, h, body = read_response(f)
assert st == 404 and b"404 Not Found" in body, (st, h)
st, h, body = read_response(f, head_only=True)
assert st == 200 and h["content-length"] == "3145728", (st, h)
st, h, body = read_response(f)
assert st == 206 and h["content-range"].startswith("bytes 0-4/") and len(body) == 5, (st, h, body)
st, h, body = read_response(f)
assert st == 200 and body == b"" and h["content-length"] == "0", (st, h)
assert closed_by_server(s, f), "no close after the pipelined Connection: close"
PY

# --- 10. wget --mirror -----------------------------------------------------------------------
step "wget --mirror of the whole site equals the published directory"
MIRROR=$(new_dir mirror)
run timeout 60 wget --mirror --no-parent --no-host-directories --cut-dirs=2 -e robots=off \
  --restrict-file-names=nocontrol --tries=1 --timeout=15 -P "$MIRROR" "$BASE/"
[[ $RUN_RC == 0 ]] || fail "wget --mirror exited $RUN_RC: $(tail -20 <<<"$RUN_ERR")"
if ! DIFF=$(diff -r "$SRC" "$MIRROR" 2>&1); then
  fail "wget mirror differs from the published directory: $DIFF"
fi
assert_eq "$FILE_COUNT" "$(find "$MIRROR" -type f | wc -l)" "files in the mirror"

# --- 11. refuge get and tuf-client against the node ------------------------------------------
step "refuge get and refuge tuf-client from the node URL"
READER=$TEST_TMP/reader
for rel in "" small.txt big.bin empty.txt sub/deeper/page.html "$ODD_DIR/$ODD_NAME" "$ODD_DIR/$PCT_NAME"; do
  rm -f "$OUT/get.out"
  expect_ok refuge --home "$READER" get "$S/$rel" --from "$NODE_URL" -o "$OUT/get.out"
  assert_same_file "$SRC/${rel:-index.html}" "$OUT/get.out" "refuge get $S/$rel --from the node"
done
expect_ok refuge --home "$READER" get "$S/big.bin" --from "$NODE_URL" --json -o "$OUT/get.out"
assert_eq "$(sha256_of "$SRC/big.bin")" "$(jget "$RUN_OUT" 'j["sha256"]')" "refuge get --json: sha256"
assert_eq 1 "$(jget "$RUN_OUT" 'j["version"]')" "refuge get --json: version"
expect_exit 3 refuge --home "$READER" get "$S/no-such-file" --from "$NODE_URL" -o "$OUT/none"
assert_no_file "$OUT/none" "refuge get of a missing file"
[[ ! -e $REFUGE_HOME/client ]] || fail "the reader wrote into the node's home"

TD=$TEST_TMP/tuf-meta
TT=$TEST_TMP/tuf-targets
TUF_NAMES=(index.html big.bin empty.txt sub/index.html "$ODD_DIR/$ODD_NAME" "$ODD_DIR/$PCT_NAME")
tuf() { "$REFUGE" tuf-client --metadata-dir "$TD" --metadata-url "$META/" "$@"; }
tuf_download() {
  local args=() n
  for n in "${TUF_NAMES[@]}"; do args+=(--target-name "$n"); done
  tuf --target-base-url "$TGT/" --target-dir "$TT" "${args[@]}" download
}
expect_ok refuge tuf-client --metadata-dir "$TD" init "$OUT/1.root.json"
expect_ok tuf refresh
for f in root.json timestamp.json snapshot.json targets.json; do
  [[ -f $TD/$f ]] || fail "tuf-client refresh did not write $TD/$f (has: $(ls "$TD"))"
done
expect_ok tuf_download
for n in "${TUF_NAMES[@]}"; do
  assert_same_file "$SRC/$n" "$TT/$(quote_segment "$n")" "tuf-client download of '$n'"
done
# Without the trailing slashes too.
rm -rf "$TT"
expect_ok "$REFUGE" tuf-client --metadata-dir "$TD" --metadata-url "$META" --target-base-url "$TGT" \
  --target-dir "$TT" --target-name small.txt download
assert_same_file "$SRC/small.txt" "$TT/small.txt" "tuf-client download, URLs without a trailing slash"

# --- 12. a new publication on the running node -------------------------------------------------
step "a new publish is served without restart, with a new ETag"
OLD_SMALL_ETAG="\"$(sha256_of "$SRC/small.txt")\""
expect_fetch 200 "$BASE/"
OLD_LM=$(header Last-Modified)
sleep 1  # a new second for Last-Modified
printf 'small text file, version 2\n' >"$SRC/small.txt"
printf 'a file added in version 2\n' >"$SRC/new.txt"
expect_ok refuge publish --site "$S" "$SRC" --json
assert_eq 2 "$(jget "$RUN_OUT" 'j["version"]')" "second publish: version"
served_v2() { curl -sS --max-time 5 -o "$OUT/poll" "$BASE/small.txt" && cmp -s "$SRC/small.txt" "$OUT/poll"; }
MS=$(wait_until 2500 served_v2) || fail "the new version of small.txt was not served within 2.5 s (got: $(head -c 200 "$OUT/poll"))"
echo "    new version served after ${MS} ms"
settle
expect_fetch 200 "$BASE/small.txt"
assert_body_is "$SRC/small.txt" "small.txt after the new publish"
assert_header ETag "\"$(sha256_of "$SRC/small.txt")\"" "small.txt after the new publish"
assert_ne "$OLD_SMALL_ETAG" "$(header ETag)" "ETag of small.txt after the new publish"
expect_fetch 200 "$BASE/small.txt" -H "If-None-Match: $OLD_SMALL_ETAG"
assert_body_is "$SRC/small.txt" "If-None-Match of the old ETag after the new publish"
expect_fetch 200 "$BASE/new.txt"
assert_body_is "$SRC/new.txt" "new.txt"
expect_fetch 200 "$BASE/"
assert_ne "$OLD_LM" "$(header Last-Modified)" "Last-Modified of the index after the new publish"
expect_ok refuge --home "$READER" get "$S/small.txt" --from "$NODE_URL" --json -o "$OUT/get2.out"
assert_same_file "$SRC/small.txt" "$OUT/get2.out" "refuge get of small.txt after the new publish"
assert_eq 2 "$(jget "$RUN_OUT" 'j["version"]')" "refuge get after the new publish: version"
expect_ok tuf refresh
TUF_NAMES=(small.txt new.txt)
expect_ok tuf_download
assert_same_file "$SRC/small.txt" "$TT/small.txt" "tuf-client download of the new small.txt"
assert_same_file "$SRC/new.txt" "$TT/new.txt" "tuf-client download of new.txt"

# --- 14. metrics -------------------------------------------------------------------------------
step "metrics and healthz on the admin listener"
# metric NAME{LABELS}: its value in the last fetched body (empty if absent).
metric() { awk -v k="$1" '$1 == k { print $2; exit }' "$H_BODY"; }
expect_fetch 200 "http://$NODE_ADMIN/healthz"
assert_eq ok "$(cat "$H_BODY")" "/healthz body"
expect_fetch 200 "http://$NODE_ADMIN/metrics"
assert_match '^text/plain' "$(header Content-Type)" "/metrics Content-Type"
C200=$(metric 'refuge_http_requests_total{code="200"}')
C404=$(metric 'refuge_http_requests_total{code="404"}')
CSITE=$(metric "refuge_site_requests_total{site=\"$S\"}")
assert_match '^[0-9]+$' "$C200" 'refuge_http_requests_total{code="200"}'
assert_int_ge "$C200" 50 'refuge_http_requests_total{code="200"}'
assert_match '^[0-9]+$' "$C404" 'refuge_http_requests_total{code="404"}'
assert_int_ge "$C404" 10 'refuge_http_requests_total{code="404"}'
assert_match '^[0-9]+$' "$CSITE" "refuge_site_requests_total{site=\"$S\"}"
assert_int_ge "$CSITE" 50 "refuge_site_requests_total{site=\"$S\"}"
assert_match '^[0-9]+$' "$(metric refuge_http_open_connections)" "refuge_http_open_connections"
assert_eq 2 "$(metric refuge_sites_served)" "refuge_sites_served"
# Exact increments: 3 requests answered 200 and 2 answered 404 for site S, 1 404 for no site.
for _ in 1 2 3; do expect_fetch 200 "$BASE/small.txt"; done
expect_fetch 404 "$BASE/missing-1"
expect_fetch 404 "$BASE/missing-2"
expect_fetch 404 "$NODE_URL/missing-3"
expect_fetch 200 "http://$NODE_ADMIN/metrics"
# (+3: the admin listener's own answers are not counted, so scraping changes nothing.)
assert_eq $((C200 + 3)) "$(metric 'refuge_http_requests_total{code="200"}')" "code=200 after 3 more and a /metrics"
assert_eq $((C404 + 3)) "$(metric 'refuge_http_requests_total{code="404"}')" "code=404 after 3 more"
assert_eq $((CSITE + 5)) "$(metric "refuge_site_requests_total{site=\"$S\"}")" "site requests after 5 more"
# A keep-alive connection held open shows in refuge_http_open_connections.
OPEN_BEFORE=$(metric refuge_http_open_connections)
raw_py "$NODE_ADDR" "/s/$S/small.txt" "http://$NODE_ADMIN/metrics" >"$OUT/open.out" 2>&1 <<'PY' || fail "open connections check: $(cat "$OUT/open.out")"
import sys, urllib.request
from rawhttp import *
addr, target, metrics_url = sys.argv[1:]
held = []
for _ in range(3):
    s, f = connect(addr)
    s.sendall(request(target))
    assert read_response(f)[0] == 200
    held.append((s, f))
text = urllib.request.urlopen(metrics_url, timeout=10).read().decode()
print([l for l in text.splitlines() if l.startswith("refuge_http_open_connections ")][0].split()[1])
PY
assert_int_ge "$(cat "$OUT/open.out")" $((OPEN_BEFORE + 3)) "refuge_http_open_connections with 3 connections held open"

# --- 15. privacy: no access log by default -------------------------------------------------------
step "no access log by default"
LOGS=$(find "$REFUGE_HOME" "$TEST_TMP" \( -iname '*.log' -o -iname '*access*' \) -print)
assert_eq "" "$LOGS" "log files after serving requests without a config"
for entry in "$REFUGE_HOME"/* "$REFUGE_HOME"/.[!.]*; do
  [[ -e $entry ]] || continue
  case ${entry##*/} in
    keys | locks | node.db | node.db-shm | node.db-wal | objects | serve.addr | tmp) ;;
    *) fail "unexpected entry in the node home after serving: ${entry##*/}" ;;
  esac
done
assert_eq "http $NODE_ADDR"$'\n'"admin $NODE_ADMIN" "$(cat "$NODE_OUT")" "node stdout"
for word in small.txt big.bin "GET " "/s/$S" curl Wget 127.0.0.1:; do
  assert_not_contains "$(cat "$NODE_ERR")" "$word" "node stderr (no request is recorded)"
done

# --- 16. SIGTERM during a download ----------------------------------------------------------------
step "SIGTERM while large downloads are in flight: they complete, the node exits 0"
# A slow wget of the 3 MiB file. (wget, not curl: curl 7.88's --limit-rate averages over
# several seconds and lets a 3 MiB download on loopback go at full speed.) Loopback socket
# buffers hold a few MiB, so by SIGTERM the node may have handed all of it to the kernel;
# the second download below makes sure the node itself still has a response to finish.
wget -q --tries=1 --timeout=30 --limit-rate=1000k -O "$OUT/slow.bin" "$BASE/big.bin" 2>"$OUT/slow.err" &
SLOW_PID=$!
track_pid "$SLOW_PID"
# A reader of the 16 MiB file with a small receive buffer that stops after 1 MiB until the
# SIGTERM has been sent: most of the response is still in the node when the signal comes.
TERM_SENT=$TEST_TMP/term-sent
raw_py "$NODE_ADDR" "/s/$S/huge.bin" "$(sha256_of "$SRC/huge.bin")" "$TERM_SENT" >"$OUT/drain.out" 2>&1 <<'PY' &
import os, socket, sys, time
from rawhttp import *
addr, target, want, term_sent = sys.argv[1:]
host, port = addr.rsplit(":", 1)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
s.settimeout(20)
s.connect((host, int(port)))
f = s.makefile("rb")
s.sendall(request(target))
line = f.readline()
assert line.startswith(b"HTTP/1.1 200 "), line
length = None
while True:
    l = f.readline()
    if l == b"\r\n":
        break
    k, v = l.decode().split(":", 1)
    if k.lower() == "content-length":
        length = int(v)
first = f.read(1 << 20)
print("started", flush=True)
deadline = time.time() + 15
while not os.path.exists(term_sent):
    if time.time() > deadline:
        sys.exit("no SIGTERM marker")
    time.sleep(0.05)
rest = f.read(length - len(first))
body = first + rest
print("body", len(body) == length, sha(body) == want, flush=True)
# The node is draining: after the response, it closes the connection.
print("closed", closed_by_server(s, f), flush=True)
PY
DRAIN_PID=$!
track_pid "$DRAIN_PID"
slow_started() { [[ -s $OUT/slow.bin ]] && grep -qs '^started' "$OUT/drain.out"; }
wait_until 5000 slow_started >/dev/null || fail "the downloads did not start ($(cat "$OUT/drain.out"))"
SIZE_AT_TERM=$(stat -c %s "$OUT/slow.bin")
((SIZE_AT_TERM < 3145728)) || fail "the slow download was already complete at SIGTERM"
# And an idle keep-alive connection, which must not hold the node until drain_timeout_ms.
exec 7<>"/dev/tcp/${NODE_ADDR%:*}/${NODE_ADDR##*:}"
printf 'GET /s/%s/small.txt HTTP/1.1\r\nHost: x\r\n\r\n' "$S" >&7
IDLE_REPLY=
read -r -t 5 -u 7 IDLE_REPLY || true
assert_eq "HTTP/1.1 200 OK" "${IDLE_REPLY%$'\r'}" "response on the keep-alive connection kept idle over SIGTERM"
T0=$(now_ms)
kill -TERM "$NODE_PID"
sleep 0.5
kill -0 "$NODE_PID" 2>/dev/null || fail "the node exited with a response in flight, 0.5 s after SIGTERM"
touch "$TERM_SENT"
stop_node  # a second SIGTERM changes nothing; waits for the exit, which must be 0
TERM_MS=$(($(now_ms) - T0))
echo "    node exited ${TERM_MS} ms after SIGTERM (the slow download was at $SIZE_AT_TERM bytes)"
# The reader finishes about 1.5 s after SIGTERM; the idle connection must not add the whole
# drain timeout (10 s) to that.
((TERM_MS < 6000)) || fail "the node took ${TERM_MS} ms to exit after SIGTERM (drain_timeout_ms is 10000)"
timeout 5 cat <&7 >/dev/null || fail "the idle keep-alive connection was not closed by the node's exit"
exec 7<&-
timeout 20 tail --pid="$DRAIN_PID" -f /dev/null || fail "the 16 MiB reader did not finish"
DRAIN_RC=0
wait "$DRAIN_PID" || DRAIN_RC=$?
assert_eq 0 "$DRAIN_RC" "16 MiB reader exit code ($(cat "$OUT/drain.out"))"
assert_eq "body True True" "$(sed -n 2p "$OUT/drain.out")" "16 MiB download in flight at SIGTERM"
assert_eq "closed True" "$(sed -n 3p "$OUT/drain.out")" "connection closed after the drained response"
timeout 20 tail --pid="$SLOW_PID" -f /dev/null || fail "the slow download did not finish"
SLOW_RC=0
wait "$SLOW_PID" || SLOW_RC=$?
assert_eq 0 "$SLOW_RC" "wget exit code of the download in flight at SIGTERM ($(cat "$OUT/slow.err"))"
assert_same_file "$SRC/big.bin" "$OUT/slow.bin" "3 MiB download in flight at SIGTERM"
assert_no_file "$REFUGE_HOME/serve.addr" "serve.addr after the node exited"
# Nothing listens any more.
run curl -sS --max-time 5 -o /dev/null "$BASE/small.txt"
assert_eq 7 "$RUN_RC" "curl to the stopped node (7: could not connect)"

# --- 13. config file, [hosts], SIGHUP, default_site (and 15: an access log when asked) -------------
step "config: [hosts] by Host header; SIGHUP reloads it while a keep-alive connection stays open"
CONF=$TEST_TMP/serve.toml
ACCESS_LOG=$TEST_TMP/access.log
write_conf() {  # HOSTS_LINES [SERVER_LINES]
  printf '[server]\naccess_log = "%s"\n%s\n\n[hosts]\n%s\n' "$ACCESS_LOG" "${2:-}" "$1" >"$CONF"
}
write_conf "\"example.test\" = \"$S\""
start_node --config "$CONF"
BASE=$NODE_URL/s/$S
expect_fetch 200 "$NODE_URL/" -H 'Host: example.test'
assert_body_is "$SRC/index.html" "Host: example.test /"
assert_header Cache-Control "public, max-age=60" "Host: example.test /"
expect_fetch 200 "$NODE_URL/sub/deeper/page.html" -H 'Host: EXAMPLE.test:8080'
assert_body_is "$SRC/sub/deeper/page.html" "Host: EXAMPLE.test:8080 (case and port ignored)"
expect_fetch 301 "$NODE_URL/sub" -H 'Host: example.test'
assert_header Location "/sub/" "Host: example.test /sub"
expect_fetch 200 "$NODE_URL/" -H 'Host: unmapped.test'
assert_contains "$(cat "$H_BODY")" "refuge node" "unmapped Host, no default site: the node page"
expect_fetch 404 "$NODE_URL/small.txt" -H 'Host: unmapped.test'
expect_fetch 200 "$BASE/small.txt" -H 'Host: unmapped.test'
assert_body_is "$SRC/small.txt" "/s/ URL with an unmapped Host"

# A keep-alive connection opened before the SIGHUP, used again after it.
MARKER=$TEST_TMP/hup-done
raw_py "$NODE_ADDR" "$S" "$(sha256_of "$SRC/small.txt")" "$(sha256_of "$SRC/index.html")" "$MARKER" \
  >"$OUT/ka.out" 2>&1 <<'PY' &
import os, sys, time
from rawhttp import *
addr, site, want_small, want_index, marker = sys.argv[1:]
s, f = connect(addr, timeout=15)
s.sendall(request("/", host="example.test"))
st, h, body = read_response(f)
print("before", st, sha(body) == want_index, flush=True)
deadline = time.time() + 15
while not os.path.exists(marker):
    if time.time() > deadline:
        sys.exit("no marker")
    time.sleep(0.05)
s.sendall(request(f"/s/{site}/small.txt"))
st, h, body = read_response(f)
print("after", st, sha(body) == want_small, flush=True)
s.sendall(request("/", host="other.test"))
st, h, body = read_response(f)
print("after-other", st, sha(body) == want_index, flush=True)
s.sendall(request("/", host="example.test"))
st, h, body = read_response(f)
print("after-example", st, b"refuge node" in body, flush=True)
PY
KA_PID=$!
track_pid "$KA_PID"
ka_ready() { grep -qs '^before' "$OUT/ka.out"; }
wait_until 5000 ka_ready >/dev/null || fail "keep-alive client: no first response ($(cat "$OUT/ka.out"))"
assert_eq "before 200 True" "$(head -1 "$OUT/ka.out")" "keep-alive client before SIGHUP"

write_conf "\"other.test\" = \"$S\""
kill -HUP "$NODE_PID"
other_served() { curl -sS --max-time 5 -o "$OUT/poll" -H 'Host: other.test' "$NODE_URL/" && cmp -s "$SRC/index.html" "$OUT/poll"; }
MS=$(wait_until 2000 other_served) || fail "Host: other.test not served within 2 s of SIGHUP"
echo "    other.test served ${MS} ms after SIGHUP"
settle
expect_fetch 200 "$NODE_URL/" -H 'Host: example.test'
assert_contains "$(cat "$H_BODY")" "refuge node" "Host: example.test / after it was unmapped"
expect_fetch 404 "$NODE_URL/small.txt" -H 'Host: example.test'
kill -0 "$NODE_PID" || fail "the node died on SIGHUP"

touch "$MARKER"
timeout 20 tail --pid="$KA_PID" -f /dev/null || fail "keep-alive client did not finish"
KA_RC=0
wait "$KA_PID" || KA_RC=$?
assert_eq 0 "$KA_RC" "keep-alive client exit code ($(cat "$OUT/ka.out"))"
assert_eq "after 200 True" "$(sed -n 2p "$OUT/ka.out")" "keep-alive connection opened before SIGHUP, used after it"
assert_eq "after-other 200 True" "$(sed -n 3p "$OUT/ka.out")" "the new [hosts] on a connection opened before SIGHUP"
assert_eq "after-example 200 True" "$(sed -n 4p "$OUT/ka.out")" "the unmapped host on a connection opened before SIGHUP"

step "config: default_site serves / for an unmapped Host; a bad config on SIGHUP keeps the old one"
write_conf "\"other.test\" = \"$S\"" "default_site = \"$S2\""
kill -HUP "$NODE_PID"
default_served() { curl -sS --max-time 5 -o "$OUT/poll" -H 'Host: unmapped.test' "$NODE_URL/" && cmp -s "$SRC2/index.html" "$OUT/poll"; }
wait_until 2000 default_served >/dev/null || fail "default_site not served within 2 s of SIGHUP"
settle
expect_fetch 200 "$NODE_URL/" -H 'Host: example.test'
assert_body_is "$SRC2/index.html" "Host: example.test / falls to the default site"
expect_fetch 200 "$NODE_URL/"
assert_body_is "$SRC2/index.html" "no Host override (127.0.0.1:port) / is the default site"
expect_fetch 200 "$NODE_URL/" -H 'Host: other.test'
assert_body_is "$SRC/index.html" "Host: other.test / with a default site"
expect_fetch 404 "$NODE_URL/small.txt" -H 'Host: unmapped.test'  # not in the default site

printf '[server]\naccess_log = "%s"\ndefualt_site = "%s"\n' "$ACCESS_LOG" "$S" >"$CONF"
kill -HUP "$NODE_PID"
reload_refused() { grep -q 'reload failed' "$NODE_ERR"; }
wait_until 2000 reload_refused >/dev/null || fail "no 'reload failed' on stderr after a SIGHUP with a bad config: $(cat "$NODE_ERR")"
assert_contains "$(cat "$NODE_ERR")" "defualt_site" "the bad config's error names the key"
kill -0 "$NODE_PID" || fail "the node died on a SIGHUP with a bad config"
expect_fetch 200 "$NODE_URL/" -H 'Host: other.test'
assert_body_is "$SRC/index.html" "Host: other.test after a refused reload"
expect_fetch 200 "$NODE_URL/" -H 'Host: unmapped.test'
assert_body_is "$SRC2/index.html" "default site after a refused reload"

step "an access log when the config asks for one"
expect_fetch 200 "$BASE/small.txt" -A 'serve-http-test-agent'
LOG_LINE_RE="^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}[-+][0-9]{2}:?[0-9]{2} 127\.0\.0\.1 \"GET /s/$S/small\.txt HTTP/1\.1\" 200 [0-9]+ \"serve-http-test-agent\"\$"
access_logged() { [[ -f $ACCESS_LOG ]] && grep -Eq "$LOG_LINE_RE" "$ACCESS_LOG"; }
# The log is flushed every second: the line is there while the node runs.
if ! wait_until 2500 access_logged >/dev/null; then
  fail "the request is not in the access log within 2.5 s ($(stat -c %s "$ACCESS_LOG" 2>&1) bytes in it)"
fi
stop_node
access_logged || fail "the request is not in the access log after the node exited: $(tail -3 "$ACCESS_LOG" 2>&1)"
assert_contains "$(cat "$ACCESS_LOG")" "\"GET / HTTP/1.1\" 200" "access log: Host-mapped requests"
assert_no_file "$REFUGE_HOME/serve.addr" "serve.addr after the second node exited"
