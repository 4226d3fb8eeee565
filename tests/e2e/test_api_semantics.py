"""Kubernetes API semantics beyond plain CRUD: watch, selectors, finalizers, owner references,
generation, the status subresource and events."""

import datetime
import http.client
import json
import threading
import time
import urllib.parse

import pytest

from conftest import cluster_path, configmap_path, parse_table, status_causes, wait_for

MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
HISTORY_WRITES = 10050
HISTORY_BUDGET_SECONDS = 40
HISTORY_THREADS = 8


def list_rv(server, path):
    response = server.api("GET", path)
    assert response.status == 200, response
    return response.body["metadata"]["resourceVersion"]


def names_of(response):
    assert response.status == 200, response
    return sorted(item["metadata"]["name"] for item in response.body["items"])


def event_summary(events):
    return [(event["type"], event["object"].get("metadata", {}).get("name")) for event in events]


# -- watch -----------------------------------------------------------------------------------------

def test_watch_from_list_rv_sees_later_changes(server, namespace):
    rv = list_rv(server, configmap_path(namespace))
    stream = server.watch(f"{configmap_path(namespace)}?watch=true&resourceVersion={rv}")
    try:
        server.create_configmap(namespace, "watched", data={"v": "1"})
        patched = server.api("PATCH", configmap_path(namespace, "watched"), {"data": {"v": "2"}},
                             headers=MERGE_PATCH)
        assert patched.status == 200, patched
        deleted = server.api("DELETE", configmap_path(namespace, "watched"))
        assert deleted.status == 200, deleted
        events = stream.events_until(lambda event: event["type"] == "DELETED")
    finally:
        stream.close()
    assert event_summary(events) == [("ADDED", "watched"), ("MODIFIED", "watched"), ("DELETED", "watched")], \
        event_summary(events)
    assert events[1]["object"]["data"] == {"v": "2"}, events[1]
    versions = [int(event["object"]["metadata"]["resourceVersion"]) for event in events]
    assert versions == sorted(versions), versions
    assert versions[0] > int(rv), (versions, rv)


@pytest.mark.parametrize("flag", ["true", "True", "1"])
def test_watch_query_flag_spellings(server, namespace, flag):
    # The Python client sends watch=True; Kubernetes reads any value but "", "0" and "false"
    # (any case) as true.
    rv = list_rv(server, configmap_path(namespace))
    server.create_configmap(namespace, "flagged")
    stream = server.watch(f"{configmap_path(namespace)}?watch={flag}&resourceVersion={rv}&timeoutSeconds=5")
    try:
        headers = dict(stream.response.getheaders())
        assert headers.get("Transfer-Encoding") == "chunked", headers
        events = stream.events_until(lambda event: event.get("type") == "ADDED")
    finally:
        stream.close()
    assert event_summary(events) == [("ADDED", "flagged")], event_summary(events)


def test_watch_from_rv_replays_changes_after_it(server, namespace):
    server.create_configmap(namespace, "before")
    rv = list_rv(server, configmap_path(namespace))
    server.create_configmap(namespace, "after")
    stream = server.watch(f"{configmap_path(namespace)}?watch=true&resourceVersion={rv}")
    try:
        events = stream.events_until(lambda event: event["object"]["metadata"]["name"] == "after")
    finally:
        stream.close()
    assert event_summary(events) == [("ADDED", "after")], event_summary(events)


def test_watch_rv_zero_sends_synthetic_added(server, namespace):
    server.create_configmap(namespace, "existing")
    stream = server.watch(f"{configmap_path(namespace)}?watch=true&resourceVersion=0")
    try:
        events = stream.events_until(lambda event: event["type"] == "ADDED")
    finally:
        stream.close()
    assert event_summary(events) == [("ADDED", "existing")], event_summary(events)


