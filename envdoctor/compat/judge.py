"""Does one build run on one machine? The single verdict both `check` (on what is installed) and
`fix` (on each candidate) use, so the two cannot disagree. Each problem says what is wrong, its kind,
and what would have to change; something not known is a problem of kind "data" that says how to find
out, never a pass."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

from envdoctor.compat import driver as drv
from envdoctor.compat.builds import Build
from envdoctor.compat.kernels import arch_supported, lowest_min_cc, nearest_release_for_cc, torch_archs, vllm_has
from envdoctor.compat.tables import Matrices
from envdoctor.messages import Msg

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
    text: str  # a clause after "vllm X ": Msg("blocker.<code>", ...): "needs compute capability >= 7.0; ..."
    change: str  # what would have to change, as an instruction: Msg("change.<code>", ...)
    code: str = ""  # which check: cc-too-low, vllm-no-kernels, torch-no-kernels, driver-too-old, unknown-...


def platform_problems(mach: Machine, build: Build) -> List[Problem]:
    out = []
    if mach.os == "windows":
        out.append(Problem("platform", Msg("blocker.windows"), Msg("change.windows"), "platform"))
    elif mach.os == "wsl1":
        out.append(Problem("platform", Msg("blocker.wsl1"), Msg("change.wsl1"), "platform"))
    elif mach.os == "macos":
        out.append(Problem("platform", Msg("blocker.macos"), Msg("change.macos"), "platform"))
    if mach.jetson:
        out.append(Problem("platform", Msg("blocker.jetson"), Msg("change.jetson"), "jetson"))
    if build.platforms and not any(p.endswith("_" + mach.arch) for p in build.platforms):
        out.append(Problem("platform", Msg("blocker.arch", arch=mach.arch, platforms=" ".join(build.platforms)),
                           Msg("change.arch", arch=mach.arch), "platform"))
    return out


def glibc_problems(mach: Machine, build: Build) -> List[Problem]:
    from envdoctor.compat.known import glibc_floor

    need = glibc_floor(build.platforms, mach.arch)
    if need and mach.glibc and drv.xy_key(mach.glibc) < drv.xy_key(need):
        return [Problem("glibc", Msg("blocker.glibc", need=need, tag=_tag(build, mach), glibc=mach.glibc),
                        Msg("change.glibc", need=need), "glibc")]
    return []


def _tag(build: Build, mach: Machine) -> str:
    return next((p for p in build.platforms if p.endswith("_" + mach.arch)), "?")


def gpu_problems(mach: Machine, build: Build, m: Matrices) -> List[Problem]:
    out: List[Problem] = []
    if mach.gpus == ():
        return [Problem("gpu", Msg("blocker.no-gpu"), Msg("change.no-gpu"), "no-gpu")]
    release = build.release
    for g in mach.gpus or ():
        if not g.cc:
            out.append(Problem("data", Msg("blocker.unknown-cc", gpu=g.name), Msg("change.unknown-cc", command=FIND_CC),
                               "unknown-cc"))
            continue
        sm = "sm_" + g.cc.replace(".", "")
        if not release.min_cc:
            out.append(
                Problem(
                    "data",
                    Msg("blocker.unknown-min-cc"),
                    Msg("change.unknown-min-cc", vllm=release.version),
                    "unknown-min-cc",
                )
            )
        elif drv.xy_key(g.cc) < drv.xy_key(release.min_cc):
            lowest = lowest_min_cc(m) or release.min_cc
            out.append(Problem("gpu", Msg("blocker.cc-too-low", need=release.min_cc, gpu=g.name, cc=g.cc),
                               Msg("change.cc-too-low.none", lowest=lowest, cc=g.cc)
                               if drv.xy_key(g.cc) < drv.xy_key(lowest) else
                               Msg("change.cc-too-low.older", vllm=nearest_release_for_cc(m, g.cc, release.version),
                                   cc=g.cc), "cc-too-low"))
            continue
        has = vllm_has(release, build.vllm_cuda, g.cc, m, variant=bool(build.variant)) if release.min_cc else True
        if has is None:
            out.append(Problem("data", Msg("blocker.unknown-vllm-archs", gpu=g.name, sm=sm, vllm=build.version),
                               Msg("change.unknown-vllm-archs"), "unknown-vllm-archs"))
        elif not has:
            out.append(Problem("gpu", Msg("blocker.vllm-no-kernels", gpu=g.name, sm=sm, cuda=build.vllm_cuda),
                               Msg("change.vllm-no-kernels"), "vllm-no-kernels"))
        archs = torch_archs(str(build.torch.version), build.torch_cuda, m, mach.observed_archs)
        if archs is None:
            out.append(
                Problem(
                    "data",
                    Msg(
                        "blocker.unknown-torch-archs", torch=build.torch.version, tag=build.torch_tag, gpu=g.name, sm=sm
                    ),
                    Msg("change.unknown-torch-archs", torch=f"{build.torch.version}+{build.torch_tag}"),
                    "unknown-torch-archs",
                )
            )
        elif not arch_supported(g.cc, archs[0]):
            out.append(Problem("gpu", Msg("blocker.torch-no-kernels", torch=build.torch.version, tag=build.torch_tag,
                                          gpu=g.name, sm=sm, archs=" ".join(archs[0]), where=archs[1]),
                               Msg("change.torch-no-kernels"), "torch-no-kernels"))
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
        return [Problem("data", Msg("blocker.unknown-driver", driver=mach.driver),
                        Msg("change.unknown-driver", url=NVIDIA_DRIVERS), "unknown-driver")], False
    if "no" in verdicts:
        built = (Msg("blocker.built.torch", torch=build.torch.version, cuda=build.torch_cuda) if len(needs) == 1 else
                 Msg("blocker.built.both", vllm_cuda=build.vllm_cuda, torch=build.torch.version, cuda=build.torch_cuda))
        return [Problem("driver", Msg("blocker.driver-too-old", built=built, driver=mach.driver, have=have),
                        driver_change(build.needs or build.torch_cuda, mach, m), "driver-too-old")], False
    return [], "compat" in verdicts


def driver_change(cuda: str, mach: Machine, m: Matrices) -> str:
    f = drv.floor(cuda, m)
    os = mach.driver_os
    need = f.least(os)
    native = f.native(os)
    what = f"{cuda.split('.')[0]}.x" if f.compat(os) else cuda
    return Msg(
        "change.driver" + (".windows" if os == "windows" else ""),
        need=need or Msg("driver-too-old-for-torch.newer"),
        what=what,
        native=Msg("change.driver.native", native=native, cuda=cuda) if native and native != need else "",
        url=NVIDIA_DRIVERS,
    )


def judge(mach: Machine, build: Build, m: Matrices) -> Tuple[Tuple[Problem, ...], bool]:
    """Every problem of one build on one machine (Python aside), and whether it runs only through
    minor-version compatibility."""
    driver, via_compat = driver_problems(mach, build, m)
    problems = platform_problems(mach, build) + glibc_problems(mach, build) + gpu_problems(mach, build, m) + driver
    return tuple(problems), via_compat

