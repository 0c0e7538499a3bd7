"""How `envdoctor check --ray` grows from 1 to 8 nodes. Each size is a local Ray cluster of that
many raylets on 127.0.0.1, every node replaying the recorded H100 machine; the figure is the wall
time of the whole command (join, ship envdoctor, one task per node, judge), median of --runs, and
its ratio to one node. Target: flat, within 1.5x of one node, since nodes are probed in parallel.
Every timed run must exit 0-2 with valid JSON naming every node as reachable, or the bench fails.
Usage: python bench/cluster_scale.py [--sizes 1,2,4,8] [--runs 3]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MACHINE = os.path.join(HERE, "tests", "fixtures", "machines", "linux-h100-server")
LOOPBACK = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}  # keep Ray on 127.0.0.1


def one_run(address: str, replays: dict, size: int) -> float:
    argv = [sys.executable, "-m", "envdoctor", "check", "--ray", address, "--offline", "--json"]
    for resource, directory in replays.items():
        argv += ["--replay-nodes", f"{resource}={directory}"]
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=dict(os.environ, **LOOPBACK))
    seconds = time.perf_counter() - start
    try:
        doc = json.loads(done.stdout)
    except ValueError:
        sys.exit(f"size {size}: not JSON (exit {done.returncode}): {done.stderr[-500:]}")
    reachable = sum(n["reachable"] for n in doc["nodes"])
    if done.returncode not in (0, 1, 2) or reachable != size:
        sys.exit(f"size {size}: exit {done.returncode}, {reachable}/{size} nodes reachable: {done.stderr[-500:]}")
    return seconds


def measure(size: int, runs: int, tmp: str) -> float:
    from ray.cluster_utils import Cluster

    replays = {}
    for i in range(size):
        replays[f"envdoctor-node-{i}"] = os.path.join(tmp, f"node{i}")
        if not os.path.isdir(replays[f"envdoctor-node-{i}"]):
            shutil.copytree(MACHINE, replays[f"envdoctor-node-{i}"])
    args = {"num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False}
    cluster = Cluster(initialize_head=True, head_node_args=dict(args, resources={"envdoctor-node-0": 1}))
    try:
        for i in range(1, size):
            cluster.add_node(**args, resources={f"envdoctor-node-{i}": 1})
        cluster.wait_for_nodes()
        one_run(cluster.address, replays, size)  # warm-up: workers and the shipped package cached
        return statistics.median(one_run(cluster.address, replays, size) for _ in range(runs))
    finally:
        cluster.shutdown()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,2,4,8")
    ap.add_argument("--runs", type=int, default=3)
    opts = ap.parse_args()
    os.environ.update(LOOPBACK)  # before ray is imported
    sizes = [int(s) for s in opts.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        figures = {size: measure(size, opts.runs, tmp) for size in sizes}
    base = figures[sizes[0]]
    print(f"{'nodes':>5}  {'median s':>8}  {'vs ' + str(sizes[0]) + ' node':>10}")
    for size, seconds in figures.items():
        print(f"{size:5d}  {seconds:8.2f}  {seconds / base:9.2f}x")
    worst = max(figures.values()) / base
    # Simulated nodes share this machine's cores: each node's Ray worker start and check are CPU
    # work that real nodes would do on their own CPUs, so on few cores the curve cannot be flat.
    print(f"{len(sizes)} sizes on {os.cpu_count()} CPU core(s), all nodes of a size on this one machine")
    print(f"worst ratio {worst:.2f}x (target <= 1.5x): {'met' if worst <= 1.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
