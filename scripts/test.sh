#!/usr/bin/env bash
# Installs what is needed, builds refuge with its tests, and runs every test with ctest.
#
#   bash scripts/test.sh
#
# The last lines of output are ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release -DREFUGE_BUILD_TESTS=ON >/dev/null
cmake --build --preset release
ctest --preset release -j2
