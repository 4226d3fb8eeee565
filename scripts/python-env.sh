#!/usr/bin/env bash
# Creates (once) the Python environment the end-to-end tests use, with the official Kubernetes
# client and pytest at pinned versions, and prints its python path. The environment is cached in
# ~/.cache/xblocks/venv-e2e-<hash of tests/requirements.txt>.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
requirements="$root/tests/requirements.txt"
hash=$(sha256sum "$requirements" | cut -c1-12)
venv="${XDG_CACHE_HOME:-$HOME/.cache}/xblocks/venv-e2e-$hash"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2
  touch "$venv/.complete"
fi
echo "$venv/bin/python"
