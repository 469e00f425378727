#!/usr/bin/env bash
#
# Benchmark of `refuge serve` against nginx and h2o, measured in the same run on the same files.
#
#   bench/serve_bench.sh [--duration S] [--json FILE] [--servers refuge,nginx,h2o] ...  (see --help)
#
# Files of 1 KiB, 10 KiB, 100 KiB and 1 MiB (random content) are generated in a temporary
# directory and published with `refuge publish`; nginx and h2o serve the same directory. Each
# server gets one worker, keep-alive, no access log, and runs alone (one server at a time),
# pinned to core 0; wrk runs on core 1 (wrk -t1 -c64), a 2 s warm-up and then DURATION
# seconds per file size. Before measuring, every file is fetched with curl and compared with
# its source; wrk's error counts are checked after each run. Reported: requests/s for 1, 10 and
# 100 KiB, transfer bytes/s for 1 MiB, and the ratios refuge/nginx and refuge/h2o.
#
# Then, per server, memory per idle keep-alive connection: N connections (default 5000) each
# send one GET, read the whole response and stay open and idle; the server's RSS (VmRSS,
# summed over its process tree) before and while they are held gives bytes per connection.
#
# Settings (equivalent across servers):
#   nginx: worker_processes 1, user root, sendfile on, tcp_nopush on, tcp_nodelay on,
#          open_file_cache, access_log off, keepalive_requests unlimited in practice
#          (so wrk's connections are not closed every 1000 requests; h2o and refuge do not
#          close them either), worker_connections 20000 (the idle test needs > 5000).
#   h2o:   num-threads 1, user root, no access-log, file.dir, max-connections 20000.
#   refuge: serve --threads 1, admin listener disabled, otherwise its defaults.
#
# Everything listens on 127.0.0.1 only; wrk runs are time-bounded; the servers are stopped
# (by process id) in an exit trap. Needs root for apt-get only when a tool is missing.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bench/serve_bench.sh [options]
  --refuge PATH        refuge binary (default: $REFUGE_BIN, build-release/refuge,
                       build-bench/refuge, build/refuge, PATH)
  --servers LIST       comma-separated subset of refuge,nginx,h2o (default: all three)
  --duration S         seconds per measured wrk run (default: $DURATION or 10)
  --warmup S           seconds of the warm-up run before each measured run (default 2)
  --connections C      wrk connections (default 64)
  --idle-conns N       idle keep-alive connections for the memory test; 0 skips it (default 5000)
  --idle-hold S        how long the idle connections are held (default 3; refuge closes
                       idle connections after 30 s, h2o after 10 s)
  --retries N          measure a size again, up to N times, when other processes took more
                       than 10% of a core (or steal did) during its run (default 2)
  --workdir DIR        where the temporary files and REFUGE_HOME go (default: $TMPDIR or /tmp)
  --json FILE          also write every figure as JSON to FILE (--json-out is the same)
  --no-install         do not apt-get install missing tools, fail instead
  -h, --help           this help
EOF
}

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname "$script_dir")

refuge_bin="${REFUGE_BIN:-}"
servers_arg="refuge,nginx,h2o"
duration="${DURATION:-10}"
warmup=2
conns=64
idle_n=5000
idle_hold=3
retries=2
workdir="${TMPDIR:-/tmp}"
json_out=""
install=1

die() { echo "serve_bench: $*" >&2; exit 1; }
posint() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 wants a positive whole number, got '$2'"; }

while [ $# -gt 0 ]; do
  opt=$1
  case "$opt" in
    -h|--help) usage; exit 0 ;;
    --no-install) install=0; shift; continue ;;
    --refuge|--servers|--duration|--warmup|--connections|--idle-conns|--idle-hold|--retries|--workdir|\
    --json|--json-out)
      [ $# -ge 2 ] || die "$opt wants a value"
      val=$2; shift 2 ;;
    *) usage >&2; die "unknown option '$opt'" ;;
  esac
  case "$opt" in
    --refuge) refuge_bin=$val ;;
    --servers) servers_arg=$val ;;
    --duration) posint "$opt" "$val"; duration=$val ;;
    --warmup) posint "$opt" "$val"; warmup=$val ;;
    --connections) posint "$opt" "$val"; conns=$val ;;
    --idle-conns) [[ "$val" =~ ^[0-9]+$ ]] || die "--idle-conns wants a whole number"; idle_n=$val ;;
    --idle-hold) posint "$opt" "$val"; idle_hold=$val ;;
    --retries) [[ "$val" =~ ^[0-9]+$ ]] || die "--retries wants a whole number"; retries=$val ;;
    --workdir) workdir=$val ;;
    --json|--json-out) json_out=$val ;;
  esac
