"""Platform: OS, distribution, kernel, WSL1 vs WSL2, container.

WSL kernels name themselves: WSL2 "5.15.153.1-microsoft-standard-WSL2", WSL1
"4.4.0-19041-Microsoft". CUDA reaches Linux only through WSL 2
(https://docs.nvidia.com/cuda/wsl-user-guide/).
"""
from __future__ import annotations

import re
from typing import Dict, Optional

from envdoctor.machine.context import Context
from envdoctor.core.facts import PlatformFacts
from envdoctor.core.results import Facts


def parse_os_release(text: str) -> Dict[str, str]:
    values = {}
    for line in text.splitlines():
        m = re.match(r'^([A-Z_]+)=(.*)$', line.strip())
        if m:
            values[m.group(1)] = m.group(2).strip().strip('"').strip("'")
    return values


def wsl_version(osrelease: str, proc_version: str, env_interop: bool) -> Optional[int]:
    text = f"{osrelease} {proc_version}"
    if "microsoft" not in text.lower():
        return None
    if re.search(r"microsoft-standard|WSL2", text):
        return 2
    return 2 if env_interop else 1


def container_kind(ctx: Context) -> Optional[str]:
    if ctx.fs.exists("/.dockerenv"):
        return "docker"
    if ctx.fs.exists("/run/.containerenv"):
        return "podman"
    if ctx.env.get("KUBERNETES_SERVICE_HOST"):
        return "kubernetes"
    cgroup = ctx.fs.read_text("/proc/1/cgroup", limit=64 * 1024) or ""
    for needle, kind in (("kubepods", "kubernetes"), ("docker", "docker"), ("containerd", "containerd"),
                         ("lxc", "lxc")):
        if needle in cgroup:
            return kind
    return None


def probe(ctx: Context, _deps: Facts) -> PlatformFacts:
    host = ctx.host
    if host.system != "Linux":
        return PlatformFacts(system=host.system, machine=host.machine)
    osrelease = (ctx.fs.read_text("/proc/sys/kernel/osrelease", limit=4096) or "").strip()
    proc_version = (ctx.fs.read_text("/proc/version", limit=4096) or "").strip()
    os_release = parse_os_release(ctx.fs.read_text("/etc/os-release", limit=64 * 1024) or "")
    wsl = wsl_version(osrelease, proc_version, bool(ctx.env.get("WSL_INTEROP")))
    return PlatformFacts(
        system=host.system,
        machine=host.machine,
        kernel=osrelease or (proc_version.split()[2] if len(proc_version.split()) > 2 else None),
        distro_id=os_release.get("ID"),
        distro_version=os_release.get("VERSION_ID"),
        distro_name=os_release.get("PRETTY_NAME"),
        wsl=wsl,
        wsl_distro=ctx.env.get("WSL_DISTRO_NAME") if wsl else None,
        container=container_kind(ctx),
    )
