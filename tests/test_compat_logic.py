"""The compat core and the resolver on small tables made for them (tests/data/compat/mini: vLLM
1.0.0-1.2.0, torch 3.0.0-3.2.0, a few NVIDIA rows), so a new release in matrices/ changes nothing
here. Each case is one rule: driver numbers per OS, minor-version compatibility, which build of a
release is picked, unknown data blocking, the Python choice, glibc, known issues, driver advice."""
from __future__ import annotations

import pytest

from envdoctor.compat import driver as drv
from envdoctor.compat.builds import builds
from envdoctor.compat.judge import GpuSeen, Machine, judge
from envdoctor.compat.kernels import vllm_has
from envdoctor.fix.resolve import Wishes, resolve

from .compat_kit import machine_facts, mini_matrices


@pytest.fixture(scope="module")
def m(tmp_path_factory):
    return mini_matrices(str(tmp_path_factory.mktemp("mini")))


@pytest.mark.parametrize("version, os_name, cuda", [
    ("531.14", "windows", "12.1"),  # Windows numbers read with Table 3's Windows column / their branch
    ("566.36", "windows", "12.7"),  # R565 reports 12.7 though no 12.7 toolkit exists: the branch says so
    ("581.57", "windows", "13.0"),  # Table 3 lists N/A for 13.x on Windows: the branch rule
    ("575.51.03", "linux", "12.9"),
    ("575.51.02", "linux", "12.9"),  # below 12.9's Table 3 minimum but in R575, which reports 12.9
    ("470.82.01", "linux", "11.4"),
    ("460.32.03", "linux", None),  # older than every branch in the table: unknown, not a guess
    ("garbage", "linux", None),
])
def test_driver_to_cuda(m, version, os_name, cuda):
    assert drv.cuda_for_driver(version, os_name, m) == cuda


@pytest.mark.parametrize("version, os_name, cuda, verdict", [
    ("531.14", "windows", "12.1", "native"),
    ("527.41", "windows", "12.9", "compat"),  # 12.x on >= 527.41 (Windows floor)
    ("525.60.13", "linux", "12.9", "compat"),
    ("525.60.13", "windows", "12.9", "no"),  # a Windows 525.60 is below the Windows floor 527.41
    ("520.61.05", "linux", "12.1", "no"),  # another major
    ("470.82.01", "linux", "11.8", "compat"),  # 11.x on >= 450.80.02
    ("575.51.03", "linux", "13.0", "no"),
    ("460.0", "linux", "12.1", None),
])
def test_minor_version_compatibility(m, version, os_name, cuda, verdict):
    assert drv.runs(version, os_name, cuda, m) == verdict


def test_reported_cuda_wins(m):
    assert drv.runs("123.45", "linux", "12.1", m, reported="12.4") == "native"


def test_builds_of_a_release_index_wheel_first(m):
    (row,) = [r for r in m.table("vllm") if str(r.version) == "1.2.0"]
    found = [(b.version, b.torch_tag, b.default_torch) for b in builds(row, m)]
    assert found == [("1.2.0", "cu130", True), ("1.2.0+cu129", "cu129", False)]
    (old,) = [r for r in m.table("vllm") if str(r.version) == "1.1.0"]
    assert [(b.version, b.torch_tag) for b in builds(old, m)] == [("1.1.0", "cu126"), ("1.1.0", "cu128")]


def test_blackwell_needs_cuda_12_8_builds(m):
    (row,) = [r for r in m.table("vllm") if str(r.version) == "1.0.0"]
    assert vllm_has(row, "12.1", "12.0", m) is False  # CMake list stops at 9.0
    (new,) = [r for r in m.table("vllm") if str(r.version) == "1.1.0"]
    assert vllm_has(new, "12.8", "12.0", m) is True
    assert vllm_has(new, "12.8", "8.9", m) is True  # family: 8.9 kernels listed
    assert vllm_has(new, "12.8", "6.1", m) is False


