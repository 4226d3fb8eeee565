#!/usr/bin/env bash
# Walks the Xinference tutorial against a fresh embedded server and prints every command with
# its output: the definitions, a namespace and the cluster, vertical scaling by OpsRequest and by
# editing the cluster, stop and start both ways, restart, and deletion.
#
# When build/xblocks is missing it installs the build dependencies (scripts/install-deps.sh,
# Debian packages, as root) and builds xblocks first. Replicas run the real xinference-local
# when it is on PATH, else the test fixture that replaces it in tests; the output names which.
# The server and its data dir go away at the end.
#
#   scripts/demo.sh            # kubectl from PATH
#   KUBECTL=kubectl.1.27 scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

KUBECTL=${KUBECTL:-kubectl}
if ! command -v "$KUBECTL" >/dev/null; then
  echo "error: $KUBECTL not found; install kubectl or set KUBECTL=/path/to/kubectl" >&2
  exit 1
fi
if [[ ! -x build/xblocks ]]; then
  echo "== installing build dependencies and building xblocks (a clean build takes about 10 minutes)"
  scripts/install-deps.sh
  scripts/build.sh
fi

IMAGE=xprobe/xinference:v0.11.0-cpu
SERVER_ARGS=(--listen 127.0.0.1:0)
if command -v xinference-local >/dev/null; then
  echo "== replicas run the real xinference-local: $(command -v xinference-local)"
else
  echo "== xinference-local is not installed; replicas run the test fixture tests/fixtures/xinference_fixture.py"
  echo "   (install it with: pip install \"xinference==0.11.0\")"
  SERVER_ARGS+=(--image-command "$IMAGE=python3 $ROOT/tests/fixtures/xinference_fixture.py")
fi

