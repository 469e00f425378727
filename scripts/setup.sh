#!/usr/bin/env bash
# Installs every Debian 12 package that refuge's build, tests and benchmarks need.
# Idempotent: packages already present are skipped, and `apt-get update` runs at most once.
# Must run as root (or with sudo available) on Debian 12.
set -euo pipefail

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
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
