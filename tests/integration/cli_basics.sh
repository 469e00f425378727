#!/usr/bin/env bash
# The refuge command line end to end, happy paths: version and help, usage errors, site init,
# publish (and the unchanged-file cache), site list/show, get (byte-for-byte, odd file names),
# timestamp, key rotation of every role followed by readers that must walk the root chain,
# pin/unpin, site keep and gc, each checked with verify.
#
#   bash tests/integration/cli_basics.sh build/refuge
source "$(dirname "$0")/lib.sh" "$@"

step "version and help"
expect_ok refuge --version
assert_match '^refuge [0-9]+\.[0-9]+\.[0-9]+$' "$RUN_OUT" "refuge --version"

expect_ok refuge --help
for word in site publish timestamp key verify gc pin unpin get tuf-client --home --version \
  REFUGE_HOME "Exit codes"; do
  assert_contains "$RUN_OUT" "$word" "refuge --help"
done

# Every command's --help exits 0 and names its options.
check_help() {
  local cmd=$1
  shift
  # shellcheck disable=SC2086
  expect_ok refuge $cmd --help
  local opt
  for opt in "$@"; do
    assert_contains "$RUN_OUT" "$opt" "refuge $cmd --help"
  done
}
check_help "site" init list show keep
check_help "site init" --json --root-key-dir --expiry
check_help "site list" --json
check_help "site show" SITE_ID --json
check_help "site keep" SITE_ID VERSIONS
check_help "publish" --site DIR --json --threads --expiry
check_help "timestamp" --site --json --expiry
check_help "key" rotate
check_help "key rotate" --site --role --root-key-dir --json
check_help "verify" --site --json
check_help "gc" --keep --site --dry-run --json
check_help "pin" SITE_ID VERSION
check_help "unpin" SITE_ID VERSION
check_help "get" SITE_ID/PATH --from -o,--output --json
check_help "tuf-client" --metadata-dir --metadata-url --target-name --target-base-url --target-dir \
  init refresh download

step "usage errors exit 2"
expect_exit 2 refuge frobnicate
[[ -n $RUN_ERR ]] || fail "unknown command: no message on stderr"
expect_exit 2 refuge --frobnicate site list
[[ -n $RUN_ERR ]] || fail "unknown option: no message on stderr"
expect_exit 2 refuge site list --frobnicate
expect_exit 2 refuge site frobnicate
expect_exit 2 refuge publish --frobnicate x
expect_exit 2 refuge publish /tmp        # --site missing
expect_exit 2 refuge get                 # SITE_ID/PATH missing
expect_exit 2 refuge gc --keep 0
expect_exit 2 refuge key rotate --site x --role nobody
expect_exit 2 refuge
# A usage error touches nothing: no node home was created.
assert_no_file "$REFUGE_HOME" "node home after usage errors"

step "site init"
expect_ok refuge site init --json
INIT_JSON=$RUN_OUT
S=$(jget "$INIT_JSON" 'j["site_id"]')
assert_match '^[a-z2-7]{52}$' "$S" "site init --json: site_id"
assert_eq 1 "$(printf '%s\n' "$INIT_JSON" | grep -c '')" "site init --json: lines of output"
# Without --json: the site ID alone on stdout.
expect_ok refuge site init
assert_match '^[a-z2-7]{52}$' "$RUN_OUT" "site init: stdout"
OTHER_SITE=$RUN_OUT
assert_ne "$S" "$OTHER_SITE" "two site inits give two sites"

step "publish"
SRC=$(new_dir src)
{
  echo "<html><body>refuge integration test</body></html>"
  head -c 3000 /dev/urandom
} >"$SRC/index.html"
head -c 1000000 /dev/urandom >"$SRC/data.bin"
ODD_DIR="dir with space"
ODD_NAME="a b%20c%ü €.txt"
mkdir -p "$SRC/$ODD_DIR" "$SRC/nested/deeper"
printf 'odd name\xff\x00end' >"$SRC/$ODD_DIR/$ODD_NAME"
: >"$SRC/nested/deeper/empty.txt"
FILES=4

