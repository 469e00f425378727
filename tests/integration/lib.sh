# Shared helpers of the integration tests. Each test script starts with
#
#   source "$(dirname "$0")/lib.sh" "$@"
#
# and is run as `bash SCRIPT.sh /path/to/refuge`. This file:
#   - checks the argument and the tools the tests use (exit 77, a ctest skip, if one is missing),
#   - makes a private temporary directory $TEST_TMP and a fresh node home $REFUGE_HOME in it,
#     and removes both on exit, whatever the outcome (killing the background processes the
#     test registered with track_pid first),
#   - turns any unexpected failing command into a "FAIL" line naming the line and the command,
#   - provides assertions that print what was expected and what came, then exit 1.
# Run the tests with: ctest -L integration (or directly: bash tests/integration/X.sh build/refuge)

set -eEuo pipefail
shopt -s inherit_errexit

TEST_NAME=$(basename "$0" .sh)
if [[ $# -lt 1 || ! -x "$1" ]]; then
  echo "usage: bash $0 PATH_TO_REFUGE_BINARY (got: '${1:-}')" >&2
  exit 2
fi
REFUGE=$(realpath "$1")
PYTHON=/usr/bin/python3
[[ -x $PYTHON ]] || PYTHON=$(command -v python3 || true)

for tool in "$PYTHON" sqlite3 sha256sum timeout cmp; do
  if [[ -z $tool ]] || ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIP [$TEST_NAME]: needs ${tool:-python3} (bash scripts/setup.sh installs it)" >&2
    exit 77
  fi
done

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/refuge-$TEST_NAME.XXXXXX")
chmod 755 "$TEST_TMP"  # tests that run refuge as another user need to reach into it
export REFUGE_HOME=$TEST_TMP/home
export LC_ALL=C.UTF-8
TEST_START=$(date +%s)
_TRACKED_PIDS=()
_SOFT_FAILURES=0

# Background processes started by the test, killed (by pid) on exit.
track_pid() { _TRACKED_PIDS+=("$1"); }

_cleanup() {
  local rc=$?
  trap - ERR
  set +e
  if [[ $rc -eq 0 && $_SOFT_FAILURES -gt 0 ]]; then rc=1; fi
  local pid
  for pid in "${_TRACKED_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -9 "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
    fi
  done
  if [[ $rc -ne 0 && -n ${TEST_TMP:-} ]]; then
    # What the nodes said (a crash report, a sanitizer finding) is evidence: show it.
    local log
    for log in "$TEST_TMP"/node.*.out.err; do
      [[ -s $log ]] || continue
      echo "--- stderr of a node started by this test ($log), last 60 lines:" >&2
      tail -n 60 "$log" >&2
    done
  fi
  if [[ -n ${TEST_TMP:-} && -d $TEST_TMP ]]; then
    chmod -R u+rwX "$TEST_TMP" 2>/dev/null
    rm -rf "$TEST_TMP"
  fi
  if [[ $rc -eq 0 ]]; then
    echo "PASS [$TEST_NAME] in $(($(date +%s) - TEST_START)) s"
  else
    echo "FAILED [$TEST_NAME] (exit $rc) after $(($(date +%s) - TEST_START)) s" >&2
  fi
  exit "$rc"
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

# An unexpected failure (set -e) in the main shell: say where. Subshells stay quiet; the
# command substitution that failed is reported by the main shell.
_on_err() {
  local rc=$? line=$1 cmd=$2
  if [[ $BASHPID == "$$" ]]; then
    echo "FAIL [$TEST_NAME] at $(basename "${BASH_SOURCE[1]:-$0}"):$line (called from $(_where)): command failed (exit $rc): $cmd" >&2
  fi
}
trap '_on_err $LINENO "$BASH_COMMAND"' ERR

# Where in the test script the failing check is: "script.sh:LINE", innermost first.
_where() {
  local i out=""
  for ((i = 0; i < ${#BASH_LINENO[@]} - 1; i++)); do
    local src=${BASH_SOURCE[i + 1]:-}
    [[ -z $src || $src == */lib.sh || $src == lib.sh ]] && continue
    out+="${out:+ < }$(basename "$src"):${BASH_LINENO[i]}"
  done
  echo "${out:-?}"
}

fail() {
  echo "FAIL [$TEST_NAME] at $(_where): $*" >&2
  exit 1
}

# soft ASSERTION...: runs an assertion; if it fails, its FAIL line is printed and the test
# goes on but exits 1 at the end. For checks whose failure should not hide the ones after.
soft() {
  if ! ("$@"); then _SOFT_FAILURES=$((_SOFT_FAILURES + 1)); fi
}

# assert_reason TEXT WHAT: TEXT says why something failed, not only what it concerned.
assert_reason() {
  if ! grep -qiE 'not found|no such|does not exist|not held|unknown|missing' <<<"$1"; then
    fail "$2: expected the message to give the reason (not found, ...), got '$1'"
  fi
}

step() { echo "--- $*"; }

refuge() { "$REFUGE" "$@"; }

# run CMD...: runs CMD without failing the test; sets RUN_RC, RUN_OUT (stdout), RUN_ERR
# (stderr) and RUN_CMD. Standard input is /dev/null.
run() {
  RUN_CMD=$(printf '%q ' "$@")
  RUN_RC=0
  "$@" >"$TEST_TMP/.run.out" 2>"$TEST_TMP/.run.err" </dev/null || RUN_RC=$?
  RUN_OUT=$(tr -d '\0' <"$TEST_TMP/.run.out")
  RUN_ERR=$(tr -d '\0' <"$TEST_TMP/.run.err")
}

_show_run() {
  printf '  command: %s\n  exit code: %s\n  stdout: %s\n  stderr: %s\n' "$RUN_CMD" "$RUN_RC" \
    "$(head -c 2000 <<<"$RUN_OUT")" "$(head -c 2000 <<<"$RUN_ERR")"
}

# expect_exit CODE CMD...: runs CMD (see run) and fails unless it exits with CODE.
expect_exit() {
  local want=$1
  shift
  run "$@"
  if [[ $RUN_RC != "$want" ]]; then
    echo "FAIL [$TEST_NAME] at $(_where): expected exit code $want, got $RUN_RC" >&2
    _show_run >&2
    exit 1
  fi
}

# expect_ok CMD...: expect_exit 0.
expect_ok() {
  local want=0
  run "$@"
  if [[ $RUN_RC != "$want" ]]; then
    echo "FAIL [$TEST_NAME] at $(_where): expected success (exit 0), got $RUN_RC" >&2
    _show_run >&2
    exit 1
  fi
}

# assert_eq EXPECTED ACTUAL WHAT
assert_eq() {
  if [[ "$1" != "$2" ]]; then
    fail "$3: expected '$1', got '$2'"
  fi
}

# assert_ne UNEXPECTED ACTUAL WHAT
assert_ne() {
  if [[ "$1" == "$2" ]]; then
    fail "$3: expected anything but '$1'"
  fi
}

# assert_match REGEX ACTUAL WHAT (bash extended regex, whole-string anchors up to the caller)
assert_match() {
  if ! [[ "$2" =~ $1 ]]; then
    fail "$3: expected to match /$1/, got '$2'"
  fi
}

# assert_contains HAYSTACK NEEDLE WHAT
assert_contains() {
  if [[ "$1" != *"$2"* ]]; then
    fail "$3: expected to contain '$2', got '$(head -c 2000 <<<"$1")'"
  fi
}

# assert_not_contains HAYSTACK NEEDLE WHAT
assert_not_contains() {
  if [[ "$1" == *"$2"* ]]; then
    fail "$3: expected not to contain '$2', got '$(head -c 2000 <<<"$1")'"
  fi
}

# assert_int_ge A B WHAT: A >= B
assert_int_ge() {
  if ! (($1 >= $2)); then fail "$3: expected at least $2, got $1"; fi
}

# assert_same_file EXPECTED_FILE ACTUAL_FILE WHAT: byte-for-byte equality.
assert_same_file() {
  [[ -f $2 ]] || fail "$3: $2 does not exist"
  if ! cmp -s "$1" "$2"; then
    fail "$3: $2 differs from $1 ($(cmp "$1" "$2" 2>&1 | head -1); sizes $(stat -c %s "$1") vs $(stat -c %s "$2"))"
  fi
}

# assert_no_file PATH WHAT
assert_no_file() {
  if [[ -e $1 || -L $1 ]]; then fail "$2: $1 exists but should not"; fi
}

# assert_one_line_error NEEDLE...: the last `run` printed exactly one line on stderr, starting
# with "refuge", containing every NEEDLE.
assert_one_line_error() {
  local lines
  lines=$(printf '%s' "$RUN_ERR" | grep -c '' || true)
  if [[ $lines != 1 ]]; then
    echo "FAIL [$TEST_NAME] at $(_where): expected a one-line error on stderr, got $lines line(s)" >&2
    _show_run >&2
    exit 1
  fi
  if [[ $RUN_ERR != refuge* ]]; then
    echo "FAIL [$TEST_NAME] at $(_where): expected the error to start with 'refuge'" >&2
    _show_run >&2
    exit 1
  fi
  local needle
  for needle in "$@"; do
    if [[ $RUN_ERR != *"$needle"* ]]; then
      echo "FAIL [$TEST_NAME] at $(_where): expected the error to mention '$needle'" >&2
      _show_run >&2
      exit 1
    fi
  done
}

# jget JSON EXPR: evaluates the Python expression EXPR on the parsed JSON `j`; prints strings
# raw, everything else as JSON (true, 3, [..]). Fails if JSON does not parse or EXPR fails.
jget() {
  local out
  if ! out=$("$PYTHON" -c '
import json, sys
j = json.loads(sys.argv[1])
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2" 2>&1); then
    fail "could not evaluate $2 on JSON '$(head -c 1000 <<<"$1")': $out"
  fi
  printf '%s\n' "$out"
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# Count of objects in a node home's store.
object_count() { find "$1/objects" -type f | wc -l; }

# A new empty directory under $TEST_TMP.
new_dir() { mktemp -d "$TEST_TMP/$1.XXXXXX"; }

# Prints the current version of a site held by the node home $REFUGE_HOME.
current_version() {
  local out
  out=$(refuge site show "$1" --json) || fail "refuge site show $1 --json failed"
  jget "$out" 'j["current_version"]'
}

# shellcheck disable=SC2120  # HOME is optional
# expect_verify_clean [HOME]: `refuge verify` exits 0 and reports no problem.
expect_verify_clean() {
  local home=${1:-$REFUGE_HOME}
  run "$REFUGE" --home "$home" verify --json
  if [[ $RUN_RC != 0 ]]; then
    echo "FAIL [$TEST_NAME] at $(_where): refuge verify of $home: expected exit 0, got $RUN_RC" >&2
    _show_run >&2
    exit 1
  fi
  assert_eq true "$(jget "$RUN_OUT" 'j["ok"]')" "verify --json ok"
}

# The SQL value of a query on a node home's database.
db_query() { sqlite3 -readonly "$1/node.db" "$2"; }

# Path of the object NAME (sha256 hex) in a node home.
object_path() { echo "$1/objects/${2:0:2}/$2"; }

# Percent-encoding of a target name as one path segment (unreserved characters kept).
quote_segment() { "$PYTHON" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe="~"))' "$1"; }

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# start_http_server DIR: serves DIR on 127.0.0.1 with python's http.server; sets HTTP_PORT,
# HTTP_PID, HTTP_LOG (the request log) and HTTP_URL. The server is killed on exit.
start_http_server() {
  local dir=$1
  HTTP_LOG=$(mktemp "$TEST_TMP/http-log.XXXXXX")
  for _ in 1 2 3 4 5; do
    HTTP_PORT=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$PYTHON" -u -m http.server --bind 127.0.0.1 "$HTTP_PORT" --directory "$dir" >"$HTTP_LOG" 2>&1 &
    HTTP_PID=$!
    track_pid "$HTTP_PID"
    local i
    for i in $(seq 100); do
      if ! kill -0 "$HTTP_PID" 2>/dev/null; then break; fi
      if (: >"/dev/tcp/127.0.0.1/$HTTP_PORT") 2>/dev/null; then
        HTTP_URL=http://127.0.0.1:$HTTP_PORT
        return 0
      fi
      sleep 0.1
    done
    kill -9 "$HTTP_PID" 2>/dev/null || true
    wait "$HTTP_PID" 2>/dev/null || true
  done
  fail "could not start python3 -m http.server for $dir: $(tail -5 "$HTTP_LOG")"
}

# Number of requests in the http.server log whose path starts with PREFIX.
http_requests() { grep -c "\"GET $1" "$HTTP_LOG" || true; }

# --- refuge serve ------------------------------------------------------------------------
# start_node [SERVE_ARGS...]: starts `refuge serve --listen 127.0.0.1:0 --admin 127.0.0.1:0`
# on $REFUGE_HOME in the background (extra arguments are passed on, e.g. --config F), waits
# until it has written its addresses, and sets NODE_PID, NODE_ADDR (host:port of the first
# HTTP listener), NODE_URL (http://NODE_ADDR), NODE_ADMIN (host:port) and NODE_OUT (its
# stdout lines: "http ADDR", "https ADDR", "redirect ADDR", "admin ADDR"). stderr goes to
# $NODE_ERR. The node is killed on exit.
start_node() {
  NODE_OUT=$TEST_TMP/node.$RANDOM.out
  NODE_ERR=$NODE_OUT.err
  rm -f "$REFUGE_HOME/serve.addr"
  "$REFUGE" serve --listen 127.0.0.1:0 --admin 127.0.0.1:0 "$@" >"$NODE_OUT" 2>"$NODE_ERR" &
  NODE_PID=$!
  track_pid "$NODE_PID"
  local i
  for ((i = 0; i < 100; i++)); do
    # The node prints all its addresses with one flush, once every listener is bound.
    if [[ -s $NODE_OUT ]]; then break; fi
    if ! kill -0 "$NODE_PID" 2>/dev/null; then
      cat "$NODE_ERR" >&2
      fail "refuge serve exited at start"
    fi
    sleep 0.05
  done
  NODE_ADDR=$(awk '$1 == "http" {print $2; exit}' "$NODE_OUT")
  NODE_ADMIN=$(awk '$1 == "admin" {print $2; exit}' "$NODE_OUT")
  NODE_URL=http://$NODE_ADDR
  [[ -n $NODE_ADDR || -n $NODE_ADMIN ]] || { cat "$NODE_ERR" >&2; fail "refuge serve printed no address"; }
}

# stop_node: SIGTERM, then waits (at most 15 s) for a clean exit; fails if it does not exit 0.
stop_node() {
  kill -TERM "$NODE_PID"
  local rc=0
  timeout 15 tail --pid="$NODE_PID" -f /dev/null || fail "refuge serve did not exit after SIGTERM"
  wait "$NODE_PID" || rc=$?
  [[ $rc -eq 0 ]] || fail "refuge serve exited with $rc after SIGTERM"
}
