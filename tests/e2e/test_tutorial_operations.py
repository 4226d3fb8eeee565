"""The Xinference tutorial end to end, in order, with its own manifests and names, against the
embedded server in process mode, with kubectl 1.27 and 1.33: create, vertical scaling by
OpsRequest and by editing the cluster, stop and start both ways, restart, deletion. Each step
checks what the tutorial shows and what the kernel shows (cgroup limits, processes).

Also the operations that must fail, each with a clear condition and the cluster left as it was.
"""

import json
import os
import subprocess
import textwrap

import pytest
import yaml

from conftest import KUBECTL_DIR, KUBECTL_VERSIONS, TUTORIAL_CLUSTER, Server, parse_table, wait_for
from replicas import (RUNNING_TIMEOUT, cgroup_limits, cluster_status, image_command_flag, kubectl_ok, pods,
                      replica_pid, wait_cluster)

# The tutorial's manifests, verbatim.
VERTICAL_SCALING_OPS = textwrap.dedent("""\
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
    """)

# The edit-the-YAML way: the user's cluster file with `spec.componentSpecs.resources` changed as
# the tutorial shows. Its snippet omits the rest of the file, such as the required
# terminationPolicy, which the user's file still has.
def _edited_cluster():
    cluster = yaml.safe_load(TUTORIAL_CLUSTER)
    cluster["spec"]["componentSpecs"][0]["resources"] = {"requests": {"memory": "2Gi", "cpu": "2"},
                                                         "limits": {"memory": "4Gi", "cpu": "2"}}
    return yaml.safe_dump(cluster)


VERTICAL_SCALING_EDIT = _edited_cluster()


STOP_OPS = textwrap.dedent("""\
    apiVersion: apps.kubeblocks.io/v1alpha1
    kind: OpsRequest
    metadata:
      name: mycluster-stop
      namespace: demo
    spec:
      clusterName: mycluster
      type: Stop
    """)

START_OPS = textwrap.dedent("""\
    apiVersion: apps.kubeblocks.io/v1alpha1
    kind: OpsRequest
    metadata:
      name: mycluster-start
      namespace: demo
    spec:
      clusterName: mycluster
      type: Start
    """)


def replicas_edit(replicas):
    return textwrap.dedent(f"""\
        apiVersion: apps.kubeblocks.io/v1alpha1
        kind: Cluster
        metadata:
            name: mycluster
            namespace: demo
        spec:
          clusterDefinitionRef: xinference
          clusterVersionRef: xinference-0.11.0-cpu
          terminationPolicy: Delete
          componentSpecs:
          - name: xinference
            componentDefRef: xinference
            disableExporter: true
            replicas: {replicas}
        """)


RESTART_OPS = textwrap.dedent("""\
    apiVersion: apps.kubeblocks.io/v1alpha1
    kind: OpsRequest
    metadata:
      name: mycluster-restart
      namespace: demo
    spec:
      clusterName: mycluster
      type: Restart 
      restart:
      - componentName: xinference
    """)


@pytest.fixture(params=KUBECTL_VERSIONS, ids=[f"kubectl-{v}" for v in KUBECTL_VERSIONS])
def tutorial(request, tmp_path):
    server = Server(tmp_path, args=["--image-command", image_command_flag()])
    try:
        server.start()
        yield server, request.param
    finally:
        server.close()


def ops_row(server, version, name):
    header, rows = parse_table(kubectl_ok(server, "get", "ops", "-n", "demo", version=version))
    assert header == ["NAME", "TYPE", "CLUSTER", "STATUS", "PROGRESS", "AGE"], header
    return next(row for row in rows if row["NAME"] == name)


def wait_ops(server, version, name, status="Succeed", timeout=RUNNING_TIMEOUT):
    wait_for(lambda: ops_row(server, version, name)["STATUS"] in (status, "Failed", "Aborted", "Cancelled"),
             timeout=timeout, message=f"ops {name} did not finish")
    row = ops_row(server, version, name)
    assert row["STATUS"] == status, kubectl_ok(server, "describe", "ops", name, "-n", "demo", version=version)
    return row


def test_tutorial_walkthrough(tutorial):
    server, version = tutorial
    walk_tutorial(server, version, processes=True)


