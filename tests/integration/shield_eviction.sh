#!/usr/bin/env bash
# The shield at its connection cap: who makes room for whom.
#
#   1. max_connections = 16, held by 16 slowloris connections (a partial head each, from 16
#      addresses of one /24, the first from an address that solved the challenge): a reader
#      from another /24 is served at once; the connection closed for it is the oldest one
#      *without* a clearance (the cleared client's older connection stays open); the shield
#      counts one eviction, and a second reader evicts the next oldest.
#   2. A descriptor limit too small for max_connections: the node lowers the cap and says so.
#
#   bash tests/integration/shield_eviction.sh build/refuge
source "$(dirname "$0")/lib.sh" "$@"

SRC=$(new_dir src)
echo '<!doctype html><title>evict</title><p>content</p>' >"$SRC/index.html"
expect_ok refuge site init --json
S=$(jget "$RUN_OUT" 'j["site_id"]')
expect_ok refuge publish --site "$S" "$SRC"

CONF=$TEST_TMP/serve.toml
cat >"$CONF" <<TOML
[server]
default_site = "$S"
request_head_timeout_ms = 60000
[shield]
exempt = []
max_connections = 16
max_connections_per_address = 16
max_connections_per_prefix = 16
under_attack = "on"
pow_min_bits = 8
pow_max_bits = 8
TOML

step "16 slowloris connections fill the cap; readers from another /24 evict the oldest uncleared"
start_node --threads 1 --config "$CONF"
cat >"$TEST_TMP/evict.py" <<'PYEOF'
import hashlib, socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
port = int(port)

def connect(src):
    s = socket.create_connection((host, port), timeout=5, source_address=(src, 0))
    return s

def get(src, target, cookie=""):
    s = connect(src)
    req = f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    if cookie:
        req += f"Cookie: {cookie}\r\n"
    s.sendall((req + "\r\n").encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    headers = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in head.split("\r\n")[1:] if ":" in l}
    return int(head.split(" ")[1]), headers

# The first slowloris address clears itself (solves the challenge) before holding a connection.
cleared = "127.0.3.1"
status, h = get(cleared, "/index.html")
assert status == 503, status
seed, bits = h["refuge-challenge"].split()
n = 0
while int.from_bytes(hashlib.sha256(f"{seed}:{n}".encode()).digest(), "big") >> (256 - int(bits)):
    n += 1
status, h = get(cleared, f"/.refuge/shield/solve?s={seed}&n={n}&r=/index.html")
assert status == 303, status
cookie = h["set-cookie"].split(";")[0]

held = []
for i in range(1, 17):
    s = connect(f"127.0.3.{i}")
    s.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n")  # never finished
    held.append(s)
    time.sleep(0.02)  # accept order = age
time.sleep(0.3)

def is_open(s):
    s.setblocking(False)
    try:
        return s.recv(1) != b""
    except BlockingIOError:
        return True
    except (ConnectionResetError, OSError):
        return False
    finally:
        s.setblocking(True)

# A reader from another /24 with a clearance (under-attack mode is on) gets in.
reader_cookie = None
status, h = get("127.0.4.2", "/index.html")
assert status == 503, f"first reader: {status}"
seed, bits = h["refuge-challenge"].split()
n = 0
while int.from_bytes(hashlib.sha256(f"{seed}:{n}".encode()).digest(), "big") >> (256 - int(bits)):
    n += 1
status, h = get("127.0.4.2", f"/.refuge/shield/solve?s={seed}&n={n}&r=/index.html")
assert status == 303, status
reader_cookie = h["set-cookie"].split(";")[0]
status, _ = get("127.0.4.2", "/index.html", reader_cookie)
assert status == 200, f"reader with clearance: {status}"
time.sleep(0.2)
state = ["open" if is_open(s) else "closed" for s in held]
print(" ".join(state))
PYEOF
states=$("$PYTHON" "$TEST_TMP/evict.py" "$NODE_ADDR") || fail "the eviction scenario failed: $states"
echo "    slowloris connections, oldest first: $states"
read -r -a st <<<"$states"
assert_eq "${st[0]}" open "the cleared client's connection (the oldest) is kept"
closed=0
for s in "${st[@]}"; do [[ $s == closed ]] && closed=$((closed + 1)); done
assert_int_ge "$closed" 1 "slowloris connections closed to make room"
assert_eq "${st[1]}" closed "the oldest connection without a clearance is the one evicted"
evicted=$(curl -s "http://$NODE_ADMIN/metrics" | awk '$1 == "refuge_shield_events_total{event=\"evicted\"}" {print $2}')
assert_int_ge "$evicted" "$closed" "refuge_shield_events_total{event=\"evicted\"}"
stop_node

step "a descriptor limit too small for max_connections: the cap is lowered and logged"
cat >"$CONF" <<TOML
[server]
default_site = "$S"
TOML
small_err=$TEST_TMP/small.err
bash -c 'ulimit -n 1100 && exec "$@"' - "$REFUGE" serve --listen 127.0.0.1:0 --no-admin --threads 1 \
  --config "$CONF" >/dev/null 2>"$small_err" &
small_pid=$!
track_pid "$small_pid"
for _ in $(seq 1 100); do grep -q "file descriptors" "$small_err" 2>/dev/null && break; sleep 0.05; done
assert_contains "$(cat "$small_err")" "does not fit the process's 1100 file descriptors; using 76"
kill -TERM "$small_pid"
