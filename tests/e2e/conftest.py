"""Shared helpers for the end-to-end tests.

The tests start the real `xblocks server` binary (path in $XBLOCKS_BIN) on a temporary data dir,
then drive it with the real kubectl binaries, raw HTTPS requests and the official Python client.
Test modules import the helpers below with `from conftest import ...`.
"""

import contextlib
import http.client
import json
import os
import re
import signal
import ssl
import subprocess
import time
import urllib.parse

import pytest
import yaml

FIXTURES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures")
XBLOCKS_BIN = os.environ.get("XBLOCKS_BIN", "/work/main/build/xblocks")
KUBECTL_DIR = "/usr/lib/google-cloud-sdk/bin"
KUBECTL_VERSIONS = ("1.27", "1.33")

START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 30
KUBECTL_TIMEOUT_SECONDS = 120
LOG_TAIL_LINES = 60

# `xblocks server` flags for pods that run without a process on three nodes, one per replica of a
# three-replica cluster with pod anti-affinity.
SIMULATED_ARGS = ("--runtime", "simulated", "--nodes", "3")

CLUSTERS = "/apis/apps.kubeblocks.io/v1alpha1"
CLUSTER_DEPRECATION = "The ClusterVersion CRD has been deprecated since 0.9.0"

# The tutorial's Cluster manifest, verbatim (the heredoc of "创建集群"). It is a file of its own
# because bench/cluster_scale_bench.cc creates it too.
with open(os.path.join(FIXTURES_DIR, "tutorial_cluster.yaml")) as _manifest:
    TUTORIAL_CLUSTER = _manifest.read()

# Every Server created in this session, so a failing test can show the logs of the servers it used.
_SERVERS = []

# A marker for "use the server's own token" in Server.api().
_SERVER_TOKEN = object()


