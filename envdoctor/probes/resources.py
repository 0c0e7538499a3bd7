"""Resources: RAM (WSL 2 caps it at half the host's by default), and free disk where
pip's cache, the Hugging Face cache and the temp dir live. A vLLM install downloads
several GB of wheels; a model adds its weights.
"""
from __future__ import annotations

import os
import re
from typing import Dict, Optional, Tuple

from envdoctor.machine.context import Context
from envdoctor.probes.engine import require_linux
from envdoctor.core.facts import Disk, ResourceFacts
from envdoctor.core.results import Facts


def parse_meminfo(text: str) -> Dict[str, int]:
    values = {}
    for line in text.splitlines():
        m = re.match(r"^(\w+):\s+(\d+)\s*kB", line)
        if m:
            values[m.group(1)] = int(m.group(2)) * 1024
    return values


def cache_dirs(env, home: str) -> Tuple[Tuple[str, str], ...]:
    cache = env.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
    pip = env.get("PIP_CACHE_DIR") or os.path.join(cache, "pip")
    hf = env.get("HF_HUB_CACHE") or (os.path.join(env["HF_HOME"], "hub") if env.get("HF_HOME")
                                      else os.path.join(cache, "huggingface", "hub"))
    return (("pip cache", pip), ("Hugging Face cache", hf), ("temp", env.get("TMPDIR") or "/tmp"))


def wslconfig(ctx: Context) -> Tuple[Optional[str], Optional[str]]:
    """The Windows user's .wslconfig, where /mnt/c shows it, and its [wsl2] memory= value."""
    for path in ctx.fs.glob("/mnt/c/Users/*/.wslconfig"):
        text = ctx.fs.read_text(path, limit=64 * 1024) or ""
        section = None
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("["):
                section = line.strip("[]").strip().lower()
            elif section == "wsl2" and re.match(r"memory\s*=", line, re.I):
                return path, line.split("=", 1)[1].strip()
        return path, None
    return None, None


def probe(ctx: Context, deps: Facts) -> ResourceFacts:
    require_linux(ctx)
    mem = parse_meminfo(ctx.fs.read_text("/proc/meminfo", limit=64 * 1024) or "")
    home = ctx.env.get("HOME") or "/root"
    disks = []
    for purpose, path in cache_dirs(ctx.env, home):
        usage = ctx.fs.disk_usage(path)
        if usage is not None:
            disks.append(Disk(purpose, path, usage.free, usage.total))
    platform = deps.get("platform")
    path, memory = wslconfig(ctx) if platform is not None and platform.wsl else (None, None)
    return ResourceFacts(
        mem_total_bytes=mem.get("MemTotal"),
        mem_available_bytes=mem.get("MemAvailable"),
        swap_total_bytes=mem.get("SwapTotal"),
        disks=tuple(disks),
        wslconfig_path=path,
        wslconfig_memory=memory,
    )
