#!/usr/bin/env bash
# refuge serve over HTTPS, with curl, openssl s_client and raw sockets: two self-signed
# certificates (`refuge cert self-signed`) chosen by SNI, the first as default; exact bytes
# of a small (cached) and a 3 MiB (file path) object; keep-alive, pipelining and Range over
# TLS; TLS 1.1 refused, 1.2 and 1.3 accepted; session resumption (1.2 and 1.3); the
# redirect listener (308 to https, ACME http-01 challenges from acme_webroot); plain HTTP,
# garbage and silence on the TLS port; TLS metrics; a certificate replaced and SIGHUP.
#
#   bash tests/integration/serve_tls.sh build/refuge
source "$(dirname "$0")/lib.sh" "$@"

for tool in curl openssl; do
  command -v "$tool" >/dev/null || { echo "SKIP [$TEST_NAME]: needs $tool" >&2; exit 77; }
done

step "publish a site, make two certificates"
expect_ok refuge site init --json
S=$(jget "$RUN_OUT" 'j["site_id"]')
SRC=$(new_dir src)
printf 'small file over TLS\n' >"$SRC/small.txt"
head -c $((3 * 1024 * 1024 + 17)) /dev/urandom >"$SRC/big.bin"
expect_ok refuge publish --site "$S" "$SRC"

CERTS=$(new_dir certs)
expect_ok refuge cert self-signed --cert "$CERTS/a.pem" --key "$CERTS/a.key" --name a.test --name 127.0.0.1
expect_ok refuge cert self-signed --cert "$CERTS/b.pem" --key "$CERTS/b.key" --name b.test --json
assert_eq "b.test" "$(jget "$RUN_OUT" '",".join(j["names"])')" "cert self-signed --json: names"
fingerprint() { openssl x509 -noout -fingerprint -sha256 | cut -d= -f2; }
FP_A=$(fingerprint <"$CERTS/a.pem")
FP_B=$(fingerprint <"$CERTS/b.pem")
assert_ne "$FP_A" "$FP_B" "two certificates"

ACME=$(new_dir acme)
mkdir -p "$ACME/.well-known/acme-challenge"
TOKEN=Xy_9-token-AbCdEf0123456789
printf '%s.thumbprint-of-the-account-key' "$TOKEN" >"$ACME/.well-known/acme-challenge/$TOKEN"
printf 'secret outside the challenge directory\n' >"$ACME/secret"
ln -s ../../secret "$ACME/.well-known/acme-challenge/link"

CONFIG=$TEST_TMP/serve.toml
cat >"$CONFIG" <<EOF
[server]
request_head_timeout_ms = 2000

[tls]
listen = ["127.0.0.1:0"]

[[tls.certificates]]
cert_file = "$CERTS/a.pem"
key_file = "$CERTS/a.key"

[[tls.certificates]]
cert_file = "$CERTS/b.pem"
key_file = "$CERTS/b.key"

