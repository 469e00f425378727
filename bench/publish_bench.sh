#!/usr/bin/env bash
# R_TIMES and R_RSS hold space-separated lists that are split on purpose:
# shellcheck disable=SC2086
#
# Benchmark of `refuge publish` against a peer measured in the same run.
#
#   bench/publish_bench.sh [--workdir DIR] [--json-out FILE] [--reps N] ...   (see --help)
#
# Two scenarios, each repeated --reps times with every method run once per repetition
# (interleaved, so a change in machine load hits all methods alike); the median is reported:
#   A. large files (default 8 x 128 MiB; --large-mib 256 for 2 GiB), target >= 1 GB/s
#   B. small files (default 20,000 of 1-16 KiB over 200 directories), target >= 20,000 files/s
# Peers (page cache warm): sha256sum single process and `xargs -P`, the floor the ratios are
# against; openssl dgst -sha256 (same library as refuge; skipped if openssl is absent);
# cp -r + sync -f, a durable copy without hashing. refuge: publish into a fresh REFUGE_HOME
# (hash + durable store); re-publish of the unchanged directory; re-publish after touching
# every file's mtime (re-hash, objects already stored). Scenario A also measures the disk's
# durable sequential write ceiling with dd conv=fsync in the same repetitions.
#
# Needs bash, coreutils, findutils, python3 (to generate the files), and a built refuge.
# /usr/bin/time (Debian package `time`) is used for peak RSS when present; without it the
# peak is sampled from /proc/PID/status (VmHWM), which is a lower bound.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bench/publish_bench.sh [options]
  --refuge PATH        refuge binary (default: $REFUGE_BIN, build-bench/refuge, build/refuge, PATH)
  --workdir DIR        where the files, REFUGE_HOMEs and dd test file go; one filesystem (default: $TMPDIR or /tmp)
  --json-out FILE      also write every figure as JSON to FILE
  --reps N             repetitions per method; the median is reported (default 3)
  --scenario S         large, small or all (default all)
  --large-files N      scenario A file count (default 8)
  --large-mib M        scenario A file size in MiB (default 128; 256 is the 2 GiB case)
  --small-files N      scenario B file count (default 20000)
  --small-dirs N       scenario B directory count (default 200)
  --threads N          pass --threads N to refuge publish (default: refuge's own default)
  --parallel P         sha256sum processes for the parallel floor (default: nproc, at least 2)
  --dd-mib M           size of the dd conv=fsync write test in MiB (default 1024)
  -h, --help           this help
EOF
}

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname "$script_dir")

refuge_bin="${REFUGE_BIN:-}"
workdir="${TMPDIR:-/tmp}"
json_out=""
reps=3
scenario=all
large_files=8
large_mib=128
small_files=20000
small_dirs=200
threads=""
nproc_n=$(nproc)
parallel=$(( nproc_n < 2 ? 2 : nproc_n ))
dd_mib=1024

die() { echo "publish_bench: $*" >&2; exit 1; }
posint() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 wants a positive whole number, got '$2'"; }

while [ $# -gt 0 ]; do
  opt=$1
  case "$opt" in
    -h|--help) usage; exit 0 ;;
    --refuge|--workdir|--json-out|--reps|--scenario|--large-files|--large-mib|--small-files|\
    --small-dirs|--threads|--parallel|--dd-mib)
      [ $# -ge 2 ] || die "$opt wants a value"
      val=$2; shift 2 ;;
    *) usage >&2; die "unknown option '$opt'" ;;
  esac
  case "$opt" in
    --refuge) refuge_bin=$val ;;
    --workdir) workdir=$val ;;
    --json-out) json_out=$val ;;
    --reps) posint "$opt" "$val"; reps=$val ;;
    --scenario) [[ "$val" =~ ^(large|small|all)$ ]] || die "--scenario: large, small or all"; scenario=$val ;;
    --large-files) posint "$opt" "$val"; large_files=$val ;;
    --large-mib) posint "$opt" "$val"; large_mib=$val ;;
    --small-files) posint "$opt" "$val"; small_files=$val ;;
    --small-dirs) posint "$opt" "$val"; small_dirs=$val ;;
    --threads) posint "$opt" "$val"; threads=$val ;;
    --parallel) posint "$opt" "$val"; parallel=$val ;;
    --dd-mib) posint "$opt" "$val"; dd_mib=$val ;;
  esac
done

