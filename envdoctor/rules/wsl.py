"""WSL 2 GPU plumbing rules (https://docs.nvidia.com/cuda/wsl-user-guide/)."""
from __future__ import annotations

from typing import Optional

from envdoctor.compat.tables import Matrices
from envdoctor.core.results import Facts
from envdoctor.rules.base import Advice, rule

WSL_GUIDE = "https://docs.nvidia.com/cuda/wsl-user-guide/"
WSL_LIB = "/usr/lib/wsl/lib"


def _wsl2(facts: Facts):
    platform = facts.platform
    return facts.wsl if platform is not None and platform.wsl == 2 else None


@rule("wsl-libcuda-missing", "wsl", "WSL 2 shows no /usr/lib/wsl/lib/libcuda.so: the Windows driver is missing")
def libcuda_missing(facts: Facts, _m: Matrices) -> Optional[Advice]:
    wsl = _wsl2(facts)
    if wsl is None or wsl.libcuda_stub:
        return None
    return Advice(
        "error", f"No libcuda.so in {WSL_LIB}: WSL 2 cannot see an NVIDIA driver",
        evidence=(f"{WSL_LIB}/libcuda.so*: not found",),
        why="Under WSL 2 the Windows NVIDIA driver provides CUDA: it maps its libcuda.so into "
            f"{WSL_LIB}. Without it nothing in Linux can use the GPU.",
        fix=("wsl --update", "wsl --shutdown"),
        notes=("Install the current NVIDIA driver for your GPU on Windows (GeForce Game Ready/Studio "
               "or the notebook driver), then run the commands above in Windows PowerShell and reopen the distro.",
               "If /etc/wsl.conf has `[gpu] enabled=false`, remove that line."),
        docs=WSL_GUIDE,
    )


@rule("wsl-libcuda-not-on-loader-path", "wsl", "The WSL libcuda stub exists but the dynamic loader cannot find it")
def libcuda_not_on_path(facts: Facts, _m: Matrices) -> Optional[Advice]:
    wsl = _wsl2(facts)
    if wsl is None or not wsl.libcuda_stub or wsl.loader_libcuda is not None:
        return None
    return Advice(
        "error", f"{WSL_LIB} is not on the loader path: libcuda.so.1 will not load",
        evidence=(f"present: {', '.join(wsl.libcuda_stub)}",
                  "`ldconfig -p` lists no libcuda.so.1 and LD_LIBRARY_PATH does not name it"),
        why="torch and vLLM dlopen libcuda.so.1; WSL normally registers its folder in "
            "/etc/ld.so.conf.d/ld.wsl.conf. When that is gone CUDA reports no device.",
        fix=(f"echo {WSL_LIB} | sudo tee /etc/ld.so.conf.d/ld.wsl.conf", "sudo ldconfig"),
        docs=WSL_GUIDE,
    )


@rule("wsl-linux-driver-installed", "wsl",
      "A Linux NVIDIA driver is installed inside WSL 2 and shadows the Windows one")
def linux_driver(facts: Facts, _m: Matrices) -> Optional[Advice]:
    wsl = _wsl2(facts)
    if wsl is None:
        return None
    shadowing = wsl.loader_libcuda is not None and not wsl.loader_libcuda.startswith(WSL_LIB + "/")
    if not (wsl.linux_driver_packages or wsl.linux_libcuda or wsl.proc_driver_nvidia or shadowing):
        return None
    evidence = []
    if wsl.linux_driver_packages:
        evidence.append(f"packages: {', '.join(wsl.linux_driver_packages)}")
    if wsl.linux_libcuda:
        evidence.append(f"Linux libcuda: {', '.join(wsl.linux_libcuda)}")
    if shadowing:
        evidence.append(f"the loader resolves libcuda.so.1 to {wsl.loader_libcuda} ({wsl.loader_source})")
    if wsl.proc_driver_nvidia:
        evidence.append("/proc/driver/nvidia exists (a Linux kernel driver was loaded)")
    fix = []
    if wsl.linux_driver_packages:
        fix.append("sudo apt-get purge " + " ".join(wsl.linux_driver_packages))
        fix.append("sudo apt-get autoremove")
    elif wsl.linux_libcuda:
        fix.append("dpkg -S " + " ".join(wsl.linux_libcuda))
    fix.append("sudo ldconfig")
    return Advice(
        "error", "A Linux NVIDIA driver is installed inside WSL 2",
        evidence=tuple(evidence),
        why="NVIDIA: the Windows driver is stubbed into WSL 2 as libcuda.so, \"therefore users must "
            "not install any NVIDIA GPU Linux driver within WSL 2\". Its libcuda.so shadows the stub "
            "and CUDA fails to initialise. The generic cuda/cuda-toolkit packages pull one in.",
        fix=tuple(fix) + ("wsl --shutdown",),
        notes=("Run `wsl --shutdown` from Windows PowerShell. If a toolkit is needed at all, install "
               "the WSL-Ubuntu `cuda-toolkit-X-Y` package, never `cuda` or `cuda-drivers`.",)
              + (("`dpkg -S` names the package that owns the file: purge that package.",)
                 if not wsl.linux_driver_packages and wsl.linux_libcuda else ()),
        docs=WSL_GUIDE,
    )
