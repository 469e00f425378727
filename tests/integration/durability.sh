#!/usr/bin/env bash
# Crash safety of publish: `refuge publish` is killed with SIGKILL at random points, many times.
# After every kill: verify is clean, the current version is the previous one or the attempted
# one (never anything else), and a reader gets exactly the content of that version. At the
# end a normal publish, gc and verify succeed. Prints how many kills landed mid-publish.
#
#   bash tests/integration/durability.sh build/refuge [ITERATIONS]
source "$(dirname "$0")/lib.sh" "$@"

ITERATIONS=${2:-60}
BIG_FILES=3
BIG_MB=20
S=$(refuge site init 2>/dev/null)
SRC=$(new_dir src)
READER=$TEST_TMP/reader
EXPECT=$TEST_TMP/expected  # per version: index.html and the SHA-256 of big1.bin
mkdir -p "$EXPECT"

step "generating the source: 3000 small files and $BIG_FILES files of $BIG_MB MB"
for i in $(seq 0 39); do
  mkdir -p "$SRC/d$i"
  for j in $(seq 0 74); do
    echo "small file $i/$j" >"$SRC/d$i/f$j.txt"
  done
done
for k in $(seq 1 $BIG_FILES); do
  head -c "${BIG_MB}M" /dev/urandom >"$SRC/big$k.bin"
done

# Changes some content of the source for the next publish attempt ATTEMPT: index.html carries
# the attempt number, one big file gets new bytes at a random place, a few small files change.
modify_source() {
  local attempt=$1 k=$((RANDOM % BIG_FILES + 1)) i
  echo "<html>attempt $attempt $RANDOM</html>" >"$SRC/index.html"
  head -c 64 /dev/urandom |
    dd of="$SRC/big$k.bin" bs=1 seek=$(((RANDOM * 32768 + RANDOM) % (BIG_MB * 1000000))) conv=notrunc status=none
  head -c 64 /dev/urandom | dd of="$SRC/big1.bin" bs=1 seek=$((RANDOM)) conv=notrunc status=none
  for i in 1 2 3 4 5; do
    echo "attempt $attempt" >>"$SRC/d$((RANDOM % 40))/f$((RANDOM % 75)).txt"
  done
}
# Records what version V must contain (the source as it is now).
record_expected() {
  cp "$SRC/index.html" "$EXPECT/$1.index.html"
  sha256_of "$SRC/big1.bin" >"$EXPECT/$1.big1"
}
# The current version must be exactly what was recorded for it.
check_current_content() {
  local v=$1 what=$2
  [[ -f $EXPECT/$v.index.html ]] || fail "$what: current version $v was never attempted"
  rm -f "$TEST_TMP/got.html" "$TEST_TMP/got.bin"
  expect_ok refuge --home "$READER" get "$S/" --from "$REFUGE_HOME" -o "$TEST_TMP/got.html"
  assert_same_file "$EXPECT/$v.index.html" "$TEST_TMP/got.html" "$what: index.html of version $v"
  expect_ok refuge --home "$READER" get "$S/big1.bin" --from "$REFUGE_HOME" -o "$TEST_TMP/got.bin"
  assert_eq "$(cat "$EXPECT/$v.big1")" "$(sha256_of "$TEST_TMP/got.bin")" "$what: SHA-256 of big1.bin of version $v"
}

echo "<html>version 1</html>" >"$SRC/index.html"
step "version 1"
record_expected 1
expect_ok refuge publish --site "$S" "$SRC" --json
assert_eq 1 "$(jget "$RUN_OUT" 'j["version"]')" "first publish"
check_current_content 1 "after the first publish"

step "calibration: how long a publish takes"
# Kills accumulate changes (the file cache only learns of a commit), so the publishes in the
# loop re-hash up to every big file: calibrate with all of them changed.
DURATION_MS=0
for attempt in 2 3; do
  modify_source "$attempt"
  for k in $(seq 1 $BIG_FILES); do
    head -c 64 /dev/urandom | dd of="$SRC/big$k.bin" bs=1 seek=$((RANDOM * 7)) conv=notrunc status=none
  done
  record_expected "$attempt"
  t0=$(now_ms)
  expect_ok refuge publish --site "$S" "$SRC" --json
  t=$(($(now_ms) - t0))
  ((t > DURATION_MS)) && DURATION_MS=$t
  assert_eq "$attempt" "$(jget "$RUN_OUT" 'j["version"]')" "calibration publish"