class ApiResponse:
    """One HTTP response: status code, headers (case-insensitive) and the body parsed as JSON
    when it is JSON, else the text. Unpacks as (status, headers, body)."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def __iter__(self):
        return iter((self.status, self.headers, self.body))

    def __repr__(self):
        return f"ApiResponse(status={self.status}, body={self.body!r:.2000})"


class WatchStream:
    """An open watch: newline-delimited JSON events read from a chunked HTTPS response."""

    def __init__(self, connection, socket, response):
        self.connection = connection
        self.socket = socket
        self.response = response
        self.status = response.status

    def next_event(self, timeout=10):
        """Return the next event as a dict, or None when the server ended the stream.
        Raises TimeoutError when no event arrives within `timeout` seconds."""
        self.socket.settimeout(timeout)
        line = self.response.readline()
        while line == b"\n":
            line = self.response.readline()
        if not line:
            return None
        return json.loads(line)

    def events_until(self, predicate, timeout=20):
        """Read events until one satisfies `predicate`, returning every event read. Fails the
        test when the stream ends or `timeout` seconds pass first."""
        deadline = time.monotonic() + timeout
        events = []
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"timed out waiting for a watch event; events so far: {events}"
            try:
                event = self.next_event(timeout=remaining)
            except (TimeoutError, OSError) as error:
                pytest.fail(f"no matching watch event ({error}); events so far: {events}")
            assert event is not None, f"the watch ended early; events so far: {events}"
            events.append(event)
            if predicate(event):
                return events

    def close(self):
        self.response.close()
        self.connection.close()


class Server:
    """An `xblocks server` process on a data dir, listening on 127.0.0.1 with a free port."""

    def __init__(self, work_dir, args=()):
        self.work_dir = str(work_dir)
        self.args = list(args)  # extra `xblocks server` flags, e.g. ["--runtime", "simulated"]
        self.data_dir = os.path.join(self.work_dir, "data")
        self.log_path = os.path.join(self.work_dir, "server.log")
        os.makedirs(self.data_dir, exist_ok=True)
        self.process = None
        self.log_file = None
        self.port = None
        self.token = None
        self.starts = 0
        _SERVERS.append(self)

    @property
    def kubeconfig(self):
        return os.path.join(self.data_dir, "kubeconfig")

    @property
    def ca_path(self):
        return os.path.join(self.data_dir, "ca.crt")

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, timeout=START_TIMEOUT_SECONDS):
        """Start the binary and wait until it writes a new kubeconfig; read the port and token."""
        assert self.process is None or self.process.poll() is not None, "the server is already running"
        assert os.path.exists(XBLOCKS_BIN), f"xblocks binary not found at {XBLOCKS_BIN}; set XBLOCKS_BIN"
        previous = _file_identity(self.kubeconfig)
        self.log_file = open(self.log_path, "ab")
        self.log_file.write(f"--- start #{self.starts + 1}\n".encode())
        self.log_file.flush()
        self.process = subprocess.Popen(
            [XBLOCKS_BIN, "server", "--data-dir", self.data_dir, "--listen", "127.0.0.1:0", *self.args],
            stdin=subprocess.DEVNULL, stdout=self.log_file, stderr=self.log_file)
        self.starts += 1
        self._wait_for_kubeconfig(previous, timeout)
        self._read_kubeconfig()
        return self

    def _wait_for_kubeconfig(self, previous, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"xblocks exited with code {self.process.returncode} before it was ready:\n"
                            f"{self.log_tail()}")
            current = _file_identity(self.kubeconfig)
            if current is not None and current != previous:
                return
            time.sleep(0.05)
        pytest.fail(f"xblocks did not write {self.kubeconfig} within {timeout}s:\n{self.log_tail()}")

    def _read_kubeconfig(self):
        with open(self.kubeconfig) as f:
            config = yaml.safe_load(f)
        url = urllib.parse.urlparse(config["clusters"][0]["cluster"]["server"])
        assert url.scheme == "https", f"kubeconfig server is not HTTPS: {url.geturl()}"
        self.port = url.port
        self.token = config["users"][0]["user"]["token"]

    def stop(self, timeout=STOP_TIMEOUT_SECONDS):
        """Stop the server with SIGTERM and assert that it exits with code 0."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"xblocks did not exit within {timeout}s of SIGTERM:\n{self.log_tail()}")
        self._close_log()
        assert code == 0, f"xblocks exited with code {code} after SIGTERM:\n{self.log_tail()}"

    def kill(self):
        """Kill the server with SIGKILL (a crash) and reap it."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.kill()
        self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        self._close_log()

    def restart(self):
        """Stop with SIGTERM if running, then start again on the same data dir."""
        self.stop()
        return self.start()

    def close(self):
        """Stop the server; kill it if it does not stop. For fixture teardown."""
        try:
            self.stop()
        finally:
            self.kill()

    def running(self):
        return self.process is not None and self.process.poll() is None

    def _close_log(self):
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None

    def log_tail(self, lines=LOG_TAIL_LINES):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode(errors="replace")
        except OSError as error:
            return f"(no server log: {error})"
        return "\n".join(text.splitlines()[-lines:])

    # -- clients ---------------------------------------------------------------------------

    def ssl_context(self):
        return ssl.create_default_context(cafile=self.ca_path)

    def connect(self, timeout=30):
        return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                           context=self.ssl_context())

    def api(self, method, path, body=None, headers=None, token=_SERVER_TOKEN, timeout=30):
        """Send one HTTPS request and return an ApiResponse (status, headers, JSON or text).

        `body` may be a dict or list (sent as JSON), str or bytes (sent as is). `token` None
        sends no Authorization header; a string sends that bearer token."""
        connection = self.connect(timeout=timeout)
        try:
            connection.putrequest(method, path, skip_accept_encoding=True)
            for name, value in self._request_headers(body, headers, token).items():
                connection.putheader(name, value)
            payload = _encode_body(body)
            if payload is not None:
                connection.putheader("Content-Length", str(len(payload)))
            connection.endheaders()
            if payload is not None:
                _send_tolerating_close(connection, payload)
            response = connection.getresponse()
            return _read_response(response)
        finally:
            connection.close()

    def _request_headers(self, body, headers, token):
        result = {"Accept": "application/json"}
        if body is not None:
            result["Content-Type"] = "application/json"
        if token is _SERVER_TOKEN:
            token = self.token
        if token is not None:
            result["Authorization"] = f"Bearer {token}"
        result.update(headers or {})
        return result

    def watch(self, path, timeout=30):
        """Open a watch request (the caller adds watch=true to `path`) and return a WatchStream."""
        connection = self.connect(timeout=timeout)
        # http.client hands the socket to the response when the server sends Connection: close,
        # so keep a reference for per-read timeouts.
        connection.connect()
        socket = connection.sock
        connection.request("GET", path, headers={
            "Accept": "application/json", "Authorization": f"Bearer {self.token}"})
        response = connection.getresponse()
        if response.status != 200:
            body = response.read().decode(errors="replace")
            connection.close()
            pytest.fail(f"watch {path} returned {response.status}: {body}")
        return WatchStream(connection, socket, response)

    def kubectl_env(self, version, env=None):
        home = os.path.join(self.work_dir, f"home-{version}")
        os.makedirs(home, exist_ok=True)
        result = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
                  "KUBECONFIG": self.kubeconfig, "KUBECACHEDIR": self.cache_dir(version)}
        result.update(env or {})
        return result

    def cache_dir(self, version):
        return os.path.join(self.work_dir, f"kubectl-cache-{version}")

    def kubectl_command(self, version, *args):
        binary = os.path.join(KUBECTL_DIR, f"kubectl.{version}")
        return [binary, "--kubeconfig", self.kubeconfig, "--cache-dir", self.cache_dir(version), *args]

    def kubectl(self, version, *args, input=None, env=None, timeout=KUBECTL_TIMEOUT_SECONDS):
        """Run kubectl.<version> against this server; return the CompletedProcess (text mode)."""
        return subprocess.run(self.kubectl_command(version, *args), input=input, capture_output=True,
                              text=True, env=self.kubectl_env(version, env), timeout=timeout)

    def kubectl_background(self, version, *args, output_path):
        """Start kubectl with stdout and stderr going to `output_path`; return the Popen."""
        output = open(output_path, "wb")
        try:
            return subprocess.Popen(self.kubectl_command(version, *args), stdin=subprocess.DEVNULL,
                                    stdout=output, stderr=subprocess.STDOUT,
                                    env=self.kubectl_env(version))
        finally:
            output.close()

    # -- common requests -------------------------------------------------------------------

    def create_namespace(self, name):
        response = self.api("POST", "/api/v1/namespaces",
                            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        assert response.status == 201, f"creating namespace {name} failed: {response}"
        return response.body

    def delete_namespace(self, name, timeout=60):
        """Delete a namespace and wait until its GET returns 404."""
        self.api("DELETE", f"/api/v1/namespaces/{name}")
        wait_for(lambda: self.api("GET", f"/api/v1/namespaces/{name}").status == 404,
                 timeout=timeout, message=f"namespace {name} still exists")

    def create_configmap(self, namespace, name, data=None, metadata=None):
        meta = {"name": name}
        meta.update(metadata or {})
        response = self.api("POST", f"/api/v1/namespaces/{namespace}/configmaps",
                            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
                             "data": data or {}})
        assert response.status == 201, f"creating configmap {namespace}/{name} failed: {response}"
        return response.body

    def create_cluster(self, namespace, name="mycluster", manifest=None):
        body = manifest or tutorial_cluster(namespace, name)
        response = self.api("POST", cluster_path(namespace), body)
        assert response.status == 201, f"creating cluster {namespace}/{name} failed: {response}"
        return response.body


# -- free helpers -----------------------------------------------------------------------------

def _file_identity(path):
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def _encode_body(body):
    if body is None:
        return None
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


def _send_tolerating_close(connection, payload):
    # The server may answer (413) and close before reading a large body; the answer is still
    # readable, so a failed send is not an error here.
    try:
        connection.send(payload)
    except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
        pass


def _read_response(response):
    raw = response.read()
    text = raw.decode(errors="replace")
    body = text
    if "json" in (response.getheader("Content-Type") or "") or text.startswith("{"):
        try:
            body = json.loads(text)
        except ValueError:
            body = text
    return ApiResponse(response.status, response.headers, body)


def wait_for(predicate, timeout=30, interval=0.1, message="condition not met"):
    """Poll `predicate` until it returns a truthy value, and return that value. Fails the test
    after `timeout` seconds, showing `message` and the last value."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"{message} after {timeout}s; last value: {value!r}")


