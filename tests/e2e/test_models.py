"""Declared models (xblocks.io/v1alpha1 Model) on replicas that run the Xinference test fixture,
which starts in well under a second: validation with kubectl, a Model declared before its
Cluster, every replica serving it, a replica killed with SIGKILL coming back with the model,
horizontal scaling that waits for the model on the new replica, a changed uid, and deletion.

The same behaviour on real Xinference is in test_real_xinference.py; the fixture's contract is
checked against recordings of the real server in test_xinference_fixture.py.
"""

import http.client
import json
import os
import signal
import time
import urllib.request

import pytest
import yaml

from conftest import TUTORIAL_CLUSTER, Server, parse_table, wait_for
from replicas import (KUBECTL, RUNNING_TIMEOUT, apply, fixture_command, image_command_flag, kubectl_ok, pods,
                      replica_pid)

MODEL = {"apiVersion": "xblocks.io/v1alpha1", "kind": "Model",
         "metadata": {"name": "bge", "namespace": "models"},
         "spec": {"clusterName": "mycluster", "modelName": "bge-small-en-v1.5", "modelType": "embedding"}}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = Server(tmp_path_factory.mktemp("xblocks-models"),
                      args=["--runtime", "process", "--image-command", image_command_flag()])
    try:
        instance.start()
        instance.create_namespace("models")
        yield instance
    finally:
        instance.close()


def cluster(replicas):
    manifest = yaml.safe_load(TUTORIAL_CLUSTER)
    manifest["metadata"]["namespace"] = "models"
    component = manifest["spec"]["componentSpecs"][0]
    component["replicas"] = replicas
    component["resources"] = {"limits": {"cpu": "100m", "memory": "256Mi"},
                              "requests": {"cpu": "100m", "memory": "256Mi"}}
    return manifest


def model(server, name="bge", namespace="models"):
    return json.loads(kubectl_ok(server, "get", "model", name, "-n", namespace, "-o", "json"))


def wait_model(server, phase, ready=None, name="bge"):
    def reached():
        status = model(server, name).get("status", {})
        return status.get("phase") == phase and (ready is None or status.get("ready") == ready)

    wait_for(reached, timeout=RUNNING_TIMEOUT,
             message=f"model {name} did not reach {phase} {ready or ''}: {model(server, name).get('status')}")


def instances(pod_item, uid="bge"):
    """The states of `uid` on the replica, or None while the replica does not respond."""
    url = f"http://{pod_item['status']['podIP']}:9997/v1/models/instances?model_uid={uid}"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return [item["status"] for item in json.loads(response.read())]
    except (OSError, http.client.HTTPException):
        return None  # refused, reset or cut off: the replica is starting or stopping


@pytest.mark.parametrize("spec,words", [
    ({"modelName": "qwen1.5-chat", "modelType": "LLM"}, "spec.modelEngine is required when spec.modelType is LLM"),
    ({"modelName": "m", "modelType": "embedding", "modelPath": "/w"}, "spec.dimensions is required"),
    ({"modelName": "m", "modelType": "LLM", "modelEngine": "vLLM", "modelPath": "/w"},
     "for the embedding and rerank types only"),
    ({"modelName": "m", "modelType": "video"}, "spec.modelType"),
    ({"modelName": "m", "modelType": "embedding", "replica": 0}, "spec.replica"),
    ({"modelName": "m", "modelType": "embedding", "modelPath": "relative/dir", "dimensions": 3}, "spec.modelPath"),
])
def test_invalid_model_is_rejected_with_the_field(server, spec, words):
    manifest = json.loads(json.dumps(MODEL))
    manifest["metadata"]["name"] = "invalid"
    manifest["spec"] = {"clusterName": "mycluster", **spec}
    result = server.kubectl(KUBECTL, "apply", "-f", "-", input=yaml.safe_dump(manifest))
    assert result.returncode != 0
    assert words in result.stderr, result.stderr
    assert server.kubectl(KUBECTL, "get", "model", "invalid", "-n", "models").returncode != 0


