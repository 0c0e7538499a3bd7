"""Rule boundaries that fixtures do not pin down: minor-version compatibility, SASS/PTX
matching, thresholds, and the cases where a rule must stay silent."""
from __future__ import annotations

import dataclasses

import pytest

from envdoctor.compat.tables import Matrices
from envdoctor.core.facts import (
    Disk,
    Distribution,
    DriverFacts,
    Gpu,
    PlatformFacts,
    PythonEnvFacts,
    ResourceFacts,
    TorchBuild,
    TorchRuntimeFacts,
)
from envdoctor.core.results import Facts, ProbeResult
from envdoctor.fit.calc import MiB, utilization_for
from envdoctor.rules import driver, packages, resources, torch

M = Matrices()


def facts(**areas) -> Facts:
    return Facts({a: ProbeResult(a, "ok", facts=f) for a, f in areas.items()})


def env(torch_version=None, cuda=None, dists=(), version="3.11.9", kind="venv"):
    return PythonEnvFacts(executable="/v/bin/python", selected_by="VIRTUAL_ENV", version=version, kind=kind,
                          marker_env={"python_version": version[:4], "platform_system": "Linux",
                                      "platform_machine": "x86_64", "sys_platform": "linux"},
                          distributions=tuple(dists),
                          torch=TorchBuild(torch_version, cuda) if torch_version else None)


def drv(version, cuda_max, name="NVIDIA A10", cc="8.6", total=24576, used=0):
    return DriverFacts("nvml", version, cuda_max, "nvml",
                       (Gpu(0, name, cc, total, used, total - used),))


@pytest.mark.parametrize("driver_version, cuda_max, torch_cuda, severity", [
    ("535.104.05", "12.2", "12.1", None),      # native
    ("525.60.13", "12.0", "12.4", "warn"),     # same major, above the 12.x floor: runs, limited (no newer PTX JIT)
    ("520.61.05", "11.8", "12.1", "error"),    # major too old
    ("470.256.02", "11.4", "11.8", "warn"),    # 11.x compat floor 450.80.02
    ("440.33.01", "10.2", "11.8", "error"),    # below the 11.x floor
    ("570.86.10", "12.8", "13.0", "error"),    # CUDA 13 needs >= 580
    ("580.65.06", "13.0", "13.0", None),
])
def test_driver_too_old_respects_minor_version_compatibility(driver_version, cuda_max, torch_cuda, severity):
    f = facts(driver=drv(driver_version, cuda_max), python=env("2.5.1", torch_cuda))
    finding = driver.driver_too_old.evaluate(f, M)
    assert (finding.severity if finding is not None else None) == severity


def test_driver_under_minor_version_compatibility_names_the_native_floor():
    # vllm#41209's report: torch 2.11.0+cu129 on driver 550.163.01 (CUDA 12.4): torch saw the GPU,
    # the build runs only through minor-version compatibility; CUDA 12.9 itself wants 575.51.03.
    f = facts(driver=drv("550.163.01", None), python=env("2.5.1", "12.9"))
    finding = driver.driver_too_old.evaluate(f, M)
    assert finding is not None and finding.severity == "warn"
    assert "minor-version compatibility" in finding.title and "575.51.03" in finding.why


def test_driver_max_cuda_from_the_branch_table_when_the_driver_did_not_say():
    d = DriverFacts("nvidia-smi", "470.82.01", None, None, (Gpu(0, "Tesla T4", "7.5"),))
    finding = driver.driver_too_old.evaluate(facts(driver=d, python=env("2.3.1", "12.1")), M)
    assert finding is not None and "supports CUDA 11.4" in finding.evidence[0]


@pytest.mark.parametrize("cc, archs, ok", [
    ("8.6", ["sm_80", "sm_86"], True),
    ("8.9", ["sm_80", "sm_86"], True),        # SASS of 8.6 runs on 8.9 (same major)
    ("9.0", ["sm_80", "sm_86"], False),       # different major, no PTX
    ("12.0", ["sm_90", "compute_90"], True),  # PTX JIT-compiles forward
    ("12.0", ["sm_50", "sm_90"], False),
    ("7.5", ["sm_80", "compute_80"], False),  # PTX never runs backwards
    ("9.0", ["sm_90a"], True),
])
def test_arch_supported(cc, archs, ok):
    assert torch.arch_supported(cc, archs) is ok


