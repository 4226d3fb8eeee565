"""Regression tests for problems KubeBlocks users reported with OpsRequests and deletion. Each
test names the scenario, runs it with real processes and kubectl, and checks the outcome that
KubeBlocks 0.9 documents, or xblocks' stated choice where the two differ (a DoNotTerminate
cluster rejects the delete request itself).

Scenario ids follow the KubeBlocks behaviour notes kept with the project. I1 is Stop that never
finishes, I2 Stop then Start hang, I3 Restart succeeds before pods restart, I4 second Restart
succeeds at once, I5 ops stuck at N/N, I6 parallel ops, I7 finished VerticalScaling blocks the
next ops, I8 fractional-byte quantities, I9 a failed pod blocks Restart, I11 DoNotTerminate,
I12 re-creating a cluster that Halt deleted, I13 ops outlive their cluster, I16 invalid quantities
at admission.
"""

import json
import os
import signal

import pytest
import yaml

from conftest import TUTORIAL_CLUSTER, Server, wait_for
from replicas import RUNNING_TIMEOUT, image_command_flag, kubectl_ok, pods, replica_pid, wait_cluster


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = Server(tmp_path_factory.mktemp("xblocks-scenarios"), args=["--image-command", image_command_flag()])
    try:
        instance.start()
        yield instance
    finally:
        instance.close()


_counter = [0]


@pytest.fixture
def ns(server):
    _counter[0] += 1
    name = f"scenario-{_counter[0]}"
    server.create_namespace(name)
    yield name
    server.delete_namespace(name)


def create_cluster(server, namespace, replicas=1, policy="Delete", name="xc"):
    manifest = yaml.safe_load(TUTORIAL_CLUSTER)
    manifest["metadata"].update({"name": name, "namespace": namespace})
    manifest["spec"]["terminationPolicy"] = policy
    component = manifest["spec"]["componentSpecs"][0]
    component["replicas"] = replicas
    component["resources"] = {"limits": {"cpu": "100m", "memory": "256Mi"},
                              "requests": {"cpu": "100m", "memory": "256Mi"}}
    kubectl_ok(server, "apply", "-f", "-", input=yaml.safe_dump(manifest))
    wait_cluster(server, namespace, "Running", name=name)


def create_ops(server, namespace, name, type_, **spec):
    body = {"apiVersion": "apps.kubeblocks.io/v1alpha1", "kind": "OpsRequest",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"clusterName": "xc", "type": type_, **spec}}
    kubectl_ok(server, "apply", "-f", "-", input=yaml.safe_dump(body))


def ops(server, namespace, name):
    return json.loads(kubectl_ok(server, "get", "ops", name, "-n", namespace, "-o", "json"))


def phase(server, namespace, name):
    return ops(server, namespace, name).get("status", {}).get("phase")


def wait_phase(server, namespace, name, expected, timeout=RUNNING_TIMEOUT):
    wait_for(lambda: phase(server, namespace, name) == expected, timeout=timeout,
             message=f"ops {name} did not reach {expected}")
    return ops(server, namespace, name)


def cluster(server, namespace, name="xc"):
    return json.loads(kubectl_ok(server, "get", "cluster", name, "-n", namespace, "-o", "json"))


def queue(server, namespace):
    annotations = cluster(server, namespace)["metadata"].get("annotations", {})
    return json.loads(annotations.get("kubeblocks.io/ops-request", "[]"))


def uids(server, namespace):
    return {p["metadata"]["name"]: p["metadata"]["uid"] for p in pods(server, namespace)}


RESTART = {"restart": [{"componentName": "xinference"}]}


