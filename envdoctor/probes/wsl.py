"""WSL GPU plumbing: the Windows driver's libcuda stub and a wrongly installed Linux driver.

Under WSL 2 the Windows driver is mapped in as /usr/lib/wsl/lib/libcuda.so*; NVIDIA's
guide says users "must not install any NVIDIA GPU Linux driver within WSL 2"
(https://docs.nvidia.com/cuda/wsl-user-guide/): its libcuda.so shadows the stub.
"""
from __future__ import annotations

import os
import re
from typing import List, Optional, Tuple

from envdoctor.core.facts import WslFacts
from envdoctor.core.results import Facts
from envdoctor.machine.context import Context
from envdoctor.messages import Msg
from envdoctor.probes.engine import ProbeSkipped

WSL_LIB = "/usr/lib/wsl/lib"
LINUX_LIB_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib")
DRIVER_PACKAGE = re.compile(r"^(nvidia-driver-\S+|libnvidia-compute-\S+|nvidia-dkms-\S+|nvidia-utils-\S+"
                            r"|cuda-drivers(-\S+)?)$")


def parse_ldconfig(text: str, soname: str = "libcuda.so.1") -> Optional[str]:
    """The first path `ldconfig -p` lists for `soname`: the one the loader picks."""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(soname + " ") and "=>" in line:
            return line.split("=>", 1)[1].strip()
    return None


def installed_driver_packages(status_text: str) -> Tuple[str, ...]:
    found: List[str] = []
    for stanza in status_text.split("\n\n"):
        name = re.search(r"^Package: (\S+)", stanza, re.M)
        state = re.search(r"^Status: (.+)$", stanza, re.M)
        if name and state and state.group(1).strip().endswith(" installed") \
                and DRIVER_PACKAGE.match(name.group(1)):
            found.append(name.group(1))
    return tuple(sorted(found))


def _loader_libcuda(ctx: Context, ld_path: Tuple[str, ...]) -> Tuple[Optional[str], Optional[str]]:
    for directory in ld_path:
        candidate = os.path.join(directory, "libcuda.so.1")
        if ctx.fs.exists(candidate):
            return candidate, "LD_LIBRARY_PATH"
    ldconfig = next((p for p in ("/sbin/ldconfig", "/usr/sbin/ldconfig") if ctx.fs.is_executable(p)),
                    None) or ctx.which("ldconfig")
    if ldconfig is None:
        return None, None
    result = ctx.run([ldconfig, "-p"], timeout=2.0)
    if not result.ok:
        return None, None
    path = parse_ldconfig(result.stdout)
    return path, "ldconfig" if path else None


def probe(ctx: Context, deps: Facts) -> WslFacts:
    platform = deps.get("platform")
    if platform is None or platform.wsl != 2:
        raise ProbeSkipped(Msg("probe.wsl.wsl1" if platform and platform.wsl else "probe.wsl.not-wsl2"))
    ld_path = tuple(p for p in ctx.env.get("LD_LIBRARY_PATH", "").split(":") if p)
    loader, source = _loader_libcuda(ctx, ld_path)
    linux_libcuda = tuple(
        path for d in LINUX_LIB_DIRS for path in ctx.fs.glob(f"{d}/libcuda.so*")
        if not ctx.fs.realpath(path).startswith(WSL_LIB + "/")
    )
    status = ctx.fs.read_text("/var/lib/dpkg/status", limit=32 * 1024 * 1024) or ""
    return WslFacts(
        libcuda_stub=tuple(ctx.fs.glob(f"{WSL_LIB}/libcuda.so*")),
        loader_libcuda=loader,
        loader_source=source,
        ld_library_path=ld_path,
        linux_libcuda=linux_libcuda,
        linux_driver_packages=installed_driver_packages(status),
        proc_driver_nvidia=ctx.fs.exists("/proc/driver/nvidia"),
    )
