"""Helpers for end-to-end tests whose replicas run as real processes: kubectl wrappers that
assert success, cluster and pod queries, and readers of the kernel's view of a replica (its
cgroup limits and processes in cgroupfs, its command line, its HTTP status).

The replicas run the Xinference test fixture (tests/fixtures/xinference_fixture.py), mapped to
the addon's image with `xblocks server --image-command`.
"""

import glob
import json
import os
import stat
import sys
import urllib.request

import yaml

from conftest import parse_table, wait_for

KUBECTL = "1.33"
FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "xinference_fixture.py")
IMAGE = "xprobe/xinference:v0.11.0-cpu"
CGROUP_ROOT = "/sys/fs/cgroup"
# Generous, because replicas start on a shared 2-core machine with a tenth of a CPU each.
RUNNING_TIMEOUT = 120


def image_command_flag(image=IMAGE):
    """The --image-command value that runs `image` as the test fixture."""
    return f"{image}={fixture_command()}"


def apply(server, manifest, version=KUBECTL):
    result = server.kubectl(version, "apply", "-f", "-", input=yaml.safe_dump(manifest))
    assert result.returncode == 0, result.stderr


def kubectl_ok(server, *args, version=KUBECTL, **kwargs):
    result = server.kubectl(version, *args, **kwargs)
    assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result.stdout


def cluster_status(server, namespace, name="mycluster"):
    _, rows = parse_table(kubectl_ok(server, "get", "cluster", name, "-n", namespace))
    return rows[0]["STATUS"]


def wait_cluster(server, namespace, status, name="mycluster", timeout=RUNNING_TIMEOUT):
    wait_for(lambda: cluster_status(server, namespace, name) == status, timeout=timeout,
             message=f"cluster {namespace}/{name} did not reach {status}")


def pods(server, namespace):
    listed = json.loads(kubectl_ok(server, "get", "pods", "-n", namespace, "-o", "json"))
    return sorted(listed["items"], key=lambda pod: pod["metadata"]["name"])


def pod(server, namespace, name):
    return json.loads(kubectl_ok(server, "get", "pod", name, "-n", namespace, "-o", "json"))


def _pod_cgroup(hierarchy, uid):
    """The pod's cgroup under `hierarchy`: <hierarchy>/xblocks-<server id>/<uid>, whichever server
    created it. Falls back to the current server-less path when none exists (the pod is gone)."""
    for path in glob.glob(os.path.join(hierarchy, "xblocks-*", uid)):
        return path
    return os.path.join(hierarchy, "xblocks-none", uid)


def cgroup_dirs(uid):
    """The pod's cgroup directories: v2 (one) or v1 (memory and cpu)."""
    if os.path.exists(os.path.join(CGROUP_ROOT, "cgroup.controllers")):
        unified = _pod_cgroup(CGROUP_ROOT, uid)
        return {"memory": unified, "cpu": unified}
    dirs = {"memory": _pod_cgroup(os.path.join(CGROUP_ROOT, "memory"), uid)}
    for name in ("cpu", "cpu,cpuacct"):
        if os.path.isdir(os.path.join(CGROUP_ROOT, name)):
            dirs["cpu"] = _pod_cgroup(os.path.join(CGROUP_ROOT, name), uid)
            break
    return dirs


def read(path):
    with open(path) as f:
        return f.read().strip()


def cgroup_limits(uid):
    """(cpu quota in microseconds per 100 ms period, memory limit in bytes) from cgroupfs."""
    dirs = cgroup_dirs(uid)
    if dirs["memory"] == dirs["cpu"]:
        quota, period = read(os.path.join(dirs["cpu"], "cpu.max")).split()
        return int(quota) * 100000 // int(period), int(read(os.path.join(dirs["memory"], "memory.max")))
    period = int(read(os.path.join(dirs["cpu"], "cpu.cfs_period_us")))
    quota = int(read(os.path.join(dirs["cpu"], "cpu.cfs_quota_us")))
    return quota * 100000 // period, int(read(os.path.join(dirs["memory"], "memory.limit_in_bytes")))


def cgroup_pids(uid):
    path = os.path.join(cgroup_dirs(uid)["memory"], "cgroup.procs")
    return [int(line) for line in read(path).split()] if os.path.exists(path) else []


def cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().replace(b"\0", b" ").decode()


def replica_pid(uid):
    """The pid of the fixture process in the pod's cgroup."""
    for pid in cgroup_pids(uid):
        try:
            if "xinference_fixture.py" in cmdline(pid):
                return pid
        except FileNotFoundError:
            continue
    return None


def http_status(ip, port=9997):
    with urllib.request.urlopen(f"http://{ip}:{port}/status", timeout=5) as response:
        return response.status


def ready(item):
    return any(c["type"] == "Ready" and c["status"] == "True" for c in item["status"].get("conditions", []))


def write_editor(tmp_path, sed_expression):
    script = tmp_path / "editor.sh"
    script.write_text(f"#!/bin/sh\nsed -i '{sed_expression}' \"$1\"\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def fixture_command(*prefix):
    return " ".join([*prefix, sys.executable, os.path.abspath(FIXTURE)])
