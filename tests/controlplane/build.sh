#!/usr/bin/env bash
# Builds the control plane that the operator-mode tests run against (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok) at the versions pinned in go.mod and
# kwok/go.mod, and prints the directory that contains the binaries. Progress goes to stderr, and
# the directory to stdout.
#
# The binaries are cached in ~/.cache/xblocks/controlplane-<kubernetes version>-<hash>/bin. The
# hash covers the go.mod and go.sum files, the Go sources and this script, so a cached build is
# reused until one of them changes. Go's own module and build caches stay at their defaults
# (GOMODCACHE and GOCACHE), so a build after a changed pin recompiles only what changed.
set -euo pipefail
root="$(cd "$(dirname "$0")" && pwd)"
cd "$root"

# Binary name, module directory and Go package, in build order. kwok has a module of its own
# because kwok v0.7.0 compiles only against the k8s.io libraries of Kubernetes 1.33, while the
# main module pins them to the Kubernetes release that it builds.
targets=(
  "etcd . xblocks.test/controlplane/cmd/etcd"
  "kube-apiserver . k8s.io/kubernetes/cmd/kube-apiserver"
  "kube-controller-manager . k8s.io/kubernetes/cmd/kube-controller-manager"
  "kube-scheduler . k8s.io/kubernetes/cmd/kube-scheduler"
  "kwok kwok sigs.k8s.io/kwok/cmd/kwok"
)

log() { echo "controlplane: $*" >&2; }

# Go's official tarball installs to /usr/local/go, which a non-login shell may lack in PATH.
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
  PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null; then
  log "the go command is missing; install Go $(awk '$1 == "go" { print $2 }' go.mod) or newer"
  exit 1
fi

kubernetes_version=$(awk '$1 == "k8s.io/kubernetes" { print $2; exit }' go.mod)
if [ -z "$kubernetes_version" ]; then
  log "k8s.io/kubernetes is missing from $root/go.mod"
  exit 1
fi
inputs=$(find . -name go.mod -o -name go.sum -o -name '*.go' | sort)
hash=$(cat build.sh $inputs | sha256sum | cut -c1-12)
cache_dir="${XDG_CACHE_HOME:-$HOME/.cache}/xblocks/controlplane-$kubernetes_version-$hash"
bin_dir="$cache_dir/bin"

if [ -f "$cache_dir/.complete" ]; then
  echo "$bin_dir"
  exit 0
fi

# Two test runs may start at once; the second waits here and then finds the finished cache.
mkdir -p "$cache_dir"
exec 9>"$cache_dir/.lock"
flock 9
if [ -f "$cache_dir/.complete" ]; then
  echo "$bin_dir"
  exit 0
fi

build_log="$cache_dir/build.log"
: >"$build_log"

# Runs "$@" with its output appended to the build log, and prints the elapsed time and the
# number of new log lines every 30 seconds. `go build -v` logs one line per compiled package.
# On failure it prints the tail of the log and exits.
child_pid=""
trap '[ -z "$child_pid" ] || kill "$child_pid" 2>/dev/null || true' EXIT
run_with_progress() {
  local label=$1
  shift
  local start=$SECONDS
  local lines_before
  lines_before=$(wc -l <"$build_log")
  "$@" >>"$build_log" 2>&1 &
  child_pid=$!
  while ! wait_with_timeout "$child_pid" 30; do
    local lines_now
    lines_now=$(wc -l <"$build_log")
    log "  $label: $((SECONDS - start)) s, $((lines_now - lines_before)) log lines so far"
  done
  local status=0
  wait "$child_pid" || status=$?
  child_pid=""
  if [ "$status" -ne 0 ]; then
    log "$label failed (exit $status) after $((SECONDS - start)) s; last lines of $build_log:"
    tail -n 40 "$build_log" >&2
    exit 1
  fi
  log "$label done in $((SECONDS - start)) s"
}

# Returns 0 once process $1 has exited, or 1 if it is still running after $2 seconds.
wait_with_timeout() {
  local pid=$1 deadline=$((SECONDS + $2))
  while [ "$SECONDS" -lt "$deadline" ]; do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 1
  done
  ! kill -0 "$pid" 2>/dev/null
}

# Official Kubernetes builds stamp the release into the binaries with -X (hack/lib/version.sh);
# without it they report v0.0.0-master. The build date is the release's publication time.
release_time=$(go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)
minor=$(echo "$kubernetes_version" | cut -d. -f2)
kubernetes_ldflags="-s -w"
for package in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kubernetes_ldflags+=" -X $package.gitVersion=$kubernetes_version -X $package.gitMajor=1"
  kubernetes_ldflags+=" -X $package.gitMinor=$minor -X $package.gitTreeState=clean"
  kubernetes_ldflags+=" -X $package.gitCommit= -X $package.buildDate=$release_time"
done

total_start=$SECONDS
log "building Kubernetes $kubernetes_version control plane into $bin_dir (log: $build_log)"
log "downloading the Go modules that the binaries import"
for target in "${targets[@]}"; do
  read -r name module_dir package <<<"$target"
  run_with_progress "module download for $name" go -C "$module_dir" list -deps \
    -f '{{if .Error}}{{.ImportPath}}: {{.Error}}{{end}}' "$package"
done

rm -rf "$bin_dir"
mkdir -p "$bin_dir.tmp"
index=0
for target in "${targets[@]}"; do
  index=$((index + 1))
  read -r name module_dir package <<<"$target"
  log "building $name ($index/${#targets[@]}) from $package"
  ldflags="-s -w"
  [ "$module_dir" != . ] || ldflags=$kubernetes_ldflags
  # -buildvcs=false: the binaries need no git stamp, and git may refuse to read a checkout
  # that another user owns.
  run_with_progress "$name" go -C "$module_dir" build -v -trimpath -buildvcs=false \
    -ldflags="$ldflags" -o "$bin_dir.tmp/$name" "$package"
done
mv "$bin_dir.tmp" "$bin_dir"
touch "$cache_dir/.complete"
size=$(du -sh "$bin_dir" | cut -f1)
log "all ${#targets[@]} binaries built in $((SECONDS - total_start)) s: $size in $bin_dir"
echo "$bin_dir"
