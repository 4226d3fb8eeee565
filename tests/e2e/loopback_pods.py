"""Replicas that serve HTTP at their pod IPs on the kwok control plane.

kwok gives pods an IP but runs no process, so in operator mode nothing listens where the Model
controller calls a replica. A kwok node whose pod CIDR is on loopback (LOOPBACK_POD_CIDR) fixes
that: kwok hands its pods loopback addresses, and LoopbackReplicas starts the Xinference test
fixture (tests/fixtures/xinference_fixture.py) bound to each pod's IP. The fixture's contract is
checked against recordings of real Xinference in test_xinference_fixture.py.

kube-controller-manager cannot publish loopback addresses in EndpointSlices and logs that it
tries; nothing in these tests reads them.
"""

import ipaddress
import json
import os
import subprocess
import sys
import threading

import controlplane
from replicas import FIXTURE

NODE_NAME = "kwok-loopback"
LOOPBACK_POD_CIDR = "127.244.0.0/24"
# The label that places a cluster on the node, and the taint that keeps every other pod off it.
NETWORK_LABEL = ("xblocks.test/pod-network", "loopback")
XINFERENCE_PORT = 9997
POLL_SECONDS = 0.5
STOP_TIMEOUT_SECONDS = 10


def loopback_node_manifest():
    """A kwok node whose pods get addresses in LOOPBACK_POD_CIDR, labelled and tainted."""
    key, value = NETWORK_LABEL
    node = controlplane.node_manifest(NODE_NAME)
    node["metadata"]["labels"][key] = value
    node["spec"] = {"podCIDR": LOOPBACK_POD_CIDR, "podCIDRs": [LOOPBACK_POD_CIDR],
                    "taints": [{"key": key, "value": value, "effect": "NoSchedule"}]}
    return node


def on_loopback_node(cluster):
    """Give a Cluster manifest the nodeLabels and toleration that place it on the node."""
    key, value = NETWORK_LABEL
    spec = cluster["spec"]
    spec.setdefault("affinity", {})["nodeLabels"] = {key: value}
    spec["tolerations"] = [{"key": key, "operator": "Equal", "value": value, "effect": "NoSchedule"}]
    return cluster


class LoopbackReplicas:
    """Runs one fixture process for each Running pod of `namespace` whose IP is in
    LOOPBACK_POD_CIDR, bound to that IP, and stops it when the pod goes or changes its IP. A
    thread polls the pods with `kubectl`; `kubectl(*args)` returns a CompletedProcess."""

    def __init__(self, kubectl, namespace, log_dir):
        self.kubectl = kubectl
        self.namespace = namespace
        self.log_dir = str(log_dir)
        self.processes = {}  # pod uid -> (ip, Popen)
        self.started = []  # (pod name, ip) in start order
        self.errors = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="loopback-replicas", daemon=True)
        self._network = ipaddress.ip_network(LOOPBACK_POD_CIDR)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=30)
        for uid in list(self.processes):
            self._stop_process(uid)

    def _run(self):
        while not self._stop.is_set():
            try:
                self._sync()
            except Exception as error:  # noqa: BLE001 - kept for the test to report
                self.errors.append(repr(error))
            self._stop.wait(POLL_SECONDS)

    def _pods_to_serve(self):
        """{pod uid: (pod name, ip)} of the pods that should have a fixture now."""
        result = self.kubectl("get", "pods", "-n", self.namespace, "-o", "json")
        if result.returncode != 0:
            raise RuntimeError(f"kubectl get pods failed: {result.stderr}")
        serve = {}
        for pod in json.loads(result.stdout)["items"]:
            ip = pod.get("status", {}).get("podIP", "")
            if pod["metadata"].get("deletionTimestamp") or pod["status"].get("phase") != "Running" or not ip:
                continue
            if ipaddress.ip_address(ip) in self._network:
                serve[pod["metadata"]["uid"]] = (pod["metadata"]["name"], ip)
        return serve

    def _sync(self):
        serve = self._pods_to_serve()
        # Stop first: kwok may hand a new pod the address of one it just deleted.
        for uid, (ip, process) in list(self.processes.items()):
            if serve.get(uid, (None, None))[1] != ip or process.poll() is not None:
                self._stop_process(uid)
        for uid, (name, ip) in serve.items():
            if uid not in self.processes:
                self._start_process(uid, name, ip)

    def _start_process(self, uid, name, ip):
        home = os.path.join(self.log_dir, f"home-{uid}")
        os.makedirs(home, exist_ok=True)
        env = dict(os.environ, XINFERENCE_HOME=home)
        with open(os.path.join(self.log_dir, f"{name}-{uid}.log"), "ab") as log:
            process = subprocess.Popen(
                [sys.executable, FIXTURE, "--host", ip, "--port", str(XINFERENCE_PORT)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        self.processes[uid] = (ip, process)
        self.started.append((name, ip))

    def _stop_process(self, uid):
        _, process = self.processes.pop(uid)
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
