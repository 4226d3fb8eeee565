"""Checks the Xinference test fixture (tests/fixtures/xinference_fixture.py) against the recorded
responses of the real server in tests/fixtures/recordings/, and checks its process behaviour:
startup delay, restart, signals, loopback-only binding, fault knobs and concurrent requests.

The recordings' shape notation is described in tests/fixtures/recordings/README.md.
These tests need neither the xblocks binary nor kubectl.
"""

import concurrent.futures
import glob
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

import recordings
from recordings import shape_mismatches

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(TESTS_DIR, "fixtures", "xinference_fixture.py")
RECORDINGS = recordings.ALL

# Two loopback addresses, as two embedded replicas would use.
HOSTS = ("127.0.0.1", "127.0.0.5")
START_TIMEOUT_SECONDS = 20
BIND_ATTEMPTS = 3
REQUEST_TIMEOUT_SECONDS = 20

EMBEDDING = {"model_name": "bge-small-en-v1.5", "model_type": "embedding", "model_uid": "smoke-emb"}
CHAT_CPU = {"model_name": "qwen1.5-chat", "model_engine": "llama.cpp", "model_format": "ggufv2",
            "model_size_in_billions": "0_5", "quantization": "q4_0", "model_uid": "smoke-chat"}
CHAT_GPU = {"model_name": "qwen1.5-chat", "model_engine": "Transformers", "model_format": "pytorch",
            "model_size_in_billions": "0_5", "quantization": "none"}

ACCESS_LOG_LINE = re.compile(r'^INFO:     127\.0\.0\.1:\d+ - "GET /status HTTP/1\.1" 200 OK$', re.M)


# ---------------------------------------------------------------------------------------------
# Shape matching


# ---------------------------------------------------------------------------------------------
# Fixture processes


def free_port(host):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class Response:
    def __init__(self, status, headers, data):
        self.status = status
        self.headers = headers
        self.data = data

    def json(self):
        return json.loads(self.data)

    @property
    def text(self):
        return self.data.decode("utf-8")


class PortTaken(Exception):
    """The fixture exited because another process bound its port first."""


class FixtureProcess:
    """One running xinference_fixture.py, with its stdout and stderr captured in files."""

    def __init__(self, work_dir, host, port, env=None, args=None, home=None,
                 address_flags=("--host", "--port")):
        self.host = host
        self.port = port
        self.home = home or os.path.join(work_dir, "home")
        self.stdout_path = os.path.join(work_dir, f"stdout-{host}-{port}-{time.monotonic_ns()}")
        self.stderr_path = self.stdout_path.replace("stdout-", "stderr-")
        full_env = {key: value for key, value in os.environ.items()
                    if not key.startswith("XB_FIXTURE_") and key != "CUDA_VISIBLE_DEVICES"}
        full_env.update({"XINFERENCE_HOME": self.home, **(env or {})})
        host_flag, port_flag = address_flags
        command = [sys.executable, FIXTURE, host_flag, host, port_flag, str(port)] + (args or [])
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(command, stdout=out, stderr=err, env=full_env)

    def stdout(self):
        with open(self.stdout_path, encoding="utf-8") as out:
            return out.read()

    def stderr(self):
        with open(self.stderr_path, encoding="utf-8") as err:
            return err.read()

    def wait_ready(self, timeout=START_TIMEOUT_SECONDS):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() == 1 and "error while attempting to bind" in self.stdout():
                raise PortTaken(self.port)
            assert self.process.poll() is None, (
                f"fixture exited early with code {self.process.returncode}:\n"
                f"stdout:\n{self.stdout()}\nstderr:\n{self.stderr()}")
            try:
                if self.request("GET", "/status", timeout=2).status == 200:
                    return self
            except OSError:
                time.sleep(0.02)
        raise AssertionError(f"fixture not ready after {timeout} s:\n{self.stdout()}")

    def request(self, method, path, body=None, raw=None, timeout=REQUEST_TIMEOUT_SECONDS):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            data = raw
            if data is None and body is not None:
                data = json.dumps(body)
            headers = {"Content-Type": "application/json"} if data is not None else {}
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            return Response(response.status, response.headers, response.read())
        finally:
            connection.close()

    def send_signal(self, signum, timeout=2.0):
        """Send signum and return (exit code, seconds until exit); exit code None on timeout."""
        started = time.monotonic()
        self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            code = None
        return code, time.monotonic() - started

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def start_fixture(tmp_path):
    """Return a function that starts a fixture process; every process is killed at teardown."""
    processes = []

    def start(host="127.0.0.1", port=None, env=None, args=None, home=None, wait=True):
        # Another process may bind a port from free_port() before the fixture does. Pick a new
        # port in that case, unless the caller chose it.
        for _ in range(BIND_ATTEMPTS):
            process = FixtureProcess(str(tmp_path), host, port or free_port(host), env, args, home)
            processes.append(process)
            if not wait:
                return process
            try:
                return process.wait_ready()
            except PortTaken:
                if port is not None:
                    raise
        raise AssertionError(f"no free port on {host} after {BIND_ATTEMPTS} attempts")

    yield start
    for process in processes:
        process.kill()