DATA=$(mktemp -d "${TMPDIR:-/tmp}/xblocks-demo.XXXXXX")
build/xblocks server --data-dir "$DATA" "${SERVER_ARGS[@]}" >"$DATA/server.log" 2>&1 &
SERVER_PID=$!
cleanup() {
  local status=$?
  kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  if [[ $status -ne 0 ]]; then
    echo "== demo failed (exit $status); the last server log lines follow, the whole log is kept in $DATA/server.log" >&2
    tail -n 30 "$DATA/server.log" >&2 || true
    return
  fi
  rm -rf "$DATA"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  [[ -s "$DATA/kubeconfig" ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$DATA/server.log" >&2; exit 1; }
  sleep 0.1
done
export KUBECONFIG="$DATA/kubeconfig"
echo "== server log: $DATA/server.log, KUBECONFIG=$KUBECONFIG"

step=0
# Prints an argument so that it can be pasted into a shell: as it is when it has no special
# characters, else in single quotes.
quote() {
  if [[ $1 =~ ^[A-Za-z0-9_./:=,@+-]+$ ]]; then
    printf ' %s' "$1"
  else
    printf " '%s'" "${1//\'/\'\\\'\'}"
  fi
}

run() {
  step=$((step + 1))
  printf '\n[%d] $' "$step"
  for arg in "$@"; do quote "$arg"; done
  printf '\n'
  "$@"
}

apply() {
  step=$((step + 1))
  printf '\n[%d] $ %s apply -f - <<EOF\n%s\nEOF\n' "$step" "$KUBECTL" "$1"
  printf '%s\n' "$1" | "$KUBECTL" apply -f -
}

# Waits until `kubectl get <what> -o jsonpath=<path>` prints `want`, showing progress.
wait_for() {
  local what=$1 path=$2 want=$3 timeout=${4:-600} got=""
  printf '    waiting for %s %s = %s ' "$what" "$path" "$want"
  for _ in $(seq 1 "$timeout"); do
    got=$($KUBECTL get $what -n demo -o "jsonpath=$path" 2>/dev/null || true)
    [[ "$got" == "$want" ]] && { echo " ok"; return 0; }
    printf '.'
    sleep 1
  done
  echo " timed out (last: $got)"
  return 1
}

CLUSTER=$(cat <<'EOF'
apiVersion: apps.kubeblocks.io/v1alpha1
kind: Cluster
metadata:
  name: mycluster
  namespace: demo
spec:
  clusterDefinitionRef: xinference
  clusterVersionRef: xinference-0.11.0-cpu
  terminationPolicy: Delete
  affinity:
    podAntiAffinity: Preferred
    topologyKeys:
    - kubernetes.io/hostname
  tolerations:
    - key: kb-data
      operator: Equal
      value: 'true'
      effect: NoSchedule
  componentSpecs:
  - name: xinference
    componentDefRef: xinference
    serviceAccountName: kb-xinference-cluster
    replicas: 1
    resources:
      limits:
        cpu: '1'
        memory: 1Gi
      requests:
        cpu: '1'
        memory: 1Gi
EOF
)

echo; echo "## Before you start"
run "$KUBECTL" get clusterdefinition xinference
run "$KUBECTL" get clusterversions -l clusterdefinition.kubeblocks.io/name=xinference
run "$KUBECTL" create namespace demo

echo; echo "## Create the cluster"
apply "$CLUSTER"
wait_for "cluster mycluster" '{.status.phase}' Running
run "$KUBECTL" get all,secret,rolebinding,serviceaccount -l app.kubernetes.io/instance=mycluster -n demo
run "$KUBECTL" get cluster mycluster -n demo

echo; echo "## Vertical scaling with an OpsRequest"
apply "$(cat <<'EOF'
apiVersion: apps.kubeblocks.io/v1alpha1
kind: OpsRequest
metadata:
  name: mycluster-vertical-scaling
  namespace: demo
spec:
  clusterName: mycluster
  type: VerticalScaling
  verticalScaling:
  - componentName: xinference
    requests:
      memory: "2Gi"
      cpu: "2"
    limits:
      memory: "4Gi"
      cpu: "2"
EOF
)"
wait_for "ops mycluster-vertical-scaling" '{.status.phase}' Succeed
run "$KUBECTL" get ops -n demo
run "$KUBECTL" get pod mycluster-xinference-0 -n demo -o "jsonpath={.spec.containers[0].resources}{'\n'}"

echo; echo "## Vertical scaling by editing the cluster (back to 1 CPU and 1Gi)"
apply "$CLUSTER"
wait_for "pod mycluster-xinference-0" '{.spec.containers[0].resources.limits.memory}' 1Gi
wait_for "cluster mycluster" '{.status.phase}' Running
run "$KUBECTL" get cluster mycluster -n demo

echo; echo "## Stop and start with OpsRequests"
apply "$(printf 'apiVersion: apps.kubeblocks.io/v1alpha1\nkind: OpsRequest\nmetadata:\n  name: mycluster-stop\n  namespace: demo\nspec:\n  clusterName: mycluster\n  type: Stop')"
wait_for "ops mycluster-stop" '{.status.phase}' Succeed
run "$KUBECTL" get cluster,pods -n demo
apply "$(printf 'apiVersion: apps.kubeblocks.io/v1alpha1\nkind: OpsRequest\nmetadata:\n  name: mycluster-start\n  namespace: demo\nspec:\n  clusterName: mycluster\n  type: Start')"
wait_for "ops mycluster-start" '{.status.phase}' Succeed
wait_for "cluster mycluster" '{.status.phase}' Running
run "$KUBECTL" get cluster,pods -n demo

echo; echo "## Stop and start by editing replicas"
run "$KUBECTL" patch cluster mycluster -n demo --type json -p '[{"op":"replace","path":"/spec/componentSpecs/0/replicas","value":0}]'
wait_for "cluster mycluster" '{.status.phase}' Stopped
run "$KUBECTL" get cluster,pods -n demo
run "$KUBECTL" patch cluster mycluster -n demo --type json -p '[{"op":"replace","path":"/spec/componentSpecs/0/replicas","value":1}]'
wait_for "cluster mycluster" '{.status.phase}' Running
run "$KUBECTL" get cluster,pods -n demo

echo; echo "## Restart"
apply "$(printf 'apiVersion: apps.kubeblocks.io/v1alpha1\nkind: OpsRequest\nmetadata:\n  name: mycluster-restart\n  namespace: demo\nspec:\n  clusterName: mycluster\n  type: Restart\n  restart:\n  - componentName: xinference')"
wait_for "ops mycluster-restart" '{.status.phase}' Succeed
run "$KUBECTL" get pod -n demo
run "$KUBECTL" get ops mycluster-restart -n demo

echo; echo "## Delete"
run "$KUBECTL" delete cluster mycluster -n demo
run "$KUBECTL" get all,ops -l app.kubernetes.io/instance=mycluster -n demo
echo; echo "== demo finished"
