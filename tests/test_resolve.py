"""The resolver, table-driven over fixture machines: which stack it picks, why newer releases are
rejected, what has to change when nothing works, and the wishes that override the machine."""
from __future__ import annotations

from dataclasses import replace

import pytest

from envdoctor.compat.python import wheel_has_python
from envdoctor.core.results import Facts, ProbeResult
from envdoctor.fix.resolve import UsageProblem, Wishes, resolve

from .compat_kit import mini_matrices
from .conftest import check_machine

_FACTS = {}


def facts_of(machine: str) -> Facts:
    if machine not in _FACTS:
        _FACTS[machine] = check_machine(machine)[0].facts
    return _FACTS[machine]


def with_python(facts: Facts, version: str) -> Facts:
    results = dict(facts.results)
    py = results["python"]
    results["python"] = replace(py, facts=replace(py.facts, version=version))
    return Facts(results)


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    return mini_matrices(str(tmp_path_factory.mktemp("mini")))


# On the small tables (tests/data/compat/mini): machine, wishes, (vllm, torch, cuda tag, python) or
# None, a phrase the first rejected line has, a phrase of the changes when nothing works
CASES = [
    ("wsl2-rtx3050-laptop", dict(vllm="1.0.0"), ("1.0.0", "3.0.0", "cu121", "3.10"), None, None),
    # Windows driver 531.41 (CUDA 12.1): the CUDA 13 index wheel cannot run, its +cu129 wheel can
    ("wsl2-rtx3050-laptop", {}, ("1.2.0+cu129", "3.2.0", "cu129", "3.12"), None, None),
    ("t4-cc75-bf16", {}, ("1.2.0+cu129", "3.2.0", "cu129", "3.12"), None, None),
    ("rtx5090-sm120-old-torch", dict(vllm="1.0.0"), None,
     "has no kernels for NVIDIA GeForce RTX 5090 (sm_120) in its CUDA 12.1 build", "pick a newer vLLM release"),
    ("driver-470-torch-cu121", {}, None, "needs compute capability >= 7.5; NVIDIA GeForce GTX 1080 Ti is 6.1",
     "use a GPU with compute capability 7.0 or higher"),
    ("cpu-only", {}, None, "needs an NVIDIA GPU; none is visible here", "run on a machine with an NVIDIA GPU"),
    ("windows-native", {}, None, "does not run on native Windows", "run it in WSL 2"),
    ("wsl1-ubuntu", {}, None, "cannot reach the GPU from WSL 1", "convert the distro to WSL 2"),
    ("wsl2-loader-path-broken", {}, None, "needs a working NVIDIA driver", "fix the driver first"),
    # planning another machine from this one
    ("cpu-only", dict(driver="535.104", cc="8.6"), ("1.2.0+cu129", "3.2.0", "cu129", "3.11"), None, None),
    ("cpu-only", dict(cc="8.6"), ("1.2.0", "3.2.0", "cu130", "3.11"), None, None),
    # R470 runs CUDA 11.x wheels through minor-version compatibility; the Python in use (3.12) is past xformers'
    ("linux-h100-server", dict(driver="470.82"), ("1.0.0+cu118", "3.0.0", "cu118", "3.11"), None, None),
    ("linux-h100-server", dict(driver="470.82", vllm="1.2.0"), None, "driver 470.82 supports CUDA <= 11.4",
     "update the NVIDIA driver to 580.65.06 or newer (CUDA 13.x): that runs vllm 1.2.0"),
    ("linux-h100-server", dict(driver="440.33"), None, "which CUDA it runs is not in envdoctor's data",
     "nvidia-smi"),
    ("linux-h100-server", dict(vllm=">=1.1,<1.2"), ("1.1.0", "3.1.0", "cu128", "3.12"), None, None),
    ("linux-h100-server", dict(vllm="1.0.0", python="3.12"), None, "does not run on Python 3.12",
     "use Python 3.9–3.11 for vllm 1.0.0"),
]


@pytest.mark.parametrize("machine, wishes, expected, rejected_phrase, change_phrase", CASES)
def test_resolution(mini, machine, wishes, expected, rejected_phrase, change_phrase):
    r = resolve(facts_of(machine), Wishes(**wishes), mini)
    if expected is None:
        assert r.stack is None and r.rejected
        assert any(change_phrase in c for c in r.changes), r.changes
        assert not any("nearest" in c for c in r.changes)
    else:
        s = r.stack
        assert (s.vllm.version, s.torch.version, s.cuda_tag, s.python) == expected
    if rejected_phrase:
        assert rejected_phrase in r.rejected[0].line, r.rejected[0].line


