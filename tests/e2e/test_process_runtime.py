"""End-to-end tests of `xblocks server --runtime process`: pods are real process groups.

The replicas run the Xinference test fixture (tests/fixtures/xinference_fixture.py), mapped to the
addon's image with --image-command, so a replica starts in well under a second. Each test reads
the kernel's view, not only the API's: the replica's pid, its cgroup limits in cgroupfs, its
listening address, and what is left after it stops. A Service's clusterIP leads to the Ready
replicas through the server's Service proxy.
"""

import http.client
import json
import os
import signal
import subprocess
import urllib.request

import pytest
import yaml

from conftest import TUTORIAL_CLUSTER, Server, parse_table, wait_for
from replicas import (KUBECTL, RUNNING_TIMEOUT, apply, cgroup_dirs, cgroup_limits, cluster_status, cmdline,
                      fixture_command, http_status, image_command_flag, kubectl_ok, pod, pods, ready, replica_pid,
                      wait_cluster, write_editor)


@pytest.fixture(scope="module")
def process_server(tmp_path_factory):
    instance = Server(tmp_path_factory.mktemp("xblocks-process"),
                      args=["--runtime", "process", "--image-command", image_command_flag()])
    try:
        instance.start()
        yield instance
    finally:
        instance.close()


_counter = [0]


@pytest.fixture
def ns(process_server, request):
    _counter[0] += 1
    name = f"proc-{_counter[0]}"
    process_server.create_namespace(name)
    yield name
    if process_server.running():
        process_server.delete_namespace(name)


# -- helpers ------------------------------------------------------------------------------------

def cluster_manifest(namespace, name="mycluster", replicas=1, cpu="1", memory="1Gi", version=None):
    manifest = yaml.safe_load(TUTORIAL_CLUSTER)
    manifest["metadata"].update({"name": name, "namespace": namespace})
    component = manifest["spec"]["componentSpecs"][0]
    component["replicas"] = replicas
    component["resources"] = {"limits": {"cpu": cpu, "memory": memory},
                              "requests": {"cpu": cpu, "memory": memory}}
    if version:
        manifest["spec"]["clusterVersionRef"] = version
    return manifest


@pytest.fixture
def cluster_version(process_server, ns):
    """Creates ClusterVersions for the Xinference definition with one image each; removes them and
    the test's cluster afterwards."""
    created = []

    def create(name, image, local_command=None):
        metadata = {"name": f"{name}-{ns}"}
        if local_command:
            metadata["annotations"] = {"xblocks.io/local-commands": json.dumps({image: local_command})}
        apply(process_server, {
            "apiVersion": "apps.kubeblocks.io/v1alpha1", "kind": "ClusterVersion", "metadata": metadata,
            "spec": {"clusterDefinitionRef": "xinference", "componentVersions": [
                {"componentDefRef": "xinference", "versionsContext": {"containers": [
                    {"name": "xinference", "image": image}]}}]}})
        created.append(metadata["name"])
        return metadata["name"]

    yield create
    process_server.kubectl(KUBECTL, "delete", "cluster", "mycluster", "-n", ns, "--ignore-not-found")
    for name in created:
        kubectl_ok(process_server, "delete", "clusterversion", name)


# -- tests --------------------------------------------------------------------------------------

def test_tutorial_cluster_runs_real_processes_with_limits(process_server, ns):
    apply(process_server, cluster_manifest(ns))
    wait_cluster(process_server, ns, "Running")
    [item] = pods(process_server, ns)
    assert item["metadata"]["name"] == "mycluster-xinference-0"
    uid = item["metadata"]["uid"]
    ip = item["status"]["podIP"]
    assert ip.startswith("127."), ip
    assert not ip.startswith("127.0."), ip

    pid = replica_pid(uid)
    assert pid is not None, f"no fixture process in the cgroup of pod {uid}"
    # The replica listens on its own address, as the addon's --host $(KB_POD_IP) requests.
    assert f"--host {ip} --port 9997" in cmdline(pid)
    assert http_status(ip) == 200
    assert cgroup_limits(uid) == (100000, 1 << 30)
    conditions = {c["type"]: c for c in item["status"]["conditions"]}
    assert conditions["xblocks.io/LimitsEnforced"]["status"] == "True", conditions
    # XINFERENCE_HOME points into the pod's data volume on the host.
    with open(f"/proc/{pid}/environ", "rb") as f:
        environ = dict(entry.split("=", 1) for entry in f.read().decode().split("\0") if "=" in entry)
    assert environ["XINFERENCE_HOME"].endswith(f"/pods/{uid}/volumes/data"), environ["XINFERENCE_HOME"]
    assert environ["KB_POD_IP"] == ip


