#!/usr/bin/env bash
# refuge serve against hostile HTTP/1.1 clients, over raw sockets (python3): malformed and
# smuggling-style request heads and chunked bodies, bad paths, each on a fresh connection.
# Each must get a 4xx/5xx error (400 unless src/serve/http_parser.h says otherwise: 501 for
# an unknown transfer coding, 505 for another HTTP version, 417 for an unknown Expect, 413
# for a body above max_body_bytes) and then the server must close the connection (recv
# returns 0 within 2 s), or close it without a response; never a 2xx, never a hang, and
# never an answer to a request smuggled behind the bad one. After every case, a normal GET
# on a new connection must still get the right bytes. Then: 1000 pipelined GETs in one
# write get 1000 responses in order; a partial head, a head trickled byte by byte and idle
# keep-alive connections are closed after request_head_timeout_ms / keepalive_timeout_ms.
#
#   bash tests/integration/serve_malformed.sh build/refuge
source "$(dirname "$0")/lib.sh" "$@"

step "publish a site"
expect_ok refuge site init --json
S=$(jget "$RUN_OUT" 'j["site_id"]')
SRC=$(new_dir src)
printf 'hello from refuge\n' >"$SRC/hello.txt"
for i in 0 1 2 3 4; do
  # Pipelined responses differ in size and content, so an out-of-order answer is seen.
  head -c $((100 + i * 700)) /dev/urandom >"$SRC/f$i.bin"
done
expect_ok refuge publish --site "$S" "$SRC"

CONFIG=$TEST_TMP/serve.toml
cat >"$CONFIG" <<'EOF'
[server]
request_head_timeout_ms = 1000
keepalive_timeout_ms = 1000
reload_interval_ms = 60000
EOF
start_node --config "$CONFIG"

step "health before the attacks"
expect_ok curl -sS --max-time 5 -o "$TEST_TMP/hello.got" "$NODE_URL/s/$S/hello.txt"
assert_same_file "$SRC/hello.txt" "$TEST_TMP/hello.got" "GET hello.txt before the attacks"

cat >"$TEST_TMP/probe.py" <<'PYEOF'
import socket, sys, threading, time

host, port = sys.argv[1].rsplit(":", 1)
port = int(port)
site, src, part = sys.argv[2], sys.argv[3], sys.argv[4]
hello = open(f"{src}/hello.txt", "rb").read()
files = [open(f"{src}/f{i}.bin", "rb").read() for i in range(5)]
P = f"/s/{site}".encode()
failures = []


