"""torch rules: CPU build on a GPU machine, missing GPU arch, CUDA failing to start,
and vLLM's exact torch pin."""
from __future__ import annotations

import re
from typing import List, Optional, Tuple

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from envdoctor.compat.builds import cuda_of_tag
from envdoctor.compat.kernels import arch_supported, torch_archs
from envdoctor.compat.tables import Matrices
from envdoctor.core.results import Facts
from envdoctor.messages import Msg
from envdoctor.rules.base import (
    TORCH_INDEX,
    Advice,
    cuda_tag,
    driver_runs_cuda,
    gpu_cc,
    pinned_version,
    rule,
    target_os,
    target_pip,
    version_or_none,
)


@rule("torch-cpu-build-on-gpu-machine", "torch", "torch is a CPU-only build although an NVIDIA GPU is present")
def cpu_build(facts: Facts, m: Matrices) -> Optional[Advice]:
    driver, env = facts.driver, facts.python
    if driver is None or not driver.gpus or env is None or env.torch is None:
        return None
    if env.torch.cuda or env.torch.hip:
        return None
    public = env.torch.version.split("+")[0]
    row = m.torch(public)
    fix: Tuple[str, ...] = ()
    if row is not None:
        builds = [b for b in row.cuda_builds if driver_runs_cuda(driver, f"{b[2:-1]}.{b[-1]}", m, target_os(facts))]
        if builds:
            fix = (f"{target_pip(facts)} install --force-reinstall torch=={public} "
                   f"--index-url {TORCH_INDEX}/{builds[-1]}",)
    return Advice(
        "error", Msg("torch-cpu-build-on-gpu-machine.title", torch=env.torch.version),
        evidence=(Msg("torch-cpu-build-on-gpu-machine.evidence.torch", torch=env.torch.version),
                  Msg("torch-cpu-build-on-gpu-machine.evidence.gpu", gpu=driver.gpus[0].name,
                      driver=driver.driver_version or "?")),
        why=Msg("torch-cpu-build-on-gpu-machine.why"),
        fix=fix,
        notes=() if fix else (Msg("torch-cpu-build-on-gpu-machine.note"),),
    )


def _arch_list(facts: Facts, m: Matrices) -> Tuple[Tuple[str, ...], str]:
    """torch's arch list: what torch.cuda.get_arch_list() said here, else compat's data for the build."""
    from envdoctor.compat.installed import machine_of

    env = facts.python
    runtime = facts.torch
    if runtime is not None and runtime.arch_list:
        return runtime.arch_list, "torch.cuda.get_arch_list()"
    if env is not None and env.torch is not None and env.torch.cuda:
        found = torch_archs(env.torch.version, env.torch.cuda, m, machine_of(facts, m).observed_archs)
        if found is not None:
            return found
    return (), ""


@rule("torch-arch-missing-for-gpu", "torch", "torch has no kernels (SASS or PTX) for this GPU's architecture")
def arch_missing(facts: Facts, m: Matrices) -> Optional[Advice]:
    driver = facts.driver
    archs, where = _arch_list(facts, m)
    if driver is None or not archs:
        return None
    missing = [(g, cc) for g, cc in ((g, gpu_cc(g, m)) for g in driver.gpus)
               if cc and not arch_supported(cc, archs)]
    if not missing:
        return None
    g, cc = missing[0]
    sm = "sm_" + cc.replace(".", "")
    covering = sorted({r.torch for r in m.table("torch_archs") if arch_supported(cc, r.arch_list)})
    env = facts.python
    fix: Tuple[str, ...] = ()
    notes = []
    if covering:
        # The smallest step up from the installed torch (an older one only when none is newer).
        have = version_or_none(env.torch.version) if env is not None and env.torch is not None else None
        newer = [v for v in covering if have is None or v >= Version(have.public)]
        first = newer[0] if newer else covering[-1]
        row = next(r for r in m.table("torch_archs") if r.torch == first and arch_supported(cc, r.arch_list))
        fix = (f"{target_pip(facts)} install torch=={first} --index-url {TORCH_INDEX}/{cuda_tag(row.cuda)}",)
        notes.append(Msg("torch-arch-missing-for-gpu.note", torch=first, build=cuda_tag(row.cuda), sm=sm))
    runtime = facts.torch
    evidence: List[str] = [Msg("torch-arch-missing-for-gpu.evidence.gpu", index=g.index, name=g.name, cc=cc, sm=sm),
                Msg("torch-arch-missing-for-gpu.evidence.archs", torch=env.torch.version if env and env.torch else "?",
                    archs=" ".join(archs), where=where)]
    if runtime is not None:
        evidence.extend(w for w in runtime.warnings if "capability" in w)
    return Advice(
        "error", Msg("torch-arch-missing-for-gpu.title", gpu=g.name, sm=sm),
        evidence=tuple(evidence),
        why=Msg("torch-arch-missing-for-gpu.why"),
        fix=fix, notes=tuple(notes),
    )