def test_i1_stop_finishes_and_leaves_queue(server, ns):
    create_cluster(server, ns)
    create_ops(server, ns, "i1-stop", "Stop")
    done = wait_phase(server, ns, "i1-stop", "Succeed")
    assert done["status"]["progress"] == "1/1"
    spec = cluster(server, ns)["spec"]["componentSpecs"][0]
    assert spec["stop"] is True
    assert spec["replicas"] == 1
    assert pods(server, ns) == []
    assert cluster(server, ns)["status"]["phase"] == "Stopped"
    assert all(entry["name"] != "i1-stop" for entry in queue(server, ns))


def test_i2_stop_then_start_queued(server, ns):
    create_cluster(server, ns)
    first = uids(server, ns)
    create_ops(server, ns, "i2-stop", "Stop")
    create_ops(server, ns, "i2-start", "Start")
    wait_for(lambda: any(e["name"] == "i2-start" and e.get("inQueue") for e in queue(server, ns)), timeout=10,
             message="i2-start was not queued behind i2-stop")
    wait_phase(server, ns, "i2-stop", "Succeed")
    started = wait_phase(server, ns, "i2-start", "Succeed")
    assert started["status"]["progress"] == "1/1"
    wait_cluster(server, ns, "Running", name="xc")
    after = uids(server, ns)
    assert list(after) == ["xc-xinference-0"]
    assert after != first
    assert "stop" not in cluster(server, ns)["spec"]["componentSpecs"][0] or \
        cluster(server, ns)["spec"]["componentSpecs"][0]["stop"] is False


def test_i3_restart_recreates_in_order_before_succeed(server, ns):
    create_cluster(server, ns, replicas=3)
    before = uids(server, ns)
    create_ops(server, ns, "i3-restart", "Restart", **RESTART)
    done = wait_phase(server, ns, "i3-restart", "Succeed")
    after = pods(server, ns)
    assert all(p["metadata"]["uid"] != before[p["metadata"]["name"]] for p in after)
    assert all(p["metadata"]["creationTimestamp"] >= done["status"]["startTimestamp"] for p in after)
    order = [p["metadata"]["name"][-1] for p in sorted(after, key=lambda p: p["metadata"]["creationTimestamp"])]
    stamps = sorted(p["metadata"]["creationTimestamp"] for p in after)
    assert order == ["2", "1", "0"] or len(set(stamps)) < 3, order
    assert done["status"]["progress"] == "3/3"
    events = kubectl_ok(server, "get", "events", "-n", ns, "--field-selector", "involvedObject.name=i3-restart")
    for index in range(3):
        assert f"Successfully restart: Pod/xc-xinference-{index}" in events, events


def test_i4_second_restart_rolls_again(server, ns):
    create_cluster(server, ns)
    create_ops(server, ns, "i4-a", "Restart", **RESTART)
    wait_phase(server, ns, "i4-a", "Succeed")
    after_a = uids(server, ns)
    create_ops(server, ns, "i4-b", "Restart", **RESTART)
    wait_phase(server, ns, "i4-b", "Succeed")
    assert uids(server, ns)["xc-xinference-0"] != after_a["xc-xinference-0"]


def test_i5_ops_leaves_running_at_n_of_n(server, ns):
    create_cluster(server, ns, replicas=2)
    create_ops(server, ns, "i5-restart", "Restart", **RESTART)
    done = wait_phase(server, ns, "i5-restart", "Succeed")
    assert done["status"]["progress"] == "2/2"
    assert done["status"]["completionTimestamp"]
    assert queue(server, ns) == []