def connect():
    s = socket.create_connection((host, port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_until_close(s, limit):
    """Reads until EOF, a reset or `limit` seconds; returns (bytes, 'eof'|'reset'|'timeout')."""
    data = bytearray()  # bytes += would copy everything at each chunk: quadratic
    deadline = time.monotonic() + limit
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return bytes(data), "timeout"
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return bytes(data), "timeout"
        except (ConnectionResetError, BrokenPipeError):
            return bytes(data), "reset"
        if not chunk:
            return bytes(data), "eof"
        data += chunk


def parse_responses(data):
    """Splits `data` into responses: a list of (status, headers dict, body); and the rest."""
    out, pos = [], 0
    while pos < len(data):
        end = data.find(b"\r\n\r\n", pos)
        if end < 0:
            break
        lines = data[pos:end].split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            break
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            headers[k.strip().lower().decode()] = v.strip().decode("latin-1")
        n = int(headers.get("content-length", "0"))
        if len(data) < end + 4 + n:
            break
        out.append((int(parts[1]), headers, data[end + 4:end + 4 + n]))
        pos = end + 4 + n
    return out, data[pos:]


def send_all(s, payload):
    try:
        s.sendall(payload)
        return ""
    except (ConnectionResetError, BrokenPipeError) as e:
        return " (closed while sending)"


def healthy():
    s = connect()
    try:
        s.sendall(b"GET " + P + b"/hello.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data, how = read_until_close(s, 5)
    finally:
        s.close()
    resp, rest = parse_responses(data)
    return len(resp) == 1 and resp[0][0] == 200 and resp[0][2] == hello and how == "eof"


rows = []


def record(name, ok, result):
    rows.append((name, "ok" if ok else "FAIL", result))
    if not ok:
        failures.append(f"{name}: {result}")


def case(name, payload, want=(400,)):
    """A bad request: one error response in `want` (or none) and then EOF within 2 s."""
    s = connect()
    try:
        note = send_all(s, payload)
        data, how = read_until_close(s, 2.0)
    finally:
        s.close()
    resp, rest = parse_responses(data)
    statuses = [r[0] for r in resp]
    result = ",".join(map(str, statuses)) or "no response"
    result += f" then {how}{note}"
    if rest:
        result += f" (+{len(rest)} unparsed bytes: {rest[:60]!r})"
    ok = how in ("eof", "reset") and not rest and (
        statuses == [] or (len(statuses) == 1 and statuses[0] in want))
    if statuses and how == "reset":
        ok = False  # a response followed by a reset may be lost by the client: lingering close
    if ok and not healthy():
        ok = False
        result += "; node UNHEALTHY afterwards"
    record(name, ok, result)


def valid_case(name, payload, want_bodies):
    """A well-formed request sequence: exactly these 200 bodies in order, then EOF."""
    s = connect()
    try:
        send_all(s, payload)
        data, how = read_until_close(s, 3.0)
    finally:
        s.close()
    resp, rest = parse_responses(data)
    got = [(r[0], r[2]) for r in resp]
    ok = how == "eof" and not rest and got == [(200, b) for b in want_bodies]
    result = (",".join(str(r[0]) for r in resp) or "no response") + f" then {how}"
    if ok and not healthy():
        ok = False
        result += "; node UNHEALTHY afterwards"
    record(name, ok, result)


GET = b"GET " + P + b"/hello.txt HTTP/1.1\r\n"
H = b"Host: 127.0.0.1\r\n"
END = b"\r\n"


def get_with(*fields, line=None):
    return (line if line is not None else GET) + b"".join(fields) + END


def target(path):
    return b"GET " + path + b" HTTP/1.1\r\n" + H + END


if part == "malformed":
    # --- framing: Content-Length and Transfer-Encoding -----------------------------------
    case("CL and TE both", b"POST " + P + b"/hello.txt HTTP/1.1\r\n" + H +
         b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    case("TE and CL both (TE first)", get_with(H, b"Transfer-Encoding: chunked\r\n", b"Content-Length: 0\r\n") + b"0\r\n\r\n")
    case("two Content-Length, equal", get_with(H, b"Content-Length: 3\r\n", b"Content-Length: 3\r\n") + b"abc")
    case("two Content-Length, different", get_with(H, b"Content-Length: 3\r\n", b"Content-Length: 4\r\n") + b"abcd")
    case("Content-Length list '3, 3'", get_with(H, b"Content-Length: 3, 3\r\n") + b"abc")
    case("Content-Length '+3'", get_with(H, b"Content-Length: +3\r\n") + b"abc")
    case("Content-Length '-1'", get_with(H, b"Content-Length: -1\r\n"))
    case("Content-Length '1 2' (space inside)", get_with(H, b"Content-Length: 1 2\r\n") + b"x" * 12)
    case("Content-Length hex '0x3'", get_with(H, b"Content-Length: 0x3\r\n") + b"abc")
    case("Content-Length empty", get_with(H, b"Content-Length: \r\n"))
    case("Content-Length overflow (20 digits)", get_with(H, b"Content-Length: 99999999999999999999\r\n"))
    case("Content-Length 2^64 (wraps to 0)", get_with(H, b"Content-Length: 18446744073709551616\r\n"))
    case("Content-Length above max_body_bytes", get_with(H, b"Content-Length: 100000000\r\n") + b"x" * 100,
         want=(413,))
    case("TE 'chunked, identity'", get_with(H, b"Transfer-Encoding: chunked, identity\r\n") + b"0\r\n\r\n")
    case("TE 'identity, chunked'", get_with(H, b"Transfer-Encoding: identity, chunked\r\n") + b"0\r\n\r\n")
    case("TE 'xchunked'", get_with(H, b"Transfer-Encoding: xchunked\r\n") + b"0\r\n\r\n", want=(501,))
    case("TE 'gzip'", get_with(H, b"Transfer-Encoding: gzip\r\n") + b"0\r\n\r\n", want=(501,))
    case("TE 'chunked' + vertical tab", get_with(H, b"Transfer-Encoding: chunked\x0b\r\n") + b"0\r\n\r\n")
    case("TE 'chunked' + form feed", get_with(H, b"Transfer-Encoding: \x0cchunked\r\n") + b"0\r\n\r\n")
    case("TE '\"chunked\"' quoted", get_with(H, b"Transfer-Encoding: \"chunked\"\r\n") + b"0\r\n\r\n")
    case("TE twice", get_with(H, b"Transfer-Encoding: chunked\r\n", b"Transfer-Encoding: chunked\r\n") + b"0\r\n\r\n")
    case("TE chunked then TE identity", get_with(H, b"Transfer-Encoding: chunked\r\n", b"Transfer-Encoding: identity\r\n") + b"0\r\n\r\n")
    case("TE in HTTP/1.0", get_with(H, b"Transfer-Encoding: chunked\r\n", line=b"GET " + P + b"/hello.txt HTTP/1.0\r\n") + b"0\r\n\r\n")
    case("Expect: something-else", get_with(H, b"Expect: 200-ok\r\n"), want=(417,))
    # --- header syntax ---------------------------------------------------------------------
    case("obs-fold (space)", get_with(H, b"X-A: a\r\n", b" folded\r\n"))
    case("obs-fold (tab)", get_with(H, b"X-A: a\r\n", b"\tfolded\r\n"))
    case("whitespace before the first field", get_with(b" " + H))
    case("space before colon", get_with(H, b"X-A : a\r\n"))
    case("space before colon (Transfer-Encoding)", get_with(H, b"Transfer-Encoding : chunked\r\n") + b"0\r\n\r\n")
    case("field name 'Fo(o'", get_with(H, b"Fo(o: x\r\n"))
    case("field name with \\x01", get_with(H, b"Foo\x01: x\r\n"))
    case("field name empty (': x')", get_with(H, b": x\r\n"))
    case("field without colon", get_with(H, b"NoColonHere\r\n"))
    case("bare CR in a field value", get_with(H, b"X-A: a\rb\r\n"))
    case("bare LF line endings", b"GET " + P + b"/hello.txt HTTP/1.1\nHost: 127.0.0.1\n\n")
    case("bare LF ending one field", get_with(H, b"X-A: a\n", b"X-B: b\r\n"))
    case("bare LF as the empty line", get_with(H) [:-2] + b"\n")
    case("NUL in a field value", get_with(H, b"X-A: a\x00b\r\n"))
    case("DEL in a field value", get_with(H, b"X-A: a\x7fb\r\n"))
    case("five empty lines first", b"\r\n" * 5 + get_with(H))
    # --- request line ----------------------------------------------------------------------
    case("NUL in the request line", b"GET " + P + b"/hello.txt\x00 HTTP/1.1\r\n" + H + END)
    case("NUL in the method", b"G\x00T " + P + b"/hello.txt HTTP/1.1\r\n" + H + END)
    case("invalid method 'G(T'", b"G(T " + P + b"/hello.txt HTTP/1.1\r\n" + H + END)
    case("invalid method 'GET:'", b"GET: " + P + b"/hello.txt HTTP/1.1\r\n" + H + END)
    case("no space after the method", b"GET" + P + b"/hello.txt HTTP/1.1\r\n" + H + END)
    case("no space before the version", b"GET " + P + b"/hello.txtHTTP/1.1\r\n" + H + END)
    case("no version", b"GET " + P + b"/hello.txt\r\n" + H + END)
    case("two spaces after the method", b"GET  " + P + b"/hello.txt HTTP/1.1\r\n" + H + END)
    case("two spaces before the version", b"GET " + P + b"/hello.txt  HTTP/1.1\r\n" + H + END)
    case("trailing space after the version", b"GET " + P + b"/hello.txt HTTP/1.1 \r\n" + H + END)
    case("leading space", b" GET " + P + b"/hello.txt HTTP/1.1\r\n" + H + END)
    case("tab as separator", b"GET\t" + P + b"/hello.txt HTTP/1.1\r\n" + H + END)
    case("lowercase version 'http/1.1'", b"GET " + P + b"/hello.txt http/1.1\r\n" + H + END)
    case("HTTP/2.0", b"GET " + P + b"/hello.txt HTTP/2.0\r\n" + H + END, want=(505,))
    case("HTTP/0.9", b"GET " + P + b"/hello.txt HTTP/0.9\r\n" + H + END, want=(505,))
    case("HTTP/1.x", b"GET " + P + b"/hello.txt HTTP/1.x\r\n" + H + END)
    case("HTTP/1.10", b"GET " + P + b"/hello.txt HTTP/1.10\r\n" + H + END)
    case("non-ASCII in the target", b"GET " + P + b"/h\xe9llo.txt HTTP/1.1\r\n" + H + END)
    # --- Host ------------------------------------------------------------------------------
    case("HTTP/1.1 without Host", get_with())
    case("two Host fields", get_with(H, b"Host: other\r\n"))
    case("two Host fields, same value", get_with(H, H))
    case("Host 'a b'", get_with(b"Host: a b\r\n"))
    case("Host 'a/b'", get_with(b"Host: a/b\r\n"))
    case("Host 'a@b'", get_with(b"Host: a@b\r\n"))
    # --- size limits -----------------------------------------------------------------------
    case("request line of 20 KB", b"GET " + P + b"/" + b"a" * 20000 + b" HTTP/1.1\r\n" + H + END, want=(400, 414, 431))
    case("field line of 10 KB", get_with(H, b"X-Long: " + b"a" * 10000 + b"\r\n"), want=(400, 431))
    case("100 header fields", get_with(H, *[b"X-F%d: v\r\n" % i for i in range(100)]), want=(400, 431))
    case("head above 8 KiB in total", get_with(H, *[b"X-F%d: %s\r\n" % (i, b"v" * 300) for i in range(30)]),
         want=(400, 431))
    case("endless head (64 KiB, no CRLF)", b"GET " + P + b"/hello.txt HTTP/1.1\r\n" + H + b"X: " + b"a" * 65536,
         want=(400, 431))
    # --- chunked bodies --------------------------------------------------------------------
    TE = b"Transfer-Encoding: chunked\r\n"
    case("chunk size 'zz'", get_with(H, TE) + b"zz\r\nhello\r\n0\r\n\r\n")
    case("chunk size of 17 hex digits", get_with(H, TE) + b"1" + b"0" * 16 + b"\r\nhello\r\n0\r\n\r\n")
    case("chunk size '-5'", get_with(H, TE) + b"-5\r\nhello\r\n0\r\n\r\n")
    case("chunk size '0x5'", get_with(H, TE) + b"0x5\r\nhello\r\n0\r\n\r\n")
    case("chunk size ' 5' (leading space)", get_with(H, TE) + b" 5\r\nhello\r\n0\r\n\r\n")
    case("chunk size '5 ' (trailing space)", get_with(H, TE) + b"5 \r\nhello\r\n0\r\n\r\n")
    case("no CRLF after chunk data", get_with(H, TE) + b"5\r\nhelloXX0\r\n\r\n")
    case("bare LF after chunk data", get_with(H, TE) + b"5\r\nhello\n0\r\n\r\n")
    case("bare LF after chunk size", get_with(H, TE) + b"5\nhello\r\n0\r\n\r\n")
    case("chunk extension of 5 KiB", get_with(H, TE) + b"5;ext=" + b"a" * 5120 + b"\r\nhello\r\n0\r\n\r\n")
    case("chunk extension with NUL", get_with(H, TE) + b"5;e\x00x\r\nhello\r\n0\r\n\r\n")
    case("trailer of 5 KiB", get_with(H, TE) + b"0\r\nX-T: " + b"a" * 5120 + b"\r\n\r\n")
    # --- paths -----------------------------------------------------------------------------
    case("path '/s/<id>/../x'", target(P + b"/../" + P[1:] + b"/hello.txt"))
    case("path '/s/<id>/./hello.txt'", target(P + b"/./hello.txt"))
    case("path '%2e%2e'", target(P + b"/%2e%2e/" + P[1:] + b"/hello.txt"))
    case("path '%2E%2E' uppercase", target(P + b"/x/%2E%2E/hello.txt"))
    case("path '.%2e'", target(P + b"/x/.%2e/hello.txt"))
    case("path with '%2F'", target(P + b"/x%2Fhello.txt"))
    case("path with '%5C' (encoded backslash)", target(P + b"/x%5Chello.txt"))
    case("path with '%00'", target(P + b"/hello.txt%00"))
    case("path with '%0a'", target(P + b"/hello%0a.txt"))
    case("path with '%zz' (bad escape)", target(P + b"/hello%zz.txt"))
    case("path with '%2' (cut escape)", target(P + b"/hello.txt%2"))
    case("path with a backslash", target(P + b"\\hello.txt"))
    case("path with '//'", target(P + b"//hello.txt"))
    case("path '//' at the start", target(b"/" + P + b"/hello.txt"))
    case("path with a fragment '#'", target(P + b"/hello.txt#frag"))
    case("path of 2200 bytes", target(P + b"/" + b"a" * 2200))
    case("absolute-form 'ftp://x/'", b"GET ftp://x/ HTTP/1.1\r\n" + H + END)
    case("absolute-form with userinfo", b"GET http://u@127.0.0.1" + P + b"/hello.txt HTTP/1.1\r\n" + H + END)
    case("target 'x'", b"GET x HTTP/1.1\r\n" + H + END)
    case("target '*' with GET", b"GET * HTTP/1.1\r\n" + H + END)
    case("CONNECT authority-form", b"CONNECT 127.0.0.1:443 HTTP/1.1\r\n" + H + END, want=(400, 405))
    # --- smuggling: the request behind the bad one must never be answered ------------------
    SMUGGLED = b"GET " + P + b"/hello.txt HTTP/1.1\r\n" + H + END
    case("smuggle: CL+TE then a GET", b"POST " + P + b"/hello.txt HTTP/1.1\r\n" + H +
         b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED)
    case("smuggle: TE+CL then a GET", b"POST " + P + b"/hello.txt HTTP/1.1\r\n" + H +
         b"Transfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n" + SMUGGLED)
    case("smuggle: CL, CL then a GET", b"POST " + P + b"/hello.txt HTTP/1.1\r\n" + H +
         b"Content-Length: 0\r\nContent-Length: 5\r\n\r\n" + SMUGGLED)
    case("smuggle: TE obfuscated then a GET", b"POST " + P + b"/hello.txt HTTP/1.1\r\n" + H +
         b"Transfer-Encoding: chunked\r\nTransfer-encoding: cow\r\n\r\n0\r\n\r\n" + SMUGGLED)
    case("smuggle: bad chunk then a GET", get_with(H, TE) + b"5\r\nhelloXX\r\n0\r\n\r\n" + SMUGGLED)
    case("smuggle: bad path then a GET", target(P + b"/../x") + SMUGGLED)
    # --- well-formed framing: a body is consumed, never read as a request ------------------
    valid_case("valid: CL body holding a request", get_with(H, b"Content-Length: %d\r\n" % len(SMUGGLED)) +
               SMUGGLED + get_with(H, b"Connection: close\r\n"), [hello, hello])
    valid_case("valid: chunked body holding a request",
               get_with(H, TE) + b"%x\r\n" % len(SMUGGLED) + SMUGGLED + b"\r\n0\r\n\r\n" +
               get_with(H, b"Connection: close\r\n"), [hello, hello])
    valid_case("valid: TE 'chunked' with OWS around it",
               get_with(H, b"Transfer-Encoding: \t chunked \t\r\n") + b"5;name=value\r\nhello\r\n0\r\nX-T: t\r\n\r\n" +
               get_with(H, b"Connection: close\r\n"), [hello, hello])
    valid_case("valid: TE 'Chunked' (case-insensitive)",
               get_with(H, b"Transfer-Encoding: Chunked\r\n") + b"5\r\nhello\r\n0\r\n\r\n" +
               get_with(H, b"Connection: close\r\n"), [hello, hello])
    valid_case("valid: 4 empty lines before the request line", b"\r\n" * 4 + get_with(H, b"Connection: close\r\n"), [hello])
    valid_case("valid: absolute-form http://", b"GET http://127.0.0.1" + P + b"/hello.txt HTTP/1.1\r\nConnection: close\r\n\r\n", [hello])

elif part == "bodies":
    # Bodies larger than the read buffer (16 KiB) but within max_body_bytes (64 KiB) are
    # read and dropped; larger ones get 413. GET with a body is allowed (the body is ignored).
    TE = b"Transfer-Encoding: chunked\r\n"
    for n in (1000, 20000, 60000):
        valid_case(f"valid: Content-Length body of {n} bytes",
                   get_with(H, b"Content-Length: %d\r\n" % n) + b"x" * n + get_with(H, b"Connection: close\r\n"),
                   [hello, hello])
        valid_case(f"valid: chunked body of {n} bytes in one chunk",
                   get_with(H, TE) + b"%x\r\n" % n + b"x" * n + b"\r\n0\r\n\r\n" + get_with(H, b"Connection: close\r\n"),
                   [hello, hello])
    valid_case("valid: chunked body of 30000 bytes in 1000-byte chunks",
               get_with(H, TE) + (b"3e8\r\n" + b"y" * 1000 + b"\r\n") * 30 + b"0\r\n\r\n" +
               get_with(H, b"Connection: close\r\n"), [hello, hello])
    case("chunked body above max_body_bytes", get_with(H, TE) + (b"8000\r\n" + b"x" * 0x8000 + b"\r\n") * 4 + b"0\r\n\r\n",
         want=(413,))
    case("Content-Length body above max_body_bytes", get_with(H, b"Content-Length: 70000\r\n") + b"x" * 70000,
         want=(413,))

elif part == "pipeline":
    n = 1000
    reqs = []
    for i in range(n):
        close = b"Connection: close\r\n" if i == n - 1 else b""
        reqs.append(b"GET " + P + b"/f%d.bin HTTP/1.1\r\n" % (i % 5) + H + close + END)
    payload = b"".join(reqs)
    s = connect()
    # Send from a thread: the responses (MBs) fill the socket buffers long before the
    # requests are all written, and a single-threaded client would deadlock with the server.
    sender = threading.Thread(target=send_all, args=(s, payload))
    t0 = time.monotonic()
    sender.start()
    data, how = read_until_close(s, 30)
    sender.join(5)
    s.close()
    resp, rest = parse_responses(data)
    bad = [i for i, r in enumerate(resp) if r[0] != 200 or r[2] != files[i % 5]]
    ok = how == "eof" and len(resp) == n and not bad and not rest
    record(f"{n} pipelined GETs in one write ({len(payload)} bytes)", ok,
           f"{len(resp)} responses, {len(bad)} wrong (first: {bad[:1]}), then {how}, "
           f"{time.monotonic() - t0:.2f} s, {len(data)} bytes")

elif part == "timeouts":
    def time_to_close(s, limit=6):
        t0 = time.monotonic()
        data, how = read_until_close(s, limit)
        return data, how, time.monotonic() - t0

    def get_hello(s):
        """One GET of hello.txt on `s`; returns (parsed responses, raw bytes read)."""
        s.sendall(b"GET " + P + b"/hello.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        data = b""
        s.settimeout(3)
        while True:
            resp, _ = parse_responses(data)
            if resp:
                return resp, data
            chunk = s.recv(65536)
            if not chunk:
                return resp, data
            data += chunk

    def check_closed(name, s, lo, hi, allow=(b"",)):
        data, how, took = time_to_close(s)
        s.close()
        ok = how in ("eof", "reset") and lo <= took <= hi
        resp, _ = parse_responses(data)
        if data and not (len(resp) == 1 and resp[0][0] == 408):
            ok = False
        record(name, ok, f"{how} after {took:.2f} s" + (f", got {data[:40]!r}" if data else ", no response"))

    # A partial head, then silence: closed after request_head_timeout_ms (1 s).
    s = connect()
    s.sendall(b"GET " + P + b"/hello.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    check_closed("partial head then silence (head timeout 1 s)", s, 0.7, 3.0)

    # A head trickled one byte every 100 ms: the deadline is for the whole head, not reset by
    # each byte, so the connection is closed after about 1 s although bytes keep coming.
    s = connect()
    t0 = time.monotonic()
    how, took = "timeout", 0.0
    for i in range(60):
        try:
            s.sendall(b"X" if i else b"G")
        except (ConnectionResetError, BrokenPipeError):
            how = "reset"
            break
        s.settimeout(0.1)
        try:
            if s.recv(4096) == b"":
                how = "eof"
                break
        except socket.timeout:
            pass
        except ConnectionResetError:
            how = "reset"
            break
    took = time.monotonic() - t0
    s.close()
    record("head trickled 1 byte / 100 ms (slowloris)", how in ("eof", "reset") and 0.7 <= took <= 3.0,
           f"{how} after {took:.2f} s")

    # A connection that never sends anything: closed after keepalive_timeout_ms (1 s).
    s = connect()
    check_closed("new connection, nothing sent (keep-alive timeout 1 s)", s, 0.7, 3.0)

    # After a response on a keep-alive connection, idle: closed after keepalive_timeout_ms.
    s = connect()
    resp, data = get_hello(s)
    if not (resp and resp[0][0] == 200 and resp[0][2] == hello):
        record("idle keep-alive after a response", False, f"first response wrong: {data[:80]!r}")
    else:
        check_closed("idle keep-alive after a response (keep-alive timeout 1 s)", s, 0.7, 3.0)

    # A keep-alive connection in use is not cut: 4 requests 400 ms apart (1.6 s > timeout).
    s = connect()
    got = 0
    for i in range(4):
        resp, _ = get_hello(s)
        if resp and resp[0][0] == 200 and resp[0][2] == hello:
            got += 1
        time.sleep(0.4)
    s.close()
    record("busy keep-alive, 4 requests 400 ms apart", got == 4, f"{got}/4 answered")

    record("node healthy after the timeouts", healthy(), "GET hello.txt")

width = max(len(r[0]) for r in rows)
for name, verdict, result in rows:
    print(f"  {name:<{width}}  {verdict:<4}  {result}")
print(f"{part}: {len(rows)} cases, {len(failures)} failed")
for f in failures:
    print(f"FAILED CASE: {f}", file=sys.stderr)
sys.exit(1 if failures else 0)
PYEOF

probe() {
  local part=$1
  timeout 120 "$PYTHON" "$TEST_TMP/probe.py" "$NODE_ADDR" "$S" "$SRC" "$part" ||
    fail "$part: some cases failed (table above)"
}

step "malformed and smuggling-style requests, each on a new connection"
probe malformed

step "request bodies up to max_body_bytes are read and dropped, larger ones get 413"
probe bodies

step "1000 pipelined GETs in one write"
probe pipeline

step "slow and idle connections are closed (request_head_timeout_ms, keepalive_timeout_ms = 1000)"
probe timeouts

step "metrics count the timeouts and the 400s; the node is still serving"
expect_ok curl -sS --max-time 5 "http://$NODE_ADMIN/metrics"
METRICS=$RUN_OUT
TIMEOUTS=$(awk '$1 == "refuge_http_timeouts_total" {print $2}' <<<"$METRICS")
assert_int_ge "${TIMEOUTS:-0}" 4 "refuge_http_timeouts_total"
N400=$(awk '$1 == "refuge_http_requests_total{code=\"400\"}" {print $2}' <<<"$METRICS")
assert_int_ge "${N400:-0}" 60 "refuge_http_requests_total{code=\"400\"}"
expect_ok curl -sS --max-time 5 -o "$TEST_TMP/hello.got" "$NODE_URL/s/$S/hello.txt"
assert_same_file "$SRC/hello.txt" "$TEST_TMP/hello.got" "GET hello.txt after everything"
stop_node
