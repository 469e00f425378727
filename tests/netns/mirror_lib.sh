# Shared helpers of the mirror-network scenarios (tests/netns/mirror_*.sh). Each scenario
# starts with
#
#   source "$(dirname "$0")/mirror_lib.sh" "$@"
#
# and is run as root with `bash SCRIPT.sh PATH_TO_REFUGE`. This sources
# tests/integration/lib.sh (assertions, $TEST_TMP, exit 77 on a missing tool) and netenv.sh
# (hosts as network namespaces, loss, partitions, caps), then provides:
#   mnet_up N                 hosts h0..h(N-1); a node home per host; state dump on failure
#   rf HOST ARGS...           refuge with HOST's home, run in HOST's namespace
#   node_start HOST [ARGS]    refuge serve on ADDR:8080 of HOST (--public-url, --refresh-interval)
#   node_kill HOST [SIGNAL]   SIGKILL (default) or another signal to HOST's serve; waits for it
#   served_version HOST       the version HOST serves (its timestamp.json), 0 if none
#   wait_version V SECONDS HOSTS...  every host serves V (or newer if "+" is given) in time
#   publish_version DIR       publish DIR on h0 as the next version of $SITE, prints it
#   make_site DIR TAG [N]     a small generated site (N files) whose every file names TAG
# Every node's version, status and `mirror list` are printed on failure (lib.sh adds the logs).

source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh" "$@"
source "$(dirname "${BASH_SOURCE[0]}")/netenv.sh"

netenv_require
if ! command -v curl >/dev/null 2>&1; then
  echo "SKIP [$TEST_NAME]: needs curl (bash scripts/setup.sh installs it)" >&2
  exit 77
fi

MNET_PORT=8080
declare -A NODE_PID=()   # HOST -> pid of its refuge serve
SITE=${SITE:-}
SERVE_ARGS=()  # extra arguments of every mirror's serve in setup_publisher_and_mirrors
MNET_T0=$(now_ms)

# Milliseconds since the scenario started, for the log lines.
t_ms() { echo $(($(now_ms) - MNET_T0)); }
say() {
  local t
  t=$(t_ms)
  printf '    [%4d.%d s] %s\n' $((t / 1000)) $((t % 1000 / 100)) "$*"
}

home_of() { echo "$TEST_TMP/nodes/$1"; }
url_of() { echo "http://$(netenv_addr "$1"):$MNET_PORT"; }

mnet_up() {
  netenv_up "$1"
  NETENV_ON_FAIL=mnet_dump
  local h
  for h in "${NETENV_HOSTS[@]}"; do
    mkdir -p "$(home_of "$h")"
  done
}

# rf HOST ARGS...: refuge ARGS with HOST's node home, in HOST's namespace.
rf() {
  local host=$1
  shift
  netenv_exec "$host" env REFUGE_HOME="$(home_of "$host")" "$REFUGE" "$@"
}

# hcurl HOST ARGS...: curl in HOST's namespace (bounded; never follows redirects).
hcurl() {
  local host=$1
  shift
  netenv_exec "$host" curl -sS --connect-timeout 5 --max-time 20 "$@"
}

