#!/usr/bin/env bash
# refuge get over several mirrors, and refuge mirrors check. Four `refuge serve` nodes on
# 127.0.0.1 serve the same site: A is the publisher, B, C and D are copies of its home made with
# cp -a while it was stopped. D is stopped (its port refuses connections); C has one byte
# flipped in two objects: a small one (which the node notices when it loads it into its cache,
# and answers 500) and a large one (sent from the file as it is: only the reader can tell);
# B is killed in the middle of a large download.
#   - get with several --from: the stopped node costs nothing, the corrupted object is refused
#     and fetched from another mirror, a download resumes on another mirror after its node is
#     killed; the report (stderr and --json) names the mirror that served and those that failed;
#   - the site's signed mirror list (.refuge/mirrors.json): saved by a get, then used by a get
#     without --from; without --from and without a list: a usage error;
#   - mirrors check: exit 4 naming the file of the corrupted mirror, a stopped mirror, a mirror
#     with rolled-back metadata, exit 5 when none is reachable, exit 0 when all are fine.
#
#   bash tests/integration/get_failover.sh build/refuge
source "$(dirname "$0")/lib.sh" "$@"

OUT=$(new_dir out)
A=$REFUGE_HOME

# serve_home NAME HOME [PORT]: starts `refuge serve` on HOME at 127.0.0.1:PORT (0: any);
# sets URL_<NAME>, PORT_<NAME> and PID_<NAME>. Killed on exit.
serve_home() {
  local name=$1 home=$2 port=${3:-0}
  local out=$TEST_TMP/node.$name.$RANDOM.out
  "$REFUGE" --home "$home" serve --listen "127.0.0.1:$port" --no-admin >"$out" 2>"$out.err" &
  local pid=$!
  track_pid "$pid"
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -s $out ]] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$out.err" >&2
      fail "refuge serve ($name) exited at start"
    fi
    sleep 0.05
  done
  local addr
  addr=$(awk '$1 == "http" {print $2; exit}' "$out")
  [[ -n $addr ]] || fail "refuge serve ($name) printed no address"
  printf -v "URL_$name" '%s' "http://$addr"
  printf -v "PORT_$name" '%s' "${addr##*:}"
  printf -v "PID_$name" '%s' "$pid"
}

# stop_home NAME: SIGTERM and wait.
stop_home() {
  local pid_var=PID_$1
  local pid=${!pid_var}
  kill -TERM "$pid"
  timeout 15 tail --pid="$pid" -f /dev/null || fail "refuge serve ($1) did not exit after SIGTERM"
  wait "$pid" 2>/dev/null || true
}

# corrupt_object HOME SHA256: flips one byte in the middle of the object's file.
corrupt_object() {
  local file
  file=$(object_path "$1" "$2")
  [[ -f $file ]] || fail "no object $2 in $1"
  chmod u+w "$file"
  "$PYTHON" - "$file" <<'PY'
import sys
path = sys.argv[1]
with open(path, "r+b") as f:
    data = bytearray(f.read())
    i = len(data) // 2
    data[i] ^= 0x01
    f.seek(0)
    f.write(data)
PY
}

# --- 1. a site, four homes ---------------------------------------------------------------------
step "a site published on A; B, C and D are copies of A's home; C's small.txt and big.bin are corrupted"
expect_ok refuge site init --json
S=$(jget "$RUN_OUT" 'j["site_id"]')
SRC=$(new_dir src)
printf '<h1>failover</h1>\n' >"$SRC/index.html"
printf 'a small text file\n' >"$SRC/small.txt"
# More than 4 MiB: streamed, resumable. Much more than the socket buffers (4 MiB of send buffer
# and a few MiB of receive buffer on loopback): a node killed midway cannot have handed the
# kernel the rest of the file already.
head -c 25165824 /dev/urandom >"$SRC/big.bin"
mkdir -p "$SRC/sub"
printf 'sub page\n' >"$SRC/sub/page.html"
expect_ok refuge publish --site "$S" "$SRC"
B=$TEST_TMP/home-b
C=$TEST_TMP/home-c
D=$TEST_TMP/home-d
cp -a "$A" "$B"
cp -a "$A" "$C"
cp -a "$A" "$D"
SMALL_SHA=$(sha256_of "$SRC/small.txt")
BIG_SHA=$(sha256_of "$SRC/big.bin")
corrupt_object "$C" "$SMALL_SHA"
corrupt_object "$C" "$BIG_SHA"

serve_home A "$A"
serve_home B "$B"
serve_home C "$C"
serve_home D "$D"
stop_home D  # a node that is stopped: its port refuses connections

