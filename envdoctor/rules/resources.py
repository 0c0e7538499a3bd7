"""Resource rules: disk for wheels, caches and models; RAM (WSL 2 caps it)."""
from __future__ import annotations

from typing import Optional

from envdoctor.compat.tables import Matrices
from envdoctor.core.results import Facts
from envdoctor.core.units import gib
from envdoctor.rules.base import Advice, in_wsl, rule

GIB = 1024 ** 3
# A CUDA torch with its nvidia-* wheels unpacks to several GB, vLLM adds about 1 GB, pip
# caches a second copy of the downloads, and a 1.5B model is 3 GB more.
DISK_WARN = 25 * GIB
DISK_ERROR = 10 * GIB
# vLLM loads weights through CPU memory; a small box or a WSL 2 cap (half the host RAM by
# default) makes loading swap or be killed.
RAM_TOTAL_WARN = 8 * GIB
RAM_AVAILABLE_WARN = 4 * GIB


@rule("low-disk", "resources", "Little free disk where pip, the Hugging Face cache or the temp dir write")
def low_disk(facts: Facts, _m: Matrices) -> Optional[Advice]:
    res = facts.resources
    if res is None:
        return None
    low = [d for d in res.disks if d.free_bytes < DISK_WARN]
    if not low:
        return None
    severity = "error" if any(d.free_bytes < DISK_ERROR for d in low) else "warn"
    return Advice(
        severity, f"Only {gib(min(d.free_bytes for d in low))} free where installs and models go",
        evidence=tuple(f"{d.purpose}: {d.path}: {gib(d.free_bytes)} free of {gib(d.total_bytes)}" for d in low),
        why=f"A vLLM install downloads and unpacks several GB (torch with its CUDA libraries alone is "
            f"over 4 GB), pip keeps a cached copy, and model weights come on top; below "
            f"{DISK_WARN // GIB} GiB installs fail half-way with \"No space left on device\".",
        fix=("python -m pip cache purge",),
        notes=("Or point the caches at a bigger disk: export PIP_CACHE_DIR=/big/pip HF_HOME=/big/hf TMPDIR=/big/tmp",),
    )


@rule("low-ram", "resources", "Little RAM: loading models may swap or be killed")
def low_ram(facts: Facts, _m: Matrices) -> Optional[Advice]:
    res = facts.resources
    if res is None or res.mem_total_bytes is None:
        return None
    total, available = res.mem_total_bytes, res.mem_available_bytes
    if total >= RAM_TOTAL_WARN and (available is None or available >= RAM_AVAILABLE_WARN):
        return None
    wsl = in_wsl(facts)
    evidence = [f"RAM: {gib(total)} total, {gib(available)} available"]
    if res.wslconfig_path:
        evidence.append(f"{res.wslconfig_path}: [wsl2] memory={res.wslconfig_memory or '(not set: 50% of host RAM)'}")
    return Advice(
        "warn", f"Only {gib(available if available is not None else total)} of RAM available",
        evidence=tuple(evidence),
        why="vLLM reads the weights through CPU memory and starts worker processes; with little RAM "
            "loading swaps heavily or the kernel's OOM killer ends it without a Python error."
            + (" WSL 2 gives Linux only half of the Windows RAM unless .wslconfig says otherwise." if wsl else ""),
        notes=(("First raise the cap: in %UserProfile%\\.wslconfig under [wsl2] set memory=12GB (for example). "
                "Then, in Windows PowerShell, run `wsl --shutdown` and reopen the distro: the new cap applies "
                "only after that (`wsl --shutdown` alone does not raise it).",) if wsl
               else ("Close other programs or add swap.",)),
    )