def wait_for_value(read, expected, timeout=30, interval=0.2, message="value not reached"):
    """Poll `read()` until it returns `expected`. Fails the test after `timeout` seconds, showing
    `message`, the expected value and the last value read."""
    deadline = time.monotonic() + timeout
    value = read()
    while value != expected:
        if time.monotonic() >= deadline:
            pytest.fail(f"{message} after {timeout}s; expected {expected!r}, last value: {value!r}")
        time.sleep(interval)
        value = read()
    return value


def parse_table(text):
    """Parse kubectl's column output into (header names, rows as dicts by header name).

    Columns start where their header starts (kubectl aligns cells with a tab writer), so empty
    cells are kept. Header names may contain single spaces ("LAST SEEN")."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return [], []
    header = lines[0]
    columns = [(m.group(0), m.start()) for m in re.finditer(r"\S+(?: \S+)*", header)]
    names = [name for name, _ in columns]
    rows = []
    for line in lines[1:]:
        row = {}
        for index, (name, start) in enumerate(columns):
            end = columns[index + 1][1] if index + 1 < len(columns) else None
            row[name] = line[start:end].strip()
        rows.append(row)
    return names, rows


def cluster_path(namespace, name=None, subresource=None):
    path = f"{CLUSTERS}/namespaces/{namespace}/clusters"
    if name:
        path += f"/{name}"
    if subresource:
        path += f"/{subresource}"
    return path


def configmap_path(namespace, name=None):
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    return f"{path}/{name}" if name else path


def tutorial_cluster_yaml(namespace="demo", name="mycluster"):
    """The tutorial manifest with its namespace and name replaced."""
    text = TUTORIAL_CLUSTER.replace("namespace: demo", f"namespace: {namespace}")
    return text.replace("name: mycluster", f"name: {name}")


def tutorial_cluster(namespace="demo", name="mycluster"):
    return yaml.safe_load(tutorial_cluster_yaml(namespace, name))


def status_causes(body):
    """The (field, reason) pairs of a Status body's details.causes."""
    if not isinstance(body, dict):
        return []
    causes = (body.get("details") or {}).get("causes") or []
    return [(cause.get("field"), cause.get("reason")) for cause in causes]


