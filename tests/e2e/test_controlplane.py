"""The real Kubernetes control plane that operator-mode tests run against.

One ControlPlane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok with
three fake nodes) serves the whole module. The tests drive it with the real kubectl 1.33 and
check that the real scheduler places pods on kwok nodes, spreads a StatefulSet by required pod
anti-affinity and leaves a replica Pending when no node fits.
"""

import ipaddress
import json
import os
import re
import shutil
import subprocess

import pytest

import controlplane
from conftest import wait_for
from controlplane import ControlPlane, ControlPlaneError

NODES = 3
POD_TIMEOUT_SECONDS = 90
BUILD_DIR = os.path.dirname(controlplane.BUILD_SCRIPT)
GO_MOD = os.path.join(BUILD_DIR, "go.mod")

# kwok runs no container, so this image is never pulled.
IMAGE = "xblocks-test/placeholder:1"


@pytest.fixture(scope="module")
def control_plane(tmp_path_factory):
    with ControlPlane(tmp_path_factory.mktemp("controlplane"), nodes=NODES) as instance:
        yield instance


@pytest.fixture
def namespace(control_plane, request):
    """A new namespace named after the test, with its default ServiceAccount in place."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:50].strip("-")
    created = control_plane.kubectl("create", "namespace", name)
    assert created.returncode == 0, f"kubectl create namespace {name} failed:\n{created.stderr}"
    wait_for(lambda: control_plane.kubectl("get", "serviceaccount", "default", "-n", name)
             .returncode == 0, timeout=60, message=f"ServiceAccount {name}/default missing")
    yield name
    control_plane.kubectl("delete", "namespace", name, "--wait=false")


# -- helpers ----------------------------------------------------------------------------------

def kubectl_json(control_plane, *args):
    result = control_plane.kubectl(*args, "-o", "json")
    assert result.returncode == 0, f"kubectl {' '.join(args)} failed:\n{result.stderr}"
    return json.loads(result.stdout)


def apply(control_plane, manifest):
    result = control_plane.kubectl("apply", "-f", "-", input=json.dumps(manifest))
    assert result.returncode == 0, f"kubectl apply failed:\n{result.stderr}"


def pod_manifest(namespace, name):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"containers": [{"name": "main", "image": IMAGE}]}}


def spread_statefulset(namespace, name, replicas):
    """A StatefulSet whose pods must each run on a node of their own."""
    labels = {"app": name}
    anti_affinity = {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": labels}, "topologyKey": "kubernetes.io/hostname"}]}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": replicas, "serviceName": name,
                     "podManagementPolicy": "Parallel",
                     "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"affinity": {"podAntiAffinity": anti_affinity},
                                           "containers": [{"name": "main", "image": IMAGE}]}}}}


def pod_phase(control_plane, namespace, name):
    result = control_plane.kubectl("get", "pod", name, "-n", namespace,
                                   "-o", "jsonpath={.status.phase}")
    return result.stdout if result.returncode == 0 else f"(kubectl failed: {result.stderr})"


def wait_running(control_plane, namespace, names):
    for name in names:
        wait_for(lambda: pod_phase(control_plane, namespace, name) == "Running",
                 timeout=POD_TIMEOUT_SECONDS, interval=0.5,
                 message=f"pod {namespace}/{name} not Running; "
                         f"{describe(control_plane, namespace, name)}")


def describe(control_plane, namespace, name):
    result = control_plane.kubectl("describe", "pod", name, "-n", namespace)
    return result.stdout + result.stderr


def pod_events(control_plane, namespace, name, reason):
    events = kubectl_json(control_plane, "get", "events", "-n", namespace,
                          "--field-selector", f"involvedObject.name={name},reason={reason}")
    return events["items"]


def event_reporter(event):
    return event.get("reportingComponent") or (event.get("source") or {}).get("component")


def condition(obj, kind):
    for entry in obj.get("status", {}).get("conditions") or []:
        if entry["type"] == kind:
            return entry
    return None


def pinned_kubernetes_version():
    with open(GO_MOD) as f:
        match = re.search(r"^\s*k8s\.io/kubernetes (v\S+)", f.read(), re.MULTILINE)
    assert match, f"k8s.io/kubernetes is missing from {GO_MOD}"
    return match.group(1)


def start_error(instance):
    """Enter `instance` as a context manager, expecting its start to fail; return the message."""
    with pytest.raises(ControlPlaneError) as error:
        with instance:
            pass
    return str(error.value)


def go_env(name):
    go = shutil.which("go") or "/usr/local/go/bin/go"
    return subprocess.run([go, "env", name], capture_output=True, text=True,
                          check=True).stdout.strip()


def listening_addresses(pid):
    """The (ip, port) of every TCP socket in LISTEN state that process `pid` holds."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    addresses = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            rows = [line.split() for line in f.readlines()[1:]]
        for row in rows:
            local, state, inode = row[1], row[3], row[9]
            if state == "0A" and inode in inodes:
                addresses.append(parse_proc_address(local))
    return addresses


