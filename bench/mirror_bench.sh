#!/usr/bin/env bash
#
# Benchmark of refuge's mirror network against the 2010 method (rsync pushed from the origin to
# every mirror), measured in the same run on the same files and the same simulated network.
#
#   bench/mirror_bench.sh [--mirrors N] [--cap MBIT] [--runs R] [--json FILE] [--keep] ...
#
# Network: one publisher host h0 and N mirror hosts h1..hN, each a Linux network namespace
# joined by a bridge (tests/netns/netenv.sh), every host's uplink capped with tbf at --cap
# Mbit/s (0: no cap). All hosts share this machine's CPUs and disk.
#
# Site: a deterministic generated tree (seeded): --files files (default 2,000) in nested
# directories, sizes spread (log-normal) so that they total --mbytes MB (default 45); the update
# rewrites --change-pct % of the files (default 1 %) with new random bytes of the same size.
#
# Phases, for every method: (1) initial distribution of the whole site to mirrors that hold
# none of it, (2) the update. Methods:
#
#   refuge     `refuge serve` on every host (h0 publishes; h1..hN follow the site with
#              `mirror add`, are accepted with `mirrors accept --all`, and sync on notify hints
#              only: --refresh-interval 600). A site must have a published version before it
#              can be followed and mirrors announced (with none, `mirror add` exits 5 and the
#              mirror never announces itself), so each run first publishes a one-file
#              placeholder (version 1) that every mirror syncs, accepts the mirrors, and
#              publishes a second placeholder (version 2) that carries the signed mirror list,
#              so that the mirrors know each other (--cold-peers skips it). Phase 1 publishes
#              the full site, phase 2 the update. The clock starts when `refuge
#              publish` returns on h0 and stops when every mirror serves the new version: a
#              poller inside each mirror's namespace (so that its requests cross no link) asks
#              the mirror's own address every 50 ms for timestamp.json and for one file of the
#              new version (a changed file in phase 2), and notes when both are new.
#   rsync-seq  an rsync daemon on every mirror host (its own module directory, empty before
#              phase 1); h0 pushes `rsync -a --delete SRC/ rsync://hK/site/` to h1..hN one after
#              the other. Time: from the first rsync's start to the last one's end.
#   rsync-par  the same pushes, all at once (background jobs, then wait).
#
# Origin egress: h0's eth0 tx_bytes (all packets, headers included) before and after each
# timed phase. CPU: user + system time of the method's processes over the phase (the nine
# `refuge serve`; for rsync the pushing clients and the daemons' children). Reported per
# phase: time (median of --runs), origin egress, egress divided by the bytes of the changed
# objects (the whole site in phase 1, the rewritten files in phase 2), refuge's time divided
# by the faster rsync's time (same run, then the median), and CPU. The JSON has every run,
# with each mirror's completion time and every host's tx bytes.
# Targets (the issue): refuge/best-rsync time <= 0.5 with 8 mirrors; refuge's origin egress
# <= 1.5x the changed bytes whatever the number of mirrors.
#
# Every wait is bounded (--timeout per phase); namespaces and every process in them are
# removed on exit (netenv's trap) unless --keep is given. Needs root, rsync, iproute2, nftables
# (apt-get installs what is missing unless --no-install).
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bench/mirror_bench.sh [options]
  --mirrors N          mirror hosts (default 8)
  --cap MBIT           every host's uplink in Mbit/s, tbf; 0 = no cap (default 100)
  --runs R             repetitions; medians are reported (default 3)
  --json FILE          also write every figure as JSON to FILE ("-": JSON alone on stdout,
                       the tables go to stderr)
  --keep               do not tear down: namespaces, nodes, daemons and files stay (the
                       work directory is printed; a later netenv run removes the namespaces)
  --refuge PATH        refuge binary (default: $REFUGE_BIN, build-mbench/refuge,
                       build-release/refuge, build-bench/refuge, build/refuge, PATH)
  --methods LIST       subset of refuge,rsync-seq,rsync-par (default: all three)
  --files N            files in the generated site (default 2000)
  --mbytes M           total size of the site in MB, 10^6 bytes (default 45)
  --change-pct P       percentage of the files the update rewrites (default 1)
  --seed S             seed of the generated site (default 20261121)
  --cold-peers         phase 1 starts before the mirrors know each other (the signed mirror
                       list comes with the full site itself); by default a second
                       placeholder version carries it, so they know each other beforehand
  --origin-fanout K    [mirror] origin_fanout of every node (default: refuge's own)
  --fanout-delay-ms D  [mirror] origin_fanout_delay_ms (default: refuge's own)
  --parallel-fetches P [mirror] parallel_fetches of every node (default: refuge's own)
  --timeout S          bound of each phase (default 300)
  --pcap DIR           capture the first 256 bytes of every packet on every host during
                       refuge's phases (tcpdump) into DIR, for a timeline of requests
                       (tcpdump's CPU slows the nodes: use it for timelines, not figures)
  --workdir DIR        where the temporary files go (default: $TMPDIR or /tmp)
  --no-install         do not apt-get install missing tools, fail instead
  -h, --help           this help
EOF
}

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname "$script_dir")

refuge_bin="${REFUGE_BIN:-}"
n_mirrors=8
cap=100
runs=3
json_out=""
keep=0
methods_arg="refuge,rsync-seq,rsync-par"
n_files=2000
mbytes=45
change_pct=1
seed=20261121
origin_fanout=""
fanout_delay=""
parallel_fetches=""
phase_timeout=300
workdir="${TMPDIR:-/tmp}"
install=1
pcap_dir=""
cold_peers=0
base_version=1

die() { echo "mirror_bench: $*" >&2; exit 1; }
posint() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 wants a positive whole number, got '$2'"; }
wholenum() { [[ "$2" =~ ^[0-9]+$ ]] || die "$1 wants a whole number, got '$2'"; }

while [ $# -gt 0 ]; do
  opt=$1
  case "$opt" in
    -h|--help) usage; exit 0 ;;
    --keep) keep=1; shift; continue ;;
    --cold-peers) cold_peers=1; shift; continue ;;
    --no-install) install=0; shift; continue ;;
    --mirrors|--cap|--runs|--json|--json-out|--refuge|--methods|--files|--mbytes|--change-pct|--seed|\
    --origin-fanout|--fanout-delay-ms|--parallel-fetches|--timeout|--workdir|--pcap)
      [ $# -ge 2 ] || die "$opt wants a value"
      val=$2; shift 2 ;;
    *) usage >&2; die "unknown option '$opt'" ;;
  esac
  case "$opt" in
    --mirrors) posint "$opt" "$val"; n_mirrors=$val ;;
    --cap) wholenum "$opt" "$val"; cap=$val ;;
    --runs) posint "$opt" "$val"; runs=$val ;;
    --json|--json-out) json_out=$val ;;
    --refuge) refuge_bin=$val ;;
    --methods) methods_arg=$val ;;
    --files) posint "$opt" "$val"; n_files=$val ;;
    --mbytes) posint "$opt" "$val"; mbytes=$val ;;
    --change-pct) [[ "$val" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--change-pct wants a number"; change_pct=$val ;;
    --seed) wholenum "$opt" "$val"; seed=$val ;;
    --origin-fanout) wholenum "$opt" "$val"; origin_fanout=$val ;;
    --fanout-delay-ms) wholenum "$opt" "$val"; fanout_delay=$val ;;
    --parallel-fetches) posint "$opt" "$val"; parallel_fetches=$val ;;
    --timeout) posint "$opt" "$val"; phase_timeout=$val ;;
    --workdir) workdir=$val ;;
    --pcap) pcap_dir=$val ;;
  esac