def launch(fixture, body, wait_ready=None):
    query = "" if wait_ready is None else f"?wait_ready={str(wait_ready).lower()}"
    return fixture.request("POST", "/v1/models" + query, body)


def model_ids(fixture):
    return [model["id"] for model in fixture.request("GET", "/v1/models").json()["data"]]


def instance_statuses(fixture):
    instances = fixture.request("GET", "/v1/models/instances").json()
    return {instance["model_uid"]: instance["status"] for instance in instances}


# ---------------------------------------------------------------------------------------------
# Recordings


load_recording = recordings.load


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: os.path.basename(p)[:-5])
def test_recording(start_fixture, host, path, tmp_path):
    recording = load_recording(path)
    fixture = start_fixture(host)
    # The fixture checks only that a custom model's directory exists.
    weights = tmp_path / "weights"
    weights.mkdir()
    mismatches = recordings.replay(recording, fixture.request, str(weights))
    assert mismatches == [], mismatches


def test_recordings_cover_manager_endpoints():
    requested = {(load_recording(p)["request"]["method"], load_recording(p)["request"]["path"])
                 for p in RECORDINGS}
    for endpoint in [("GET", "/status"), ("GET", "/v1/cluster/info"), ("GET", "/v1/models"),
                     ("POST", "/v1/models"), ("GET", "/v1/models/smoke-emb"),
                     ("DELETE", "/v1/models/smoke-emb"), ("GET", "/v1/cluster/version"),
                     ("GET", "/v1/models/instances")]:
        assert endpoint in requested


def test_recordings_name_their_source():
    for path in RECORDINGS:
        assert load_recording(path)["source"].startswith(("xinference.md", recordings.REAL_SOURCE)), path


@pytest.mark.parametrize("actual, shape", [
    ({"a": 1, "b": 2}, {"a": "<int>"}),
    ({"a": 1}, {"a": "<int>", "b": "<int>"}),
    ({"a": "1"}, {"a": "<int>"}),
    ({"a": True}, {"a": "<int>"}),
    (1, 1.0),
    ("0.11.1", "0.11.0"),
    ([], {"<non-empty list of>": "<any>"}),
    ([1, "x"], {"<list of>": "<int>"}),
    ([1], [1, 2]),
    ("Model exists", "<contains:already>"),
    ({"k": {"x": 1}}, {"<*>": {"x": "<string>"}}),
])
def test_shape_matcher_rejects_mismatch(actual, shape):
    assert shape_mismatches(actual, shape) != []


@pytest.mark.parametrize("actual, shape", [
    ({"a": 1, "b": "x"}, {"a": "<int>", "<*>": "<any>"}),
    ([], {"<list of>": "<int>"}),
    ([{"x": 1.5}], {"<non-empty list of>": {"x": "<float>"}}),
    (None, None),
    ("uid: a is already there", "<contains:already>"),
    ([0, "s"], ["<number>", "<string>"]),
])
def test_shape_matcher_accepts_match(actual, shape):
    assert shape_mismatches(actual, shape) == []


# ---------------------------------------------------------------------------------------------
# Addresses


@pytest.mark.parametrize("host", HOSTS)
def test_addresses_report_bound_host(start_fixture, host):
    fixture = start_fixture(host)

    workers = fixture.request("GET", "/status").json()["workers"]
    address = fixture.request("GET", "/v1/address").json()
    nodes = fixture.request("GET", "/v1/cluster/info").json()

    assert list(workers) == [address]
    assert address.startswith(host + ":")
    assert [node["ip_address"] for node in nodes] == [host, host]