def test_arch_rule_uses_the_matrix_in_quick_mode():
    # torch 2.11.0+cu130 ships sm_75..sm_120: a V100 (7.0) has no kernels.
    f = facts(driver=drv("580.65.06", "13.0", "Tesla V100-SXM2-16GB", "7.0"), python=env("2.11.0+cu130", "13.0"))
    finding = torch.arch_missing.evaluate(f, M)
    assert finding is not None and "matrices/torch_archs.csv" in finding.evidence[1]
    f = facts(driver=drv("580.65.06", "13.0", "NVIDIA A10", "8.6"), python=env("2.11.0+cu130", "13.0"))
    assert torch.arch_missing.evaluate(f, M) is None


def test_arch_fix_is_the_smallest_torch_step_up_that_covers_the_gpu():
    # torch 1.12.1+cu102 stops at sm_75: an A100 (8.0) has no kernels. The fix is not the oldest
    # build that covers sm_80 but the first one at or above the installed torch.
    import re

    from packaging.version import Version

    f = facts(driver=drv("535.104.05", "12.2", "NVIDIA A100-SXM4-80GB", "8.0"), python=env("1.12.1+cu102", "10.2"))
    finding = torch.arch_missing.evaluate(f, M)
    assert finding is not None
    proposed = Version(re.search(r"torch==(\S+)", finding.fix[0]).group(1))
    assert proposed >= Version("1.12.1")
    assert any(r.torch == proposed and torch.arch_supported("8.0", r.arch_list) for r in M.table("torch_archs"))
    older = [r.torch for r in M.table("torch_archs") if torch.arch_supported("8.0", r.arch_list) and r.torch < proposed]
    assert all(v < Version("1.12.1") for v in older)


def test_gpu_cc_from_the_matrix_when_the_driver_did_not_say():
    d = DriverFacts("nvidia-smi", "470.256.02", "11.4", "nvidia-smi", (Gpu(0, "NVIDIA GeForce GTX 1080 Ti", None),))
    finding = driver.cc_too_low.evaluate(facts(driver=d), M)
    assert finding is not None and "compute capability 6.1" in finding.evidence[0]


def test_cc_rule_uses_the_installed_vllm_floor():
    t4 = drv("535.104.05", "12.2", "Tesla T4", "7.5")
    assert driver.cc_too_low.evaluate(facts(driver=t4, python=env(dists=[Distribution("vllm", "0.6.4")])), M) is None
    v100 = drv("535.104.05", "12.2", "Tesla V100-SXM2-16GB", "7.0")
    assert driver.cc_too_low.evaluate(facts(driver=v100, python=env(dists=[Distribution("vllm", "0.19.1")])), M) is None
    finding = driver.cc_too_low.evaluate(facts(driver=v100, python=env(dists=[Distribution("vllm", "0.20.0")])), M)
    assert finding is not None and "vllm 0.19.1 is the newest release" in finding.notes[0]


def test_mixed_gpu_architectures_point_vllm_at_one_kind():
    def two(cc0, cc1):
        return DriverFacts("nvml", "535.104.05", "12.2", "nvml",
                           (Gpu(0, "NVIDIA GeForce RTX 2080 Ti", cc0), Gpu(1, "NVIDIA GeForce RTX 4090", cc1)))
    finding = driver.mixed_gpus.evaluate(facts(driver=two("7.5", "8.9")), M)
    assert finding is not None and "7.5, 8.9" in finding.title
    # the newer kind, numbered as nvidia-smi numbers it (CUDA's own order is fastest first)
    assert finding.fix == ("CUDA_DEVICE_ORDER=PCI_BUS_ID CUDA_VISIBLE_DEVICES=1 vllm serve MODEL",)
    assert "7.5" in finding.notes[0]
    assert driver.mixed_gpus.evaluate(facts(driver=two("8.9", "8.9")), M) is None
    assert driver.mixed_gpus.evaluate(facts(driver=drv("535.104.05", "12.2")), M) is None


def test_memory_in_use_threshold():
    assert driver.memory_in_use.evaluate(facts(driver=drv("580.1", "13.0", used=2000)), M) is None
    finding = driver.memory_in_use.evaluate(facts(driver=drv("580.1", "13.0", used=12000)), M)
    # the figure fit advises for 12,576 of 24,576 MiB free (one figure per report, N37): below the
    # free share (0.51), since vLLM's CUDA context comes out of the free memory first
    want = utilization_for(24576 * MiB, 12576 * MiB)
    assert finding is not None and f"--gpu-memory-utilization {want:.2f}" in finding.fix[0] and want < 0.51