expect_ok refuge publish --site "$S" "$SRC" --json
P1=$RUN_OUT
assert_eq 1 "$(jget "$P1" 'j["version"]')" "publish 1: version"
assert_eq "$S" "$(jget "$P1" 'j["site_id"]')" "publish 1: site_id"
assert_eq $FILES "$(jget "$P1" 'j["files"]')" "publish 1: files"
assert_eq $FILES "$(jget "$P1" 'j["hashed_files"]')" "publish 1: hashed_files"
assert_eq "$(find "$SRC" -type f -printf '%s\n' | awk '{n += $1} END {print n}')" "$(jget "$P1" 'j["bytes"]')" "publish 1: bytes"

expect_ok refuge publish --site "$S" "$SRC" --json
P2=$RUN_OUT
assert_eq 2 "$(jget "$P2" 'j["version"]')" "publish 2 (unchanged dir): version"
assert_eq 0 "$(jget "$P2" 'j["hashed_files"]')" "publish 2 (unchanged dir): hashed_files"
assert_eq $FILES "$(jget "$P2" 'j["unchanged_files"]')" "publish 2 (unchanged dir): unchanged_files"
assert_eq 0 "$(jget "$P2" 'j["new_bytes"]')" "publish 2 (unchanged dir): new_bytes"

# Without --json: a sentence on stdout naming the version.
expect_ok refuge publish --site "$S" "$SRC"
assert_contains "$RUN_OUT" "version 3" "publish without --json"

step "site list and show"
expect_ok refuge site list --json
LIST=$RUN_OUT
assert_eq 2 "$(jget "$LIST" 'len(j["sites"])')" "site list --json: number of sites"
assert_eq "origin 3" "$(jget "$LIST" '" ".join(str(x) for s in j["sites"] if s["site_id"] == "'"$S"'" for x in (s["role"], s["version"]))')" "site list --json: role and version of $S"
expect_ok refuge site list
assert_contains "$RUN_OUT" "$S" "site list"

expect_ok refuge site show "$S" --json
SHOW=$RUN_OUT
assert_eq "$S" "$(jget "$SHOW" 'j["site_id"]')" "site show: site_id"
assert_eq 3 "$(jget "$SHOW" 'j["current_version"]')" "site show: current_version"
assert_eq 1 "$(jget "$SHOW" 'j["root_version"]')" "site show: root_version"
assert_eq "[3, 2, 1]" "$(jget "$SHOW" 'sorted((v["version"] for v in j["versions"]), reverse=True)')" "site show: versions"
assert_eq origin "$(jget "$SHOW" 'j["role"]')" "site show: role"
jget "$SHOW" 'j["timestamp_expires"]' >/dev/null
expect_ok refuge site show "$S"
assert_contains "$RUN_OUT" "current version: 3" "site show"

step "get"
OUT=$(new_dir out)
for what in "$S/" "$S/index.html"; do
  expect_ok refuge get "$what" --from "$REFUGE_HOME"
  "$REFUGE" get "$what" --from "$REFUGE_HOME" >"$OUT/stdout.html"
  assert_same_file "$SRC/index.html" "$OUT/stdout.html" "get $what to stdout"
  rm -f "$OUT/o.html"
  expect_ok refuge get "$what" --from "$REFUGE_HOME" -o "$OUT/o.html"
  assert_same_file "$SRC/index.html" "$OUT/o.html" "get $what -o"
done
expect_ok refuge get "$S/data.bin" --from "$REFUGE_HOME" -o "$OUT/data.bin" --json
assert_same_file "$SRC/data.bin" "$OUT/data.bin" "get data.bin -o"
assert_eq "$(sha256_of "$SRC/data.bin")" "$(jget "$RUN_OUT" 'j["sha256"]')" "get --json: sha256"
assert_eq 3 "$(jget "$RUN_OUT" 'j["version"]')" "get --json: version"
"$REFUGE" get "$S/data.bin" --from "$REFUGE_HOME" >"$OUT/data.stdout"
assert_same_file "$SRC/data.bin" "$OUT/data.stdout" "get data.bin to stdout"

