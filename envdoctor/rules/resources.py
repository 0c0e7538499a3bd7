"""Resource rules: disk for wheels, caches and models; RAM (WSL 2 caps it)."""
from __future__ import annotations

from typing import Optional

from envdoctor.compat.tables import Matrices
from envdoctor.core.results import Facts
from envdoctor.core.units import gib
from envdoctor.messages import Msg
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
DISK_PURPOSES = ("disk.pip cache", "disk.Hugging Face cache", "disk.temp")  # the purposes the catalog words


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
        severity, Msg("low-disk.title", free=gib(min(d.free_bytes for d in low))),
        evidence=tuple(Msg("low-disk.evidence", purpose=Msg(f"disk.{d.purpose}") if f"disk.{d.purpose}" in DISK_PURPOSES
                           else d.purpose, path=d.path, free=gib(d.free_bytes), total=gib(d.total_bytes)) for d in low),
        why=Msg("low-disk.why", limit=DISK_WARN // GIB),
        fix=("python -m pip cache purge",),
        notes=(Msg("low-disk.note"),),
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
    evidence = [Msg("low-ram.evidence", total=gib(total), available=gib(available))]
    if res.wslconfig_path:
        evidence.append(Msg("low-ram.evidence.wslconfig", path=res.wslconfig_path,
                            memory=res.wslconfig_memory or Msg("low-ram.not-set")))
    return Advice(
        "warn", Msg("low-ram.title", available=gib(available if available is not None else total)),
        evidence=tuple(evidence),
        why=Msg("low-ram.why.wsl" if wsl else "low-ram.why"),
        notes=((Msg("low-ram.note.wsl"),) if wsl else (Msg("low-ram.note"),)),
    )
