#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: install what is needed, build, and show refuge
# at work on the example site (or on DIR, if given): create a site, publish the directory,
# verify the store, and fetch a file back as a reader would, checking it against the site ID.
#
#   bash scripts/demo.sh [DIR]
#
# The demo's node lives in a fresh temporary REFUGE_HOME, printed at the end, so it never
# touches ~/.refuge. At the end the node keeps serving the site over HTTP on a free port of
# 127.0.0.1 (its address and how to stop it are printed). Mirrors arrive with the next milestone.
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

step "The node serves the site over HTTP (refuge serve, on a free port of 127.0.0.1)"
REFUGE_HOME=$publisher setsid "$refuge" serve --listen 127.0.0.1:0 --admin 127.0.0.1:0 \
  >"$demo/serve.out" 2>"$demo/serve.log" </dev/null &
node_pid=$!
for _ in $(seq 100); do [[ -s $demo/serve.out ]] && break; sleep 0.1; done
addr=$(awk '$1 == "http" {print $2}' "$demo/serve.out")
admin=$(awk '$1 == "admin" {print $2}' "$demo/serve.out")
[[ -n $addr ]] || { cat "$demo/serve.log" >&2; echo "ERROR: refuge serve did not start" >&2; exit 1; }
echo "listening on http://$addr (pid $node_pid)"
curl -sS -D - -o /dev/null "http://$addr/s/$site/" | grep -E '^(HTTP|ETag|Cache-Control)'

step "A reader on another machine would fetch it over HTTP, verifying every byte"
REFUGE_HOME="$demo/reader3" "$refuge" get "$site/index.html" --from "http://$addr" -o "$demo/http.html"
cmp "$src_dir/index.html" "$demo/http.html" && echo "verified and byte-for-byte identical"

step "Done"
cat <<MSG
  site ID:         $site
  read it at:      http://$addr/s/$site/           (a browser, curl, wget)
  verified:        $refuge get $site/index.html --from http://$addr
  TUF metadata:    http://$addr/.refuge/v1/sites/$site/metadata/1.root.json
  metrics:         http://$admin/metrics
  publisher home:  $publisher   (REFUGE_HOME=$publisher $refuge site show $site)
  binary:          $refuge
  stop the node:   kill $node_pid
MSG
