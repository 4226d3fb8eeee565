"""Operator mode on a real Kubernetes control plane (etcd, kube-apiserver,
kube-controller-manager, kube-scheduler, built from the Kubernetes modules) with three kwok
nodes that simulate the pods.

xblocks is installed as the README shows: `xblocks manifests | kubectl apply -f -`, then
`xblocks manifests --addons-only | kubectl apply -f -`. `xblocks operator` runs beside the control
plane with the token of the ServiceAccount those manifests create, so the tests also show that
its RBAC is enough. The tutorial runs unchanged
with kubectl 1.33, without the checks that need real processes. kube-scheduler places the
replicas by anti-affinity and nodeLabels, a declared Model comes back after a Restart on pods
whose loopback IPs serve the Xinference test fixture (loopback_pods.py), the
ValidatingAdmissionPolicy guards DoNotTerminate clusters, each termination policy
deletes what it should, an operator cut off from kube-apiserver catches up afterwards, and a
standby replica takes over a killed leader and finishes its operation in flight.
"""

import json
import os
import re
import subprocess
import time

import pytest
import yaml

from conftest import KUBECTL_DIR, TUTORIAL_CLUSTER, XBLOCKS_BIN, wait_for
from controlplane import ControlPlane, node_ready
from loopback_pods import NODE_NAME as LOOPBACK_NODE, LoopbackReplicas, loopback_node_manifest, on_loopback_node
from operator_process import OperatorProcess, kubeconfig_with_port
from replicas import RUNNING_TIMEOUT, kubectl_ok, pods, wait_cluster
from tcp_proxy import TcpProxy
from test_models import MODEL, instances
from test_tutorial_operations import walk_tutorial

OPERATOR_NAMESPACE = "xblocks-system"


class Kubernetes:
    """The control plane with conftest.Server's kubectl(version, *args) interface."""

    def __init__(self, control_plane):
        self.control_plane = control_plane
        self.kubeconfig = control_plane.kubeconfig

    def kubectl(self, version, *args, input=None, timeout=120):
        home = os.path.join(self.control_plane.work_dir, "kubectl-home")
        os.makedirs(home, exist_ok=True)
        command = [os.path.join(KUBECTL_DIR, f"kubectl.{version}"), "--kubeconfig", self.kubeconfig, *args]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home}
        return subprocess.run(command, input=input, capture_output=True, text=True, env=env, timeout=timeout)


def service_account_kubeconfig(kube, path):
    """Write a kubeconfig that authenticates as the operator's ServiceAccount."""
    token = kubectl_ok(kube, "create", "token", "xblocks-operator", "-n", OPERATOR_NAMESPACE,
                       "--duration", "2h").strip()
    with open(kube.kubeconfig) as f:
        config = yaml.safe_load(f)
    config["users"] = [{"name": "xblocks-operator", "user": {"token": token}}]
    for context in config["contexts"]:
        context["context"]["user"] = "xblocks-operator"
    with open(path, "w") as f:
        yaml.safe_dump(config, f)
    return path


@pytest.fixture(scope="module")
def kubernetes(tmp_path_factory):
    work = tmp_path_factory.mktemp("operator-kubernetes")
    with ControlPlane(os.path.join(work, "controlplane"), nodes=3) as control_plane:
        kube = Kubernetes(control_plane)
        for args in ([], ["--addons-only"]):
            manifests = subprocess.run([XBLOCKS_BIN, "manifests", *args], capture_output=True, text=True,
                                       check=True).stdout
            installed = kube.kubectl("1.33", "apply", "-f", "-", input=manifests)
            assert installed.returncode == 0, installed.stderr
        kubeconfig = service_account_kubeconfig(kube, os.path.join(work, "operator.kubeconfig"))
        replica = OperatorProcess(work, kubeconfig, "operator-0", lease_namespace=OPERATOR_NAMESPACE)
        try:
            replica.wait_log("controllers started", timeout=60)
            yield kube, replica
        finally:
            replica.kill()


@pytest.fixture
def namespace(kubernetes, request):
    kube, _ = kubernetes
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).removeprefix("test-")[:50].strip("-")
    kubectl_ok(kube, "create", "namespace", name)
    return name


def apply_cluster(kube, namespace, replicas=1, policy="Delete", affinity="Preferred"):
    manifest = yaml.safe_load(TUTORIAL_CLUSTER)
    manifest["metadata"]["namespace"] = namespace
    manifest["spec"]["terminationPolicy"] = policy
    manifest["spec"]["affinity"]["podAntiAffinity"] = affinity
    manifest["spec"]["componentSpecs"][0]["replicas"] = replicas
    kubectl_ok(kube, "apply", "-f", "-", input=yaml.safe_dump(manifest))


