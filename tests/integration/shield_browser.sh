#!/usr/bin/env bash
# The shield's challenge in a real browser (ctest: browser_challenge): a node in under-attack
# mode (pow_min_bits = 16, nojs_delay_seconds = 2, exempt = [] so that the browser on
# 127.0.0.1 is challenged) serving a site at "/" (default_site), and
# tests/browser/challenge_test.mjs driving Debian's Chromium through playwright-core: with
# JavaScript the browser solves the proof of work by itself; without, it follows the
# <noscript> meta refresh; both reach the content with an HttpOnly clearance cookie, and a
# second visit is not challenged. Then the node's counters must show one solve and one wait.
#
# Installs nothing: skips (exit 77) without node, Chromium or tests/browser/node_modules
# (bash scripts/setup.sh installs all three).
#
#   bash tests/integration/shield_browser.sh build/refuge
source "$(dirname "$0")/lib.sh" "$@"

BROWSER_DIR=$(realpath "$(dirname "$0")/../browser")
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}  # challenge_test.mjs reads it too
for need in node "$CHROMIUM" curl; do
  if ! command -v "$need" >/dev/null 2>&1; then
    echo "SKIP [$TEST_NAME]: needs $need (bash scripts/setup.sh installs it)" >&2
    exit 77
  fi
done
if [[ ! -f $BROWSER_DIR/node_modules/playwright-core/package.json ]]; then
  echo "SKIP [$TEST_NAME]: needs $BROWSER_DIR/node_modules (bash scripts/setup.sh runs npm ci there)" >&2
  exit 77
fi

step "publish a site served at / (default_site)"
expect_ok refuge site init --json
S=$(jget "$RUN_OUT" 'j["site_id"]')
SRC=$(new_dir src)
TITLE="Refuge browser test page"
printf '<!doctype html><html><head><meta charset="utf-8"><title>%s</title></head><body><p>the real content</p></body></html>\n' \
  "$TITLE" >"$SRC/index.html"
expect_ok refuge publish --site "$S" "$SRC"

cat >"$TEST_TMP/serve.toml" <<CONF
[server]
default_site = "$S"
reload_interval_ms = 60000
[shield]
exempt = []
under_attack = "on"
pow_min_bits = 16
pow_max_bits = 16
nojs_delay_seconds = 2
CONF
start_node --config "$TEST_TMP/serve.toml"

step "curl sees the challenge at /"
CODE=$(curl -s -o "$TEST_TMP/challenge.html" -w '%{http_code}' --max-time 5 "$NODE_URL/")
assert_eq 503 "$CODE" "GET / without a clearance"
assert_contains "$(cat "$TEST_TMP/challenge.html")" "<title>One moment</title>" "the challenge page"

step "Chromium: the challenge solved by the page's script, then without JavaScript"
# Playwright's temporary browser profiles go to $TEST_TMP, removed on exit.
export TMPDIR=$TEST_TMP
run timeout -k 5 150 node "$BROWSER_DIR/challenge_test.mjs" "$NODE_URL/" "$TITLE"
printf '%s\n' "$RUN_OUT" | sed 's/^/    /'
if [[ $RUN_RC != 0 ]]; then
  printf '%s\n' "$RUN_ERR" | tail -40 >&2
  fail "challenge_test.mjs exited with $RUN_RC"
fi

step "the node counted one solve and one wait"
J=$(curl -sS --max-time 5 "http://$NODE_ADMIN/shield")
assert_eq 1 "$(jget "$J" 'j["events"]["solved"]')" "events.solved"
assert_eq 1 "$(jget "$J" 'j["events"]["waited"]')" "events.waited"
assert_eq 0 "$(jget "$J" 'j["events"]["bad_solution"]')" "events.bad_solution"
assert_int_ge "$(jget "$J" 'j["events"]["cleared"]')" 4 "events.cleared"
stop_node
