"""NVIDIA driver and GPU rules: no GPU, unreadable driver, driver vs torch's CUDA,
compute capability vs vLLM, bf16, VRAM already in use."""
from __future__ import annotations

from typing import List, Optional, Tuple

from envdoctor.compat.driver import xy_key
from envdoctor.compat.tables import Matrices
from envdoctor.core.reasons import DriverReason
from envdoctor.core.results import Facts
from envdoctor.messages import Msg
from envdoctor.rules.base import (
    TORCH_INDEX,
    Advice,
    driver_max_cuda,
    driver_runs_cuda,
    gpu_cc,
    in_wsl,
    rule,
    target_os,
    target_pip,
)

DRIVERS_URL = "https://www.nvidia.com/Download/index.aspx"
MINOR_COMPAT_URL = "https://docs.nvidia.com/deploy/cuda-compatibility/minor-version-compatibility.html"
# Another process holding this share of a card's memory leaves vLLM too little for the
# KV cache (vLLM takes a fraction of the TOTAL memory, 0.9 by default).
IN_USE_FRACTION = 0.10


@rule("no-nvidia-gpu", "driver", "No NVIDIA driver or GPU found: vLLM's CUDA build needs one")
def no_gpu(facts: Facts, _m: Matrices) -> Optional[Advice]:
    result = facts.results.get("driver")
    driver = facts.driver
    if result is None or not (result.status == "absent" or (driver is not None and not driver.gpus)):
        return None
    platform = facts.platform
    if platform is not None and (platform.system != "Linux" or platform.wsl == 1):
        return None  # native-windows-unsupported / wsl1-no-gpu say it better
    notes = (Msg("no-nvidia-gpu.note.wsl"),) if in_wsl(facts) else (
        Msg("no-nvidia-gpu.note.ubuntu"), Msg("no-nvidia-gpu.note.container"))
    return Advice(
        "error", Msg("no-nvidia-gpu.title"),
        evidence=(result.error or Msg("no-nvidia-gpu.evidence.no-gpu"),),
        why=Msg("no-nvidia-gpu.why"),
        notes=notes, docs=DRIVERS_URL,
    )


# The probe's reason (core/reasons.py) as the title says it.
REASON_WORDS = {DriverReason.NOT_LOADED.value: "not loaded", DriverReason.GARBAGE.value: "garbage",
                DriverReason.LIBRARY_MISSING.value: "library missing"}


def _unreadable_reason(status: str, reason: Optional[str]) -> str:
    if status == "timeout":
        return "timed out"
    return REASON_WORDS.get(reason or "", "failed")


@rule("nvidia-driver-unreadable", "driver",
      "The NVIDIA driver is installed but did not answer (not loaded, hung or garbage)")
def unreadable(facts: Facts, _m: Matrices) -> Optional[Advice]:
    result = facts.results.get("driver")
    if result is None or result.status not in ("error", "timeout", "crashed"):
        return None
    reason = _unreadable_reason(result.status, result.reason)
    key = reason.replace(" ", "-")
    why = Msg(f"nvidia-driver-unreadable.why.{key}")
    fix = ("wsl --shutdown",) if in_wsl(facts) else ("nvidia-smi", "sudo dmesg | grep -i -E 'nvidia|nvrm'")
    notes = (
        (Msg("nvidia-driver-unreadable.note.wsl"),) if in_wsl(facts) else (Msg("nvidia-driver-unreadable.note.reboot"),)
    )
    return Advice("error", Msg("nvidia-driver-unreadable.title", reason=Msg(f"nvidia-driver-unreadable.reason.{key}")),
                  evidence=(result.error or result.status,), why=why, fix=fix, notes=notes)


@rule("driver-too-old-for-torch", "driver",
      "The driver's CUDA is older than the CUDA build of torch (or of vLLM's kernels)")