def parse_proc_address(text):
    """Decode an address of /proc/net/tcp{,6}: the IP as 32-bit words in host (little-endian)
    byte order, then the port, both in hex."""
    ip_hex, port_hex = text.split(":")
    raw = bytes.fromhex(ip_hex)
    ip_bytes = b"".join(raw[index:index + 4][::-1] for index in range(0, len(raw), 4))
    ip = ipaddress.ip_address(ip_bytes)
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip, int(port_hex, 16)


# -- tests ------------------------------------------------------------------------------------

def test_apiserver_ready_at_pinned_version(control_plane):
    readyz = control_plane.kubectl("get", "--raw", "/readyz")
    assert readyz.returncode == 0, readyz.stderr
    assert readyz.stdout.strip() == "ok"

    version = kubectl_json(control_plane, "version")
    assert version["serverVersion"]["gitVersion"] == pinned_kubernetes_version()


def test_every_component_running(control_plane):
    names = [component.name for component in control_plane.components]
    assert names == ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"]
    for component in control_plane.components:
        assert component.running(), f"{component.name} is not running; {component.log_tail()}"


def test_components_listen_only_on_loopback(control_plane):
    for component in control_plane.components:
        for ip, port in listening_addresses(component.process.pid):
            assert ip.is_loopback, f"{component.name} listens on {ip}:{port}"

    apiserver = control_plane.component("kube-apiserver")
    assert (ipaddress.ip_address("127.0.0.1"), control_plane.apiserver_port) in \
        listening_addresses(apiserver.process.pid)


def test_kwok_nodes_ready(control_plane):
    nodes = kubectl_json(control_plane, "get", "nodes")["items"]
    assert sorted(node["metadata"]["name"] for node in nodes) == \
        [f"kwok-node-{index}" for index in range(NODES)]
    for node in nodes:
        name = node["metadata"]["name"]
        ready = condition(node, "Ready")
        assert ready is not None, f"node {name} has no Ready condition"
        assert ready["status"] == "True", f"node {name}: {ready}"
        assert not node["spec"].get("taints"), f"node {name} is tainted: {node['spec']['taints']}"
        internal = [address["address"] for address in node["status"]["addresses"]
                    if address["type"] == "InternalIP"]
        assert internal == [controlplane.NODE_IP], f"node {name} addresses: {internal}"


def test_pod_scheduled_and_running(control_plane, namespace):
    apply(control_plane, pod_manifest(namespace, "single"))
    wait_running(control_plane, namespace, ["single"])

    pod = kubectl_json(control_plane, "get", "pod", "single", "-n", namespace)
    assert pod["spec"]["nodeName"] in control_plane.node_names
    assert condition(pod, "PodScheduled")["status"] == "True"
    pod_ip = ipaddress.ip_address(pod["status"]["podIP"])
    assert pod_ip in ipaddress.ip_network(controlplane.POD_CIDR, strict=False)

    scheduled = pod_events(control_plane, namespace, "single", "Scheduled")
    assert scheduled, f"no Scheduled event; {describe(control_plane, namespace, 'single')}"
    assert event_reporter(scheduled[0]) == "default-scheduler"
    assert pod["spec"]["nodeName"] in scheduled[0]["message"]