def test_two_hosts_same_port_are_independent(start_fixture):
    port = free_port(HOSTS[1])
    first = start_fixture(HOSTS[0], port)
    second = start_fixture(HOSTS[1], port)

    assert launch(first, EMBEDDING).status == 200

    assert model_ids(first) == ["smoke-emb"]
    assert model_ids(second) == []


def test_binds_only_given_host(start_fixture):
    fixture = start_fixture(HOSTS[1])

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((HOSTS[0], fixture.port), timeout=2).close()


def test_bound_port_exits_1(start_fixture):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        fixture = start_fixture(port=holder.getsockname()[1], wait=False)

        assert fixture.process.wait(timeout=START_TIMEOUT_SECONDS) == 1
        assert "error while attempting to bind" in fixture.stdout()


def test_start_retries_bound_port(start_fixture, monkeypatch):
    # Regression: another process bound the port between free_port() and the fixture's bind,
    # and the fixture exited with code 1.
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        bound_port = holder.getsockname()[1]
        picks = iter([bound_port])
        original = free_port
        monkeypatch.setattr(sys.modules[__name__], "free_port",
                            lambda host: next(picks, None) or original(host))

        fixture = start_fixture()

        assert fixture.port != bound_port
        assert fixture.request("GET", "/status").status == 200


def test_ipv6_loopback_served(start_fixture):
    fixture = start_fixture("::1")

    assert fixture.request("GET", "/status").status == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::", "localhost", "not-an-ip"])
def test_non_loopback_host_rejected(start_fixture, host):
    fixture = start_fixture(host, port=19997, wait=False)

    assert fixture.process.wait(timeout=START_TIMEOUT_SECONDS) == 2
    assert "loopback" in fixture.stderr()
    assert "Uvicorn running" not in fixture.stdout()


# ---------------------------------------------------------------------------------------------
# Startup, restart and signals


def test_start_delay_postpones_bind(start_fixture):
    started = time.monotonic()
    fixture = start_fixture(env={"XB_FIXTURE_START_DELAY_S": "1.5"}, wait=False)
    wait_for_output(fixture, "not Xinference")

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((fixture.host, fixture.port), timeout=2).close()
    fixture.wait_ready()
    assert time.monotonic() - started >= 1.5


def wait_for_output(fixture, needle, timeout=START_TIMEOUT_SECONDS):
    deadline = time.monotonic() + timeout
    while needle not in fixture.stdout():
        assert time.monotonic() < deadline, f"{needle!r} not in output:\n{fixture.stdout()}"
        time.sleep(0.02)


def test_models_vanish_after_restart(start_fixture, tmp_path):
    fixture = start_fixture()
    assert launch(fixture, EMBEDDING).status == 200
    assert model_ids(fixture) == ["smoke-emb"]

    assert fixture.send_signal(signal.SIGTERM)[0] == 0
    restarted = start_fixture(port=fixture.port, home=fixture.home)

    assert model_ids(restarted) == []
    assert restarted.request("GET", "/v1/models/instances").json() == []
    assert restarted.request("GET", "/v1/models/smoke-emb").status == 400
    assert len(os.listdir(os.path.join(fixture.home, "logs"))) == 2


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_exits_zero_quickly(start_fixture, signum):
    fixture = start_fixture(env={"XB_FIXTURE_LAUNCH_DELAY_S": "30"})
    # A launch blocked in wait_ready and an idle keep-alive connection must not delay the exit.
    blocked = threading.Thread(target=lambda: swallow(launch, fixture, EMBEDDING), daemon=True)
    blocked.start()
    idle = socket.create_connection((fixture.host, fixture.port), timeout=5)
    wait_until(lambda: instance_statuses(fixture) == {"smoke-emb": "CREATING"})

    code, seconds = fixture.send_signal(signum, timeout=2.0)
    idle.close()

    assert code == 0
    assert seconds < 2.0
    assert "finished server process" in fixture.stdout()


def test_signal_during_start_delay_exits_zero(start_fixture):
    fixture = start_fixture(env={"XB_FIXTURE_START_DELAY_S": "30"}, wait=False)
    wait_for_output(fixture, "not Xinference")

    code, seconds = fixture.send_signal(signal.SIGTERM)

    assert code == 0
    assert seconds < 2.0


def swallow(function, *args):
    try:
        function(*args)
    except OSError:
        pass