# --- 2. get with several --from -----------------------------------------------------------------
step "get: a stopped mirror first, then A: served by A, D reported"
R1=$(new_dir reader1)
expect_ok refuge --home "$R1" get "$S/index.html" --from "$URL_D" --from "$URL_A" --from "$URL_B" \
  -o "$OUT/index.html" --json
assert_same_file "$SRC/index.html" "$OUT/index.html" "get with a stopped mirror first"
assert_eq "$URL_A" "$(jget "$RUN_OUT" 'j["served_by"]')" "served_by"
assert_eq "$URL_A" "$(jget "$RUN_OUT" 'j["from"]')" "from"
assert_eq true "$(jget "$RUN_OUT" '[m for m in j["mirrors"] if m["url"] == "'"$URL_D"'"][0]["failed"]')" \
  "the stopped mirror is reported as failed"
assert_eq unreachable "$(jget "$RUN_OUT" '[m for m in j["mirrors"] if m["url"] == "'"$URL_D"'"][0]["outcome"]')" \
  "the stopped mirror's outcome"

step "get: the same without --json reports on stderr"
expect_ok refuge --home "$R1" get "$S/sub/page.html" --from "$URL_D" --from "$URL_A" -o "$OUT/page.html"
assert_same_file "$SRC/sub/page.html" "$OUT/page.html" "get sub/page.html"
assert_contains "$RUN_ERR" "from $URL_A" "stderr names the mirror that served"
assert_contains "$RUN_ERR" "mirror $URL_D unreachable" "stderr names the mirror that failed"

step "get: to stdout over several mirrors"
"$REFUGE" --home "$R1" get "$S/index.html" --from "$URL_D" --from "$URL_A" >"$OUT/stdout.html" 2>"$OUT/stdout.err"
assert_same_file "$SRC/index.html" "$OUT/stdout.html" "get to stdout"
assert_contains "$(cat "$OUT/stdout.err")" "from $URL_A" "stderr of a get to stdout"

step "get: the corrupted mirror first: its large object is refused, the file comes from A"
R2=$(new_dir reader2)
expect_ok refuge --home "$R2" get "$S/big.bin" --from "$URL_C" --from "$URL_A" -o "$OUT/big-c.bin" --json
assert_same_file "$SRC/big.bin" "$OUT/big-c.bin" "get big.bin past a corrupted mirror"
assert_eq "$URL_A" "$(jget "$RUN_OUT" 'j["served_by"]')" "served_by after the corrupted mirror"
C_REPORT=$(jget "$RUN_OUT" '[m for m in j["mirrors"] if m["url"] == "'"$URL_C"'"][0]')
assert_eq excluded "$(jget "$C_REPORT" 'j["outcome"]')" "the corrupted mirror's outcome"
assert_contains "$(jget "$C_REPORT" 'j["detail"]')" "does not verify" "why the corrupted mirror was excluded"
# The corrupted mirror did serve the metadata (nothing wrong there).
assert_eq 1 "$(jget "$RUN_OUT" 'j["version"]')" "version"

step "get: the corrupted mirror's small object: the node answers 500, the file comes from A"
expect_ok refuge --home "$(new_dir reader2b)" get "$S/small.txt" --from "$URL_C" --from "$URL_A" \
  -o "$OUT/small.txt" --json
assert_same_file "$SRC/small.txt" "$OUT/small.txt" "get small.txt past a corrupted mirror"
assert_eq "$URL_A" "$(jget "$RUN_OUT" 'j["served_by"]')" "served_by of small.txt"
assert_eq "failed HTTP status 500" \
  "$(jget "$RUN_OUT" '[m["outcome"] + " " + m["detail"] for m in j["mirrors"] if m["url"] == "'"$URL_C"'"][0]')" \
  "the corrupted mirror's answer for small.txt"

step "get: a large file, its mirror killed midway: the download resumes on another mirror"
R3=$(new_dir reader3)
rm -f "$OUT/big.bin"
"$REFUGE" --home "$R3" get "$S/big.bin" --from "$URL_B" --from "$URL_A" --max-rate 8M \
  -o "$OUT/big.bin" --json >"$OUT/big.json" 2>"$OUT/big.err" &
GET_PID=$!
track_pid "$GET_PID"
# Wait until B has delivered a good part of the file (the download goes to a temporary file
# beside the output), then kill B.
killed=false
for _ in $(seq 300); do
  partial=$(find "$OUT" -maxdepth 1 -name '.refuge-download-*' -size +1024k | head -1)
  if [[ -n $partial ]]; then
    kill -9 "$PID_B"
    killed=true
    break
  fi
  sleep 0.02