def test_i6_second_ops_waits_and_force_runs_beside(server, ns):
    create_cluster(server, ns)
    create_ops(server, ns, "i6-vs", "VerticalScaling",
               verticalScaling=[{"componentName": "xinference", "requests": {"cpu": "200m", "memory": "300Mi"},
                                 "limits": {"cpu": "200m", "memory": "300Mi"}}])
    create_ops(server, ns, "i6-restart", "Restart", **RESTART)
    wait_for(lambda: phase(server, ns, "i6-restart") == "Pending" and
             any(e["name"] == "i6-restart" and e.get("inQueue") for e in queue(server, ns)), timeout=10)
    conditions = [c["type"] for c in ops(server, ns, "i6-restart")["status"]["conditions"]]
    assert conditions == ["WaitForProgressing"], conditions
    vs = wait_phase(server, ns, "i6-vs", "Succeed")
    restart = wait_phase(server, ns, "i6-restart", "Succeed")
    assert restart["status"]["startTimestamp"] >= vs["status"]["completionTimestamp"]

    create_ops(server, ns, "i6-restart-2", "Restart", **RESTART)
    create_ops(server, ns, "i6-forced", "Restart", force=True, **RESTART)
    wait_for(lambda: phase(server, ns, "i6-forced") in ("Running", "Succeed", "Creating"), timeout=10)
    assert all(e["name"] != "i6-forced" for e in queue(server, ns)), "a forced operation skips the queue"
    wait_for(lambda: phase(server, ns, "i6-restart-2") in ("Succeed", "Aborted"), timeout=RUNNING_TIMEOUT)
    wait_for(lambda: phase(server, ns, "i6-forced") in ("Succeed", "Aborted"), timeout=RUNNING_TIMEOUT)


def test_i6_failed_head_cancels_queued(server, ns):
    create_cluster(server, ns)
    kubectl_ok(server, "patch", "cluster", "xc", "-n", ns, "--type", "json",
               "-p", '[{"op":"add","path":"/spec/componentSpecs/0/stop","value":true}]')
    wait_cluster(server, ns, "Stopped", name="xc")
    # The head waits for a phase that allows it, holding the queue, then fails.
    create_ops(server, ns, "head", "Restart", preConditionDeadlineSeconds=8, **RESTART)
    create_ops(server, ns, "behind", "Start")
    wait_for(lambda: any(e["name"] == "behind" and e.get("inQueue") for e in queue(server, ns)), timeout=10,
             message="the second operation was not queued behind the head")
    failed = wait_phase(server, ns, "head", "Failed", timeout=30)
    validated = {c["type"]: c for c in failed["status"]["conditions"]}["Validated"]
    assert validated["message"] == "OpsRequest.spec.type=Restart is forbidden when Cluster.status.phase=Stopped"
    cancelled = wait_phase(server, ns, "behind", "Cancelled", timeout=30)
    condition = {c["type"]: c for c in cancelled["status"]["conditions"]}["Cancelled"]
    assert condition["reason"] == "CancelByController", condition
    assert 'previous OpsRequest "head"' in condition["message"], condition
    assert queue(server, ns) == []


def test_precondition_deadline_counts_from_leaving_the_queue(server, ns):
    create_cluster(server, ns)
    # The head requests more CPU than the node has, so its pod stays Pending until it times out.
    create_ops(server, ns, "stuck-head", "VerticalScaling", timeoutSeconds=25,
               verticalScaling=[{"componentName": "xinference", "requests": {"cpu": "64"},
                                 "limits": {"cpu": "64"}}])
    create_ops(server, ns, "behind", "Restart", preConditionDeadlineSeconds=20, **RESTART)
    wait_phase(server, ns, "stuck-head", "Aborted", timeout=60)
    # Longer than its deadline has passed since "behind" was created, but it just left the queue.
    kubectl_ok(server, "patch", "cluster", "xc", "-n", ns, "--type", "json", "-p",
               '[{"op":"replace","path":"/spec/componentSpecs/0/resources",'
               '"value":{"limits":{"cpu":"100m","memory":"256Mi"},"requests":{"cpu":"100m","memory":"256Mi"}}}]')

    done = wait_phase(server, ns, "behind", "Succeed")

    assert "kubeblocks.io/queue-end-time" in done["metadata"].get("annotations", {})
    assert done["status"]["progress"] == "1/1"