def test_three_replicas_each_on_own_address(process_server, ns):
    apply(process_server, cluster_manifest(ns, replicas=1, cpu="100m", memory="256Mi"))
    wait_cluster(process_server, ns, "Running")
    kubectl_ok(process_server, "patch", "cluster", "mycluster", "-n", ns, "--type", "json",
               "-p", '[{"op":"replace","path":"/spec/componentSpecs/0/replicas","value":3}]')
    wait_for(lambda: len(pods(process_server, ns)) == 3 and all(map(ready, pods(process_server, ns))),
             timeout=RUNNING_TIMEOUT, message="3 replicas did not become ready")
    wait_cluster(process_server, ns, "Running")
    items = pods(process_server, ns)
    assert [p["metadata"]["name"] for p in items] == [f"mycluster-xinference-{i}" for i in range(3)]
    ips = {p["status"]["podIP"] for p in items}
    assert len(ips) == 3, ips
    for item in items:
        assert http_status(item["status"]["podIP"]) == 200
        assert cgroup_limits(item["metadata"]["uid"]) == (10000, 256 << 20)


def serving_address(ip, port=9997):
    """The pod IP of the replica that serves GET /v1/cluster/info at ip:port, or None while the
    connection fails or closes without a reply."""
    try:
        with urllib.request.urlopen(f"http://{ip}:{port}/v1/cluster/info", timeout=5) as response:
            return json.loads(response.read())[0]["ip_address"]
    except (OSError, http.client.HTTPException):
        return None


def test_service_cluster_ip_reaches_ready_replicas(process_server, ns):
    apply(process_server, cluster_manifest(ns, replicas=2, cpu="100m", memory="256Mi"))
    wait_cluster(process_server, ns, "Running")
    service = json.loads(kubectl_ok(process_server, "get", "service", "mycluster-xinference", "-n", ns,
                                    "-o", "json"))
    cluster_ip = service["spec"]["clusterIP"]
    assert cluster_ip.startswith("127.96."), service["spec"]
    pod_ips = {item["status"]["podIP"] for item in pods(process_server, ns)}

    # Connections take turns over both replicas.
    served = [wait_for(lambda: serving_address(cluster_ip), timeout=30,
                       message=f"nothing answered at {cluster_ip}:9997") for _ in range(4)]
    assert set(served) == pod_ips, served

    # A replica that is not Ready gets no connection: stop one with SIGSTOP so that its
    # readiness probe fails, then resume it.
    victim = pods(process_server, ns)[0]
    pid = replica_pid(victim["metadata"]["uid"])
    os.kill(pid, signal.SIGSTOP)
    try:
        wait_for(lambda: not ready(pod(process_server, ns, victim["metadata"]["name"])), timeout=RUNNING_TIMEOUT,
                 message="the stopped replica stayed Ready")
        served = [serving_address(cluster_ip) for _ in range(4)]
    finally:
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            pass  # the liveness probe restarted it meanwhile
    assert served == [pod_ips.difference({victim["status"]["podIP"]}).pop()] * 4, served

    # Stopped: nothing serves, but the address stays for the Start.
    kubectl_ok(process_server, "patch", "cluster", "mycluster", "-n", ns, "--type", "json",
               "-p", '[{"op":"replace","path":"/spec/componentSpecs/0/replicas","value":0}]')
    wait_cluster(process_server, ns, "Stopped")
    assert serving_address(cluster_ip) is None
    kubectl_ok(process_server, "patch", "cluster", "mycluster", "-n", ns, "--type", "json",
               "-p", '[{"op":"replace","path":"/spec/componentSpecs/0/replicas","value":1}]')
    wait_cluster(process_server, ns, "Running")
    new_ip = pods(process_server, ns)[0]["status"]["podIP"]
    assert wait_for(lambda: serving_address(cluster_ip), timeout=30,
                    message="the Service did not reach the started replica") == new_ip


