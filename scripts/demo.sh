#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: install what is needed, build, and show refuge
# at work on the example site (or on DIR, if given): a publisher creates and publishes a site,
# two mirrors follow it (one of them through the other), a new version reaches both within
# seconds, and a forged copy is refused. The three nodes keep serving on loopback, with their
# addresses and the site ID printed, until Ctrl-C.
#
#   bash scripts/demo.sh [DIR]
#
# Every node lives in a fresh temporary home under /tmp/refuge-demo-*, so ~/.refuge is never
# touched. REFUGE_DEMO_NO_WAIT=1 returns after the demo instead of waiting for Ctrl-C (tests).
set -euo pipefail
cd "$(dirname "$0")/.."
src_dir=${1:-examples/site}

bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target refuge
refuge=$PWD/build-release/refuge

demo=$(mktemp -d /tmp/refuge-demo-XXXXXX)
publisher="$demo/publisher"
reader="$demo/reader"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "A publisher creates a site (keys + signed 1.root.json)"
site=$(REFUGE_HOME=$publisher "$refuge" site init --json | sed -E 's/.*"site_id":"([a-z2-7]+)".*/\1/')
echo "site ID: $site"

step "It publishes $src_dir as version 1"
REFUGE_HOME=$publisher "$refuge" publish --site "$site" "$src_dir"

step "Publishing again stores only what changed"
REFUGE_HOME=$publisher "$refuge" publish --site "$site" "$src_dir"

step "The node re-checks every signature and every object"
REFUGE_HOME=$publisher "$refuge" verify

step "A reader who knows only the site ID fetches index.html and verifies it"
REFUGE_HOME=$reader "$refuge" get "$site/index.html" --from "$publisher" -o "$demo/index.html"
cmp "$src_dir/index.html" "$demo/index.html" && echo "byte-for-byte identical to $src_dir/index.html"

step "A tampered copy is refused"
cp -r "$publisher" "$demo/tampered"
object=$(REFUGE_HOME=$reader "$refuge" get "$site/index.html" --from "$publisher" --json -o "$demo/again.html" \
         | sed -E 's/.*"sha256":"([0-9a-f]+)".*/\1/')
chmod u+w "$demo/tampered/objects/${object:0:2}/$object"
printf 'forged' > "$demo/tampered/objects/${object:0:2}/$object"
if REFUGE_HOME="$demo/reader2" "$refuge" get "$site/index.html" --from "$demo/tampered" -o "$demo/forged.html"; then
  echo "ERROR: a forged file was accepted" >&2
  exit 1
fi
echo "(refused, as it must be; no file was written: $(ls "$demo/forged.html" 2>/dev/null || echo none))"

nodes=()
stop_nodes() {
  for pid in "${nodes[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_nodes EXIT

# start_node NAME HOME ADDR: runs `refuge serve` on ADDR:0 (a free port); sets $url.
start_node() {
  local name=$1 home=$2 addr=$3
  REFUGE_HOME=$home setsid "$refuge" serve --listen "$addr:0" --no-admin --refresh-interval 600 \
    >"$demo/$name.out" 2>"$demo/$name.log" </dev/null &
  nodes+=($!)
  for _ in $(seq 100); do [[ -s $demo/$name.out ]] && break; sleep 0.1; done
  local bound
  bound=$(awk '$1 == "http" {print $2}' "$demo/$name.out")
  [[ -n $bound ]] || { cat "$demo/$name.log" >&2; echo "ERROR: $name did not start" >&2; exit 1; }
  url="http://$bound"
}

served_version() {  # URL: the version a node serves (0 if none)
  curl -s "$1/.refuge/v1/status" | sed -nE "s/.*\"$site\":\{[^}]*\"version\":([0-9]+).*/\1/p"
}

wait_version() {  # URL VERSION: waits up to 20 s
  for _ in $(seq 200); do
    [[ "$(served_version "$1")" == "$2" ]] && return 0
    sleep 0.1
  done
  echo "ERROR: $1 did not reach version $2" >&2
  exit 1
}

step "The publisher's node serves the site (refuge serve, on a free port of 127.0.0.1)"
start_node publisher "$publisher" 127.0.0.1
origin=$url
echo "publisher: $origin"
curl -sS -D - -o /dev/null "$origin/s/$site/" | grep -E '^(HTTP|ETag|Cache-Control)'

step "A volunteer mirrors it with one command, knowing only the site ID and one address"
mirror1="$demo/mirror1"
REFUGE_HOME=$mirror1 "$refuge" mirror add "$site" --from "$origin"
start_node mirror1 "$mirror1" 127.0.0.2
m1=$url
echo "mirror 1: $m1"

step "A second volunteer mirrors the mirror (the publisher is not needed)"
mirror2="$demo/mirror2"
REFUGE_HOME=$mirror2 "$refuge" mirror add "$site" --from "$m1"
start_node mirror2 "$mirror2" 127.0.0.3
m2=$url
echo "mirror 2: $m2"

step "The mirrors announce themselves; the publisher accepts them into the signed mirror list"
for _ in $(seq 100); do
  n=$(REFUGE_HOME=$publisher "$refuge" mirrors pending "$site" --json | grep -c '"key_id"' || true)
  [[ $n -ge 1 ]] && break
  sleep 0.1
done
REFUGE_HOME=$publisher "$refuge" mirrors pending "$site"
REFUGE_HOME=$publisher "$refuge" mirrors accept "$site" --all

step "The publisher publishes version 2: a hint reaches the mirrors, which verify and switch"
cp -r "$src_dir" "$demo/v2"
printf '<p>Updated at %s.</p>\n' "$(date -u +%FT%TZ)" >> "$demo/v2/index.html"
start=$(date +%s.%N)
v=$(REFUGE_HOME=$publisher "$refuge" publish --site "$site" "$demo/v2" --json |
    sed -E 's/.*"version":([0-9]+).*/\1/')
echo "published version $v"
wait_version "$m1" "$v"
wait_version "$m2" "$v"
printf 'both mirrors serve version %s, %.1f s after the publish\n' "$v" "$(echo "$(date +%s.%N) - $start" | bc)"

step "A reader fetches from the mirrors, verifying every byte against the site ID"
REFUGE_HOME="$demo/reader3" "$refuge" get "$site/index.html" --from "$m1" --from "$m2" -o "$demo/http.html"
cmp "$demo/v2/index.html" "$demo/http.html"
echo "verified and byte-for-byte identical"

step "Running"
cat <<MSG
  site ID:     $site
  publisher:   $origin/s/$site/
  mirror 1:    $m1/s/$site/
  mirror 2:    $m2/s/$site/
  (a browser, curl or wget; verified: $refuge get $site/index.html --from $m1)
  status:      $m1/.refuge/v1/status
  homes:       $demo
  Stop one node (kill PID: ${nodes[*]}) and the site is still served by the others.
MSG
if [[ ${REFUGE_DEMO_NO_WAIT:-0} == 1 ]]; then exit 0; fi
echo "Press Ctrl-C to stop the three nodes."
trap 'echo; echo stopping; stop_nodes; exit 0' INT TERM
while true; do sleep 3600 & wait $!; done
