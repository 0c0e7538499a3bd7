"""Synthetic machines for the compat tests: the Facts `check` would read on a machine with this OS,
driver, GPUs, Python and (optionally) an installed vLLM + torch, and the small matrices made for
the logic tests (tests/data/compat/mini, plus the shipped GPU table the resolver looks names up in)."""
from __future__ import annotations

import os
import shutil
from typing import Optional, Sequence, Tuple

from envdoctor.compat.tables import Matrices, default_dir
from envdoctor.core.facts import Distribution, DriverFacts, Gpu, PlatformFacts, PythonEnvFacts, TorchBuild
from envdoctor.core.results import Facts, ProbeResult

HERE = os.path.dirname(os.path.abspath(__file__))
MINI = os.path.join(HERE, "data", "compat", "mini")


def mini_matrices(tmp_dir: str) -> Matrices:
    for name in os.listdir(MINI):
        shutil.copy(os.path.join(MINI, name), tmp_dir)
    for shipped in ("gpus.csv", "cuda_images.csv"):
        shutil.copy(os.path.join(default_dir(), shipped), tmp_dir)
    return Matrices(tmp_dir)


def machine_facts(os_name: str = "linux", arch: str = "x86_64", driver: Optional[str] = "580.65.06",
                  gpus: Sequence[Tuple[str, Optional[str]]] = (("NVIDIA A10", "8.6"),), python: str = "3.12.3",
                  distro: Tuple[str, str] = ("ubuntu", "22.04"), vllm: Optional[str] = None,
                  torch: Optional[Tuple[str, Optional[str]]] = None, cuda_reported: Optional[str] = None) -> Facts:
    """`os_name` linux | wsl2 | wsl1 | windows; `torch` = (version, CUDA build or None for a CPU build)."""
    if os_name == "windows":
        platform = PlatformFacts("Windows", "AMD64", "10.0.22631")
    else:
        wsl = {"wsl2": 2, "wsl1": 1}.get(os_name)
        platform = PlatformFacts("Linux", arch, "6.6.0-microsoft-standard-WSL2" if wsl else "6.8.0",
                                 distro[0] or None, distro[1] or None, " ".join(distro).strip() or None, wsl)
    results = {"platform": ProbeResult("platform", "ok", facts=platform)}
    if driver is None:
        results["driver"] = ProbeResult("driver", "absent", error="nvidia-smi: not found")
    else:
        cards = tuple(Gpu(i, name, cc, 24576, 0, 24576) for i, (name, cc) in enumerate(gpus))
        results["driver"] = ProbeResult("driver", "ok", facts=DriverFacts("nvml", driver, cuda_reported, None, cards))
    dists = []
    if vllm is not None:
        pin = torch[0].split("+")[0] if torch else None
        dists.append(Distribution("vllm", vllm, (f"torch=={pin}",) if pin else ()))
    if torch is not None:
        dists.append(Distribution("torch", torch[0]))
    marker = {"python_version": ".".join(python.split(".")[:2]), "platform_system": "Linux",
              "platform_machine": arch, "sys_platform": "linux"}
    env = PythonEnvFacts("/venv/bin/python", "VIRTUAL_ENV", python, kind="venv", prefix="/venv", marker_env=marker,
                         distributions=tuple(dists), torch=TorchBuild(torch[0], torch[1]) if torch else None)
    results["python"] = ProbeResult("python", "ok", facts=env)
    return Facts(results)
