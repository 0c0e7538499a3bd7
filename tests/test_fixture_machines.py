"""Every fixture machine through the real check: the findings it must raise (code and severity), how
each area's probe ended, and a strict replay (a command the fixture did not record fails the test).
No whole documents: how a report is written is pinned once per renderer (tests/test_render_goldens.py).
"""
from __future__ import annotations

import pytest

from envdoctor.compat.tables import Matrices
from envdoctor.rules import ALL_RULES

from .conftest import MACHINE_NAMES, check_machine

# The findings each machine must produce, exactly (code: severity), and how its probes ended, area by
# area. A code missing here, an extra one, another severity or another status is a visible change in
# behaviour. Statuses are pinned for the areas named: a new area is judged by its own tests.
EXPECTED = {
    "cpu-only": {"no-nvidia-gpu": "error", "cuda-toolkit-not-needed": "info"},
    "linux-h100-server": {},
    "linux-h200-server": {},
    "wsl2-rtx3050-laptop": {"missing-requirements": "error", "vllm-known-issue": "warn", "gpu-memory-in-use": "warn",
                            "low-ram": "warn", "cuda-toolkit-not-needed": "info"},
    "wsl2-linux-driver-installed": {"wsl-linux-driver-installed": "error", "nvidia-driver-unreadable": "error",
                                    "torch-cuda-init-failed": "error"},
    "wsl2-no-windows-driver": {"wsl-libcuda-missing": "error", "no-nvidia-gpu": "error"},
    "wsl2-loader-path-broken": {"wsl-libcuda-not-on-loader-path": "error", "nvidia-driver-unreadable": "error",
                                "torch-cuda-init-failed": "error", "python-unsupported-by-vllm": "info"},
    "wsl1-ubuntu": {"wsl1-no-gpu": "error", "installing-into-system-python": "warn",
                    "python-unsupported-by-vllm": "info"},
    "windows-native": {"native-windows-unsupported": "error", "gpu-memory-in-use": "warn"},
    "driver-470-torch-cu121": {"driver-too-old-for-torch": "error", "torch-cuda-init-failed": "error",
                               "gpu-compute-capability-too-low": "error", "bf16-unsupported": "warn",
                               "cuda-toolkit-mismatch-for-build": "warn", "installing-into-system-python": "warn",
                               "python-unsupported-by-vllm": "info", "cuda-toolkit-not-needed": "info"},
    "t4-cc75-bf16": {"torch-cpu-build-on-gpu-machine": "error", "vllm-torch-mismatch": "error",
                     # torchvision 0.20.1 (torch 2.5's) next to the torch 2.6.0+cpu that replaced torch 2.5.1
                     "extension-torch-mismatch": "error",
                     "missing-requirements": "error", "bf16-unsupported": "warn", "gpu-memory-in-use": "warn"},
    "rtx5090-sm120-old-torch": {"torch-arch-missing-for-gpu": "error", "torch-cuda-init-failed": "error",
                                "vllm-kernels-missing-for-gpu": "error", "low-disk": "error"},
    # GPU 0 (CC 7.5) is the one vLLM sizes its dtype by, so bf16 fires beside the mixed pair
    "mixed-rtx2060-4070ti": {"mixed-gpu-architectures": "warn", "bf16-unsupported": "warn"},
}

# platform wsl driver cuda python torch resources network, in that order (a recorded machine has no network)
STATUSES = {
    "cpu-only": "ok skipped absent ok ok ok ok skipped",
    "linux-h100-server": "ok skipped ok ok ok ok ok skipped",
    "linux-h200-server": "ok skipped ok ok ok ok ok skipped",
    "wsl2-rtx3050-laptop": "ok ok ok ok ok ok ok skipped",
    "wsl2-linux-driver-installed": "ok ok error absent ok ok ok skipped",
    "wsl2-no-windows-driver": "ok ok absent absent ok absent ok skipped",
    "wsl2-loader-path-broken": "ok ok error absent ok ok ok skipped",
    "wsl1-ubuntu": "ok skipped absent absent ok absent ok skipped",
    "windows-native": "ok skipped ok skipped skipped skipped skipped skipped",
    "driver-470-torch-cu121": "ok skipped ok ok ok ok ok skipped",
    "t4-cc75-bf16": "ok skipped ok absent ok ok ok skipped",
    "rtx5090-sm120-old-torch": "ok skipped ok absent ok ok ok skipped",
    "mixed-rtx2060-4070ti": "ok skipped ok ok ok ok ok skipped",
}
PINNED_AREAS = ("platform", "wsl", "driver", "cuda", "python", "torch", "resources", "network")


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
    assert set(MACHINE_NAMES) == set(EXPECTED) == set(STATUSES)


@pytest.mark.parametrize("name", MACHINE_NAMES)
def test_findings_and_statuses(name):
    report, doc, ctx = check_machine(name)
    assert {f.code: f.severity for f in report.findings} == EXPECTED[name]
    assert len(report.findings) == len(EXPECTED[name])  # no code twice
    assert {a: report.facts.status(a) for a in PINNED_AREAS} == dict(zip(PINNED_AREAS, STATUSES[name].split()))
    assert ctx.runner.unexpected == [], f"probes ran commands the fixture did not record: {ctx.runner.unexpected}"
    # the JSON document says the same: every probe that ran, and every finding
    assert {p["area"]: p["status"] for p in doc["probes"]} == {a: r.status for a, r in report.facts.results.items()}
    assert [(f["code"], f["severity"]) for f in doc["findings"]] == [(f.code, f.severity) for f in report.findings]


def test_every_issue_code_fires_somewhere_and_h100_is_silent():
    fired = set().union(*(set(codes) for codes in EXPECTED.values()), *(codes for _, _, codes in MODEL_CASES))
    # probe-failed fires in tests/test_engine.py; the network codes against loopback servers in
    # tests/test_network_*.py (a recorded machine has no network to replay).
    # compat-not-known fires on the unknowns of tests/test_check_fix_agree.py (no fixture machine lacks data).
    codes = {r.code for r in ALL_RULES if r.area != "network"} - {"probe-failed", "compat-not-known"}
    assert codes <= fired, f"never fired by a fixture: {sorted(codes - fired)}"
    assert EXPECTED["linux-h100-server"] == {}


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


def test_the_recorded_h100_reads_as_recorded():
    # the one line each area's facts give (summary()), on the machine recorded with --record
    report, _, _ = check_machine("linux-h100-server")
    lines = {a: r.facts.summary() for a, r in report.facts.results.items() if r.facts is not None}
    assert {a: lines[a] for a in ("platform", "driver", "cuda", "python", "torch", "resources")} == {
        "platform": "Ubuntu 24.04.3 LTS in docker (x86_64, kernel 6.18.44-fc-v657-gpu)",
        "driver": "580.159.04 (CUDA 13.0) via nvml · NVIDIA H100 80GB HBM3, 81559 MiB, CC 9.0",
        "cuda": "nvcc 13.0 (/usr/local/cuda/bin/nvcc) · installed: 13.0",
        "python": "Python 3.12.3 (venv: /opt/torch/.venv/bin/python3) · 197 packages · torch 2.11.0+cu130",
        "torch": "torch 2.11.0+cu130, CUDA 13.0: CUDA available · NVIDIA H100 80GB HBM3 sm_90",
        "resources": "RAM 125.9 GiB (125.4 GiB available) · disk 64.0 GiB free (pip cache)",
    }
    assert report.facts.torch is not None and report.facts.torch.arch_list[-1] == "sm_120"
