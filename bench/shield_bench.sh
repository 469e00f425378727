#!/usr/bin/env bash
#
# Benchmark of the shield: legitimate readers beside slowloris and floods, `refuge serve`
# against nginx configured with the conventional defence, the same scenarios in the same run.
#
#   bench/shield_bench.sh [--runs N] [--duration S] [--json FILE] [--scenarios a,b,c,d,a24] ...
#                                                                             (see --help)
#
# One small site (index.html of 1,920 bytes and three assets of 0.8 to 4 KiB, random content)
# is generated in a temporary directory and published with `refuge publish`; nginx serves the
# same source directory at the same paths (refuge through `default_site`, so /index.html
# works on both). Before each scenario every file is fetched with curl and compared with its
# source. Each scenario gets a fresh server process (so its peak memory is that scenario's),
# alone on the machine's core 0 (`taskset -c 0`); `refuge-load` (tools/load) runs on core 1
# for DURATION seconds (default 25) and plays, at the same time:
#
#   readers   20 legitimate readers, one keep-alive connection each, from 20 addresses of a
#             /24 of their own (127.10.0.1-20), each GETting /index.html, /assets/style.css,
#             /assets/app.js, /assets/logo.png in turn with 100 ms between an answer and the
#             next request: at most 10 requests/s per address, half the per-address limit.
#             They run on their own thread in refuge-load; they solve refuge's proof-of-work
#             challenge when they meet it, and that time counts in their latency. Success is a
#             2xx with the whole body within 5 s; a 429, a reset, a timeout is a failure.
#   (a)  slowloris: 15,000 connections from 15,000 addresses, 127.3.0.1 onwards (59 /24s, one
#        connection per address, so neither per-address nor per-/24 caps are what stops them),
#        each sending a header line every 5 s and never the end of the head; reopened when
#        the server closes them.
#   (a24) the same 15,000 from one /24 (127.7.0.1-254, 59 per address: under the per-address
#        cap of 64, far over refuge's per-/24 cap of 512).
#   (b)  flood from one address (127.1.0.1) at full speed: 100 keep-alive connections (the
#        per-address cap of 64 and 36 more), GETs back to back, ignoring 429 and Retry-After.
#   (c)  flood from 5,000 addresses (127.2.0.1 onwards, 20 /24s), each at 5 requests/s (a
#        quarter of the per-address rate), one new connection per request, at most 1,000 in
#        flight (refuge-load skips an address's turn when all are busy).
#   (d)  (a), (b) and (c) at once: the server holds about 16,100 connections.
#
# Reported per scenario and server: the readers' requests, success rate, latency p50/p99/max
# (ms, from when the request was due to the last byte, reconnects and challenges included);
# the server's peak memory (VmHWM of the serving process: refuge's, nginx's worker); its CPU;
# what the attackers saw (answers by status, connections refused, reset, closed, held); for
# refuge the shield's counters from /metrics at the end. Then the ratios refuge/nginx and
# the targets: refuge's readers' success >= 99.9 %, p99 <= 50 ms, neither worse than nginx.
# With --runs N every figure is the median of N runs, with the range. Keep DURATION at 20 s or
# more: each reader meets refuge's challenge once (20 requests), and under about 2,000
# readers' requests those exceed 1 % and set the p99 by themselves.
#
# Settings (equivalent per-address rate and caps on both):
#   refuge: serve --threads 1; its defaults (docs/CONFIG.md: per address 20 requests/s burst
#           100 and 64 connections; per /24 200/s burst 800 and 512 connections; 16,384
#           connections in all; head timeout 10 s shrinking to 2 s as the node fills;
#           keep-alive 30 s; under-attack mode auto with a 14-20 bit proof of work) except
#           `[shield] exempt = []` (loopback is exempt by default) and the admin listener on a
#           free loopback port for /metrics.
#   nginx:  worker_processes 1 (worker_cpu_affinity and taskset: core 0), worker_rlimit_nofile
#           20000, worker_connections 20000, sendfile, open_file_cache, access_log off,
#           error_log at crit (so rejections are not logged one line each); the conventional
#           defence: limit_req_zone $binary_remote_addr rate=20r/s, limit_req burst=100
#           nodelay, limit_req_status 429; limit_conn_zone $binary_remote_addr, limit_conn 64,
#           limit_conn_status 429; client_header_timeout 10s, client_body_timeout 10s,
#           send_timeout 10s, keepalive_timeout 30s, reset_timedout_connection on.
#
# File descriptors: 20,000 per process here; scenario (d) needs about 16,200 on each side
# (refuge-load uses one process). Everything listens on 127.0.0.1; every refuge-load run is
# time-bounded; the servers are stopped (by process id) in an exit trap. Needs root for
# apt-get only when a tool is missing.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bench/shield_bench.sh [options]
  --refuge PATH          refuge binary (default: $REFUGE_BIN, build-bench-shield/refuge,
                         build-release/refuge, build-bench/refuge, build/refuge, PATH)
  --load PATH            refuge-load binary (default: $REFUGE_LOAD_BIN, next to the refuge
                         binary in tools/load/, build-load/tools/load/refuge-load)
  --servers LIST         comma-separated subset of refuge,nginx (default: both)
  --scenarios LIST       comma-separated subset of a,a24,b,c,d (default: a,b,c,d,a24)
  --runs N               run every scenario N times; figures are medians (default 1)
  --duration S           seconds per scenario (default: $DURATION or 25)
  --readers N            legitimate readers (default 20, one address each)
  --reader-interval-ms M pause between a reader's answer and its next request (default 100)
  --slowloris N          slowloris connections in (a), (a24) and (d) (default 15000)
  --flood-connections N  keep-alive connections of the one-address flood (default 100)
  --distributed N        addresses of the distributed flood (default 5000)
  --distributed-rate R   requests/s per address of the distributed flood (default 5)
  --gap S                pause between two scenarios (default 3)
  --refuge-server LINE   a line added to refuge's [server] table, e.g.
                         'request_head_timeout_ms = 5000' (repeatable; for knob runs)
  --refuge-shield LINE   a line added to refuge's [shield] table, e.g.
                         'min_request_head_timeout_ms = 10000' (repeatable; for knob runs)
  --workdir DIR          where the temporary files and REFUGE_HOME go (default: $TMPDIR or /tmp)
  --keep DIR             also copy every raw result (refuge-load JSON, metrics) to DIR
  --json FILE            also write every figure as JSON to FILE (--json-out is the same)
  --no-install           do not apt-get install missing tools, fail instead
  -h, --help             this help
