"""`check --ray` on a real Ray cluster: several raylets on 127.0.0.1 (as Ray's own tests do), each
node replaying a recorded machine, one of them drifted; then a node killed while it checks."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
import time

import pytest

from ..conftest import machine_dir

pytestmark = pytest.mark.ray

NODES = 4
# Ray swaps 127.0.0.1 for the machine's own address unless told it runs one machine only; the
# tests must stay on loopback.
LOOPBACK = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


def _require_ray() -> None:
    if importlib.util.find_spec("ray") is None:
        if os.environ.get("ENVDOCTOR_REQUIRE_RAY"):
            pytest.fail("ENVDOCTOR_REQUIRE_RAY is set but ray is not installed")
        pytest.skip("needs the ray extra: pip install '.[ray]' (.ci/run installs it)")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    _require_ray()
    saved = {k: os.environ.get(k) for k in LOOPBACK}
    os.environ.update(LOOPBACK)  # before ray is imported: it reads this once
    from ray.cluster_utils import Cluster
    root = tmp_path_factory.mktemp("nodes")
    replays = {}
    for i in range(NODES):
        shutil.copytree(machine_dir("linux-h100-server"), root / f"node{i}")
        replays[f"envdoctor-node-{i}"] = str(root / f"node{i}")
    nvml = root / "node2" / "nvml.json"
    snapshot = json.loads(nvml.read_text())
    snapshot["snapshot"]["driver_version"] = "570.86.15"
    nvml.write_text(json.dumps(snapshot))
    args = {"num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False}
    c = Cluster(initialize_head=True, head_node_args=dict(args, resources={"envdoctor-node-0": 1}))
    for i in range(1, NODES):
        c.add_node(**args, resources={f"envdoctor-node-{i}": 1})
    c.wait_for_nodes()
    try:
        yield c, replays, root
    finally:
        c.shutdown()
        for k, v in saved.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)


def _command(address, replays, *extra):
    argv = [sys.executable, "-m", "envdoctor", "check", "--ray", address, "--offline", "--json", *extra]
    for resource, directory in replays.items():
        argv += ["--replay-nodes", f"{resource}={directory}"]
    return argv


def test_the_drifted_node_and_field_are_named(cluster):
    c, replays, _ = cluster
    done = subprocess.run(_command(c.address, replays, "--tp", "8"), capture_output=True, text=True,
                          timeout=240, env=dict(os.environ, **LOOPBACK))
    doc = json.loads(done.stdout)
    assert done.returncode == 2, done.stderr
    assert len(doc["nodes"]) == NODES and all(n["reachable"] for n in doc["nodes"])
    [drift] = [f for f in doc["findings"] if f["code"] == "node-version-drift"]
    [line] = drift["evidence"]
    assert line.startswith("NVIDIA driver differs on node2 (") and "node2 (127.0.0.1)=570.86.15" in line
    [gpus] = [f for f in doc["findings"] if f["code"] == "cluster-gpus-insufficient"]
    assert gpus["evidence"][0] == f"--tp 8 x --pp 1 needs 8 GPUs; the nodes that answered have {NODES}"
    assert {n["check"]["facts"]["driver"]["gpus"][0]["name"] for n in doc["nodes"]} == {"NVIDIA H100 80GB HBM3"}


def test_a_node_killed_mid_check_is_unreachable_within_its_timeout(cluster, tmp_path):
    c, replays, _ = cluster
    # The extra node checks this machine for real, through an nvidia-smi that never answers: it
    # says when it started, so the node is killed while its check is under way.
    bin_dir, marker = tmp_path / "bin", tmp_path / "started"
    bin_dir.mkdir()
    smi = bin_dir / "nvidia-smi"
    smi.write_text(f"#!/bin/sh\ntouch {marker}\nexec sleep 60\n")
    smi.chmod(smi.stat().st_mode | stat.S_IEXEC)
    path = os.environ["PATH"]
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{path}"
    try:
        doomed = c.add_node(num_cpus=1, node_ip_address="127.0.0.1", include_dashboard=False)
    finally:
        os.environ["PATH"] = path
    c.wait_for_nodes()
    timeout = 60
    start = time.monotonic()
    child = subprocess.Popen(_command(c.address, replays, "--quick", "--node-timeout", str(timeout)),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ, **LOOPBACK))
    try:
        while not marker.exists():
            assert child.poll() is None and time.monotonic() - start < 120, "the extra node never started its check"
            time.sleep(0.2)
        c.remove_node(doomed, allow_graceful=False)
        out, err = child.communicate(timeout=timeout + 60)
    finally:
        child.kill()
    doc = json.loads(out)
    assert child.returncode == 3, err
    [lost] = [f for f in doc["findings"] if f["code"] == "node-unreachable"]
    assert len(lost["evidence"]) == 1
    assert sum(n["reachable"] for n in doc["nodes"]) == NODES
    assert time.monotonic() - start < timeout + 60
