#!/usr/bin/env bash
# Installs the dependencies, builds xblocks and starts the embedded server in the foreground on
# 127.0.0.1:6443 with its data in ~/.xblocks. Then, in another shell:
#   export KUBECONFIG=~/.xblocks/kubeconfig
#   kubectl get clusterdefinition xinference
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/xblocks server "$@"
