#!/usr/bin/env bash
# Bad input, end to end: each case must give a one-line error on stderr naming the thing and
# the reason, the documented exit code (docs/ERRORS.md), and leave nothing half-written.
#   - publish of a directory with an unreadable file, a symlink out of it, a symlink to a
#     directory, a broken symlink, a FIFO, a file name with a newline; of a missing directory;
#     with a key file readable by others;
#   - a corrupt, truncated or missing object in the store: verify exits 4 naming it, and get
#     fails and writes nothing;
#   - get with a malformed site ID or a source that does not exist;
#   - refuge tuf-client against a repository served over HTTP (python3 -m http.server): a good
#     repository works and is not fetched twice; unsigned, truncated, oversized, rolled-back
#     metadata, an unsigned new root and a tampered target fail and leave the trusted
#     metadata unchanged.
#
#   bash tests/integration/bad_input.sh build/refuge
source "$(dirname "$0")/lib.sh" "$@"

S=$(refuge site init 2>/dev/null)
GOOD=$(new_dir good)
echo "<html>good</html>" >"$GOOD/index.html"
mkdir -p "$GOOD/sub dir"
head -c 200000 /dev/urandom >"$GOOD/data.bin"
printf 'odd\n' >"$GOOD/sub dir/a b%ü.txt"
expect_ok refuge publish --site "$S" "$GOOD" --json
echo "<html>good v2</html>" >"$GOOD/index.html"
expect_ok refuge publish --site "$S" "$GOOD" --json
assert_eq 2 "$(current_version "$S")" "current version after the good publishes"

# The state a failed command must leave untouched.
state_of() {  # HOME SITE [RUNNER]: RUNNER runs refuge on HOME (default: refuge --home HOME)
  local show
  if [[ -n ${3:-} ]]; then show=$("$3" site show "$2" --json); else show=$("$REFUGE" --home "$1" site show "$2" --json); fi
  echo "version=$(jget "$show" 'j["current_version"]')" \
    "objects=$(object_count "$1")" "tmp=$(find "$1/tmp" -type f | wc -l)"
}
BASE_STATE=$(state_of "$REFUGE_HOME" "$S")

# A copy of GOOD with one bad entry added by the caller.
case_dir() {
  local d
  d=$(new_dir case)
  cp -a "$GOOD/." "$d/"
  echo "$d"
}

# expect_publish_refused CODE DIR NEEDLE...: publish of DIR exits CODE with a one-line error
# containing every NEEDLE, and the node is as before.
expect_publish_refused() {
  local code=$1 dir=$2
  shift 2
  run timeout 60 "$REFUGE" publish --site "$S" "$dir" --json
  if [[ $RUN_RC == 124 ]]; then fail "publish of $dir hung (killed after 60 s)"; fi
  if [[ $RUN_RC != "$code" ]]; then
    echo "FAIL [$TEST_NAME] at $(_where): expected exit code $code, got $RUN_RC" >&2
    _show_run >&2
    exit 1
  fi
  [[ -z $RUN_OUT ]] || fail "refused publish printed on stdout: $RUN_OUT"
  soft assert_one_line_error "$@"
  assert_eq "$BASE_STATE" "$(state_of "$REFUGE_HOME" "$S")" "node state after the refused publish of $dir"
  expect_verify_clean
}

step "publish: symlink pointing outside the directory"
D=$(case_dir)
ln -s /etc/passwd "$D/escape"
expect_publish_refused 1 "$D" "$D/escape" "outside" "/etc/passwd"
D=$(case_dir)
ln -s ../../.. "$D/sub dir/up"
expect_publish_refused 1 "$D" "$D/sub dir/up" "outside"

step "publish: symlink to a directory"
D=$(case_dir)
ln -s "sub dir" "$D/dirlink"
expect_publish_refused 1 "$D" "$D/dirlink" "directory"