def test_killed_replica_restarts_and_counts(process_server, ns):
    apply(process_server, cluster_manifest(ns, cpu="100m", memory="256Mi"))
    wait_cluster(process_server, ns, "Running")
    uid = pods(process_server, ns)[0]["metadata"]["uid"]
    first = replica_pid(uid)
    os.kill(first, signal.SIGKILL)

    def restarted():
        _, rows = parse_table(kubectl_ok(process_server, "get", "pods", "-n", ns))
        return rows[0]["RESTARTS"].startswith("1") and rows[0]["READY"] == "1/1"

    # kubelet's back-off waits 10 s before the first restart.
    wait_for(restarted, timeout=60, message="the killed replica was not restarted")
    item = pods(process_server, ns)[0]
    assert item["metadata"]["uid"] == uid, "a restart keeps the pod"
    status = item["status"]["containerStatuses"][0]
    assert status["restartCount"] == 1
    assert status["lastState"]["terminated"]["exitCode"] == 137
    assert status["lastState"]["terminated"]["reason"] == "Error"
    second = replica_pid(uid)
    assert second is not None and second != first
    previous = kubectl_ok(process_server, "logs", "mycluster-xinference-0", "-n", ns, "--previous")
    assert "xinference test fixture" in previous, previous
    events = kubectl_ok(process_server, "get", "events", "-n", ns)
    assert "BackOff" in events, events


def test_memory_hog_is_oom_killed(process_server, ns, cluster_version):
    version = cluster_version("hog", f"example.com/hog:{ns}", fixture_command("env", "XB_FIXTURE_ALLOCATE_MB=512"))
    apply(process_server, cluster_manifest(ns, cpu="500m", memory="128Mi", version=version))

    def oom_killed():
        items = pods(process_server, ns)
        if not items or not items[0]["status"].get("containerStatuses"):
            return False
        status = items[0]["status"]["containerStatuses"][0]
        terminated = status.get("lastState", {}).get("terminated") or status["state"].get("terminated") or {}
        return terminated.get("reason") == "OOMKilled"

    wait_for(oom_killed, timeout=60, message="the replica over its memory limit was not OOMKilled")
    status = pods(process_server, ns)[0]["status"]["containerStatuses"][0]
    terminated = status.get("lastState", {}).get("terminated") or status["state"]["terminated"]
    assert terminated["exitCode"] == 137, terminated
    assert cluster_status(process_server, ns) != "Running"


def test_patch_resources_rolls_highest_ordinal_first(process_server, ns):
    apply(process_server, cluster_manifest(ns, replicas=3, cpu="100m", memory="256Mi"))
    wait_cluster(process_server, ns, "Running")
    before = {p["metadata"]["name"]: p["metadata"]["uid"] for p in pods(process_server, ns)}
    kubectl_ok(process_server, "patch", "cluster", "mycluster", "-n", ns, "--type", "merge", "-p",
               json.dumps({"spec": {"componentSpecs": [
                   {"name": "xinference", "componentDefRef": "xinference", "replicas": 3,
                    "serviceAccountName": "kb-xinference-cluster",
                    "resources": {"limits": {"cpu": "200m", "memory": "300Mi"},
                                  "requests": {"cpu": "200m", "memory": "300Mi"}}}]}}))

    def rolled():
        items = pods(process_server, ns)
        return (len(items) == 3 and all(map(ready, items)) and
                all(p["metadata"]["uid"] != before[p["metadata"]["name"]] for p in items))

    wait_for(rolled, timeout=RUNNING_TIMEOUT, message="the pods were not all recreated")
    wait_cluster(process_server, ns, "Running")
    items = pods(process_server, ns)
    created = sorted(items, key=lambda p: p["metadata"]["creationTimestamp"])
    # One at a time from the highest ordinal: creation times run 2, 1, 0.
    order = [p["metadata"]["name"][-1] for p in created]
    stamps = [p["metadata"]["creationTimestamp"] for p in created]
    assert order == ["2", "1", "0"] or len(set(stamps)) < 3, order
    for item in items:
        assert cgroup_limits(item["metadata"]["uid"]) == (20000, 300 << 20)
        assert item["spec"]["containers"][0]["resources"]["limits"] == {"cpu": "200m", "memory": "300Mi"}
    events = kubectl_ok(process_server, "get", "events", "-n", ns, "--sort-by", ".lastTimestamp")
    assert "Killing" in events, events


