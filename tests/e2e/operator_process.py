"""An `xblocks operator` process for end-to-end tests, with its log in a file."""

import os
import subprocess
import time

import yaml

from conftest import XBLOCKS_BIN, wait_for

STOP_TIMEOUT_SECONDS = 20


def kubeconfig_with_port(source, destination, port):
    """Write a copy of the kubeconfig at `source` whose server uses `port` on 127.0.0.1."""
    with open(source) as f:
        config = yaml.safe_load(f)
    config["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{port}"
    with open(destination, "w") as f:
        yaml.safe_dump(config, f)
    return destination


class OperatorProcess:
    """One `xblocks operator` replica. `args` are extra flags, e.g. ["--leader-elect=false"]."""

    def __init__(self, work_dir, kubeconfig, identity, args=(), lease_namespace="default"):
        self.identity = identity
        self.log_path = os.path.join(str(work_dir), f"operator-{identity}.log")
        command = [XBLOCKS_BIN, "operator", "--kubeconfig", kubeconfig, "--identity", identity,
                   "--lease-namespace", lease_namespace, *args]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_log(self, needle, timeout=60):
        wait_for(lambda: needle in self.log(), timeout=timeout,
                 message=f"operator {self.identity} did not log {needle!r}:\n{self.log()[-3000:]}")
        return time.monotonic()

    def running(self):
        return self.process.poll() is None

    def kill(self):
        """SIGKILL, as a crash or a node loss would end it."""
        if self.running():
            self.process.kill()
        self.process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def stop(self):
        """SIGTERM; returns the exit code."""
        if self.running():
            self.process.terminate()
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"operator {self.identity} did not stop within {STOP_TIMEOUT_SECONDS} s "
                                 f"of SIGTERM:\n{self.log()[-3000:]}")