step "publish: broken symlink"
D=$(case_dir)
ln -s does-not-exist "$D/dangling"
expect_publish_refused 3 "$D" "$D/dangling" "broken symbolic link"

step "publish: FIFO"
D=$(case_dir)
mkfifo "$D/sub dir/fifo"
expect_publish_refused 1 "$D" "$D/sub dir/fifo" "FIFO"

step "publish: directory that does not exist"
expect_publish_refused 3 "$TEST_TMP/no-such-dir" "$TEST_TMP/no-such-dir" "No such file"

step "publish: a regular file instead of a directory"
expect_publish_refused 1 "$GOOD/index.html" "$GOOD/index.html" "not a directory"

step "publish: file name with a newline"
D=$(case_dir)
echo x >"$D/new"$'\n'"line.html"
expect_publish_refused 1 "$D" "$D/new" "control character"

step "publish: key file readable by others"
KEYFILE=$(find "$REFUGE_HOME/keys/$S/online" -name '*.pem' | head -1)
chmod 644 "$KEYFILE"
echo "changed" >>"$GOOD/index.html"  # something to publish
expect_publish_refused 1 "$GOOD" "$KEYFILE" "chmod"
chmod 600 "$KEYFILE"
# The same directory publishes once the key file is private again.
expect_ok refuge publish --site "$S" "$GOOD" --json
assert_eq 3 "$(jget "$RUN_OUT" 'j["version"]')" "publish after chmod 600"
BASE_STATE=$(state_of "$REFUGE_HOME" "$S")

step "publish: unreadable file"
# Root reads mode-000 files, so when run as root refuge runs as nobody on a home of its own.
NOBODY_HOME=$TEST_TMP/nobody-home
mkdir -p "$NOBODY_HOME"
D=$(case_dir)
chmod -R a+rX "$D"
if [[ $EUID -eq 0 ]]; then
  chown 65534:65534 "$NOBODY_HOME"
  cp "$REFUGE" "$TEST_TMP/refuge-copy"  # reachable by nobody wherever the build is
  chmod 755 "$TEST_TMP/refuge-copy"
  as_reader() { setpriv --reuid=65534 --regid=65534 --clear-groups "$TEST_TMP/refuge-copy" --home "$NOBODY_HOME" "$@"; }
else
  as_reader() { "$REFUGE" --home "$NOBODY_HOME" "$@"; }
fi
NS=$(as_reader site init 2>/dev/null)
expect_ok as_reader publish --site "$NS" "$D" --json
NB_STATE=$(state_of "$NOBODY_HOME" "$NS" as_reader)
chmod 000 "$D/sub dir/a b%ü.txt"
[[ $EUID -ne 0 ]] || ! setpriv --reuid=65534 --regid=65534 --clear-groups cat "$D/sub dir/a b%ü.txt" >/dev/null 2>&1 ||
  fail "test set-up: nobody can still read the mode-000 file"
run as_reader publish --site "$NS" "$D" --json
assert_eq 5 "$RUN_RC" "exit code of publish with an unreadable file (stderr: $RUN_ERR)"
soft assert_one_line_error "$D/sub dir/a b%ü.txt" "Permission denied"
assert_eq "$NB_STATE" "$(state_of "$NOBODY_HOME" "$NS" as_reader)" "node state after publish with an unreadable file"
run as_reader verify
assert_eq 0 "$RUN_RC" "verify after publish with an unreadable file (output: $RUN_OUT $RUN_ERR)"
chmod 644 "$D/sub dir/a b%ü.txt"

# --- the store: corrupt, truncated and missing objects ---------------------------------------
CLEAN_HOME=$TEST_TMP/clean-home
cp -a "$REFUGE_HOME" "$CLEAN_HOME"
restore_home() {
  rm -rf "$REFUGE_HOME"
  cp -a "$CLEAN_HOME" "$REFUGE_HOME"
}
newest_meta() { db_query "$REFUGE_HOME" "select sha256 from metadata where site_id='$S' and role='$1' order by version desc limit 1"; }
file_object() { db_query "$REFUGE_HOME" "select sha256 from version_files where site_id='$S' and path='$1' order by version desc limit 1"; }
OUTD=$(new_dir out)

