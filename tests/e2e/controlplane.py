"""A real Kubernetes control plane on 127.0.0.1 for the operator-mode tests.

ControlPlane builds (or finds in its cache) etcd, kube-apiserver, kube-controller-manager,
kube-scheduler and kwok with tests/controlplane/build.sh, makes certificates for the run and
starts each component on loopback with its log in work_dir/<name>.log. kwok acts as the kubelet
of `nodes` fake nodes, so the real kube-scheduler places pods and kwok marks them Running
without a container runtime.

    with ControlPlane(tmp_dir) as control_plane:
        control_plane.kubectl("get", "nodes")
"""

import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time

import yaml

from controlplane_pki import CLIENTS, Pki

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_SCRIPT = os.path.join(REPO_ROOT, "tests", "controlplane", "build.sh")
KUBECTL = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33"

BUILD_TIMEOUT_SECONDS = 3600
READY_TIMEOUT_SECONDS = 120
STOP_GRACE_SECONDS = 20
KUBECTL_TIMEOUT_SECONDS = 120
HTTP_TIMEOUT_SECONDS = 5
BIND_ATTEMPTS = 3
LOG_TAIL_LINES = 40

# Service ClusterIPs are only allocated, never routed: no kube-proxy runs and nothing connects to
# them. kwok writes pod IPs from POD_CIDR into pod status only. Nodes report 127.0.0.1 as their
# InternalIP and kube-apiserver reaches kubelets only by InternalIP, so a `kubectl logs` or `exec`
# stays on loopback too.
SERVICE_CLUSTER_IP_RANGE = "10.96.0.0/16"
POD_CIDR = "10.244.0.1/16"
NODE_IP = "127.0.0.1"

# kwok manages the nodes that carry this annotation.
KWOK_NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")

# Process log lines that mean another process bound a port between free_ports() and the bind.
PORT_TAKEN_MESSAGES = ("address already in use",)


class ControlPlaneError(RuntimeError):
    """The control plane failed to build, start or become ready."""


class PortTaken(Exception):
    """A component exited because another process bound its port first."""


class Component:
    """One control-plane process, with stdout and stderr appended to `log_path`."""

    def __init__(self, name, log_path):
        self.name = name
        self.log_path = log_path
        self.process = None
        self._log_file = None
        self._log_offset = 0

    def start(self, command, env=None):
        self._close_log()
        self._log_file = open(self.log_path, "ab")
        self._log_offset = self._log_file.tell()
        self._log_file.write(f"--- start: {' '.join(command)}\n".encode())
        self._log_file.flush()
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=self._log_file,
                                        stderr=subprocess.STDOUT, env=env)

    def running(self):
        return self.process is not None and self.process.poll() is None

    def exited(self):
        return self.process is not None and self.process.poll() is not None

    def port_taken(self):
        """Whether the process exited and its log since the last start reports a bind error."""
        if not self.exited():
            return False
        text = self._read_log(self._log_offset).lower()
        return any(message in text for message in PORT_TAKEN_MESSAGES)

    def log_tail(self, lines=LOG_TAIL_LINES):
        text = self._read_log(0)
        tail = "\n".join(text.splitlines()[-lines:])
        return f"last {lines} lines of {self.log_path}:\n{tail}"

    def stop(self, grace=STOP_GRACE_SECONDS):
        """Send SIGTERM, then SIGKILL if the process is still running after `grace` seconds."""
        if self.running():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close_log()

    def _read_log(self, offset):
        try:
            with open(self.log_path, "rb") as log:
                log.seek(offset)
                return log.read().decode(errors="replace")
        except OSError as error:
            return f"(log not readable: {error})"

    def _close_log(self):
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


