"""`xblocks operator` against a Kubernetes API over HTTPS: here the embedded server with its own
controllers off (`--controllers=false`), which serves the API, collects garbage and runs pods
without processes (`--runtime simulated`). The operator alone reconciles.

The tests show the following. The tutorial's cluster and its operations work through the
operator. Of two replicas only the Lease holder reconciles, and when it is killed the other takes
over and finishes an operation in flight. An operator cut off from the API server catches up
afterwards and runs each operation once. A leader that cannot renew its Lease exits non-zero.
"""

import json
import time

import pytest
import yaml

from conftest import TUTORIAL_CLUSTER, Server, wait_for
from operator_process import OperatorProcess, kubeconfig_with_port
from replicas import RUNNING_TIMEOUT, kubectl_ok, pods, wait_cluster
from tcp_proxy import TcpProxy

# The default lease duration and renew deadline of `xblocks operator`.
LEASE_DURATION_SECONDS = 15
RENEW_DEADLINE_SECONDS = 10


@pytest.fixture
def api_server(tmp_path):
    server = Server(tmp_path / "server", args=["--runtime", "simulated", "--controllers=false"])
    try:
        server.start()
        server.create_namespace("demo")
        yield server
    finally:
        server.close()


@pytest.fixture
def operators(tmp_path):
    started = []

    def start(kubeconfig, identity, *args):
        replica = OperatorProcess(tmp_path, kubeconfig, identity, args)
        started.append(replica)
        return replica

    yield start
    for replica in started:
        replica.kill()


def create_cluster(server, replicas):
    manifest = yaml.safe_load(TUTORIAL_CLUSTER)
    manifest["spec"]["componentSpecs"][0]["replicas"] = replicas
    kubectl_ok(server, "apply", "-f", "-", input=yaml.safe_dump(manifest))


def create_ops(server, name, type_, **spec):
    body = {"apiVersion": "apps.kubeblocks.io/v1alpha1", "kind": "OpsRequest",
            "metadata": {"name": name, "namespace": "demo"},
            "spec": {"clusterName": "mycluster", "type": type_, **spec}}
    kubectl_ok(server, "apply", "-f", "-", input=yaml.safe_dump(body))


def ops_status(server, name):
    return json.loads(kubectl_ok(server, "get", "ops", name, "-n", "demo", "-o", "json")).get("status", {})


def wait_ops(server, name, phase, timeout=RUNNING_TIMEOUT):
    wait_for(lambda: ops_status(server, name).get("phase") == phase, timeout=timeout,
             message=f"ops {name} did not reach {phase}: {ops_status(server, name)}")
    return ops_status(server, name)


def lease_holder(server):
    result = server.kubectl("1.33", "get", "lease", "xblocks-operator", "-n", "default", "-o", "json")
    return json.loads(result.stdout)["spec"].get("holderIdentity", "") if result.returncode == 0 else None


def pod_uids(server):
    return {pod["metadata"]["name"]: pod["metadata"]["uid"] for pod in pods(server, "demo")}


RESTART = {"restart": [{"componentName": "xinference"}]}
SCALE_CPU = {"verticalScaling": [{"componentName": "xinference", "requests": {"cpu": "500m"},
                                  "limits": {"cpu": "500m"}}]}


def test_operator_runs_tutorial_cluster(api_server, operators):
    operators(api_server.kubeconfig, "only")

    create_cluster(api_server, replicas=1)
    wait_cluster(api_server, "demo", "Running")
    create_ops(api_server, "scale", "VerticalScaling", **SCALE_CPU)
    done = wait_ops(api_server, "scale", "Succeed")
    create_ops(api_server, "stop", "Stop")
    wait_ops(api_server, "stop", "Succeed")
    wait_cluster(api_server, "demo", "Stopped")
    stopped_pods = pods(api_server, "demo")
    create_ops(api_server, "start", "Start")
    wait_ops(api_server, "start", "Succeed")
    wait_cluster(api_server, "demo", "Running")

    assert done["progress"] == "1/1"
    assert stopped_pods == []
    assert [pod["spec"]["containers"][0]["resources"]["limits"]["cpu"] for pod in pods(api_server, "demo")] \
        == ["500m"]
    definitions = kubectl_ok(api_server, "get", "clusterdefinition", "xinference", "-o", "json")
    assert json.loads(definitions)["status"]["phase"] == "Available"