def test_edit_resources_applies_new_limits(process_server, ns, tmp_path):
    apply(process_server, cluster_manifest(ns, cpu="100m", memory="256Mi"))
    wait_cluster(process_server, ns, "Running")
    old_uid = pods(process_server, ns)[0]["metadata"]["uid"]
    editor = write_editor(tmp_path, "s/memory: 256Mi/memory: 320Mi/g")
    result = process_server.kubectl(KUBECTL, "edit", "cluster", "mycluster", "-n", ns,
                                    env={"EDITOR": editor, "KUBE_EDITOR": editor})
    assert result.returncode == 0, result.stderr

    def replaced():
        items = pods(process_server, ns)
        return len(items) == 1 and items[0]["metadata"]["uid"] != old_uid and ready(items[0])

    wait_for(replaced, timeout=RUNNING_TIMEOUT, message="the pod was not recreated after the edit")
    wait_cluster(process_server, ns, "Running")
    uid = pods(process_server, ns)[0]["metadata"]["uid"]
    assert cgroup_limits(uid) == (10000, 320 << 20)
    assert not os.path.exists(cgroup_dirs(old_uid)["memory"]), "the old pod's cgroup is removed"


def test_replicas_zero_stops_and_restores_same_names(process_server, ns):
    apply(process_server, cluster_manifest(ns, replicas=2, cpu="100m", memory="256Mi"))
    wait_cluster(process_server, ns, "Running")
    uids = [p["metadata"]["uid"] for p in pods(process_server, ns)]
    pids = [replica_pid(uid) for uid in uids]
    kubectl_ok(process_server, "patch", "cluster", "mycluster", "-n", ns, "--type", "json",
               "-p", '[{"op":"replace","path":"/spec/componentSpecs/0/replicas","value":0}]')
    wait_cluster(process_server, ns, "Stopped")
    assert pods(process_server, ns) == []
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}"), f"replica process {pid} still runs after Stop"
    for uid in uids:
        assert not os.path.exists(cgroup_dirs(uid)["memory"])

    kubectl_ok(process_server, "patch", "cluster", "mycluster", "-n", ns, "--type", "json",
               "-p", '[{"op":"replace","path":"/spec/componentSpecs/0/replicas","value":2}]')
    wait_cluster(process_server, ns, "Running")
    items = pods(process_server, ns)
    assert [p["metadata"]["name"] for p in items] == ["mycluster-xinference-0", "mycluster-xinference-1"]
    for item in items:
        assert item["metadata"]["uid"] not in uids
        assert replica_pid(item["metadata"]["uid"]) is not None