done
posint DURATION "$duration"

servers=()
IFS=, read -r -a _req <<<"$servers_arg"
for s in refuge nginx h2o; do  # fixed order, each at most once
  for r in "${_req[@]}"; do [ "$r" = "$s" ] && { servers+=("$s"); break; }; done
done
for r in "${_req[@]}"; do
  [[ "$r" =~ ^(refuge|nginx|h2o)$ ]] || die "--servers: unknown server '$r' (refuge, nginx, h2o)"
done
[ ${#servers[@]} -gt 0 ] || die "--servers is empty"
want() { local s; for s in "${servers[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

# ---- prerequisites -----------------------------------------------------------------------
# Debian packages, installed only when the tool is missing (so running again changes nothing).
missing_pkgs=()
want nginx && ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ] && missing_pkgs+=(nginx)
want h2o && ! command -v h2o >/dev/null && missing_pkgs+=(h2o)
command -v wrk >/dev/null || missing_pkgs+=(wrk)
command -v curl >/dev/null || missing_pkgs+=(curl)
command -v taskset >/dev/null || missing_pkgs+=(util-linux)
if [ ${#missing_pkgs[@]} -gt 0 ]; then
  [ $install = 1 ] || die "missing: ${missing_pkgs[*]} (and --no-install was given)"
  [ "$(id -u)" = 0 ] || die "missing: ${missing_pkgs[*]}; run as root to apt-get install them"
  command -v apt-get >/dev/null || die "missing: ${missing_pkgs[*]} and no apt-get"
  pkgs=()
  for p in "${missing_pkgs[@]}"; do
    if [ "$p" = nginx ]; then
      # nginx-light is enough (static files only); the full package where it is not available.
      if apt-cache show nginx-light >/dev/null 2>&1; then pkgs+=(nginx-light); else pkgs+=(nginx); fi
    else
      pkgs+=("$p")
    fi
  done
  echo "serve_bench: installing ${pkgs[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${pkgs[@]}" >&2 ||
    { apt-get update -qq >&2 && apt-get install -y --no-install-recommends "${pkgs[@]}" >&2; } ||
    die "apt-get install ${pkgs[*]} failed"
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
h2o_bin=$(command -v h2o || true)
python_bin=/usr/bin/python3
[ -x "$python_bin" ] || python_bin=$(command -v python3 || true)
[ -n "$python_bin" ] || die "python3 is needed (the idle-connection client and JSON checks)"
for tool in curl cmp wrk taskset awk; do
  command -v "$tool" >/dev/null || die "missing $tool"
done

if want refuge; then
  if [ -z "$refuge_bin" ]; then
    for c in "$repo_dir/build-release/refuge" "$repo_dir/build-bench/refuge" "$repo_dir/build/refuge"; do
      if [ -x "$c" ] && "$c" serve --help >/dev/null 2>&1; then refuge_bin=$c; break; fi
    done
  fi
  if [ -z "$refuge_bin" ]; then refuge_bin=$(command -v refuge || true); fi
  { [ -n "$refuge_bin" ] && [ -x "$refuge_bin" ]; } ||
    die "no refuge binary with 'serve': build it or pass --refuge PATH (or --servers nginx,h2o)"
  refuge_bin=$(cd "$(dirname "$refuge_bin")" && pwd)/$(basename "$refuge_bin")
  "$refuge_bin" serve --help >/dev/null 2>&1 || die "$refuge_bin has no 'serve' command"
fi

nproc_n=$(nproc)
if [ "$nproc_n" -ge 2 ]; then
  server_cpu=0; client_cpu=1
else
  echo "serve_bench: WARNING: one CPU only; server and wrk share it" >&2
  server_cpu=0; client_cpu=0
fi
# exec: started with &, the function runs in a subshell; exec makes $! the server's own pid.
on_server_cpu() { exec taskset -c "$server_cpu" "$@"; }
on_client_cpu() { taskset -c "$client_cpu" "$@"; }

# The idle test holds N sockets in the client and N in the server (plus wrk's 64).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fd_limit=$(ulimit -n)
if [ "$idle_n" -gt 0 ] && [ "$fd_limit" != unlimited ] && [ $((idle_n + 200)) -gt "$fd_limit" ]; then
  die "--idle-conns $idle_n does not fit under the open-file limit $fd_limit"
fi
[ -d "$workdir" ] || die "--workdir $workdir does not exist"

bench_dir=$(mktemp -d "$workdir/refuge-serve-bench.XXXXXX")
srv_pids=()   # the server being measured and its children (stopped by process id)
cleanup() {
  local p
  for p in "${srv_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${srv_pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  rm -rf -- "$bench_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- helpers -------------------------------------------------------------------------------
now() { date +%s.%N; }
started=$(now)
log() { echo "$(awk -v a="$started" -v b="$(now)" 'BEGIN { printf "%6.1f", b - a }')s $*" >&2; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
free_port() {
  "$python_bin" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
descendants_of() { # every process below a process
  local c kids
  kids=$(cat /proc/"$1"/task/*/children 2>/dev/null || true)
  for c in $kids; do
    echo "$c"
    descendants_of "$c"
  done
}
wait_http() { # wait_http URL: up to 10 s for any HTTP answer
  for _ in $(seq 1 100); do
    curl -s -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.1
  done
  return 1
}

sizes=(1k 10k 100k 1m)
declare -A SIZE_BYTES=([1k]=1024 [10k]=10240 [100k]=102400 [1m]=1048576)
declare -A SIZE_LABEL=([1k]="1 KiB" [10k]="10 KiB" [100k]="100 KiB" [1m]="1 MiB")
files_dir=$bench_dir/files
mkdir -p "$files_dir"
for s in "${sizes[@]}"; do
  head -c "${SIZE_BYTES[$s]}" /dev/urandom >"$files_dir/$s.bin"
done
# mktemp -d makes the directory 0700; the servers run as root anyway (user root for nginx
# and h2o), but keep the files world-readable so a server that drops privileges still works.
chmod 755 "$bench_dir" "$files_dir"
chmod 644 "$files_dir"/*.bin

# ---- the servers ---------------------------------------------------------------------------
site_id=""
refuge_home=$bench_dir/refuge-home
if want refuge; then
  mkdir -p "$refuge_home"
  "$refuge_bin" --home "$refuge_home" site init --json >"$bench_dir/init.json" 2>"$bench_dir/init.err" ||
    { cat "$bench_dir/init.err" >&2; die "refuge site init failed"; }
  site_id=$(grep -o '"site_id": *"[a-z2-7]*"' "$bench_dir/init.json" | grep -o '"[a-z2-7]*"$' | tr -d '"')
  [ -n "$site_id" ] || die "refuge site init printed no site_id: $(cat "$bench_dir/init.json")"
  "$refuge_bin" --home "$refuge_home" publish --site "$site_id" "$files_dir" --json \
    >"$bench_dir/publish.json" 2>"$bench_dir/publish.err" ||
    { cat "$bench_dir/publish.err" >&2; die "refuge publish failed"; }
fi

srv_log=""
url_base=""
# start_server NAME: starts it on core 0 and sets srv_pids (main process first) and url_base.
start_server() {
  local name=$1 port
  srv_log=$bench_dir/$name.log
  case "$name" in
    refuge)
      rm -f "$refuge_home/serve.addr"
      on_server_cpu "$refuge_bin" --home "$refuge_home" serve --listen 127.0.0.1:0 --threads 1 \
        --no-admin >"$srv_log" 2>&1 &
      srv_pids=($!)
      local addr=""
      for _ in $(seq 1 100); do
        if [ -s "$refuge_home/serve.addr" ]; then addr=$(head -1 "$refuge_home/serve.addr"); break; fi
        kill -0 "${srv_pids[0]}" 2>/dev/null || break
        sleep 0.1
      done
      [ -n "$addr" ] || { cat "$srv_log" >&2; die "refuge serve wrote no serve.addr"; }
      url_base="http://$addr/s/$site_id"
      ;;
    nginx)
      port=$(free_port)
      mkdir -p "$bench_dir/nginx"
      cat >"$bench_dir/nginx/nginx.conf" <<EOF
daemon off;
user root;
worker_processes 1;
worker_rlimit_nofile 20000;
pid $bench_dir/nginx/nginx.pid;
error_log $bench_dir/nginx/error.log warn;
events {
  worker_connections 20000;
}
http {
  access_log off;
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 75s;
  keepalive_requests 100000000;
  open_file_cache max=1000 inactive=60s;
  open_file_cache_valid 60s;
  open_file_cache_errors on;
  client_body_temp_path $bench_dir/nginx/client_body;
  proxy_temp_path $bench_dir/nginx/proxy;
  fastcgi_temp_path $bench_dir/nginx/fastcgi;
  uwsgi_temp_path $bench_dir/nginx/uwsgi;
  scgi_temp_path $bench_dir/nginx/scgi;
  server {
    listen 127.0.0.1:$port backlog=4096;
    root $files_dir;
  }
}
EOF
      on_server_cpu "$nginx_bin" -e "$bench_dir/nginx/error.log" -p "$bench_dir/nginx" \
        -c "$bench_dir/nginx/nginx.conf" >"$srv_log" 2>&1 &
      srv_pids=($!)
      url_base="http://127.0.0.1:$port"
      ;;
    h2o)
      port=$(free_port)
      mkdir -p "$bench_dir/h2o"
      cat >"$bench_dir/h2o/h2o.conf" <<EOF
user: root
num-threads: 1
max-connections: 20000
pid-file: $bench_dir/h2o/h2o.pid
error-log: $bench_dir/h2o/error.log
listen:
  host: 127.0.0.1
  port: $port
hosts:
  default:
    paths:
      /:
        file.dir: $files_dir
EOF
      on_server_cpu "$h2o_bin" -c "$bench_dir/h2o/h2o.conf" >"$srv_log" 2>&1 &
      srv_pids=($!)
      url_base="http://127.0.0.1:$port"
      ;;
  esac
  if ! wait_http "$url_base/1k.bin"; then
    cat "$srv_log" >&2
    [ -f "$bench_dir/$name/error.log" ] && cat "$bench_dir/$name/error.log" >&2
    die "$name does not answer on $url_base"
  fi
  # nginx's worker, or any helper a server forks: stopped with it.
  local c
  for c in $(descendants_of "${srv_pids[0]}"); do srv_pids+=("$c"); done
}

stop_server() {
  local p
  for p in "${srv_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${srv_pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  wait "${srv_pids[0]}" 2>/dev/null || true
  srv_pids=()
}

# Fetches every file and compares it with its source byte for byte.
check_files() { # check_files NAME
  local s got
  for s in "${sizes[@]}"; do
    got=$bench_dir/got-$1-$s
    curl -sS --fail --max-time 10 -o "$got" "$url_base/$s.bin" ||
      die "$1: GET $url_base/$s.bin failed"
    cmp -s "$got" "$files_dir/$s.bin" || die "$1: $url_base/$s.bin differs from the source file"
    rm -f "$got"
  done
}

cat >"$bench_dir/report.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKRESULT %d %d %d %d %d %d %d %d\n", summary.requests, summary.bytes,
    summary.duration, e.connect, e.read, e.write, e.status, e.timeout))
end
EOF

# Interference: the CPU time that neither the server nor wrk used during a run. The machine's
# busy time (user, nice, system, irq and softirq of /proc/stat, both cores) minus the server's
# (its process tree, /proc/PID/stat) and wrk's (bash's time); steal (the hypervisor) apart.
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
machine_ticks() { # prints "busy steal" in clock ticks
  awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8, $9; exit }' /proc/stat
}
server_ticks() { # utime + stime of the server's processes
  local p total=0 t
  for p in "${srv_pids[@]}"; do
    t=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null || echo 0)
    total=$((total + ${t:-0}))
  done
  echo "$total"
}

declare -A RPS BPS REQS BYTES SECS ERRS OTHER STEAL SRVCPU WRKCPU ATTEMPTS
busy=0
# run_wrk NAME SIZE SECONDS MEASURE(0|1)
run_wrk() {
  local name=$1 s=$2 secs=$3 measure=$4 out line
  out=$bench_dir/wrk-$name-$s.out
  local busy0 steal0 srv0 busy1 steal1 srv1 wrk_u wrk_s
  read -r busy0 steal0 < <(machine_ticks)
  srv0=$(server_ticks)
  local TIMEFORMAT='%3U %3S'
  { time on_client_cpu wrk -t1 -c"$conns" -d"${secs}s" --timeout 5s -s "$bench_dir/report.lua" \
    "$url_base/$s.bin" >"$out" 2>&1; } 2>"$out.time" || { cat "$out" >&2; die "$name: wrk failed"; }
  read -r busy1 steal1 < <(machine_ticks)
  srv1=$(server_ticks)
  [ "$measure" = 1 ] || return 0
  read -r wrk_u wrk_s <"$out.time"
  line=$(grep '^WRKRESULT ' "$out" | tail -1)
  [ -n "$line" ] || { cat "$out" >&2; die "$name: no result from wrk"; }
  local _t req bytes dur ec er ew es et
  read -r _t req bytes dur ec er ew es et <<<"$line"
  [ "$req" -gt 0 ] || { cat "$out" >&2; die "$name $s: wrk completed no request"; }
  REQS[$name/$s]=$req; BYTES[$name/$s]=$bytes
  SECS[$name/$s]=$(awk -v d="$dur" 'BEGIN { printf "%.3f", d / 1e6 }')
  RPS[$name/$s]=$(awk -v r="$req" -v d="$dur" 'BEGIN { printf "%.0f", r / (d / 1e6) }')
  BPS[$name/$s]=$(awk -v b="$bytes" -v d="$dur" 'BEGIN { printf "%.0f", b / (d / 1e6) }')
  ERRS[$name/$s]="$ec $er $ew $es $et"
  # Percent of one core, over the run's duration.
  OTHER[$name/$s]=$(awk -v b="$((busy1 - busy0))" -v sv="$((srv1 - srv0))" -v wu="$wrk_u" -v ws="$wrk_s" \
    -v hz="$clk_tck" -v d="$dur" 'BEGIN { o = (b - sv) / hz - wu - ws; if (o < 0) o = 0; printf "%.0f", o / (d / 1e6) * 100 }')
  SRVCPU[$name/$s]=$(awk -v sv="$((srv1 - srv0))" -v hz="$clk_tck" -v d="$dur" \
    'BEGIN { printf "%.0f", sv / hz / (d / 1e6) * 100 }')
  WRKCPU[$name/$s]=$(awk -v wu="$wrk_u" -v ws="$wrk_s" -v d="$dur" 'BEGIN { printf "%.0f", (wu + ws) / (d / 1e6) * 100 }')
  STEAL[$name/$s]=$(awk -v st="$((steal1 - steal0))" -v hz="$clk_tck" -v d="$dur" \
    'BEGIN { printf "%.0f", st / hz / (d / 1e6) * 100 }')
  if [ $((ec + er + ew + es + et)) -gt 0 ]; then
    echo "  WARNING: $name ${SIZE_LABEL[$s]}: non-2xx/3xx responses $es, socket errors:" \
      "connect $ec, read $er, write $ew, timeout $et" >&2
    grep -E 'Non-2xx|Socket errors' "$out" | sed 's/^/    wrk: /' >&2 || true
  fi
  # Every response must carry the whole file: bytes per response minus the file size is the
  # response head, a few hundred bytes. wrk also counts the bytes of the responses still in
  # flight when it stops (up to one file per connection), hence the allowance.
  local head_bytes head_max
  head_bytes=$(awk -v b="$bytes" -v r="$req" -v z="${SIZE_BYTES[$s]}" 'BEGIN { printf "%.0f", b / r - z }')
  head_max=$(awk -v r="$req" -v z="${SIZE_BYTES[$s]}" -v c="$conns" 'BEGIN { printf "%.0f", 2000 + c * z / r }')
  if [ "$head_bytes" -lt 40 ] || [ "$head_bytes" -gt "$head_max" ]; then
    echo "  WARNING: $name ${SIZE_LABEL[$s]}: $head_bytes bytes per response besides the file" \
      "(not the file?)" >&2
  fi
  log "  $name ${SIZE_LABEL[$s]}: $(printf "%'d" "${RPS[$name/$s]}") req/s," \
    "$(awk -v b="${BPS[$name/$s]}" 'BEGIN { printf "%.1f", b / 1e6 }') MB/s" \
    "(head $head_bytes B; CPU: server ${SRVCPU[$name/$s]}%, wrk ${WRKCPU[$name/$s]}%," \
    "others ${OTHER[$name/$s]}%, steal ${STEAL[$name/$s]}%)"
  busy=0
  if [ "${OTHER[$name/$s]}" -gt 10 ] || [ "${STEAL[$name/$s]}" -gt 10 ]; then
    busy=1
    echo "  WARNING: $name ${SIZE_LABEL[$s]}: other work took ${OTHER[$name/$s]}% of a core" \
      "(steal ${STEAL[$name/$s]}%) during the run; this figure is low by up to that" >&2
  fi
}

# The idle keep-alive client: opens N connections, each sends one GET and reads the whole
# response, then all stay open and idle for HOLD seconds. It reads the server's RSS (VmRSS,
# summed over its process tree) before opening and while they are held.
cat >"$bench_dir/idle.py" <<'EOF'
import json, os, selectors, socket, sys, time

host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
n, hold, expect_len = int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
root_pid = int(sys.argv[7])
IN_FLIGHT = 200  # connects not yet answered, well under any listen backlog
DEADLINE = 120.0

def tree(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, t)) as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out

def rss_kib():
    total = 0
    for p in tree(root_pid):
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total

request = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: serve-bench-idle\r\n\r\n"
           % (path, host, port)).encode()
sel = selectors.DefaultSelector()
before = rss_kib()
idle, failed, errors = [], 0, {}
started, in_flight = 0, 0
t0 = time.monotonic()

def fail(sock, why):
    global failed, in_flight
    failed += 1
    in_flight -= 1
    errors[why] = errors.get(why, 0) + 1
    try:
        sel.unregister(sock)
    except Exception:
        pass
    sock.close()

while len(idle) + failed < n:
    if time.monotonic() - t0 > DEADLINE:
        break
    while started < n and in_flight < IN_FLIGHT:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((host, port))
        sel.register(s, selectors.EVENT_WRITE, {"state": "connect", "buf": b""})
        started += 1
        in_flight += 1
    for key, ev in sel.select(timeout=1.0):
        s, st = key.fileobj, key.data
        if st["state"] == "connect":
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                fail(s, os.strerror(err))
                continue
            try:
                s.send(request)  # small: one send
            except OSError as e:
                fail(s, str(e))
                continue
            st["state"] = "read"
            sel.modify(s, selectors.EVENT_READ, st)
            continue
        try:
            chunk = s.recv(65536)
        except OSError as e:
            fail(s, str(e))
            continue
        if not chunk:
            fail(s, "closed by server before the response ended")
            continue
        st["buf"] += chunk
        buf = st["buf"]
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            continue
        head = buf[:end].decode("latin-1").split("\r\n")
        if not head[0].startswith("HTTP/1.1 200"):
            fail(s, "status " + head[0])
            continue
        length = None
        for h in head[1:]:
            k, _, v = h.partition(":")
            if k.strip().lower() == "content-length":
                length = int(v.strip())
        if length != expect_len:
            fail(s, "content-length %r" % length)
            continue
        if len(buf) - (end + 4) < length:
            continue
        sel.unregister(s)
        in_flight -= 1
        idle.append(s)

opened_s = time.monotonic() - t0
time.sleep(0.5)
after_early = rss_kib()
time.sleep(max(0.0, hold - 0.5))
after = rss_kib()
# Still open? A closed connection is readable (EOF).
still_open = 0
for s in idle:
    sel.register(s, selectors.EVENT_READ)
ready = {k.fileobj for k, _ in sel.select(timeout=0)}
for s in idle:
    if s not in ready:
        still_open += 1
for s in idle:
    s.close()
ok = len(idle)
print(json.dumps({
    "requested": n, "ok": ok, "failed": failed, "errors": errors, "open_at_end": still_open,
    "open_seconds": round(opened_s, 3), "hold_s": hold,
    "rss_before_kib": before, "rss_after_0_5s_kib": after_early, "rss_after_kib": after,
    "bytes_per_conn": round((after - before) * 1024 / ok) if ok else None,
}))
EOF

declare -A IDLE
measure_idle() { # measure_idle NAME
  local name=$1 hostport host port path out
  hostport=${url_base#http://}; hostport=${hostport%%/*}
  host=${hostport%:*}; port=${hostport##*:}
  path=${url_base#http://"$hostport"}/1k.bin
  out=$bench_dir/idle-$name.json
  sleep 1  # let the last wrk connections close
  on_client_cpu "$python_bin" "$bench_dir/idle.py" "$host" "$port" "$path" "$idle_n" "$idle_hold" \
    "${SIZE_BYTES[1k]}" "${srv_pids[0]}" >"$out" || die "$name: the idle-connection client failed"
  IDLE[$name]=$(cat "$out")
  local summary
  summary=$("$python_bin" - "$name" "$out" <<'EOF'
import json, sys
d = json.load(open(sys.argv[2]))
print("%s idle: %d/%d connections answered (%d failed%s) in %.1f s, %d still open after %.0f s; "
      "RSS %d -> %d KiB: %s bytes per connection" % (sys.argv[1], d["ok"], d["requested"], d["failed"],
      (": " + ", ".join("%s x%d" % kv for kv in d["errors"].items())) if d["errors"] else "",
      d["open_seconds"], d["open_at_end"], d["hold_s"], d["rss_before_kib"], d["rss_after_kib"],
      d["bytes_per_conn"]))
print(int(d["ok"] == d["requested"] == d["open_at_end"]))
EOF
)
  log "  $(head -1 <<<"$summary")"
  if [ "$(tail -1 <<<"$summary")" != 1 ]; then
    echo "  WARNING: $name: not every idle connection was answered and kept open to the end;" \
      "bytes/conn divides by those answered" >&2
  fi
}

# ---- machine -----------------------------------------------------------------------------
cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
kernel=$(uname -r)
declare -A VERSION
want refuge && VERSION[refuge]=$("$refuge_bin" --version 2>&1 | head -1 || true)
want nginx && VERSION[nginx]=$("$nginx_bin" -v 2>&1 | head -1 | sed 's/^nginx version: //')
want h2o && VERSION[h2o]=$("$h2o_bin" --version 2>&1 | head -1)
wrk_version=$( (wrk -v 2>&1 || true) | head -1 | awk '{ print $2 }')
load_start=$(loadavg)

echo "refuge serve benchmark: ${servers[*]}; wrk -t1 -c$conns, ${warmup}s warm-up + ${duration}s per size;" \
  "servers on CPU $server_cpu, wrk on CPU $client_cpu" >&2
echo "machine: $nproc_n CPUs ($cpu_model), kernel $kernel; open-file limit $fd_limit; load $load_start" >&2
for s in "${servers[@]}"; do echo "  $s: ${VERSION[$s]}" >&2; done
if awk -v l="${load_start%% *}" 'BEGIN { exit !(l > 1.0) }'; then
  echo "  note: load average $load_start; the CPU figures of each run below say whether other" \
    "work overlapped it (runs where it did are measured again, see --retries)" >&2
fi

# ---- measure -----------------------------------------------------------------------------
for name in "${servers[@]}"; do
  log "[$name] starting"
  start_server "$name"
  check_files "$name"
  log "[$name] serves the 4 files byte for byte at $url_base/ (pids ${srv_pids[*]})"
  for s in "${sizes[@]}"; do
    run_wrk "$name" "$s" "$warmup" 0
    ATTEMPTS[$name/$s]=1
    run_wrk "$name" "$s" "$duration" 1
    # Other work on the machine took part of a core: measure again (after a pause), up to
    # --retries times; the last attempt is kept.
    while [ "$busy" = 1 ] && [ "${ATTEMPTS[$name/$s]}" -le "$retries" ]; do
      log "  $name ${SIZE_LABEL[$s]}: measuring again, other work was running"
      sleep 10
      ATTEMPTS[$name/$s]=$((ATTEMPTS[$name/$s] + 1))
      run_wrk "$name" "$s" "$warmup" 0
      run_wrk "$name" "$s" "$duration" 1
    done
  done
  if [ "$idle_n" -gt 0 ]; then measure_idle "$name"; fi
  stop_server
done
load_end=$(loadavg)

# ---- report ------------------------------------------------------------------------------
ratio() { # ratio A B
  if [ -z "$1" ] || [ -z "$2" ]; then echo "-"; return; fi
  awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
}
fmt_val() { # fmt_val SIZE VALUE: req/s as an integer, bytes/s in MB/s
  if [ -z "$2" ]; then echo "-"; return; fi
  if [ "$1" = 1m ]; then awk -v b="$2" 'BEGIN { printf "%.1f MB/s", b / 1e6 }'
  else printf "%'d/s" "$2"; fi
}

echo
echo "== refuge serve vs nginx vs h2o, same files, same run =="
echo "   one server thread on CPU $server_cpu; wrk -t1 -c$conns -d${duration}s on CPU $client_cpu;" \
  "requests/s (1, 10, 100 KiB) and transfer bytes/s (1 MiB, MB = 10^6 bytes)"
printf '%-8s %15s %15s %15s %13s %11s\n' size refuge nginx h2o refuge/nginx refuge/h2o
json_sizes=""
for s in "${sizes[@]}"; do
  if [ "$s" = 1m ]; then metric=BPS; else metric=RPS; fi
  declare -n M=$metric
  r=${M[refuge/$s]:-}; n=${M[nginx/$s]:-}; h=${M[h2o/$s]:-}
  unset -n M
  printf '%-8s %15s %15s %15s %13s %11s\n' "${SIZE_LABEL[$s]}" "$(fmt_val "$s" "$r")" \
    "$(fmt_val "$s" "$n")" "$(fmt_val "$s" "$h")" "$(ratio "$r" "$n")" "$(ratio "$r" "$h")"
  js="\"$s\":{\"bytes\":${SIZE_BYTES[$s]},\"metric\":\"$([ "$s" = 1m ] && echo bytes_per_s || echo requests_per_s)\""
  for name in "${servers[@]}"; do
    read -r ec er ew es et <<<"${ERRS[$name/$s]}"
    js+=",\"$name\":{\"requests_per_s\":${RPS[$name/$s]},\"bytes_per_s\":${BPS[$name/$s]},"
    js+="\"requests\":${REQS[$name/$s]},\"bytes\":${BYTES[$name/$s]},\"seconds\":${SECS[$name/$s]},"
    js+="\"errors\":{\"connect\":$ec,\"read\":$er,\"write\":$ew,\"status\":$es,\"timeout\":$et},"
    js+="\"attempts\":${ATTEMPTS[$name/$s]},\"server_cpu_pct\":${SRVCPU[$name/$s]},\"wrk_cpu_pct\":${WRKCPU[$name/$s]},"
    js+="\"other_cpu_pct\":${OTHER[$name/$s]},\"steal_pct\":${STEAL[$name/$s]}}"
  done
  rn=$(ratio "$r" "$n"); rh=$(ratio "$r" "$h")
  js+=",\"refuge_over_nginx\":$([ "$rn" = - ] && echo null || echo "$rn")"
  js+=",\"refuge_over_h2o\":$([ "$rh" = - ] && echo null || echo "$rh")}"
  json_sizes+="${json_sizes:+,}$js"
done

json_idle=""
if [ "$idle_n" -gt 0 ]; then
  echo
  echo "== memory per idle keep-alive connection: $idle_n connections, one GET of 1 KiB each, then idle ${idle_hold}s =="
  echo "   RSS (VmRSS of the server's process tree) while they are held minus before they were opened"
  printf '%-8s %9s %12s %12s %12s\n' server open "RSS before" "RSS after" "bytes/conn"
  for name in "${servers[@]}"; do
    "$python_bin" - "$name" "${IDLE[$name]}" <<'EOF'
import json, sys
d = json.loads(sys.argv[2])
print("%-8s %9s %12s %12s %12s" % (sys.argv[1], "%d/%d" % (d["open_at_end"], d["requested"]),
      "%d KiB" % d["rss_before_kib"], "%d KiB" % d["rss_after_kib"],
      "-" if d["bytes_per_conn"] is None else "{:,}".format(d["bytes_per_conn"])))
EOF
    json_idle+="${json_idle:+,}\"$name\":${IDLE[$name]}"
  done
fi
total_s=$(awk -v a="$started" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
echo
echo "load average: $load_start at start, $load_end at end; total ${total_s} s"

if [ -n "$json_out" ]; then
  json="{\"machine\":{\"nproc\":$nproc_n,\"cpu\":\"$cpu_model\",\"kernel\":\"$kernel\","
  json+="\"load_start\":\"$load_start\",\"load_end\":\"$load_end\"},"
  json+="\"config\":{\"duration_s\":$duration,\"warmup_s\":$warmup,\"connections\":$conns,"
  json+="\"retries\":$retries,\"server_cpu\":$server_cpu,\"client_cpu\":$client_cpu,\"idle_conns\":$idle_n,\"idle_hold_s\":$idle_hold,"
  json+="\"wrk\":\"$wrk_version\",\"versions\":{"
  first=1
  for name in "${servers[@]}"; do
    [ $first = 1 ] || json+=","
    first=0
    json+="\"$name\":\"${VERSION[$name]//\"/}\""
  done
  json+="}},\"sizes\":{$json_sizes},\"idle\":{$json_idle},\"total_s\":$total_s}"
  printf '%s\n' "$json" | "$python_bin" -c 'import json, sys; json.dump(json.load(sys.stdin), sys.stdout, indent=1)' \
    >"$json_out" || die "the JSON report is malformed"
  echo "figures written to $json_out"
fi