"$REFUGE" get "$S/$ODD_DIR/$ODD_NAME" --from "$REFUGE_HOME" >"$OUT/odd.stdout"
assert_same_file "$SRC/$ODD_DIR/$ODD_NAME" "$OUT/odd.stdout" "get of '$ODD_DIR/$ODD_NAME' to stdout"
expect_ok refuge get "$S/$ODD_DIR/$ODD_NAME" --from "$REFUGE_HOME" -o "$OUT/$ODD_NAME"
assert_same_file "$SRC/$ODD_DIR/$ODD_NAME" "$OUT/$ODD_NAME" "get of '$ODD_DIR/$ODD_NAME' -o"
expect_ok refuge get "$S/nested/deeper/empty.txt" --from "$REFUGE_HOME" -o "$OUT/empty.txt"
assert_same_file "$SRC/nested/deeper/empty.txt" "$OUT/empty.txt" "get of an empty file"
expect_exit 3 refuge get "$S/no-such-file.html" --from "$REFUGE_HOME" -o "$OUT/none"
assert_one_line_error "no-such-file.html"
assert_no_file "$OUT/none" "output of a get of a missing file"

step "timestamp"
expect_ok refuge timestamp --site "$S" --json
T1=$(jget "$RUN_OUT" 'j["timestamp_version"]')
assert_eq "$S" "$(jget "$RUN_OUT" 'j["site_id"]')" "timestamp --json: site_id"
expect_ok refuge timestamp --site "$S" --json
T2=$(jget "$RUN_OUT" 'j["timestamp_version"]')
assert_eq $((T1 + 1)) "$T2" "timestamp version after a second refuge timestamp"
assert_eq 3 "$(current_version "$S")" "current version after refuge timestamp"
expect_ok refuge get "$S/" --from "$REFUGE_HOME" -o "$OUT/after-ts.html"
assert_same_file "$SRC/index.html" "$OUT/after-ts.html" "get after refuge timestamp"
expect_verify_clean

step "key rotation, readers walk the root chain"
READER=$TEST_TMP/reader          # fetches before and after every rotation
EARLY_READER=$TEST_TMP/early     # fetches before the first rotation and after the last
reader_get() {  # HOME PATH -> checks the file against the source
  local home=$1 path=$2
  rm -f "$OUT/reader.out"
  expect_ok refuge --home "$home" get "$S/$path" --from "$REFUGE_HOME" -o "$OUT/reader.out"
  assert_same_file "$SRC/${path:-index.html}" "$OUT/reader.out" "reader $home: get $path"
}
trusted_root_version() {
  jget "$(cat "$1/client/$S/metadata/root.json")" 'j["signed"]["version"]'
}
reader_get "$READER" ""
reader_get "$EARLY_READER" "data.bin"
assert_eq 1 "$(trusted_root_version "$READER")" "reader's trusted root before rotations"
root_version=1
for role in timestamp targets snapshot root; do
  expect_ok refuge key rotate --site "$S" --role "$role" --json
  ROT=$RUN_OUT
  assert_eq "$role" "$(jget "$ROT" 'j["role"]')" "key rotate --role $role: role"
  assert_eq $((root_version + 1)) "$(jget "$ROT" 'j["root_version"]')" "key rotate --role $role: root_version"
  assert_ne "$(jget "$ROT" 'j["old_keyid"]')" "$(jget "$ROT" 'j["new_keyid"]')" "key rotate --role $role: key ids"
  root_version=$((root_version + 1))
  expect_ok refuge site show "$S" --json
  assert_eq $root_version "$(jget "$RUN_OUT" 'j["root_version"]')" "site show root_version after rotating $role"
  reader_get "$READER" ""
  reader_get "$READER" "$ODD_DIR/$ODD_NAME"
  assert_eq $root_version "$(trusted_root_version "$READER")" "reader's trusted root after rotating $role"
  # A reader that never read this site before starts from 1.root.json and walks the chain too.
  reader_get "$TEST_TMP/fresh-$role" "data.bin"
  expect_verify_clean