def walk_tutorial(server, version, processes):
    """Run every command of the tutorial in order against `server`, anything with the
    `kubectl(version, *args, input=...)` of conftest.Server. With `processes`, also check what
    the kernel shows of each replica (cgroup limits, process lifetime); without, the pods are
    simulated, as kwok runs them."""
    # 开始之前
    header, rows = parse_table(kubectl_ok(server, "get", "clusterdefinition", "xinference", version=version))
    assert header == ["NAME", "TOPOLOGIES", "SERVICEREFS", "STATUS", "AGE"]
    wait_for(lambda: parse_table(kubectl_ok(server, "get", "clusterdefinition", "xinference",
                                            version=version))[1][0]["STATUS"] == "Available", timeout=10)
    versions = kubectl_ok(server, "get", "clusterversions", "-l", "clusterdefinition.kubeblocks.io/name=xinference",
                          version=version)
    assert "xinference-0.11.0-cpu" in versions, versions
    assert kubectl_ok(server, "create", "namespace", "demo", version=version).strip() == "namespace/demo created"

    # 创建集群
    created = kubectl_ok(server, "apply", "-f", "-", input=TUTORIAL_CLUSTER, version=version)
    assert created.strip() == "cluster.apps.kubeblocks.io/mycluster created"
    wait_cluster(server, "demo", "Running")
    everything = kubectl_ok(server, "get", "all,secret,rolebinding,serviceaccount", "-l",
                            "app.kubernetes.io/instance=mycluster", "-n", "demo", version=version)
    for name in ("pod/mycluster-xinference-0", "service/mycluster-xinference", "secret/mycluster-conn-credential",
                 "rolebinding.rbac.authorization.k8s.io/kb-xinference-cluster", "serviceaccount/kb-xinference-cluster"):
        assert name in everything, everything
    cluster = yaml.safe_load(kubectl_ok(server, "get", "cluster", "mycluster", "-n", "demo", "-o", "yaml",
                                        version=version))
    assert cluster["status"]["phase"] == "Running"
    first = pods(server, "demo")[0]
    if processes:
        assert cgroup_limits(first["metadata"]["uid"]) == (100000, 1 << 30)

    # 垂直扩缩容: OpsRequest
    assert cluster_status(server, "demo") == "Running"
    out = kubectl_ok(server, "apply", "-f", "-", input=VERTICAL_SCALING_OPS, version=version)
    assert out.strip() == "opsrequest.apps.kubeblocks.io/mycluster-vertical-scaling created"
    row = wait_ops(server, version, "mycluster-vertical-scaling")
    assert (row["TYPE"], row["CLUSTER"], row["PROGRESS"]) == ("VerticalScaling", "mycluster", "1/1")
    wait_cluster(server, "demo", "Running")
    scaled = pods(server, "demo")[0]
    assert scaled["metadata"]["uid"] != first["metadata"]["uid"]
    assert scaled["spec"]["containers"][0]["resources"]["limits"] == {"cpu": "2", "memory": "4Gi"}
    if processes:
        assert cgroup_limits(scaled["metadata"]["uid"]) == (200000, 4 << 30)
    described = kubectl_ok(server, "describe", "ops", "-n", "demo", version=version)
    assert "OpsRequestProcessedSuccessfully" in described, described
    assert "mycluster" in kubectl_ok(server, "describe", "cluster", "mycluster", "-n", "demo", version=version)

    # 垂直扩缩容: editing the cluster YAML
    kubectl_ok(server, "apply", "-f", "-", input=VERTICAL_SCALING_EDIT, version=version)
    wait_cluster(server, "demo", "Running")
    wait_for(lambda: len(pods(server, "demo")) == 1 and
             pods(server, "demo")[0]["spec"]["containers"][0]["resources"]["limits"] == {"cpu": "2", "memory": "4Gi"},
             timeout=RUNNING_TIMEOUT)
    if processes:
        assert cgroup_limits(pods(server, "demo")[0]["metadata"]["uid"]) == (200000, 4 << 30)

    # 停止集群: OpsRequest
    pid = replica_pid(pods(server, "demo")[0]["metadata"]["uid"]) if processes else None
    kubectl_ok(server, "apply", "-f", "-", input=STOP_OPS, version=version)
    row = wait_ops(server, version, "mycluster-stop")
    assert (row["TYPE"], row["PROGRESS"]) == ("Stop", "1/1")
    assert cluster_status(server, "demo") == "Stopped"
    assert pods(server, "demo") == []
    if processes:
        wait_for(lambda: not os.path.exists(f"/proc/{pid}"), timeout=10, message="the replica outlived Stop")

    # 启动集群: OpsRequest
    kubectl_ok(server, "apply", "-f", "-", input=START_OPS, version=version)
    row = wait_ops(server, version, "mycluster-start")
    assert (row["TYPE"], row["PROGRESS"]) == ("Start", "1/1")
    wait_cluster(server, "demo", "Running")
    assert [p["metadata"]["name"] for p in pods(server, "demo")] == ["mycluster-xinference-0"]

    # 停止集群 and 启动集群: editing the cluster YAML
    kubectl_ok(server, "apply", "-f", "-", input=replicas_edit(0), version=version)
    wait_cluster(server, "demo", "Stopped")
    assert pods(server, "demo") == []
    kubectl_ok(server, "apply", "-f", "-", input=replicas_edit(1), version=version)
    wait_cluster(server, "demo", "Running")
    assert [p["metadata"]["name"] for p in pods(server, "demo")] == ["mycluster-xinference-0"]

    # 重启集群
    before = pods(server, "demo")[0]["metadata"]["uid"]
    kubectl_ok(server, "apply", "-f", "-", input=RESTART_OPS, version=version)
    row = wait_ops(server, version, "mycluster-restart")
    assert (row["TYPE"], row["PROGRESS"]) == ("Restart", "1/1")
    restarted = pods(server, "demo")[0]
    assert restarted["metadata"]["uid"] != before
    ops = json.loads(kubectl_ok(server, "get", "ops", "mycluster-restart", "-n", "demo", "-o", "json",
                                version=version))
    assert restarted["metadata"]["creationTimestamp"] >= ops["status"]["startTimestamp"]
    header, rows = parse_table(kubectl_ok(server, "get", "pod", "-n", "demo", version=version))
    assert rows[0]["STATUS"] == "Running", rows

    # Deletion under the Delete policy removes everything the cluster created, operations too.
    kubectl_ok(server, "delete", "cluster", "mycluster", "-n", "demo", version=version)
    leftovers = server.kubectl(version, "get", "all,secret,rolebinding,serviceaccount,ops", "-l",
                               "app.kubernetes.io/instance=mycluster", "-n", "demo")
    assert "No resources found" in leftovers.stderr, leftovers.stdout


