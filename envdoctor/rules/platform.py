"""Platform and Python-environment rules: native Windows, WSL 1, system Python."""
from __future__ import annotations

from typing import Optional

from envdoctor.compat.tables import Matrices
from envdoctor.core.results import Facts
from envdoctor.messages import Msg
from envdoctor.rules.base import Advice, rule

WSL_GUIDE = "https://docs.nvidia.com/cuda/wsl-user-guide/"


@rule("native-windows-unsupported", "platform", "vLLM does not run on native Windows: use WSL 2")
def native_windows(facts: Facts, _m: Matrices) -> Optional[Advice]:
    platform = facts.platform
    if platform is None or platform.system != "Windows":
        return None
    return Advice(
        "error", Msg("native-windows-unsupported.title"),
        evidence=(Msg("evidence.platform", platform=f"{platform.system} {platform.machine}"),),
        why=Msg("native-windows-unsupported.why"),
        fix=("wsl --install -d Ubuntu-22.04",),
        notes=(Msg("native-windows-unsupported.note.install"), Msg("native-windows-unsupported.note.driver")),
        docs="https://docs.vllm.ai/en/latest/getting_started/installation/gpu.html",
    )


@rule("wsl1-no-gpu", "platform", "WSL 1 has no GPU access: convert the distro to WSL 2")
def wsl1(facts: Facts, _m: Matrices) -> Optional[Advice]:
    platform = facts.platform
    if platform is None or platform.wsl != 1:
        return None
    distro = platform.wsl_distro or "<distro>"
    return Advice(
        "error", Msg("wsl1-no-gpu.title", distro=distro),
        evidence=(Msg("evidence.kernel", kernel=platform.kernel),),
        why=Msg("wsl1-no-gpu.why"),
        fix=(f"wsl --set-version {distro} 2", "wsl --set-default-version 2"),
        notes=(Msg("wsl1-no-gpu.note"),),
        docs=WSL_GUIDE,
    )


def _base_kind(prefix: str):
    """(what the interpreter is, what its packages would collide with)."""
    if "/.pyenv/" in prefix + "/":
        return Msg("installing-into-system-python.what.pyenv"), Msg("installing-into-system-python.collide.pyenv")
    if prefix in ("/usr", "/usr/local") or prefix.startswith("/usr/"):
        return Msg("installing-into-system-python.what.system"), Msg("installing-into-system-python.collide.system")
    return Msg("installing-into-system-python.what.base"), Msg("installing-into-system-python.collide.base")


@rule("installing-into-system-python", "python",
      "The target is the system Python: install vLLM into a fresh virtual environment instead")
def system_python(facts: Facts, _m: Matrices) -> Optional[Advice]:
    env = facts.python
    if env is None or env.kind != "system":
        return None
    notes = [Msg("installing-into-system-python.note.fresh")]
    if env.externally_managed:
        notes.append(Msg("installing-into-system-python.note.pep668"))
    what, collide = _base_kind(env.prefix)
    if env.selected_by != "--python":
        notes.append(Msg("installing-into-system-python.note.selected", python=env.executable,
                         selected_by=env.selected_by))
    return Advice(
        "warn", Msg("installing-into-system-python.title", python=env.executable, what=what),
        evidence=(Msg("evidence.interpreter", python=env.executable, version=env.version, selected_by=env.selected_by),
                  Msg("evidence.prefix", prefix=env.prefix)),
        why=Msg("installing-into-system-python.why", collide=collide),
        fix=("python3 -m venv ~/venvs/vllm", "source ~/venvs/vllm/bin/activate",
             "python -m pip install --upgrade pip"),
        notes=tuple(notes) + (Msg("installing-into-system-python.note.venv-package"),),
    )