# ---- prerequisites -----------------------------------------------------------------------
if [ -z "$refuge_bin" ]; then
  for c in "$repo_dir/build-bench/refuge" "$repo_dir/build/refuge"; do
    if [ -x "$c" ]; then refuge_bin=$c; break; fi
  done
fi
if [ -z "$refuge_bin" ]; then refuge_bin=$(command -v refuge || true); fi
if [ -z "$refuge_bin" ] || [ ! -x "$refuge_bin" ]; then
  die "no refuge binary: build it (cmake ... && ninja refuge) or pass --refuge PATH"
fi
refuge_bin=$(cd "$(dirname "$refuge_bin")" && pwd)/$(basename "$refuge_bin")
for tool in sha256sum xargs find python3 dd awk sort sync touch df cp; do
  command -v "$tool" >/dev/null || die "missing $tool (run scripts/setup.sh)"
done
have_time=0
if [ -x /usr/bin/time ] && /usr/bin/time -v true >/dev/null 2>&1; then have_time=1; fi
if [ "${REFUGE_BENCH_NO_TIME:-0}" = 1 ]; then have_time=0; fi  # to exercise the fallback
[ -d "$workdir" ] || die "--workdir $workdir does not exist"

want_large=0; want_small=0
[ "$scenario" != small ] && want_large=1
[ "$scenario" != large ] && want_small=1

large_bytes=$(( large_files * large_mib * 1048576 ))
small_bytes_max=$(( small_files * 16384 ))
# The sources, plus per repetition one REFUGE_HOME and one cp -r copy (kept until the end of
# the scenario, see run_scenario), plus the dd file.
need=$(( dd_mib * 1048576 + 64 * 1048576 ))
[ $want_large = 1 ] && need=$(( need + (1 + 2 * reps) * large_bytes ))
[ $want_small = 1 ] && need=$(( need + (1 + 2 * reps) * 2 * small_bytes_max ))
avail=$(df --output=avail -B1 "$workdir" | tail -1 | tr -d ' ')
[ "$avail" -ge "$need" ] ||
  die "$workdir has $((avail / 1048576)) MiB free, the run needs about $((need / 1048576)) MiB"