def wait_until(predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_exit_after_knob_exits_one(start_fixture):
    started = time.monotonic()
    fixture = start_fixture(env={"XB_FIXTURE_EXIT_AFTER_S": "1"})

    assert fixture.process.wait(timeout=10) == 1
    assert time.monotonic() - started >= 1.0
    assert "XB_FIXTURE_EXIT_AFTER_S" in fixture.stdout()


def test_allocate_knob_touches_memory(start_fixture):
    fixture = start_fixture(env={"XB_FIXTURE_ALLOCATE_MB": "64"})

    with open(f"/proc/{fixture.process.pid}/status", encoding="ascii") as status:
        rss_kib = int(re.search(r"^VmRSS:\s+(\d+) kB", status.read(), re.M).group(1))
    assert rss_kib >= 64 * 1024


@pytest.mark.parametrize("name, value", [
    ("XB_FIXTURE_LAUNCH_DELAY_S", "soon"),
    ("XB_FIXTURE_START_DELAY_S", "-1"),
    ("XB_FIXTURE_EXIT_AFTER_S", "nan"),
    ("XB_FIXTURE_ALLOCATE_MB", "1.5"),
])
def test_invalid_knob_exits_two(start_fixture, name, value):
    fixture = start_fixture(env={name: value}, wait=False)

    assert fixture.process.wait(timeout=START_TIMEOUT_SECONDS) == 2
    assert name in fixture.stderr()


def test_non_integer_cuda_devices_exits_one(start_fixture):
    fixture = start_fixture(env={"CUDA_VISIBLE_DEVICES": "GPU-1a2b"}, wait=False)

    assert fixture.process.wait(timeout=START_TIMEOUT_SECONDS) == 1
    assert "CUDA_VISIBLE_DEVICES" in fixture.stderr()


# ---------------------------------------------------------------------------------------------
# Logs and state directory


def test_banner_and_access_log(start_fixture):
    fixture = start_fixture()
    fixture.request("GET", "/status")

    output = fixture.stdout()
    assert output.splitlines()[0].startswith("xinference test fixture:")
    assert ACCESS_LOG_LINE.search(output)


def test_log_level_warning_hides_access_log(start_fixture):
    fixture = start_fixture(args=["--log-level", "warning"])
    fixture.request("GET", "/status")

    assert '"GET /status HTTP/1.1"' not in fixture.stdout()


def test_home_holds_log_file(start_fixture):
    fixture = start_fixture()
    fixture.request("GET", "/status")

    logs = glob.glob(os.path.join(fixture.home, "logs", "local_*", "xinference.log"))
    assert len(logs) == 1
    with open(logs[0], encoding="utf-8") as log:
        assert '"GET /status HTTP/1.1" 200 OK' in log.read()


def test_short_flags_and_ignored_auth_config(tmp_path):
    port = free_port("127.0.0.1")
    fixture = FixtureProcess(str(tmp_path), "127.0.0.1", port, args=["--auth-config", "auth.json"],
                             address_flags=("-H", "-p"))
    try:
        fixture.wait_ready()
        assert fixture.request("GET", "/v1/cluster/auth").json() == {"auth": False}
    finally:
        fixture.kill()


# ---------------------------------------------------------------------------------------------
# Model lifecycle


def test_wait_ready_false_reports_creating_then_ready(start_fixture):
    fixture = start_fixture(env={"XB_FIXTURE_LAUNCH_DELAY_S": "1.0"})

    started = time.monotonic()
    response = launch(fixture, EMBEDDING, wait_ready=False)
    assert response.status == 200
    assert time.monotonic() - started < 0.9
    assert instance_statuses(fixture) == {"smoke-emb": "CREATING"}
    assert model_ids(fixture) == []
    assert fixture.request("GET", "/v1/models/smoke-emb").status == 400
    assert launch(fixture, EMBEDDING).status == 400

    wait_until(lambda: instance_statuses(fixture) == {"smoke-emb": "READY"})
    assert model_ids(fixture) == ["smoke-emb"]


def test_wait_ready_true_blocks_for_launch_delay(start_fixture):
    fixture = start_fixture(env={"XB_FIXTURE_LAUNCH_DELAY_S": "0.8"})

    started = time.monotonic()
    assert launch(fixture, EMBEDDING).status == 200
    assert time.monotonic() - started >= 0.8
    assert model_ids(fixture) == ["smoke-emb"]


def test_failed_launch_stays_error_until_relaunch(start_fixture):
    fixture = start_fixture(env={"XB_FIXTURE_LAUNCH_FAIL_UIDS": "smoke-emb"})

    response = launch(fixture, EMBEDDING)
    assert response.status == 500
    assert "closed" in response.json()["detail"]
    assert instance_statuses(fixture) == {"smoke-emb": "ERROR"}
    assert model_ids(fixture) == []
    assert fixture.request("DELETE", "/v1/models/smoke-emb").status == 400
    events = fixture.request("GET", "/v1/models/smoke-emb/events").json()
    assert [event["event_type"] for event in events] == ["INFO", "ERROR"]

    assert launch(fixture, EMBEDDING, wait_ready=False).status == 200
    assert instance_statuses(fixture) == {"smoke-emb": "CREATING"}


def test_default_uid_gets_suffix_when_taken(start_fixture):
    fixture = start_fixture()
    body = {key: value for key, value in EMBEDDING.items() if key != "model_uid"}

    first = launch(fixture, body).json()["model_uid"]
    second = launch(fixture, body).json()["model_uid"]

    assert first == "bge-small-en-v1.5"
    assert re.fullmatch(r"bge-small-en-v1\.5-[a-z0-9]{8}", second)


def test_terminate_cancels_creating_model(start_fixture):
    fixture = start_fixture(env={"XB_FIXTURE_LAUNCH_DELAY_S": "0.5"})
    assert launch(fixture, EMBEDDING, wait_ready=False).status == 200

    assert fixture.request("DELETE", "/v1/models/smoke-emb").status == 200
    time.sleep(0.7)

    assert instance_statuses(fixture) == {}
    assert model_ids(fixture) == []


def test_instances_filter_by_name_and_uid(start_fixture):
    fixture = start_fixture()
    launch(fixture, EMBEDDING)
    launch(fixture, CHAT_CPU)

    by_name = fixture.request("GET", "/v1/models/instances?model_name=qwen1.5-chat").json()
    by_uid = fixture.request("GET", "/v1/models/instances?model_uid=smoke-emb").json()

    assert [i["model_uid"] for i in by_name] == ["smoke-chat"]
    assert [i["model_uid"] for i in by_uid] == ["smoke-emb"]


def test_gpu_llm_takes_gpu_exclusively(start_fixture):
    fixture = start_fixture(env={"CUDA_VISIBLE_DEVICES": "0"})
    assert fixture.request("GET", "/v1/cluster/devices").json() == 1
    assert "gpu-0" in next(iter(fixture.request("GET", "/status").json()["workers"].values()))[
        "status"]

    assert launch(fixture, dict(CHAT_GPU, model_uid="chat-a")).status == 200
    second = launch(fixture, dict(CHAT_GPU, model_uid="chat-b"))
    embedding = launch(fixture, EMBEDDING)

    assert fixture.request("GET", "/v1/models/chat-a").json()["accelerators"] == ["0"]
    assert second.status == 503
    assert second.json() == {"detail": "No available slot found for the model"}
    assert embedding.status == 200
    assert fixture.request("DELETE", "/v1/models/chat-a").status == 200
    assert launch(fixture, dict(CHAT_GPU, model_uid="chat-b")).status == 200


def test_gpu_engine_rejected_without_gpu(start_fixture):
    fixture = start_fixture()

    response = launch(fixture, dict(CHAT_GPU, model_engine="vLLM", model_uid="chat-v"))

    assert response.status == 400
    assert "GPU" in response.json()["detail"]


def test_openai_calls_check_model_ability(start_fixture):
    fixture = start_fixture()
    launch(fixture, EMBEDDING)
    launch(fixture, CHAT_CPU)

    chat_on_embedding = fixture.request("POST", "/v1/chat/completions", {
        "model": "smoke-emb", "messages": [{"role": "user", "content": "hi"}]})
    embed_on_chat = fixture.request("POST", "/v1/embeddings", {"model": "smoke-chat", "input": "x"})
    bad_last_role = fixture.request("POST", "/v1/chat/completions", {
        "model": "smoke-chat", "messages": [{"role": "assistant", "content": "hi"}]})

    assert chat_on_embedding.status == 400
    assert embed_on_chat.status == 400
    assert bad_last_role.status == 400


def test_embeddings_are_deterministic_unit_vectors(start_fixture):
    fixture = start_fixture()
    launch(fixture, EMBEDDING)

    body = {"model": "smoke-emb", "input": ["hello", "world", "hello"]}
    data = fixture.request("POST", "/v1/embeddings", body).json()["data"]

    assert [len(item["embedding"]) for item in data] == [384, 384, 384]
    assert data[0]["embedding"] == data[2]["embedding"]
    assert data[0]["embedding"] != data[1]["embedding"]
    assert abs(sum(v * v for v in data[0]["embedding"]) - 1.0) < 1e-9


def test_chat_stream_sends_events(start_fixture):
    fixture = start_fixture()
    launch(fixture, CHAT_CPU)

    response = fixture.request("POST", "/v1/chat/completions", {
        "model": "smoke-chat", "messages": [{"role": "user", "content": "hi"}], "stream": True})

    assert response.status == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.endswith("data: [DONE]\n\n")


# ---------------------------------------------------------------------------------------------
# Bad input


BAD_LAUNCH_BODIES = {
    "malformed_json": "{not json",
    "not_an_object": "[1, 2]",
    "deep_nesting": "[" * 100000 + "]" * 100000,
    "unknown_model_type": json.dumps({"model_name": "bge-small-en-v1.5", "model_type": "video"}),
    "uid_too_long": json.dumps(dict(EMBEDDING, model_uid="u" * 101)),
    "uid_not_string": json.dumps(dict(EMBEDDING, model_uid=7)),
    "replica_zero": json.dumps(dict(EMBEDDING, replica=0)),
    "replica_string": json.dumps(dict(EMBEDDING, replica="2")),
    "n_gpu_word": json.dumps(dict(EMBEDDING, n_gpu="all")),
    "unknown_engine": json.dumps(dict(CHAT_CPU, model_engine="TensorRT")),
    "unknown_quantization": json.dumps(dict(CHAT_CPU, quantization="q2_k")),
    "name_not_string": json.dumps({"model_name": ["bge-small-en-v1.5"],
                                   "model_type": "embedding"}),
}


@pytest.mark.parametrize("case", sorted(BAD_LAUNCH_BODIES))
def test_bad_launch_body_rejected(start_fixture, case):
    fixture = start_fixture()

    response = fixture.request("POST", "/v1/models", raw=BAD_LAUNCH_BODIES[case])

    assert response.status == 400
    assert isinstance(response.json()["detail"], str)
    assert fixture.request("GET", "/status").status == 200


def test_unknown_route_and_method(start_fixture):
    fixture = start_fixture()

    assert fixture.request("GET", "/v1/nothing").json() == {"detail": "Not Found"}
    assert fixture.request("GET", "/v1/nothing").status == 404
    assert fixture.request("PUT", "/v1/models").status == 405
    assert fixture.request("PUT", "/v1/models").json() == {"detail": "Method Not Allowed"}


def test_invalid_wait_ready_gives_422(start_fixture):
    fixture = start_fixture()

    response = fixture.request("POST", "/v1/models?wait_ready=maybe", EMBEDDING)

    assert response.status == 422
    assert response.json()["detail"][0]["loc"] == ["query", "wait_ready"]
    assert model_ids(fixture) == []


def test_oversized_body_rejected(start_fixture):
    fixture = start_fixture()
    connection = http.client.HTTPConnection(fixture.host, fixture.port, timeout=10)
    connection.putrequest("POST", "/v1/models")
    connection.putheader("Content-Length", str(1 << 40))
    connection.endheaders()

    response = connection.getresponse()

    assert response.status == 413
    connection.close()
    assert fixture.request("GET", "/status").status == 200


# ---------------------------------------------------------------------------------------------
# Concurrency


def test_concurrent_requests(start_fixture):
    fixture = start_fixture(env={"XB_FIXTURE_LAUNCH_DELAY_S": "0.5"})
    launches = [dict(EMBEDDING, model_uid=f"emb-{i}") for i in range(8)]

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=48) as pool:
        launched = [pool.submit(launch, fixture, body) for body in launches]
        probes = [pool.submit(fixture.request, "GET", "/status") for _ in range(40)]
        launch_statuses = [future.result().status for future in launched]
        probe_statuses = [future.result().status for future in probes]
    elapsed = time.monotonic() - started

    assert launch_statuses == [200] * 8
    assert probe_statuses == [200] * 40
    # Eight serial launches would take 4 s.
    assert elapsed < 3.0
    assert sorted(model_ids(fixture)) == sorted(body["model_uid"] for body in launches)


def test_concurrent_duplicate_launch_admits_one(start_fixture):
    fixture = start_fixture()

    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(f.result().status for f in
                          [pool.submit(launch, fixture, EMBEDDING) for _ in range(10)])

    assert statuses == [200] + [400] * 9