def test_i7_finished_vs_lets_hs_run(server, ns):
    create_cluster(server, ns)
    create_ops(server, ns, "i7-vs", "VerticalScaling",
               verticalScaling=[{"componentName": "xinference", "requests": {"cpu": "150m", "memory": "300Mi"},
                                 "limits": {"cpu": "150m", "memory": "300Mi"}}])
    create_ops(server, ns, "i7-hs", "HorizontalScaling",
               horizontalScaling=[{"componentName": "xinference", "scaleOut": {"replicaChanges": 1}}])
    wait_phase(server, ns, "i7-vs", "Succeed")
    hs = wait_phase(server, ns, "i7-hs", "Succeed")
    assert hs["status"]["progress"] == "1/1"
    assert cluster(server, ns)["spec"]["componentSpecs"][0]["replicas"] == 2
    assert list(uids(server, ns)) == ["xc-xinference-0", "xc-xinference-1"]
    for item in pods(server, ns):
        assert item["spec"]["containers"][0]["resources"]["limits"] == {"cpu": "150m", "memory": "300Mi"}


def test_i8_fractional_bytes_rejected_not_stuck(server, ns):
    create_cluster(server, ns)
    create_ops(server, ns, "i8-vs", "VerticalScaling",
               verticalScaling=[{"componentName": "xinference", "requests": {"cpu": "200m", "memory": "644245094400m"},
                                 "limits": {"cpu": "200m", "memory": "644245094400m"}}])
    failed = wait_phase(server, ns, "i8-vs", "Failed", timeout=30)
    validated = {c["type"]: c for c in failed["status"]["conditions"]}["Validated"]
    assert validated["status"] == "False", validated
    assert "whole number of bytes" in validated["message"], validated
    assert cluster(server, ns)["status"]["phase"] == "Running"


def test_i9_failed_pod_is_replaced_by_restart(server, ns):
    create_cluster(server, ns, replicas=2)
    # Make replica 1 fail for good: kill it again each time it comes back.
    uid = {p["metadata"]["name"]: p["metadata"]["uid"] for p in pods(server, ns)}["xc-xinference-1"]
    for _ in range(2):
        pid = replica_pid(uid)
        if pid:
            os.kill(pid, signal.SIGKILL)
        wait_for(lambda: replica_pid(uid) not in (None, pid), timeout=60)
    # The cluster is Updating while replica 1 crash-loops; the operation waits for a phase it may start in.
    create_ops(server, ns, "i9-restart", "Restart", preConditionDeadlineSeconds=120, **RESTART)
    done = wait_phase(server, ns, "i9-restart", "Succeed")
    assert done["status"]["progress"] == "2/2"
    assert uids(server, ns)["xc-xinference-1"] != uid


def delete_with_policy_delete(server, ns):
    """Switch cluster xc to terminationPolicy Delete, delete it and check that nothing of it is left."""
    kubectl_ok(server, "patch", "cluster", "xc", "-n", ns, "--type=merge", "-p",
               '{"spec":{"terminationPolicy":"Delete"}}')
    kubectl_ok(server, "delete", "cluster", "xc", "-n", ns)
    leftovers = server.kubectl("1.33", "get", "all,secret,cm,pvc", "-l", "app.kubernetes.io/instance=xc", "-n", ns)
    assert "No resources found" in leftovers.stderr, leftovers.stdout


def test_i11_do_not_terminate_rejects_delete_until_policy_changes(server, ns):
    create_cluster(server, ns, policy="DoNotTerminate")
    result = server.kubectl("1.33", "delete", "cluster", "xc", "-n", ns, "--wait=false")
    assert result.returncode != 0
    assert "DoNotTerminate" in result.stderr, result.stderr
    assert cluster(server, ns)["status"]["phase"] == "Running"
    assert "deletionTimestamp" not in cluster(server, ns)["metadata"]
    delete_with_policy_delete(server, ns)


def namespace_conditions(server, namespace):
    result = server.kubectl("1.33", "get", "namespace", namespace, "-o", "json")
    if result.returncode != 0:
        return None
    return {c["type"]: c for c in json.loads(result.stdout).get("status", {}).get("conditions", [])}


