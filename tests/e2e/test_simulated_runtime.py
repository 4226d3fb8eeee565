"""Clusters come alive under `xblocks server --runtime simulated --nodes 3`, driven with kubectl.

Pods run without a process there, so these tests check what the controllers and the scheduler do.
They cover the tutorial cluster reaching Running with KubeBlocks' objects, pod anti-affinity over
three nodes, nodeLabels and DedicatedNode tenancy, stop and start by replicas, and a rolling update after a resources edit. They also
cover each termination policy and namespace deletion. Every test has a server of its own (fixture
simulated_server) and works in namespace `demo`, as the tutorial does.
"""

import json

import pytest
import yaml

from conftest import (KUBECTL_VERSIONS, TUTORIAL_CLUSTER, parse_table, tutorial_cluster, wait_for,
                      wait_for_value)

LATEST = KUBECTL_VERSIONS[-1]
OLDEST = KUBECTL_VERSIONS[0]
NAMESPACE = "demo"
CLUSTER = "mycluster"
ITS = "mycluster-xinference"
SELECTOR = f"app.kubernetes.io/instance={CLUSTER}"

# Seconds for a cluster to reach a phase, or for its objects to go. Simulated pods take well
# under a second each, and the margin is for a loaded machine.
SETTLE_TIMEOUT = 60

