#!/usr/bin/env bash
# Configures and builds xblocks, its unit tests and benchmarks into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${XB_BUILD_JOBS:-$(nproc)}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=${XB_BUILD_TYPE:-Release} >/dev/null
ninja -C build -j "$jobs"