done
$killed || fail "the download of big.bin never got past 1 MiB (stderr: $(cat "$OUT/big.err"))"
GET_RC=0
wait "$GET_PID" || GET_RC=$?
[[ $GET_RC == 0 ]] || fail "get big.bin after killing B: exit $GET_RC: $(cat "$OUT/big.err")"
assert_same_file "$SRC/big.bin" "$OUT/big.bin" "big.bin after a mirror was killed midway"
BIG_JSON=$(cat "$OUT/big.json")
assert_eq "$URL_A" "$(jget "$BIG_JSON" 'j["served_by"]')" "served_by after the resume"
assert_eq true "$(jget "$BIG_JSON" '[m for m in j["mirrors"] if m["url"] == "'"$URL_B"'"][0]["failed"]')" \
  "the killed mirror is reported as failed"
# A went on from where B broke off (a Range request), and the two parts make the file.
RESUME_OFFSET=$(jget "$BIG_JSON" '[a for a in j["attempts"] if a["url"] == "'"$URL_A"'"][0]["offset"]')
assert_int_ge "$RESUME_OFFSET" 1048576 "offset of the resume on A"
assert_eq "$(stat -c %s "$SRC/big.bin")" "$(jget "$BIG_JSON" 'sum(a["bytes"] for a in j["attempts"])')" \
  "bytes from B and A together"

step "get: every mirror down is an I/O error naming them"
expect_exit 5 refuge --home "$(new_dir reader-down)" get "$S/index.html" --from "$URL_D" --from "$URL_B" \
  -o "$OUT/none.html"
assert_contains "$RUN_ERR" "$URL_D" "error names D"
assert_contains "$RUN_ERR" "$URL_B" "error names B"
assert_no_file "$OUT/none.html" "output when every mirror is down"

step "get: a file no mirror has is not found (3), even with a mirror down"
expect_exit 3 refuge --home "$R1" get "$S/no-such-file" --from "$URL_D" --from "$URL_A" -o "$OUT/none"

# --- 3. the signed mirror list ------------------------------------------------------------------
step "without --from and without a saved list: a usage error"
expect_exit 2 refuge --home "$(new_dir reader-none)" get "$S/index.html" -o "$OUT/none.html"
assert_one_line_error "no known mirror for site $S" "--from"
expect_exit 2 refuge --home "$R1" get "$S/index.html" --from "$A" --from "$URL_A" -o "$OUT/none.html"
assert_one_line_error "node home directory can only be the one --from source"
expect_exit 2 refuge --home "$R1" get "$S/index.html" --from "$URL_A" --from "http://" -o "$OUT/none.html"

step "A and C updated to version 2, with a signed mirror list (D, C, A); C corrupted again"
KEY=$(printf 'node key' | sha256sum | cut -d' ' -f1)
mkdir -p "$SRC/.refuge"
cat >"$SRC/.refuge/mirrors.json" <<EOF
{"site": "$S", "updated": $(date +%s), "mirrors": [
  {"url": "$URL_D", "key": "$KEY", "role": "mirror"},
  {"url": "$URL_C/", "key": "$KEY", "role": "mirror"},
  {"url": "ftp://not-http.example", "key": "", "role": "mirror"},
  {"url": "$URL_A", "key": "", "role": "origin"}]}
EOF
printf '<h1>failover, version 2</h1>\n' >"$SRC/index.html"
stop_home A
stop_home C
expect_ok refuge publish --site "$S" "$SRC"
rm -rf "$C"
cp -a "$A" "$C"
corrupt_object "$C" "$SMALL_SHA"
corrupt_object "$C" "$BIG_SHA"
serve_home A "$A" "$PORT_A"
serve_home C "$C" "$PORT_C"

step "get --from A saves the verified mirror list"
R4=$(new_dir reader4)
expect_ok refuge --home "$R4" get "$S/index.html" --from "$URL_A" -o "$OUT/v2.html" --json
assert_same_file "$SRC/index.html" "$OUT/v2.html" "version 2 index.html"
assert_eq 2 "$(jget "$RUN_OUT" 'j["version"]')" "version after the second publish"
SAVED=$R4/client/$S/mirrors.json
assert_same_file "$SRC/.refuge/mirrors.json" "$SAVED" "the saved mirror list"

step "get without --from uses the saved list: D is down, C's big.bin is refused, A serves"
expect_ok refuge --home "$R4" get "$S/big.bin" -o "$OUT/big2.bin" --json
assert_same_file "$SRC/big.bin" "$OUT/big2.bin" "big.bin through the saved list"
assert_eq "$URL_A" "$(jget "$RUN_OUT" 'j["served_by"]')" "served_by through the saved list"
assert_eq "['$URL_D', '$URL_C', '$URL_A']" "$(jget "$RUN_OUT" 'str([m["url"] for m in j["mirrors"]])')" \
  "the mirrors of the saved list, in order, the ftp one dropped"
assert_eq "unreachable excluded served" \
  "$(jget "$RUN_OUT" '" ".join(m["outcome"] for m in j["mirrors"])')" "what each mirror did"