def test_statefulset_anti_affinity_spreads(control_plane, namespace):
    apply(control_plane, spread_statefulset(namespace, "spread", replicas=3))
    names = [f"spread-{index}" for index in range(3)]
    wait_running(control_plane, namespace, names)

    nodes = [kubectl_json(control_plane, "get", "pod", name, "-n", namespace)["spec"]["nodeName"]
             for name in names]
    assert sorted(nodes) == sorted(control_plane.node_names), f"pods landed on {nodes}"


def test_fourth_replica_stays_pending(control_plane, namespace):
    apply(control_plane, spread_statefulset(namespace, "crowd", replicas=3))
    wait_running(control_plane, namespace, [f"crowd-{index}" for index in range(3)])

    scaled = control_plane.kubectl("scale", "statefulset", "crowd", "-n", namespace, "--replicas=4")
    assert scaled.returncode == 0, scaled.stderr
    failed = wait_for(lambda: pod_events(control_plane, namespace, "crowd-3", "FailedScheduling"),
                      timeout=POD_TIMEOUT_SECONDS, interval=0.5,
                      message="no FailedScheduling event for pod crowd-3")
    assert event_reporter(failed[0]) == "default-scheduler"
    assert f"0/{NODES} nodes are available" in failed[0]["message"]
    assert "anti-affinity" in failed[0]["message"]

    pod = kubectl_json(control_plane, "get", "pod", "crowd-3", "-n", namespace)
    assert pod["status"]["phase"] == "Pending"
    assert not pod["spec"].get("nodeName")
    scheduled = condition(pod, "PodScheduled")
    assert scheduled["status"] == "False"
    assert scheduled["reason"] == "Unschedulable"


def test_ready_node_with_lifecycle_taint_is_not_schedulable():
    # A CI run saw this node: kwok had marked it Ready, and kube-controller-manager had not yet
    # removed the taint it set while the node was new. The control plane was ready too early.
    node = controlplane.node_manifest("kwok-node-1")
    node["status"] = {"conditions": [{"type": "Ready", "status": "True"}]}
    assert controlplane.node_schedulable(node)

    node["spec"]["taints"] = [{"effect": "NoSchedule", "key": "node.kubernetes.io/not-ready"}]
    assert controlplane.node_ready(node)
    assert not controlplane.node_schedulable(node)

    del node["spec"]["taints"]
    node["status"]["conditions"][0]["status"] = "False"
    assert not controlplane.node_schedulable(node)


def test_failed_start_reports_log_and_stops(tmp_path, monkeypatch):
    # An invalid flag value makes kube-apiserver exit at start, after etcd is up.
    monkeypatch.setattr(controlplane, "SERVICE_CLUSTER_IP_RANGE", "not-a-cidr")
    instance = ControlPlane(tmp_path, nodes=1)
    message = start_error(instance)
    assert "kube-apiserver exited with code" in message
    assert "not-a-cidr" in message
    assert os.path.join(str(tmp_path), "kube-apiserver.log") in message

    started = [component.name for component in instance.components]
    assert started == ["etcd", "kube-apiserver"]
    for component in instance.components:
        assert component.exited(), f"{component.name} still runs after a failed start"


def test_failed_build_reports_compiler_error(tmp_path, monkeypatch):
    # A copy of the build module with a syntax error in etcd's main package. Go's caches stay
    # where they are, so the copy compiles in seconds; the binary cache goes to tmp_path.
    source = tmp_path / "controlplane"
    shutil.copytree(BUILD_DIR, source)
    (source / "cmd" / "etcd" / "main.go").write_text("package main\n\nfunc main() {\n")
    for name in ("GOCACHE", "GOMODCACHE"):
        monkeypatch.setenv(name, go_env(name))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(controlplane, "BUILD_SCRIPT", str(source / "build.sh"))

    instance = ControlPlane(tmp_path / "work", nodes=1)
    message = start_error(instance)
    assert "build.sh failed with exit code 1" in message
    assert "etcd failed" in message
    assert "cmd/etcd/main.go" in message
    assert instance.components == []