class ControlPlane:
    """etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok on 127.0.0.1,
    with `nodes` kwok nodes named kwok-node-0 and up. Its admin kubeconfig is `kubeconfig`."""

    def __init__(self, work_dir, nodes=3):
        self.work_dir = str(work_dir)
        self.node_names = [f"kwok-node-{index}" for index in range(nodes)]
        self.pki = Pki(os.path.join(self.work_dir, "pki"))
        self.kubeconfig = os.path.join(self.work_dir, "admin.kubeconfig")
        self.bin_dir = None
        self.apiserver_port = None
        self.components = []  # in start order

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc_info):
        self.close()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self):
        """Build or find the binaries, start every component and wait until all nodes are
        schedulable. Raises ControlPlaneError with the failing component's log tail."""
        os.makedirs(self.work_dir, exist_ok=True)
        self.bin_dir = self._build()
        self.pki.generate()
        etcd_url = self._start_etcd()
        self._start_apiserver(etcd_url)
        self._write_kubeconfigs()
        self._start_controller_manager()
        self._start_scheduler()
        self._start_kwok()
        self._create_nodes()
        self._wait_for_nodes_schedulable()
        self._wait_for_default_service_account()
        return self

    def close(self):
        """Stop every started process, newest first, by PID: SIGTERM, then SIGKILL after
        STOP_GRACE_SECONDS. Safe to call after a failed start and more than once."""
        for component in reversed(self.components):
            component.stop()

    def component(self, name):
        for component in self.components:
            if component.name == name:
                return component
        started = [component.name for component in self.components]
        raise KeyError(f"no component named {name}; started components: {started}")

    # -- clients ---------------------------------------------------------------------------

    def kubectl(self, *args, input=None, timeout=KUBECTL_TIMEOUT_SECONDS):
        """Run kubectl 1.33 with the admin kubeconfig and return the CompletedProcess (text)."""
        home = os.path.join(self.work_dir, "kubectl-home")
        os.makedirs(home, exist_ok=True)
        command = [KUBECTL, "--kubeconfig", self.kubeconfig,
                   "--cache-dir", os.path.join(self.work_dir, "kubectl-cache"), *args]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home}
        return subprocess.run(command, input=input, capture_output=True, text=True, env=env,
                              timeout=timeout)

    def api_get(self, path):
        """Send GET `path` to kube-apiserver as the admin user and return (status, body), with
        the body parsed as JSON when it is JSON."""
        return _https_get(self.apiserver_port, path, self._admin_ssl_context())

    def _admin_ssl_context(self):
        context = ssl.create_default_context(cafile=self.pki.ca_cert)
        context.load_cert_chain(self.pki.client_cert("admin"), self.pki.client_key("admin"))
        return context

    # -- build -----------------------------------------------------------------------------

    def _build(self):
        """Run build.sh (quick when its cache is complete) and return its bin dir. Its progress
        is copied to stderr and to work_dir/build.log."""
        log_path = os.path.join(self.work_dir, "build.log")
        # build.sh gets a process group of its own, so that a timeout or an interrupt ends the
        # `go build` it runs as well.
        process = subprocess.Popen([BUILD_SCRIPT], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            with open(log_path, "w") as log:
                timed_out = _copy_build_progress(process, log)
            bin_dir = process.stdout.read().strip()
            code = process.wait()
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if timed_out:
            raise ControlPlaneError(f"{BUILD_SCRIPT} timed out after {BUILD_TIMEOUT_SECONDS} s; "
                                    f"{_file_tail(log_path)}")
        if code != 0 or not os.path.isdir(bin_dir):
            raise ControlPlaneError(f"{BUILD_SCRIPT} failed with exit code {code}; "
                                    f"{_file_tail(log_path)}")
        return bin_dir

    # -- components ------------------------------------------------------------------------

    def _start_etcd(self):
        """Start a one-member etcd and return its client URL."""
        data_dir = os.path.join(self.work_dir, "etcd-data")
        urls = {}

        def command():
            client_port, peer_port = free_ports(2)
            urls["client"] = f"http://127.0.0.1:{client_port}"
            peer_url = f"http://127.0.0.1:{peer_port}"
            # A failed attempt may have bootstrapped the data dir with another peer URL.
            shutil.rmtree(data_dir, ignore_errors=True)
            return [self._binary("etcd"), "--name", "controlplane", "--data-dir", data_dir,
                    "--listen-client-urls", urls["client"],
                    "--advertise-client-urls", urls["client"],
                    "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
                    "--initial-cluster", f"controlplane={peer_url}",
                    "--initial-cluster-state", "new",
                    # The data dir is thrown away after the run, so skip the fsync cost.
                    "--unsafe-no-fsync"]

        def ready():
            status, body = _http_get(urls["client"], "/health")
            return status == 200 and isinstance(body, dict) and body.get("health") == "true"

        self._start_component("etcd", command, ready, "etcd /health")
        return urls["client"]

    def _start_apiserver(self, etcd_url):
        pki = self.pki

        def command():
            (self.apiserver_port,) = free_ports(1)
            return [self._binary("kube-apiserver"),
                    "--etcd-servers", etcd_url,
                    "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
                    "--secure-port", str(self.apiserver_port),
                    "--cert-dir", os.path.join(self.work_dir, "kube-apiserver-certs"),
                    "--tls-cert-file", pki.server_cert("kube-apiserver"),
                    "--tls-private-key-file", pki.server_key("kube-apiserver"),
                    "--client-ca-file", pki.ca_cert,
                    "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
                    "--service-account-key-file", pki.service_account_public_key,
                    "--service-account-signing-key-file", pki.service_account_key,
                    "--service-cluster-ip-range", SERVICE_CLUSTER_IP_RANGE,
                    "--authorization-mode", "Node,RBAC",
                    "--allow-privileged=true",
                    "--kubelet-preferred-address-types", "InternalIP",
                    # Endpoints reject loopback addresses, so the `kubernetes` Service gets no
                    # endpoints rather than a reconcile error logged every 10 seconds.
                    "--endpoint-reconciler-type", "none"]

        def ready():
            status, body = self.api_get("/readyz")
            return status == 200 and body == "ok"

        self._start_component("kube-apiserver", command, ready, "kube-apiserver /readyz")

    def _start_controller_manager(self):
        pki = self.pki
        kubeconfig = self._kubeconfig_path("kube-controller-manager")

        def command(port):
            return [self._binary("kube-controller-manager"),
                    *self._serving_flags("kube-controller-manager", port, kubeconfig),
                    "--root-ca-file", pki.ca_cert,
                    "--service-account-private-key-file", pki.service_account_key,
                    "--use-service-account-credentials=true",
                    # kwok renews node heartbeats late when 2 cores also run kube-apiserver under
                    # load. After the default 50 s the node controller marks every pod NotReady,
                    # and kwok never marks them Ready again.
                    "--node-monitor-grace-period=5m"]

        self._start_healthz_component("kube-controller-manager", command)

    def _start_scheduler(self):
        kubeconfig = self._kubeconfig_path("kube-scheduler")

        def command(port):
            return [self._binary("kube-scheduler"),
                    *self._serving_flags("kube-scheduler", port, kubeconfig)]

        self._start_healthz_component("kube-scheduler", command)

    def _start_kwok(self):
        """Start kwok; it opens no port, and the nodes turning Ready show that it works."""
        # kwok also reads ~/.kwok/kwok.yaml when it exists; a work dir of its own keeps a
        # developer's configuration out of the tests.
        env = dict(os.environ, KWOK_WORKDIR=os.path.join(self.work_dir, "kwok"))
        annotation = "=".join(KWOK_NODE_ANNOTATION)
        command = [self._binary("kwok"), "--kubeconfig", self._kubeconfig_path("kwok"),
                   "--manage-all-nodes=false",
                   "--manage-nodes-with-annotation-selector", annotation,
                   "--node-ip", NODE_IP, "--cidr", POD_CIDR,
                   # Node Leases are the heartbeat kube-controller-manager reads. Without them
                   # kwok patches node status only every few minutes, and under load that came
                   # later than the grace period, so every pod turned NotReady for good.
                   "--node-lease-duration-seconds", "40"]
        component = Component("kwok", os.path.join(self.work_dir, "kwok.log"))
        self.components.append(component)
        component.start(command, env=env)

    def _serving_flags(self, name, port, kubeconfig):
        """Return the flags that kube-controller-manager and kube-scheduler share: API access,
        HTTPS on 127.0.0.1 with a CA-signed certificate, and one instance without leader
        election."""
        return ["--kubeconfig", kubeconfig,
                "--authentication-kubeconfig", kubeconfig,
                "--authorization-kubeconfig", kubeconfig,
                # kube-apiserver runs without front-proxy (request header) authentication, so
                # its kube-system/extension-apiserver-authentication ConfigMap has no request
                # header CA, and a lookup would log a "missing content" error every few seconds.
                "--authentication-skip-lookup=true",
                "--bind-address", "127.0.0.1", "--secure-port", str(port),
                "--tls-cert-file", self.pki.server_cert(name),
                "--tls-private-key-file", self.pki.server_key(name),
                "--leader-elect=false"]

    def _start_healthz_component(self, name, command_for_port):
        """Start a component that serves /healthz on a free port and wait until it returns ok."""
        ports = {}

        def command():
            (ports["secure"],) = free_ports(1)
            return command_for_port(ports["secure"])

        def ready():
            context = ssl.create_default_context(cafile=self.pki.ca_cert)
            status, body = _https_get(ports["secure"], "/healthz", context)
            return status == 200 and body == "ok"

        self._start_component(name, command, ready, f"{name} /healthz")

    def _start_component(self, name, command, ready, description):
        """Start `name` with `command()` and wait until `ready()`. A component that exits because
        its port was taken is started again with new ports from `command()`."""
        component = Component(name, os.path.join(self.work_dir, f"{name}.log"))
        self.components.append(component)
        for attempt in range(1, BIND_ATTEMPTS + 1):
            component.start(command())
            try:
                self._wait_for(description, ready, component)
                return
            except PortTaken:
                if attempt == BIND_ATTEMPTS:
                    raise ControlPlaneError(f"{name} found its port taken {BIND_ATTEMPTS} times; "
                                            f"{component.log_tail()}") from None

    def _binary(self, name):
        return os.path.join(self.bin_dir, name)

    # -- kubeconfigs, nodes ----------------------------------------------------------------

    def _kubeconfig_path(self, client):
        if client == "admin":
            return self.kubeconfig
        return os.path.join(self.work_dir, f"{client}.kubeconfig")

    def _write_kubeconfigs(self):
        """Write one kubeconfig per client certificate; the admin one is `self.kubeconfig`."""
        server = f"https://127.0.0.1:{self.apiserver_port}"
        for client in CLIENTS:
            config = {
                "apiVersion": "v1", "kind": "Config", "current-context": client,
                "clusters": [{"name": "controlplane", "cluster": {
                    "server": server, "certificate-authority": self.pki.ca_cert}}],
                "users": [{"name": client, "user": {
                    "client-certificate": self.pki.client_cert(client),
                    "client-key": self.pki.client_key(client)}}],
                "contexts": [{"name": client, "context": {
                    "cluster": "controlplane", "user": client}}],
            }
            with open(self._kubeconfig_path(client), "w") as f:
                yaml.safe_dump(config, f)

    def _create_nodes(self):
        manifest = {"apiVersion": "v1", "kind": "List",
                    "items": [node_manifest(name) for name in self.node_names]}
        result = self.kubectl("apply", "-f", "-", input=json.dumps(manifest))
        if result.returncode != 0:
            raise ControlPlaneError(f"kubectl apply of the kwok nodes failed with exit code "
                                    f"{result.returncode}:\n{result.stderr}")

    def _wait_for_nodes_schedulable(self):
        """Wait until every node is Ready and untainted. kube-controller-manager taints a new
        node while it is NotReady and removes the taint a moment after it turns Ready. In that
        moment the scheduler places no pod on it."""
        def schedulable():
            status, body = self.api_get("/api/v1/nodes")
            if status != 200:
                return False
            states = {node["metadata"]["name"]: node_schedulable(node) for node in body["items"]}
            return all(states.get(name) for name in self.node_names)

        self._wait_for(f"nodes {', '.join(self.node_names)} Ready and untainted", schedulable,
                       self.component("kwok"))

    def _wait_for_default_service_account(self):
        """Wait for the `default` ServiceAccount, which kube-controller-manager creates; pods
        are rejected until it exists."""
        def exists():
            return self.api_get("/api/v1/namespaces/default/serviceaccounts/default")[0] == 200

        self._wait_for("ServiceAccount default/default", exists,
                       self.component("kube-controller-manager"))

    # -- waiting ---------------------------------------------------------------------------

    def _wait_for(self, description, predicate, component, timeout=READY_TIMEOUT_SECONDS):
        """Poll `predicate` until it returns true. Raises PortTaken when `component` exited on a
        bind error, and ControlPlaneError when any component exits or `timeout` passes."""
        deadline = time.monotonic() + timeout
        while True:
            for started in self.components:
                if started is component and started.port_taken():
                    raise PortTaken(started.name)
                if started.exited():
                    raise ControlPlaneError(
                        f"{started.name} exited with code {started.process.returncode} while "
                        f"waiting for {description}; {started.log_tail()}")
            if predicate():
                return
            if time.monotonic() > deadline:
                raise ControlPlaneError(f"timed out after {timeout} s waiting for {description}; "
                                        f"{component.log_tail()}")
            time.sleep(0.2)


# -- free helpers -----------------------------------------------------------------------------

def free_ports(count):
    """Return `count` distinct TCP ports that were free on 127.0.0.1. Another process may still
    bind one before the caller does; _start_component retries in that case."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def node_manifest(name):
    """A Node that kwok manages: the kwok annotation, the usual kubelet labels, no taints."""
    key, value = KWOK_NODE_ANNOTATION
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {key: value, "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                       "kubernetes.io/arch": "amd64", "type": "kwok"},
        },
        "spec": {},
    }


def node_ready(node):
    for condition in node.get("status", {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def node_schedulable(node):
    """True when `node` is Ready and has no taint, as node_manifest creates it."""
    return node_ready(node) and not node.get("spec", {}).get("taints")


def _http_get(base_url, path):
    host_port = base_url.removeprefix("http://")
    return _get(http.client.HTTPConnection(host_port, timeout=HTTP_TIMEOUT_SECONDS), path)


def _https_get(port, path, context):
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT_SECONDS,
                                             context=context)
    return _get(connection, path)


def _get(connection, path):
    """Send one GET and return (status, body), or (None, error text) when the connection fails."""
    try:
        connection.request("GET", path, headers={"Accept": "application/json"})
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
    except (OSError, http.client.HTTPException) as error:
        return None, str(error)
    finally:
        connection.close()
    try:
        return response.status, json.loads(text)
    except ValueError:
        return response.status, text


def _copy_build_progress(process, log):
    """Copy the stderr lines of build.sh to `log` and to stderr until it closes them. Kills its
    process group and returns True once BUILD_TIMEOUT_SECONDS pass. build.sh prints a line at
    least every 30 seconds, so the deadline is checked often enough between lines."""
    deadline = time.monotonic() + BUILD_TIMEOUT_SECONDS
    for line in process.stderr:
        log.write(line)
        log.flush()
        sys.stderr.write(line)
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            return True
    return False


def _file_tail(path, lines=LOG_TAIL_LINES):
    with open(path, errors="replace") as f:
        tail = "\n".join(f.read().splitlines()[-lines:])
    return f"last {lines} lines of {path}:\n{tail}"