def plan(m, **kw):
    wishes = {k: kw.pop(k) for k in ("vllm", "cc") if k in kw}
    return resolve(machine_facts(**kw), Wishes(**wishes), m)


def summary(r):
    s = r.stack
    return (s.vllm.version, s.torch.version, s.cuda_tag, s.python) if s else None


@pytest.mark.parametrize("machine, wishes, expected", [
    (dict(driver="580.65.06"), {}, ("1.2.0", "3.2.0", "cu130", "3.12")),
    # R570 cannot run the CUDA 13 index wheel; the +cu129 variant runs through 12.x compatibility
    (dict(driver="570.26"), {}, ("1.2.0+cu129", "3.2.0", "cu129", "3.12")),
    # R470: only the +cu118 wheel of 1.0.0 (CUDA 11.x on >= 450.80.02); xformers stops at cp311
    (dict(driver="470.82.01", python="3.11.9"), {}, ("1.0.0+cu118", "3.0.0", "cu118", "3.11")),
    # Blackwell on 1.1.0: torch 3.1.0's default cu126 build has no arch list, its cu128 build has sm_120
    (dict(driver="570.26", gpus=(("NVIDIA GeForce RTX 5090", "12.0"),)), dict(vllm="1.1.0"),
     ("1.1.0", "3.1.0", "cu128", "3.12")),
    # WSL: 531.14 is a Windows number (CUDA 12.1); 1.2.0+cu129 runs via 12.x compatibility
    (dict(os_name="wsl2", driver="531.14"), {}, ("1.2.0+cu129", "3.2.0", "cu129", "3.12")),
    (dict(os_name="wsl2", driver="531.14", python="3.10.12"), dict(vllm="1.0.0"), ("1.0.0", "3.0.0", "cu121", "3.10")),
])
def test_plans(m, machine, wishes, expected):
    assert summary(resolve(machine_facts(**machine), Wishes(**wishes), m)) == expected


def test_missing_min_cc_blocks_and_says_how_to_find_out(m):
    r = plan(m, vllm="1.0.1", driver="580.65.06")
    assert r.stack is None
    assert "has no minimum compute capability in envdoctor's data" in r.rejected[0].line
    assert any("install docs" in c for c in r.changes)


def test_missing_torch_arch_list_blocks(m):
    # 1.1.0 on a GPU whose cc every arch list lacks: cu126 unknown -> blocked, cu128 known and lacking
    r = plan(m, vllm="1.1.0", driver="580.65.06", gpus=(("NVIDIA Tesla V100-SXM2-16GB", "7.0"),))
    assert r.stack is None
    line = r.rejected[0].line
    assert "whether its cu126 build has kernels" in line and "get_arch_list" in " ".join(r.changes)


def test_unknown_gpu_cc_blocks(m):
    r = plan(m, driver="580.65.06", gpus=(("NVIDIA Mystery Card", None),))
    assert r.stack is None and "its compute capability is not known" in r.rejected[0].line


def test_unmapped_driver_blocks(m):
    r = plan(m, driver="460.32.03")
    assert r.stack is None and "which CUDA it runs is not in envdoctor's data" in r.rejected[0].line


def test_pascal_gets_the_lowest_floor_of_all_releases(m):
    r = plan(m, driver="580.65.06", gpus=(("NVIDIA GeForce GTX 1080", "6.1"),))
    assert r.stack is None
    assert "needs compute capability >= 7.5" in r.rejected[0].line
    assert any("compute capability 7.0 or higher" in c for c in r.changes)  # 1.1.0 supports 7.0, not 7.5


def test_python_choice_and_the_release_for_the_python_in_use(m):
    r = plan(m, driver="580.65.06", python="3.10.12")
    assert summary(r) == ("1.2.0", "3.2.0", "cu130", "3.12")  # 1.2.0 needs >= 3.11: 3.12 preferred
    assert any("vllm 1.2.0: 3.11–3.14" in n for n in r.stack.notes)
    assert "vllm 1.1.0 is the newest release that runs on the Python in use (3.10)." in r.notes
    wished = plan(m, driver="580.65.06", python="3.10.12", vllm="1.2.0")
    assert wished.stack.python == "3.12"
    here = plan(m, driver="580.65.06", vllm="1.2.0", python="3.13.1")
    assert here.stack.python == "3.13"  # the Python in use fits: kept


