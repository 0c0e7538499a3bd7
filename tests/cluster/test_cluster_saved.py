"""`check --cluster DIR` over saved per-node documents: the fixture machines' own `check --json`
documents (one of them drifted) and a real collect_env report."""
from __future__ import annotations

import json
import os
import shutil

import pytest

from envdoctor.cli import main

from ..conftest import HERE, machine_dir


def _save_check(capsys, tmp_path, machine: str, name: str, edit=None) -> None:
    source = machine_dir(machine)
    if edit is not None:
        copy = tmp_path / f"machine-{name}"
        shutil.copytree(source, copy)
        edit(copy)
        source = str(copy)
    out = run(capsys, "--replay", source, "--json", "--offline")
    assert out.exit_code in (0, 1, 2), out.output
    (tmp_path / "nodes").mkdir(exist_ok=True)
    (tmp_path / "nodes" / f"{name}.json").write_text(out.output)


def _older_driver(machine) -> None:
    path = machine / "nvml.json"
    nvml = json.loads(path.read_text())
    nvml["snapshot"]["driver_version"] = "570.86.15"
    path.write_text(json.dumps(nvml))


class Out:
    def __init__(self, exit_code: int, output: str) -> None:
        self.exit_code, self.output = exit_code, output


def run(capsys, *args) -> Out:
    """envdoctor check ARGS as the command line runs it: its exit code, stdout + stderr."""
    with pytest.raises(SystemExit) as done:
        main(["check", *args])
    captured = capsys.readouterr()
    return Out(done.value.code, captured.out + captured.err)


def test_a_drifted_node_is_named_with_its_field(capsys, tmp_path):
    for name in ("gpu-a", "gpu-b", "gpu-d"):
        _save_check(capsys, tmp_path, "linux-h100-server", name)
    _save_check(capsys, tmp_path, "linux-h100-server", "gpu-c", _older_driver)
    out = run(capsys, "--cluster", str(tmp_path / "nodes"), "--json")
    doc = json.loads(out.output)
    assert out.exit_code == 2 and doc["exit_code"] == 2
    [drift] = [f for f in doc["findings"] if f["code"] == "node-version-drift"]
    assert drift["evidence"] == ["NVIDIA driver differs on gpu-c (gpu-a=580.159.04, gpu-b=580.159.04, "
                                 "gpu-c=570.86.15, gpu-d=580.159.04)"]
    assert [n["name"] for n in doc["nodes"]] == ["gpu-a", "gpu-b", "gpu-c", "gpu-d"]
    assert doc["nodes"][2]["drift"]["driver"] == "570.86.15"
    assert doc["nodes"][0]["check"]["facts"]["driver"]["driver_version"] == "580.159.04"


def test_the_table_shows_every_node_and_the_drift(capsys, tmp_path):
    _save_check(capsys, tmp_path, "linux-h100-server", "gpu-a")
    _save_check(capsys, tmp_path, "linux-h100-server", "gpu-b", _older_driver)
    out = run(capsys, "--cluster", str(tmp_path / "nodes"), "--tp", "4")
    lines = out.output.splitlines()
    header = next(line for line in lines if line.startswith("node"))
    assert "NVIDIA driver" in header and "NCCL" in header
    assert any(line.startswith("gpu-b") and "570.86.15" in line for line in lines)
    assert "[cluster-gpus-insufficient]" in out.output and "[node-version-drift]" in out.output


def test_a_collect_env_report_is_a_node_too(capsys, tmp_path):
    _save_check(capsys, tmp_path, "linux-h100-server", "gpu-a")
    shutil.copy(os.path.join(HERE, "data", "reports", "vllm-0.10.1.1-sectioned-torch-mismatch.txt"),
                tmp_path / "nodes" / "colleague.txt")
    doc = json.loads(run(capsys, "--cluster", str(tmp_path / "nodes"), "--json").output)
    colleague = next(n for n in doc["nodes"] if n["name"] == "colleague")
    assert colleague["reachable"] and colleague["drift"]["vllm"] == "0.10.1.1"
    assert any(f["code"] == "node-version-drift" for f in doc["findings"])


def test_an_unreadable_node_file_is_an_unreachable_node(capsys, tmp_path):
    _save_check(capsys, tmp_path, "linux-h100-server", "gpu-a")
    (tmp_path / "nodes" / "broken.json").write_text("{not json")
    out = run(capsys, "--cluster", str(tmp_path / "nodes"), "--json")
    doc = json.loads(out.output)
    assert out.exit_code == 3
    [lost] = [f for f in doc["findings"] if f["code"] == "node-unreachable"]
    assert lost["evidence"][0].startswith("broken: broken.json: ")
    # A file nobody asked over Ray: it "could not be read", and `ray status` is no fix for it.
    assert "could not be read" in lost["title"] and not any("ray" in c for c in lost["fix"])
    table = run(capsys, "--cluster", str(tmp_path / "nodes")).output
    assert "unreadable: broken.json" in table and "unreachable" not in table.split("\n\n")[1]


def test_an_empty_folder_is_a_usage_error(capsys, tmp_path):
    out = run(capsys, "--cluster", str(tmp_path))
    assert out.exit_code == 4 and "no node files" in out.output


def test_ray_and_cluster_are_exclusive_and_tp_needs_them(capsys, tmp_path):
    assert run(capsys, "--cluster", str(tmp_path), "--ray").exit_code == 4
    assert run(capsys, "--tp", "2").exit_code == 4


def test_every_cluster_code_is_listed_and_documented(capsys):
    from envdoctor.check.cluster.rules import CLUSTER_RULES

    listed = run(capsys, "--list").output
    docs = open(os.path.join(os.path.dirname(HERE), "docs", "findings.md")).read()
    for r in CLUSTER_RULES:
        assert f"{r.code} " in listed and f"`{r.code}`" in docs
