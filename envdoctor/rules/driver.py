"""NVIDIA driver and GPU rules: no GPU, unreadable driver, driver vs torch's CUDA,
compute capability vs vLLM, bf16, VRAM already in use."""
from __future__ import annotations

from typing import List, Optional, Tuple

from envdoctor.compat.driver import xy_key
from envdoctor.compat.tables import Matrices
from envdoctor.core.reasons import DriverReason
from envdoctor.core.results import Facts
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
    notes = ("Under WSL 2 install the NVIDIA driver on Windows only; nothing inside Linux.",) if in_wsl(facts) else (
        "On Ubuntu, `sudo ubuntu-drivers install` installs the recommended driver; reboot afterwards.",
        "In a container, start it with `--gpus all` (NVIDIA Container Toolkit).")
    return Advice(
        "error", "No NVIDIA GPU is visible",
        evidence=(result.error or "the driver reported no GPU",),
        why="vLLM's default build runs on NVIDIA GPUs through the NVIDIA driver; without one it "
            "cannot start (CPU builds of vLLM exist but are a different install).",
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
    why = {
        "not loaded": "The user-space tools are installed but the kernel driver is not running (a "
                      "driver update without reboot, Secure Boot refusing an unsigned module, or a "
                      "library/driver version mismatch).",
        "timed out": "The driver did not answer in time: a wedged GPU or a driver stuck in the kernel. "
                     "vLLM would hang the same way.",
        "garbage": "nvidia-smi printed something that is not its normal output: a wrapper script, a "
                   "broken install or a mismatched driver.",
        "library missing": "The driver's user-space library (libnvidia-ml.so.1) cannot be loaded: the "
                           "dynamic loader does not know where it is.",
    }.get(reason, "The driver query failed.")
    fix = ("wsl --shutdown",) if in_wsl(facts) else ("nvidia-smi", "sudo dmesg | grep -i -E 'nvidia|nvrm'")
    notes = ("Update the NVIDIA driver on Windows, run `wsl --shutdown` in PowerShell and reopen the distro.",) \
        if in_wsl(facts) else ("After a driver install or update, reboot. With Secure Boot on, enroll the "
                               "driver's MOK key or use the distribution's signed driver packages.",)
    return Advice("error", f"The NVIDIA driver could not be read ({reason})",
                  evidence=(result.error or result.status,), why=why, fix=fix, notes=notes)


@rule("driver-too-old-for-torch", "driver",
      "The driver's CUDA is older than the CUDA build of torch (or of vLLM's kernels)")
def driver_too_old(facts: Facts, m: Matrices) -> Optional[Advice]:
    from envdoctor.compat.driver import floor as driver_floor
    from envdoctor.compat.installed import installed_build

    driver, env = facts.driver, facts.python
    if driver is None or env is None or env.torch is None or not env.torch.cuda:
        return None
    os_name = target_os(facts)
    build = installed_build(facts, m)
    needs = [env.torch.cuda] + ([build.vllm_cuda] if build and build.vllm_cuda and build.vllm_cuda != env.torch.cuda
                                else [])
    bad = [c for c in needs if driver_runs_cuda(driver, c, m, os_name) is False]
    if not bad:
        return None
    cuda = max(bad, key=xy_key)
    what = f"torch built with CUDA {cuda}" if cuda == env.torch.cuda or build is None else \
        f"vllm {build.version}'s kernels (CUDA {cuda})"
    have = driver_max_cuda(driver, m, os_name)
    wsl = in_wsl(facts)
    f = driver_floor(cuda, m)
    os_key = "windows" if wsl else "linux"
    evidence = [f"driver {driver.driver_version} supports CUDA {have or '?'}",
                f"torch {env.torch.version} is built for CUDA {env.torch.cuda}"]
    if build is not None and build.vllm_cuda:
        evidence.append(f"vllm {build.version}'s kernels are built for CUDA {build.vllm_cuda}")
    if f.compat(os_key):
        evidence.append(f"CUDA {cuda.split('.')[0]}.x runs on drivers >= {f.compat(os_key)} "
                        "(minor-version compatibility)")
    fix: List[str] = []
    need = f.least(os_key)
    notes = [f"Update the NVIDIA driver to {need or 'a newer release'} or newer"
             + (f" ({f.native(os_key)} or newer runs CUDA {cuda} natively)"
                if f.native(os_key) and f.native(os_key) != need else "")
             + (" on Windows (WSL uses the Windows driver)." if wsl else ".")]
    torch_row = m.torch(env.torch.version)
    vllm = env.dist("vllm")
    if torch_row is not None and vllm is None:
        usable = [b for b in torch_row.cuda_builds
                  if driver_runs_cuda(driver, f"{b[2:-1]}.{b[-1]}", m, os_name)]
        if usable:
            fix.append(f"{target_pip(facts)} install --force-reinstall torch=={torch_row.version} "
                       f"--index-url {TORCH_INDEX}/{usable[-1]}")
            notes.append(f"Or keep this driver and install the {usable[-1]} build of the same torch (above).")
    elif vllm is not None:
        notes.append(f"vllm {vllm.version}'s compiled kernels need the CUDA build it was made for: "
                     "update the driver rather than swapping torch's build (or `envdoctor fix --plan` for a stack "
                     "this driver runs).")
    return Advice(
        "error", f"Driver {driver.driver_version} is too old for {what}",
        evidence=tuple(evidence),
        why="A CUDA build runs only on a driver that supports that CUDA version (or, within "
            "the same major version, on a driver above the minor-version-compatibility floor). "
            "Otherwise torch.cuda.is_available() is False and vLLM fails at start-up.",
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
        notes = [f"vllm {newest_ok.version} is the newest release that supports compute capability {worst}."]
    else:
        notes = ["No vLLM release supports this GPU; use a GPU with compute capability "
                 f"{lowest_min_cc(m) or row.min_cc} or higher, or a CPU/other backend."]
    return Advice(
        severity, f"vllm {row.version} needs compute capability >= {row.min_cc}",
        evidence=tuple(f"GPU {g.index}: {g.name}, compute capability {cc}" for g, cc in low),
        why="vLLM's kernels are compiled only for compute capability "
            f"{row.min_cc} and up (its install docs and CMakeLists CUDA_SUPPORTED_ARCHS).",
        notes=tuple(notes), docs="https://docs.vllm.ai/en/latest/getting_started/installation/gpu.html",
    )


@rule("vllm-kernels-missing-for-gpu", "driver",
      "The installed vLLM build has no kernels for this GPU (Blackwell on a pre-CUDA-12.8 build)")
def vllm_kernels_missing(facts: Facts, m: Matrices) -> Optional[Advice]:
    problems, build = judged(facts, m, ("vllm-no-kernels",), installed_only=True)
    if not problems:
        return None
    return Advice(
        "error", f"vllm {build.version} has no kernels for this GPU",
        evidence=tuple(f"vllm {build.version} {p.text}" for p in problems),
        why="vLLM's CUDA kernels are compiled for a list of architectures (CMakeLists CUDA_SUPPORTED_ARCHS), "
            "cut to what its CUDA can compile: Blackwell (10.x, 12.x) needs a CUDA >= 12.8 build. Otherwise it fails "
            "with \"no kernel image is available for execution on the device\".",
        notes=("`envdoctor fix --plan` picks a release whose builds have kernels for this GPU.",),
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
        "warn", "This GPU cannot run bfloat16 models as they are: pass dtype=half",
        evidence=tuple(f"GPU {g.index}: {g.name}, compute capability {cc}" for g, cc in old),
        why="bfloat16 needs compute capability 8.0. Most current models (Qwen2, Llama 3, ...) ship "
            "in bfloat16, so vLLM's dtype=auto picks it and stops with \"Bfloat16 is only supported "
            "on GPUs with compute capability of at least 8.0\".",
        fix=("vllm serve MODEL --dtype half",),
        notes=('In Python: LLM(model=..., dtype="half").',),
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
    evidence = []
    for g in busy:
        evidence.append(f"GPU {g.index}: {g.memory_used_mib} MiB of {g.memory_total_mib} MiB in use, "
                        f"{g.memory_free_mib} MiB free")
        evidence.extend(f"  pid {p.pid} {p.name or '?'}: {p.used_mib if p.used_mib is not None else '?'} MiB"
                        for p in g.processes)
    # busy GPUs have a total: (free share, total, free) of each, the tightest first
    tightest = min((((g.memory_free_mib or 0) / total, total, g.memory_free_mib or 0)
                    for g in busy if (total := g.memory_total_mib)), key=lambda s: s[0])
    from envdoctor.fit.calc import MiB, utilization_for  # the one figure the model's sizing advises too (N37)

    util = max(0.05, utilization_for(tightest[1] * MiB, tightest[2] * MiB))
    return Advice(
        "warn", "GPU memory is already in use by other processes",
        evidence=tuple(evidence),
        why="vLLM reserves gpu_memory_utilization (0.9 by default) of the card's TOTAL memory and "
            "fails at start-up when that much is not free."
            + (" Under WSL the Windows desktop shares the card and its use is not listed." if in_wsl(facts) else ""),
        fix=(f"vllm serve MODEL --gpu-memory-utilization {util:.2f}",),
        notes=(("Or stop the processes listed above first.",) if any(g.processes for g in busy) else
               ("Or close what holds the memory first" + (": under WSL that is Windows apps (Task Manager, "
                "Performance, GPU shows their dedicated memory)." if in_wsl(facts) else " (`nvidia-smi` lists it)."),)),
    )