CLUSTER_FINALIZER = "cluster.kubeblocks.io/finalizer"
LAST_APPLIED_CLUSTER = "apps.kubeblocks.io/last-applied-cluster"
DATA_VOLUME = {"name": "data",
               "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
# The kinds a Halt deletion keeps, as KubeBlocks 0.9.0 does.
HALT_KEEPS = {"PersistentVolumeClaim", "Secret", "ConfigMap"}
ANTI_AFFINITY_MESSAGE = "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules."


# -- helpers -----------------------------------------------------------------------------------

def cluster_yaml(replicas=None, anti_affinity=None, policy=None, volume=False):
    """The tutorial manifest in namespace demo, with the given changes."""
    cluster = tutorial_cluster(NAMESPACE, CLUSTER)
    spec = cluster["spec"]
    component = spec["componentSpecs"][0]
    if replicas is not None:
        component["replicas"] = replicas
    if anti_affinity is not None:
        spec["affinity"]["podAntiAffinity"] = anti_affinity
    if policy is not None:
        spec["terminationPolicy"] = policy
    if volume:
        component["volumeClaimTemplates"] = [DATA_VOLUME]
    return yaml.safe_dump(cluster)


def kubectl_ok(server, version, *args, input=None):
    """Run kubectl and return its stdout, failing the test when it exits non-zero."""
    result = server.kubectl(version, *args, input=input)
    assert result.returncode == 0, f"kubectl {' '.join(args)} failed: {result.stderr}"
    return result.stdout


def get_json(server, version, *args):
    return json.loads(kubectl_ok(server, version, "get", *args, "-o", "json"))


def create_cluster(server, version, manifest):
    kubectl_ok(server, version, "create", "namespace", NAMESPACE)
    output = kubectl_ok(server, version, "apply", "-f", "-", input=manifest)
    assert output.strip() == f"cluster.apps.kubeblocks.io/{CLUSTER} created", output


def cluster_status(server, version):
    """The STATUS column of `kubectl get cluster`."""
    output = kubectl_ok(server, version, "get", "cluster", CLUSTER, "-n", NAMESPACE)
    header, rows = parse_table(output)
    assert "STATUS" in header, output
    assert len(rows) == 1, output
    return rows[0]["STATUS"]


def wait_for_status(server, version, status):
    wait_for_value(lambda: cluster_status(server, version), status, timeout=SETTLE_TIMEOUT,
                   interval=0.3, message="the cluster's STATUS column")


def pods(server, version):
    """The cluster's pods by name."""
    items = get_json(server, version, "pods", "-n", NAMESPACE, "-l", SELECTOR)["items"]
    return {pod["metadata"]["name"]: pod for pod in items}


def pod_names(replicas):
    return {f"{ITS}-{ordinal}" for ordinal in range(replicas)}


def is_ready(pod):
    conditions = pod.get("status", {}).get("conditions", [])
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def namespaced_kinds(server, version):
    """Every namespaced resource the server lists, as one comma-separated kubectl argument."""
    output = kubectl_ok(server, version, "api-resources", "--namespaced=true", "--verbs=list", "-o", "name")
    return ",".join(output.split())


def labelled_objects(server, version, kinds):
    """Every object of `kinds` in namespace demo labelled with the cluster, by (kind, name)."""
    items = get_json(server, version, kinds, "-n", NAMESPACE, "-l", SELECTOR)["items"]
    return {(item["kind"], item["metadata"]["name"]): item for item in items}


def uid(item):
    return item["metadata"]["uid"]


def patch_cluster(server, version, patch_type, patch):
    output = kubectl_ok(server, version, "patch", "cluster", CLUSTER, "-n", NAMESPACE, "--type", patch_type,
                        "-p", json.dumps(patch))
    assert output.strip() == f"cluster.apps.kubeblocks.io/{CLUSTER} patched", output


def set_replicas(server, version, replicas):
    patch_cluster(server, version, "json",
                  [{"op": "replace", "path": "/spec/componentSpecs/0/replicas", "value": replicas}])


def read_watch_events(path):
    """The JSON watch events that `kubectl get -w --output-watch-events -o json` wrote so far.
    A partly written last event is left for the next read."""
    with open(path) as f:
        text = f.read()
    decoder = json.JSONDecoder()
    events = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return events
        try:
            event, position = decoder.raw_decode(text, position)
        except ValueError:
            return events
        events.append(event)


# -- the tutorial cluster ----------------------------------------------------------------------

@pytest.mark.parametrize("version", KUBECTL_VERSIONS)
def test_tutorial_cluster_running(simulated_server, version):
    create_cluster(simulated_server, version, TUTORIAL_CLUSTER)
    wait_for_status(simulated_server, version, "Running")

    output = kubectl_ok(simulated_server, version, "get", "all,secret,rolebinding,serviceaccount", "-l", SELECTOR,
                        "-n", NAMESPACE)
    rows = {}
    for block in output.split("\n\n"):
        _, block_rows = parse_table(block)
        rows.update({row["NAME"]: row for row in block_rows})
    # The names KubeBlocks 0.9 gives these objects for the tutorial's cluster.
    expected = {"pod/mycluster-xinference-0", "service/mycluster-xinference",
                "service/mycluster-xinference-headless", "secret/mycluster-conn-credential",
                "rolebinding.rbac.authorization.k8s.io/kb-xinference-cluster",
                "serviceaccount/kb-xinference-cluster"}
    assert set(rows) == expected, output
    assert rows["pod/mycluster-xinference-0"]["STATUS"] == "Running", output
    assert rows["pod/mycluster-xinference-0"]["READY"] == "1/1", output


# -- scheduling --------------------------------------------------------------------------------

def test_required_anti_affinity_one_pod_per_node(simulated_server):
    create_cluster(simulated_server, LATEST, cluster_yaml(replicas=3, anti_affinity="Required"))
    wait_for_status(simulated_server, LATEST, "Running")

    current = pods(simulated_server, LATEST)
    assert set(current) == pod_names(3), sorted(current)
    for name, pod in current.items():
        assert pod["status"]["phase"] == "Running", f"{name}: {pod['status']}"
    nodes = {item["metadata"]["name"] for item in get_json(simulated_server, LATEST, "nodes")["items"]}
    assert len(nodes) == 3, nodes
    placed = {name: pod["spec"].get("nodeName") for name, pod in current.items()}
    assert set(placed.values()) == nodes, placed


def failed_scheduling_events(server, version, pod_name):
    items = get_json(server, version, "events", "-n", NAMESPACE, "--field-selector",
                     f"involvedObject.name={pod_name},reason=FailedScheduling")["items"]
    return items


def test_required_anti_affinity_fourth_pod_pending(simulated_server):
    version = OLDEST
    create_cluster(simulated_server, version, cluster_yaml(replicas=4, anti_affinity="Required"))
    fourth = f"{ITS}-3"
    events = wait_for(lambda: failed_scheduling_events(simulated_server, version, fourth), timeout=SETTLE_TIMEOUT,
                      message=f"no FailedScheduling event for {fourth}")

    assert events[0]["type"] == "Warning", events
    assert events[0]["message"] == ANTI_AFFINITY_MESSAGE, events
    current = pods(simulated_server, version)
    assert set(current) == pod_names(4), sorted(current)
    pending = current[fourth]
    assert pending["status"]["phase"] == "Pending", pending["status"]
    assert not pending["spec"].get("nodeName"), pending["spec"]
    scheduled = [c for c in pending["status"]["conditions"] if c["type"] == "PodScheduled"]
    assert scheduled and scheduled[0]["status"] == "False", pending["status"]
    assert scheduled[0]["reason"] == "Unschedulable", scheduled
    placed = {current[f"{ITS}-{ordinal}"]["spec"].get("nodeName") for ordinal in range(3)}
    assert None not in placed, placed
    assert len(placed) == 3, placed

    described = kubectl_ok(simulated_server, version, "describe", "pod", fourth, "-n", NAMESPACE)
    assert "FailedScheduling" in described, described
    assert "didn't match pod anti-affinity rules" in described, described
    # KubeBlocks keeps a new component Creating until every replica has been Ready once.
    assert cluster_status(simulated_server, version) == "Creating"


def test_preferred_anti_affinity_spreads_three(simulated_server):
    create_cluster(simulated_server, LATEST, cluster_yaml(replicas=3))
    wait_for_status(simulated_server, LATEST, "Running")

    current = pods(simulated_server, LATEST)
    assert set(current) == pod_names(3), sorted(current)
    placed = {name: pod["spec"].get("nodeName") for name, pod in current.items()}
    assert len(set(placed.values())) == 3, placed


def named_cluster(name, replicas, affinity):
    """The tutorial cluster called `name` in namespace demo, with fields of spec.affinity set.
    Each replica requests a tenth of a CPU, so node capacity never decides where it goes."""
    cluster = tutorial_cluster(NAMESPACE, name)
    component = cluster["spec"]["componentSpecs"][0]
    component["replicas"] = replicas
    component["resources"] = {"limits": {"cpu": "100m", "memory": "1Gi"},
                              "requests": {"cpu": "100m", "memory": "1Gi"}}
    cluster["spec"]["affinity"].update(affinity)
    return yaml.safe_dump(cluster)


def placement(server, version, name):
    """{pod name: node name} of cluster `name`'s pods; None for a pod not scheduled yet."""
    items = get_json(server, version, "pods", "-n", NAMESPACE, "-l", f"app.kubernetes.io/instance={name}")["items"]
    return {pod["metadata"]["name"]: pod["spec"].get("nodeName") for pod in items}


def named_cluster_status(server, version, name):
    _, rows = parse_table(kubectl_ok(server, version, "get", "cluster", name, "-n", NAMESPACE))
    return rows[0]["STATUS"]


def wait_for_named_status(server, version, name, status):
    wait_for_value(lambda: named_cluster_status(server, version, name), status, timeout=SETTLE_TIMEOUT,
                   interval=0.3, message=f"cluster {name}'s STATUS column")


def test_node_labels_pin_pods_to_matching_nodes(simulated_server):
    version = LATEST
    nodes = sorted(item["metadata"]["name"] for item in get_json(simulated_server, version, "nodes")["items"])
    kubectl_ok(simulated_server, version, "label", "node", nodes[1], "xblocks.test/pool=gpu")
    kubectl_ok(simulated_server, version, "create", "namespace", NAMESPACE)

    # Two replicas with preferred spreading: the required node label wins over the spreading.
    kubectl_ok(simulated_server, version, "apply", "-f", "-",
               input=named_cluster("pinned", 2, {"nodeLabels": {"xblocks.test/pool": "tpu,gpu"}}))
    wait_for_named_status(simulated_server, version, "pinned", "Running")
    assert set(placement(simulated_server, version, "pinned").values()) == {nodes[1]}

    # No node carries the label: the pod stays Pending, and the scheduler reports why.
    kubectl_ok(simulated_server, version, "apply", "-f", "-",
               input=named_cluster("nowhere", 1, {"nodeLabels": {"xblocks.test/pool": "fpga"}}))
    events = wait_for(lambda: failed_scheduling_events(simulated_server, version, "nowhere-xinference-0"),
                      timeout=SETTLE_TIMEOUT, message="no FailedScheduling event for nowhere-xinference-0")
    assert events[0]["message"] == \
        "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.", events
    assert placement(simulated_server, version, "nowhere") == {"nowhere-xinference-0": None}
    assert named_cluster_status(simulated_server, version, "nowhere") == "Creating"


@pytest.mark.parametrize("value", ["gpu, tpu", "gpu,", "a" * 64, "gpu," + "b" * 64])
def test_invalid_node_label_value_rejected(simulated_server, value):
    kubectl_ok(simulated_server, LATEST, "create", "namespace", NAMESPACE)
    result = simulated_server.kubectl(LATEST, "apply", "-f", "-",
                                      input=named_cluster("spaced", 1, {"nodeLabels": {"pool": value}}))
    assert result.returncode != 0
    assert "spec.affinity.nodeLabels.pool" in result.stderr, result.stderr
    assert simulated_server.kubectl(LATEST, "get", "cluster", "spaced", "-n", NAMESPACE).returncode != 0


def test_dedicated_node_shares_with_no_other_workload(simulated_server):
    version = LATEST
    kubectl_ok(simulated_server, version, "create", "namespace", NAMESPACE)
    kubectl_ok(simulated_server, version, "apply", "-f", "-",
               input=named_cluster("dedicated", 1, {"tenancy": "DedicatedNode"}))
    wait_for_named_status(simulated_server, version, "dedicated", "Running")
    (dedicated_node,) = placement(simulated_server, version, "dedicated").values()

    # The dedicated pod's anti-affinity keeps the shared cluster's three replicas off its node.
    kubectl_ok(simulated_server, version, "apply", "-f", "-", input=named_cluster("shared", 3, {}))
    wait_for_named_status(simulated_server, version, "shared", "Running")
    shared_nodes = set(placement(simulated_server, version, "shared").values())
    assert dedicated_node not in shared_nodes, (dedicated_node, shared_nodes)
    assert len(shared_nodes) == 2, shared_nodes

    # Every node now holds a KubeBlocks pod, so a second dedicated cluster has nowhere to go.
    kubectl_ok(simulated_server, version, "apply", "-f", "-",
               input=named_cluster("late", 1, {"tenancy": "DedicatedNode"}))
    events = wait_for(lambda: failed_scheduling_events(simulated_server, version, "late-xinference-0"),
                      timeout=SETTLE_TIMEOUT, message="no FailedScheduling event for late-xinference-0")
    assert "didn't match pod anti-affinity rules" in events[0]["message"], events
    assert placement(simulated_server, version, "late") == {"late-xinference-0": None}


# -- stop and start ----------------------------------------------------------------------------

def test_replicas_zero_stops_then_start(simulated_server):
    version = OLDEST
    create_cluster(simulated_server, version, cluster_yaml(replicas=3))
    wait_for_status(simulated_server, version, "Running")
    before = pods(simulated_server, version)
    assert set(before) == pod_names(3), sorted(before)

    set_replicas(simulated_server, version, 0)
    wait_for_status(simulated_server, version, "Stopped")
    assert pods(simulated_server, version) == {}
    services = get_json(simulated_server, version, "services", "-n", NAMESPACE, "-l", SELECTOR)["items"]
    assert {item["metadata"]["name"] for item in services} == {ITS, f"{ITS}-headless"}, services

    set_replicas(simulated_server, version, 3)
    wait_for_status(simulated_server, version, "Running")
    after = pods(simulated_server, version)
    assert set(after) == set(before), sorted(after)
    for name, pod in after.items():
        assert pod["status"]["phase"] == "Running", f"{name}: {pod['status']}"
        assert uid(pod) != uid(before[name]), f"{name} was not recreated"


# -- rolling update ----------------------------------------------------------------------------

NEW_RESOURCES = {"limits": {"cpu": "500m", "memory": "512Mi"}, "requests": {"cpu": "500m", "memory": "512Mi"}}


def rollout_steps(events):
    """Replay pod watch events. Return the ordinals in the order their pods began deletion,
    and for each deletion the names of the other pods that were not Ready at that moment."""
    live = {}
    deleting = set()
    order = []
    unready_at_deletion = []
    for event in events:
        pod = event["object"]
        name = pod["metadata"]["name"]
        starts_deletion = event["type"] == "DELETED" or "deletionTimestamp" in pod["metadata"]
        if starts_deletion and uid(pod) not in deleting:
            deleting.add(uid(pod))
            order.append(int(name.rsplit("-", 1)[1]))
            unready_at_deletion.append(sorted(other for other, live_pod in live.items()
                                              if other != name and not is_ready(live_pod)))
        if event["type"] == "DELETED":
            live.pop(name, None)
        else:
            live[name] = pod
    return order, unready_at_deletion


def test_resources_edit_rolls_highest_first(simulated_server, tmp_path):
    version = LATEST
    create_cluster(simulated_server, version, cluster_yaml(replicas=3))
    wait_for_status(simulated_server, version, "Running")
    before = pods(simulated_server, version)

    watch_path = str(tmp_path / "pods.watch")
    watcher = simulated_server.kubectl_background(version, "get", "pods", "-n", NAMESPACE, "-l", SELECTOR, "-w",
                                                  "--output-watch-events", "-o", "json", output_path=watch_path)
    try:
        # The watch lists the current pods first, as ADDED events.
        wait_for(lambda: len(read_watch_events(watch_path)) >= 3, timeout=30,
                 message="kubectl get -w printed no initial pods")
        patch_cluster(simulated_server, version, "json",
                      [{"op": "replace", "path": "/spec/componentSpecs/0/resources", "value": NEW_RESOURCES}])

        def rolled():
            current = pods(simulated_server, version)
            renewed = all(name in current and uid(current[name]) != uid(pod) and is_ready(current[name])
                          for name, pod in before.items())
            return current if renewed else None

        after = wait_for(rolled, timeout=SETTLE_TIMEOUT, message="the pods were not all recreated")
        wait_for_status(simulated_server, version, "Running")
        # Wait until the watch has seen the last pod become Ready too.
        wait_for(lambda: any(event["object"]["metadata"]["uid"] == uid(after[f"{ITS}-0"]) and
                             is_ready(event["object"]) for event in read_watch_events(watch_path)),
                 timeout=30, message="the watch did not show the last pod Ready")
    finally:
        watcher.terminate()
        watcher.wait(timeout=30)

    events = read_watch_events(watch_path)
    order, unready = rollout_steps(events)
    assert order == [2, 1, 0], [(e["type"], e["object"]["metadata"]["name"]) for e in events]
    assert unready == [[], [], []], "a pod was deleted while another was not Ready"
    for name, pod in after.items():
        assert uid(pod) != uid(before[name]), name
        assert pod["spec"]["containers"][0]["resources"] == NEW_RESOURCES, pod["spec"]["containers"][0]


# -- termination policies ----------------------------------------------------------------------

@pytest.mark.parametrize("version", KUBECTL_VERSIONS)
def test_do_not_terminate_rejects_delete(simulated_server, version):
    create_cluster(simulated_server, version, cluster_yaml(policy="DoNotTerminate", volume=True))
    wait_for_status(simulated_server, version, "Running")
    kinds = namespaced_kinds(simulated_server, version)
    before = labelled_objects(simulated_server, version, kinds)

    result = simulated_server.kubectl(version, "delete", "cluster", CLUSTER, "-n", NAMESPACE)
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith("Error from server (Forbidden): "), result.stderr
    assert "DoNotTerminate" in result.stderr, result.stderr
    assert "spec.terminationPolicy" in result.stderr, result.stderr

    cluster = get_json(simulated_server, version, "cluster", CLUSTER, "-n", NAMESPACE)
    assert "deletionTimestamp" not in cluster["metadata"], cluster["metadata"]
    after = labelled_objects(simulated_server, version, kinds)
    assert {key: uid(item) for key, item in after.items()} == {key: uid(item) for key, item in before.items()}
    assert cluster_status(simulated_server, version) == "Running"


def expected_objects(replicas):
    """The objects KubeBlocks 0.9 creates for the tutorial cluster with a `data` volume claim
    template, labelled with the cluster, by (kind, name)."""
    objects = {("InstanceSet", ITS), ("Component", ITS), ("Service", ITS), ("Service", f"{ITS}-headless"),
               ("Secret", "mycluster-conn-credential"), ("ConfigMap", f"{ITS}-env"),
               ("ConfigMap", f"{ITS}-rsm-env"), ("ServiceAccount", "kb-xinference-cluster"),
               ("RoleBinding", "kb-xinference-cluster")}
    for name in pod_names(replicas):
        objects |= {("Pod", name), ("PersistentVolumeClaim", f"data-{name}")}
    return objects


def wait_for_objects(server, version, kinds, replicas):
    """Wait until every object of expected_objects(replicas) exists, and return all the
    objects labelled with the cluster."""
    wait_for_value(lambda: expected_objects(replicas) - set(labelled_objects(server, version, kinds)), set(),
                   timeout=SETTLE_TIMEOUT, message="objects of the cluster missing")
    return labelled_objects(server, version, kinds)


def assert_released(objects, removed_uids):
    """Assert that no object is being deleted, carries the cluster's finalizer or has an owner
    that is gone, so nothing is left waiting for a controller that will not come."""
    for (kind, name), item in objects.items():
        metadata = item["metadata"]
        assert "deletionTimestamp" not in metadata, f"{kind}/{name} is stuck deleting: {metadata}"
        assert CLUSTER_FINALIZER not in metadata.get("finalizers", []), f"{kind}/{name}: {metadata}"
        owners = {ref["uid"] for ref in metadata.get("ownerReferences", [])}
        assert not owners & removed_uids, f"{kind}/{name} is owned by a deleted object: {metadata}"


@pytest.mark.parametrize("policy", ["Halt", "Delete", "WipeOut"])
def test_termination_policy_deletes(simulated_server, policy):
    version = LATEST
    create_cluster(simulated_server, version, cluster_yaml(replicas=2, policy=policy, volume=True))
    wait_for_status(simulated_server, version, "Running")
    kinds = namespaced_kinds(simulated_server, version)
    before = wait_for_objects(simulated_server, version, kinds, replicas=2)
    cluster_uid = uid(get_json(simulated_server, version, "cluster", CLUSTER, "-n", NAMESPACE))

    output = kubectl_ok(simulated_server, version, "delete", "cluster", CLUSTER, "-n", NAMESPACE,
                        f"--timeout={SETTLE_TIMEOUT}s")
    assert output.strip() == f'cluster.apps.kubeblocks.io "{CLUSTER}" deleted', output
    lookup = simulated_server.kubectl(version, "get", "cluster", CLUSTER, "-n", NAMESPACE)
    assert lookup.returncode == 1, lookup
    assert "NotFound" in lookup.stderr, lookup

    kept = {key for key in before if policy == "Halt" and key[0] in HALT_KEEPS}
    wait_for_value(lambda: set(labelled_objects(simulated_server, version, kinds)), kept,
                   timeout=SETTLE_TIMEOUT, message=f"objects left after a {policy} deletion")
    after = labelled_objects(simulated_server, version, kinds)
    removed_uids = {uid(item) for key, item in before.items() if key not in kept} | {cluster_uid}
    assert_released(after, removed_uids)
    for key, item in after.items():
        assert uid(item) == uid(before[key]), f"{key} was recreated"
        assert LAST_APPLIED_CLUSTER in item["metadata"].get("annotations", {}), f"{key}: {item['metadata']}"


# -- namespace deletion ------------------------------------------------------------------------

def test_namespace_delete_removes_everything(simulated_server):
    version = LATEST
    create_cluster(simulated_server, version, cluster_yaml(replicas=2, volume=True))
    wait_for_status(simulated_server, version, "Running")
    kinds = namespaced_kinds(simulated_server, version)
    wait_for_objects(simulated_server, version, kinds, replicas=2)

    output = kubectl_ok(simulated_server, version, "delete", "namespace", NAMESPACE, f"--timeout={SETTLE_TIMEOUT}s")
    assert output.strip() == f'namespace "{NAMESPACE}" deleted', output
    lookup = simulated_server.kubectl(version, "get", "namespace", NAMESPACE)
    assert lookup.returncode == 1, lookup
    assert "NotFound" in lookup.stderr, lookup

    everywhere = get_json(simulated_server, version, kinds, "--all-namespaces")["items"]
    left = [(item["kind"], item["metadata"]["name"]) for item in everywhere
            if item["metadata"].get("namespace") == NAMESPACE]
    assert left == [], left