def driver_too_old(facts: Facts, m: Matrices) -> Optional[Advice]:
    from envdoctor.compat.driver import floor as driver_floor
    from envdoctor.compat.driver import os_of, runs
    from envdoctor.compat.installed import installed_build

    driver, env = facts.driver, facts.python
    if driver is None or env is None or env.torch is None or not env.torch.cuda:
        return None
    os_name = target_os(facts)
    build = installed_build(facts, m)
    needs = [env.torch.cuda] + ([build.vllm_cuda] if build and build.vllm_cuda and build.vllm_cuda != env.torch.cuda
                                else [])
    verdicts = {c: runs(driver.driver_version, os_of(os_name), c, m, driver.cuda_max) for c in needs}
    bad = [c for c, v in verdicts.items() if v == "no"]
    # Above the minor-version floor but below the CUDA's own minimum, the build runs with a
    # limited feature set (no JIT of newer PTX): a warning, not a blocker.
    limited = [c for c, v in verdicts.items() if v == "compat"]
    if not bad and not limited:
        return None
    cuda = max(bad or limited, key=xy_key)
    what = Msg("driver-too-old-for-torch.what.torch", cuda=cuda) if cuda == env.torch.cuda or build is None else \
        Msg("driver-too-old-for-torch.what.vllm", vllm=build.version, cuda=cuda)
    have = driver_max_cuda(driver, m, os_name)
    wsl = in_wsl(facts)
    f = driver_floor(cuda, m)
    os_key = "windows" if wsl else "linux"
    evidence = [Msg("evidence.driver-supports", driver=driver.driver_version, cuda=have or "?"),
                Msg("evidence.torch-built-for", torch=env.torch.version, cuda=env.torch.cuda)]
    if build is not None and build.vllm_cuda:
        evidence.append(Msg("evidence.vllm-built-for", vllm=build.version, cuda=build.vllm_cuda))
    if f.compat(os_key):
        evidence.append(Msg("evidence.minor-compat", major=cuda.split(".")[0], driver=f.compat(os_key)))
    if not bad:  # it runs: what the driver lacks is the CUDA's own minimum, no other build is needed
        return Advice(
            "warn", Msg("driver-too-old-for-torch.title.compat", driver=driver.driver_version, what=what),
            evidence=tuple(evidence),
            why=Msg("driver-too-old-for-torch.why.compat", cuda=cuda, native=f.native(os_key) or "?"),
            notes=(Msg("driver-too-old-for-torch.note.update" + (".wsl" if wsl else ""),
                       need=f.native(os_key) or Msg("driver-too-old-for-torch.newer"), native=""),),
            docs=MINOR_COMPAT_URL,
        )
    fix: List[str] = []
    need = f.least(os_key)
    native = f.native(os_key) if f.native(os_key) and f.native(os_key) != need else None
    notes = [Msg("driver-too-old-for-torch.note.update" + (".wsl" if wsl else ""),
                 need=need or Msg("driver-too-old-for-torch.newer"),
                 native=Msg("driver-too-old-for-torch.native", driver=native, cuda=cuda) if native else "")]
    torch_row = m.torch(env.torch.version)
    vllm = env.dist("vllm")
    if torch_row is not None and vllm is None:
        usable = [b for b in torch_row.cuda_builds
                  if driver_runs_cuda(driver, f"{b[2:-1]}.{b[-1]}", m, os_name)]
        if usable:
            fix.append(f"{target_pip(facts)} install --force-reinstall torch=={torch_row.version} "
                       f"--index-url {TORCH_INDEX}/{usable[-1]}")
            notes.append(Msg("driver-too-old-for-torch.note.other-build", build=usable[-1]))
    elif vllm is not None:
        notes.append(Msg("driver-too-old-for-torch.note.vllm", vllm=vllm.version))
    return Advice(
        "error", Msg("driver-too-old-for-torch.title", driver=driver.driver_version, what=what),
        evidence=tuple(evidence),
        why=Msg("driver-too-old-for-torch.why"),
        fix=tuple(fix), notes=tuple(notes),
        docs="https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/",
    )


