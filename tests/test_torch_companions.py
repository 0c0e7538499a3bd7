"""torchvision next to another torch, and a torch older than every vLLM's pin: the rules on
small tables made for them (the mini vLLM table's oldest pin is torch==3.0.0)."""
from __future__ import annotations

from envdoctor.core.facts import Distribution, PythonEnvFacts, TorchBuild
from envdoctor.core.results import Facts, ProbeResult
from envdoctor.rules import torch

from .compat_kit import mini_matrices

COMPANIONS = ("torch,torchvision,source\n"
              "3.0,0.30,test table made for the logic tests (not real data)\n"
              "3.1,0.31,test table made for the logic tests (not real data)\n")


def matrices(tmp_path, companions=True):
    m = mini_matrices(str(tmp_path))
    if companions:
        (tmp_path / "torch_companions.csv").write_text(COMPANIONS, encoding="utf-8")
    return m


def facts(torch_version, vision=None, vllm=None):
    dists = [Distribution("torch", torch_version)]
    if vision:
        dists.append(Distribution("torchvision", vision))
    if vllm:
        dists.append(Distribution("vllm", vllm, (f"torch=={torch_version.split('+')[0]}",)))
    env = PythonEnvFacts("/v/bin/python", "VIRTUAL_ENV", "3.11.9", kind="venv",
                         marker_env={"python_version": "3.11", "platform_system": "Linux"},
                         distributions=tuple(dists), torch=TorchBuild(torch_version, None))
    return Facts({"python": ProbeResult("python", "ok", facts=env)})


def test_torchvision_of_another_torch_series_is_named_with_the_one_that_fits(tmp_path):
    m = matrices(tmp_path)
    advice = torch.companion_mismatch.check(facts("3.1.0+cu121", "0.30.1"), m)
    assert advice is not None and advice.severity == "error"
    assert any("goes with torchvision 0.31.x, not 0.30.1" in e for e in advice.evidence)
    assert "torchvision==0.31.*" in advice.fix[0] and advice.fix[0].endswith("/cu121")


def test_torchvision_of_another_cuda_build_is_a_mismatch_even_in_the_right_series(tmp_path):
    advice = torch.companion_mismatch.check(facts("3.0.1+cu121", "0.30.1+cu124"), matrices(tmp_path))
    assert advice is not None and any("cu121 build, torchvision the cu124 build" in e for e in advice.evidence)


def test_matching_torchvision_and_unknown_series_stay_silent(tmp_path):
    m = matrices(tmp_path)
    assert torch.companion_mismatch.check(facts("3.0.1+cu121", "0.30.1+cu121"), m) is None
    assert torch.companion_mismatch.check(facts("3.0.1", "0.30.1"), m) is None
    assert torch.companion_mismatch.check(facts("9.9.0", "0.30.1"), m) is None  # series not in the table
    assert torch.companion_mismatch.check(facts("3.0.1"), m) is None  # no torchvision
    # a matrices directory without the companion table gives no verdict rather than failing
    bare = tmp_path / "bare"
    bare.mkdir()
    assert torch.companion_mismatch.check(facts("3.1.0", "0.30.1"), matrices(bare, companions=False)) is None


def test_torch_older_than_every_vllm_pin_warns_only_without_vllm(tmp_path):
    m = matrices(tmp_path)
    advice = torch.vllm_torch.check(facts("2.9.0+cu121"), m)
    assert advice is not None and advice.severity == "warn" and "older than any vLLM release" in advice.title
    assert any("pins torch==3.0.0" in e for e in advice.evidence)
    assert torch.vllm_torch.check(facts("3.0.0+cu121"), m) is None  # as new as the oldest pin
    assert torch.vllm_torch.check(facts("3.0.0", vllm="1.0.0"), m) is None  # vLLM installed: its own pin decides