def test_install_creates_operator_objects(kubernetes):
    kube, replica = kubernetes
    crds = kubectl_ok(kube, "get", "crd", "-o", "name")
    policy = kubectl_ok(kube, "get", "validatingadmissionpolicy", "xblocks-do-not-terminate", "-o", "name")
    definition = json.loads(kubectl_ok(kube, "get", "clusterdefinition", "xinference", "-o", "json"))

    for crd in ("clusters.apps.kubeblocks.io", "opsrequests.apps.kubeblocks.io", "instancesets.workloads.kubeblocks.io",
                "models.xblocks.io"):
        assert f"customresourcedefinition.apiextensions.k8s.io/{crd}" in crds
    assert policy.strip() == "validatingadmissionpolicy.admissionregistration.k8s.io/xblocks-do-not-terminate"
    assert definition["status"]["phase"] == "Available"
    assert json.loads(kubectl_ok(kube, "get", "lease", "xblocks-operator", "-n", OPERATOR_NAMESPACE, "-o",
                                 "json"))["spec"]["holderIdentity"] == "operator-0"
    assert "Forbidden" not in replica.log(), replica.log()[-3000:]


def test_tutorial_runs_unchanged(kubernetes):
    kube, replica = kubernetes
    walk_tutorial(kube, "1.33", processes=False)
    assert "forbidden" not in replica.log().lower(), replica.log()[-3000:]


def test_required_anti_affinity_spreads_over_nodes(kubernetes, namespace):
    kube, _ = kubernetes
    apply_cluster(kube, namespace, replicas=3, affinity="Required")
    wait_cluster(kube, namespace, "Running")
    nodes = [pod["spec"]["nodeName"] for pod in pods(kube, namespace)]

    assert sorted(nodes) == ["kwok-node-0", "kwok-node-1", "kwok-node-2"]

    kubectl_ok(kube, "patch", "cluster", "mycluster", "-n", namespace, "--type=json", "-p",
               '[{"op":"replace","path":"/spec/componentSpecs/0/replicas","value":4}]')

    def fourth_pending():
        fourth = [pod for pod in pods(kube, namespace) if pod["metadata"]["name"] == "mycluster-xinference-3"]
        return fourth and fourth[0]["status"].get("phase") == "Pending" and not fourth[0]["spec"].get("nodeName")

    wait_for(fourth_pending, timeout=RUNNING_TIMEOUT, message="the fourth replica was not left Pending")
    events = json.loads(kubectl_ok(kube, "get", "events", "-n", namespace, "-o", "json"))["items"]
    failed = [e for e in events if e["reason"] == "FailedScheduling"
              and e["involvedObject"]["name"] == "mycluster-xinference-3"]
    assert failed, events
    assert "anti-affinity" in failed[-1]["message"], failed[-1]["message"]


def test_do_not_terminate_delete_is_denied(kubernetes, namespace):
    kube, _ = kubernetes
    apply_cluster(kube, namespace, policy="DoNotTerminate")
    denied = kube.kubectl("1.33", "delete", "cluster", "mycluster", "-n", namespace, "--wait=false")

    assert denied.returncode != 0
    assert "DoNotTerminate termination policy is denied" in denied.stderr, denied.stderr
    assert kube.kubectl("1.33", "get", "cluster", "mycluster", "-n", namespace).returncode == 0

    kubectl_ok(kube, "patch", "cluster", "mycluster", "-n", namespace, "--type=merge", "-p",
               '{"spec":{"terminationPolicy":"Delete"}}')
    kubectl_ok(kube, "delete", "cluster", "mycluster", "-n", namespace)


@pytest.mark.parametrize("policy", ["Halt", "Delete", "WipeOut"])
def test_termination_policy_deletes_what_it_should(kubernetes, namespace, policy):
    kube, _ = kubernetes
    apply_cluster(kube, namespace, policy=policy)
    wait_cluster(kube, namespace, "Running")
    selector = "app.kubernetes.io/instance=mycluster"
    data_before = kubectl_ok(kube, "get", "secret,configmap", "-l", selector, "-n", namespace, "-o", "name").split()

    kubectl_ok(kube, "delete", "cluster", "mycluster", "-n", namespace, timeout=RUNNING_TIMEOUT)
    wait_for(lambda: pods(kube, namespace) == [], timeout=RUNNING_TIMEOUT, message="pods outlived their cluster")
    workloads = kubectl_ok(kube, "get", "instanceset,service,serviceaccount,rolebinding", "-l", selector, "-n",
                           namespace, "-o", "name").split()
    data_after = kubectl_ok(kube, "get", "secret,configmap", "-l", selector, "-n", namespace, "-o", "name").split()

    assert "secret/mycluster-conn-credential" in data_before
    assert workloads == []
    assert sorted(data_after) == (sorted(data_before) if policy == "Halt" else [])