def test_wished_python_outside_the_range_is_named(m):
    r = resolve(machine_facts(driver="580.65.06"), Wishes(vllm="1.0.0", python="3.12"), m)
    assert r.stack is None
    assert "does not run on Python 3.12 (xformers 0.1.0: 3.9–3.11)" in r.rejected[0].line


def test_glibc_floor_of_the_manylinux_tag(m):
    # Ubuntu 20.04 has glibc 2.31; 1.2.0's index wheel is manylinux_2_35, its +cu129 wheel manylinux_2_28
    r = plan(m, driver="580.65.06", distro=("ubuntu", "20.04"))
    assert summary(r) == ("1.2.0+cu129", "3.2.0", "cu129", "3.12")
    index = next(b for b in builds(next(x for x in m.table("vllm") if str(x.version) == "1.2.0"), m) if not b.variant)
    problems, _ = judge(Machine("linux", glibc="2.31", driver="580.65.06", gpus=(GpuSeen("A10", "8.6"),)), index, m)
    assert [p.code for p in problems] == ["glibc"] and "needs glibc >= 2.35" in problems[0].text


def test_known_issue_pins_and_offer(m):
    r = plan(m, vllm="1.1.0", driver="580.65.06")
    assert r.stack.extra_pins == ("transformers<9.0",)
    hang = plan(m, vllm="1.0.0", driver="580.65.06", python="3.11.2")
    assert any("can hang" in n and "vllm 1.0.1 fixes it" in n for n in hang.stack.notes)


def test_driver_advice_names_real_floors_not_the_nearest_release(m):
    r = plan(m, driver="470.82.01", vllm=">=1.1")
    assert r.stack is None
    assert r.changes[0].startswith("update the NVIDIA driver to 580.65.06 or newer (CUDA 13.x): that runs vllm 1.2.0")
    assert r.changes[1] == ("the least driver that runs a vLLM release here is 525.60.13 (CUDA 12.x): "
                            "vllm 1.2.0+cu129")
    assert not any("nearest" in c for c in r.changes)


def test_windows_driver_advice_uses_windows_floors(m):
    r = plan(m, os_name="wsl2", driver="471.11", vllm="1.2.0")
    assert r.stack is None
    assert "on Windows (WSL 2 uses the Windows driver) to 580 or newer (CUDA 13.x)" in r.changes[0]
    assert "527.41 (CUDA 12.x): vllm 1.2.0+cu129" in r.changes[1]


def test_no_gpu_says_so_without_nearest(m):
    r = plan(m, driver=None)
    assert r.stack is None and r.changes == ("run on a machine with an NVIDIA GPU (or plan for one with --gpu NAME --driver X)",)


def test_aarch64_skips_x86_only_builds(m):
    r = plan(m, arch="aarch64", driver="580.65.06", vllm="<1.2")
    assert summary(r) == ("1.1.0", "3.1.0", "cu128", "3.12")
    old = plan(m, arch="aarch64", driver="580.65.06", vllm="1.0.0")
    assert old.stack is None and "has no wheel for aarch64 (only manylinux1_x86_64)" in old.rejected[0].line


def test_jetson_is_not_planned(m):
    (row,) = [r for r in m.table("vllm") if str(r.version) == "1.1.0"]
    problems, _ = judge(Machine("linux", "aarch64", "540.4.0", None, (GpuSeen("Orin (nvgpu)", "8.7"),), jetson=True),
                        builds(row, m)[0], m)
    assert problems[0].code == "jetson" and "JetPack" in problems[0].text


