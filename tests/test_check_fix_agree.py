"""`check` and `fix` agree: for every fixture machine and every plan-grid machine, and for each build
of a spread of releases, the check's verdict on that stack installed (its rules over the Facts of the
machine with vLLM + torch installed in a Python) equals the resolver's verdict on the same stack.
Both must say "runs" or both "does not run", for the same kind of reason."""
from __future__ import annotations

from dataclasses import replace

import pytest

from envdoctor.compat.builds import builds
from envdoctor.compat.python import choose, stack_pythons
from envdoctor.core.facts import Distribution, TorchBuild
from envdoctor.core.results import Facts
from envdoctor.fix.resolve import Wishes, evaluate_build, target_from
from envdoctor.rules import ALL_RULES

from .conftest import MACHINE_NAMES, check_machine
from .test_plan_grid import grid_facts, grid_rows, row_id

RELEASES = ("0.33.0", "0.31.0", "0.20.0", "0.19.1", "0.15.1", "0.10.1.1", "0.9.2", "0.8.5", "0.6.1.post1", "0.5.3",
            "0.4.0")
# check's findings about whether an installed stack runs, by the resolver's blocker kind they answer
CHECK_KIND = {
    "driver-too-old-for-torch": "driver", "nvidia-driver-unreadable": "driver",
    "gpu-compute-capability-too-low": "gpu", "vllm-kernels-missing-for-gpu": "gpu",
    "torch-arch-missing-for-gpu": "gpu", "no-nvidia-gpu": "gpu",
    "python-unsupported-by-vllm": "python", "compat-not-known": "data",
}
# what the resolver judges that an installed stack has already passed (pip found a wheel for this
# platform and glibc), or that check reports under its own platform rules
NOT_COMPARED = ("platform", "glibc")


def installed(facts: Facts, build, python: str) -> Facts:
    """The machine with `build` installed in a Python `python` (what `check` would then read)."""
    results = dict(facts.results)
    env = results["python"].facts
    torch = f"{build.torch.version}+{build.torch_tag}"
    dists = (
        Distribution("vllm", build.version, (f"torch=={build.torch.version}",), f"{build.release.python_requires}"),
        Distribution("torch", torch),
    )
    marker = dict(env.marker_env, python_version=python)
    results["python"] = replace(results["python"], facts=replace(
        env, version=f"{python}.0", distributions=dists, torch=TorchBuild(torch, build.torch_cuda), marker_env=marker))
    results.pop("torch", None)  # no runtime facts: that would be another torch than the one installed
    return Facts(results)


def verdicts(facts: Facts, m):
    base = target_from(facts, Wishes(), m)
    for version in RELEASES:
        row = m.vllm(version)
        for build in builds(row, m):
            ok, _ = stack_pythons(build, m, base.machine)
            # the Python the plan would choose, and the one in use (which may be outside the stack's range)
            for python in dict.fromkeys(p for p in (choose(ok, base.python), base.python) if p):
                with_stack = installed(facts, build, python)
                target = target_from(with_stack, Wishes(), m)
                stack, blockers = evaluate_build(build, target, python, m)
                fix_kinds = {b.kind for b in blockers}
                if fix_kinds & set(NOT_COMPARED):
                    continue
                findings = [f for f in (r.evaluate(with_stack, m) for r in ALL_RULES if r.code in CHECK_KIND)
                            if f is not None and f.severity in ("error", "warn")]
                # a driver under the CUDA's own minimum but above the minor-version floor: both say
                # it runs, check warns of the limited feature set and the plan records it
                limited = [f for f in findings if f.code == "driver-too-old-for-torch" and f.severity == "warn"]
                if stack is not None:
                    assert bool(limited) == stack.driver.via_compat, (build.version, build.torch_tag, python)
                check_kinds = {CHECK_KIND[f.code] for f in findings if f not in limited}
                yield build.version, build.torch_tag, python, fix_kinds, check_kinds


def assert_agree(facts, m):
    compared = 0
    for version, tag, python, fix_kinds, check_kinds in verdicts(facts, m):
        compared += 1
        assert bool(fix_kinds) == bool(check_kinds), (version, tag, python, fix_kinds, check_kinds)
        assert fix_kinds == check_kinds, (version, tag, python, fix_kinds, check_kinds)
    return compared


@pytest.mark.parametrize("name", [n for n in MACHINE_NAMES if n not in ("windows-native", "wsl1-ubuntu")])
def test_fixture_machines_agree(matrices, name):
    report, _, _ = check_machine(name)
    assert assert_agree(report.facts, matrices) > 0


@pytest.mark.parametrize("row", [r for r in grid_rows() if r["os"] in ("linux", "wsl2")
                                 and r["expect_vllm"] != "blocker:platform"], ids=row_id)
def test_grid_machines_agree(matrices, row):
    assert assert_agree(grid_facts(row), matrices) > 0


def test_unknowns_are_a_finding_in_check(matrices, tmp_path):
    # 1.0.1 of the small test tables has no minimum compute capability: check says it cannot tell
    from .compat_kit import machine_facts, mini_matrices

    facts = machine_facts(driver="550.54.14", gpus=(("NVIDIA A10", "8.6"),), python="3.10.12", vllm="1.0.1",
                          torch=("3.0.0+cu121", "12.1"))
    finding = next(r for r in ALL_RULES if r.code == "compat-not-known").evaluate(facts, mini_matrices(str(tmp_path)))
    assert finding is not None and finding.severity == "warn" and "min-cc not known" in finding.title
    unmapped = machine_facts(driver="390.144", gpus=(("Tesla V100-SXM2-16GB", "7.0"),), python="3.10.12",
                             vllm="0.19.1", torch=("2.10.0+cu128", "12.8"))
    finding = next(r for r in ALL_RULES if r.code == "compat-not-known").evaluate(unmapped, matrices)
    assert finding is not None and "driver not known" in finding.title and "nvidia-smi" in " ".join(finding.fix)