# expect_get_fails CODE PATH NEEDLE...: a fresh reader's get of PATH -o FILE exits CODE with a
# one-line error and writes no file; to stdout it writes nothing.
expect_get_fails() {
  local code=$1 path=$2
  shift 2
  local reader
  reader=$(new_dir reader)
  expect_exit "$code" refuge --home "$reader" get "$S/$path" --from "$REFUGE_HOME" -o "$OUTD/got"
  soft assert_one_line_error "$@"
  assert_no_file "$OUTD/got" "output of a failed get of $path"
  assert_eq "" "$(find "$OUTD" -mindepth 1)" "files left in the output directory by a failed get"
  reader=$(new_dir reader)
  expect_exit "$code" refuge --home "$reader" get "$S/$path" --from "$REFUGE_HOME"
  assert_eq "" "$RUN_OUT" "stdout of a failed get of $path"
}

# expect_verify_finds NEEDLE...: verify exits 4 and its report mentions every NEEDLE.
expect_verify_finds() {
  expect_exit 4 refuge verify
  local needle
  for needle in "$@"; do
    assert_contains "$RUN_ERR" "$needle" "refuge verify report"
  done
  assert_contains "$RUN_OUT" "FAILED" "refuge verify summary"
  expect_exit 4 refuge verify --site "$S" --json
  assert_eq false "$(jget "$RUN_OUT" 'j["ok"]')" "verify --json ok"
  for needle in "$@"; do
    assert_contains "$RUN_OUT" "$needle" "refuge verify --json problems"
  done
}

step "store: corrupt snapshot object"
restore_home
H=$(newest_meta snapshot)
printf 'XXXXXXXX' | dd of="$(object_path "$REFUGE_HOME" "$H")" bs=1 seek=20 conv=notrunc status=none
expect_verify_finds "$H" "snapshot"
expect_get_fails 4 index.html "snapshot"

step "store: corrupt timestamp object"
restore_home
H=$(newest_meta timestamp)
printf '\x01\x02' | dd of="$(object_path "$REFUGE_HOME" "$H")" bs=1 seek=2 conv=notrunc status=none
expect_verify_finds "$H" "timestamp"
expect_get_fails 4 index.html "timestamp"

step "store: truncated timestamp object"
restore_home
H=$(newest_meta timestamp)
truncate -s 100 "$(object_path "$REFUGE_HOME" "$H")"
expect_verify_finds "$H"
expect_get_fails 4 index.html "timestamp"

step "store: truncated file object"
restore_home
H=$(file_object data.bin)
truncate -s 5000 "$(object_path "$REFUGE_HOME" "$H")"
expect_verify_finds "$H" "data.bin"
expect_get_fails 4 data.bin "data.bin"

step "store: corrupt file object (same length)"
restore_home
H=$(file_object data.bin)
printf 'Z' | dd of="$(object_path "$REFUGE_HOME" "$H")" bs=1 seek=199999 conv=notrunc status=none
expect_verify_finds "$H"
expect_get_fails 4 data.bin "data.bin"

step "store: missing file object"
restore_home
H=$(file_object data.bin)
rm "$(object_path "$REFUGE_HOME" "$H")"
expect_verify_finds "$H" "missing"
expect_get_fails 3 data.bin "$H" "missing"

step "store: missing targets metadata object"
restore_home
H=$(newest_meta targets)
rm "$(object_path "$REFUGE_HOME" "$H")"
expect_verify_finds "$H" "missing"
run refuge --home "$(new_dir reader)" get "$S/index.html" --from "$REFUGE_HOME" -o "$OUTD/got"
assert_ne 0 "$RUN_RC" "exit code of get with the targets metadata missing"
soft assert_one_line_error "targets"
assert_no_file "$OUTD/got" "output of a get with the targets metadata missing"
restore_home
expect_verify_clean

