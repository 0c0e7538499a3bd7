"""Every fixture machine through the real check: the findings it must raise, a strict replay (a
command the fixture did not record fails the test), and one golden JSON document (the machine whose
report does not depend on which releases matrices/ lists, so a new release row changes no golden).

Regenerate the golden file after an intended change: UPDATE_GOLDEN=1 pytest tests/test_fixture_machines.py
"""
from __future__ import annotations

import json
import os

import pytest

from envdoctor.compat.tables import Matrices
from envdoctor.rules import ALL_RULES

from .conftest import MACHINE_NAMES, check_machine, machine_dir

# The finding codes each machine must produce, exactly. A code missing here or an extra one
# is a visible change in behaviour.
EXPECTED = {
    "cpu-only": {"no-nvidia-gpu", "cuda-toolkit-not-needed"},
    "linux-h100-server": set(),
    "linux-h200-server": set(),
    "wsl2-rtx3050-laptop": {"missing-requirements", "vllm-known-issue", "gpu-memory-in-use", "low-ram",
                            "cuda-toolkit-not-needed"},
    "wsl2-linux-driver-installed": {"wsl-linux-driver-installed", "nvidia-driver-unreadable", "torch-cuda-init-failed"},
    "wsl2-no-windows-driver": {"wsl-libcuda-missing", "no-nvidia-gpu"},
    "wsl2-loader-path-broken": {"wsl-libcuda-not-on-loader-path", "nvidia-driver-unreadable",
                                "torch-cuda-init-failed", "python-unsupported-by-vllm"},
    "wsl1-ubuntu": {"wsl1-no-gpu", "installing-into-system-python", "python-unsupported-by-vllm"},
    "windows-native": {"native-windows-unsupported", "gpu-memory-in-use"},
    "driver-470-torch-cu121": {"driver-too-old-for-torch", "torch-cuda-init-failed",
                               "gpu-compute-capability-too-low", "python-unsupported-by-vllm", "bf16-unsupported",
                               "cuda-toolkit-mismatch-for-build", "installing-into-system-python",
                               "cuda-toolkit-not-needed"},
    "t4-cc75-bf16": {"torch-cpu-build-on-gpu-machine", "vllm-torch-mismatch", "missing-requirements",
                     "bf16-unsupported", "gpu-memory-in-use"},
    "rtx5090-sm120-old-torch": {"torch-arch-missing-for-gpu", "torch-cuda-init-failed", "low-disk",
                                "vllm-kernels-missing-for-gpu"},
}


# `check --model`: the fit judgement on fixture machines (arithmetic in tests/test_fit.py).
MODEL_CASES = [
    ("wsl2-rtx3050-laptop", "Qwen/Qwen2-1.5B-Instruct", {"model-does-not-fit"}),
    ("t4-cc75-bf16", "Qwen/Qwen2-1.5B-Instruct", {"kv-cache-too-small-for-context"}),
    ("windows-native", "Qwen/Qwen2-1.5B-Instruct", {"model-fits-with-settings"}),
    ("linux-h100-server", "Qwen/Qwen2-1.5B-Instruct", set()),
    ("linux-h100-server", "nobody/no-such-model", {"model-not-found"}),
    ("cpu-only", "Qwen/Qwen2-1.5B-Instruct", {"model-no-gpu"}),
]


@pytest.mark.parametrize("name, model, codes", MODEL_CASES)
def test_model_findings(name, model, codes):
    report, _, _ = check_machine(name, model=model)
    assert {f.code for f in report.findings if f.area == "model"} == codes


def test_every_fixture_has_expectations():
    assert set(MACHINE_NAMES) == set(EXPECTED)


@pytest.mark.parametrize("name", MACHINE_NAMES)
def test_findings(name):
    report, _, ctx = check_machine(name)
    assert {f.code for f in report.findings} == EXPECTED[name]
    assert ctx.runner.unexpected == [], f"probes ran commands the fixture did not record: {ctx.runner.unexpected}"


GOLDEN = "linux-h100-server"  # the JSON renderer's golden: facts, no finding that names a release


@pytest.mark.parametrize("name", [GOLDEN])
def test_golden_json(name):
    _, doc, _ = check_machine(name)
    path = os.path.join(machine_dir(name), "expected.json")
    if os.environ.get("UPDATE_GOLDEN"):
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
    with open(path, encoding="utf-8") as fh:
        assert doc == json.load(fh)