EOF
}

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname "$script_dir")

refuge_bin="${REFUGE_BIN:-}"
load_bin="${REFUGE_LOAD_BIN:-}"
servers_arg="refuge,nginx"
scenarios_arg="a,b,c,d,a24"
runs=1
duration="${DURATION:-25}"
readers=20
reader_interval=100
slowloris=15000
flood_conns=100
dist_sources=5000
dist_rate=5
gap=3
workdir="${TMPDIR:-/tmp}"
keep_dir=""
json_out=""
install=1
extra_server=""
extra_shield=""

die() { echo "shield_bench: $*" >&2; exit 1; }
posint() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 wants a positive whole number, got '$2'"; }

while [ $# -gt 0 ]; do
  opt=$1
  case "$opt" in
    -h|--help) usage; exit 0 ;;
    --no-install) install=0; shift; continue ;;
    --refuge|--load|--servers|--scenarios|--runs|--duration|--readers|--reader-interval-ms|\
    --slowloris|--flood-connections|--distributed|--distributed-rate|--gap|--workdir|--keep|\
    --refuge-server|--refuge-shield|--json|--json-out)
      [ $# -ge 2 ] || die "$opt wants a value"
      val=$2; shift 2 ;;
    *) usage >&2; die "unknown option '$opt'" ;;
  esac
  case "$opt" in
    --refuge) refuge_bin=$val ;;
    --load) load_bin=$val ;;
    --servers) servers_arg=$val ;;
    --scenarios) scenarios_arg=$val ;;
    --runs) posint "$opt" "$val"; runs=$val ;;
    --duration) posint "$opt" "$val"; duration=$val ;;
    --readers) posint "$opt" "$val"; readers=$val ;;
    --reader-interval-ms) posint "$opt" "$val"; reader_interval=$val ;;
    --slowloris) posint "$opt" "$val"; slowloris=$val ;;
    --flood-connections) posint "$opt" "$val"; flood_conns=$val ;;
    --distributed) posint "$opt" "$val"; dist_sources=$val ;;
    --distributed-rate) [[ "$val" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--distributed-rate wants a number"
                        dist_rate=$val ;;
    --gap) [[ "$val" =~ ^[0-9]+$ ]] || die "--gap wants a whole number"; gap=$val ;;
    --workdir) workdir=$val ;;
    --keep) keep_dir=$val ;;
    --refuge-server) extra_server+="$val"$'\n' ;;
    --refuge-shield) extra_shield+="$val"$'\n' ;;
    --json|--json-out) json_out=$val ;;
  esac
done
posint DURATION "$duration"
[ "$duration" -le 600 ] || die "--duration is at most 600 (refuge-load's bound)"
[ "$readers" -le 250 ] || die "--readers: at most 250 (one address each, in one /24)"