# -- operations that must fail ------------------------------------------------------------------

@pytest.fixture(scope="module")
def ops_server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("xblocks-ops"), args=["--image-command", image_command_flag()])
    try:
        server.start()
        yield server
    finally:
        server.close()


_counter = [0]


@pytest.fixture
def running(ops_server):
    """A namespace with the tutorial cluster (0.1 CPU) Running in it."""
    _counter[0] += 1
    namespace = f"ops-{_counter[0]}"
    ops_server.create_namespace(namespace)
    manifest = yaml.safe_load(TUTORIAL_CLUSTER)
    manifest["metadata"]["namespace"] = namespace
    manifest["spec"]["componentSpecs"][0]["resources"] = {"limits": {"cpu": "100m", "memory": "256Mi"},
                                                          "requests": {"cpu": "100m", "memory": "256Mi"}}
    kubectl_ok(ops_server, "apply", "-f", "-", input=yaml.safe_dump(manifest))
    wait_cluster(ops_server, namespace, "Running")
    yield namespace
    ops_server.delete_namespace(namespace)


def create_ops(server, namespace, name, spec):
    body = {"apiVersion": "apps.kubeblocks.io/v1alpha1", "kind": "OpsRequest",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}
    return server.kubectl("1.33", "apply", "-f", "-", input=yaml.safe_dump(body))


def get_ops(server, namespace, name):
    return json.loads(kubectl_ok(server, "get", "ops", name, "-n", namespace, "-o", "json"))


def wait_failed(server, namespace, name):
    wait_for(lambda: get_ops(server, namespace, name).get("status", {}).get("phase") == "Failed", timeout=30,
             message=f"ops {name} did not fail")
    conditions = {c["type"]: c for c in get_ops(server, namespace, name)["status"]["conditions"]}
    return conditions["Validated"]