def test_logs_and_follow(process_server, ns):
    apply(process_server, cluster_manifest(ns, cpu="100m", memory="256Mi"))
    wait_cluster(process_server, ns, "Running")
    logs = kubectl_ok(process_server, "logs", "mycluster-xinference-0", "-n", ns)
    assert "xinference test fixture" in logs, logs
    tail = kubectl_ok(process_server, "logs", "mycluster-xinference-0", "-n", ns, "--tail", "1")
    assert len(tail.strip().splitlines()) == 1, tail
    # -f streams until the container stops; deleting the pod ends it.
    follow = subprocess.Popen(process_server.kubectl_command(KUBECTL, "logs", "-f", "mycluster-xinference-0",
                                                             "-n", ns),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        kubectl_ok(process_server, "delete", "pod", "mycluster-xinference-0", "-n", ns)
        out, err = follow.communicate(timeout=60)
    finally:
        if follow.poll() is None:
            follow.kill()
    assert follow.returncode == 0, err
    assert "xinference test fixture" in out
    result = process_server.kubectl(KUBECTL, "logs", "mycluster-xinference-0", "-n", ns, "--previous")
    assert result.returncode != 0 or "xinference" in result.stdout


def test_image_without_local_command_waits_with_reason(process_server, ns, cluster_version):
    version = cluster_version("unmapped", "example.com/unmapped:1")
    apply(process_server, cluster_manifest(ns, cpu="100m", memory="256Mi", version=version))

    def waiting():
        items = pods(process_server, ns)
        statuses = items[0]["status"].get("containerStatuses", []) if items else []
        return statuses and statuses[0]["state"].get("waiting", {}).get("reason") == "LocalCommandNotFound"

    wait_for(waiting, timeout=30, message="the pod is not Waiting with LocalCommandNotFound")
    message = pods(process_server, ns)[0]["status"]["containerStatuses"][0]["state"]["waiting"]["message"]
    assert "--image-command example.com/unmapped:1=PROGRAM" in message, message
    assert "xblocks.io/local-commands" in message, message
    _, rows = parse_table(kubectl_ok(process_server, "get", "pods", "-n", ns))
    assert rows[0]["STATUS"] == "LocalCommandNotFound", rows

    # Regression: mapping the image afterwards did not start the waiting pod until it was deleted.
    uid = pods(process_server, ns)[0]["metadata"]["uid"]
    mapping = json.dumps({"example.com/unmapped:1": fixture_command()})
    kubectl_ok(process_server, "annotate", "--overwrite", "clusterversion", version,
               f"xblocks.io/local-commands={mapping}")
    wait_for(lambda: ready(pods(process_server, ns)[0]), timeout=RUNNING_TIMEOUT,
             message="the pod did not start after its image was mapped")
    assert pods(process_server, ns)[0]["metadata"]["uid"] == uid


def test_deleting_cluster_stops_processes_and_cleans_up(process_server, ns):
    apply(process_server, cluster_manifest(ns, replicas=2, cpu="100m", memory="256Mi"))
    wait_cluster(process_server, ns, "Running")
    uids = [p["metadata"]["uid"] for p in pods(process_server, ns)]
    pids = [replica_pid(uid) for uid in uids]
    kubectl_ok(process_server, "delete", "cluster", "mycluster", "-n", ns)
    assert pods(process_server, ns) == []
    for pid in pids:
        wait_for(lambda: not os.path.exists(f"/proc/{pid}"), timeout=10,
                 message=f"replica process {pid} outlived its pod")
    for uid in uids:
        assert not os.path.exists(cgroup_dirs(uid)["memory"])
        assert not os.path.exists(os.path.join(process_server.data_dir, "pods", uid))


def test_server_stop_stops_replicas_and_restart_runs_them_again(tmp_path):
    server = Server(tmp_path, args=["--image-command", image_command_flag()])
    try:
        server.start()
        server.create_namespace("demo")
        apply(server, cluster_manifest("demo", cpu="100m", memory="256Mi"))
        wait_cluster(server, "demo", "Running")
        uid = pods(server, "demo")[0]["metadata"]["uid"]
        pid = replica_pid(uid)
        server.stop()
        assert not os.path.exists(f"/proc/{pid}"), "the replica outlived the server"
        assert not os.path.exists(cgroup_dirs(uid)["memory"]), "the server left its cgroup behind"

        server.start()
        wait_for(lambda: replica_pid(uid) not in (None, pid), timeout=RUNNING_TIMEOUT,
                 message="the pod's replica did not start again after the server restart")
        wait_cluster(server, "demo", "Running")
        assert pods(server, "demo")[0]["metadata"]["uid"] == uid
    finally:
        server.close()


def test_probes_drive_ready_and_liveness_restarts(process_server, ns, cluster_version):
    image = f"example.com/probed:{ns}"
    cluster_version("probed", image, fixture_command())
    manifest = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "probed", "namespace": ns},
        "spec": {"terminationGracePeriodSeconds": 5, "containers": [{
            "name": "main", "image": image,
            "command": ["server", "--host", "$(POD_IP)", "--port", "9997"],
            "env": [{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
            "ports": [{"name": "http", "containerPort": 9997}],
            "readinessProbe": {"tcpSocket": {"port": "http"}, "periodSeconds": 1},
            "livenessProbe": {"exec": {"command": ["test", "-e", "/nonexistent-marker"]},
                              "initialDelaySeconds": 3, "periodSeconds": 1, "failureThreshold": 2},
        }]}}
    apply(process_server, manifest)
    wait_for(lambda: ready(pod(process_server, ns, "probed")), timeout=RUNNING_TIMEOUT,
             message="the tcpSocket readiness probe did not make the pod Ready")

    def restarted_by_liveness():
        statuses = pod(process_server, ns, "probed")["status"].get("containerStatuses", [])
        return statuses and statuses[0]["restartCount"] >= 1

    wait_for(restarted_by_liveness, timeout=RUNNING_TIMEOUT, message="the failing liveness probe did not restart")
    events = kubectl_ok(process_server, "get", "events", "-n", ns, "--field-selector", "involvedObject.name=probed")
    assert "Liveness probe failed" in events, events
    assert "failed liveness probe, will be restarted" in events, events
    kubectl_ok(process_server, "delete", "pod", "probed", "-n", ns)


def test_pvc_volume_outlives_pod_until_claim_deleted(process_server, ns, cluster_version):
    image = f"example.com/stateful:{ns}"
    cluster_version("stateful", image, fixture_command())
    apply(process_server, {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                           "metadata": {"name": "state", "namespace": ns},
                           "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
    manifest = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "stateful", "namespace": ns},
        "spec": {"volumes": [{"name": "home", "persistentVolumeClaim": {"claimName": "state"}}],
                 "containers": [{"name": "main", "image": image,
                                 "command": ["server", "--host", "$(POD_IP)"],
                                 "env": [{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                                         {"name": "XINFERENCE_HOME", "value": "/state/xinference"}],
                                 "volumeMounts": [{"name": "home", "mountPath": "/state"}]}]}}
    apply(process_server, manifest)
    wait_for(lambda: ready(pod(process_server, ns, "stateful")), timeout=RUNNING_TIMEOUT,
             message="the pod with a PVC did not become Ready")
    claim_dir = os.path.join(process_server.data_dir, "volumes", ns, "state")
    # The fixture writes its log under XINFERENCE_HOME, which points into the claim's directory.
    wait_for(lambda: os.path.isdir(os.path.join(claim_dir, "xinference", "logs")), timeout=30,
             message="the replica wrote nothing into its claim's directory")

    kubectl_ok(process_server, "delete", "pod", "stateful", "-n", ns)
    assert os.path.isdir(os.path.join(claim_dir, "xinference", "logs")), "the claim's data went with the pod"
    kubectl_ok(process_server, "delete", "pvc", "state", "-n", ns)
    wait_for(lambda: not os.path.exists(claim_dir), timeout=30,
             message="the deleted claim's directory is still there")


def test_second_server_leaves_first_servers_replicas_alone(process_server, ns, tmp_path):
    """Regression: every server cleaned up one shared cgroup subtree at start, killing the
    replicas of any other server on the machine."""
    apply(process_server, cluster_manifest(ns, cpu="100m", memory="256Mi"))
    wait_cluster(process_server, ns, "Running")
    uid = pods(process_server, ns)[0]["metadata"]["uid"]
    pid = replica_pid(uid)
    other = Server(tmp_path, args=["--image-command", image_command_flag()])
    try:
        other.start()
        other.stop()
    finally:
        other.close()
    assert os.path.exists(f"/proc/{pid}"), "starting and stopping another server killed this replica"
    assert replica_pid(uid) == pid