def test_standby_takes_over_and_finishes_operation(api_server, operators):
    first = operators(api_server.kubeconfig, "first")
    first.wait_log("controllers started")
    second = operators(api_server.kubeconfig, "second")
    second.wait_log("waiting for the lease")
    create_cluster(api_server, replicas=2)
    wait_cluster(api_server, "demo", "Running")
    before = pod_uids(api_server)

    assert lease_holder(api_server) == "first"
    assert "controllers started" not in second.log()

    create_ops(api_server, "restart", "Restart", **RESTART)
    wait_for(lambda: ops_status(api_server, "restart").get("phase") == "Running", timeout=30)
    first.kill()
    killed = time.monotonic()
    taken_over = second.wait_log("controllers started", timeout=LEASE_DURATION_SECONDS * 4)
    print(f"takeover after {taken_over - killed:.1f} s (lease duration {LEASE_DURATION_SECONDS} s)")
    done = wait_ops(api_server, "restart", "Succeed")
    after = pod_uids(api_server)
    time.sleep(3)

    assert lease_holder(api_server) == "second"
    assert done["progress"] == "2/2"
    assert set(after) == set(before)
    assert all(after[name] != before[name] for name in before)
    assert pod_uids(api_server) == after, "pods were recreated again after the operation finished"


def test_operator_catches_up_after_losing_the_api(api_server, operators, tmp_path):
    proxy = TcpProxy(api_server.port)
    try:
        kubeconfig = kubeconfig_with_port(api_server.kubeconfig, str(tmp_path / "proxied"), proxy.port)
        replica = operators(kubeconfig, "cut-off", "--leader-elect=false")
        create_cluster(api_server, replicas=2)
        wait_cluster(api_server, "demo", "Running")
        before = pod_uids(api_server)

        proxy.cut()
        # While the operator cannot reach the server, two operations queue up.
        create_ops(api_server, "scale", "VerticalScaling", **SCALE_CPU)
        create_ops(api_server, "restart", "Restart", **RESTART)
        time.sleep(12)
        queued = {name: ops_status(api_server, name).get("phase") for name in ("scale", "restart")}
        proxy.restore()
        scaled = wait_ops(api_server, "scale", "Succeed")
        restarted = wait_ops(api_server, "restart", "Succeed")
        after = pod_uids(api_server)
        time.sleep(3)
    finally:
        proxy.close()

    assert queued == {"scale": None, "restart": None}
    assert "informer" in replica.log()
    assert scaled["progress"] == "2/2"
    assert restarted["progress"] == "2/2"
    assert all(after[name] != before[name] for name in before)
    assert pod_uids(api_server) == after, "pods were recreated again after the operations finished"
    assert [pod["spec"]["containers"][0]["resources"]["limits"]["cpu"] for pod in pods(api_server, "demo")] \
        == ["500m", "500m"]


def test_leader_exits_when_it_cannot_renew(api_server, operators, tmp_path):
    proxy = TcpProxy(api_server.port)
    try:
        kubeconfig = kubeconfig_with_port(api_server.kubeconfig, str(tmp_path / "proxied"), proxy.port)
        replica = operators(kubeconfig, "leader")
        replica.wait_log("controllers started")
        proxy.cut()
        code = replica.process.wait(timeout=RENEW_DEADLINE_SECONDS * 4)
    finally:
        proxy.close()

    assert code == 1
    assert "lease lost" in replica.log()
    assert "lost the leader lease" in replica.log()


def test_stopped_leader_hands_over_at_once(api_server, operators):
    first = operators(api_server.kubeconfig, "first")
    first.wait_log("controllers started")
    second = operators(api_server.kubeconfig, "second")
    second.wait_log("waiting for the lease")

    assert first.stop() == 0
    # The stopped leader cleared the holder, so the standby need not wait for the lease to expire.
    holder_after_stop = lease_holder(api_server)
    second.wait_log("controllers started", timeout=LEASE_DURATION_SECONDS * 2)

    assert holder_after_stop in ("", "second")
    assert "lease released" in first.log()
    assert lease_holder(api_server) == "second"
