"""NVIDIA driver and GPU rules: no GPU, unreadable driver, driver vs torch's CUDA,
compute capability vs vLLM, bf16, VRAM already in use."""
from __future__ import annotations

from typing import List, Optional

from ..matrices import Matrices
from ..model import Facts
from .base import (TORCH_INDEX, Advice, cuda_tuple, driver_max_cuda, driver_runs_cuda,
                   gpu_cc, in_wsl, rule, target_pip)

DRIVERS_URL = "https://www.nvidia.com/Download/index.aspx"
# Another process holding this share of a card's memory leaves vLLM too little for the
# KV cache (vLLM takes a fraction of the TOTAL memory, 0.9 by default).
IN_USE_FRACTION = 0.10


@rule("no-nvidia-gpu", "driver", "No NVIDIA driver or GPU found: vLLM's CUDA build needs one")
def no_gpu(facts: Facts, _m: Matrices) -> Optional[Advice]:
    result = facts.results.get("driver")
    driver = facts.get("driver")
    if result is None or not (result.status == "absent" or (driver is not None and not driver.gpus)):
        return None
    platform = facts.get("platform")
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


def _unreadable_reason(status: str, error: str) -> str:
    text = error.lower()
    if status == "timeout":
        return "timed out"
    if "communicate" in text or "not loaded" in text or "driver/library version mismatch" in text:
        return "not loaded"
    if "cannot be read" in text:
        return "garbage"
    if "couldn't find libnvidia-ml" in text or "not found" in text:
        return "library missing"
    return "failed"


@rule("nvidia-driver-unreadable", "driver", "The NVIDIA driver is installed but did not answer (not loaded, hung or garbage)")
def unreadable(facts: Facts, _m: Matrices) -> Optional[Advice]:
    result = facts.results.get("driver")
    if result is None or result.status not in ("error", "timeout", "crashed"):
        return None
    reason = _unreadable_reason(result.status, result.error or "")
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


@rule("driver-too-old-for-torch", "driver", "The driver's CUDA is older than the CUDA build of torch")
def driver_too_old(facts: Facts, m: Matrices) -> Optional[Advice]:
    driver, env = facts.get("driver"), facts.get("python")
    if driver is None or env is None or env.torch is None or not env.torch.cuda:
        return None
    cuda = env.torch.cuda
    if driver_runs_cuda(driver, cuda, m) is not False:
        return None
    have = driver_max_cuda(driver, m)
    floor = m.cuda_min_driver(cuda)
    wsl = in_wsl(facts)
    need = None
    if floor is not None:
        need = floor.min_driver_windows if wsl else floor.min_driver_linux
    compat = m.minor_compat(cuda.split(".")[0])
    evidence = [f"driver {driver.driver_version} supports CUDA {have or '?'}",
                f"torch {env.torch.version} is built for CUDA {cuda}"]
    if compat is not None:
        evidence.append(f"CUDA {cuda.split('.')[0]}.x runs on drivers >= {compat.min_driver} "
                        "(minor-version compatibility)")
    fix: List[str] = []
    notes = [f"Update the NVIDIA driver to {need or 'a newer release'} or newer"
             + (" on Windows (WSL uses the Windows driver)." if wsl else ".")]
    torch_row = m.torch(env.torch.version)
    vllm = env.dist("vllm")
    if torch_row is not None and vllm is None:
        usable = [b for b in torch_row.cuda_builds
                  if driver_runs_cuda(driver, f"{b[2:-1]}.{b[-1]}", m)]
        if usable:
            fix.append(f"{target_pip(facts)} install --force-reinstall torch=={torch_row.version} "
                       f"--index-url {TORCH_INDEX}/{usable[-1]}")
            notes.append(f"Or keep this driver and install the {usable[-1]} build of the same torch (above).")
    elif vllm is not None:
        notes.append(f"vllm {vllm.version}'s compiled kernels need the CUDA build it was made for: "
                     "update the driver rather than swapping torch's build.")
    return Advice(
        "error", f"Driver {driver.driver_version} is too old for torch built with CUDA {cuda}",
        evidence=tuple(evidence),
        why="A CUDA build of torch runs only on a driver that supports that CUDA version (or, within "
            "the same major version, on a driver above the minor-version-compatibility floor). "
            "Otherwise torch.cuda.is_available() is False and vLLM fails at start-up.",
        fix=tuple(fix), notes=tuple(notes),
        docs="https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/",
    )


def _vllm_min_cc(facts: Facts, m: Matrices):
    """(minimum CC, which vLLM says so): the installed release, else the newest one."""
    env = facts.get("python")
    installed = env.dist("vllm") if env is not None else None
    row = m.vllm(installed.version) if installed is not None else None
    if row is None:
        row = m.newest_vllm()
    return row.min_cc, row


@rule("gpu-compute-capability-too-low", "driver", "The GPU's compute capability is below what vLLM supports")
def cc_too_low(facts: Facts, m: Matrices) -> Optional[Advice]:
    driver = facts.get("driver")
    if driver is None or not driver.gpus:
        return None
    min_cc, row = _vllm_min_cc(facts, m)
    low = [(g, gpu_cc(g, m)) for g in driver.gpus]
    low = [(g, cc) for g, cc in low if cc and min_cc and cuda_tuple(cc) < cuda_tuple(min_cc)]
    if not low:
        return None
    severity = "error" if len(low) == len(driver.gpus) else "warn"
    older = [r for r in m.table("vllm") if r.min_cc and all(cuda_tuple(cc) >= cuda_tuple(r.min_cc) for _, cc in low)]
    notes = []
    if older:
        newest_ok = max(older, key=lambda r: r.version)
        notes.append(f"vllm {newest_ok.version} is the newest release that supports compute "
                     f"capability {min(cc for _, cc in low)}.")
    else:
        notes.append("No vLLM release supports this GPU; use a GPU with compute capability "
                     f"{min_cc} or higher, or a CPU/other backend.")
    return Advice(
        severity, f"vllm {row.version} needs compute capability >= {min_cc}",
        evidence=tuple(f"GPU {g.index}: {g.name}, compute capability {cc}" for g, cc in low),
        why="vLLM's kernels are compiled only for compute capability "
            f"{min_cc} and up (its install docs and CMakeLists CUDA_SUPPORTED_ARCHS).",
        notes=tuple(notes), docs="https://docs.vllm.ai/en/latest/getting_started/installation/gpu.html",
    )


@rule("bf16-unsupported", "driver", "The GPU has no bfloat16 (compute capability < 8.0): run vLLM with dtype=half")
def bf16(facts: Facts, m: Matrices) -> Optional[Advice]:
    driver = facts.get("driver")
    if driver is None:
        return None
    old = [(g, gpu_cc(g, m)) for g in driver.gpus]
    old = [(g, cc) for g, cc in old if cc and cuda_tuple(cc) < (8, 0)]
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
    driver = facts.get("driver")
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
    tightest = min(busy, key=lambda g: (g.memory_free_mib or 0) / g.memory_total_mib)
    util = max(0.05, int((tightest.memory_free_mib or 0) / tightest.memory_total_mib * 0.95 * 100) / 100)
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
