"""WSL 2 GPU plumbing rules (https://docs.nvidia.com/cuda/wsl-user-guide/)."""
from __future__ import annotations

from typing import Optional

from envdoctor.compat.tables import Matrices
from envdoctor.core.results import Facts
from envdoctor.messages import Msg
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
        "error", Msg("wsl-libcuda-missing.title", lib=WSL_LIB),
        evidence=(Msg("evidence.not-found", path=f"{WSL_LIB}/libcuda.so*"),),
        why=Msg("wsl-libcuda-missing.why", lib=WSL_LIB),
        fix=("wsl --update", "wsl --shutdown"),
        notes=(Msg("wsl-libcuda-missing.note.driver"), Msg("wsl-libcuda-missing.note.wslconf")),
        docs=WSL_GUIDE,
    )


@rule("wsl-libcuda-not-on-loader-path", "wsl", "The WSL libcuda stub exists but the dynamic loader cannot find it")
def libcuda_not_on_path(facts: Facts, _m: Matrices) -> Optional[Advice]:
    wsl = _wsl2(facts)
    if wsl is None or not wsl.libcuda_stub or wsl.loader_libcuda is not None:
        return None
    return Advice(
        "error", Msg("wsl-libcuda-not-on-loader-path.title", lib=WSL_LIB),
        evidence=(Msg("evidence.present", paths=", ".join(wsl.libcuda_stub)),
                  Msg("wsl-libcuda-not-on-loader-path.evidence.ldconfig")),
        why=Msg("wsl-libcuda-not-on-loader-path.why"),
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
        evidence.append(Msg("evidence.packages", packages=", ".join(wsl.linux_driver_packages)))
    if wsl.linux_libcuda:
        evidence.append(Msg("wsl-linux-driver-installed.evidence.libcuda", paths=", ".join(wsl.linux_libcuda)))
    if shadowing:
        evidence.append(Msg("wsl-linux-driver-installed.evidence.loader", path=wsl.loader_libcuda,
                            source=wsl.loader_source))
    if wsl.proc_driver_nvidia:
        evidence.append(Msg("wsl-linux-driver-installed.evidence.proc"))
    fix = []
    if wsl.linux_driver_packages:
        fix.append("sudo apt-get purge " + " ".join(wsl.linux_driver_packages))
        fix.append("sudo apt-get autoremove")
    elif wsl.linux_libcuda:
        fix.append("dpkg -S " + " ".join(wsl.linux_libcuda))
    fix.append("sudo ldconfig")
    return Advice(
        "error", Msg("wsl-linux-driver-installed.title"),
        evidence=tuple(evidence),
        why=Msg("wsl-linux-driver-installed.why"),
        fix=tuple(fix) + ("wsl --shutdown",),
        notes=(Msg("wsl-linux-driver-installed.note.shutdown"),)
              + ((Msg("wsl-linux-driver-installed.note.dpkg"),)
                 if not wsl.linux_driver_packages and wsl.linux_libcuda else ()),
        docs=WSL_GUIDE,
    )
