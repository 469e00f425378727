#!/usr/bin/env bash
# Scenario 6: a mirror killed with SIGKILL 50 times during a sync. h0 publishes a site of about
# 5 MiB (200 small files and two of 512 KiB); h1 mirrors it (v1). h0's link is then capped at
# 2 Mbit/s and v2 (every file changed) is published, so h1's sync of v2 takes 20 s; h1's
# serve (which starts a sync of every followed site at start) is killed with SIGKILL at random
# moments 0.1-0.8 s after each start, 50 times. Meanwhile a reader on h2
# (tests/netns/consistency_reader.py) reads every file and the timestamp from h1 in a loop:
# every answer must be the old or the new version, and never the old after the new (a partial
# version would show as a mix). After the last kill, h1 completes the sync within 90 s; every
# file is then byte for byte the new one and `refuge verify` is clean.
#
#   bash tests/netns/mirror_sigkill_sync.sh build/refuge      (as root)
source "$(dirname "$0")/mirror_lib.sh" "$@"

KILLS=${REFUGE_NETNS_KILLS:-50}
mnet_up 3

# make_heavy_site DIR TAG: make_site plus 200 files of 20 KiB and 2 of 512 KiB, all random.
make_heavy_site() {
  make_site "$1" "$2" 5
  mkdir -p "$1/heavy"
  local i
  for ((i = 0; i < 200; i++)); do head -c 20480 /dev/urandom >"$1/heavy/f$i.bin"; done
  head -c 524288 /dev/urandom >"$1/heavy/big-a.bin"
  head -c 524288 /dev/urandom >"$1/heavy/big-b.bin"
}

step "h0 publishes v1 (about 5 MiB); h1 mirrors it"
site_init_on_h0
make_heavy_site "$TEST_TMP/src-v1" v1
V1=$(publish_version "$TEST_TMP/src-v1")
node_start h0
mirror_add h1 h0
node_start h1
wait_version "$V1" 30 h1

step "h0 capped at 2 Mbit/s; v2 published (every file changed); h1 stopped"
node_kill h1 TERM
netenv_cap h0 2mbit
make_heavy_site "$TEST_TMP/src-v2" v2
V2=$(publish_version "$TEST_TMP/src-v2")
# The reader's manifest: every file of the site, a sample of the heavy ones, with both hashes.
"$PYTHON" - "$TEST_TMP/src-v1" "$TEST_TMP/src-v2" "$V1" "$V2" >"$TEST_TMP/manifest.json" <<'PY'
import hashlib, json, os, sys
old, new, v1, v2 = sys.argv[1:5]
files = {}
for root, _, names in os.walk(new):
    for n in names:
        rel = os.path.relpath(os.path.join(root, n), new)
        if rel.startswith("heavy/f") and int(rel[7:-4]) % 25:
            continue  # 8 of the 200 small heavy files are enough
        h = lambda d: hashlib.sha256(open(os.path.join(d, rel), "rb").read()).hexdigest()
        files[rel] = [h(old), h(new)]
json.dump({"old_version": int(v1), "new_version": int(v2), "files": files}, sys.stdout)
PY

step "a reader on h2 checks every answer of h1; h1 started and killed with SIGKILL $KILLS times"
STOP=$TEST_TMP/reader.stop
netenv_spawn h2 "$TEST_TMP/reader.log" /usr/bin/python3 -u "$(dirname "$0")/consistency_reader.py" \
  "$(url_of h1)" "$SITE" "$TEST_TMP/manifest.json" "$STOP" "$TEST_TMP/reader.json"
READER_PID=$NETENV_PID
KILLED_OLD=0
OBJ_BEFORE=$(object_count "$(home_of h1)")
for ((k = 1; k <= KILLS; k++)); do
  node_start h1
  sleep "0.$((RANDOM % 8 + 1))"
  v=$(served_version h1)
  node_kill h1 KILL
  ((v == V1)) && KILLED_OLD=$((KILLED_OLD + 1))
  ((v == V1 || v == V2)) || fail "h1 served version $v before kill $k (expected $V1 or $V2)"
  ((k % 10 == 0)) && say "$k kills; h1 served v$v at the last one; $(object_count "$(home_of h1)") objects in its store"
  netenv_alive "$READER_PID" || fail "the reader stopped: $(tail -5 "$TEST_TMP/reader.log")"
done
say "$KILLED_OLD of $KILLS kills came while h1 still served v$V1 (its sync of v$V2 unfinished)"
soft assert_int_ge "$KILLED_OLD" $((KILLS / 2)) "kills during the sync (the site or the cap may need to grow)"
# The downloader commits verified objects in batches "so that an interrupted sync resumes
# without fetching them again": after 50 interrupted syncs, some objects of v2 should be kept.
OBJ_AFTER=$(object_count "$(home_of h1)")
say "objects in h1's store: $OBJ_BEFORE before the kills, $OBJ_AFTER after them"
soft assert_int_ge "$OBJ_AFTER" $((OBJ_BEFORE + 1)) "objects in h1's store after $KILLS interrupted syncs (work kept across interruptions)"

step "h1 restarted: it completes the sync within 90 s"
node_start h1
wait_version "$V2" 90 h1
sleep 1
touch "$STOP"
timeout 20 tail --pid="$READER_PID" -f /dev/null || fail "the reader did not stop"
READER_RC=0
wait "$READER_PID" || READER_RC=$?
say "reader: $(jget "$(cat "$TEST_TMP/reader.json")" '{k: v for k, v in j.items() if k != "violations"}')"
if [[ $READER_RC != 0 ]]; then
  # When the node logged its switch, to set the violations in time.
  grep -h 'version [0-9]* -> ' "$TEST_TMP"/node.h1.*.out.err | sed 's/^/      /' >&2
  fail "the reader saw violations (by kind: $(jget "$(cat "$TEST_TMP/reader.json")" 'j["kinds"]')); the first ones of each kind:
$(grep VIOLATION "$TEST_TMP/reader.log" | sort -k3,3 -s | awk '{ if (n[$3]++ < 4) print }')"
fi
assert_eq true "$(jget "$(cat "$TEST_TMP/reader.json")" 'j["seen_new"]')" "the reader saw the new version"
assert_int_ge "$(jget "$(cat "$TEST_TMP/reader.json")" 'j["old"]')" 1 "answers of the old version seen by the reader"

step "every file of v2 on h1 byte for byte; refuge verify is clean"
netenv_cap h0 off
expect_files h1 "$TEST_TMP/src-v2" "files of v2 on h1"
node_kill h1 TERM
expect_verify_clean "$(home_of h1)"