[redirect]
listen = ["127.0.0.1:0"]
acme_webroot = "$ACME"
https_port = 8443
EOF
start_node --config "$CONFIG"
HTTPS_ADDR=$(awk '$1 == "https" {print $2; exit}' "$NODE_OUT")
REDIRECT_ADDR=$(awk '$1 == "redirect" {print $2; exit}' "$NODE_OUT")
[[ -n $HTTPS_ADDR && -n $REDIRECT_ADDR ]] || fail "no https or redirect address in: $(cat "$NODE_OUT")"
HPORT=${HTTPS_ADDR##*:}

# tls_curl NAME CA ARGS...: curl to https://NAME:HPORT with NAME resolved to 127.0.0.1.
tls_curl() {
  local name=$1 ca=$2
  shift 2
  curl -sS --max-time 10 --cacert "$ca" --resolve "$name:$HPORT:127.0.0.1" "$@"
}
A_URL=https://a.test:$HPORT/s/$S
CA_A=$CERTS/a.pem  # what a client trusts for a.test (a copy once a.pem is broken on purpose)

# served_fingerprint ARGS...: the fingerprint of the certificate the node presents.
served_fingerprint() {
  timeout 10 openssl s_client -connect "$HTTPS_ADDR" "$@" </dev/null 2>/dev/null | fingerprint
}

# node_healthy WHAT: a small file comes back exactly over HTTPS and over HTTP.
node_healthy() {
  rm -f "$TEST_TMP/health.got"
  tls_curl a.test "$CA_A" -o "$TEST_TMP/health.got" "$A_URL/small.txt" ||
    fail "$1: HTTPS GET failed"
  assert_same_file "$SRC/small.txt" "$TEST_TMP/health.got" "$1: HTTPS GET small.txt"
  rm -f "$TEST_TMP/health.got"
  curl -sS --max-time 10 -o "$TEST_TMP/health.got" "$NODE_URL/s/$S/small.txt" || fail "$1: HTTP GET failed"
  assert_same_file "$SRC/small.txt" "$TEST_TMP/health.got" "$1: HTTP GET small.txt"
}

step "exact bytes over HTTPS: a small file and a 3 MiB one"
expect_ok tls_curl a.test "$CERTS/a.pem" -o "$TEST_TMP/small.got" "$A_URL/small.txt"
assert_same_file "$SRC/small.txt" "$TEST_TMP/small.got" "GET small.txt over HTTPS"
expect_ok tls_curl a.test "$CERTS/a.pem" -o "$TEST_TMP/big.got" "$A_URL/big.bin"
assert_same_file "$SRC/big.bin" "$TEST_TMP/big.got" "GET big.bin (3 MiB) over HTTPS"
# Again, now that a first request has warmed whatever caches there are.
expect_ok tls_curl a.test "$CERTS/a.pem" -o "$TEST_TMP/big2.got" "$A_URL/big.bin"
assert_same_file "$SRC/big.bin" "$TEST_TMP/big2.got" "GET big.bin again over HTTPS"
expect_ok tls_curl a.test "$CERTS/a.pem" -o /dev/null -w '%{http_version} %{http_code}' "$A_URL/small.txt"
assert_eq "1.1 200" "$RUN_OUT" "HTTP version and status over HTTPS"
# The certificate names 127.0.0.1 too: reached by address, verified by IP subjectAltName.
expect_ok curl -sS --max-time 10 --cacert "$CERTS/a.pem" -o "$TEST_TMP/ip.got" "https://$HTTPS_ADDR/s/$S/small.txt"
assert_same_file "$SRC/small.txt" "$TEST_TMP/ip.got" "GET by IP address over HTTPS"

step "SNI picks the certificate; no name or an unknown one gets the first"
expect_ok tls_curl b.test "$CERTS/b.pem" -o "$TEST_TMP/b.got" "https://b.test:$HPORT/s/$S/small.txt"
assert_same_file "$SRC/small.txt" "$TEST_TMP/b.got" "GET with SNI b.test and b's certificate as CA"
expect_exit 60 tls_curl b.test "$CERTS/a.pem" -o /dev/null "https://b.test:$HPORT/s/$S/small.txt"
expect_exit 60 tls_curl a.test "$CERTS/b.pem" -o /dev/null "$A_URL/small.txt"
assert_eq "$FP_B" "$(served_fingerprint -servername b.test)" "certificate for SNI b.test"
assert_eq "$FP_A" "$(served_fingerprint -servername a.test)" "certificate for SNI a.test"
assert_eq "$FP_B" "$(served_fingerprint -servername B.Test.)" "certificate for SNI B.Test. (case, trailing dot)"
assert_eq "$FP_A" "$(served_fingerprint -noservername)" "certificate without SNI"
assert_eq "$FP_A" "$(served_fingerprint -servername c.test)" "certificate for an unknown SNI"
SUBJECT=$(timeout 10 openssl s_client -connect "$HTTPS_ADDR" -servername b.test </dev/null 2>/dev/null |
  openssl x509 -noout -subject)
assert_contains "$SUBJECT" "b.test" "subject of the certificate for SNI b.test"

step "TLS 1.1 refused; TLS 1.2 and 1.3 accepted"
# SECLEVEL=0 so that this OpenSSL client really offers TLS 1.1: the refusal is the node's.
run timeout 10 openssl s_client -connect "$HTTPS_ADDR" -servername a.test -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
assert_ne 0 "$RUN_RC" "openssl s_client -tls1_1: exit code"
assert_not_contains "$RUN_OUT" "New, TLSv1.1" "openssl s_client -tls1_1"
assert_contains "$RUN_ERR" "alert protocol version" "openssl s_client -tls1_1: the node's alert"
for version in 1.2 1.3; do
  expect_ok timeout 10 openssl s_client -connect "$HTTPS_ADDR" -servername a.test "-tls${version/./_}"
  assert_contains "$RUN_OUT" "New, TLSv$version" "openssl s_client -tls${version/./_}"
done
expect_ok tls_curl a.test "$CERTS/a.pem" --tlsv1.2 --tls-max 1.2 -o /dev/null -w '%{http_code}' "$A_URL/small.txt"
assert_eq 200 "$RUN_OUT" "curl over TLS 1.2"

step "session resumption, TLS 1.2 and 1.3"
# Each client sends a request and waits for the node to close: TLS 1.3 tickets are sent
# after the handshake, so a client that leaves at once may not have one to save.
resume() {
  local version=$1 sess=$TEST_TMP/session.$1 out
  rm -f "$sess"
  out=$(printf 'GET /s/%s/small.txt HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n' "$S" |
    timeout 10 openssl s_client -connect "$HTTPS_ADDR" -servername a.test "-tls${version/./_}" \
      -ign_eof -sess_out "$sess" 2>&1) || true
  assert_contains "$out" "New, TLSv$version" "first connection, TLS $version"
  assert_contains "$out" "small file over TLS" "response over the first connection, TLS $version"
  [[ -s $sess ]] || fail "TLS $version: no session saved by openssl s_client -sess_out"
  out=$(printf 'GET /s/%s/small.txt HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n' "$S" |
    timeout 10 openssl s_client -connect "$HTTPS_ADDR" -servername a.test "-tls${version/./_}" \
      -ign_eof -sess_in "$sess" 2>&1) || true
  assert_contains "$out" "Reused, TLSv$version" "second connection with -sess_in, TLS $version"
  assert_contains "$out" "small file over TLS" "response over the resumed connection, TLS $version"
}
resume 1.2
resume 1.3

step "keep-alive and Range over HTTPS"
expect_ok tls_curl a.test "$CERTS/a.pem" -w '%{num_connects} %{http_code}\n' \
  -o "$TEST_TMP/k1.got" "$A_URL/small.txt" -o "$TEST_TMP/k2.got" "$A_URL/big.bin" -o "$TEST_TMP/k3.got" "$A_URL/small.txt"
assert_eq "1 200,0 200,0 200" "$(tr '\n' ',' <<<"$RUN_OUT" | sed 's/,$//')" "three requests on one HTTPS connection"
assert_same_file "$SRC/small.txt" "$TEST_TMP/k1.got" "keep-alive request 1"
assert_same_file "$SRC/big.bin" "$TEST_TMP/k2.got" "keep-alive request 2"
assert_same_file "$SRC/small.txt" "$TEST_TMP/k3.got" "keep-alive request 3"
range_check() {
  local first=$1 last=$2
  expect_ok tls_curl a.test "$CERTS/a.pem" -r "$first-$last" -o "$TEST_TMP/range.got" -w '%{http_code}' "$A_URL/big.bin"
  assert_eq 206 "$RUN_OUT" "Range $first-$last over HTTPS: status"
  "$PYTHON" -c 'import sys; d = open(sys.argv[1], "rb").read(); a = int(sys.argv[3]); b = sys.argv[4]
b = len(d) - 1 if b == "" else int(b)
open(sys.argv[2], "wb").write(d[a:b + 1])' "$SRC/big.bin" "$TEST_TMP/range.want" "$first" "$last"
  assert_same_file "$TEST_TMP/range.want" "$TEST_TMP/range.got" "Range $first-$last over HTTPS: bytes"
}
range_check 0 0
range_check 1000 70000
range_check 3000000 ""
expect_ok tls_curl a.test "$CERTS/a.pem" -r 5-9 -o "$TEST_TMP/range.got" -w '%{http_code}' "$A_URL/small.txt"
assert_eq "206| file" "$RUN_OUT|$(cat "$TEST_TMP/range.got")" "Range 5-9 of small.txt over HTTPS"

cat >"$TEST_TMP/tlsprobe.py" <<'PYEOF'
import os, socket, ssl, sys, time

addr, ca, site, src, part = sys.argv[1:6]
host, port = addr.rsplit(":", 1)
port = int(port)
small = open(f"{src}/small.txt", "rb").read()
big = open(f"{src}/big.bin", "rb").read()


def read_until_close(s, limit):
    data, deadline = bytearray(), time.monotonic() + limit
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return bytes(data), "timeout"
        s.settimeout(left)
        try:
            chunk = s.recv(1 << 20)
        except socket.timeout:
            return bytes(data), "timeout"
        except (ConnectionResetError, BrokenPipeError):
            return bytes(data), "reset"
        except ssl.SSLError as e:
            return bytes(data), f"ssl error {e.reason}"
        if not chunk:
            return bytes(data), "eof"
        data += chunk


def parse(data):
    out, pos = [], 0
    while True:
        end = data.find(b"\r\n\r\n", pos)
        if end < 0:
            return out, data[pos:]
        lines = data[pos:end].split(b"\r\n")
        status = int(lines[0].split(b" ")[1])
        n = 0
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                n = int(v)
        if len(data) < end + 4 + n:
            return out, data[pos:]
        out.append((status, data[end + 4:end + 4 + n]))
        pos = end + 4 + n


def tls_connect():
    ctx = ssl.create_default_context(cafile=ca)
    raw = socket.create_connection((host, port), timeout=10)
    return ctx.wrap_socket(raw, server_hostname="a.test")


if part == "pipeline":
    # 50 GETs in one write: the node must answer them all, in order, though TLS hands it
    # several requests in one record (bytes decrypted but not yet parsed).
    s = tls_connect()
    reqs = b""
    for i in range(50):
        name = b"big.bin" if i % 10 == 5 else b"small.txt"
        close = b"Connection: close\r\n" if i == 49 else b""
        reqs += b"GET /s/" + site.encode() + b"/" + name + b" HTTP/1.1\r\nHost: a.test\r\n" + close + b"\r\n"
    s.sendall(reqs)
    data, how = read_until_close(s, 30)
    s.close()
    resp, rest = parse(data)
    want = [(200, big if i % 10 == 5 else small) for i in range(50)]
    ok = resp == want and how == "eof" and not rest
    print(f"  50 pipelined GETs over TLS: {len(resp)} responses, {'in order' if resp == want else 'WRONG'}, then {how}")
    sys.exit(0 if ok else 1)

if part == "malformed":
    # A malformed request over TLS: 400, then the node closes the connection.
    s = tls_connect()
    s.sendall(b"GET /s/" + site.encode() + b"/../x HTTP/1.1\r\nHost: a.test\r\n\r\nGET /s/" +
              site.encode() + b"/small.txt HTTP/1.1\r\nHost: a.test\r\n\r\n")
    data, how = read_until_close(s, 3)
    s.close()
    resp, rest = parse(data)
    print(f"  bad path then a GET over TLS: {[r[0] for r in resp]} then {how}")
    sys.exit(0 if [r[0] for r in resp] == [400] and how == "eof" and not rest else 1)

if part in ("garbage", "bad-record", "silence", "plain-http"):
    s = socket.create_connection((host, port), timeout=10)
    payload = {
        "garbage": os.urandom(4000),
        # A handshake record header announcing 16 KiB, then a ClientHello full of noise.
        "bad-record": b"\x16\x03\x01\x40\x00\x01\x00\x3f\xfc" + os.urandom(300),
        "silence": b"",
        "plain-http": b"GET /s/" + site.encode() + b"/small.txt HTTP/1.1\r\nHost: a.test\r\n\r\n",
    }[part]
    t0 = time.monotonic()
    try:
        s.sendall(payload)
    except (ConnectionResetError, BrokenPipeError):
        pass
    # "bad-record" is incomplete: the node waits for the rest until request_head_timeout_ms.
    data, how = read_until_close(s, 6)
    took = time.monotonic() - t0
    s.close()
    plain = data.startswith(b"HTTP/")
    print(f"  {part}: {len(data)} bytes back{' (a plain HTTP response)' if plain else ''}, then {how} after {took:.2f} s")
    # A TLS alert (at most a few bytes) or a plain-text 400 is a clean refusal; a 2xx is not.
    clean = how in ("eof", "reset") and (len(data) <= 7 or data.startswith(b"HTTP/1.1 400"))
    sys.exit(0 if clean else 1)
sys.exit(2)
PYEOF
tls_probe() { timeout 60 "$PYTHON" "$TEST_TMP/tlsprobe.py" "$HTTPS_ADDR" "$CERTS/a.pem" "$S" "$SRC" "$1"; }

step "pipelining and a malformed request over TLS"
tls_probe pipeline || fail "50 pipelined GETs over TLS"
tls_probe malformed || fail "a malformed request over TLS: expected 400 then close"
node_healthy "after pipelining over TLS"

step "the redirect listener: 308 to https, ACME challenges from the webroot"
redirect_head() { curl -sS --max-time 10 -o /dev/null -D - --path-as-is "$@" | tr -d '\r'; }
OUT=$(redirect_head -H 'Host: a.test' "http://$REDIRECT_ADDR/path/x?q=1&r")
assert_contains "$OUT" "HTTP/1.1 308" "redirect: status"
assert_contains "$OUT" "Location: https://a.test:8443/path/x?q=1&r" "redirect: Location"
OUT=$(redirect_head -H 'Host: A.test:80' "http://$REDIRECT_ADDR/s/$S/small.txt")
assert_contains "$OUT" "HTTP/1.1 308" "redirect with a port in Host: status"
assert_contains "$OUT" "Location: https://A.test:8443/s/$S/small.txt" "redirect with a port in Host: Location"
OUT=$(redirect_head -H 'Host: b.test' "http://$REDIRECT_ADDR/")
assert_contains "$OUT" "Location: https://b.test:8443/" "redirect of /"
OUT=$(redirect_head -X POST -H 'Host: a.test' "http://$REDIRECT_ADDR/x")
assert_match '^HTTP/1.1 (405|308)' "$OUT" "redirect of a POST"
# Following the redirect (to the real port) ends with the file.
expect_ok curl -sS --max-time 10 -L --cacert "$CERTS/a.pem" --connect-to "a.test:8443:127.0.0.1:$HPORT" \
  -o "$TEST_TMP/follow.got" -H 'Host: a.test' "http://$REDIRECT_ADDR/s/$S/small.txt"
assert_same_file "$SRC/small.txt" "$TEST_TMP/follow.got" "curl -L through the redirect"

acme_get() {
  curl -sS --max-time 10 --path-as-is -o "$TEST_TMP/acme.got" -w '%{http_code}' -H 'Host: a.test' \
    "http://$REDIRECT_ADDR/.well-known/acme-challenge/$1" || true
}
assert_eq 200 "$(acme_get "$TOKEN")" "ACME challenge: status"
assert_same_file "$ACME/.well-known/acme-challenge/$TOKEN" "$TEST_TMP/acme.got" "ACME challenge: content"
assert_eq 200 "$(acme_get "$TOKEN?x=1")" "ACME challenge with a query: status"
assert_same_file "$ACME/.well-known/acme-challenge/$TOKEN" "$TEST_TMP/acme.got" "ACME challenge with a query: content"
for bad in missing-token "../secret" "..%2fsecret" "%2e%2e/secret" "%2e%2e%2fsecret" ".." "" "link" \
  "a%00b" "$TOKEN/" "$TOKEN/.." "x/../$TOKEN"; do
  CODE=$(acme_get "$bad")
  assert_match '^(400|404)$' "$CODE" "ACME challenge '$bad': status"
  assert_not_contains "$(cat "$TEST_TMP/acme.got" 2>/dev/null)" "secret outside" "ACME challenge '$bad': body"
done
# The directory's content is read per request: a token written now is served at once.
printf 'late' >"$ACME/.well-known/acme-challenge/late-token"
assert_eq 200 "$(acme_get late-token)" "ACME challenge written after start: status"
assert_eq late "$(cat "$TEST_TMP/acme.got")" "ACME challenge written after start: content"

step "plain HTTP, garbage, a truncated ClientHello and silence on the TLS port"
T0=$(now_ms)
run curl -sS --max-time 8 -o /dev/null "http://$HTTPS_ADDR/s/$S/small.txt"
assert_ne 0 "$RUN_RC" "plain HTTP to the TLS port: curl exit code"
assert_ne 28 "$RUN_RC" "plain HTTP to the TLS port: not a timeout"
(($(now_ms) - T0 < 5000)) || fail "plain HTTP to the TLS port took $(($(now_ms) - T0)) ms"
node_healthy "after plain HTTP to the TLS port"
for part in plain-http garbage bad-record silence; do
  tls_probe "$part" || fail "$part on the TLS port: not refused cleanly"
  node_healthy "after $part on the TLS port"
done

step "TLS metrics"
expect_ok curl -sS --max-time 5 "http://$NODE_ADMIN/metrics"
HANDSHAKES=$(awk '$1 == "refuge_tls_handshakes_total" {print $2}' <<<"$RUN_OUT")
FAILURES=$(awk '$1 == "refuge_tls_handshake_failures_total" {print $2}' <<<"$RUN_OUT")
assert_int_ge "${HANDSHAKES:-0}" 20 "refuge_tls_handshakes_total"
assert_int_ge "${FAILURES:-0}" 3 "refuge_tls_handshake_failures_total"

step "SIGHUP after a certificate file is replaced: new connections get the new certificate"
expect_ok refuge cert self-signed --cert "$CERTS/a.pem" --key "$CERTS/a.key" --name a.test --name 127.0.0.1
FP_A2=$(fingerprint <"$CERTS/a.pem")
assert_ne "$FP_A" "$FP_A2" "the regenerated certificate"
# Not picked up before the signal: the files are read at start and on SIGHUP only.
assert_eq "$FP_A" "$(served_fingerprint -servername a.test)" "certificate before SIGHUP"
kill -HUP "$NODE_PID"
SERVED=""
for _ in $(seq 50); do
  SERVED=$(served_fingerprint -servername a.test)
  [[ $SERVED == "$FP_A2" ]] && break
  sleep 0.1
done
assert_eq "$FP_A2" "$SERVED" "certificate for a.test after SIGHUP"
assert_eq "$FP_B" "$(served_fingerprint -servername b.test)" "certificate for b.test after SIGHUP"
assert_eq "$FP_A2" "$(served_fingerprint -noservername)" "default certificate after SIGHUP"
expect_ok tls_curl a.test "$CERTS/a.pem" -o "$TEST_TMP/after-hup.got" "$A_URL/big.bin"
assert_same_file "$SRC/big.bin" "$TEST_TMP/after-hup.got" "GET big.bin with the new certificate"
kill -0 "$NODE_PID" || fail "the node exited after SIGHUP"

step "a certificate file broken, then SIGHUP: the node keeps the certificate it has"
cp "$CERTS/a.pem" "$TEST_TMP/a2.pem"
CA_A=$TEST_TMP/a2.pem
printf 'not a certificate\n' >"$CERTS/a.pem"
kill -HUP "$NODE_PID"
sleep 0.5
kill -0 "$NODE_PID" || fail "the node exited after SIGHUP with a broken certificate file"
assert_eq "$FP_A2" "$(served_fingerprint -servername a.test)" "certificate after a failed reload"
node_healthy "after a failed certificate reload"

stop_node