def test_watch_filters_by_label_selector(server, namespace):
    rv = list_rv(server, configmap_path(namespace))
    selector = urllib.parse.quote("team=a")
    stream = server.watch(f"{configmap_path(namespace)}?watch=true&resourceVersion={rv}&labelSelector={selector}")
    try:
        server.create_configmap(namespace, "team-b", metadata={"labels": {"team": "b"}})
        server.create_configmap(namespace, "team-a", metadata={"labels": {"team": "a"}})
        events = stream.events_until(lambda event: event["type"] == "ADDED")
    finally:
        stream.close()
    assert event_summary(events) == [("ADDED", "team-a")], event_summary(events)


def test_watch_ends_after_timeout_seconds(server, namespace):
    rv = list_rv(server, configmap_path(namespace))
    stream = server.watch(f"{configmap_path(namespace)}?watch=true&resourceVersion={rv}&timeoutSeconds=1")
    try:
        deadline = time.monotonic() + 30
        event = stream.next_event(timeout=30)
        while event is not None and time.monotonic() < deadline:
            event = stream.next_event(timeout=30)
    finally:
        stream.close()
    assert event is None, f"the watch did not end after timeoutSeconds; last event {event}"


def write_history(server, namespace, count, budget_seconds):
    """Create `count` ConfigMaps from several threads. Returns how many were created before the
    budget ran out."""
    deadline = time.monotonic() + budget_seconds
    next_index = iter(range(count))
    lock = threading.Lock()
    created = [0]
    failures = []

    def worker():
        connection = server.connect(timeout=30)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {server.token}"}
        try:
            while time.monotonic() < deadline:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    return
                body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"h-{index}"}})
                connection.request("POST", configmap_path(namespace), body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                if response.status != 201:
                    failures.append((response.status, payload[:300]))
                    return
                with lock:
                    created[0] += 1
        except (OSError, http.client.HTTPException) as error:
            failures.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(HISTORY_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[:5]
    return created[0]


def test_watch_too_old_rv_returns_410(fresh_server):
    fresh_server.start()
    fresh_server.create_namespace("history")
    rv = list_rv(fresh_server, configmap_path("history"))
    created = write_history(fresh_server, "history", HISTORY_WRITES, HISTORY_BUDGET_SECONDS)
    if created < HISTORY_WRITES:
        pytest.skip(f"only {created} of {HISTORY_WRITES} writes finished in {HISTORY_BUDGET_SECONDS}s; "
                    "too slow to push the watch history past the first resourceVersion")
    stream = fresh_server.watch(f"{configmap_path('history')}?watch=true&resourceVersion={rv}")
    try:
        event = stream.next_event(timeout=30)
    finally:
        stream.close()
    assert event is not None, "the watch ended without an ERROR event"
    assert event["type"] == "ERROR", str(event)[:1000]
    assert event["object"]["kind"] == "Status", event
    assert event["object"]["code"] == 410, event
    assert event["object"]["reason"] in ("Expired", "Gone"), event


# -- selectors -------------------------------------------------------------------------------------

@pytest.fixture
def labelled_configmaps(server, namespace):
    server.create_configmap(namespace, "a", metadata={"labels": {"env": "prod", "tier": "web"}})
    server.create_configmap(namespace, "b", metadata={"labels": {"env": "dev", "tier": "db"}})
    server.create_configmap(namespace, "c", metadata={"labels": {"env": "staging"}})
    server.create_configmap(namespace, "d")
    return namespace


@pytest.mark.parametrize("selector, expected", [
    ("env=prod", ["a"]),
    ("env==prod", ["a"]),
    ("env!=prod", ["b", "c", "d"]),
    ("env in (prod,dev)", ["a", "b"]),
    ("env notin (prod,dev)", ["c", "d"]),
    ("tier", ["a", "b"]),
    ("!tier", ["c", "d"]),
    ("env=prod,tier=web", ["a"]),
    ("env=prod,tier=db", []),
], ids=["equals", "double-equals", "not-equals", "in", "notin", "exists", "not-exists", "and", "and-none"])
def test_label_selector(server, labelled_configmaps, selector, expected):
    query = urllib.parse.quote(selector)
    response = server.api("GET", f"{configmap_path(labelled_configmaps)}?labelSelector={query}")
    assert names_of(response) == expected, (selector, response)


def test_label_selector_kubectl(server, labelled_configmaps):
    result = server.kubectl("1.33", "get", "configmaps", "-n", labelled_configmaps, "-l", "env in (prod,dev)")
    assert result.returncode == 0, result.stderr
    _, rows = parse_table(result.stdout)
    assert sorted(row["NAME"] for row in rows) == ["a", "b"], result.stdout


def test_label_selector_invalid_returns_400(server, namespace):
    query = urllib.parse.quote("env in (prod")
    response = server.api("GET", f"{configmap_path(namespace)}?labelSelector={query}")
    assert response.status == 400, response
    assert response.body["reason"] == "BadRequest", response.body


@pytest.mark.parametrize("selector, expected", [
    ("metadata.name=b", ["b"]),
    ("metadata.name==b", ["b"]),
    ("metadata.name!=b", ["a", "c", "d"]),
    ("metadata.name=b,metadata.name!=b", []),
], ids=["equals", "double-equals", "not-equals", "contradiction"])
def test_field_selector_metadata_name(server, labelled_configmaps, selector, expected):
    query = urllib.parse.quote(selector)
    response = server.api("GET", f"{configmap_path(labelled_configmaps)}?fieldSelector={query}")
    assert names_of(response) == expected, (selector, response)


def test_field_selector_metadata_namespace(server, labelled_configmaps):
    query = urllib.parse.quote(f"metadata.namespace={labelled_configmaps}")
    response = server.api("GET", f"/api/v1/configmaps?fieldSelector={query}")
    assert names_of(response) == ["a", "b", "c", "d"], response


def test_field_selector_unknown_field_returns_400(server, namespace):
    query = urllib.parse.quote("spec.nothing=x")
    response = server.api("GET", f"{configmap_path(namespace)}?fieldSelector={query}")
    assert response.status == 400, response
    assert response.body["reason"] == "BadRequest", response.body


# -- finalizers and owner references -------------------------------------------------------------

def test_finalizer_delays_deletion(server, namespace):
    server.create_configmap(namespace, "held", metadata={"finalizers": ["example.com/hold"]})
    deleted = server.api("DELETE", configmap_path(namespace, "held"))
    assert deleted.status in (200, 202), deleted
    held = server.api("GET", configmap_path(namespace, "held"))
    assert held.status == 200, held
    assert held.body["metadata"].get("deletionTimestamp"), held.body["metadata"]
    assert held.body["metadata"]["finalizers"] == ["example.com/hold"], held.body["metadata"]

    released = server.api("PATCH", configmap_path(namespace, "held"), {"metadata": {"finalizers": None}},
                          headers=MERGE_PATCH)
    assert released.status == 200, released
    wait_for(lambda: server.api("GET", configmap_path(namespace, "held")).status == 404, timeout=30,
             message="object still present after its last finalizer was removed")


def test_finalizer_object_rejects_new_finalizer_after_delete(server, namespace):
    server.create_configmap(namespace, "closing", metadata={"finalizers": ["example.com/hold"]})
    server.api("DELETE", configmap_path(namespace, "closing"))
    response = server.api("PATCH", configmap_path(namespace, "closing"),
                          {"metadata": {"finalizers": ["example.com/hold", "example.com/new"]}},
                          headers=MERGE_PATCH)
    assert response.status == 422, response
    assert response.body["reason"] == "Invalid", response.body
    causes = status_causes(response.body)
    assert ("metadata.finalizers", "FieldValueForbidden") in causes, response.body
    server.api("PATCH", configmap_path(namespace, "closing"), {"metadata": {"finalizers": None}},
               headers=MERGE_PATCH)


def create_owned_pair(server, namespace, block_owner_deletion=False):
    owner = server.create_configmap(namespace, "owner")
    reference = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}
    if block_owner_deletion:
        reference["blockOwnerDeletion"] = True
    dependent = server.create_configmap(namespace, "dependent", metadata={"ownerReferences": [reference]})
    return owner, dependent


def test_owner_delete_background_collects_dependent(server, namespace):
    create_owned_pair(server, namespace)
    deleted = server.api("DELETE", configmap_path(namespace, "owner"), {"propagationPolicy": "Background"})
    assert deleted.status == 200, deleted
    assert server.api("GET", configmap_path(namespace, "owner")).status == 404
    wait_for(lambda: server.api("GET", configmap_path(namespace, "dependent")).status == 404, timeout=30,
             message="dependent not garbage-collected after its owner was deleted")


def test_owner_delete_orphan_keeps_dependent(server, namespace):
    create_owned_pair(server, namespace)
    result = server.kubectl("1.33", "delete", "configmap", "owner", "-n", namespace, "--cascade=orphan")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'configmap "owner" deleted', result.stdout
    wait_for(lambda: server.api("GET", configmap_path(namespace, "owner")).status == 404, timeout=30,
             message="owner not deleted with --cascade=orphan")

    def orphaned():
        response = server.api("GET", configmap_path(namespace, "dependent"))
        assert response.status == 200, f"the orphaned dependent was deleted: {response}"
        return not response.body["metadata"].get("ownerReferences")

    wait_for(orphaned, timeout=30, message="dependent still has ownerReferences")


def test_owner_delete_foreground_removes_dependent_first(server, namespace):
    create_owned_pair(server, namespace, block_owner_deletion=True)
    rv = list_rv(server, configmap_path(namespace))
    stream = server.watch(f"{configmap_path(namespace)}?watch=true&resourceVersion={rv}")
    try:
        deleted = server.api("DELETE", configmap_path(namespace, "owner"), {"propagationPolicy": "Foreground"})
        assert deleted.status in (200, 202), deleted
        events = stream.events_until(
            lambda event: event["type"] == "DELETED" and event["object"]["metadata"]["name"] == "owner", timeout=30)
    finally:
        stream.close()
    summary = event_summary(events)
    assert ("DELETED", "dependent") in summary, summary
    assert summary.index(("DELETED", "dependent")) < summary.index(("DELETED", "owner")), summary
    finalizing = [event for event in events if event["object"]["metadata"]["name"] == "owner"
                  and "foregroundDeletion" in (event["object"]["metadata"].get("finalizers") or [])]
    assert finalizing, f"owner never carried the foregroundDeletion finalizer: {summary}"


# -- generation and the status subresource -------------------------------------------------------

def test_generation_increments_on_spec_change_only(server, namespace):
    created = server.create_cluster(namespace)
    assert created["metadata"]["generation"] == 1, created["metadata"]
    spec_change = server.api("PATCH", cluster_path(namespace, "mycluster"),
                             {"spec": {"terminationPolicy": "WipeOut"}}, headers=MERGE_PATCH)
    assert spec_change.body["metadata"]["generation"] == 2, spec_change
    label_change = server.api("PATCH", cluster_path(namespace, "mycluster"),
                              {"metadata": {"labels": {"team": "a"}, "annotations": {"note": "x"}}},
                              headers=MERGE_PATCH)
    assert label_change.status == 200, label_change
    assert label_change.body["metadata"]["generation"] == 2, label_change.body["metadata"]
    assert label_change.body["metadata"]["resourceVersion"] != spec_change.body["metadata"]["resourceVersion"]


def test_status_subresource_ignores_spec(server, namespace):
    server.create_cluster(namespace)
    response = server.api("PATCH", cluster_path(namespace, "mycluster", "status"),
                          {"spec": {"terminationPolicy": "WipeOut"}, "status": {"message": "from-status"}},
                          headers=MERGE_PATCH)
    assert response.status == 200, response
    stored = server.api("GET", cluster_path(namespace, "mycluster")).body
    assert stored["spec"]["terminationPolicy"] == "Delete", stored["spec"]
    assert stored["status"]["message"] == "from-status", stored.get("status")
    assert stored["metadata"]["generation"] == 1, stored["metadata"]


def test_main_resource_ignores_status(server, namespace):
    server.create_cluster(namespace)
    response = server.api("PATCH", cluster_path(namespace, "mycluster"),
                          {"spec": {"terminationPolicy": "WipeOut"}, "status": {"message": "from-main"}},
                          headers=MERGE_PATCH)
    assert response.status == 200, response
    stored = server.api("GET", cluster_path(namespace, "mycluster")).body
    assert stored["spec"]["terminationPolicy"] == "WipeOut", stored["spec"]
    assert (stored.get("status") or {}).get("message") != "from-main", stored.get("status")


def test_status_put_keeps_spec(server, namespace):
    server.create_cluster(namespace)
    # The cluster controller writes the status too, so a PUT may meet a newer resourceVersion.
    for _ in range(10):
        current = server.api("GET", cluster_path(namespace, "mycluster", "status")).body
        current["spec"]["terminationPolicy"] = "Halt"
        current["status"] = {"message": "from-put"}
        response = server.api("PUT", cluster_path(namespace, "mycluster", "status"), current)
        if response.status != 409:
            break
    assert response.status == 200, response
    assert response.body["spec"]["terminationPolicy"] == "Delete", response.body["spec"]
    assert response.body["status"] == {"message": "from-put"}, response.body["status"]
    stored = server.api("GET", cluster_path(namespace, "mycluster")).body
    assert stored["spec"]["terminationPolicy"] == "Delete", stored["spec"]


# -- events --------------------------------------------------------------------------------------

def test_kubectl_get_events(server, namespace):
    cluster = server.create_cluster(namespace)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = {
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": "mycluster.e2e"},
        "involvedObject": {"apiVersion": "apps.kubeblocks.io/v1alpha1", "kind": "Cluster", "name": "mycluster",
                           "namespace": namespace, "uid": cluster["metadata"]["uid"]},
        "reason": "TestReason", "message": "hello from the test", "type": "Normal",
        "source": {"component": "e2e"}, "firstTimestamp": now, "lastTimestamp": now, "count": 1,
    }
    created = server.api("POST", f"/api/v1/namespaces/{namespace}/events", event)
    assert created.status == 201, created

    result = server.kubectl("1.33", "get", "events", "-n", namespace)
    assert result.returncode == 0, result.stderr
    header, rows = parse_table(result.stdout)
    assert header[:5] == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"], result.stdout
    # The cluster's pod and the cluster controller record events of their own.
    rows = [row for row in rows if row["OBJECT"] == "cluster/mycluster" and row["REASON"] == "TestReason"]
    assert len(rows) == 1, result.stdout
    assert rows[0]["TYPE"] == "Normal", result.stdout
    assert rows[0]["MESSAGE"] == "hello from the test", result.stdout


def test_kubectl_get_events_empty_namespace(server, namespace):
    result = server.kubectl("1.33", "get", "events", "-n", namespace)
    assert result.returncode == 0, result.stderr
    assert f"No resources found in {namespace} namespace." in result.stderr, result.stderr


def test_events_field_selector_involved_object(server, namespace):
    for name in ("first", "second"):
        body = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": f"{name}.e2e"},
                "involvedObject": {"kind": "ConfigMap", "name": name, "namespace": namespace},
                "reason": "Test", "message": name, "type": "Normal"}
        created = server.api("POST", f"/api/v1/namespaces/{namespace}/events", body)
        assert created.status == 201, created
    query = urllib.parse.quote("involvedObject.name=second,involvedObject.kind=ConfigMap")
    response = server.api("GET", f"/api/v1/namespaces/{namespace}/events?fieldSelector={query}")
    assert names_of(response) == ["second.e2e"], response