def test_every_issue_code_fires_somewhere_and_h100_is_silent():
    fired = set().union(*EXPECTED.values(), *(codes for _, _, codes in MODEL_CASES))
    # probe-failed fires in tests/test_engine.py; the network codes against loopback servers in
    # tests/test_network_*.py (a recorded machine has no network to replay).
    # compat-not-known fires on the unknowns of tests/test_check_fix_agree.py (no fixture machine lacks data).
    codes = {r.code for r in ALL_RULES if r.area != "network"} - {"probe-failed", "compat-not-known"}
    assert codes <= fired, f"never fired by a fixture: {sorted(codes - fired)}"
    assert EXPECTED["linux-h100-server"] == set()


def test_seed_machine_explains_its_findings():
    report, _, _ = check_machine("wsl2-rtx3050-laptop")
    by_code = {f.code: f for f in report.findings}
    missing = by_code["missing-requirements"]
    assert missing.severity == "error"
    assert any("prometheus-fastapi-instrumentator" in e for e in missing.evidence)
    assert any("install 'prometheus-fastapi-instrumentator>=7.0.0'" in c for c in missing.fix)
    assert "/home/angel/miniconda3/envs/moon/bin/python -m pip" in missing.fix[0]
    toolkit = by_code["cuda-toolkit-not-needed"]
    assert toolkit.severity == "info" and "12.6" in toolkit.evidence[0]
    ram = by_code["low-ram"]
    assert any("wsl --shutdown" in n for n in ram.notes) and not ram.fix  # edit .wslconfig first (N30)


def test_old_driver_offers_a_build_the_driver_can_run():
    report, _, _ = check_machine("driver-470-torch-cu121")
    finding = next(f for f in report.findings if f.code == "driver-too-old-for-torch")
    # torch 2.3.1 also ships a cu118 build; R470 runs CUDA 11.x through minor-version compatibility.
    assert finding.fix == ("/usr/bin/python3 -m pip install --force-reinstall torch==2.3.1 "
                           "--index-url https://download.pytorch.org/whl/cu118",)
    assert any("530.30.02" in n for n in finding.notes)  # CUDA 12.1's Linux driver floor


def test_linux_driver_in_wsl_names_the_packages_to_purge():
    report, _, _ = check_machine("wsl2-linux-driver-installed")
    finding = next(f for f in report.findings if f.code == "wsl-linux-driver-installed")
    assert finding.fix[0] == ("sudo apt-get purge libnvidia-compute-550 nvidia-dkms-550 "
                              "nvidia-driver-550 nvidia-utils-550")
    assert any("/lib/x86_64-linux-gnu/libcuda.so.1" in e for e in finding.evidence)
    unreadable = next(f for f in report.findings if f.code == "nvidia-driver-unreadable")
    assert "(not loaded)" in unreadable.title


def test_arch_finding_quotes_torch_and_offers_a_torch_with_the_arch():
    report, _, _ = check_machine("rtx5090-sm120-old-torch")
    finding = next(f for f in report.findings if f.code == "torch-arch-missing-for-gpu")
    assert "sm_120" in finding.title
    assert any("not compatible with the current PyTorch installation" in e for e in finding.evidence)
    # the fix installs a torch build whose arch list (matrices/torch_archs.csv) has sm_120
    torch_pin, index = finding.fix[0].split("torch==")[1].split(" --index-url ")
    archs = Matrices().torch_archs(torch_pin, f"{index[-3:-1]}.{index[-1]}")
    assert archs is not None and "sm_120" in archs.arch_list
    init = next(f for f in report.findings if f.code == "torch-cuda-init-failed")
    assert "no kernel image is available" in init.evidence[0]


def test_quick_skips_the_torch_child_and_still_finds_metadata_problems():
    report, _, ctx = check_machine("t4-cc75-bf16", quick=True)
    assert report.facts.status("torch") == "skipped"
    assert ctx.runner.calls and not any("<torch_child.py>" in argv for argv in ctx.runner.calls)
    assert {"torch-cpu-build-on-gpu-machine", "vllm-torch-mismatch"} <= {f.code for f in report.findings}