# node_start HOST [SERVE_ARGS...]: starts refuge serve on HOST's address, port 8080, with
# --public-url and --refresh-interval 600 (only hints and startup explain a quick sync) unless
# SERVE_ARGS give another. Waits until it answers /.refuge/v1/status.
node_start() {
  local host=$1
  shift
  local -a args=("$@")
  [[ " ${args[*]} " == *" --refresh-interval "* ]] || args+=(--refresh-interval 600)
  # The scenarios' readers compare whole sites from one address, faster than a browser: the
  # shield's per-address and per-prefix limits are raised for them (every host shares one
  # /24); its other defences, and the per-peer limits of node-to-node traffic, are as shipped.
  if [[ " ${args[*]} " != *" --config "* ]]; then
    printf '[shield]\nrate_per_address = 5000\nburst_per_address = 50000\nrate_per_prefix = 20000\nburst_per_prefix = 70000\n' \
      >"$TEST_TMP/shield.toml"
    args+=(--config "$TEST_TMP/shield.toml")
  fi
  local n=1
  while [[ -e $TEST_TMP/node.$host.$n.out.err ]]; do n=$((n + 1)); done
  local log=$TEST_TMP/node.$host.$n.out.err
  netenv_spawn "$host" "$log" env REFUGE_HOME="$(home_of "$host")" "$REFUGE" serve \
    --listen "$(netenv_addr "$host"):$MNET_PORT" --no-admin --public-url "$(url_of "$host")" "${args[@]}"
  NODE_PID[$host]=$NETENV_PID
  local i
  for ((i = 0; i < 200; i++)); do
    if ! netenv_alive "${NODE_PID[$host]}"; then
      fail "refuge serve on $host exited at start: $(tail -5 "$log")"
    fi
    if netenv_exec "$host" curl -s -o /dev/null --max-time 1 "$(url_of "$host")/.refuge/v1/status" 2>/dev/null; then
      return 0
    fi
    sleep 0.05
  done
  fail "refuge serve on $host does not answer /.refuge/v1/status 10 s after start: $(tail -5 "$log")"
}

# node_kill HOST [SIGNAL]: sends SIGNAL (default KILL) to HOST's serve and waits for its exit.
node_kill() {
  local host=$1 sig=${2:-KILL} pid=${NODE_PID[$1]:-}
  [[ -n $pid ]] || return 0
  kill -"$sig" "$pid" 2>/dev/null || true
  timeout 20 tail --pid="$pid" -f /dev/null || fail "refuge serve on $host did not exit after SIG$sig"
  wait "$pid" 2>/dev/null || true
  NODE_PID[$host]=
}

node_running() { [[ -n ${NODE_PID[$1]:-} ]] && netenv_alive "${NODE_PID[$1]}"; }

# served_version HOST [SITE]: the snapshot version in the timestamp.json HOST serves (asked from
# inside HOST, so loss and partitions do not hide it); 0 when it serves none or is down.
served_version() {
  local host=$1 site=${2:-$SITE} body
  body=$(netenv_exec "$host" curl -s --max-time 3 -f \
    "$(url_of "$host")/.refuge/v1/sites/$site/metadata/timestamp.json" 2>/dev/null) || { echo 0; return 0; }
  "$PYTHON" -c '
import json, sys
try:
    print(json.loads(sys.argv[1])["signed"]["meta"]["snapshot.json"]["version"])
except Exception:
    print(0)' "$body"
}

# status_json HOST: HOST's /.refuge/v1/status (empty when it does not answer).
status_json() { netenv_exec "$1" curl -s --max-time 3 "$(url_of "$1")/.refuge/v1/status" 2>/dev/null || true; }

