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
echo "== control plane for the operator-mode tests"
# Built here so that its progress shows, and the pytest fixture then finds the cache. A failed
# build does not stop the suite, because tests/e2e/test_controlplane.py runs the build again and
# fails with its log.
tests/controlplane/build.sh >/dev/null || echo "control plane build failed; its tests will fail"
echo "== Xinference for the real-Xinference tests"
# Installed here so that its progress shows; tests/e2e/test_real_xinference.py runs the same
# script and fails with its output when the install failed.
tests/xinference/setup.sh >/dev/null || echo "Xinference install failed; the real-Xinference tests will fail"
echo "== end-to-end tests"
python=$(scripts/python-env.sh)
XBLOCKS_BIN="$root/build/xblocks" "$python" -m pytest -q tests/e2e "$@"
