"""Does one build run on one machine? The single verdict both `check` (on what is installed) and
`fix` (on each candidate) use, so the two cannot disagree. Each problem says what is wrong, its kind,
and what would have to change; something not known is a problem of kind "data" that says how to find
out, never a pass."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

from envdoctor.compat.tables import Matrices
from envdoctor.compat import driver as drv
from envdoctor.compat.builds import Build
from envdoctor.compat.kernels import arch_supported, lowest_min_cc, nearest_release_for_cc, torch_archs, vllm_has

NVIDIA_DRIVERS = "https://www.nvidia.com/Download/index.aspx"
FIND_CC = "nvidia-smi --query-gpu=name,compute_cap --format=csv"


@dataclass(frozen=True)
class GpuSeen:
    name: str
    cc: Optional[str]


@dataclass(frozen=True)
class Machine:
    os: str  # linux | wsl2 | wsl1 | windows | macos | unknown
    arch: str = "x86_64"  # x86_64 | aarch64
    driver: Optional[str] = None
    driver_cuda: Optional[str] = None  # what the driver reported (nvidia-smi's banner), if it did
    gpus: Optional[Tuple[GpuSeen, ...]] = None  # None: not known; (): none
    glibc: Optional[str] = None
    jetson: bool = False
    observed_archs: Tuple[Tuple[str, str, Tuple[str, ...]], ...] = ()  # (torch, cuda, arch list) seen here

    @property
    def driver_os(self) -> str:
        return drv.os_of(self.os)


@dataclass(frozen=True)
class Problem:
    kind: str  # platform | gpu | driver | glibc | data
    text: str  # a clause after "vllm X ": "needs compute capability >= 7.0; ..."
    change: str  # what would have to change, as an instruction
    code: str = ""  # which check: cc-too-low, vllm-no-kernels, torch-no-kernels, driver-too-old, unknown-...


def platform_problems(mach: Machine, build: Build) -> List[Problem]:
    out = []
    if mach.os == "windows":
        out.append(Problem("platform", "does not run on native Windows (Linux wheels only)",
                           "run it in WSL 2: `wsl --install -d Ubuntu-22.04` in an administrator PowerShell", "platform"))
    elif mach.os == "wsl1":
        out.append(Problem("platform", "cannot reach the GPU from WSL 1",
                           "convert the distro to WSL 2: `wsl --set-version <distro> 2` in PowerShell", "platform"))
    elif mach.os == "macos":
        out.append(Problem("platform", "has no CUDA build for macOS", "use a Linux machine with an NVIDIA GPU", "platform"))
    if mach.jetson:
        out.append(Problem("platform", "is not planned for Jetson: its driver and CUDA come with JetPack, and the "
                           "package index's x86_64/SBSA wheels are not Jetson builds",
                           "use NVIDIA's Jetson builds of vLLM and torch (jetson-containers, the Jetson AI Lab wheel "
                           "index) for your JetPack release", "jetson"))
    if build.platforms and not any(p.endswith("_" + mach.arch) for p in build.platforms):
        out.append(Problem("platform", f"has no wheel for {mach.arch} (only {' '.join(build.platforms)})",
                           f"pick a vLLM release with {mach.arch} wheels, or an x86_64 machine", "platform"))
    return out


def glibc_problems(mach: Machine, build: Build) -> List[Problem]:
    from envdoctor.compat.known import glibc_floor

    need = glibc_floor(build.platforms, mach.arch)
    if need and mach.glibc and drv.cuda_key(mach.glibc) < drv.cuda_key(need):
        return [Problem("glibc", f"needs glibc >= {need} (its wheel is {_tag(build, mach)}); this system has {mach.glibc}",
                        f"use a newer distribution (glibc >= {need}) or a container, or an older vLLM release", "glibc")]
    return []


def _tag(build: Build, mach: Machine) -> str:
    return next((p for p in build.platforms if p.endswith("_" + mach.arch)), "?")


def gpu_problems(mach: Machine, build: Build, m: Matrices) -> List[Problem]:
    out: List[Problem] = []
    if mach.gpus == ():
        return [Problem("gpu", "needs an NVIDIA GPU; none is visible here",
                        "run on a machine with an NVIDIA GPU (or plan for one with --gpu NAME --driver X)", "no-gpu")]
    release = build.release
    for g in mach.gpus or ():
        if not g.cc:
            out.append(Problem("data", f"cannot be judged for {g.name}: its compute capability is not known",
                               f"find it with `{FIND_CC}` and pass --cc X.Y", "unknown-cc"))
            continue
        sm = "sm_" + g.cc.replace(".", "")
        if not release.min_cc:
            out.append(Problem("data", "has no minimum compute capability in envdoctor's data",
                               f"read it in vLLM {release.version}'s install docs (\"compute capability X or higher\") "
                               "or its CMakeLists.txt CUDA_SUPPORTED_ARCHS, or pick another release", "unknown-min-cc"))
        elif drv.cuda_key(g.cc) < drv.cuda_key(release.min_cc):
            lowest = lowest_min_cc(m) or release.min_cc
            out.append(Problem("gpu", f"needs compute capability >= {release.min_cc}; {g.name} is {g.cc}",
                               f"use a GPU with compute capability {lowest} or higher (no vLLM release supports "
                               f"{g.cc})" if drv.cuda_key(g.cc) < drv.cuda_key(lowest) else
                               f"pick another vLLM release: vllm {nearest_release_for_cc(m, g.cc, release.version)} "
                               f"supports compute capability {g.cc}", "cc-too-low"))
            continue
        has = vllm_has(release, build.vllm_cuda, g.cc, m, variant=bool(build.variant)) if release.min_cc else True
        if has is None:
            out.append(Problem("data", f"cannot be judged for {g.name} ({sm}): the CUDA build or arch list of vllm "
                               f"{build.version} is not in envdoctor's data",
                               "pick another vLLM release, or read its CMakeLists.txt CUDA_SUPPORTED_ARCHS", "unknown-vllm-archs"))
        elif not has:
            out.append(Problem("gpu", f"has no kernels for {g.name} ({sm}) in its CUDA {build.vllm_cuda} build",
                               "pick a newer vLLM release (Blackwell needs CUDA >= 12.8 builds of vLLM and torch)", "vllm-no-kernels"))
        archs = torch_archs(str(build.torch.version), build.torch_cuda, m, mach.observed_archs)
        if archs is None:
            out.append(Problem("data", f"pins torch {build.torch.version}, and whether its {build.torch_tag} build has "
                               f"kernels for {g.name} ({sm}) is not in envdoctor's data",
                               f"find out: `python -c \"import torch; print(torch.cuda.get_arch_list())\"` with torch "
                               f"{build.torch.version}+{build.torch_tag}", "unknown-torch-archs"))
        elif not arch_supported(g.cc, archs[0]):
            out.append(Problem("gpu", f"pins torch {build.torch.version} whose {build.torch_tag} build has no kernels "
                               f"for {g.name} ({sm}; it has {' '.join(archs[0])}, from {archs[1]})",
                               "pick a newer vLLM release (its torch build has no kernels for this GPU)", "torch-no-kernels"))
    return out


def driver_problems(mach: Machine, build: Build, m: Matrices) -> Tuple[List[Problem], bool]:
    """(problems, runs only through minor-version compatibility)."""
    if mach.driver is None or mach.jetson:
        return [], False
    needs = [c for c in dict.fromkeys((build.vllm_cuda, build.torch_cuda)) if c]
    os = mach.driver_os
    verdicts = [drv.runs(mach.driver, os, c, m, mach.driver_cuda) for c in needs]
    have = mach.driver_cuda or drv.cuda_for_driver(mach.driver, os, m)
    if have is None:
        return [Problem("data", f"cannot be judged on driver {mach.driver}: which CUDA it runs is not in envdoctor's "
                        "data (older than R418?)",
                        "read the \"CUDA Version\" that `nvidia-smi` prints, or update the NVIDIA driver: "
                        + NVIDIA_DRIVERS, "unknown-driver")], False
    if "no" in verdicts:
        built = (f"torch {build.torch.version} built for CUDA {build.torch_cuda}" if len(needs) == 1 else
                 f"CUDA {build.vllm_cuda} (its kernels) and torch {build.torch.version} built for CUDA {build.torch_cuda}")
        return [Problem("driver", f"needs {built}; driver {mach.driver} supports CUDA <= {have}",
                        driver_change(build.needs or build.torch_cuda, mach, m), "driver-too-old")], False
    return [], "compat" in verdicts


def driver_change(cuda: str, mach: Machine, m: Matrices) -> str:
    f = drv.floor(cuda, m)
    os = mach.driver_os
    need = f.least(os)
    native = f.native(os)
    where = "on Windows (WSL 2 uses the Windows driver)" if os == "windows" else ""
    what = f"CUDA {cuda.split('.')[0]}.x" if f.compat(os) else f"CUDA {cuda}"
    text = f"update the NVIDIA driver {where} to {need or 'a newer release'} or newer ({what})".replace("  ", " ")
    if native and native != need:
        text += f"; {native} or newer runs CUDA {cuda} natively"
    return text + ("" if os == "windows" else f": {NVIDIA_DRIVERS}")


def judge(mach: Machine, build: Build, m: Matrices) -> Tuple[Tuple[Problem, ...], bool]:
    """Every problem of one build on one machine (Python aside), and whether it runs only through
    minor-version compatibility."""
    driver, via_compat = driver_problems(mach, build, m)
    problems = platform_problems(mach, build) + glibc_problems(mach, build) + gpu_problems(mach, build, m) + driver
    return tuple(problems), via_compat

