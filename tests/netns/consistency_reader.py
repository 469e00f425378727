#!/usr/bin/python3
"""A reader that checks a node never serves a partial or older version (stdlib only).

  /usr/bin/python3 consistency_reader.py BASE_URL SITE MANIFEST STOP_FILE RESULT_FILE

MANIFEST is JSON: {"old_version": N, "new_version": M,
                   "files": {"path": ["<sha256 in old>", "<sha256 in new>"], ...}}
Until STOP_FILE exists, it GETs /s/SITE/<path> for every path in turn and the site's
timestamp.json, one request at a time, and classifies each answer:
  - no connection, reset, timeout: the node is down (counted, allowed);
  - 200 whose body hashes to the old or the new file (or the timestamp names the old or the new
    version): allowed, but once anything new was seen nothing old may follow (no going back, and
    no mix of versions: the switch is atomic). Violations say which kind they are:
      "MIXED"  a file of the old version after a file of the new one (a partial version, or a
               version served and then withdrawn);
      "AHEAD"  a file of the old version after the timestamp named the new one (metadata and
               files did not switch together);
      "BACK"   the timestamp named the old version after anything new;
  - anything else (another status, a body of neither version, a cut body): a violation.
RESULT_FILE gets a JSON summary; the exit code is 0 without violations, 1 with.
"""
import hashlib
import http.client
import json
import os
import sys
import time
import urllib.parse

base, site, manifest_file, stop_file, result_file = sys.argv[1:6]
manifest = json.load(open(manifest_file))
old_v, new_v = manifest["old_version"], manifest["new_version"]
files = manifest["files"]
u = urllib.parse.urlsplit(base)
host, port = u.hostname, u.port or 80

stats = {"requests": 0, "down": 0, "old": 0, "new": 0, "violations": [], "first_new_at": None,
         "first_new_file_at": None, "first_new_timestamp_at": None, "kinds": {}}
seen_new = False
seen_new_file = False
seen_new_ts = False
conn = None


def violation(text, kind="OTHER"):
    stats["kinds"][kind] = stats["kinds"].get(kind, 0) + 1
    text = f"{kind} {text}"
    if len(stats["violations"]) < 50:  # the first ones; "kinds" counts them all
        stats["violations"].append(f"{time.time():.3f} {text}")
    if stats["kinds"][kind] <= 20:  # the first ones of each kind on stderr
        sys.stderr.write(f"VIOLATION {time.time():.3f} {text}\n")
        sys.stderr.flush()


def get(target):
    global conn
    if conn is None:
        conn = http.client.HTTPConnection(host, port, timeout=5)
    try:
        conn.request("GET", target)
        r = conn.getresponse()
        body = r.read()
        return r.status, body, r.getheader("Content-Length")
    except (OSError, http.client.HTTPException):
        conn.close()
        conn = None
        return None, None, None


def classify(what, is_new, is_old, is_timestamp):
    global seen_new, seen_new_file, seen_new_ts
    now = time.time()
    if is_new:
        stats["new"] += 1
        if not seen_new:
            seen_new = True
            stats["first_new_at"] = now
        if is_timestamp and not seen_new_ts:
            seen_new_ts = True
            stats["first_new_timestamp_at"] = now
        if not is_timestamp and not seen_new_file:
            seen_new_file = True
            stats["first_new_file_at"] = now
    elif is_old:
        stats["old"] += 1
        if is_timestamp and seen_new:
            violation(f"{what}: the old version after the new one was served", "BACK")
        elif not is_timestamp and seen_new_file:
            violation(f"{what}: the old version after a file of the new one was served", "MIXED")
        elif not is_timestamp and seen_new_ts:
            violation(f"{what}: the old version after the timestamp named the new one", "AHEAD")
    else:
        violation(f"{what}: neither the old nor the new version")


paths = sorted(files)
ts_target = f"/.refuge/v1/sites/{site}/metadata/timestamp.json"
while not os.path.exists(stop_file):
    for p in paths + [None]:
        if os.path.exists(stop_file):
            break
        target = ts_target if p is None else f"/s/{site}/" + urllib.parse.quote(p)
        status, body, length = get(target)
        stats["requests"] += 1
        if status is None:
            stats["down"] += 1
            time.sleep(0.02)
            continue
        if status != 200:
            violation(f"GET {target}: status {status}, body {body[:200]!r}")
            continue
        if p is None:
            try:
                v = json.loads(body)["signed"]["meta"]["snapshot.json"]["version"]
            except Exception as e:
                violation(f"GET {target}: unreadable timestamp ({e}): {body[:200]!r}")
                continue
            classify(f"timestamp.json version {v}", v == new_v, v == old_v, True)
            continue
        h = hashlib.sha256(body).hexdigest()
        old_h, new_h = files[p]
        if length is not None and int(length) != len(body):
            violation(f"GET {target}: {len(body)} bytes of a Content-Length of {length}")
            continue
        classify(f"GET {target} (sha256 {h[:16]}, {len(body)} bytes)", h == new_h, h == old_h, False)

stats["seen_new"] = seen_new
json.dump(stats, open(result_file, "w"), indent=1)
sys.exit(1 if stats["kinds"] else 0)