def cluster_spec(server, namespace):
    return json.loads(kubectl_ok(server, "get", "cluster", "mycluster", "-n", namespace, "-o", "json"))["spec"]


def test_ops_for_missing_cluster_fails(ops_server, running):
    assert create_ops(ops_server, running, "ghost", {"clusterName": "nope", "type": "Restart",
                                                     "restart": [{"componentName": "xinference"}]}).returncode == 0
    validated = wait_failed(ops_server, running, "ghost")
    assert validated["status"] == "False" and validated["reason"] == "ClusterNotFound", validated
    assert 'Cluster "nope" is not found' in validated["message"], validated


def test_ops_unknown_component_fails_and_keeps_cluster(ops_server, running):
    before = cluster_spec(ops_server, running)
    create_ops(ops_server, running, "unknown", {"clusterName": "mycluster", "type": "VerticalScaling",
                                                "verticalScaling": [{"componentName": "nope",
                                                                     "requests": {"cpu": "200m"}}]})
    validated = wait_failed(ops_server, running, "unknown")
    assert validated["reason"] == "ValidateFailed", validated
    assert "components: [nope] not found" in validated["message"], validated
    assert cluster_spec(ops_server, running) == before
    assert cluster_status(ops_server, running) == "Running"


@pytest.mark.parametrize("resources,expected", [
    ({"requests": {"cpu": "-1"}}, "must be greater than or equal to 0"),
    ({"requests": {"cpu": "300m"}, "limits": {"cpu": "200m"}}, "must be less than or equal to cpu limit"),
    ({"requests": {"memory": "644245094400m"}, "limits": {"memory": "1Gi"}}, "whole number of bytes"),
], ids=["negative", "request-above-limit", "fractional-bytes"])
def test_ops_bad_resources_fail_and_keep_cluster(ops_server, running, resources, expected):
    before = cluster_spec(ops_server, running)
    entry = {"componentName": "xinference", **resources}
    create_ops(ops_server, running, "badres", {"clusterName": "mycluster", "type": "VerticalScaling",
                                               "verticalScaling": [entry]})
    validated = wait_failed(ops_server, running, "badres")
    assert expected in validated["message"], validated
    assert cluster_spec(ops_server, running) == before


def test_ops_unparsable_quantity_rejected_at_admission(ops_server, running):
    result = create_ops(ops_server, running, "garbage", {"clusterName": "mycluster", "type": "VerticalScaling",
                                                         "verticalScaling": [{"componentName": "xinference",
                                                                              "requests": {"cpu": "lots"}}]})
    if result.returncode != 0:
        assert "verticalScaling" in result.stderr, result.stderr
        return
    validated = wait_failed(ops_server, running, "garbage")
    assert 'invalid value for "lots"' in validated["message"], validated


def test_ops_scale_in_below_zero_fails(ops_server, running):
    before = cluster_spec(ops_server, running)
    create_ops(ops_server, running, "below", {"clusterName": "mycluster", "type": "HorizontalScaling",
                                              "horizontalScaling": [{"componentName": "xinference",
                                                                     "scaleIn": {"replicaChanges": 2}}]})
    validated = wait_failed(ops_server, running, "below")
    assert validated["message"] == '"scaleIn.replicaChanges" can\'t be greater than 1 for component "xinference"'
    assert cluster_spec(ops_server, running) == before


def test_ops_on_stopped_cluster_fails_except_start(ops_server, running):
    kubectl_ok(ops_server, "patch", "cluster", "mycluster", "-n", running, "--type", "json",
               "-p", '[{"op":"add","path":"/spec/componentSpecs/0/stop","value":true}]')
    wait_cluster(ops_server, running, "Stopped")
    create_ops(ops_server, running, "restart-stopped", {"clusterName": "mycluster", "type": "Restart",
                                                        "restart": [{"componentName": "xinference"}]})
    validated = wait_failed(ops_server, running, "restart-stopped")
    assert validated["message"] == "OpsRequest.spec.type=Restart is forbidden when Cluster.status.phase=Stopped"
    create_ops(ops_server, running, "start-stopped", {"clusterName": "mycluster", "type": "Start"})
    wait_for(lambda: get_ops(ops_server, running, "start-stopped").get("status", {}).get("phase") == "Succeed",
             timeout=RUNNING_TIMEOUT, message="Start on a stopped cluster did not succeed")
    wait_cluster(ops_server, running, "Running")


