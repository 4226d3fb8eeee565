#!/usr/bin/env python3
"""Measures how long `xblocks operator` takes to bring many clusters to Running on a real
Kubernetes control plane, against how long kube-apiserver takes only to acknowledge their
creates.

    python bench/operator_scale_bench.py [--clusters N] [--qps Q] [--burst B] [--workers W]
                                         [--timeout S] [--work-dir DIR] [--keep]

It starts the control plane of the operator-mode tests (etcd, kube-apiserver,
kube-controller-manager, kube-scheduler, kwok with 3 nodes; tests/e2e/controlplane.py), installs
xblocks with `xblocks manifests`, and runs `xblocks operator` as a local process with the given
client rate limit. Then it creates N copies of the tutorial's Cluster (distinct names, 100m CPU
and 128Mi each, so every pod fits) with one `kubectl create`, and times:
  - baseline: from the start of that kubectl call until it returns, when every create is
    acknowledged;
  - result: from the same start until every cluster's status.phase is Running.
It lists the clusters every 2 seconds and prints how many are Running. At the end it prints both
times, their ratio, and the peak resident memory (VmHWM) of the operator and of kube-apiserver.
Every process is stopped at the end; DIR is removed unless --keep is given.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

import yaml  # noqa: E402

from controlplane import KUBECTL, ControlPlane  # noqa: E402

XBLOCKS = os.environ.get("XBLOCKS_BIN", os.path.join(ROOT, "build", "xblocks"))
NAMESPACE = "bench"


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def kubectl(control_plane, *args, input=None, check=True):
    result = subprocess.run([KUBECTL, "--kubeconfig", control_plane.kubeconfig, *args], input=input,
                            capture_output=True, text=True, timeout=600)
    if check and result.returncode != 0:
        raise SystemExit(f"kubectl {' '.join(args)} failed: {result.stderr}")
    return result.stdout


def cluster_list(count):
    with open(os.path.join(ROOT, "tests", "fixtures", "tutorial_cluster.yaml")) as f:
        template = yaml.safe_load(f)
    items = []
    for index in range(count):
        cluster = json.loads(json.dumps(template))
        cluster["metadata"] = {"name": f"c{index:04d}", "namespace": NAMESPACE}
        resources = {"cpu": "100m", "memory": "128Mi"}
        cluster["spec"]["componentSpecs"][0]["resources"] = {"limits": resources, "requests": resources}
        items.append(cluster)
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})


def running_count(control_plane):
    listed = json.loads(kubectl(control_plane, "get", "clusters", "-n", NAMESPACE, "-o", "json"))
    return sum(1 for item in listed["items"] if item.get("status", {}).get("phase") == "Running")


def main():
    # SIGTERM ends the run through the finally blocks, which stop every process it started.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--qps", type=float, default=200)
    parser.add_argument("--burst", type=int, default=400)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--work-dir")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    work_dir = args.work_dir or tempfile.mkdtemp(prefix="xblocks-operator-bench-")
    operator = None
    try:
        with ControlPlane(os.path.join(work_dir, "controlplane"), nodes=3) as control_plane:
            print(f"control plane ready on 127.0.0.1:{control_plane.apiserver_port}", flush=True)
            for extra in ([], ["--addons-only"]):
                manifests = subprocess.run([XBLOCKS, "manifests", *extra], capture_output=True, text=True,
                                           check=True).stdout
                kubectl(control_plane, "apply", "-f", "-", input=manifests)
            kubectl(control_plane, "create", "namespace", NAMESPACE)
            log = open(os.path.join(work_dir, "operator.log"), "wb")
            operator = subprocess.Popen([XBLOCKS, "operator", "--kubeconfig", control_plane.kubeconfig,
                                         "--lease-namespace", "xblocks-system", "--qps", str(args.qps),
                                         "--burst", str(args.burst), "--workers", str(args.workers),
                                         "--log-level", "warn"],
                                        stdout=log, stderr=log)
            time.sleep(3)
            body = cluster_list(args.clusters)

            started = time.monotonic()
            kubectl(control_plane, "create", "-f", "-", input=body)
            acknowledged = time.monotonic() - started
            print(f"{args.clusters} creates acknowledged in {acknowledged:.1f} s", flush=True)

            running = 0
            while running < args.clusters:
                if time.monotonic() - started > args.timeout:
                    raise SystemExit(f"timed out after {args.timeout} s with {running}/{args.clusters} Running")
                time.sleep(2)
                running = running_count(control_plane)
                print(f"  {time.monotonic() - started:6.1f} s  Running {running}/{args.clusters}", flush=True)
            all_running = time.monotonic() - started

            apiserver_pid = control_plane.component("kube-apiserver").process.pid
            print()
            print(f"clusters:                       {args.clusters} (operator --qps {args.qps} "
                  f"--burst {args.burst} --workers {args.workers})")
            print(f"baseline, creates acknowledged: {acknowledged:.1f} s")
            print(f"all Running:                    {all_running:.1f} s")
            print(f"ratio:                          {all_running / acknowledged:.1f}x")
            print(f"operator peak RSS:              {peak_rss_mib(operator.pid):.0f} MiB")
            print(f"kube-apiserver peak RSS:        {peak_rss_mib(apiserver_pid):.0f} MiB")
    finally:
        if operator is not None and operator.poll() is None:
            operator.terminate()
            operator.wait(timeout=30)
        if not args.keep and not args.work_dir:
            shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