def test_plan_steps_for_a_variant_wheel_uv_and_docker(m, tmp_path):
    from envdoctor.fix.plan import make_plan
    from envdoctor.render import plan_dockerfile

    r = plan(m, driver="570.26")  # 1.2.0+cu129 from the GitHub release
    p = make_plan(r, str(tmp_path / "env"), "uv")
    torch_step = next(s for s in p.steps if s.id == "torch")
    assert torch_step.commands[0][:2] == ("uv", "pip") and torch_step.commands[0][-3:] == ("--torch-backend", "cu129", "torch==3.2.0")
    vllm_step = next(s for s in p.steps if s.id == "vllm")
    url = "https://github.com/vllm-project/vllm/releases/download/v1.2.0/vllm-1.2.0+cu129-cp38-abi3-manylinux_2_28_x86_64.whl"
    assert url in vllm_step.commands[0]
    assert "--extra-index-url" in vllm_step.commands[0] and "https://download.pytorch.org/whl/cu129" in vllm_step.commands[0]
    # the Dockerfile runs the Python the plan chose (3.12 here; the image's own python3 is 3.10)
    docker = plan_dockerfile.render(make_plan(r, "/opt/venvs/x", "venv", matrices=m))
    assert "python3.12 -m venv /opt/vllm" in docker and "ppa:deadsnakes/ppa" in docker
    pinned = plan(m, vllm="1.1.0", driver="580.65.06")
    pins = next(s for s in make_plan(pinned, "/e", "venv").steps if s.id == "vllm").install.requirements
    assert "transformers<9.0" in pins  # a known extra pin travels with the install


def test_when_no_driver_alone_helps_the_gpu_change_comes_first(m):
    r = plan(m, driver="570.26", gpus=(("NVIDIA GeForce GTX 1080", "6.1"),))
    assert r.stack is None
    assert "compute capability 7.0 or higher" in r.changes[0]
    assert any(c.startswith("update the NVIDIA driver") for c in r.changes[1:])


def _with(facts, *dists):
    """The machine's environment with these distributions added (name, version)."""
    import dataclasses

    from envdoctor.core.facts import Distribution

    env = facts.get("python")
    more = env.distributions + tuple(Distribution(n, v) for n, v in dists)
    results = dict(facts.results, python=dataclasses.replace(facts.results["python"],
                                                             facts=dataclasses.replace(env, distributions=more)))
    return type(facts)(results)


@pytest.mark.parametrize("vllm, dists, severity, says", [
    ("1.0.0", (), "warn", "envdoctor fix --vllm 1.0.1"),  # a release that can hang: offer the fixed one
    ("1.1.0", (("transformers", "9.1"),), "error", "install 'transformers<9.0'"),  # its extra pin broken
    ("1.1.0", (("transformers", "8.9"),), None, None),  # the pin holds
    ("1.0.1", (), None, None),  # no known problem
])
def test_check_says_what_fix_knows_of_the_installed_release(m, vllm, dists, severity, says):
    # The seed machine's vllm 0.5.3 got the zmq-hang advice from `fix`, and nothing from `check`.
    from envdoctor.rules.packages import vllm_known_issue

    advice = vllm_known_issue.check(_with(machine_facts(vllm=vllm), *dists), m)
    assert (advice.severity if advice else None) == severity
    if says:
        assert any(says in c for c in advice.fix)
        assert advice.title in ("vllm 1.0.0 can hang", "vllm 1.1.0 needs transformers < 9.0")  # the problem, named


def test_the_nearest_release_for_a_compute_capability_is_named_not_an_older_one(m):
    from packaging.version import Version

    from envdoctor.compat.kernels import nearest_release_for_cc

    assert nearest_release_for_cc(m, "7.0", Version("1.2.0")) == "1.1.0"  # no newer one admits 7.0
    assert nearest_release_for_cc(m, "7.5", Version("1.0.1")) == "1.1.0"  # the first newer one, not 1.0.0
    assert nearest_release_for_cc(m, "6.1", Version("1.2.0")) is None
    r = plan(m, driver="580.65.06", gpus=(("NVIDIA V100", "7.0"),), vllm="==1.2.0")
    assert r.stack is None
    assert any("pick another vLLM release: vllm 1.1.0 supports" in c for c in r.changes), r.changes