bench_dir=$(mktemp -d "$workdir/refuge-bench.XXXXXX")
bg_pid=""
cleanup() {
  if [ -n "$bg_pid" ]; then kill "$bg_pid" 2>/dev/null || true; fi
  rm -rf -- "$bench_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- helpers -------------------------------------------------------------------------------
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b - a }'; }
median() { # numbers as arguments
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan"; exit }
    if (NR % 2) printf "%.4f", v[(NR + 1) / 2]; else printf "%.4f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
maxof() { printf '%s\n' "$@" | sort -g | tail -1; }
fsync_fs() { sync -f "$bench_dir"; }  # so writeback of a previous step is not billed to the next
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
log() { echo "$(printf "%6.1f" "$(elapsed "$started" "$(now)")")s $*" >&2; }
json_field() { # json_field NAME FILE: an integer field of refuge's one-line JSON
  grep -o "\"$1\":[0-9]*" "$2" | head -1 | cut -d: -f2
}

started=$(now)
took=0
# run_refuge OUTJSON RSSFILE args...: runs refuge, stores its stdout in OUTJSON and its peak
# RSS in KiB in RSSFILE; sets $took (seconds).
run_refuge() {
  local out=$1 rssf=$2; shift 2
  local t0 t1 rc=0
  if [ $have_time = 1 ]; then
    t0=$(now)
    /usr/bin/time -v -o "$rssf.time" "$refuge_bin" "$@" >"$out" 2>"$out.err" || rc=$?
    t1=$(now)
    awk -F': *' '/Maximum resident set size/ { print $2 }' "$rssf.time" >"$rssf"
  else
    local hwm=0 k v _u
    t0=$(now)
    "$refuge_bin" "$@" >"$out" 2>"$out.err" &
    bg_pid=$!
    while [ -r "/proc/$bg_pid/status" ]; do
      while read -r k v _u; do
        if [ "$k" = "VmHWM:" ] && [ "$v" -gt "$hwm" ]; then hwm=$v; fi
      done <"/proc/$bg_pid/status" 2>/dev/null || true
      grep -q '^State:.*Z' "/proc/$bg_pid/status" 2>/dev/null && break
      sleep 0.02
    done
    wait "$bg_pid" || rc=$?
    t1=$(now)
    bg_pid=""
    echo "$hwm" >"$rssf"
  fi
  if [ $rc -ne 0 ]; then
    cat "$out.err" >&2
    die "refuge $* failed with exit code $rc"
  fi
  took=$(elapsed "$t0" "$t1")
}

# Checks that a refuge run did the work the method is meant to measure.
expect() { # expect FILE FIELD VALUE METHOD
  local got
  got=$(json_field "$2" "$1")
  [ "$got" = "$3" ] || echo "  WARNING: $4: $2 is $got, expected $3 (the figure does not measure what it says)" >&2
}

run_floor_single() { # run_floor_single DIR
  local t0
  fsync_fs
  t0=$(now)
  find "$1" -type f -print0 | xargs -0 sha256sum >/dev/null
  took=$(elapsed "$t0" "$(now)")
}
run_floor_parallel() { # run_floor_parallel DIR COUNT
  local t0 per
  # Several files per sha256sum process, but enough batches to keep every process busy.
  per=$(( ($2 + parallel * 4 - 1) / (parallel * 4) ))
  fsync_fs
  t0=$(now)
  find "$1" -type f -print0 | xargs -0 -P "$parallel" -n "$per" sha256sum >/dev/null
  took=$(elapsed "$t0" "$(now)")
}
run_openssl() { # run_openssl DIR: the same SHA-256 library refuge uses (SHA-NI where the CPU has it)
  local t0
  fsync_fs
  t0=$(now)
  find "$1" -type f -print0 | xargs -0 openssl dgst -sha256 >/dev/null
  took=$(elapsed "$t0" "$(now)")
}
run_cpsync() { # run_cpsync DIR DEST: copy the tree and make it durable; no hashing, no renames
  local t0
  fsync_fs
  t0=$(now)
  cp -r -- "$1" "$2"
  sync -f "$2"
  took=$(elapsed "$t0" "$(now)")
}
run_dd() {
  local t0
  fsync_fs
  t0=$(now)
  dd if=/dev/zero of="$bench_dir/ddtest" bs=1M count="$dd_mib" conv=fsync status=none
  took=$(elapsed "$t0" "$(now)")
  rm -f "$bench_dir/ddtest"
  fsync_fs
}

generate() { # generate DIR KIND(large|small) COUNT SIZE_MIB|DIRS
  python3 - "$@" <<'PY'
import os, random, sys
root, kind, count, arg = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
os.makedirs(root, exist_ok=True)
if kind == "large":
    chunk = 1 << 20
    for i in range(count):
        with open(os.path.join(root, "large-%03d.bin" % i), "wb") as f:
            for _ in range(arg):
                f.write(os.urandom(chunk))
else:
    rng = random.Random(20240601)  # sizes are reproducible; contents are random and distinct
    dirs = [os.path.join(root, "d%03d" % (d // 20), "s%03d" % d) for d in range(arg)]
    for d in dirs:
        os.makedirs(d, exist_ok=True)
    for i in range(count):
        size = rng.randint(1024, 16384)
        with open(os.path.join(dirs[i % arg], "f%06d.dat" % i), "wb") as f:
            f.write(os.urandom(size))
PY
}

# ---- results -----------------------------------------------------------------------------
declare -A R_TIMES R_RSS   # key "scenario/method" -> space separated per-repetition values
record() { R_TIMES[$1/$2]="${R_TIMES[$1/$2]:-} $3"; }
record_rss() { R_RSS[$1/$2]="${R_RSS[$1/$2]:-} $3"; }
have_openssl=0
command -v openssl >/dev/null && have_openssl=1
methods=(floor1 floorP)
[ $have_openssl = 1 ] && methods+=(openssl)
methods+=(cpsync first unchanged touched)
declare -A LABEL=(
  [floor1]="sha256sum, 1 process"
  [floorP]="sha256sum, xargs -P$parallel"
  [openssl]="openssl dgst -sha256, 1 process"
  [cpsync]="cp -r + sync -f (durable copy, no hash)"
  [first]="refuge publish, first (fresh home)"
  [unchanged]="refuge publish, unchanged re-publish"
  [touched]="refuge publish, touched re-publish"
)

threads_args=()
[ -n "$threads" ] && threads_args=(--threads "$threads")

run_scenario() { # run_scenario NAME DIR COUNT BYTES
  local name=$1 dir=$2 count=$3 bytes=$4 rep home site out rss
  log "[$name] warming the page cache (reading every file once)" >&2
  find "$dir" -type f -print0 | xargs -0 cat >/dev/null
  for rep in $(seq 1 "$reps"); do
    log "[$name] repetition $rep/$reps (load average $(loadavg))" >&2
    run_floor_single "$dir"; record "$name" floor1 "$took"
    run_floor_parallel "$dir" "$count"; record "$name" floorP "$took"
    if [ $have_openssl = 1 ]; then run_openssl "$dir"; record "$name" openssl "$took"; fi
    run_cpsync "$dir" "$bench_dir/copy-$name-$rep"; record "$name" cpsync "$took"

    home=$(mktemp -d "$bench_dir/home.XXXXXX")
    export REFUGE_HOME=$home
    "$refuge_bin" site init --json >"$bench_dir/init.json" 2>/dev/null
    site=$(grep -o '"site_id":"[a-z2-7]*"' "$bench_dir/init.json" | cut -d'"' -f4)
    [ -n "$site" ] || die "refuge site init printed no site_id"
    out=$bench_dir/out.json rss=$bench_dir/rss

    fsync_fs
    run_refuge "$out" "$rss" publish --site "$site" "$dir" --json "${threads_args[@]}"
    record "$name" first "$took"; record_rss "$name" first "$(cat "$rss")"
    expect "$out" hashed_files "$count" "first publish"
    expect "$out" new_objects "$count" "first publish"

    fsync_fs
    run_refuge "$out" "$rss" publish --site "$site" "$dir" --json "${threads_args[@]}"
    record "$name" unchanged "$took"; record_rss "$name" unchanged "$(cat "$rss")"
    expect "$out" hashed_files 0 "unchanged re-publish"

    find "$dir" -type f -exec touch -m -- {} +
    fsync_fs
    run_refuge "$out" "$rss" publish --site "$site" "$dir" --json "${threads_args[@]}"
    record "$name" touched "$took"; record_rss "$name" touched "$(cat "$rss")"
    expect "$out" hashed_files "$count" "touched re-publish"
    expect "$out" new_objects 0 "touched re-publish"

    unset REFUGE_HOME
    if [ "$name" = large ]; then run_dd; record disk dd "$took"; fi
  done
  # Homes and copies are deleted only now: on ext4 the next file creations would otherwise
  # pay for inodes deleted moments before (and, with -o discard, for the discards).
  log "[$name] removing the stores and copies"
  rm -rf -- "$bench_dir"/home.* "$bench_dir"/copy-"$name"-*
  fsync_fs
}

# ---- machine -----------------------------------------------------------------------------
cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
fs_type=$(df --output=fstype "$bench_dir" | tail -1 | tr -d ' ')
kernel=$(uname -r)
mem_gib=$(awk '/^MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
sha_ni=no; grep -qw sha_ni /proc/cpuinfo && sha_ni=yes
refuge_version=$("$refuge_bin" --version 2>/dev/null | head -1 || true)
load_start=$(loadavg)

echo "refuge publish benchmark: $refuge_bin ($refuge_version)" >&2
echo "machine: $nproc_n CPUs ($cpu_model, sha_ni $sha_ni), ${mem_gib} GiB RAM, $fs_type on $workdir, kernel $kernel" >&2
[ $have_time = 1 ] || echo "note: /usr/bin/time not found; peak RSS is sampled from /proc (a lower bound)" >&2

if [ $want_large = 1 ]; then
  log "[large] generating $large_files x $large_mib MiB" >&2
  generate "$bench_dir/src-large" large "$large_files" "$large_mib"
  fsync_fs
  run_scenario large "$bench_dir/src-large" "$large_files" "$large_bytes"
  rm -rf -- "$bench_dir/src-large"
else
  for rep in $(seq 1 "$reps"); do run_dd; record disk dd "$took"; done
fi
small_bytes=0
if [ $want_small = 1 ]; then
  log "[small] generating $small_files files of 1-16 KiB in $small_dirs directories" >&2
  generate "$bench_dir/src-small" small "$small_files" "$small_dirs"
  small_bytes=$(find "$bench_dir/src-small" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
  fsync_fs
  run_scenario small "$bench_dir/src-small" "$small_files" "$small_bytes"
fi
load_end=$(loadavg)
total_s=$(elapsed "$started" "$(now)")

# ---- report ------------------------------------------------------------------------------
# The disk ceiling.
dd_med=$(median ${R_TIMES[disk/dd]})
dd_mbs=$(awk -v s="$dd_med" -v m="$dd_mib" 'BEGIN { printf "%.0f", m * 1048576 / s / 1e6 }')

json="{"
json+="\"machine\":{\"nproc\":$nproc_n,\"cpu\":\"$cpu_model\",\"sha_ni\":\"$sha_ni\",\"mem_gib\":$mem_gib,"
json+="\"fs\":\"$fs_type\",\"kernel\":\"$kernel\",\"load_start\":\"$load_start\",\"load_end\":\"$load_end\"},"
json+="\"config\":{\"reps\":$reps,\"parallel\":$parallel,\"threads\":${threads:-null},\"workdir\":\"$workdir\","
json+="\"refuge\":\"$refuge_bin\",\"rss_source\":\"$([ $have_time = 1 ] && echo /usr/bin/time || echo proc-VmHWM-sampled)\"},"
json+="\"disk\":{\"method\":\"dd if=/dev/zero bs=1M count=$dd_mib conv=fsync\",\"runs_s\":[$(echo ${R_TIMES[disk/dd]} | tr ' ' ',')],"
json+="\"median_s\":$dd_med,\"mb_per_s\":$dd_mbs},"
json+="\"scenarios\":{"

print_table() { # print_table NAME COUNT BYTES TITLE
  local name=$1 count=$2 bytes=$3 title=$4 m med1 medP med gbs fps r1 rP rss first=1
  med1=$(median ${R_TIMES[$name/floor1]})
  medP=$(median ${R_TIMES[$name/floorP]})
  echo
  echo "== $title =="
  echo "   $count files, $bytes bytes; median of $reps; ratios are speed relative to sha256sum (higher is faster)"
  printf '%-40s %9s %9s %11s %9s %9s %10s\n' method seconds GB/s files/s "vs sha1" "vs shaP" "peak RSS"
  json+="\"$name\":{\"files\":$count,\"bytes\":$bytes,\"methods\":{"
  for m in "${methods[@]}"; do
    med=$(median ${R_TIMES[$name/$m]})
    gbs=$(awk -v b="$bytes" -v s="$med" 'BEGIN { printf "%.3f", b / s / 1e9 }')
    fps=$(awk -v n="$count" -v s="$med" 'BEGIN { printf "%.0f", n / s }')
    r1=$(awk -v a="$med1" -v s="$med" 'BEGIN { printf "%.2f", a / s }')
    rP=$(awk -v a="$medP" -v s="$med" 'BEGIN { printf "%.2f", a / s }')
    rss="-"; [ -n "${R_RSS[$name/$m]:-}" ] && rss=$(maxof ${R_RSS[$name/$m]})
    printf '%-40s %9.3f %9s %11s %9s %9s %10s\n' "${LABEL[$m]}" "$med" "$gbs" "$fps" "${r1}x" "${rP}x" \
      "$([ "$rss" = - ] && echo - || echo "$((rss / 1024)) MiB")"
    [ $first = 1 ] || json+=","
    first=0
    json+="\"$m\":{\"label\":\"${LABEL[$m]}\",\"runs_s\":[$(echo ${R_TIMES[$name/$m]} | tr ' ' ',')],"
    json+="\"median_s\":$med,\"gb_per_s\":$gbs,\"files_per_s\":$fps,\"ratio_vs_sha256sum_1\":$r1,"
    json+="\"ratio_vs_sha256sum_parallel\":$rP,\"peak_rss_kib\":$([ "$rss" = - ] && echo null || echo "$rss")}"
  done
  json+="}}"
  printf '%-40s %9.3f %9s   (%s MB/s: dd %s MiB conv=fsync, same run)\n' "disk durable write ceiling" \
    "$dd_med" "$(awk -v m="$dd_mbs" 'BEGIN { printf "%.3f", m / 1000 }')" "$dd_mbs" "$dd_mib"
}

sep=""
if [ $want_large = 1 ]; then
  print_table large "$large_files" "$large_bytes" "Scenario A: $large_files large files of $large_mib MiB (target >= 1 GB/s)"
  sep=","
fi
if [ $want_small = 1 ]; then
  json+="$sep"
  print_table small "$small_files" "$small_bytes" "Scenario B: $small_files small files of 1-16 KiB in $small_dirs directories (target >= 20,000 files/s)"
fi
json+="},\"total_s\":$total_s}"
echo
echo "load average: $load_start at start, $load_end at end; total $(printf '%.0f' "$total_s") s"

if [ -n "$json_out" ]; then
  printf '%s\n' "$json" >"$json_out"
  echo "figures written to $json_out"
fi