def test_missing_requirements_evaluates_markers_in_the_target():
    dists = [
        Distribution("app", "1.0", ("tomli>=1; python_version < '3.11'", "numpy>=1.20", "pytest; extra == 'test'")),
        Distribution("numpy", "1.19.0"),
    ]
    unmet = packages.unmet_requirements(facts(python=env(dists=dists, version="3.11.9")))
    assert [(who, str(req), have) for who, req, have in unmet] == [("app", "numpy>=1.20", "1.19.0")]
    unmet = packages.unmet_requirements(facts(python=env(dists=dists, version="3.10.12")))
    assert {str(r) for _, r, _ in unmet} == {"tomli>=1; python_version < \"3.11\"", "numpy>=1.20"}


def test_local_version_labels_satisfy_pins():
    dists = [Distribution("xformers", "0.0.27", ("torch==2.3.1",)), Distribution("torch", "2.3.1+cu121")]
    assert packages.unmet_requirements(facts(python=env(dists=dists))) == []


def test_python_unsupported_by_installed_vllm_is_an_error():
    f = facts(python=env(dists=[Distribution("vllm", "0.5.3")], version="3.13.1"))
    finding = packages.python_unsupported.evaluate(f, M)
    # vLLM 0.5.3 says >=3.8 but its torch 2.3.1 has no cp313 wheels
    assert finding is not None and finding.severity == "error" and "torch 2.3.1: 3.8–3.12" in finding.evidence[1]


def test_low_disk_thresholds():
    gib = 1024 ** 3

    def res(free):
        return ResourceFacts(16 * gib, 12 * gib, 0, (Disk("pip cache", "/c", free * gib, 500 * gib),))

    assert resources.low_disk.evaluate(facts(resources=res(40)), M) is None
    assert resources.low_disk.evaluate(facts(resources=res(20)), M).severity == "warn"
    assert resources.low_disk.evaluate(facts(resources=res(5)), M).severity == "error"


def test_cuda_init_failure_is_silent_without_gpu_and_without_error():
    runtime = TorchRuntimeFacts("2.13.0+cu130", "13.0", cuda_available=False)
    assert torch.cuda_init_failed.evaluate(facts(torch=runtime), M) is None
    runtime = TorchRuntimeFacts("2.13.0+cu130", "13.0", cuda_available=False, error="RuntimeError: boom")
    finding = torch.cuda_init_failed.evaluate(facts(torch=runtime), M)
    assert finding is not None and "RuntimeError: boom" in finding.evidence[0]


def test_native_windows_suppresses_no_gpu():
    f = Facts({"platform": ProbeResult("platform", "ok", facts=PlatformFacts("Windows", "AMD64")),
               "driver": ProbeResult("driver", "absent", error="no NVIDIA driver")})
    assert driver.no_gpu.evaluate(f, M) is None


@pytest.mark.parametrize("torch_version, platform, fires", [
    ("3.0.0+cu118", "linux", True),  # the index's torchvision 0.99 is a CUDA 12.1 build: another major
    ("3.0.0+cu121", "linux", False),  # same CUDA as the index build
    ("3.0.0+cu118", "win32", False),  # the index's Windows torchvision is a CPU build
    ("3.0.0", "linux", False),  # both from the index
])
def test_a_plain_torchvision_is_the_index_build(tmp_path, torch_version, platform, fires):
    from .compat_kit import mini_matrices

    m = mini_matrices(str(tmp_path))
    (tmp_path / "torch_companions.csv").write_text("torch,torchvision,source\n3.0,0.99,test table\n")
    e = env(torch_version, "11.8" if "cu118" in torch_version else "12.1",
            dists=[Distribution("torch", torch_version), Distribution("torchvision", "0.99.0")])
    e = dataclasses.replace(e, marker_env={**e.marker_env, "sys_platform": platform})
    finding = torch.companion_mismatch.evaluate(facts(python=e), m)
    assert (finding is not None) is fires
    if fires:
        assert "CUDA 12.1" in " ".join(map(str, finding.evidence)) and "cu118" in finding.fix[0]