step "a reader that trusts version 2 refuses a mirror still on version 1"
serve_home B1 "$B"  # B's home is still at version 1
expect_ok refuge --home "$R4" get "$S/index.html" --from "$URL_B1" --from "$URL_A" -o "$OUT/v2b.html" --json
assert_same_file "$SRC/index.html" "$OUT/v2b.html" "index.html past a rolled-back mirror"
assert_contains "$(jget "$RUN_OUT" '[m for m in j["mirrors"] if m["url"] == "'"$URL_B1"'"][0]["detail"]')" \
  "rollback" "why the version-1 mirror was excluded"

# --- 4. mirrors check ---------------------------------------------------------------------------
CHECK=(mirrors check)

step "mirrors check: the corrupted mirror is evidence of tampering (exit 4)"
expect_exit 4 refuge --home "$R4" "${CHECK[@]}" "$S" --json
CHECK_JSON=$RUN_OUT
m() { jget "$CHECK_JSON" '[m for m in j["mirrors"] if m["url"] == "'"$1"'"][0]'"$2"; }
assert_eq false "$(m "$URL_D" '["reachable"]')" "check: D reachable"
assert_eq unreachable "$(m "$URL_D" '["metadata"]')" "check: D metadata"
assert_eq true "$(m "$URL_C" '["reachable"]')" "check: C reachable"
assert_eq ok "$(m "$URL_C" '["metadata"]')" "check: C metadata"
assert_eq 2 "$(m "$URL_C" '["version"]')" "check: C version"
assert_eq true "$(m "$URL_C" '["tampering"]')" "check: C tampering"
assert_eq "['big.bin']" "$(m "$URL_C" '["mismatched"]' | "$PYTHON" -c 'import json,sys; print([p["path"] for p in json.load(sys.stdin)])')" \
  "check: the file C serves that does not verify"
assert_eq 1 "$(m "$URL_C" '["unavailable_count"]')" "check: the file C refuses (small.txt, 500)"
FILES=$(find "$SRC" -type f | wc -l)
assert_eq "$FILES" "$(m "$URL_C" '["files_checked"]')" "check: files checked on C"
assert_eq true "$(m "$URL_A" '["fine"]')" "check: A fine"
assert_eq "$FILES" "$(m "$URL_A" '["files_verified"]')" "check: files verified on A"

step "mirrors check as a table"
expect_exit 4 refuge --home "$R4" "${CHECK[@]}" "$S"
assert_contains "$RUN_OUT" "evidence of a tampering mirror: big.bin" "table: the tampering line"
assert_match "MIRROR +REACHABLE +VERSION +METADATA +BLOCKED +CONTENT" "$(head -1 <<<"$RUN_OUT")" "table header"
assert_contains "$RUN_OUT" "1 of 3 mirror(s) fine" "table: summary"

step "mirrors check: rolled-back metadata, a sample of files, all fine, none reachable"
R6=$TEST_TMP/reader6  # trusts version 2, knows no list
cp -a "$R4" "$R6"
rm "$R6/client/$S/mirrors.json"
expect_exit 1 refuge --home "$R6" "${CHECK[@]}" "$S" --from "$URL_B1" --from "$URL_A" --sample 2 --json
assert_eq rolled-back "$(jget "$RUN_OUT" 'j["mirrors"][0]["metadata"]')" "check: B1 metadata"
assert_contains "$(jget "$RUN_OUT" 'j["mirrors"][0]["metadata_detail"]')" "serves rolled-back metadata (v1 < trusted v2)" \
  "check: B1 detail"
assert_eq 2 "$(jget "$RUN_OUT" '[m for m in j["mirrors"] if m["url"] == "'"$URL_A"'"][0]["files_checked"]')" \
  "check --sample 2: files checked on A"
R5=$(new_dir reader5)  # no saved list, no trusted metadata
expect_exit 0 refuge --home "$R5" "${CHECK[@]}" "$S" --from "$URL_A" --json
assert_eq true "$(jget "$RUN_OUT" 'j["ok"]')" "check of A alone"
assert_eq 2 "$(jget "$RUN_OUT" 'j["mirrors"][0]["version"]')" "check of A alone: version"
expect_exit 5 refuge --home "$R5" "${CHECK[@]}" "$S" --from "$URL_D" --from "$URL_B"
expect_exit 2 refuge --home "$R5" "${CHECK[@]}" "$S"
assert_contains "$RUN_ERR" "no known mirror" "check without a mirror"
expect_exit 2 refuge --home "$R5" "${CHECK[@]}" "$S" --from "$A"
# The check never changes what the reader trusts.
assert_no_file "$R5/client/$S/metadata/timestamp.json" "trusted metadata written by a check"
