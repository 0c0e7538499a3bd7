"""Invariants of the shipped compatibility data (matrices/), not golden documents: every row names
where it came from, every driver NVIDIA's Table 3 lists maps to at least the CUDA it is the minimum
for, every release from 0.4.1 has what the resolver needs, every index build's torch has an arch
list, every GPU row gets a verdict that is not "unknown". A new release or GPU row keeps them true,
or the test names the row that is missing a fact."""
from __future__ import annotations

import re

import pytest

from envdoctor.compat import driver as drv
from envdoctor.compat.builds import builds
from envdoctor.compat.judge import GpuSeen, Machine, judge
from envdoctor.compat.kernels import lowest_min_cc
from envdoctor.compat.tables import TABLES, Matrices

M = Matrices()
SOURCE = re.compile(r"https?://|package metadata|package index|sdist|code index|RELEASE\.md|\w+\.(csv|md|py|txt)\b")
COMPAT_TABLES = ("vllm", "vllm_variants", "vllm_known", "torch", "torch_archs", "cuda_driver", "cuda_compat",
                 "driver_branches", "driver_seen", "cuda_archs", "distro_glibc", "wheels")


@pytest.mark.parametrize("name", COMPAT_TABLES)
def test_every_row_names_its_source(name):
    assert name in TABLES
    unsourced = [r for r in M.table(name) if not SOURCE.search(r.source)]
    assert not unsourced, unsourced[:3]


@pytest.mark.parametrize("row", [r for r in M.table("cuda_driver") if r.min_driver_linux], ids=lambda r: r.release)
def test_every_table3_minimum_runs_its_cuda(row):
    for os_name, need in (("linux", row.min_driver_linux), ("windows", row.min_driver_windows)):
        if need:
            have = drv.cuda_for_driver(need, os_name, M)
            assert have is not None and drv.cuda_key(have) >= drv.cuda_key(row.cuda), (os_name, need, have)
            assert drv.runs(need, os_name, row.cuda, M) == "native"


def test_table3_covers_10_1_to_13_and_branches_r418_on():
    cudas = {r.cuda for r in M.table("cuda_driver")}
    assert {"10.1", "10.2", "11.0", "11.1", "11.2", "11.3", "11.4", "11.5", "11.6", "11.7", "11.8", "12.0", "12.1",
            "12.2", "12.3", "12.4", "12.5", "12.6", "12.8", "12.9", "13.0", "13.1", "13.2"} <= cudas
    branches = {int(b.branch[1:]) for b in M.table("driver_branches")}
    assert {418, 440, 450, 455, 460, 465, 470, 495, 510, 515, 520, 525, 530, 535, 545, 550, 555, 560, 565, 570,
            575, 580, 590, 595} <= branches
    for b in M.table("driver_branches"):  # a branch's own first number maps to its CUDA
        assert drv.cuda_for_driver(b.branch[1:] + ".0", "linux", M) is not None


@pytest.mark.parametrize("release", [r for r in M.table("vllm") if str(r.version) not in ("0.4.0", "0.4.0.post1")],
                         ids=lambda r: str(r.version))
def test_every_release_has_what_the_resolver_needs(release):
    assert release.min_cc and release.cuda and release.platforms, release.version
    options = builds(release, M)
    assert options and not options[0].variant and options[0].default_torch
    index = options[0]
    assert M.torch_archs(str(index.torch.version), index.torch_cuda) is not None, \
        f"no arch list for torch {index.torch.version}+{index.torch_tag} (vllm {release.version}'s index build)"
    for b in options:
        if b.variant:
            assert b.torch_index and b.wheel_url("3.12", "x86_64"), b.version


def test_the_lowest_minimum_is_7_0():
    assert lowest_min_cc(M) == "7.0"


def gpu_rows():
    return sorted({(g.name, g.compute_capability) for g in M.table("gpus")})


@pytest.mark.parametrize("name, cc", gpu_rows(), ids=lambda x: str(x))
def test_every_gpu_row_gets_a_verdict(name, cc):
    """On a current driver every GPU either runs some release's index build or is refused for a
    reason; never "not known"."""
    mach = Machine("linux", "x86_64", "580.95.05", None, (GpuSeen(name, cc),))
    verdicts = []
    for release in sorted(M.table("vllm"), key=lambda r: r.version, reverse=True)[:70]:
        problems, _ = judge(mach, builds(release, M)[0], M)
        verdicts.append({p.kind for p in problems})
        if not problems:
            break
    assert set() in verdicts or all(v and "data" not in v for v in verdicts[:3]), (name, cc, verdicts[:3])


def test_variant_builds_exist_where_the_docs_say():
    found = {(str(v.vllm), v.variant) for v in M.table("vllm_variants")}
    assert {("0.5.3", "cu118"), ("0.6.1.post1", "cu118"), ("0.20.0", "cu129"), ("0.31.0", "cu129")} <= found
    for v in M.table("vllm_variants"):
        assert M.vllm(str(v.vllm)) is not None, v.vllm  # a variant of a release the data knows
        torch = builds(M.vllm(str(v.vllm)), M)[0].torch
        assert v.torch_build in torch.cuda_builds, (v.vllm, v.torch_build, torch.version)


def test_first_users_machine_from_every_real_windows_driver():
    """vLLM 0.5.3 on WSL 2 with the RTX 3050 Laptop: torch 2.3.1 cu121, no toolkit, the 0.5.4 advice."""
    from envdoctor.fix.resolve import Wishes, resolve

    from .compat_kit import machine_facts

    for driver in ("531.14", "531.41", "537.58", "546.33", "552.22", "566.36", "572.83", "581.57", "591.44"):
        facts = machine_facts("wsl2", driver=driver, gpus=(("NVIDIA GeForce RTX 3050 Laptop GPU", "8.6"),),
                              python="3.10.12")
        r = resolve(facts, Wishes(vllm="0.5.3"), M)
        s = r.stack
        assert s and (s.vllm.version, s.torch.version, s.cuda_tag) == ("0.5.3", "2.3.1", "cu121"), driver
        assert any("No CUDA toolkit is needed" in n for n in s.notes)
        assert any("vllm 0.5.4 fixes it" in n for n in s.notes)
