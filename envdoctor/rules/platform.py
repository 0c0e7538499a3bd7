"""Platform and Python-environment rules: native Windows, WSL 1, system Python."""
from __future__ import annotations

from typing import Optional

from envdoctor.compat.tables import Matrices
from envdoctor.core.results import Facts
from envdoctor.rules.base import Advice, rule

WSL_GUIDE = "https://docs.nvidia.com/cuda/wsl-user-guide/"


@rule("native-windows-unsupported", "platform", "vLLM does not run on native Windows: use WSL 2")
def native_windows(facts: Facts, _m: Matrices) -> Optional[Advice]:
    platform = facts.platform
    if platform is None or platform.system != "Windows":
        return None
    return Advice(
        "error", "vLLM does not run on native Windows",
        evidence=(f"platform: {platform.system} {platform.machine}",),
        why="vLLM supports Linux only; on Windows it runs inside WSL 2, which sees the GPU "
            "through the Windows NVIDIA driver.",
        fix=("wsl --install -d Ubuntu-22.04",),
        notes=("Run the command in an administrator PowerShell, restart, open Ubuntu, "
               "then install and run envdoctor there.",
               "Keep only the Windows NVIDIA driver: never install a Linux driver inside WSL."),
        docs="https://docs.vllm.ai/en/latest/getting_started/installation/gpu.html",
    )


@rule("wsl1-no-gpu", "platform", "WSL 1 has no GPU access: convert the distro to WSL 2")
def wsl1(facts: Facts, _m: Matrices) -> Optional[Advice]:
    platform = facts.platform
    if platform is None or platform.wsl != 1:
        return None
    distro = platform.wsl_distro or "<distro>"
    return Advice(
        "error", f"{distro} runs under WSL 1, which has no CUDA",
        evidence=(f"kernel: {platform.kernel}",),
        why="CUDA on WSL is for WSL 2 only (NVIDIA CUDA on WSL User Guide).",
        fix=(f"wsl --set-version {distro} 2", "wsl --set-default-version 2"),
        notes=("Run these in Windows PowerShell, not inside the distro; then reopen it.",),
        docs=WSL_GUIDE,
    )


def _base_kind(prefix: str):
    """(what the interpreter is, what its packages would collide with)."""
    if "/.pyenv/" in prefix + "/":
        return "pyenv's base interpreter", "every other project that uses this pyenv version"
    if prefix in ("/usr", "/usr/local") or prefix.startswith("/usr/"):
        return "the system Python", "what the distribution ships"
    return "a base interpreter", "everything else installed into it"


@rule("installing-into-system-python", "python",
      "The target is the system Python: install vLLM into a fresh virtual environment instead")
def system_python(facts: Facts, _m: Matrices) -> Optional[Advice]:
    env = facts.python
    if env is None or env.kind != "system":
        return None
    notes = ["A fresh environment can be deleted and rebuilt in minutes; a broken system "
             "Python cannot, and upgrading its packages can break the OS's own tools."]
    if env.externally_managed:
        notes.append("This Python is marked EXTERNALLY-MANAGED (PEP 668): pip refuses to install "
                     "into it without --break-system-packages. Do not use that flag.")
    what, collide = _base_kind(env.prefix)
    if env.selected_by != "--python":
        notes.append(f"envdoctor inspected {env.executable} because it is {env.selected_by}. To check a venv "
                     "instead: `envdoctor check --python .venv/bin/python` (or `source .venv/bin/activate` first).")
    return Advice(
        "warn", f"{env.executable} is {what}, not a virtual environment",
        evidence=(f"interpreter: {env.executable} (Python {env.version}, chosen by {env.selected_by})",
                  f"prefix: {env.prefix}"),
        why="vLLM pins torch exactly and pulls in dozens of packages; installed into a base interpreter "
            f"they collide with {collide}.",
        fix=("python3 -m venv ~/venvs/vllm", "source ~/venvs/vllm/bin/activate",
             "python -m pip install --upgrade pip"),
        notes=tuple(notes) + ("On Debian/Ubuntu, `sudo apt install python3-venv` first if venv is missing.",),
    )
