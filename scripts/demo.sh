#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: install what is needed, build, and show refuge
# at work on the example site (or on DIR, if given): create a site, publish the directory,
# verify the store, and fetch a file back as a reader would, checking it against the site ID.
#
#   bash scripts/demo.sh [DIR]
#
# The demo's node lives in a fresh temporary REFUGE_HOME, printed at the end, so it never
# touches ~/.refuge. (Serving over HTTP and mirrors arrive with the next milestones.)
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

step "Done"
cat <<MSG
  site ID:         $site
  publisher home:  $publisher   (REFUGE_HOME=$publisher $refuge site show $site)
  reader home:     $reader
  binary:          $refuge
MSG