@pytest.fixture(scope="module")
def loopback_node(kubernetes):
    """The kwok node whose pods get loopback addresses, Ready."""
    kube, _ = kubernetes
    kubectl_ok(kube, "apply", "-f", "-", input=json.dumps(loopback_node_manifest()))
    wait_for(lambda: node_ready(json.loads(kubectl_ok(kube, "get", "node", LOOPBACK_NODE, "-o", "json"))),
             timeout=60, message=f"node {LOOPBACK_NODE} did not turn Ready")
    return LOOPBACK_NODE


def small_cluster(namespace, replicas):
    manifest = yaml.safe_load(TUTORIAL_CLUSTER)
    manifest["metadata"]["namespace"] = namespace
    component = manifest["spec"]["componentSpecs"][0]
    component["replicas"] = replicas
    component["resources"] = {"limits": {"cpu": "100m", "memory": "256Mi"},
                              "requests": {"cpu": "100m", "memory": "256Mi"}}
    return manifest


def scheduling_failure(kube, namespace, pod_name):
    """The PodScheduled=False condition of a pod, or None while it has none."""
    item = json.loads(kubectl_ok(kube, "get", "pod", pod_name, "-n", namespace, "-o", "json"))
    for condition in item.get("status", {}).get("conditions") or []:
        if condition["type"] == "PodScheduled" and condition["status"] == "False":
            return condition
    return None


def test_node_labels_choose_the_node(kubernetes, namespace):
    kube, _ = kubernetes
    pinned = small_cluster(namespace, 2)
    pinned["spec"]["affinity"]["nodeLabels"] = {"kubernetes.io/hostname": "kwok-node-2"}
    kubectl_ok(kube, "apply", "-f", "-", input=yaml.safe_dump(pinned))
    wait_cluster(kube, namespace, "Running")
    assert {item["spec"]["nodeName"] for item in pods(kube, namespace)} == {"kwok-node-2"}

    nowhere = small_cluster(namespace, 1)
    nowhere["metadata"]["name"] = "nowhere"
    nowhere["spec"]["affinity"]["nodeLabels"] = {"xblocks.test/pool": "fpga,tpu"}
    kubectl_ok(kube, "apply", "-f", "-", input=yaml.safe_dump(nowhere))
    wait_for(lambda: kube.kubectl("1.33", "get", "pod", "nowhere-xinference-0", "-n", namespace).returncode == 0,
             timeout=60, message="cluster nowhere has no pod")
    failure = wait_for(lambda: scheduling_failure(kube, namespace, "nowhere-xinference-0"), timeout=60,
                       message="kube-scheduler did not report nowhere-xinference-0 unschedulable")
    assert failure["reason"] == "Unschedulable", failure
    assert "didn't match Pod's node affinity/selector" in failure["message"], failure


def test_model_back_after_operator_restart(kubernetes, namespace, loopback_node, tmp_path):
    kube, replica = kubernetes
    model = json.loads(json.dumps(MODEL))
    model["metadata"]["namespace"] = namespace
    with LoopbackReplicas(lambda *args: kube.kubectl("1.33", *args), namespace, tmp_path) as replicas:
        kubectl_ok(kube, "apply", "-f", "-", input=yaml.safe_dump(model))
        kubectl_ok(kube, "apply", "-f", "-", input=yaml.safe_dump(on_loopback_node(small_cluster(namespace, 2))))
        wait_loopback_model(kube, namespace, "Ready", "2/2")
        first = pods(kube, namespace)
        assert {item["spec"]["nodeName"] for item in first} == {loopback_node}
        assert [instances(item) for item in first] == [["READY"], ["READY"]]

        # Restart: the operation succeeds only once the model is back on both new pods.
        kubectl_ok(kube, "apply", "-f", "-", input=restart_ops("restart", namespace))
        wait_for(lambda: ops_phase(kube, namespace, "restart") == "Succeed", timeout=RUNNING_TIMEOUT,
                 message="the Restart did not finish")
        status_at_succeed = loopback_model(kube, namespace)["status"]
        second = pods(kube, namespace)
        assert {item["metadata"]["uid"] for item in second}.isdisjoint(item["metadata"]["uid"] for item in first)
        assert status_at_succeed["ready"] == "2/2", status_at_succeed
        assert sorted(entry["podUID"] for entry in status_at_succeed["replicas"]) == \
            sorted(item["metadata"]["uid"] for item in second), status_at_succeed
        assert [instances(item) for item in second] == [["READY"], ["READY"]]

        # Deleting the Model terminates it on every replica.
        kubectl_ok(kube, "delete", "model", "bge", "-n", namespace, "--timeout=60s")
        assert [instances(item) for item in second] == [[], []]
        assert replicas.errors == [], replicas.errors
        assert len(replicas.started) >= 4, replicas.started
    assert "forbidden" not in replica.log().lower(), replica.log()[-3000:]


