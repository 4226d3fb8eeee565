"""Acknowledged writes survive a crash (SIGKILL) and a clean stop (SIGTERM)."""

import http.client
import json
import os
import ssl
import stat
import threading

from conftest import configmap_path, wait_for

NAMESPACE = "durable"
ACKS_BEFORE_KILL = 300
MAX_WRITES = 20000


class CreateStream:
    """Creates ConfigMaps one after another on one connection, recording each acknowledged one."""

    def __init__(self, server):
        self.server = server
        self.acknowledged = {}  # name -> (uid, resourceVersion)
        self.enough = threading.Event()
        self.stopped_by = None

    def run(self):
        connection = self.server.connect(timeout=10)
        try:
            for index in range(MAX_WRITES):
                if not self._create(connection, f"cm-{index:05d}"):
                    return
        finally:
            connection.close()

    def _create(self, connection, name):
        body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
                           "data": {"index": name}})
        try:
            connection.request("POST", configmap_path(NAMESPACE), body, headers={
                "Content-Type": "application/json", "Authorization": f"Bearer {self.server.token}"})
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException, ssl.SSLError) as error:
            self.stopped_by = repr(error)
            return False
        if response.status != 201:
            self.stopped_by = f"HTTP {response.status}: {payload[:500]!r}"
            return False
        metadata = json.loads(payload)["metadata"]
        self.acknowledged[name] = (metadata["uid"], int(metadata["resourceVersion"]))
        if len(self.acknowledged) >= ACKS_BEFORE_KILL:
            self.enough.set()
        return True


def read_file(path):
    with open(path) as f:
        return f.read()


def test_acknowledged_creates_survive_kill(fresh_server):
    fresh_server.start()
    fresh_server.create_namespace(NAMESPACE)
    token_before = read_file(f"{fresh_server.data_dir}/token")
    port_before = fresh_server.port

    stream = CreateStream(fresh_server)
    writer = threading.Thread(target=stream.run, daemon=True)
    writer.start()
    assert stream.enough.wait(timeout=120), f"only {len(stream.acknowledged)} acks: {stream.stopped_by}"
    fresh_server.kill()
    writer.join(timeout=30)
    assert not writer.is_alive(), "the writer did not stop after the server was killed"
    acknowledged = dict(stream.acknowledged)
    assert len(acknowledged) >= ACKS_BEFORE_KILL, len(acknowledged)

    fresh_server.start()
    assert read_file(f"{fresh_server.data_dir}/token") == token_before, "the token changed on restart"
    assert fresh_server.token == token_before.strip(), "the kubeconfig token differs from the token file"
    assert fresh_server.port, f"no port in the rewritten kubeconfig (was {port_before})"

    listed = fresh_server.api("GET", configmap_path(NAMESPACE))
    assert listed.status == 200, listed
    present = {item["metadata"]["name"]: item for item in listed.body["items"]}
    missing = sorted(set(acknowledged) - set(present))
    assert not missing, f"{len(missing)} acknowledged ConfigMaps lost, first: {missing[:10]}"
    changed_uid = [name for name, (uid, _) in acknowledged.items() if present[name]["metadata"]["uid"] != uid]
    assert not changed_uid, f"uids changed after restart: {changed_uid[:10]}"
    changed_rv = [name for name, (_, rv) in acknowledged.items()
                  if int(present[name]["metadata"]["resourceVersion"]) != rv]
    assert not changed_rv, f"resourceVersions changed after restart: {changed_rv[:10]}"

    highest = max(int(item["metadata"]["resourceVersion"]) for item in present.values())
    created = fresh_server.create_configmap(NAMESPACE, "after-restart")
    assert int(created["metadata"]["resourceVersion"]) > highest, (created["metadata"], highest)
    assert int(listed.body["metadata"]["resourceVersion"]) >= highest, listed.body["metadata"]

    result = fresh_server.kubectl("1.33", "get", "configmap", "after-restart", "-n", NAMESPACE)
    assert result.returncode == 0, result.stderr
    assert "after-restart" in result.stdout, result.stdout


def test_objects_survive_clean_restart(fresh_server):
    fresh_server.start()
    fresh_server.create_namespace(NAMESPACE)
    created = fresh_server.create_configmap(NAMESPACE, "kept", data={"a": "1"})
    fresh_server.restart()
    fetched = fresh_server.api("GET", configmap_path(NAMESPACE, "kept"))
    assert fetched.status == 200, fetched
    assert fetched.body["metadata"]["uid"] == created["metadata"]["uid"], fetched.body
    assert fetched.body["data"] == {"a": "1"}, fetched.body


def test_addons_not_duplicated_on_restart(fresh_server):
    fresh_server.start()
    fresh_server.restart()
    listed = fresh_server.api("GET", "/apis/apps.kubeblocks.io/v1alpha1/clusterversions")
    assert listed.status == 200, listed
    names = sorted(item["metadata"]["name"] for item in listed.body["items"])
    assert names == ["xinference-0.11.0", "xinference-0.11.0-cpu"], names
    wait_for(lambda: fresh_server.api("GET", "/apis/apps.kubeblocks.io/v1alpha1/clusterdefinitions/xinference")
             .body.get("status", {}).get("phase") == "Available", timeout=30,
             message="clusterdefinition not Available after restart")


def test_token_file_is_private(fresh_server):
    fresh_server.start()
    mode = stat.S_IMODE(os.stat(f"{fresh_server.data_dir}/token").st_mode)
    assert mode == 0o600, oct(mode)