def test_do_not_terminate_namespace_condition(server):
    server.create_namespace("held")
    create_cluster(server, "held", policy="DoNotTerminate")
    kubectl_ok(server, "delete", "namespace", "held", "--wait=false")
    wait_for(lambda: (namespace_conditions(server, "held") or {}).get("NamespaceDeletionContentFailure"),
             timeout=30, message="the terminating namespace did not say why it stays")
    conditions = namespace_conditions(server, "held")
    failure = conditions["NamespaceDeletionContentFailure"]
    remaining = conditions["NamespaceContentRemaining"]

    assert failure["status"] == "True"
    assert failure["reason"] == "ContentDeletionFailed"
    assert "DoNotTerminate" in failure["message"], failure["message"]
    assert remaining["status"] == "True"
    assert "clusters.apps.kubeblocks.io has 1 resource instances" in remaining["message"], remaining["message"]
    assert "ContentDeletionFailed" in kubectl_ok(server, "describe", "namespace", "held")

    kubectl_ok(server, "patch", "cluster", "xc", "-n", "held", "--type=merge", "-p",
               '{"spec":{"terminationPolicy":"Delete"}}')
    wait_for(lambda: namespace_conditions(server, "held") is None, timeout=RUNNING_TIMEOUT,
             message="the namespace stayed after the cluster's policy changed to Delete")