def loopback_model(kube, namespace):
    return json.loads(kubectl_ok(kube, "get", "model", "bge", "-n", namespace, "-o", "json"))


def wait_loopback_model(kube, namespace, phase, ready):
    def reached():
        status = loopback_model(kube, namespace).get("status", {})
        return status.get("phase") == phase and status.get("ready") == ready

    wait_for(reached, timeout=RUNNING_TIMEOUT,
             message=f"model bge did not reach {phase} {ready}: {loopback_model(kube, namespace).get('status')}")


def pod_uids(kube, namespace):
    return {pod["metadata"]["name"]: pod["metadata"]["uid"] for pod in pods(kube, namespace)}


def ops_phase(kube, namespace, name):
    listed = json.loads(kubectl_ok(kube, "get", "ops", name, "-n", namespace, "-o", "json"))
    return listed.get("status", {}).get("phase")


def restart_ops(name, namespace):
    return yaml.safe_dump({"apiVersion": "apps.kubeblocks.io/v1alpha1", "kind": "OpsRequest",
                           "metadata": {"name": name, "namespace": namespace},
                           "spec": {"clusterName": "mycluster", "type": "Restart",
                                    "restart": [{"componentName": "xinference"}]}})


def test_operator_catches_up_after_losing_kube_apiserver(kubernetes, namespace, tmp_path):
    kube, _ = kubernetes
    apply_cluster(kube, namespace, replicas=2)
    wait_cluster(kube, namespace, "Running")
    before = pod_uids(kube, namespace)
    proxy = TcpProxy(kube.control_plane.apiserver_port)
    try:
        proxied = kubeconfig_with_port(kube.kubeconfig, str(tmp_path / "proxied"), proxy.port)
        # A second operator without leader election, reaching kube-apiserver only through the proxy,
        # takes over from the module's operator, which stops.
        kubernetes[1].stop()
        cut_off = OperatorProcess(tmp_path, proxied, "cut-off", ["--leader-elect=false"],
                                  lease_namespace=OPERATOR_NAMESPACE)
        cut_off.wait_log("controllers started")
        proxy.cut()
        kubectl_ok(kube, "apply", "-f", "-", input=restart_ops("while-cut", namespace))
        time.sleep(12)
        phase_while_cut = ops_phase(kube, namespace, "while-cut")
        proxy.restore()
        wait_for(lambda: ops_phase(kube, namespace, "while-cut") == "Succeed", timeout=RUNNING_TIMEOUT,
                 message="the operation created during the outage did not finish")
        after = pod_uids(kube, namespace)
        time.sleep(3)
        cut_off.stop()
    finally:
        proxy.close()

    assert phase_while_cut is None
    assert all(after[name] != before[name] for name in before)
    assert pod_uids(kube, namespace) == after, "pods were recreated again after the operation finished"


def test_standby_takes_over_a_killed_leader(kubernetes, namespace, tmp_path):
    kube, module_replica = kubernetes
    module_replica.stop()
    kubeconfig = service_account_kubeconfig(kube, str(tmp_path / "operator.kubeconfig"))
    leader = OperatorProcess(tmp_path, kubeconfig, "leader", lease_namespace=OPERATOR_NAMESPACE)
    standby = None
    try:
        leader.wait_log("controllers started")
        standby = OperatorProcess(tmp_path, kubeconfig, "standby", lease_namespace=OPERATOR_NAMESPACE)
        standby.wait_log("waiting for the lease")
        apply_cluster(kube, namespace, replicas=2)
        wait_cluster(kube, namespace, "Running")
        before = pod_uids(kube, namespace)
        standby_reconciled_while_waiting = "controllers started" in standby.log()

        kubectl_ok(kube, "apply", "-f", "-", input=restart_ops("in-flight", namespace))
        wait_for(lambda: ops_phase(kube, namespace, "in-flight") == "Running", timeout=30)
        leader.kill()
        standby.wait_log("controllers started", timeout=60)
        wait_for(lambda: ops_phase(kube, namespace, "in-flight") == "Succeed", timeout=RUNNING_TIMEOUT,
                 message="the operation in flight did not finish after the takeover")
        after = pod_uids(kube, namespace)
        holder = json.loads(kubectl_ok(kube, "get", "lease", "xblocks-operator", "-n", OPERATOR_NAMESPACE, "-o",
                                       "json"))["spec"]["holderIdentity"]
    finally:
        leader.kill()
        if standby is not None:
            standby.kill()

    assert not standby_reconciled_while_waiting
    assert holder == "standby"
    assert all(after[name] != before[name] for name in before)