# shellcheck disable=SC2120  # HOSTS are optional
# versions [HOSTS...]: "h0=3 h1=3 ..." (every host by default).
versions() {
  local -a hosts=("$@")
  ((${#hosts[@]})) || hosts=("${NETENV_HOSTS[@]}")
  local h out=""
  for h in "${hosts[@]}"; do out+="$h=$(served_version "$h") "; done
  echo "${out% }"
}

# wait_version V SECONDS HOSTS...: waits until each host serves version V; fails after
# SECONDS with the versions seen. Prints, per host, when it got there.
wait_version() {
  local want=$1 secs=$2
  shift 2
  local -a left=("$@")
  local start deadline
  start=$(now_ms)
  deadline=$((start + secs * 1000))
  while ((${#left[@]})); do
    local -a still=()
    local h v
    for h in "${left[@]}"; do
      v=$(served_version "$h")
      if ((v == want)); then
        say "$h serves version $want ($(($(now_ms) - start)) ms after the wait began)"
        check_switch "$h" "$want"
      elif ((v > want)); then
        fail "$h serves version $v, newer than the awaited $want"
      else
        still+=("$h")
      fi
    done
    left=("${still[@]}")
    ((${#left[@]})) || break
    if (($(now_ms) > deadline)); then
      fail "version $want not served within $secs s by: ${left[*]} (versions: $(versions))"
    fi
    sleep 0.2
  done
}

# publish_version DIR: publishes DIR on h0 as the next version of $SITE; prints the version
# (and records which directory it came from, for check_switch).
publish_version() {
  local out v
  out=$(rf h0 publish --site "$SITE" "$1" --json 2>"$TEST_TMP/publish.err") ||
    fail "refuge publish on h0 failed: $(cat "$TEST_TMP/publish.err")"
  v=$(jget "$out" 'j["version"]')
  echo "$v $1" >>"$TEST_TMP/versions.map"
  echo "$v"
}

# src_of_version V: the directory published as version V (empty if unknown).
src_of_version() { awk -v v="$1" '$1 == v { print $2 }' "$TEST_TMP/versions.map" 2>/dev/null | tail -1; }

# check_switch HOST V: HOST's timestamp.json just said V; its /s/ files must be V's at once
# (the switch to a version is atomic: metadata and files together). A soft check: a mismatch
# is reported and fails the test at the end, and the scenario goes on.
check_switch() {
  local host=$1 v=$2 src got
  src=$(src_of_version "$v")
  [[ -n $src && -f $src/version.txt ]] || return 0
  got=$(netenv_exec "$host" curl -s --max-time 3 "$(url_of "$host")/s/$SITE/version.txt" 2>/dev/null || true)
  if [[ $got != "$(cat "$src/version.txt")" ]]; then
    echo "FAIL [$TEST_NAME] at $(_where): $host serves timestamp.json of version $v, but /s/SITE/version.txt is still '$got' (expected '$(cat "$src/version.txt")'): metadata and files did not switch together" >&2
    _SOFT_FAILURES=$((_SOFT_FAILURES + 1))
  fi
}

# files_match HOST SRC_DIR: every file of SRC_DIR is served by HOST byte for byte; prints the
# first mismatch.
files_match() {
  local host=$1 src=$2 f rel
  while IFS= read -r -d '' f; do
    rel=${f#"$src/"}
    if ! netenv_exec "$host" curl -sf --max-time 20 -o "$TEST_TMP/files_match.got" \
      "$(url_of "$host")/s/$SITE/$(quote_path "$rel")" 2>/dev/null; then
      echo "GET /s/SITE/$rel on $host failed"
      return 1
    fi
    if ! cmp -s "$f" "$TEST_TMP/files_match.got"; then
      echo "$rel served by $host differs from $f ($(stat -c %s "$TEST_TMP/files_match.got") bytes vs $(stat -c %s "$f"))"
      return 1
    fi
  done < <(find "$src" -type f -print0)
}

# expect_files HOST SRC_DIR WHAT: files_match, allowing 3 s for the node to switch (the
# immediate switch is check_switch's business).
expect_files() {
  local host=$1 src=$2 what=$3 msg deadline=$((SECONDS + 3))
  while ! msg=$(files_match "$host" "$src"); do
    ((SECONDS < deadline)) || fail "$what: $msg"
    sleep 0.2
  done
}

quote_path() { "$PYTHON" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe="/~"))' "$1"; }

# make_site DIR TAG [N]: DIR with index.html, version.txt and N (default 5) small files, all
# naming TAG, and one 64 KiB random file; then `site_extra DIR TAG` if the scenario defines it.
make_site() {
  local dir=$1 tag=$2 n=${3:-5} i
  mkdir -p "$dir/pages"
  printf '<!doctype html><title>%s</title><p>version %s</p>\n' "$tag" "$tag" >"$dir/index.html"
  printf '%s\n' "$tag" >"$dir/version.txt"
  for ((i = 0; i < n; i++)); do
    printf 'page %d of %s\n' "$i" "$tag" >"$dir/pages/p$i.txt"
  done
  head -c 65536 /dev/urandom >"$dir/random.bin"
  # A scenario may add files to every generated site.
  if declare -F site_extra >/dev/null; then site_extra "$dir" "$tag"; fi
}

# site_init_on_h0: a new site on h0, sets SITE.
site_init_on_h0() {
  local out
  out=$(rf h0 site init --json) || fail "refuge site init on h0 failed"
  SITE=$(jget "$out" 'j["site_id"]')
  say "site $SITE"
}

# mirror_add HOST SOURCE_HOST...: HOST follows $SITE from the listed hosts (refuge mirror add,
# which syncs once and exits 0).
mirror_add() {
  local host=$1
  shift
  local -a from=()
  local s
  for s in "$@"; do from+=(--from "$(url_of "$s")"); done
  run rf "$host" mirror add "$SITE" "${from[@]}"
  if [[ $RUN_RC != 0 ]]; then
    echo "FAIL [$TEST_NAME] at $(_where): refuge mirror add on $host" >&2
    _show_run >&2
    exit 1
  fi
}

# pending_count: announcements waiting on h0 for $SITE (refuge mirrors pending --json).
pending_count() {
  local out
  out=$(rf h0 mirrors pending "$SITE" --json 2>/dev/null) || { echo -1; return 0; }
  "$PYTHON" -c '
import json, sys
j = json.loads(sys.argv[1])
if isinstance(j, dict):
    for k in ("pending", "announcements", "mirrors"):
        if isinstance(j.get(k), list):
            j = j[k]
            break
print(len(j) if isinstance(j, list) else -1)' "$out"
}

# accept_mirrors N: waits (20 s) until N announcements are pending on h0, accepts them all.
accept_mirrors() {
  local want=$1 n deadline=$((SECONDS + 20))
  while :; do
    n=$(pending_count)
    ((n >= want)) && break
    ((SECONDS < deadline)) || fail "$n announcement(s) pending on h0 after 20 s, expected $want: $(rf h0 mirrors pending "$SITE" --json 2>&1 | head -c 2000)"
    sleep 0.2
  done
  expect_ok rf h0 mirrors accept "$SITE" --all
  say "h0 accepted $n mirror(s)"
}

# A publisher h0 serving $SITE at version 1 (from $TEST_TMP/src-v1) and mirrors that follow it,
# announce themselves and are accepted; then version 2 is published (with the signed mirror list)
# and awaited on every mirror. SERVE_ARGS (an array, may be empty) go to every mirror's serve.
# setup_publisher_and_mirrors MIRRORS...
setup_publisher_and_mirrors() {
  local h
  site_init_on_h0
  make_site "$TEST_TMP/src-v1" v1
  V1=$(publish_version "$TEST_TMP/src-v1")
  node_start h0
  for h in "$@"; do
    mirror_add "$h" h0
    node_start "$h" ${SERVE_ARGS[@]+"${SERVE_ARGS[@]}"}
  done
  wait_version "$V1" 20 h0 "$@"
  accept_mirrors $#
  make_site "$TEST_TMP/src-v2" v2
  V2=$(publish_version "$TEST_TMP/src-v2")
  wait_version "$V2" 60 h0 "$@"
  # The signed mirror list is a target of version 2, and names every mirror.
  hcurl h0 -o "$TEST_TMP/mirrors.json" "$(url_of h0)/s/$SITE/.refuge/mirrors.json" ||
    fail "h0 does not serve /s/SITE/.refuge/mirrors.json after accept and publish"
  for h in "$@"; do
    assert_contains "$(cat "$TEST_TMP/mirrors.json")" "$(url_of "$h")" "the signed mirror list"
  done
}

# mnet_dump: every node's state (on failure).
mnet_dump() {
  echo "=== state of every node at $(t_ms) ms (site ${SITE:-none}) ==="
  netenv_state
  local h
  for h in "${NETENV_HOSTS[@]}"; do
    echo "--- $h ($(url_of "$h")): serve pid ${NODE_PID[$h]:-none} $(node_running "$h" && echo running || echo down), served version $( [[ -n $SITE ]] && served_version "$h" || echo -)"
    echo "    status: $(status_json "$h" | head -c 1500)"
    if [[ -n $SITE && -e $(home_of "$h")/node.db ]]; then
      echo "    mirror list: $(timeout 10 env REFUGE_HOME="$(home_of "$h")" "$REFUGE" mirror list --json 2>&1 | head -c 1500)"
    fi
  done
  echo "=== end of state (the nodes' logs follow) ==="
}