# --- get: bad site IDs and sources ------------------------------------------------------------
step "get: malformed site ID"
for bad in abc "${S:0:51}" "${S}a" "${S:0:51}1" "0${S:1}" "${S:0:20}/${S:21}"; do
  expect_exit 1 refuge get "$bad/index.html" --from "$REFUGE_HOME" -o "$OUTD/got"
  soft assert_one_line_error "${bad%%/*}" "site ID"
  assert_no_file "$OUTD/got" "output of get with site ID $bad"
done
step "get: a site the source does not hold"
expect_exit 3 refuge get "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/index.html" --from "$REFUGE_HOME" -o "$OUTD/got"
soft assert_one_line_error
assert_no_file "$OUTD/got" "output of get of an unknown site"

step "get: source that does not exist"
expect_exit 1 refuge get "$S/index.html" --from /nonexistent -o "$OUTD/got"
soft assert_one_line_error "/nonexistent"
assert_no_file "$OUTD/got" "output of get --from /nonexistent"
run refuge get "$S/index.html" --from http://127.0.0.1:1 -o "$OUTD/got"
assert_eq 5 "$RUN_RC" "exit code of get from a URL nobody answers (stderr: $RUN_ERR)"
soft assert_one_line_error "127.0.0.1:1"
assert_no_file "$OUTD/got" "output of get from a URL nobody answers"

