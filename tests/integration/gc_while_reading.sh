#!/usr/bin/env bash
# Garbage collection while readers read: several versions are published, then readers run
# `refuge get` of the current version in loops while `refuge gc --keep 1` runs repeatedly
# (two at a time, too). Every get must succeed with the right bytes and verify stay clean.
#
#   bash tests/integration/gc_while_reading.sh build/refuge
source "$(dirname "$0")/lib.sh" "$@"

ROUNDS=3
SMALL_GETS=30  # per small-file reader and round
BIG_GETS=6     # per big-file reader and round
GC_RUNS=6      # per round

S=$(refuge site init 2>/dev/null)
SRC=$(new_dir src)
for i in $(seq 0 199); do echo "page $i" >"$SRC/page$i.html"; done
head -c 30M /dev/urandom >"$SRC/big.bin"

# reader NAME PATH COUNT EXPECTED_FILE: COUNT gets of PATH from a reader home of its own,
# each compared with EXPECTED_FILE; failures are written to $TEST_TMP/NAME.fail.
reader() {
  local name=$1 path=$2 count=$3 expected=$4 i rc
  local home=$TEST_TMP/reader-$name out=$TEST_TMP/$name.out
  for i in $(seq "$count"); do
    rm -f "$out"
    rc=0
    if [[ $((i % 2)) == 0 ]]; then
      "$REFUGE" --home "$home" get "$S/$path" --from "$REFUGE_HOME" -o "$out" 2>"$TEST_TMP/$name.err" || rc=$?
    else
      "$REFUGE" --home "$home" get "$S/$path" --from "$REFUGE_HOME" >"$out" 2>"$TEST_TMP/$name.err" || rc=$?
    fi
    if [[ $rc != 0 ]]; then
      echo "reader $name: get $i of $path exited $rc: $(cat "$TEST_TMP/$name.err")" >>"$TEST_TMP/$name.fail"
      return 1
    fi
    if ! cmp -s "$expected" "$out"; then
      echo "reader $name: get $i of $path: bytes differ from the published file" >>"$TEST_TMP/$name.fail"
      return 1
    fi
  done
}

for round in $(seq $ROUNDS); do
  step "round $round: publish 3 versions"
  for v in 1 2 3; do
    echo "<html>round $round version $v</html>" >"$SRC/index.html"
    head -c 64 /dev/urandom | dd of="$SRC/big.bin" bs=1 seek=$((RANDOM * 100)) conv=notrunc status=none
    echo "round $round version $v" >>"$SRC/page$((RANDOM % 200)).html"
    expect_ok refuge publish --site "$S" "$SRC" --json
  done
  EXP=$TEST_TMP/expected-$round
  mkdir -p "$EXP"
  cp "$SRC/index.html" "$SRC/big.bin" "$SRC/page7.html" "$EXP/"
  expect_ok refuge site show "$S" --json
  assert_int_ge "$(jget "$RUN_OUT" 'len(j["versions"])')" 3 "versions before gc in round $round"

  step "round $round: readers and gc --keep 1 at the same time"
  pids=()
  reader "index$round" "" $SMALL_GETS "$EXP/index.html" &
  pids+=($!)
  reader "page$round" page7.html $SMALL_GETS "$EXP/page7.html" &
  pids+=($!)
  reader "big$round" big.bin $BIG_GETS "$EXP/big.bin" &
  pids+=($!)
  for pid in "${pids[@]}"; do track_pid "$pid"; done

  readers_running() {
    local p
    for p in "${pids[@]}"; do
      if kill -0 "$p" 2>/dev/null; then return 0; fi
    done
    return 1
  }
  # Collect at least GC_RUNS times, and for as long as a reader reads.
  deleted=0
  g=0
  while ((g < GC_RUNS)) || readers_running; do
    g=$((g + 1))
    ((g <= 500)) || fail "round $round: readers still running after 500 collections"
    if ((g % 2 == 0)); then
      # Two collections at once.
      "$REFUGE" gc --keep 1 --json >"$TEST_TMP/gc-a.out" 2>"$TEST_TMP/gc-a.err" &
      gc_pid=$!
      track_pid "$gc_pid"
      expect_ok refuge gc --keep 1 --json
      deleted=$((deleted + $(jget "$RUN_OUT" 'j["versions_deleted"]')))
      rc=0
      wait "$gc_pid" || rc=$?
      assert_eq 0 "$rc" "exit code of a concurrent gc (stderr: $(cat "$TEST_TMP/gc-a.err"))"
      deleted=$((deleted + $(jget "$(cat "$TEST_TMP/gc-a.out")" 'j["versions_deleted"]')))
    else
      expect_ok refuge gc --keep 1 --json
      deleted=$((deleted + $(jget "$RUN_OUT" 'j["versions_deleted"]')))
    fi
    sleep 0.0$((RANDOM % 10))
  done
  echo "round $round: $g collections while readers read"

  failed=0
  for pid in "${pids[@]}"; do
    rc=0
    wait "$pid" || rc=$?
    [[ $rc == 0 ]] || failed=1
  done
  if [[ $failed != 0 ]]; then
    fail "round $round: reads failed during gc: $(cat "$TEST_TMP"/*"$round".fail 2>/dev/null)"
  fi
  assert_int_ge "$deleted" 2 "versions deleted by gc in round $round"
  expect_ok refuge site show "$S" --json
  assert_eq 1 "$(jget "$RUN_OUT" 'len(j["versions"])')" "versions after gc --keep 1 in round $round"
  expect_verify_clean
done

step "gc while a publish is under way"
# A publish racing gc: both succeed, the new version is whole.
echo "<html>final</html>" >"$SRC/index.html"
head -c 64 /dev/urandom | dd of="$SRC/big.bin" bs=1 seek=12345 conv=notrunc status=none
"$REFUGE" publish --site "$S" "$SRC" --json >"$TEST_TMP/pub.out" 2>"$TEST_TMP/pub.err" &
pub_pid=$!
track_pid "$pub_pid"
for g in 1 2 3; do
  expect_ok refuge gc --keep 1 --json
done
rc=0
wait "$pub_pid" || rc=$?
assert_eq 0 "$rc" "exit code of a publish racing gc (stderr: $(cat "$TEST_TMP/pub.err"))"
expect_ok refuge gc --keep 1 --json
expect_verify_clean
expect_ok refuge --home "$TEST_TMP/reader-final" get "$S/big.bin" --from "$REFUGE_HOME" -o "$TEST_TMP/final.bin"
assert_same_file "$SRC/big.bin" "$TEST_TMP/final.bin" "big.bin after a publish racing gc"
expect_ok refuge --home "$TEST_TMP/reader-final" get "$S/" --from "$REFUGE_HOME" -o "$TEST_TMP/final.html"
assert_same_file "$SRC/index.html" "$TEST_TMP/final.html" "index.html after a publish racing gc"