# -- fixtures ---------------------------------------------------------------------------------

@contextlib.contextmanager
def running(instance):
    """Start `instance` and close it when the block ends, even when the start fails."""
    try:
        instance.start()
        yield instance
    finally:
        instance.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server shared by the tests of a module; tests use their own namespaces."""
    with running(Server(tmp_path_factory.mktemp("xblocks"))) as instance:
        yield instance


@pytest.fixture
def simulated_server(tmp_path_factory):
    """A server of this test alone whose pods run without a process on three nodes. Each test
    gets its own, so pods left by one test never take node capacity from the next."""
    with running(Server(tmp_path_factory.mktemp("xblocks-sim"), args=SIMULATED_ARGS)) as instance:
        yield instance


@pytest.fixture
def fresh_server(tmp_path_factory):
    """A server of this test alone, for tests that crash or restart it."""
    instance = Server(tmp_path_factory.mktemp("xblocks-fresh"))
    try:
        yield instance
    finally:
        instance.close()


@pytest.fixture
def kubectl(server):
    return server.kubectl


@pytest.fixture
def api(server):
    return server.api


_namespace_counter = [0]


@pytest.fixture
def namespace(server, request):
    """A new namespace named after the test, deleted afterwards."""
    _namespace_counter[0] += 1
    base = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")
    name = f"{base[:40].strip('-')}-{_namespace_counter[0]}"
    server.create_namespace(name)
    yield name
    if server.running():
        server.api("DELETE", f"/api/v1/namespaces/{name}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for index, instance in enumerate(_SERVERS):
            if os.path.exists(instance.log_path) and _used_by(instance, item):
                report.sections.append((f"xblocks server {index} log ({instance.log_path})",
                                        instance.log_tail()))


def _used_by(instance, item):
    # A server is shown when it is still running, or when it belongs to this test's fixtures.
    if instance.running():
        return True
    funcargs = getattr(item, "funcargs", {}) or {}
    return any(value is instance for value in funcargs.values())