def halt_manifest(namespace, replicas):
    manifest = yaml.safe_load(TUTORIAL_CLUSTER)
    manifest["metadata"].update({"name": "xc", "namespace": namespace})
    manifest["spec"]["terminationPolicy"] = "Halt"
    component = manifest["spec"]["componentSpecs"][0]
    component["replicas"] = replicas
    component["resources"] = {"limits": {"cpu": "100m", "memory": "256Mi"},
                              "requests": {"cpu": "100m", "memory": "256Mi"}}
    component["volumeClaimTemplates"] = [
        {"name": "data", "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
    return yaml.safe_dump(manifest)


def object_uid(server, namespace, kind, name):
    return json.loads(kubectl_ok(server, "get", kind, name, "-n", namespace, "-o", "json"))["metadata"]["uid"]


def halt_recovery_condition(server, namespace):
    conditions = cluster(server, namespace).get("status", {}).get("conditions", [])
    return next((c for c in conditions if c["type"] == "HaltRecovery"), None)


def cluster_events(server, namespace):
    listed = json.loads(kubectl_ok(server, "get", "events", "-n", namespace, "-o", "json"))
    return [e for e in listed["items"] if e["involvedObject"]["kind"] == "Cluster"]


def warning_reasons(server, namespace):
    return {e["reason"] for e in cluster_events(server, namespace) if e["type"] == "Warning"}


def test_cluster_records_its_transitions(server, ns):
    create_cluster(server, ns)
    wait_for(lambda: "ClusterReady" in {e["reason"] for e in cluster_events(server, ns)}, timeout=30,
             message="no ClusterReady event")
    events = cluster_events(server, ns)
    kubectl_ok(server, "delete", "cluster", "xc", "-n", ns, "--wait=false")
    wait_for(lambda: "DeletingCR" in {e["reason"] for e in cluster_events(server, ns)}, timeout=30,
             message="no DeletingCR event")

    reasons = {e["reason"] for e in events}
    messages = {e["message"] for e in events if e["reason"] == "ComponentPhaseTransition"}
    assert {"PreCheckSucceed", "ApplyResourcesSucceed", "AllReplicasReady", "ClusterReady"} <= reasons
    assert "component xinference is Running" in messages
    assert all(e["type"] == "Normal" for e in events if e["reason"] == "ClusterReady")


def test_i12_halt_recreate_checks_last_applied_spec(server, ns):
    kubectl_ok(server, "apply", "-f", "-", input=halt_manifest(ns, replicas=1))
    wait_cluster(server, ns, "Running", name="xc")
    claim_uid = object_uid(server, ns, "pvc", "data-xc-xinference-0")
    secret_uid = object_uid(server, ns, "secret", "xc-conn-credential")
    kubectl_ok(server, "delete", "cluster", "xc", "-n", ns)
    claim = json.loads(kubectl_ok(server, "get", "pvc", "data-xc-xinference-0", "-n", ns, "-o", "json"))
    assert "apps.kubeblocks.io/last-applied-cluster" in claim["metadata"]["annotations"]

    # A different replica count does not match the kept volumes, so the cluster must not start.
    kubectl_ok(server, "apply", "-f", "-", input=halt_manifest(ns, replicas=2))
    wait_for(lambda: halt_recovery_condition(server, ns) is not None, timeout=30,
             message="no HaltRecovery condition on the re-created cluster")
    condition = halt_recovery_condition(server, ns)
    assert condition["status"] == "False"
    assert condition["reason"] == "HaltRecoveryFailed"
    assert ("not equal to last applied cluster.spec.componentSpecs[xinference].replicas=1"
            in condition["message"]), condition["message"]
    assert "HaltRecoveryFailed" in warning_reasons(server, ns)
    assert pods(server, ns) == []
    described = kubectl_ok(server, "describe", "cluster", "xc", "-n", ns)
    assert "HaltRecoveryFailed" in described

    # The same spec as before takes the kept volume and Secret over.
    kubectl_ok(server, "apply", "-f", "-", input=halt_manifest(ns, replicas=1))
    wait_cluster(server, ns, "Running", name="xc")
    assert object_uid(server, ns, "pvc", "data-xc-xinference-0") == claim_uid
    assert object_uid(server, ns, "secret", "xc-conn-credential") == secret_uid
    assert halt_recovery_condition(server, ns) is None
    delete_with_policy_delete(server, ns)


def test_i12_unannotated_claim_blocks_until_deleted(server, ns):
    stray = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
             "metadata": {"name": "data-xc-xinference-0", "namespace": ns,
                          "labels": {"app.kubernetes.io/instance": "xc"}},
             "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
    kubectl_ok(server, "apply", "-f", "-", input=yaml.safe_dump(stray))
    kubectl_ok(server, "apply", "-f", "-", input=halt_manifest(ns, replicas=1))
    wait_for(lambda: halt_recovery_condition(server, ns) is not None, timeout=30,
             message="no HaltRecovery condition while an unannotated PVC exists")
    condition = halt_recovery_condition(server, ns)
    assert condition["reason"] == "UncleanedResources"
    assert f"kubectl -n {ns} get pvc,secret,cm -l app.kubernetes.io/instance=xc" in condition["message"]
    assert pods(server, ns) == []

    kubectl_ok(server, "delete", "pvc", "data-xc-xinference-0", "-n", ns)
    wait_cluster(server, ns, "Running", name="xc")


def test_i13_ops_go_with_their_cluster(server, ns):
    create_cluster(server, ns)
    create_ops(server, ns, "i13-restart", "Restart", ttlSecondsAfterSucceed=3600, **RESTART)
    wait_for(lambda: phase(server, ns, "i13-restart") in ("Creating", "Running"), timeout=30)
    kubectl_ok(server, "delete", "cluster", "xc", "-n", ns)
    wait_for(lambda: server.kubectl("1.33", "get", "ops", "i13-restart", "-n", ns).returncode != 0, timeout=30,
             message="the operation outlived its cluster")
    leftovers = server.kubectl("1.33", "get", "all,secret,cm,ops", "-l", "app.kubernetes.io/instance=xc", "-n", ns)
    assert "No resources found" in leftovers.stderr, leftovers.stdout


def test_i16_invalid_storage_quantity_rejected(server, ns):
    manifest = yaml.safe_load(TUTORIAL_CLUSTER)
    manifest["metadata"]["namespace"] = ns
    manifest["spec"]["componentSpecs"][0]["volumeClaimTemplates"] = [
        {"name": "data", "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "<nil>Gi"}}}}]
    result = server.kubectl("1.33", "apply", "-f", "-", input=yaml.safe_dump(manifest))
    assert result.returncode != 0
    assert "spec.componentSpecs[0].volumeClaimTemplates[0].spec.resources.requests.storage" in result.stderr, \
        result.stderr
    assert server.kubectl("1.33", "get", "cluster", "mycluster", "-n", ns).returncode != 0


def test_ttl_deletes_finished_ops(server, ns):
    create_cluster(server, ns)
    create_ops(server, ns, "short-lived", "Restart", ttlSecondsAfterSucceed=1, **RESTART)
    wait_for(lambda: server.kubectl("1.33", "get", "ops", "short-lived", "-n", ns).returncode != 0,
             timeout=RUNNING_TIMEOUT, message="the finished operation was not deleted after its TTL")


def test_cancel_vertical_scaling_restores_resources(server, ns):
    create_cluster(server, ns, replicas=2)
    create_ops(server, ns, "to-cancel", "VerticalScaling",
               verticalScaling=[{"componentName": "xinference", "requests": {"cpu": "120m", "memory": "260Mi"},
                                 "limits": {"cpu": "120m", "memory": "260Mi"}}])
    wait_for(lambda: phase(server, ns, "to-cancel") == "Running", timeout=30)
    kubectl_ok(server, "patch", "ops", "to-cancel", "-n", ns, "--type=merge", "-p", '{"spec":{"cancel":true}}')
    done = wait_phase(server, ns, "to-cancel", "Cancelled")
    assert {c["type"]: c for c in done["status"]["conditions"]}["Cancelled"]["reason"] == "CancelSucceed"
    assert cluster(server, ns)["spec"]["componentSpecs"][0]["resources"]["limits"] == {"cpu": "100m",
                                                                                      "memory": "256Mi"}
    wait_cluster(server, ns, "Running", name="xc")
    for item in pods(server, ns):
        assert item["spec"]["containers"][0]["resources"]["limits"] == {"cpu": "100m", "memory": "256Mi"}


@pytest.mark.parametrize("type_,spec,final", [
    ("Restart", RESTART, "Running"),
    ("VerticalScaling", {"verticalScaling": [{"componentName": "xinference", "requests": {"cpu": "110m"},
                                              "limits": {"cpu": "110m"}}]}, "Running"),
    ("HorizontalScaling", {"horizontalScaling": [{"componentName": "xinference",
                                                  "scaleOut": {"replicaChanges": 1}}]}, "Running"),
    ("Stop", {}, "Stopped"),
    ("Start", {}, "Running"),
], ids=["restart", "vertical-scaling", "horizontal-scaling", "stop", "start"])
def test_kill_9_during_operation_then_finish(tmp_path, type_, spec, final):
    server = Server(tmp_path, args=["--image-command", image_command_flag()])
    try:
        server.start()
        server.create_namespace("demo")
        create_cluster(server, "demo", replicas=2)
        if type_ == "Start":
            create_ops(server, "demo", "stop-first", "Stop")
            wait_phase(server, "demo", "stop-first", "Succeed")
            wait_cluster(server, "demo", "Stopped", name="xc")
        create_ops(server, "demo", "interrupted", type_, **spec)
        wait_for(lambda: phase(server, "demo", "interrupted") in ("Creating", "Running"), timeout=30)
        server.kill()
        server.start()
        done = wait_phase(server, "demo", "interrupted", "Succeed")
        assert done["status"]["progress"].split("/")[0] == done["status"]["progress"].split("/")[1]
        wait_cluster(server, "demo", final, name="xc")
    finally:
        server.close()