done
((DURATION_MS >= 20)) || DURATION_MS=20
MAX_DELAY_MS=$((DURATION_MS * 13 / 10))
echo "a publish takes about $DURATION_MS ms; killing after 0..$MAX_DELAY_MS ms"
check_current_content 3 "after calibration"

step "$ITERATIONS publishes killed with SIGKILL"
MID=0        # killed before the new version was committed
COMMITTED=0  # killed after the commit, before the process exited
FINISHED=0   # the publish had exited by itself
prev=$(current_version "$S")
attempt=3
for iter in $(seq 1 "$ITERATIONS"); do
  attempt=$((attempt + 1))
  modify_source "$attempt"
  next=$((prev + 1))
  # The version number a publish would take is prev + 1 whatever earlier attempts did, so
  # the expectation for `next` is replaced by this attempt's content.
  record_expected "$next"
  delay=$((RANDOM % (MAX_DELAY_MS + 1)))
  "$REFUGE" publish --site "$S" "$SRC" >/dev/null 2>"$TEST_TMP/publish.err" &
  pid=$!
  track_pid "$pid"
  sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  status=0
  {
    kill -9 "$pid" || true
    wait "$pid" || status=$?
  } 2>/dev/null  # no "Killed" job notices
  what="iteration $iter (killed after $delay ms, exit status $status)"
  if [[ $status != 0 && $status != 137 ]]; then
    fail "$what: publish failed on its own: $(cat "$TEST_TMP/publish.err")"
  fi

  expect_verify_clean
  cur=$(current_version "$S")
  if [[ $cur == "$prev" ]]; then
    [[ $status == 137 ]] || fail "$what: publish exited 0 but the current version stayed $prev"
    MID=$((MID + 1))
    # The attempt's content was not published: version `next` is still to come.
    rm -f "$EXPECT/$next.index.html" "$EXPECT/$next.big1"
  elif [[ $cur == "$next" ]]; then
    if [[ $status == 0 ]]; then FINISHED=$((FINISHED + 1)); else COMMITTED=$((COMMITTED + 1)); fi
  else
    fail "$what: current version went from $prev to $cur (expected $prev or $next)"
  fi
  check_current_content "$cur" "$what"
  prev=$cur

  # Keep the store small: collect old versions now and then (also removes staged leftovers).
  if ((iter % 15 == 0)); then
    expect_ok refuge gc --keep 2 --json
    expect_verify_clean
  fi
done
echo "kills: $MID mid-publish (previous version kept), $COMMITTED after the commit," \
  "$FINISHED after the publish had exited"
((MID + COMMITTED + FINISHED == ITERATIONS)) || fail "kill accounting: $MID + $COMMITTED + $FINISHED != $ITERATIONS"
((MID > 0)) || fail "no kill landed mid-publish in $ITERATIONS iterations: the test did not test anything"

step "a normal publish, gc and verify after the kills"
attempt=$((attempt + 1))
modify_source "$attempt"
record_expected $((prev + 1))
expect_ok timeout 120 "$REFUGE" publish --site "$S" "$SRC" --json
assert_eq $((prev + 1)) "$(jget "$RUN_OUT" 'j["version"]')" "publish after the kills"
expect_verify_clean
check_current_content $((prev + 1)) "after the final publish"
# Unchanged files are still recognized after all the kills.
expect_ok refuge publish --site "$S" "$SRC" --json
assert_eq 0 "$(jget "$RUN_OUT" 'j["hashed_files"]')" "hashed files of a publish of an unchanged directory"
expect_ok refuge gc --keep 1 --json
expect_verify_clean
assert_eq 0 "$(find "$REFUGE_HOME/tmp" -type f | wc -l)" "files left in tmp/ after gc"
expect_ok refuge site show "$S" --json
assert_eq 1 "$(jget "$RUN_OUT" 'len(j["versions"])')" "versions after gc --keep 1"
check_current_content $((prev + 1)) "after gc"
# Every object the store holds is referenced: the current version's files and metadata, and
# every root; objects of killed publishes are gone.
REFERENCED=$(db_query "$REFUGE_HOME" "select count(*) from (select sha256 from version_files union select sha256 from metadata)")
assert_eq "$REFERENCED" "$(object_count "$REFUGE_HOME")" "objects in the store after gc (referenced ones)"