def test_model_lifecycle_on_fixture_replicas(server):
    # Declared before its Cluster exists: Pending, with what to do.
    apply(server, MODEL)
    wait_model(server, "Pending")
    assert "cluster mycluster does not exist in namespace models" in model(server)["status"]["message"]

    apply(server, cluster(2))
    wait_model(server, "Ready", "2/2")
    header, rows = parse_table(kubectl_ok(server, "get", "models", "-n", "models"))
    assert header == ["NAME", "MODEL", "TYPE", "CLUSTER", "READY", "STATUS", "AGE"], header
    assert [rows[0][k] for k in ("MODEL", "TYPE", "CLUSTER", "READY", "STATUS")] == \
        ["bge-small-en-v1.5", "embedding", "mycluster", "2/2", "Ready"]
    for item in pods(server, "models"):
        assert instances(item) == ["READY"]
    conditions = {c["type"]: c for c in json.loads(kubectl_ok(server, "get", "cluster", "mycluster", "-n", "models",
                                                            "-o", "json"))["status"]["conditions"]}
    assert conditions["ModelsReady"]["status"] == "True", conditions
    assert conditions["Ready"]["status"] == "True", conditions

    # A change of clusterName is rejected.
    result = server.kubectl(KUBECTL, "patch", "model", "bge", "-n", "models", "--type", "merge",
                            "-p", '{"spec":{"clusterName":"other"}}')
    assert result.returncode != 0 and "forbidden to update spec.clusterName" in result.stderr, result.stderr

    # SIGKILL one replica: its process comes back empty, and the controller launches the model
    # there again with no action by the user.
    victim = pods(server, "models")[0]
    os.kill(replica_pid(victim["metadata"]["uid"]), signal.SIGKILL)
    wait_for(lambda: pods(server, "models")[0]["status"]["containerStatuses"][0]["restartCount"] >= 1,
             timeout=RUNNING_TIMEOUT, message="the killed replica did not restart")
    wait_for(lambda: instances(pods(server, "models")[0]) == ["READY"], timeout=RUNNING_TIMEOUT,
             message="the model was not launched again on the restarted replica")
    wait_model(server, "Ready", "2/2")
    events = kubectl_ok(server, "get", "events", "-n", "models", "--field-selector", "involvedObject.name=bge")
    assert "ModelReady" in events, events

    # Scale out: the operation succeeds only once the new replica serves the model.
    apply(server, {"apiVersion": "apps.kubeblocks.io/v1alpha1", "kind": "OpsRequest",
                   "metadata": {"name": "scale-out", "namespace": "models"},
                   "spec": {"clusterName": "mycluster", "type": "HorizontalScaling",
                            "horizontalScaling": [{"componentName": "xinference", "replicas": 3}]}})
    wait_for(lambda: json.loads(kubectl_ok(server, "get", "ops", "scale-out", "-n", "models", "-o", "json"))
             .get("status", {}).get("phase") == "Succeed", timeout=RUNNING_TIMEOUT, message="scale-out did not finish")
    assert [instances(item) for item in pods(server, "models")] == [["READY"]] * 3
    assert model(server)["status"]["ready"] == "3/3"

    # A new uid: the old one is terminated everywhere, the new one launched.
    kubectl_ok(server, "patch", "model", "bge", "-n", "models", "--type", "merge", "-p",
               '{"spec":{"modelUid":"bge-v2"}}')
    wait_for(lambda: all(instances(item, "bge-v2") == ["READY"] and instances(item) == []
                         for item in pods(server, "models")),
             timeout=RUNNING_TIMEOUT, message="the uid change did not move the model")
    wait_model(server, "Ready", "3/3")

    # Deletion terminates the model on every replica before the object goes.
    kubectl_ok(server, "delete", "model", "bge", "-n", "models", "--timeout=60s")
    for item in pods(server, "models"):
        assert instances(item, "bge-v2") == []
    wait_for(lambda: "ModelsReady" not in {c["type"] for c in json.loads(kubectl_ok(
        server, "get", "cluster", "mycluster", "-n", "models", "-o", "json"))["status"]["conditions"]},
        timeout=30, message="the cluster still reports models")


def slow_launch_version(server, image="example.com/slow-launch:1"):
    """A ClusterVersion whose image runs the fixture with 3-second model launches."""
    name = "slow-launch"
    apply(server, {"apiVersion": "apps.kubeblocks.io/v1alpha1", "kind": "ClusterVersion",
                   "metadata": {"name": name, "annotations": {"xblocks.io/local-commands": json.dumps(
                       {image: fixture_command("env", "XB_FIXTURE_LAUNCH_DELAY_S=3")})}},
                   "spec": {"clusterDefinitionRef": "xinference", "componentVersions": [
                       {"componentDefRef": "xinference", "versionsContext": {"containers": [
                           {"name": "xinference", "image": image}]}}]}})
    return name


def test_replica_is_ready_only_while_serving_models(server):
    server.create_namespace("gated")
    manifest = cluster(2)
    manifest["metadata"]["namespace"] = "gated"
    manifest["spec"]["clusterVersionRef"] = slow_launch_version(server)
    declared = json.loads(json.dumps(MODEL))
    declared["metadata"]["namespace"] = "gated"
    apply(server, declared)
    apply(server, manifest)
    wait_for(lambda: model(server, namespace="gated")["status"].get("ready") == "2/2", timeout=RUNNING_TIMEOUT,
             message="the model was not served on both replicas")
    for item in pods(server, "gated"):
        assert {"conditionType": "xblocks.io/models-ready"} in item["spec"]["readinessGates"]
        gate = [c for c in item["status"]["conditions"] if c["type"] == "xblocks.io/models-ready"]
        assert gate and gate[0]["status"] == "True", item["status"]["conditions"]

    # A rolling Restart: a new replica responds to /status at once but needs 3 s for the model, and
    # stays out of Ready until then. Sample every Ready replica's models meanwhile.
    apply(server, {"apiVersion": "apps.kubeblocks.io/v1alpha1", "kind": "OpsRequest",
                   "metadata": {"name": "restart", "namespace": "gated"},
                   "spec": {"clusterName": "mycluster", "type": "Restart",
                            "restart": [{"componentName": "xinference"}]}})
    samples, violations, loading_seen = 0, [], False
    deadline = time.monotonic() + RUNNING_TIMEOUT
    while time.monotonic() < deadline:
        phase = json.loads(kubectl_ok(server, "get", "ops", "restart", "-n", "gated", "-o", "json")) \
            .get("status", {}).get("phase")
        for item in pods(server, "gated"):
            served = instances(item)
            if served is None:
                continue  # gone meanwhile
            conditions = {c["type"]: c for c in item["status"].get("conditions", [])}
            ready = conditions.get("Ready", {}).get("status") == "True"
            if conditions.get("ContainersReady", {}).get("status") == "True" and not ready and served != ["READY"]:
                loading_seen = True
            if ready:
                samples += 1
                if served != ["READY"]:
                    violations.append((item["metadata"]["name"], served))
        if phase in ("Succeed", "Failed"):
            break
        time.sleep(0.2)
    assert phase == "Succeed", phase
    assert violations == [], violations
    assert samples > 0
    assert loading_seen, "no replica was seen answering /status while its model loaded"
    kubectl_ok(server, "delete", "cluster", "mycluster", "-n", "gated")