@rule("torch-cuda-init-failed", "torch", "torch is a CUDA build but CUDA failed to initialise")
def cuda_init_failed(facts: Facts, _m: Matrices) -> Optional[Advice]:
    runtime, driver = facts.torch, facts.driver
    if runtime is None or not runtime.cuda:
        return None
    if runtime.cuda_available and not runtime.error:
        return None
    if not runtime.error and (driver is None or not driver.gpus):
        return None  # no GPU at all: no-nvidia-gpu says so
    error = runtime.error or next((w for w in runtime.warnings if "CUDA" in w), "torch.cuda.is_available() is False")
    return Advice(
        "error", Msg("torch-cuda-init-failed.title"),
        evidence=(f"torch {runtime.version} (CUDA {runtime.cuda}): {error}",),
        why=Msg("torch-cuda-init-failed.why"),
        fix=(f"{_python(facts)} -c \"import torch; torch.cuda.init()\"",),
        notes=(Msg("torch-cuda-init-failed.note"),),
    )


def _linux(facts: Facts) -> bool:
    """The environment is Linux (the index's plain torchvision wheels are CUDA builds only there)."""
    env = facts.python
    return env is not None and env.marker_env.get("sys_platform") == "linux"


def _python(facts: Facts) -> str:
    env = facts.python
    return env.executable if env is not None else "python"


def torch_pin(facts: Facts) -> Optional[Tuple[str, str]]:
    """(vLLM's torch requirement, installed vLLM version) when vLLM is installed."""
    env = facts.python
    vllm = env.dist("vllm") if env is not None else None
    if env is None or vllm is None:
        return None
    for text in vllm.requires:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if req.name.lower() == "torch" and applies(req, env.marker_env):
            return str(req.specifier), vllm.version
    return None


def applies(req: Requirement, marker_env: dict) -> bool:
    """Does `req` apply in the target interpreter (markers evaluated there, no extras)?"""
    if req.marker is None:
        return True
    try:
        return req.marker.evaluate(dict(marker_env, extra=""))
    except Exception:  # noqa: BLE001 - an odd marker in someone's metadata: treat as not applying
        return False


def older_than_every_vllm(facts: Facts, m: Matrices) -> Optional[Advice]:
    """No vLLM installed, and torch older than the torch every vLLM release in the table pins:
    no vLLM can run on it (a report from a torch 1.x machine, NVIDIA's 2.0 build on a Jetson)."""
    env = facts.get("python")
    installed = version_or_none(env.torch.version) if env is not None and env.torch else None
    if installed is None:
        return None
    pinned = [(pinned_version(r.torch), r) for r in m.table("vllm") if r.torch]
    pins = [(v, r) for text, r in pinned if (v := version_or_none(text)) is not None]
    if not pins:
        return None
    oldest, row = min(pins, key=lambda p: p[0])
    if Version(installed.public) >= oldest:
        return None
    return Advice(
        "warn", f"torch {env.torch.version} is older than any vLLM release accepts",
        evidence=(f"installed: torch {env.torch.version}",
                  f"the oldest vLLM in envdoctor's data, {row.version}, pins torch{row.torch}"),
        why="Each vLLM release is built against one exact torch, and none of them against a torch this old: "
            "installing vLLM here replaces torch (and its CUDA build), or fails.",
        notes=("`envdoctor fix --plan` gives a vLLM, torch and Python that fit this machine; a fresh virtual "
               "environment keeps the old torch for what needs it.",),
    )


