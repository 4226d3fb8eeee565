"""The official Kubernetes Python client (kubernetes==33.1.0) against the server."""

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from conftest import tutorial_cluster, wait_for

GROUP = "apps.kubeblocks.io"
VERSION = "v1alpha1"
PLURAL = "clusters"


@pytest.fixture(scope="module")
def api_client(server):
    configuration = client.Configuration()
    config.load_kube_config(config_file=server.kubeconfig, client_configuration=configuration)
    with client.ApiClient(configuration) as instance:
        yield instance


@pytest.fixture
def core(api_client):
    return client.CoreV1Api(api_client)


@pytest.fixture
def custom(api_client):
    return client.CustomObjectsApi(api_client)


def labelled_cluster(namespace, name, labels):
    body = tutorial_cluster(namespace, name)
    body["metadata"]["labels"] = labels
    return body


def test_core_creates_and_lists_namespaces(core):
    name = "pyclient-ns"
    created = core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    try:
        assert created.metadata.name == name, created
        assert created.metadata.uid, created
        assert created.status.phase == "Active", created.status
        names = [item.metadata.name for item in core.list_namespace().items]
        assert name in names, names
        assert "default" in names, names
        assert "kube-system" in names, names
    finally:
        core.delete_namespace(name)


def test_core_list_namespaces_by_field_selector(core):
    listed = core.list_namespace(field_selector="metadata.name=kube-public")
    assert [item.metadata.name for item in listed.items] == ["kube-public"], listed


def test_core_creates_and_lists_configmaps(core, namespace):
    for name, tier in (("cm-a", "web"), ("cm-b", "db")):
        body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels={"tier": tier}),
                                  data={"key": name})
        core.create_namespaced_config_map(namespace, body)
    listed = core.list_namespaced_config_map(namespace)
    assert sorted(item.metadata.name for item in listed.items) == ["cm-a", "cm-b"], listed
    selected = core.list_namespaced_config_map(namespace, label_selector="tier=db")
    assert [item.metadata.name for item in selected.items] == ["cm-b"], selected
    assert selected.items[0].data == {"key": "cm-b"}, selected


def test_core_patches_configmap(core, namespace):
    core.create_namespaced_config_map(namespace, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="patched"), data={"a": "1", "b": "2"}))
    patched = core.patch_namespaced_config_map("patched", namespace, {"data": {"a": "10", "b": None}})
    assert patched.data == {"a": "10"}, patched.data


def test_core_read_missing_configmap_raises_404(core, namespace):
    with pytest.raises(ApiException) as raised:
        core.read_namespaced_config_map("missing", namespace)
    assert raised.value.status == 404, raised.value


def test_custom_creates_and_gets_cluster(custom, namespace):
    created = custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL,
                                                     tutorial_cluster(namespace))
    assert created["metadata"]["uid"], created
    assert created["metadata"]["generation"] == 1, created
    fetched = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "mycluster")
    assert fetched["metadata"]["uid"] == created["metadata"]["uid"], fetched
    assert fetched["spec"]["clusterVersionRef"] == "xinference-0.11.0-cpu", fetched["spec"]
    assert fetched["spec"]["componentSpecs"][0]["replicas"] == 1, fetched["spec"]


def test_custom_create_existing_raises_409(custom, namespace):
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, tutorial_cluster(namespace))
    with pytest.raises(ApiException) as raised:
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, tutorial_cluster(namespace))
    assert raised.value.status == 409, raised.value
    assert '"reason":"AlreadyExists"' in raised.value.body.replace(" ", ""), raised.value.body


def test_custom_lists_clusters_by_label(custom, namespace):
    for name, team in (("blue", "a"), ("green", "a"), ("red", "b")):
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL,
                                               labelled_cluster(namespace, name, {"team": team}))
    everything = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
    assert everything["kind"] == "ClusterList", everything
    assert everything["metadata"]["resourceVersion"], everything["metadata"]
    assert sorted(item["metadata"]["name"] for item in everything["items"]) == ["blue", "green", "red"]
    selected = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, label_selector="team=a")
    assert sorted(item["metadata"]["name"] for item in selected["items"]) == ["blue", "green"], selected


def test_custom_patches_cluster(custom, namespace):
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, tutorial_cluster(namespace))
    patched = custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "mycluster",
                                                    {"spec": {"terminationPolicy": "WipeOut"}})
    assert patched["spec"]["terminationPolicy"] == "WipeOut", patched["spec"]
    assert patched["metadata"]["generation"] == 2, patched["metadata"]


def test_custom_deletes_cluster(custom, namespace):
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, tutorial_cluster(namespace))
    deleted = custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "mycluster")
    # Either a Status (gone at once) or the object held by the cluster controller's finalizer
    # until its workloads are gone.
    assert deleted["kind"] == "Status" or deleted["metadata"].get("deletionTimestamp"), deleted

    def gone():
        try:
            custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "mycluster")
        except ApiException as error:
            assert error.status == 404, error
            return True
        return False

    wait_for(gone, timeout=30, message="the deleted cluster is still there")


def test_custom_watch_sees_added_modified_deleted(custom, namespace):
    start = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
    resource_version = start["metadata"]["resourceVersion"]
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, tutorial_cluster(namespace))
    custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "mycluster",
                                          {"spec": {"terminationPolicy": "WipeOut"}})
    custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "mycluster")

    events = []
    watcher = watch.Watch()
    for event in watcher.stream(custom.list_namespaced_custom_object, GROUP, VERSION, namespace, PLURAL,
                                resource_version=resource_version, timeout_seconds=10):
        events.append((event["type"], event["object"]["metadata"]["name"],
                       event["object"]["spec"]["terminationPolicy"]))
        if event["type"] == "DELETED":
            watcher.stop()
    assert events, "the watch returned no events; the client sends watch=True"
    types = [event_type for event_type, _, _ in events]
    assert types[0] == "ADDED", events
    assert "MODIFIED" in types, events
    assert types[-1] == "DELETED", events
    assert {name for _, name, _ in events} == {"mycluster"}, events
    modified = [policy for event_type, _, policy in events if event_type == "MODIFIED"]
    assert modified[-1] == "WipeOut", events