def judged(facts: Facts, m: Matrices, codes: Tuple[str, ...], installed_only: bool = False):
    """(problems of compat.judge with these codes, the vLLM build judged): the installed stack, else
    the newest release's index build (what `pip install vllm` would fetch)."""
    from envdoctor.compat.builds import builds
    from envdoctor.compat.installed import installed_build, machine_of
    from envdoctor.compat.judge import judge

    build = installed_build(facts, m)
    if build is None:
        env = facts.python
        if installed_only or (env is not None and env.dist("vllm") is not None):
            return [], None
        options = builds(m.newest_vllm(), m)
        build = options[0] if options else None
    if build is None:
        return [], None
    problems, _ = judge(machine_of(facts, m), build, m)
    return [p for p in problems if p.code in codes], build


@rule("gpu-compute-capability-too-low", "driver", "The GPU's compute capability is below what vLLM supports")
def cc_too_low(facts: Facts, m: Matrices) -> Optional[Advice]:
    from envdoctor.compat.kernels import lowest_min_cc

    driver = facts.driver
    if driver is None or not driver.gpus:
        return None
    problems, build = judged(facts, m, ("cc-too-low",))
    if not problems:
        return None
    row = build.release
    seen = [(g, gpu_cc(g, m)) for g in driver.gpus]
    low = [(g, cc) for g, cc in seen if cc and xy_key(cc) < xy_key(row.min_cc)]
    severity = "error" if len(low) == len(driver.gpus) else "warn"
    worst = min((cc for _, cc in low), key=xy_key)
    older = [r for r in m.table("vllm") if r.min_cc and xy_key(worst) >= xy_key(r.min_cc)]
    if older:
        newest_ok = max(older, key=lambda r: r.version)
        notes = [Msg("gpu-compute-capability-too-low.note.older", vllm=newest_ok.version, cc=worst)]
    else:
        notes = [Msg("gpu-compute-capability-too-low.note.none", cc=lowest_min_cc(m) or row.min_cc)]
    return Advice(
        severity, Msg("gpu-compute-capability-too-low.title", vllm=row.version, cc=row.min_cc),
        evidence=tuple(Msg("evidence.gpu-cc", index=g.index, name=g.name, cc=cc) for g, cc in low),
        why=Msg("gpu-compute-capability-too-low.why", cc=row.min_cc),
        notes=tuple(notes), docs="https://docs.vllm.ai/en/latest/getting_started/installation/gpu.html",
    )


@rule("vllm-kernels-missing-for-gpu", "driver",
      "The installed vLLM build has no kernels for this GPU (Blackwell on a pre-CUDA-12.8 build)")
def vllm_kernels_missing(facts: Facts, m: Matrices) -> Optional[Advice]:
    problems, build = judged(facts, m, ("vllm-no-kernels",), installed_only=True)
    if not problems:
        return None
    return Advice(
        "error", Msg("vllm-kernels-missing-for-gpu.title", vllm=build.version),
        evidence=tuple(Msg("evidence.vllm-problem", vllm=build.version, problem=p.text) for p in problems),
        why=Msg("vllm-kernels-missing-for-gpu.why"),
        notes=(Msg("vllm-kernels-missing-for-gpu.note"),),
    )


UNKNOWN = ("unknown-cc", "unknown-min-cc", "unknown-vllm-archs", "unknown-torch-archs", "unknown-driver")


@rule("compat-not-known", "driver", "Whether the vLLM stack runs on this GPU and driver is not in envdoctor's data")
def compat_not_known(facts: Facts, m: Matrices) -> Optional[Advice]:
    problems, build = judged(facts, m, UNKNOWN)
    if not problems:
        return None
    return Advice(
        "warn", f"Cannot tell whether vllm {build.version} runs here: "
                + "; ".join(dict.fromkeys(p.code.replace("unknown-", "") for p in problems)) + " not known",
        evidence=tuple(f"vllm {build.version} {p.text}" for p in problems),
        why="envdoctor never counts a missing fact as a pass: a release whose minimum compute capability, kernel "
            "list or driver mapping is unknown may fail at start-up with \"no kernel image\" or a CUDA error.",
        fix=tuple(dict.fromkeys(p.change for p in problems if p.change.startswith(("find", "read")))),
        notes=tuple(dict.fromkeys(p.change for p in problems if not p.change.startswith(("find", "read")))),
    )