done
((n_mirrors <= 100)) || die "--mirrors: at most 100"
# --json -: stdout carries the JSON alone (fd 3); everything else goes to stderr.
if [ "$json_out" = - ]; then exec 3>&1 1>&2; fi

methods=()
IFS=, read -r -a _req <<<"$methods_arg"
for r in "${_req[@]}"; do
  [[ "$r" =~ ^(refuge|rsync-seq|rsync-par)$ ]] || die "--methods: unknown method '$r' (refuge, rsync-seq, rsync-par)"
done
for m in refuge rsync-seq rsync-par; do  # fixed order, each at most once
  for r in "${_req[@]}"; do [ "$r" = "$m" ] && { methods+=("$m"); break; }; done
done
[ ${#methods[@]} -gt 0 ] || die "--methods is empty"
want() { local m; for m in "${methods[@]}"; do [ "$m" = "$1" ] && return 0; done; return 1; }
want_rsync=0
{ want rsync-seq || want rsync-par; } && want_rsync=1

# ---- prerequisites -----------------------------------------------------------------------
[ "$(id -u)" = 0 ] || die "network namespaces need root"
missing_pkgs=()
command -v ip >/dev/null || missing_pkgs+=(iproute2)
command -v tc >/dev/null || missing_pkgs+=(iproute2)
command -v nft >/dev/null || missing_pkgs+=(nftables)
command -v ping >/dev/null || missing_pkgs+=(iputils-ping)
command -v curl >/dev/null || missing_pkgs+=(curl)
[ $want_rsync = 1 ] && ! command -v rsync >/dev/null && missing_pkgs+=(rsync)
[ -n "$pcap_dir" ] && ! command -v tcpdump >/dev/null && missing_pkgs+=(tcpdump)
if [ ${#missing_pkgs[@]} -gt 0 ]; then
  mapfile -t missing_pkgs < <(printf '%s\n' "${missing_pkgs[@]}" | sort -u)
  [ $install = 1 ] || die "missing: ${missing_pkgs[*]} (and --no-install was given)"
  command -v apt-get >/dev/null || die "missing: ${missing_pkgs[*]} and no apt-get"
  echo "mirror_bench: installing ${missing_pkgs[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${missing_pkgs[@]}" >&2 ||
    { apt-get update -qq >&2 && apt-get install -y --no-install-recommends "${missing_pkgs[@]}" >&2; } ||
    die "apt-get install ${missing_pkgs[*]} failed"
fi
python_bin=/usr/bin/python3
[ -x "$python_bin" ] || python_bin=$(command -v python3 || true)
[ -n "$python_bin" ] || die "python3 is needed (site generator, pollers, JSON)"
for tool in ip tc nft curl sha256sum timeout awk; do
  command -v "$tool" >/dev/null || die "missing $tool"
done

if want refuge; then
  if [ -z "$refuge_bin" ]; then
    for c in "$repo_dir/build-mbench/refuge" "$repo_dir/build-release/refuge" \
             "$repo_dir/build-bench/refuge" "$repo_dir/build/refuge"; do
      if [ -x "$c" ] && "$c" mirrors --help >/dev/null 2>&1; then refuge_bin=$c; break; fi
    done
  fi
  [ -n "$refuge_bin" ] || refuge_bin=$(command -v refuge || true)
  { [ -n "$refuge_bin" ] && [ -x "$refuge_bin" ]; } ||
    die "no refuge binary with the mirror commands: build it or pass --refuge PATH"
  refuge_bin=$(cd "$(dirname "$refuge_bin")" && pwd)/$(basename "$refuge_bin")
  "$refuge_bin" mirrors --help >/dev/null 2>&1 || die "$refuge_bin has no 'mirrors' command"
fi
[ -d "$workdir" ] || die "--workdir $workdir does not exist"
need=$(( (mbytes * 1000000) * (2 + 2 * n_mirrors + 2) ))
avail=$(df --output=avail -B1 "$workdir" | tail -1 | tr -d ' ')
[ "$avail" -ge "$need" ] ||
  die "$workdir has $((avail / 1048576)) MiB free, the run needs about $((need / 1048576)) MiB"

bench_dir=$(mktemp -d "$workdir/refuge-mirror-bench.XXXXXX")
chmod 755 "$bench_dir"
cleanup_files() {
  if [ $keep = 1 ]; then
    echo "mirror_bench: --keep: files kept in $bench_dir" >&2
  else
    rm -rf -- "$bench_dir"
  fi
}
# netenv_up keeps this trap and runs it after its own teardown.
trap cleanup_files EXIT

# shellcheck source=../tests/netns/netenv.sh
source "$repo_dir/tests/netns/netenv.sh"

# ---- helpers -------------------------------------------------------------------------------
now() { date +%s.%N; }
started=$(now)
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
log() { echo "$(printf "%6.1f" "$(elapsed "$started" "$(now)")")s $*" >&2; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
median() { # numbers as arguments ("nan" ignored)
  printf '%s\n' "$@" | grep -v nan | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan"; exit }
    if (NR % 2) printf "%.4f", v[(NR + 1) / 2]; else printf "%.4f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b == 0) print "nan"; else printf "%.3f", a / b }'; }
tx_bytes() { netenv_exec "$1" cat /sys/class/net/eth0/statistics/tx_bytes; }
all_tx() { local h out=""; for h in "${hosts_all[@]}"; do out+="$(tx_bytes "$h") "; done; echo "${out% }"; }

# CPU time (clock ticks) of processes: their own and that of their children they waited for.
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu_ticks() {
  local p stat total=0
  for p in "$@"; do
    stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    stat=${stat##*) }
    total=$((total + $(awk '{ print $12 + $13 + $14 + $15 }' <<<"$stat")))
  done
  echo "$total"
}
# CPU time (ms) of this shell's finished children (bash's `times`, second line).
children_cpu_ms() {
  times | tail -1 | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60000 + a[2] * 1000 } printf "%.0f", t }'
}

# Stops processes by id: TERM, up to 5 s, then KILL.
stop_pids() {
  local p
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "$@"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
}

# ---- the site ------------------------------------------------------------------------------
# generate DIR_V1 DIR_V2 LIST: the site, then a copy with P % of the files rewritten (same
# sizes, new bytes, new mtime; the others keep their mtime, as an rsync source would). LIST
# gets "path size" of the rewritten files.
generate() {
  "$python_bin" - "$@" "$n_files" "$mbytes" "$change_pct" "$seed" <<'PY'
import os, random, shutil, sys
v1, v2, listing = sys.argv[1], sys.argv[2], sys.argv[3]
n, mb, pct, seed = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7])
rng = random.Random(seed)
total = mb * 1000000
# Sizes: log-normal (with the defaults: median 5.9 KB, largest 2.25 MB), scaled to the total.
raw = [rng.lognormvariate(9.0, 1.6) for _ in range(n)]
scale = total / sum(raw)
sizes = [max(64, int(r * scale)) for r in raw]
sizes[-1] += total - sum(sizes)
if sizes[-1] < 64:
    sizes[-1] = 64
# Nested directories: sections / subsections / leaves, 1 to 3 levels deep.
sections = ["docs", "blog", "assets", "downloads", "news", "wiki", "static", "media"]
dirs = []
for s in sections:
    dirs.append(s)
    for a in range(rng.randint(2, 6)):
        d = "%s/%s-%02d" % (s, s[:3], a)
        dirs.append(d)
        for b in range(rng.randint(0, 4)):
            dirs.append("%s/part-%d" % (d, b))
def ext(size):
    if size < 16000: return rng.choice([".html", ".css", ".js", ".json", ".svg", ".txt"])
    if size < 300000: return rng.choice([".png", ".jpg", ".html", ".woff2", ".js"])
    return rng.choice([".pdf", ".zip", ".mp4", ".tar.gz"])
paths = []
for i, size in enumerate(sizes):
    p = "%s/f%05d%s" % (rng.choice(dirs), i, ext(size))
    paths.append(p)
for p, size in zip(paths, sizes):
    full = os.path.join(v1, p)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as f:
        f.write(rng.randbytes(size))
shutil.copytree(v1, v2, copy_function=shutil.copy2)  # mtimes kept
k = max(1, int(round(n * pct / 100.0)))
changed = sorted(rng.sample(range(n), k))
with open(listing, "w") as out:
    for i in changed:
        full = os.path.join(v2, paths[i])
        st = os.stat(full)
        with open(full, "wb") as f:  # rewritten in place: the same size, new bytes
            f.write(rng.randbytes(sizes[i]))
        # A minute newer than the old file: rsync's quick check compares whole seconds.
        os.utime(full, ns=(st.st_atime_ns, st.st_mtime_ns + 60 * 10**9))
        out.write("%s %d\n" % (paths[i], sizes[i]))
PY
}

# ---- the network ---------------------------------------------------------------------------
log "refuge mirror benchmark: $n_mirrors mirrors, cap ${cap} Mbit/s, $runs run(s), methods ${methods[*]}"
log "load average $(loadavg)"
netenv_up $((n_mirrors + 1))
if [ $keep = 1 ]; then
  # netenv's exit trap would tear everything down: replace it.
  trap 'rc=$?; echo "mirror_bench: --keep: namespaces $NETENV_PREFIX-* and their processes stay;" \
        "remove them with: bash -c '\''source $repo_dir/tests/netns/netenv.sh; _netenv_remove_prefix $NETENV_PREFIX'\''" >&2;
        cleanup_files; exit $rc' EXIT
fi
hosts_all=()
mirror_hosts=()
for ((i = 0; i <= n_mirrors; i++)); do hosts_all+=("h$i"); done
for ((i = 1; i <= n_mirrors; i++)); do mirror_hosts+=("h$i"); done
if ((cap > 0)); then
  for h in "${hosts_all[@]}"; do netenv_cap "$h" "${cap}mbit"; done
fi
port=8080
url_of() { echo "http://$(netenv_addr "$1"):$port"; }

log "generating the site ($n_files files, $mbytes MB, seed $seed) and the $change_pct % update"
generate "$bench_dir/site-v1" "$bench_dir/site-v2" "$bench_dir/changed.txt"
site_bytes=$(find "$bench_dir/site-v1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
site_files=$(find "$bench_dir/site-v1" -type f | wc -l)
site_dirs=$(find "$bench_dir/site-v1" -mindepth 1 -type d | wc -l)
changed_files=$(wc -l <"$bench_dir/changed.txt")
changed_bytes=$(awk '{ s += $2 } END { print s + 0 }' "$bench_dir/changed.txt")
largest=$(find "$bench_dir/site-v1" -type f -printf '%s\n' | sort -n | tail -1)
median_size=$(find "$bench_dir/site-v1" -type f -printf '%s\n' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
log "site: $site_files files in $site_dirs directories, $site_bytes bytes (median file $median_size, largest $largest); update: $changed_files files, $changed_bytes bytes"
# Probe files: one file of the full site (phase 1) and the first rewritten file (phase 2).
probe1=$(head -1 "$bench_dir/changed.txt" | cut -d' ' -f1)
probe2=$probe1
probe1_sha=$(sha256sum "$bench_dir/site-v1/$probe1" | cut -d' ' -f1)
probe2_sha=$(sha256sum "$bench_dir/site-v2/$probe2" | cut -d' ' -f1)
mkdir -p "$bench_dir/placeholder"
echo "placeholder: the site is being set up" >"$bench_dir/placeholder/index.html"
# Warm the page cache: every method reads the same sources.
find "$bench_dir/site-v1" "$bench_dir/site-v2" -type f -print0 | xargs -0 cat >/dev/null

# The poller: runs in a mirror's namespace, asks its own address (no link crossed) every 50 ms;
# prints the wall-clock time when timestamp.json names version >= V and PROBE has SHA.
cat >"$bench_dir/poll.py" <<'PY'
import hashlib, http.client, json, sys, time
host, port, site, want, probe, sha, deadline, out = sys.argv[1:9]
port, want, deadline = int(port), int(want), float(deadline)
meta_ok = None
conn = None
while time.time() < deadline:
    try:
        if conn is None:
            conn = http.client.HTTPConnection(host, port, timeout=2)
        if meta_ok is None:
            conn.request("GET", "/.refuge/v1/sites/%s/metadata/timestamp.json" % site)
            r = conn.getresponse(); body = r.read()
            if r.status == 200 and json.loads(body)["signed"]["meta"]["snapshot.json"]["version"] >= want:
                meta_ok = time.time()
        if meta_ok is not None:
            conn.request("GET", "/s/%s/%s" % (site, probe))
            r = conn.getresponse(); body = r.read()
            if r.status == 200 and hashlib.sha256(body).hexdigest() == sha:
                with open(out, "w") as f:
                    f.write("%.6f %.6f\n" % (meta_ok, time.time()))
                sys.exit(0)
    except Exception:
        try:
            conn.close()
        except Exception:
            pass
        conn = None
    time.sleep(0.05)
with open(out, "w") as f:
    f.write("timeout\n")
sys.exit(1)
PY

# ---- refuge --------------------------------------------------------------------------------
home_of() { echo "$bench_dir/nodes/$1"; }
rf() { # rf HOST ARGS...: refuge with HOST's home, in HOST's namespace
  local host=$1
  shift
  netenv_exec "$host" env REFUGE_HOME="$(home_of "$host")" "$refuge_bin" "$@"
}
declare -A NODE_PID=()
serve_config=""
if [ -n "$origin_fanout$fanout_delay$parallel_fetches" ]; then
  serve_config=$bench_dir/serve.toml
  {
    echo "[mirror]"
    [ -n "$origin_fanout" ] && echo "origin_fanout = $origin_fanout"
    [ -n "$fanout_delay" ] && echo "origin_fanout_delay_ms = $fanout_delay"
    [ -n "$parallel_fetches" ] && echo "parallel_fetches = $parallel_fetches"
  } >"$serve_config"
fi
node_start() { # node_start HOST RUN
  local host=$1 run=$2 i
  local -a cfg=()
  [ -n "$serve_config" ] && cfg=(--config "$serve_config")
  netenv_spawn "$host" "$bench_dir/logs/run$run-refuge-$host.log" env REFUGE_HOME="$(home_of "$host")" \
    "$refuge_bin" serve "${cfg[@]}" --listen "$(netenv_addr "$host"):$port" --no-admin \
    --public-url "$(url_of "$host")" --refresh-interval 600
  NODE_PID[$host]=$NETENV_PID
  for ((i = 0; i < 200; i++)); do
    netenv_alive "${NODE_PID[$host]}" ||
      die "refuge serve on $host exited at start: $(tail -5 "$bench_dir/logs/run$run-refuge-$host.log")"
    netenv_exec "$host" curl -s -o /dev/null --max-time 1 "$(url_of "$host")/.refuge/v1/status" && return 0
    sleep 0.05
  done
  die "refuge serve on $host does not answer 10 s after start"
}
nodes_stop() {
  local -a pids=()
  local h
  for h in "${!NODE_PID[@]}"; do [ -n "${NODE_PID[$h]}" ] && pids+=("${NODE_PID[$h]}"); done
  [ ${#pids[@]} -eq 0 ] || stop_pids "${pids[@]}"
  NODE_PID=()
}
served_version() { # served_version HOST: the snapshot version of HOST's timestamp.json, 0 if none
  local body
  body=$(netenv_exec "$1" curl -s --max-time 3 -f \
    "$(url_of "$1")/.refuge/v1/sites/$site/metadata/timestamp.json" 2>/dev/null) || { echo 0; return 0; }
  "$python_bin" -c 'import json, sys
try: print(json.loads(sys.argv[1])["signed"]["meta"]["snapshot.json"]["version"])
except Exception: print(0)' "$body"
}
wait_versions() { # wait_versions V SECONDS HOSTS...
  local want=$1 deadline=$((SECONDS + $2)) h
  shift 2
  for h in "$@"; do
    while (($(served_version "$h") < want)); do
      ((SECONDS < deadline)) || die "$h does not serve version $want after $2 s"
      sleep 0.2
    done
  done
}
pending_count() {
  rf h0 mirrors pending "$site" --json 2>/dev/null | "$python_bin" -c '
import json, sys
try:
    j = json.load(sys.stdin)
except Exception:
    print(-1); sys.exit()
if isinstance(j, dict):
    for k in ("pending", "announcements", "mirrors"):
        if isinstance(j.get(k), list):
            j = j[k]; break
print(len(j) if isinstance(j, list) else -1)'
}

# refuge_setup RUN: fresh homes; the site with a one-file placeholder as version 1; every
# mirror follows it, announces itself and is accepted.
site=""
refuge_setup() {
  local run=$1 h out n deadline
  rm -rf -- "$bench_dir/nodes"
  for h in "${hosts_all[@]}"; do mkdir -p "$(home_of "$h")"; done
  out=$(rf h0 site init --json) || die "refuge site init failed"
  site=$(printf '%s' "$out" | "$python_bin" -c 'import json, sys; print(json.load(sys.stdin)["site_id"])')
  rf h0 publish --site "$site" "$bench_dir/placeholder" --json >/dev/null 2>"$bench_dir/logs/run$run-publish0.err" ||
    die "placeholder publish failed: $(cat "$bench_dir/logs/run$run-publish0.err")"
  node_start h0 "$run"
  for h in "${mirror_hosts[@]}"; do
    rf "$h" mirror add "$site" --from "$(url_of h0)" --json >"$bench_dir/logs/run$run-add-$h.json" 2>&1 ||
      die "mirror add on $h failed: $(cat "$bench_dir/logs/run$run-add-$h.json")"
    node_start "$h" "$run"
  done
  wait_versions 1 60 "${mirror_hosts[@]}"
  deadline=$((SECONDS + 60))
  while :; do
    n=$(pending_count)
    ((n >= n_mirrors)) && break
    ((SECONDS < deadline)) || die "$n announcement(s) pending on h0 after 60 s, expected $n_mirrors"
    sleep 0.2
  done
  rf h0 mirrors accept "$site" --all >/dev/null || die "mirrors accept failed"
  base_version=1
  if [ $cold_peers = 0 ]; then
    # A second placeholder version carries the signed mirror list: the mirrors know each other
    # before the measured phases, as in a mirror network that already runs.
    echo "placeholder with the mirror list" >"$bench_dir/placeholder/index.html"
    rf h0 publish --site "$site" "$bench_dir/placeholder" --json >/dev/null 2>"$bench_dir/logs/run$run-publish0.err" ||
      die "placeholder publish failed: $(cat "$bench_dir/logs/run$run-publish0.err")"
    echo "placeholder: the site is being set up" >"$bench_dir/placeholder/index.html"
    wait_versions 2 60 "${mirror_hosts[@]}"
    base_version=2
  fi
}

# refuge_phase RUN PHASE VERSION SRC PROBE SHA: publish SRC, wait for every mirror.
# Sets took, egress, host_tx (per host, space separated), done_list (per mirror seconds).
cpu_s=nan took=nan egress=nan host_tx="" done_list="" meta_list="" publish_s=nan targets_bytes=null sync_lines=""
refuge_phase() {
  local run=$1 phase=$2 v=$3 src=$4 probe=$5 sha=$6 h t0 t1 deadline p
  local -a pollers=() before after
  deadline=$(awk -v n="$(now)" -v t="$phase_timeout" 'BEGIN { printf "%.3f", n + t + 10 }')
  for h in "${mirror_hosts[@]}"; do
    rm -f "$bench_dir/poll-$h"
    netenv_spawn "$h" "$bench_dir/logs/run$run-poll-$phase-$h.log" "$python_bin" "$bench_dir/poll.py" \
      "$(netenv_addr "$h")" "$port" "$site" "$v" "$probe" "$sha" "$deadline" "$bench_dir/poll-$h"
    pollers+=("$NETENV_PID")
  done
  local -a caps=()
  if [ -n "$pcap_dir" ]; then
    mkdir -p "$pcap_dir"
    for h in "${hosts_all[@]}"; do
      netenv_spawn "$h" "$bench_dir/logs/run$run-tcpdump-$phase-$h.log" tcpdump -i eth0 -s 256 -n -U \
        -w "$pcap_dir/run$run-$phase-$h.pcap"
      caps+=("$NETENV_PID")
    done
    sleep 1  # tcpdump is listening
  fi
  read -r -a before <<<"$(all_tx)"
  local cpu0 cpu1
  cpu0=$(cpu_ticks "${NODE_PID[@]}")
  local p0
  p0=$(now)
  rf h0 publish --site "$site" "$src" --json >"$bench_dir/logs/run$run-publish-$phase.json" \
    2>"$bench_dir/logs/run$run-publish-$phase.err" ||
    die "refuge publish ($phase) failed: $(cat "$bench_dir/logs/run$run-publish-$phase.err")"
  t0=$(now)
  publish_s=$(elapsed "$p0" "$t0")
  local got_v
  got_v=$("$python_bin" -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' \
    "$bench_dir/logs/run$run-publish-$phase.json" 2>/dev/null || echo "?")
  [ "$got_v" = "$v" ] || die "refuge publish ($phase) made version $got_v, expected $v"
  for p in "${pollers[@]}"; do
    timeout $((phase_timeout + 20)) tail --pid="$p" -f /dev/null || true
    wait "$p" 2>/dev/null || true
  done
  t1=0
  done_list=""
  meta_list=""
  for h in "${mirror_hosts[@]}"; do
    if [ ! -s "$bench_dir/poll-$h" ] || grep -q timeout "$bench_dir/poll-$h"; then
      echo "--- $h log:" >&2; tail -20 "$bench_dir/logs/run$run-refuge-$h.log" >&2
      die "refuge $phase: $h does not serve version $v within $phase_timeout s"
    fi
    p=$(awk '{ print $2 }' "$bench_dir/poll-$h")
    done_list+="$(elapsed "$t0" "$p") "
    meta_list+="$(elapsed "$t0" "$(awk '{ print $1 }' "$bench_dir/poll-$h")") "
    t1=$(awk -v a="$t1" -v b="$p" 'BEGIN { print (b > a) ? b : a }')
  done
  done_list=${done_list% }
  meta_list=${meta_list% }
  if [ ${#caps[@]} -gt 0 ]; then
    stop_pids "${caps[@]}"
    echo "$t0" >"$pcap_dir/run$run-$phase.publish_end"
    for h in "${mirror_hosts[@]}"; do cp "$bench_dir/poll-$h" "$pcap_dir/run$run-$phase-$h.poll"; done
    pcap_timeline "$pcap_dir" "$run" "$phase" >"$pcap_dir/run$run-$phase.timeline.txt" 2>&1 || true
    log "  timeline of the requests (from the captures): $pcap_dir/run$run-$phase.timeline.txt"
    sed 's/^/    /' "$pcap_dir/run$run-$phase.timeline.txt" >&2
  fi
  read -r -a after <<<"$(all_tx)"
  cpu1=$(cpu_ticks "${NODE_PID[@]}")
  cpu_s=$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$clk_tck" 'BEGIN { printf "%.2f", (b - a) / hz }')
  took=$(elapsed "$t0" "$t1")
  targets_bytes=$(stat -c %s "$(home_of h1)/mirror/$site/metadata/targets.json" 2>/dev/null || echo null)
  # What each mirror's log says of the sync (objects, bytes, where the metadata came from).
  sync_lines=""
  for h in "${mirror_hosts[@]}"; do
    local line
    line=$(grep -o "version $((v - 1)) -> $v (.*)" "$bench_dir/logs/run$run-refuge-$h.log" | tail -1 | tr -d '"\\')
    sync_lines+="${sync_lines:+,}\"$h: $line\""
  done
  egress=$((after[0] - before[0]))
  host_tx=""
  for ((p = 0; p < ${#after[@]}; p++)); do host_tx+="$((after[p] - before[p])) "; done
  host_tx=${host_tx% }
}

# pcap_timeline DIR RUN PHASE: per host, from its capture, in seconds after the publish ended:
# the notify hints it received (and from whom), its metadata requests, its object requests (and
# how many went to each host), how many object requests it answered, and when the poller saw
# the new metadata and the new content.
pcap_timeline() {
  "$python_bin" - "$@" <<'PY'
import collections, glob, re, subprocess, sys
d, run, ph = sys.argv[1:4]
t0 = float(open(f"{d}/run{run}-{ph}.publish_end").read())
hdr = re.compile(r"^(\d+\.\d+) IP (\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+):")
req = re.compile(r"(GET|POST) (/\S+) HTTP/1")
def events(path):
    out = subprocess.run(["tcpdump", "-r", path, "-tt", "-n", "-A"], capture_output=True,
                         text=True, errors="replace").stdout
    cur = None
    for line in out.splitlines():
        m = hdr.match(line)
        if m:
            cur = (float(m.group(1)) - t0, m.group(2), m.group(4))
            continue
        r = req.search(line) if cur else None
        if r:
            yield cur + (r.group(1), r.group(2))
            cur = None
def host_no(ip):
    return "h%d" % (int(ip.split(".")[-1]) - 1)
files = glob.glob(f"{d}/run{run}-{ph}-h*.pcap")
for f in sorted(files, key=lambda p: int(re.search(r"-h(\d+)\.pcap$", p).group(1))):
    h = re.search(r"-(h\d+)\.pcap$", f).group(1)
    evs = list(events(f))
    me = collections.Counter([e[1] for e in evs] + [e[2] for e in evs]).most_common(1)
    me = me[0][0] if me else "?"
    hints = [e for e in evs if e[3] == "POST" and "/notify" in e[4] and e[2] == me]
    sent = [e for e in evs if e[3] == "POST" and "/notify" in e[4] and e[1] == me]
    meta = [e for e in evs if e[1] == me and "/metadata/" in e[4]]
    objs = [e for e in evs if e[1] == me and "/objects/" in e[4]]
    served = [e for e in evs if e[2] == me and "/objects/" in e[4]]
    by = collections.Counter(host_no(e[2]) for e in objs)
    line = [h]
    if hints:
        line.append("hints in " + ", ".join("%.3f<-%s" % (e[0], host_no(e[1])) for e in hints[:4]))
    if sent:
        line.append("hints out from %.3f (%d)" % (sent[0][0], len(sent)))
    if meta:
        line.append("metadata GETs %.3f..%.3f (%d, first to %s)" % (meta[0][0], meta[-1][0], len(meta), host_no(meta[0][2])))
    if objs:
        line.append("object GETs %.3f..%.3f (%d: %s)" % (objs[0][0], objs[-1][0], len(objs),
                    " ".join("%s %d" % kv for kv in sorted(by.items()))))
    line.append("object GETs answered %d" % len(served))
    try:
        a, b = (float(x) - t0 for x in open(f"{d}/run{run}-{ph}-{h}.poll").read().split())
        line.append("metadata served new %.3f, content %.3f" % (a, b))
    except Exception:
        pass
    print("; ".join(line))
PY
}

# ---- rsync ---------------------------------------------------------------------------------
declare -A RSYNCD_PID=()
rsync_start() {
  local h dir i
  for h in "${mirror_hosts[@]}"; do
    dir=$bench_dir/rsync/$h
    mkdir -p "$dir/site"
    cat >"$dir/rsyncd.conf" <<EOF
pid file = $dir/rsyncd.pid
use chroot = no
uid = root
gid = root
max connections = 16
[site]
  path = $dir/site
  read only = no
EOF
    netenv_spawn "$h" "$bench_dir/logs/rsyncd-$h.log" rsync --daemon --no-detach \
      --config="$dir/rsyncd.conf" --address="$(netenv_addr "$h")" --port=873
    RSYNCD_PID[$h]=$NETENV_PID
  done
  for h in "${mirror_hosts[@]}"; do
    for ((i = 0; i < 100; i++)); do
      netenv_exec h0 rsync "rsync://$(netenv_addr "$h")/" >/dev/null 2>&1 && break
      netenv_alive "${RSYNCD_PID[$h]}" || die "rsync daemon on $h exited: $(cat "$bench_dir/logs/rsyncd-$h.log")"
      sleep 0.1
    done
    ((i < 100)) || die "rsync daemon on $h does not answer"
  done
}
rsync_empty() { # the mirrors' module directories, emptied (and durably so, before timing)
  local h
  for h in "${mirror_hosts[@]}"; do
    find "$bench_dir/rsync/$h/site" -mindepth 1 -delete
  done
  sync -f "$bench_dir"
}
# rsync_phase MODE(seq|par) SRC: push SRC to every mirror; sets took, egress, host_tx, done_list.
rsync_phase() {
  local mode=$1 src=$2 h t0 t1 p rc=0 cpu0 cpu1 sh0 sh1
  local -a before after pids=()
  cpu0=$(cpu_ticks "${RSYNCD_PID[@]}")
  sh0=$(children_cpu_ms)
  read -r -a before <<<"$(all_tx)"
  done_list="" meta_list="" targets_bytes=null sync_lines=""
  t0=$(now)
  for h in "${mirror_hosts[@]}"; do
    # shellcheck disable=SC2016
    netenv_exec h0 timeout "$phase_timeout" bash -c 'rsync -a --delete "$1/" "rsync://$2/site/" && date +%s.%N >"$3"' \
      _ "$src" "$(netenv_addr "$h")" "$bench_dir/rsync-done-$h" >"$bench_dir/logs/rsync-$h.log" 2>&1 &
    if [ "$mode" = seq ]; then
      wait $! || rc=$?
      [ $rc = 0 ] || die "rsync to $h failed ($rc): $(cat "$bench_dir/logs/rsync-$h.log")"
    else
      pids+=($!)
    fi
  done
  for p in "${pids[@]}"; do
    wait "$p" || die "an rsync push failed: $(cat "$bench_dir"/logs/rsync-h*.log)"
  done
  t1=$(now)
  read -r -a after <<<"$(all_tx)"
  # The daemons' forked children are reaped at once, so their CPU shows in cutime; the
  # pushing side is this shell's children (rsync and its wrappers, and the counters' cat).
  sleep 0.2
  cpu1=$(cpu_ticks "${RSYNCD_PID[@]}")
  sh1=$(children_cpu_ms)
  cpu_s=$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$clk_tck" -v s0="$sh0" -v s1="$sh1" \
    'BEGIN { printf "%.2f", (b - a) / hz + (s1 - s0) / 1000 }')
  for h in "${mirror_hosts[@]}"; do done_list+="$(elapsed "$t0" "$(cat "$bench_dir/rsync-done-$h")") "; done
  done_list=${done_list% }
  took=$(elapsed "$t0" "$t1")
  egress=$((after[0] - before[0]))
  host_tx=""
  for ((p = 0; p < ${#after[@]}; p++)); do host_tx+="$((after[p] - before[p])) "; done
  host_tx=${host_tx% }
}
rsync_verify() { # rsync_verify SRC: every mirror's tree equals SRC
  local h
  for h in "${mirror_hosts[@]}"; do
    diff -rq "$1" "$bench_dir/rsync/$h/site" >/dev/null || die "rsync: $h differs from $1"
  done
}
refuge_verify() { # refuge_verify SRC: every rewritten file, on every mirror, has SRC's bytes
  local h path _size sha
  for h in "${mirror_hosts[@]}"; do
    while read -r path _size; do
      sha=$(netenv_exec "$h" curl -s --max-time 10 "$(url_of "$h")/s/$site/$path" | sha256sum | cut -d' ' -f1)
      [ "$sha" = "$(sha256sum "$1/$path" | cut -d' ' -f1)" ] || die "refuge: $h serves another $path than $1"
    done <"$bench_dir/changed.txt"
  done
}

# ---- runs ----------------------------------------------------------------------------------
mkdir -p "$bench_dir/logs"
declare -A R_TIME R_EGRESS R_DETAIL R_PUBLISH R_CPU
record() { # record METHOD PHASE
  R_TIME[$1/$2]="${R_TIME[$1/$2]:-} $took"
  R_EGRESS[$1/$2]="${R_EGRESS[$1/$2]:-} $egress"
  R_CPU[$1/$2]="${R_CPU[$1/$2]:-} $cpu_s"
  R_DETAIL[$1/$2]="${R_DETAIL[$1/$2]:-}${R_DETAIL[$1/$2]:+,}{\"time_s\":$took,\"origin_egress_bytes\":$egress,\"cpu_s\":$cpu_s,\"mirror_done_s\":[$(echo "$done_list" | tr ' ' ',')],\"host_tx_bytes\":[$(echo "$host_tx" | tr ' ' ',')]"
  if [ "$1" = refuge ]; then
    R_DETAIL[$1/$2]+=",\"mirror_metadata_s\":[$(echo "$meta_list" | tr ' ' ',')],\"targets_json_bytes\":$targets_bytes,\"publish_s\":$publish_s,\"syncs\":[$sync_lines]"
  fi
  R_DETAIL[$1/$2]+="}"
  log "  $1 $2: $(printf '%.2f' "$took") s, origin sent $(awk -v b="$egress" 'BEGIN { printf "%.2f", b / 1e6 }') MB, CPU $cpu_s s; mirrors done at [$done_list] s${meta_list:+ (timestamp.json new at [$meta_list] s)}; tx per host [$host_tx]$([ "$targets_bytes" = null ] || echo "; targets.json $targets_bytes bytes")"
}
[ $want_rsync = 1 ] && rsync_start
load_start=$(loadavg)
run_loads=()
for ((run = 1; run <= runs; run++)); do
  run_loads+=("\"$(loadavg)\"")
  log "run $run/$runs (load average $(loadavg))"
  # The order of the methods rotates from run to run, so that a trend in the machine's load
  # does not always favour the same one.
  order=("${methods[@]}")
  for ((k = 1; k < run; k++)); do order=("${order[@]:1}" "${order[0]}"); done
  for m in "${order[@]}"; do
    case "$m" in
      refuge)
        log " refuge: setting up ($n_mirrors mirrors following a placeholder version and accepted$([ $cold_peers = 1 ] && echo "; cold peers"))"
        refuge_setup "$run"
        sync -f "$bench_dir"
        refuge_phase "$run" initial $((base_version + 1)) "$bench_dir/site-v1" "$probe1" "$probe1_sha"
        R_PUBLISH[refuge/initial]="${R_PUBLISH[refuge/initial]:-} $publish_s"
        record refuge initial
        sync -f "$bench_dir"
        sleep 1
        refuge_phase "$run" update $((base_version + 2)) "$bench_dir/site-v2" "$probe2" "$probe2_sha"
        R_PUBLISH[refuge/update]="${R_PUBLISH[refuge/update]:-} $publish_s"
        record refuge update
        [ "$run" = 1 ] && refuge_verify "$bench_dir/site-v2"
        nodes_stop
        ;;
      rsync-seq|rsync-par)
        mode=${m#rsync-}
        rsync_empty
        rsync_phase "$mode" "$bench_dir/site-v1"; record "$m" initial
        sync -f "$bench_dir"
        sleep 1
        rsync_phase "$mode" "$bench_dir/site-v2"; record "$m" update
        [ "$run" = 1 ] && rsync_verify "$bench_dir/site-v2"
        ;;
    esac
    sync -f "$bench_dir"
  done
done
load_end=$(loadavg)
total_s=$(elapsed "$started" "$(now)")

# ---- report --------------------------------------------------------------------------------
cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
kernel=$(uname -r)
rsync_version=$(rsync --version 2>/dev/null | head -1 | awk '{ print $3 }' || true)
refuge_version=$("$refuge_bin" --version 2>/dev/null | head -1 || true)
cap_label=$([ "$cap" = 0 ] && echo "no cap" || echo "$cap Mbit/s per uplink (tbf)")

json="{\"machine\":{\"nproc\":$(nproc),\"cpu\":\"$cpu_model\",\"kernel\":\"$kernel\",\"load_start\":\"$load_start\",\"load_end\":\"$load_end\",\"load_at_run_start\":[$(IFS=,; echo "${run_loads[*]}")],\"rsync\":\"$rsync_version\",\"refuge\":\"$refuge_version\"},"
json+="\"config\":{\"mirrors\":$n_mirrors,\"cap_mbit\":$cap,\"runs\":$runs,\"files\":$site_files,\"dirs\":$site_dirs,\"site_bytes\":$site_bytes,"
json+="\"changed_files\":$changed_files,\"changed_bytes\":$changed_bytes,\"seed\":$seed,"
json+="\"cold_peers\":$([ $cold_peers = 1 ] && echo true || echo false),\"origin_fanout\":${origin_fanout:-null},\"origin_fanout_delay_ms\":${fanout_delay:-null},\"parallel_fetches\":${parallel_fetches:-null}},"
json+="\"targets\":{\"time_ratio_max\":0.5,\"egress_ratio_max\":1.5},\"phases\":{"

declare -A LABEL=([refuge]="refuge (hints, peers)" [rsync-seq]="rsync, sequential" [rsync-par]="rsync, parallel")
first_phase=1
for phase in initial update; do
  if [ $phase = initial ]; then ref_bytes=$site_bytes; title="Phase 1: initial distribution ($site_files files, $site_bytes bytes)"
  else ref_bytes=$changed_bytes; title="Phase 2: update ($changed_files files rewritten, $changed_bytes bytes)"; fi
  echo
  echo "== $title, $n_mirrors mirrors, $cap_label; median of $runs =="
  printf '%-24s %9s %12s %12s %14s %9s\n' method "time s" "egress MB" "egress/chg" "vs best rsync" "CPU s"
  # refuge / best rsync, per run (same run), then the median.
  per_run_ratio=()
  if want refuge && [ $want_rsync = 1 ]; then
    read -r -a rt <<<"${R_TIME[refuge/$phase]}"
    read -r -a st <<<"${R_TIME[rsync-seq/$phase]:-}"
    read -r -a pt <<<"${R_TIME[rsync-par/$phase]:-}"
    for ((r = 0; r < runs; r++)); do
      best=$(printf '%s\n' ${st[r]:-} ${pt[r]:-} | sort -g | head -1)
      per_run_ratio+=("$(ratio "${rt[r]}" "$best")")
    done
  fi
  [ $first_phase = 1 ] || json+=","
  first_phase=0
  json+="\"$phase\":{\"changed_bytes\":$ref_bytes,\"methods\":{"
  first_m=1
  best_rsync_med=nan
  for m in "${methods[@]}"; do
    med=$(median ${R_TIME[$m/$phase]})
    emed=$(printf '%.0f' "$(median ${R_EGRESS[$m/$phase]})")
    er=$(ratio "$emed" "$ref_bytes")
    if [[ $m == rsync-* ]]; then
      if [ "$best_rsync_med" = nan ] || awk -v a="$med" -v b="$best_rsync_med" 'BEGIN { exit !(a < b) }'; then best_rsync_med=$med; fi
    fi
    vs="-"
    [ "$m" = refuge ] && [ ${#per_run_ratio[@]} -gt 0 ] && vs="$(printf '%.2f' "$(median "${per_run_ratio[@]}")")x"
    cmed=$(median ${R_CPU[$m/$phase]})
    printf '%-24s %9.2f %12.2f %11.2fx %14s %9.2f\n' "${LABEL[$m]}" "$med" "$(awk -v b="$emed" 'BEGIN { print b / 1e6 }')" "$er" "$vs" "$cmed"
    [ $first_m = 1 ] || json+=","
    first_m=0
    json+="\"$m\":{\"median_s\":$med,\"runs_s\":[$(echo ${R_TIME[$m/$phase]} | tr ' ' ',')],"
    json+="\"median_origin_egress_bytes\":$emed,\"runs_origin_egress_bytes\":[$(echo ${R_EGRESS[$m/$phase]} | tr ' ' ',')],"
    json+="\"egress_ratio_to_changed\":$er,\"median_cpu_s\":$cmed,"
    [ "$m" = refuge ] && json+="\"publish_s\":[$(echo ${R_PUBLISH[refuge/$phase]} | tr ' ' ',')],"
    json+="\"runs\":[${R_DETAIL[$m/$phase]}]}"
  done
  json+="}"
  if [ ${#per_run_ratio[@]} -gt 0 ]; then
    rmed=$(median "${per_run_ratio[@]}")
    json+=",\"refuge_vs_best_rsync\":{\"runs\":[$(IFS=,; echo "${per_run_ratio[*]}")],\"median\":$rmed}"
    echo "refuge time / faster rsync (same run): ${per_run_ratio[*]} -> median $(printf "%.2f" "$rmed")x (target <= 0.5x)"
  fi
  if want refuge; then
    echo "refuge origin egress / changed bytes: $(ratio "$(median ${R_EGRESS[refuge/$phase]})" "$ref_bytes")x (target <= 1.5x);" \
      "publish itself took $(median ${R_PUBLISH[refuge/$phase]}) s (not in the time)"
  fi
  json+="}"
done
json+="},\"total_s\":$total_s}"
echo
echo "load average: $load_start at start, $load_end at end; total $(printf '%.0f' "$total_s") s"
if [ -n "$json_out" ]; then
  if [ "$json_out" = - ]; then
    printf '%s\n' "$json" >&3
  else
    printf '%s\n' "$json" >"$json_out"
    echo "figures written to $json_out"
  fi
fi
