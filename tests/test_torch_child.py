"""The torch runtime probe against a real torch: the CPU build of torch 2.13.0 installed
into a venv made for this test (on this kind of machine pip takes it from local disk).

Opt-in (marked slow): it installs torch, hundreds of MB. It asks for the CPU build by name
(2.13.0+cpu), which the default index does not serve: where no configured index or find-links
has it, the tests skip and say so (add the PyTorch CPU index as an extra index to run them);
ENVDOCTOR_REQUIRE_CPU_TORCH=1, as `.ci/run` sets, makes that a failure instead."""
from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys

import pytest

from envdoctor.cli import main

VENV = os.path.join(os.path.dirname(__file__), ".torch-venv")
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


CPU_TORCH = "torch==2.13.0+cpu"


@pytest.fixture(scope="session")
def torch_python():
    python = os.path.join(VENV, "bin", "python")
    probe = [python, "-c", "import torch, sys; sys.exit(torch.__version__ != '2.13.0+cpu')"]
    os.makedirs(os.path.dirname(VENV), exist_ok=True)
    with open(VENV + ".lock", "w") as lock:  # xdist workers share the one venv
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(python) and subprocess.run(probe, capture_output=True, timeout=120).returncode == 0:
            return python
        subprocess.run([sys.executable, "-m", "venv", "--clear", VENV], check=True, timeout=120)
        res = subprocess.run([python, "-m", "pip", "install", "-q", CPU_TORCH], capture_output=True, text=True,
                             timeout=600)
    required = os.environ.get("ENVDOCTOR_REQUIRE_CPU_TORCH")
    if res.returncode != 0 and "No matching distribution" in res.stderr and not required:
        pytest.skip(f"no configured index or find-links serves {CPU_TORCH} (the CPU build); "
                    "add the PyTorch CPU index as an extra index to run this")
    assert res.returncode == 0, res.stderr[-2000:]
    return python


def test_torch_runtime_probe_on_a_real_cpu_torch(capsys, torch_python):
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--json", "--only", "torch", "--python", torch_python, "--deadline", "60"])
    doc = json.loads(capsys.readouterr().out)
    probes = {p["area"]: p for p in doc["probes"]}
    assert probes["python"]["status"] == "ok" and probes["torch"]["status"] == "ok"
    torch_facts = doc["facts"]["torch"]
    assert torch_facts["version"].startswith("2.13.0") and torch_facts["cuda"] is None
    assert torch_facts["cuda_available"] is False and torch_facts["device_count"] == 0
    assert doc["facts"]["python"]["torch"] == {"version": torch_facts["version"], "cuda": None, "hip": None}
    assert exit_info.value.code in (0, 1)
    with pytest.raises(SystemExit):  # the second check answers from the cache
        main(["check", "--json", "--only", "torch", "--python", torch_python, "--deadline", "60"])
    again = json.loads(capsys.readouterr().out)["facts"]["torch"]
    assert again["cached"] is True and again["version"] == torch_facts["version"]


def test_broken_torch_import_is_quoted(capsys, torch_python, tmp_path):
    # A torch that fails to import (a half-deleted install) must be reported with its error.
    shadow = tmp_path / "torch"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("raise ImportError('libtorch_cuda.so: cannot open shared object file')\n")
    env_before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(tmp_path)
    try:
        with pytest.raises(SystemExit):
            main(["check", "--json", "--only", "torch", "--python", torch_python, "--deadline", "60"])
    finally:
        if env_before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = env_before
    doc = json.loads(capsys.readouterr().out)
    torch_probe = next(p for p in doc["probes"] if p["area"] == "torch")
    assert torch_probe["status"] == "error"
    assert "libtorch_cuda.so: cannot open shared object file" in torch_probe["error"]