done
reader_get "$EARLY_READER" "data.bin"
assert_eq $root_version "$(trusted_root_version "$EARLY_READER")" "early reader's trusted root after all rotations"
# Publishing keeps working with the new keys.
echo "after rotation" >>"$SRC/index.html"
expect_ok refuge publish --site "$S" "$SRC" --json
reader_get "$READER" ""
reader_get "$EARLY_READER" ""
expect_verify_clean

step "pin, unpin, gc, site keep"
expect_ok refuge site show "$S" --json
VERSIONS_BEFORE=$(jget "$RUN_OUT" 'len(j["versions"])')
CUR=$(jget "$RUN_OUT" 'j["current_version"]')
assert_int_ge "$VERSIONS_BEFORE" 3 "versions before gc"
expect_ok refuge pin "$S" 1
expect_ok refuge site show "$S" --json
assert_eq true "$(jget "$RUN_OUT" '[v["pinned"] for v in j["versions"] if v["version"] == 1][0]')" "version 1 pinned"
expect_exit 3 refuge pin "$S" 999
assert_one_line_error "999" "$S"
soft assert_reason "$RUN_ERR" "refuge pin of a version that does not exist"
expect_exit 3 refuge pin "$OTHER_SITE" 1

expect_ok refuge gc --keep 1 --json
GC=$RUN_OUT
assert_eq "$((VERSIONS_BEFORE - 2))" "$(jget "$GC" 'j["versions_deleted"]')" "gc --keep 1 with version 1 pinned: versions_deleted"
assert_int_ge "$(jget "$GC" 'j["objects_deleted"]')" 1 "gc --keep 1: objects_deleted"
assert_eq false "$(jget "$GC" 'j["dry_run"]')" "gc --json: dry_run"
expect_verify_clean
expect_ok refuge site show "$S" --json
assert_eq "[$CUR, 1]" "$(jget "$RUN_OUT" 'sorted((v["version"] for v in j["versions"]), reverse=True)')" "versions after gc --keep 1 with version 1 pinned"
reader_get "$TEST_TMP/after-gc" ""
reader_get "$READER" "data.bin"

expect_ok refuge unpin "$S" 1
expect_ok refuge gc --keep 1 --dry-run --json
assert_eq 1 "$(jget "$RUN_OUT" 'j["versions_deleted"]')" "gc --dry-run after unpin: versions_deleted"
assert_eq true "$(jget "$RUN_OUT" 'j["dry_run"]')" "gc --dry-run: dry_run"
expect_ok refuge site show "$S" --json
assert_eq 2 "$(jget "$RUN_OUT" 'len(j["versions"])')" "versions after gc --dry-run"
expect_ok refuge gc --keep 1 --json
assert_eq 1 "$(jget "$RUN_OUT" 'j["versions_deleted"]')" "gc --keep 1 after unpin: versions_deleted"
expect_ok refuge site show "$S" --json
assert_eq "[$CUR]" "$(jget "$RUN_OUT" '[v["version"] for v in j["versions"]]')" "versions after unpin and gc --keep 1"
expect_verify_clean
reader_get "$READER" "$ODD_DIR/$ODD_NAME"

expect_ok refuge site keep "$S" 2
expect_ok refuge site show "$S" --json
assert_eq 2 "$(jget "$RUN_OUT" 'j["keep_versions"]')" "keep_versions after site keep 2"
expect_exit 2 refuge site keep "$S" 0
expect_exit 3 refuge site keep aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 2
for i in 1 2 3; do
  echo "version marker $i" >>"$SRC/index.html"
  expect_ok refuge publish --site "$S" "$SRC" --json
done
expect_ok refuge gc --json
expect_ok refuge site show "$S" --json
assert_eq 2 "$(jget "$RUN_OUT" 'len(j["versions"])')" "versions after gc with site keep 2"
expect_verify_clean
reader_get "$READER" ""
reader_get "$READER" "data.bin"