# --- tuf-client against a refuge repository served over HTTP --------------------------------
# export_repo DIR: writes the site's repository as a static TUF repository: metadata/N.root.json,
# timestamp.json, N.snapshot.json, N.targets.json; targets/<dir>/<sha256>.<name>.
export_repo() {
  local repo=$1 role version sha path
  rm -rf "$repo"
  mkdir -p "$repo/metadata" "$repo/targets"
  while IFS='|' read -r role version sha; do
    if [[ $role == timestamp ]]; then
      cp "$(object_path "$REFUGE_HOME" "$sha")" "$repo/metadata/timestamp.json"
    else
      cp "$(object_path "$REFUGE_HOME" "$sha")" "$repo/metadata/$version.$role.json"
    fi
  done < <(db_query "$REFUGE_HOME" "select role, version, sha256 from metadata where site_id='$S' order by role, version")
  local cur
  cur=$(current_version "$S")
  while IFS='|' read -r sha path; do
    local dir="" name=$path
    if [[ $path == */* ]]; then dir=${path%/*}/ name=${path##*/}; fi
    mkdir -p "$repo/targets/$dir"
    cp "$(object_path "$REFUGE_HOME" "$sha")" "$repo/targets/$dir$sha.$name"
  done < <(db_query "$REFUGE_HOME" "select sha256, path from version_files where site_id='$S' and version=$cur")
}

REPO=$TEST_TMP/repo
export_repo "$REPO"
start_http_server "$REPO"
TD=$TEST_TMP/tuf-meta
TT=$TEST_TMP/tuf-targets
tuf() { "$REFUGE" tuf-client --metadata-dir "$TD" --metadata-url "$HTTP_URL/metadata" "$@"; }
tuf_download() {
  tuf --target-base-url "$HTTP_URL/targets" --target-dir "$TT" --target-name index.html \
    --target-name "sub dir/a b%ü.txt" --target-name data.bin download
}
trusted_sums() { (cd "$TD" && sha256sum -- * | sort); }

step "tuf-client: a good repository"
expect_ok "$REFUGE" tuf-client --metadata-dir "$TD" init "$REPO/metadata/1.root.json"
expect_ok tuf refresh
for f in root.json timestamp.json snapshot.json targets.json; do
  [[ -f $TD/$f ]] || fail "tuf-client refresh did not write $TD/$f (has: $(ls "$TD"))"
done
expect_ok tuf_download
assert_same_file "$GOOD/index.html" "$TT/index.html" "tuf-client download of index.html"
assert_same_file "$GOOD/data.bin" "$TT/data.bin" "tuf-client download of data.bin"
ODD_FILE=$TT/$(quote_segment "sub dir/a b%ü.txt")
assert_eq "$TT/sub%20dir%2Fa%20b%25%C3%BC.txt" "$ODD_FILE" "percent-encoded target file name"
assert_same_file "$GOOD/sub dir/a b%ü.txt" "$ODD_FILE" "tuf-client download of 'sub dir/a b%ü.txt'"
assert_eq 3 "$(find "$TT" -type f | wc -l)" "files in the target directory"
FETCHES=$(http_requests /targets/)
assert_eq 3 "$FETCHES" "target requests in the http.server log"
expect_ok tuf_download
assert_eq "$FETCHES" "$(http_requests /targets/)" "target requests after a second download (cached targets refetched)"

step "tuf-client: a new version and a new root"
expect_ok refuge key rotate --site "$S" --role timestamp
echo "<html>good v4</html>" >"$GOOD/index.html"
expect_ok refuge publish --site "$S" "$GOOD" --json
export_repo "$REPO"
expect_ok tuf_download
assert_same_file "$GOOD/index.html" "$TT/index.html" "tuf-client download of the new index.html"
assert_eq 2 "$(jget "$(cat "$TD/root.json")" 'j["signed"]["version"]')" "tuf-client trusted root version"
assert_eq 4 "$(http_requests /targets/)" "target requests after a new version (only index.html changed)"
cp "$REPO/metadata/timestamp.json" "$TEST_TMP/old-timestamp.json"
TRUSTED=$(trusted_sums)

# expect_tuf_refused WHAT: refresh and download both exit 1 and the trusted metadata is unchanged.
expect_tuf_refused() {
  expect_exit 1 tuf refresh
  [[ -n $RUN_ERR ]] || fail "$1: refresh failed without a message"
  assert_eq "$TRUSTED" "$(trusted_sums)" "trusted metadata after refresh with $1"
  expect_exit 1 tuf_download
  assert_eq "$TRUSTED" "$(trusted_sums)" "trusted metadata after download with $1"
}

step "tuf-client: unsigned timestamp"
expect_ok refuge timestamp --site "$S"
export_repo "$REPO"
"$PYTHON" - "$REPO/metadata/timestamp.json" <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    m = json.load(f)
m["signatures"] = []
with open(sys.argv[1], "w") as f:
    json.dump(m, f)
EOF
expect_tuf_refused "an unsigned timestamp"
assert_contains "$RUN_ERR" "timestamp" "message about the unsigned timestamp"

step "tuf-client: timestamp signed by the wrong key"
export_repo "$REPO"
"$PYTHON" - "$REPO/metadata/timestamp.json" <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    m = json.load(f)
m["signed"]["version"] += 1  # signature no longer matches
with open(sys.argv[1], "w") as f:
    json.dump(m, f)
EOF
expect_tuf_refused "a timestamp whose signature does not match"

step "tuf-client: truncated timestamp"
export_repo "$REPO"
head -c 200 "$REPO/metadata/timestamp.json" >"$TEST_TMP/t" && mv "$TEST_TMP/t" "$REPO/metadata/timestamp.json"
expect_tuf_refused "a truncated timestamp"

step "tuf-client: oversized timestamp (10 MB)"
export_repo "$REPO"
{
  head -c -1 "$REPO/metadata/timestamp.json"
  head -c 10000000 /dev/zero | tr '\0' ' '
  echo '}'
} >"$TEST_TMP/t" && mv "$TEST_TMP/t" "$REPO/metadata/timestamp.json"
START=$(now_ms)
expect_tuf_refused "a 10 MB timestamp"
ELAPSED=$(($(now_ms) - START))
((ELAPSED < 20000)) || fail "refusing a 10 MB timestamp took $ELAPSED ms"

step "tuf-client: rolled-back timestamp"
export_repo "$REPO"
expect_ok tuf refresh  # trust the newest timestamp
TRUSTED=$(trusted_sums)
cp "$TEST_TMP/old-timestamp.json" "$REPO/metadata/timestamp.json"
expect_tuf_refused "an older timestamp"

step "tuf-client: unsigned new root"
expect_ok refuge key rotate --site "$S" --role snapshot
export_repo "$REPO"
NEW_ROOT=$(find "$REPO/metadata" -name '*.root.json' -printf '%f\n' | sort -n | tail -1)
assert_eq 3.root.json "$NEW_ROOT" "newest root of the repository"
"$PYTHON" - "$REPO/metadata/$NEW_ROOT" <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    m = json.load(f)
m["signatures"] = []
with open(sys.argv[1], "w") as f:
    json.dump(m, f)
EOF
expect_tuf_refused "an unsigned 3.root.json"

step "tuf-client: tampered target"
export_repo "$REPO"
expect_ok tuf refresh
TRUSTED=$(trusted_sums)
echo "<html>good v5</html>" >"$GOOD/index.html"
expect_ok refuge publish --site "$S" "$GOOD"
export_repo "$REPO"
TARGET=$(find "$REPO/targets" -maxdepth 1 -name '*.index.html')
echo "<html>evil</html>" >"$TARGET"
cp "$TT/index.html" "$TEST_TMP/index-before"
expect_exit 1 tuf_download
assert_contains "$RUN_ERR" "index.html" "message about the tampered target"
assert_same_file "$TEST_TMP/index-before" "$TT/index.html" "target file after a tampered download"
assert_eq 3 "$(find "$TT" -type f | wc -l)" "files in the target directory after a tampered download"

step "tuf-client: the good repository again"
export_repo "$REPO"
expect_ok tuf_download
assert_same_file "$GOOD/index.html" "$TT/index.html" "index.html after the attacks"
assert_eq 3 "$(jget "$(cat "$TD/root.json")" 'j["signed"]["version"]')" "trusted root version after the attacks"

step "get over HTTP: the node URL layout served by a plain static server"
# /.refuge/v1/sites/<site-id>/{metadata,targets}/ is the layout every node serves; here a plain
# http.server serves it from the exported repository.
mkdir -p "$REPO/.refuge/v1/sites/$S"
ln -s "$REPO/metadata" "$REPO/.refuge/v1/sites/$S/metadata"
ln -s "$REPO/targets" "$REPO/.refuge/v1/sites/$S/targets"
HTTP_READER=$TEST_TMP/http-reader
expect_ok env REFUGE_HOME="$HTTP_READER" "$REFUGE" get "$S/index.html" --from "$HTTP_URL" -o "$OUTD/http-index.html"
assert_same_file "$GOOD/index.html" "$OUTD/http-index.html" "index.html fetched with get over HTTP"
expect_ok env REFUGE_HOME="$HTTP_READER" "$REFUGE" get "$S/sub dir/a b%ü.txt" --from "$HTTP_URL" -o "$OUTD/http-odd.txt"
assert_same_file "$GOOD/sub dir/a b%ü.txt" "$OUTD/http-odd.txt" "an odd file name fetched with get over HTTP"
TARGET=$(find "$REPO/targets" -maxdepth 1 -name '*.index.html')
echo "<html>evil</html>" >"$TARGET"
run env REFUGE_HOME="$HTTP_READER" "$REFUGE" get "$S/index.html" --from "$HTTP_URL" -o "$OUTD/http-evil.html"
assert_eq 4 "$RUN_RC" "exit code of get over HTTP of a tampered file (stderr: $RUN_ERR)"
assert_no_file "$OUTD/http-evil.html" "output of get over HTTP of a tampered file"
expect_verify_clean