@rule("vllm-torch-mismatch", "torch", "The installed torch does not satisfy vLLM's exact torch pin")
def vllm_torch(facts: Facts, m: Matrices) -> Optional[Advice]:
    pin = torch_pin(facts)
    env = facts.python
    if env is not None and env.dist("vllm") is None:
        return older_than_every_vllm(facts, m)
    if pin is None or env is None:
        return None
    spec, vllm_version = pin
    installed = version_or_none(env.torch.version) if env.torch else None
    if installed is not None and SpecifierSet(spec).contains(Version(installed.public), prereleases=True):
        return None
    row = m.vllm(vllm_version)
    want = pinned_version(SpecifierSet(spec))
    index = f" --index-url {TORCH_INDEX}/{cuda_tag(row.cuda)}" if row and row.cuda else ""
    fix = (f"{target_pip(facts)} install --force-reinstall torch=={want}{index}",) if want else ()
    return Advice(
        "error", Msg("vllm-torch-mismatch.title", vllm=vllm_version, spec=spec,
                     found=f"torch {env.torch.version}" if env.torch else Msg("vllm-torch-mismatch.no-torch")),
        evidence=(f"vllm {vllm_version} Requires-Dist: torch{spec}",
                  Msg("evidence.installed", what=f"torch {env.torch.version if env.torch else '(none)'}")),
        why=Msg("vllm-torch-mismatch.why"),
        fix=fix,
        notes=(Msg("vllm-torch-mismatch.note.together", vllm=vllm_version, spec=spec),
               Msg("vllm-torch-mismatch.note.fresh")),
    )


LOCAL_BUILD = re.compile(r"\+(cu\d+|cpu|rocm[\d.]+)$")


def _series(version: str) -> Optional[str]:
    v = version_or_none(version)
    return f"{v.major}.{v.minor}" if v is not None else None


@rule("extension-torch-mismatch", "torch", "torchvision is built for another torch (version or CUDA build)")
def companion_mismatch(facts: Facts, m: Matrices) -> Optional[Advice]:
    env = facts.get("python")
    vision = env.dist("torchvision") if env is not None else None
    if vision is None or env.torch is None:
        return None
    torch_version = env.torch.version
    want = m.torchvision_for(torch_version)
    problems = []
    if want is not None and _series(vision.version) not in (None, want):
        problems.append(Msg("extension-torch-mismatch.evidence.series", torch=_series(torch_version), want=want,
                            have=vision.version))
    tag_torch, tag_vision = LOCAL_BUILD.search(torch_version), LOCAL_BUILD.search(vision.version)
    if tag_torch and tag_vision and tag_torch.group(1) != tag_vision.group(1):
        problems.append(
            Msg("extension-torch-mismatch.evidence.build", torch=tag_torch.group(1), vision=tag_vision.group(1))
        )
    elif tag_torch and tag_torch.group(1).startswith("cu") and tag_vision is None and _linux(facts):
        # A plain torchvision comes from the package index, built for its torch's default CUDA;
        # torchvision refuses a torch of another CUDA major.
        index_cuda = m.index_cuda_for_torchvision(vision.version)
        torch_cuda = cuda_of_tag(tag_torch.group(1))
        if index_cuda and index_cuda.split(".")[0] != torch_cuda.split(".")[0]:
            problems.append(Msg("extension-torch-mismatch.evidence.index-build", vision=vision.version,
                                cuda=index_cuda, torch=tag_torch.group(1)))
    if not problems:
        return None
    fix: Tuple[str, ...] = ()
    if want is not None:
        index = f" --index-url {TORCH_INDEX}/{tag_torch.group(1)}" if tag_torch else ""
        fix = (f"{target_pip(facts)} install --force-reinstall --no-deps 'torchvision=={want}.*'{index}",)
    return Advice(
        "error",
        Msg("extension-torch-mismatch.title", vision=vision.version, torch=torch_version),
        evidence=tuple(problems)
        + (Msg("evidence.installed", what=f"torch {torch_version}, torchvision {vision.version}"),),
        why=Msg("extension-torch-mismatch.why"),
        fix=fix,
        notes=(Msg("extension-torch-mismatch.note"),),
        docs="https://github.com/pytorch/vision#installation",
    )