picked=()
pick() { # pick ARG ALLOWED...: sets picked to the names in ARG, in the allowed order, each once
  local arg=$1; shift
  local -a req out=()
  IFS=, read -r -a req <<<"$arg"
  local r a ok
  for r in "${req[@]}"; do
    ok=0; for a in "$@"; do [ "$r" = "$a" ] && ok=1; done
    [ $ok = 1 ] || die "unknown name '$r' (one of: $*)"
  done
  for a in "$@"; do
    for r in "${req[@]}"; do [ "$r" = "$a" ] && { out+=("$a"); break; }; done
  done
  [ ${#out[@]} -gt 0 ] || die "empty list '$arg'"
  picked=("${out[@]}")
}
pick "$servers_arg" refuge nginx; servers=("${picked[@]}")
pick "$scenarios_arg" a b c d a24; scenarios=("${picked[@]}")
want() { local s; for s in "${servers[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

# ---- prerequisites -----------------------------------------------------------------------
missing_pkgs=()
want nginx && ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ] && missing_pkgs+=(nginx)
command -v curl >/dev/null || missing_pkgs+=(curl)
command -v taskset >/dev/null || missing_pkgs+=(util-linux)
if [ ${#missing_pkgs[@]} -gt 0 ]; then
  [ $install = 1 ] || die "missing: ${missing_pkgs[*]} (and --no-install was given)"
  [ "$(id -u)" = 0 ] || die "missing: ${missing_pkgs[*]}; run as root to apt-get install them"
  command -v apt-get >/dev/null || die "missing: ${missing_pkgs[*]} and no apt-get"
  pkgs=()
  for p in "${missing_pkgs[@]}"; do
    if [ "$p" = nginx ]; then
      if apt-cache show nginx-light >/dev/null 2>&1; then pkgs+=(nginx-light); else pkgs+=(nginx); fi
    else
      pkgs+=("$p")
    fi
  done
  echo "shield_bench: installing ${pkgs[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${pkgs[@]}" >&2 ||
    { apt-get update -qq >&2 && apt-get install -y --no-install-recommends "${pkgs[@]}" >&2; } ||
    die "apt-get install ${pkgs[*]} failed"
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
python_bin=/usr/bin/python3
[ -x "$python_bin" ] || python_bin=$(command -v python3 || true)
[ -n "$python_bin" ] || die "python3 is needed (free ports and the report)"
for tool in curl cmp taskset awk; do
  command -v "$tool" >/dev/null || die "missing $tool"
done

# refuge is needed even for --servers nginx: it has no other role, but refuge-load is found
# next to it, and the site is the same for both.
if [ -z "$refuge_bin" ]; then
  for c in "$repo_dir/build-bench-shield/refuge" "$repo_dir/build-release/refuge" \
           "$repo_dir/build-bench/refuge" "$repo_dir/build/refuge"; do
    if [ -x "$c" ] && "$c" serve --help >/dev/null 2>&1; then refuge_bin=$c; break; fi
  done
fi
if want refuge; then
  [ -n "$refuge_bin" ] || refuge_bin=$(command -v refuge || true)
  { [ -n "$refuge_bin" ] && [ -x "$refuge_bin" ]; } ||
    die "no refuge binary with 'serve': build it or pass --refuge PATH"
  refuge_bin=$(cd "$(dirname "$refuge_bin")" && pwd)/$(basename "$refuge_bin")
  "$refuge_bin" serve --help >/dev/null 2>&1 || die "$refuge_bin has no 'serve' command"
fi
if [ -z "$load_bin" ]; then
  for c in ${refuge_bin:+"$(dirname "$refuge_bin")/tools/load/refuge-load"} \
           "$repo_dir/build-bench-shield/tools/load/refuge-load" \
           "$repo_dir/build-load/tools/load/refuge-load"; do
    [ -x "$c" ] && { load_bin=$c; break; }
  done
fi
{ [ -n "$load_bin" ] && [ -x "$load_bin" ]; } ||
  die "no refuge-load binary: ninja -C BUILD refuge-load, or pass --load PATH"
"$load_bin" --help >/dev/null 2>&1 || die "$load_bin --help failed"

nproc_n=$(nproc)
if [ "$nproc_n" -ge 2 ]; then
  server_cpu=0; client_cpu=1
else
  echo "shield_bench: WARNING: one CPU only; server and refuge-load share it" >&2
  server_cpu=0; client_cpu=0
fi
on_server_cpu() { exec taskset -c "$server_cpu" "$@"; }

# Both sides hold every slowloris connection plus the floods' and readers'.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fd_limit=$(ulimit -n)
fds_needed=$((slowloris + flood_conns + 1000 + readers + 200))
if [ "$fd_limit" != unlimited ] && [ "$fds_needed" -gt "$fd_limit" ]; then
  die "scenario (d) needs about $fds_needed descriptors per side; the open-file limit is $fd_limit"
fi
[ -d "$workdir" ] || die "--workdir $workdir does not exist"

bench_dir=$(mktemp -d "$workdir/refuge-shield-bench.XXXXXX")
srv_pids=()   # the server being measured and its children (stopped by process id)
load_pid=""   # a running refuge-load
cleanup() {
  local p
  [ -n "$load_pid" ] && kill -TERM "$load_pid" 2>/dev/null || true
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
descendants_of() {
  local c kids
  kids=$(cat /proc/"$1"/task/*/children 2>/dev/null || true)
  for c in $kids; do
    echo "$c"
    descendants_of "$c"
  done
}
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
# Processes' time (user, nice, system) apart from interrupts and softirq: on loopback the
# kernel's receive path runs mostly in softirq, charged to no process, and grows with the
# attack's packets; so "others" (machine minus server minus refuge-load) counts only other
# processes, and the softirq is reported on its own.
machine_ticks() { # "processes irq+softirq steal" in clock ticks, both cores
  awk '$1 == "cpu" { print $2 + $3 + $4, $7 + $8, $9; exit }' /proc/stat
}
server_ticks() {
  local p total=0 t
  for p in "${srv_pids[@]}"; do
    t=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null || echo 0)
    total=$((total + ${t:-0}))
  done
  echo "$total"
}
vm_kib() { # vm_kib PID FIELD (VmHWM, VmRSS): KiB, 0 if gone
  awk -v f="$2:" '$1 == f { print $2; found = 1 } END { if (!found) print 0 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# ---- the site ------------------------------------------------------------------------------
files_dir=$bench_dir/site
mkdir -p "$files_dir/assets"
paths=(/index.html /assets/style.css /assets/app.js /assets/logo.png)
{
  echo '<!doctype html><html><head><meta charset="utf-8"><title>shield bench</title>'
  echo '<link rel="stylesheet" href="/assets/style.css"><script src="/assets/app.js"></script></head><body>'
  head -c 1200 /dev/urandom | base64 -w 96 | sed 's/^/<p>/'
  echo '<img src="/assets/logo.png"></body></html>'
} | head -c 1920 >"$files_dir/index.html"
head -c 1200 /dev/urandom | base64 >"$files_dir/assets/style.css"
head -c 3000 /dev/urandom | base64 >"$files_dir/assets/app.js"
head -c 800 /dev/urandom >"$files_dir/assets/logo.png"
chmod 755 "$bench_dir" "$files_dir" "$files_dir/assets"
chmod 644 "$files_dir"/*.html "$files_dir"/assets/*

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

# ---- the servers ---------------------------------------------------------------------------
srv_log=""
srv_port=""
admin_port=""
mem_pid=""    # the serving process whose VmHWM is the scenario's peak memory
start_server() { # start_server NAME: on core 0; sets srv_pids, srv_port, mem_pid
  local name=$1
  srv_log=$bench_dir/$name.log
  srv_port=$(free_port)
  case "$name" in
    refuge)
      admin_port=$(free_port)
      cat >"$bench_dir/serve.toml" <<EOF
[server]
default_site = "$site_id"
$extra_server
[shield]
exempt = []
$extra_shield
[admin]
listen = "127.0.0.1:$admin_port"
EOF
      rm -f "$refuge_home/serve.addr"
      on_server_cpu "$refuge_bin" --home "$refuge_home" serve --config "$bench_dir/serve.toml" \
        --listen "127.0.0.1:$srv_port" --threads 1 >"$srv_log" 2>&1 &
      srv_pids=($!)
      mem_pid=${srv_pids[0]}
      ;;
    nginx)
      mkdir -p "$bench_dir/nginx"
      cat >"$bench_dir/nginx/nginx.conf" <<EOF
daemon off;
user root;
worker_processes 1;
worker_cpu_affinity $(printf '%x' $((1 << server_cpu)));
worker_rlimit_nofile 20000;
pid $bench_dir/nginx/nginx.pid;
error_log $bench_dir/nginx/error.log crit;
events {
  worker_connections 20000;
}
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  open_file_cache max=1000 inactive=60s;
  open_file_cache_valid 60s;
  client_header_timeout 10s;
  client_body_timeout 10s;
  send_timeout 10s;
  keepalive_timeout 30s;
  reset_timedout_connection on;
  limit_req_zone \$binary_remote_addr zone=per_address:10m rate=20r/s;
  limit_conn_zone \$binary_remote_addr zone=conns_per_address:10m;
  limit_req_status 429;
  limit_conn_status 429;
  client_body_temp_path $bench_dir/nginx/client_body;
  proxy_temp_path $bench_dir/nginx/proxy;
  fastcgi_temp_path $bench_dir/nginx/fastcgi;
  uwsgi_temp_path $bench_dir/nginx/uwsgi;
  scgi_temp_path $bench_dir/nginx/scgi;
  server {
    listen 127.0.0.1:$srv_port backlog=4096;
    root $files_dir;
    limit_req zone=per_address burst=100 nodelay;
    limit_conn conns_per_address 64;
  }
}
EOF
      on_server_cpu "$nginx_bin" -e "$bench_dir/nginx/error.log" -p "$bench_dir/nginx" \
        -c "$bench_dir/nginx/nginx.conf" >"$srv_log" 2>&1 &
      srv_pids=($!)
      ;;
  esac
  local ok=0
  for _ in $(seq 1 100); do
    if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$srv_port/index.html"; then ok=1; break; fi
    kill -0 "${srv_pids[0]}" 2>/dev/null || break
    sleep 0.1
  done
  if [ $ok != 1 ]; then
    cat "$srv_log" >&2
    [ -f "$bench_dir/nginx/error.log" ] && cat "$bench_dir/nginx/error.log" >&2
    die "$name does not answer on 127.0.0.1:$srv_port"
  fi
  local c
  for c in $(descendants_of "${srv_pids[0]}"); do srv_pids+=("$c"); done
  if [ "$name" = nginx ]; then
    [ ${#srv_pids[@]} -ge 2 ] || die "nginx has no worker process"
    mem_pid=${srv_pids[1]}
  fi
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

check_files() { # check_files NAME: every path byte for byte
  local p got
  for p in "${paths[@]}"; do
    got=$bench_dir/got
    curl -sS --fail --max-time 10 -o "$got" "http://127.0.0.1:$srv_port$p" ||
      die "$1: GET $p failed"
    cmp -s "$got" "$files_dir$p" || die "$1: $p differs from the source file"
    rm -f "$got"
  done
}

# ---- scenarios -----------------------------------------------------------------------------
reader_opts=(--readers "$readers" --reader-sources "$readers" --reader-source 127.10.0.1
             --reader-interval-ms "$reader_interval")
for p in "${paths[@]}"; do reader_opts+=(--path "$p"); done
declare -A SCEN_OPTS SCEN_TEXT
SCEN_OPTS[a]="--slowloris $slowloris --slowloris-sources $slowloris"
SCEN_TEXT[a]="$slowloris slowloris connections from $slowloris addresses (127.3.0.1 on), one each"
SCEN_OPTS[a24]="--slowloris $slowloris --slowloris-sources 254 --slowloris-base 127.7.0.1"
SCEN_TEXT[a24]="$slowloris slowloris connections from one /24 (127.7.0.1-254)"
SCEN_OPTS[b]="--flood-sources 1 --flood-connections $flood_conns --flood-rate 0"
SCEN_TEXT[b]="flood from one address at full speed, $flood_conns keep-alive connections"
SCEN_OPTS[c]="--distributed-sources $dist_sources --distributed-rate $dist_rate"
SCEN_TEXT[c]="flood from $dist_sources addresses at $dist_rate requests/s each (new connection each)"
SCEN_OPTS[d]="${SCEN_OPTS[a]} ${SCEN_OPTS[b]} ${SCEN_OPTS[c]}"
SCEN_TEXT[d]="(a) + (b) + (c) at once"

results=$bench_dir/results
mkdir -p "$results"

run_scenario() { # run_scenario RUN SCENARIO SERVER
  local run=$1 sc=$2 name=$3 base
  base=$results/r$run-$sc-$name
  start_server "$name"
  check_files "$name"
  local busy0 irq0 steal0 srv0 busy1 irq1 steal1 srv1 load_u load_s rc=0
  read -r busy0 irq0 steal0 < <(machine_ticks)
  srv0=$(server_ticks)
  local TIMEFORMAT='%3U %3S'
  # shellcheck disable=SC2086  # the scenario's options are words
  { time taskset -c "$client_cpu" "$load_bin" --target "127.0.0.1:$srv_port" \
      --duration "$duration" "${reader_opts[@]}" ${SCEN_OPTS[$sc]} --json \
      >"$base.load.json" 2>"$base.load.err"; } 2>"$base.time" || rc=$?
  read -r busy1 irq1 steal1 < <(machine_ticks)
  srv1=$(server_ticks)
  [ $rc = 0 ] || { cat "$base.load.err" >&2; die "refuge-load failed ($rc) in $sc against $name"; }
  local alive=1
  kill -0 "$mem_pid" 2>/dev/null || alive=0
  local hwm rss
  hwm=$(vm_kib "$mem_pid" VmHWM); rss=$(vm_kib "$mem_pid" VmRSS)
  if [ "$name" = refuge ]; then
    curl -s --max-time 5 "http://127.0.0.1:$admin_port/metrics" >"$base.metrics" || true
  fi
  read -r load_u load_s <"$base.time"
  printf '{"server":"%s","scenario":"%s","run":%d,"alive":%s,"vm_hwm_kib":%d,"vm_rss_kib":%d,' \
    "$name" "$sc" "$run" "$([ $alive = 1 ] && echo true || echo false)" "$hwm" "$rss" >"$base.meta.json"
  awk -v b="$((busy1 - busy0))" -v ir="$((irq1 - irq0))" -v st="$((steal1 - steal0))" \
    -v sv="$((srv1 - srv0))" -v lu="$load_u" -v ls="$load_s" -v hz="$clk_tck" -v d="$duration" 'BEGIN {
      o = (b - sv) / hz - lu - ls; if (o < 0) o = 0
      printf "\"server_cpu_pct\":%.0f,\"load_cpu_pct\":%.0f,\"other_cpu_pct\":%.0f,\"softirq_cpu_pct\":%.0f,\"steal_pct\":%.0f}\n",
        sv / hz / d * 100, (lu + ls) / d * 100, o / d * 100, ir / hz / d * 100, st / hz / d * 100 }' >>"$base.meta.json"
  [ $alive = 1 ] || echo "  WARNING: $name died during scenario $sc" >&2
  # One line to follow the run.
  "$python_bin" - "$base" <<'EOF' >&2
import json, sys
b = sys.argv[1]
d = json.load(open(b + ".load.json")); m = json.load(open(b + ".meta.json"))
r = d["modes"]["readers"]; lat = r["latency_ms"]
sr = r["success_rate"]
print("    %-6s %-3s readers %s of %d ok (%s), p50 %.1f p99 %.1f max %.1f ms; peak %.1f MiB; "
      "CPU server %d%%, load %d%%, softirq %d%%, others %d%%" % (
      m["server"], m["scenario"], r["successes"], r["successes"] + r["failures"],
      "-" if sr is None else "%.3f %%" % (100 * sr), lat["p50"], lat["p99"], lat["max"],
      m["vm_hwm_kib"] / 1024, m["server_cpu_pct"], m["load_cpu_pct"],
      m.get("softirq_cpu_pct", 0), m["other_cpu_pct"]))
EOF
  stop_server
}

# ---- machine -----------------------------------------------------------------------------
cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
kernel=$(uname -r)
v_refuge=""; v_nginx=""
want refuge && v_refuge=$("$refuge_bin" --version 2>&1 | head -1 || true)
want nginx && v_nginx=$("$nginx_bin" -v 2>&1 | head -1 | sed 's/^nginx version: //')
load_start=$(loadavg)

echo "shield benchmark: ${servers[*]}; scenarios ${scenarios[*]}; $runs run(s) of ${duration}s each;" \
  "servers on CPU $server_cpu, refuge-load on CPU $client_cpu" >&2
echo "machine: $nproc_n CPUs ($cpu_model), kernel $kernel; open-file limit $fd_limit; load $load_start" >&2
want refuge && echo "  refuge: $v_refuge ($refuge_bin)" >&2
[ -n "$extra_server$extra_shield" ] && echo "  refuge config added: [server] ${extra_server//$'\n'/; } [shield] ${extra_shield//$'\n'/; }" >&2
want nginx && echo "  nginx: $v_nginx" >&2
echo "  refuge-load: $load_bin" >&2
if awk -v l="${load_start%% *}" 'BEGIN { exit !(l > 1.0) }'; then
  echo "  note: load average $load_start; 'others' below is the CPU other work took during each scenario" >&2
fi

# ---- measure -----------------------------------------------------------------------------
for run in $(seq 1 "$runs"); do
  log "run $run of $runs"
  for sc in "${scenarios[@]}"; do
    log "  ($sc) ${SCEN_TEXT[$sc]}"
    for name in "${servers[@]}"; do
      run_scenario "$run" "$sc" "$name"
      sleep "$gap"
    done
  done
done
load_end=$(loadavg)
total_s=$(awk -v a="$started" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
[ -n "$keep_dir" ] && { mkdir -p "$keep_dir"; cp "$results"/* "$keep_dir"/; }

# ---- report ------------------------------------------------------------------------------
for sc in "${scenarios[@]}"; do
  printf '%s\t%s\t%s\n' "$sc" "${SCEN_TEXT[$sc]}" "${SCEN_OPTS[$sc]}"
done >"$results/scenarios.tsv"
config_json=$(printf '{"duration_s":%d,"runs":%d,"readers":%d,"reader_interval_ms":%d,"reader_paths":"%s",' \
  "$duration" "$runs" "$readers" "$reader_interval" "${paths[*]}"
  printf '"slowloris":%d,"flood_connections":%d,"distributed_sources":%d,"distributed_rate":%s,' \
  "$slowloris" "$flood_conns" "$dist_sources" "$dist_rate"
  printf '"refuge_extra_config":"%s",' "$(printf '[server] %s [shield] %s' "$extra_server" "$extra_shield" | tr '\n"' ' _')"
  printf '"server_cpu":%d,"client_cpu":%d,"versions":{"refuge":"%s","nginx":"%s"}}' \
  "$server_cpu" "$client_cpu" "${v_refuge//\"/}" "${v_nginx//\"/}")
machine_json=$(printf '{"nproc":%d,"cpu":"%s","kernel":"%s","load_start":"%s","load_end":"%s","total_s":%s}' \
  "$nproc_n" "$cpu_model" "$kernel" "$load_start" "$load_end" "$total_s")

"$python_bin" - "$results" "$runs" "${json_out:-}" "$config_json" "$machine_json" \
  "${servers[*]}" "${scenarios[*]}" <<'EOF_PY'
import json, os, re, statistics, sys
results, runs, json_out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
config, machine = json.loads(sys.argv[4]), json.loads(sys.argv[5])
servers, scenarios = sys.argv[6].split(), sys.argv[7].split()
texts = {}
for line in open(os.path.join(results, "scenarios.tsv")).read().splitlines():
    k, t, o = line.split("\t")
    texts[k] = {"what": t, "refuge_load_options": o}
SUCCESS_TARGET, P99_TARGET = 0.999, 50.0

def metrics(path):
    out = {"events": {}}
    if not os.path.exists(path):
        return None
    for line in open(path):
        m = re.match(r'refuge_shield_events_total\{event="(\w+)"\} (\d+)', line)
        if m:
            out["events"][m.group(1)] = int(m.group(2))
            continue
        m = re.match(r'(refuge_shield_\w+) (\S+)$', line)
        if m:
            out[m.group(1)[len("refuge_shield_"):]] = float(m.group(2))
    return out

def attackers(modes):
    out = {}
    for k, v in modes.items():
        if k == "readers":
            continue
        c = v["connects"]
        e = {"requests": v["requests"], "responses": v["responses"],
             "responses_by_status": v["responses_by_status"],
             "connects_established": c["established"], "connects_refused": c["refused"],
             "connects_timed_out": c["timed_out"], "connect_errors": c["errors_by_errno"],
             "resets": v["resets"], "closed_by_server": v["closed_by_server"],
             "open_at_end": v["open_at_end"], "peak_open": v["peak_open"],
             "latency_ms": v["latency_ms"]}
        if "median_lifetime_ms" in v:
            e["median_lifetime_ms"] = v["median_lifetime_ms"]
        if "skipped_pool_full" in v:
            e["skipped_pool_full"] = v["skipped_pool_full"]
        out[k] = e
    return out

per_run = {}
for sc in scenarios:
    for s in servers:
        lst = []
        for r in range(1, runs + 1):
            b = os.path.join(results, "r%d-%s-%s" % (r, sc, s))
            d = json.load(open(b + ".load.json"))
            m = json.load(open(b + ".meta.json"))
            rd = d["modes"]["readers"]
            e = {"run": r, "server_alive_at_end": m["alive"],
                 "readers": {"requests": rd["successes"] + rd["failures"],
                             "successes": rd["successes"], "failures": rd["failures"],
                             "success_rate": rd["success_rate"],
                             "failures_by_kind": rd["failures_by_kind"],
                             "p50_ms": rd["latency_ms"]["p50"], "p99_ms": rd["latency_ms"]["p99"],
                             "p999_ms": rd["latency_ms"]["p999"], "max_ms": rd["latency_ms"]["max"],
                             "unfinished_at_stop": rd["unfinished_at_stop"],
                             "stale_retries": rd["stale_retries"],
                             "challenges": rd.get("challenges"),
                             "responses_by_status": rd["responses_by_status"]},
                 "peak_memory_mib": round(m["vm_hwm_kib"] / 1024, 1),
                 "rss_at_end_mib": round(m["vm_rss_kib"] / 1024, 1),
                 "cpu_pct": {"server": m["server_cpu_pct"], "refuge_load": m["load_cpu_pct"],
                             "others": m["other_cpu_pct"], "softirq": m.get("softirq_cpu_pct"),
                             "steal": m["steal_pct"]},
                 "attackers": attackers(d["modes"])}
            if s == "refuge":
                e["shield"] = metrics(b + ".metrics")
            lst.append(e)
        per_run[(sc, s)] = lst

def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None

def summary(lst):
    g = lambda f: [f(e) for e in lst]
    out = {}
    for key, f in [("success_rate", lambda e: e["readers"]["success_rate"]),
                   ("p50_ms", lambda e: e["readers"]["p50_ms"]),
                   ("p99_ms", lambda e: e["readers"]["p99_ms"]),
                   ("max_ms", lambda e: e["readers"]["max_ms"]),
                   ("requests", lambda e: e["readers"]["requests"]),
                   ("peak_memory_mib", lambda e: e["peak_memory_mib"]),
                   ("server_cpu_pct", lambda e: e["cpu_pct"]["server"]),
                   ("challenged", lambda e: (e["readers"]["challenges"] or {}).get("met", 0)),
                   ("solve_p50_ms", lambda e: ((e["readers"]["challenges"] or {}).get("solve_ms") or {}).get("p50") if (e["readers"]["challenges"] or {}).get("met") else None),
                   ("solve_max_ms", lambda e: ((e["readers"]["challenges"] or {}).get("solve_ms") or {}).get("max") if (e["readers"]["challenges"] or {}).get("met") else None),
                   ("p999_ms", lambda e: e["readers"]["p999_ms"]),
                   ("others_cpu_pct", lambda e: e["cpu_pct"]["others"])]:
        v = [x for x in g(f) if x is not None]
        out[key] = {"median": med(v), "min": min(v) if v else None, "max": max(v) if v else None}
    return out

def fmt_range(s, fmt, scale=1.0):
    if s["median"] is None:
        return "-"
    t = fmt % (s["median"] * scale)
    if runs > 1:
        t += " (" + (fmt % (s["min"] * scale)) + "-" + (fmt % (s["max"] * scale)) + ")"
    return t

def attack_brief(e):
    parts = []
    for k, v in e["attackers"].items():
        st = ",".join("%s:%d" % kv for kv in sorted(v["responses_by_status"].items()))
        p = "%s req %d [%s]" % (k, v["requests"], st or "-")
        if v["connects_refused"] or v["resets"]:
            p += " refused %d resets %d" % (v["connects_refused"], v["resets"])
        if k in ("slowloris",):
            p += " held %d lifetime %.0f ms" % (v["open_at_end"], v.get("median_lifetime_ms") or 0)
        parts.append(p)
    return "; ".join(parts)

summaries, verdicts = {}, {}
print()
print("== readers beside attacks: refuge (shield, defaults) vs nginx (limit_req, limit_conn, timeouts) ==")
print("   %d readers, %d ms between requests; %d s per scenario; %d run(s)%s" % (
      config["readers"], config["reader_interval_ms"], config["duration_s"], runs,
      ", medians (range)" if runs > 1 else ""))
print("%-4s %-7s %8s %18s %16s %18s %19s %17s %10s %20s" % ("scen", "server", "requests", "success %",
      "p50 ms", "p99 ms", "max ms", "peak MiB", "challenged", "solve p50/max ms"))
for sc in scenarios:
    for s in servers:
        sm = summary(per_run[(sc, s)])
        summaries[(sc, s)] = sm
        ch = "-"
        if sm["solve_p50_ms"]["median"] is not None:
            ch = "%.0f / %.0f" % (sm["solve_p50_ms"]["median"], sm["solve_max_ms"]["median"])
        print("%-4s %-7s %8s %18s %16s %18s %19s %17s %10s %20s" % (sc, s, fmt_range(sm["requests"], "%d"),
              fmt_range(sm["success_rate"], "%.3f", 100), fmt_range(sm["p50_ms"], "%.1f"),
              fmt_range(sm["p99_ms"], "%.1f"), fmt_range(sm["max_ms"], "%.0f"),
              fmt_range(sm["peak_memory_mib"], "%.1f"),
              "%d" % sm["challenged"]["median"] if sm["challenged"]["median"] is not None else "-", ch))
print()
print("== refuge against the targets (success >= 99.9 %%, p99 <= %.0f ms, neither worse than nginx) ==" % P99_TARGET)
for sc in scenarios:
    if "refuge" not in servers:
        break
    r = summaries[(sc, "refuge")]
    rs, rp = r["success_rate"]["median"], r["p99_ms"]["median"]
    v = {"success_target_met": rs is not None and rs >= SUCCESS_TARGET,
         "p99_target_met": rp is not None and rp <= P99_TARGET}
    line = "%-4s success %s, p99 %s" % (sc, "met" if v["success_target_met"] else "NOT met",
                                         "met" if v["p99_target_met"] else "NOT met")
    if "nginx" in servers:
        n = summaries[(sc, "nginx")]
        ns, np_ = n["success_rate"]["median"], n["p99_ms"]["median"]
        v["success_ratio_refuge_over_nginx"] = round(rs / ns, 4) if rs is not None and ns else None
        v["p99_ratio_refuge_over_nginx"] = round(rp / np_, 2) if rp is not None and np_ else None
        v["success_not_worse_than_nginx"] = rs is not None and (ns is None or rs >= ns)
        v["p99_not_worse_than_nginx"] = rp is not None and (np_ is None or rp <= np_)
        line += "; vs nginx: success %s (ratio %s), p99 %s (ratio %s)" % (
            "not worse" if v["success_not_worse_than_nginx"] else "WORSE",
            v["success_ratio_refuge_over_nginx"],
            "not worse" if v["p99_not_worse_than_nginx"] else "WORSE",
            v["p99_ratio_refuge_over_nginx"])
    verdicts[sc] = v
    print(line)
print()
print("== what the attackers saw and the shield's counters (last run) ==")
for sc in scenarios:
    for s in servers:
        e = per_run[(sc, s)][-1]
        print("%-4s %-7s %s" % (sc, s, attack_brief(e)))
        fk = e["readers"]["failures_by_kind"]
        if fk:
            print("             readers' failures: %s" % ", ".join("%s %d" % kv for kv in fk.items()))
        if s == "refuge" and e.get("shield"):
            ev = {k: v for k, v in e["shield"]["events"].items() if v}
            print("             shield: %s; under_attack %d, pow_bits %d" % (
                ", ".join("%s %d" % kv for kv in ev.items()), e["shield"].get("under_attack", 0),
                e["shield"].get("pow_bits", 0)))
        print("             CPU %%: server %d, refuge-load %d, softirq %s, other processes %d" % (
            e["cpu_pct"]["server"], e["cpu_pct"]["refuge_load"], e["cpu_pct"]["softirq"],
            e["cpu_pct"]["others"]))
print()
print("load average: %s at start, %s at end; total %s s" % (machine["load_start"],
      machine["load_end"], machine["total_s"]))

if json_out:
    out = {"machine": machine, "config": config,
           "scenarios": {sc: dict(texts[sc], **{
               "servers": {s: {"summary": summaries[(sc, s)], "runs": per_run[(sc, s)]}
                           for s in servers},
               "targets": verdicts.get(sc)}) for sc in scenarios}}
    with open(json_out, "w") as f:
        json.dump(out, f, indent=1)
    print("figures written to %s" % json_out)
EOF_PY