def test_seed_case_in_full(mini):
    """vLLM 1.0.0 on the WSL2 RTX 3050 laptop: torch from the cu121 index, the pinned companion, the
    Windows driver floor, a Python every wheel exists for, no toolkit."""
    r = resolve(facts_of("wsl2-rtx3050-laptop"), Wishes(vllm="1.0.0"), mini)
    s = r.stack
    assert s.torch_index == "https://download.pytorch.org/whl/cu121" and s.cuda == "12.1"
    assert [c.pin for c in s.companions] == ["xformers==0.1.0"]
    assert s.pythons == ("3.9", "3.10", "3.11")  # xformers 0.1.0 stops at cp311
    assert "xformers 0.1.0: 3.9–3.11" in s.python_limits and "torch 3.0.0: 3.9–3.12" in s.python_limits
    assert (s.driver.cuda, s.driver.linux, s.driver.windows, s.driver.compat, s.driver.via_compat) == \
        ("12.1", "530.30.02", "531.14", "527.41", False)  # the Windows minor-version floor: a WSL machine
    assert any("No CUDA toolkit is needed" in n and "12.6 toolkit installed here is not used" in n for n in s.notes)
    assert r.rejected == () and r.newest_here == "1.2.0+cu129"


def test_python_313_with_an_old_vllm_picks_a_python_its_wheels_have(mini):
    facts = with_python(facts_of("linux-h100-server"), "3.13.1")
    r = resolve(facts, Wishes(vllm="1.0.0"), mini)
    assert r.stack.python == "3.11"
    assert any("Python 3.11 for the new environment" in n and "(3.13)" in n for n in r.stack.notes)
    stuck = resolve(facts, Wishes(vllm="1.0.0", python="3.13"), mini)
    assert stuck.stack is None
    assert "does not run on Python 3.13 (torch 3.0.0: 3.9–3.12; xformers 0.1.0: 3.9–3.11)" in stuck.rejected[0].line


def test_minor_version_compatibility_is_said(mini):
    r = resolve(facts_of("t4-cc75-bf16"), Wishes(), mini)
    assert r.stack.driver.via_compat and r.stack.driver.cuda == "12.9"
    assert any("minor-version compatibility" in n and "PTX" in n for n in r.stack.notes)
    assert any("--dtype half" in n for n in r.stack.notes)  # T4: compute capability 7.5


@pytest.mark.parametrize("wishes, message", [
    (dict(vllm="9.9"), "no vLLM release in envdoctor's data matches"),
    (dict(vllm="zero.five"), "not a version or a version range"),
    (dict(driver="garbage"), "not an NVIDIA driver version"),
    (dict(python="three"), "not a Python version"),
    (dict(cc="high"), "not a compute capability"),
    (dict(gpu="Voodoo 5"), "not a GPU envdoctor knows"),
    (dict(os="plan9"), "plan for linux or wsl2"),
])
def test_bad_wishes_are_usage_problems(matrices, wishes, message):
    with pytest.raises(UsageProblem) as err:
        resolve(facts_of("linux-h100-server"), Wishes(**wishes), matrices)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_driver_that_did_not_answer_is_not_a_missing_gpu(matrices):
    r = resolve(facts_of("wsl2-loader-path-broken"), Wishes(), matrices)
    assert r.target.gpus is None and any("libnvidia-ml" in n for n in r.notes)


def test_no_facts_at_all_plans_with_everything_unknown(mini):
    r = resolve(Facts({"driver": ProbeResult("driver", "skipped")}), Wishes(vllm="1.0.0"), mini)
    assert r.stack is not None
    assert any("Driver not known" in n for n in r.stack.notes) and any("GPU not known" in n for n in r.stack.notes)


@pytest.mark.parametrize("tags, python, ok", [
    (("cp38-abi3",), "3.13", True), (("cp38-abi3",), "3.7", False), (("cp39", "cp310"), "3.11", False),
    (("py3",), "3.14", True), (("cp311",), "3.11", True)])
def test_wheel_tags(tags, python, ok):
    assert wheel_has_python(tags, python) is ok
