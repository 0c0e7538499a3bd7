"""CUDA toolkit: nvcc on PATH, CUDA_HOME/CUDA_PATH, every /usr/local/cuda-* install.

vLLM and torch wheels need only the driver; a toolkit matters when building from
source. Users often have several, and the nvcc on PATH is not the one they think.
"""
from __future__ import annotations

import json
import os
import re
from typing import Optional

from envdoctor.core.facts import CudaToolkitFacts, Toolkit
from envdoctor.core.results import Facts
from envdoctor.machine.context import Context
from envdoctor.messages import Msg
from envdoctor.probes.engine import ProbeAbsent, ProbeTimeout, require_linux

NVCC_TIMEOUT = 3.0


def parse_nvcc_version(text: str) -> Optional[str]:
    m = re.search(r"release (\d+\.\d+)", text)
    return m.group(1) if m else None


def toolkit_version(ctx: Context, root: str) -> Optional[str]:
    raw = ctx.fs.read_text(f"{root}/version.json", limit=256 * 1024)
    if raw:
        try:
            version = json.loads(raw)["cuda"]["version"]
            if isinstance(version, str):
                return version
        except (ValueError, KeyError, TypeError):
            pass
    raw = ctx.fs.read_text(f"{root}/version.txt", limit=4096) or ""
    m = re.search(r"CUDA Version (\d+(\.\d+)+)", raw)
    if m:
        return m.group(1)
    m = re.search(r"cuda-(\d+\.\d+)$", root)
    return m.group(1) if m else None


def probe(ctx: Context, _deps: Facts) -> CudaToolkitFacts:
    require_linux(ctx)
    roots = []
    for path in ctx.fs.glob("/usr/local/cuda-*") + ["/usr/local/cuda"]:
        real = ctx.fs.realpath(path)
        if ctx.fs.is_dir(real) and real not in roots:  # cuda-13 -> cuda-13.0 is one toolkit
            roots.append(real)
    nvcc = ctx.which("nvcc")
    nvcc_version = nvcc_toolkit = None
    if nvcc:
        nvcc_toolkit = os.path.dirname(os.path.dirname(ctx.fs.realpath(nvcc)))
        result = ctx.run([nvcc, "--version"], timeout=NVCC_TIMEOUT)
        if result.status == "timeout":
            raise ProbeTimeout(f"{nvcc} --version gave no answer in {NVCC_TIMEOUT:g} s and was killed")
        nvcc_version = parse_nvcc_version(result.stdout) if result.ok else None
    cuda_home = ctx.env.get("CUDA_HOME") or ctx.env.get("CUDA_PATH")
    link = ctx.fs.realpath("/usr/local/cuda") if ctx.fs.exists("/usr/local/cuda") else None
    if not roots and not nvcc and not cuda_home:
        raise ProbeAbsent(Msg("probe.cuda.absent"))
    return CudaToolkitFacts(
        nvcc_path=nvcc,
        nvcc_version=nvcc_version,
        nvcc_toolkit=nvcc_toolkit,
        cuda_home=cuda_home,
        toolkits=tuple(Toolkit(r, toolkit_version(ctx, r)) for r in roots),
        default_link=link if link != "/usr/local/cuda" else None,
    )