@rule("bf16-unsupported", "driver", "The GPU has no bfloat16 (compute capability < 8.0): run vLLM with dtype=half")
def bf16(facts: Facts, m: Matrices) -> Optional[Advice]:
    driver = facts.driver
    if driver is None:
        return None
    old = [(g, gpu_cc(g, m)) for g in driver.gpus]
    old = [(g, cc) for g, cc in old if cc and xy_key(cc) < (8, 0)]
    if not old:
        return None
    return Advice(
        "warn", Msg("bf16-unsupported.title"),
        evidence=tuple(Msg("evidence.gpu-cc", index=g.index, name=g.name, cc=cc) for g, cc in old),
        why=Msg("bf16-unsupported.why"),
        fix=("vllm serve MODEL --dtype half",),
        notes=(Msg("bf16-unsupported.note"),),
    )


@rule("mixed-gpu-architectures", "driver", "GPUs of different compute capability in one machine")
def mixed_gpus(facts: Facts, m: Matrices) -> Optional[Advice]:
    driver = facts.driver
    if driver is None:
        return None
    known = [(g, cc) for g, cc in ((g, gpu_cc(g, m)) for g in driver.gpus) if cc]
    kinds = sorted({cc for _, cc in known}, key=xy_key)
    if len(kinds) < 2:
        return None
    newest = [str(g.index) for g, cc in known if cc == kinds[-1]]
    return Advice(
        "warn", Msg("mixed-gpu-architectures.title", kinds=", ".join(kinds)),
        evidence=tuple(Msg("evidence.gpu-cc", index=g.index, name=g.name, cc=cc) for g, cc in known),
        why=Msg("mixed-gpu-architectures.why"),
        fix=(f"CUDA_DEVICE_ORDER=PCI_BUS_ID CUDA_VISIBLE_DEVICES={','.join(newest)} vllm serve MODEL",),
        notes=(Msg("mixed-gpu-architectures.note", cc=kinds[0]), Msg("mixed-gpu-architectures.order")),
    )


@rule("gpu-memory-in-use", "driver", "Other processes already hold a large share of the GPU's memory")
def memory_in_use(facts: Facts, _m: Matrices) -> Optional[Advice]:
    driver = facts.driver
    if driver is None:
        return None
    busy = [g for g in driver.gpus if g.memory_total_mib and g.memory_used_mib is not None
            and g.memory_used_mib >= IN_USE_FRACTION * g.memory_total_mib]
    if not busy:
        return None
    evidence: List[str] = []
    for g in busy:
        evidence.append(Msg("gpu-memory-in-use.evidence.gpu", index=g.index, used=g.memory_used_mib,
                            total=g.memory_total_mib, free=g.memory_free_mib))
        evidence.extend(f"  pid {p.pid} {p.name or '?'}: {p.used_mib if p.used_mib is not None else '?'} MiB"
                        for p in g.processes)
    # busy GPUs have a total: (free share, total, free) of each, the tightest first
    tightest = min((((g.memory_free_mib or 0) / total, total, g.memory_free_mib or 0)
                    for g in busy if (total := g.memory_total_mib)), key=lambda s: s[0])
    from envdoctor.fit.calc import MiB, utilization_for  # the one figure the model's sizing advises too (N37)

    util = max(0.05, utilization_for(tightest[1] * MiB, tightest[2] * MiB))
    return Advice(
        "warn", Msg("gpu-memory-in-use.title"),
        evidence=tuple(evidence),
        why=Msg("gpu-memory-in-use.why.wsl" if in_wsl(facts) else "gpu-memory-in-use.why"),
        fix=(f"vllm serve MODEL --gpu-memory-utilization {util:.2f}",),
        notes=((Msg("gpu-memory-in-use.note.stop"),) if any(g.processes for g in busy) else
               (Msg("gpu-memory-in-use.note.close.wsl" if in_wsl(facts) else "gpu-memory-in-use.note.close"),)),
    )
