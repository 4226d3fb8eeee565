#!/usr/bin/env bash
# Runs every test: builds xblocks, runs the unit tests (ctest), then the end-to-end tests
# (pytest), which start the real binary and drive it with the real kubectl and the official
# Python client.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/build.sh
echo "== unit tests"
ctest --test-dir build --output-on-failure -j "$(nproc)"
echo "== end-to-end tests"
python=$(scripts/python-env.sh)
XBLOCKS_BIN="$root/build/xblocks" "$python" -m pytest -q tests/e2e "$@"
