#!/usr/bin/env bash
# Installs every Debian 12 package that refuge's build, tests and benchmarks need.
# Idempotent: packages already present are skipped, and `apt-get update` runs at most once.
# Then installs the browser tests' npm packages (tests/browser, pinned by its
# package-lock.json) into tests/browser/node_modules, unless they are there already.
# Must run as root (or with sudo available) on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # build
  build-essential cmake ninja-build pkg-config git
  # libraries (see docs/DEPENDENCIES.md for why each is here)
  libssl-dev libcurl4-openssl-dev libsqlite3-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libboost1.81-dev libtomlplusplus-dev libspdlog-dev
  # tests: the independent TUF/ed25519 implementation, tools the tests drive
  python3 python3-securesystemslib python3-nacl curl sqlite3 coreutils procps
  wget openssl bc
  # the multi-host tests and the mirror benchmark: namespaces, veth, tbf, nftables, rsync
  iproute2 nftables rsync iputils-ping
  # fuzzing and sanitizers
  clang-14 libclang-rt-14-dev
  # the shield's tests: slow HTTP attacks, and a real browser solving the challenge
  # (Chromium driven by npm's playwright-core, tests/browser)
  slowhttptest chromium nodejs
)
# Debian's npm, unless an npm is already there (NodeSource's nodejs bundles one and
# conflicts with Debian's npm package).
if ! command -v npm >/dev/null 2>&1; then packages+=(npm); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The browser tests' packages, from the npm registry, exactly as package-lock.json pins them.
pinned=$(node -p 'require("./tests/browser/package-lock.json").packages["node_modules/playwright-core"].version')
installed=$(node -p 'try { require("./tests/browser/node_modules/playwright-core/package.json").version } catch { "" }')
if [ "$installed" = "$pinned" ]; then
  echo "setup: tests/browser has playwright-core $pinned"
else
  echo "setup: npm ci in tests/browser (playwright-core $pinned)"
  (cd tests/browser && npm ci --no-audit --no-fund)
fi