def test_cancel_of_restart_is_rejected(ops_server, running):
    result = create_ops(ops_server, running, "cancel-restart", {"clusterName": "mycluster", "type": "Restart",
                                                                "cancel": True,
                                                                "restart": [{"componentName": "xinference"}]})
    assert result.returncode != 0, result.stdout
    assert "forbidden to cancel the opsRequest which type not in ['VerticalScaling','HorizontalScaling']" in \
        result.stderr, result.stderr


def test_queued_ops_waits_and_runs_after(ops_server, running):
    create_ops(ops_server, running, "first", {"clusterName": "mycluster", "type": "Restart",
                                              "restart": [{"componentName": "xinference"}]})
    create_ops(ops_server, running, "second", {"clusterName": "mycluster", "type": "Restart",
                                               "restart": [{"componentName": "xinference"}]})

    def second_waits():
        cluster = json.loads(kubectl_ok(ops_server, "get", "cluster", "mycluster", "-n", running, "-o", "json"))
        queue = json.loads(cluster["metadata"].get("annotations", {}).get("kubeblocks.io/ops-request", "[]"))
        return any(entry["name"] == "second" and entry.get("inQueue") for entry in queue)

    wait_for(second_waits, timeout=10, message="the second operation was not queued behind the first")
    assert get_ops(ops_server, running, "second")["status"]["phase"] == "Pending"
    for name in ("first", "second"):
        wait_for(lambda: get_ops(ops_server, running, name).get("status", {}).get("phase") == "Succeed",
                 timeout=RUNNING_TIMEOUT, message=f"{name} did not succeed")
    first = get_ops(ops_server, running, "first")["status"]
    second = get_ops(ops_server, running, "second")["status"]
    assert second["startTimestamp"] >= first["completionTimestamp"]
    cluster = json.loads(kubectl_ok(ops_server, "get", "cluster", "mycluster", "-n", running, "-o", "json"))
    assert "kubeblocks.io/ops-request" not in cluster["metadata"].get("annotations", {})


def test_demo_script_walks_the_tutorial(tmp_path):
    """scripts/demo.sh, the README's one-command walkthrough, runs to the end."""
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    env = dict(os.environ, KUBECTL=os.path.join(KUBECTL_DIR, "kubectl.1.33"), TMPDIR=str(tmp_path))
    result = subprocess.run([os.path.join(root, "scripts", "demo.sh")], capture_output=True, text=True, env=env,
                            timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "replicas run the test fixture" in out or "replicas run the real xinference-local" in out
    assert "mycluster-vertical-scaling   VerticalScaling   mycluster   Succeed   1/1" in out, out
    assert "mycluster-restart   Restart   mycluster   Succeed   1/1" in out, out
    assert out.rstrip().endswith("== demo finished"), out[-2000:]


def test_vertical_scaling_three_replicas_reports_3_of_3(tmp_path):
    """The tutorial's VerticalScaling with three replicas, one per node, as its output shows 3/3."""
    server = Server(tmp_path, args=["--image-command", image_command_flag(), "--nodes", "3"])
    try:
        server.start()
        kubectl_ok(server, "create", "namespace", "demo")
        manifest = yaml.safe_load(TUTORIAL_CLUSTER)
        manifest["spec"]["componentSpecs"][0]["replicas"] = 3
        kubectl_ok(server, "apply", "-f", "-", input=yaml.safe_dump(manifest))
        wait_cluster(server, "demo", "Running")
        before = {p["metadata"]["name"]: p["metadata"]["uid"] for p in pods(server, "demo")}
        kubectl_ok(server, "apply", "-f", "-", input=VERTICAL_SCALING_OPS)
        row = wait_ops(server, "1.33", "mycluster-vertical-scaling")
        assert (row["TYPE"], row["STATUS"], row["PROGRESS"]) == ("VerticalScaling", "Succeed", "3/3")
        wait_cluster(server, "demo", "Running")
        for item in pods(server, "demo"):
            assert item["metadata"]["uid"] != before[item["metadata"]["name"]]
            assert cgroup_limits(item["metadata"]["uid"]) == (200000, 4 << 30)
    finally:
        server.close()
