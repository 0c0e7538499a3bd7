"""Which Pythons a stack runs on, from Requires-Python (vLLM, torch) and the wheels that exist
(torch's cpXY wheels, the companions vLLM pins), and which one to choose: the Python in use when it
fits, else one vLLM documents (3.12 first; its release page makes venvs with `--python 3.12`)."""
from __future__ import annotations

import re
from typing import List, Optional, Sequence, Tuple

from envdoctor.compat.tables import Matrices

# vLLM documents "Python: 3.10 -- 3.13" and its releases page uses `uv venv --python 3.12`; older
# Pythons only where a stack allows nothing newer, 3.14 last (audit F16).
PREFERRED = ("3.12", "3.11", "3.10", "3.13", "3.9", "3.8", "3.14", "3.15")


def py_key(py: str) -> Tuple[int, int]:
    major, minor = py.split(".")[:2]
    return int(major), int(minor)


def wheel_has_python(tags: Sequence[str], py: str) -> bool:
    """cp310 exactly; cp38-abi3 for any CPython >= 3.8; py3 for any."""
    for tag in tags:
        if tag.startswith("py3") or tag == "cp" + py.replace(".", ""):
            return True
        m = re.fullmatch(r"cp3(\d+)-abi3", tag)
        if m and py_key(py) >= (3, int(m.group(1))):
            return True
    return False


def all_pythons(m: Matrices) -> List[str]:
    """Every CPython X.Y some torch release ships wheels for, oldest first."""
    def make() -> List[str]:
        found = {f"3.{t[3:]}" for r in m.table("torch") for t in r.python_tags if re.fullmatch(r"cp3\d+", t)}
        return sorted(found, key=py_key)
    return m.derived("pythons", make)


def span(pythons: Sequence[str]) -> str:
    if not pythons:
        return "none"
    return pythons[0] if len(pythons) == 1 else f"{pythons[0]}–{pythons[-1]}"


def allowed(requires, tags: Sequence[str], m: Matrices) -> List[str]:
    """The Pythons one package runs on: its Requires-Python (None: any) and its wheel tags (empty: any)."""
    return [py for py in all_pythons(m)
            if (requires is None or requires.contains(f"{py}.0")) and (not tags or wheel_has_python(tags, py))]


def choose(ok: Sequence[str], in_use: Optional[str], wish: Optional[str] = None) -> Optional[str]:
    if wish:
        return wish if wish in ok else None
    if in_use in ok:
        return in_use
    return next((p for p in PREFERRED if p in ok), ok[-1] if ok else None)


def companions(release, arch: str) -> list:
    """The requirements vLLM pins next to torch (xformers, vllm-flash-attn, flashinfer) that apply on Linux `arch`."""
    from packaging.markers import UndefinedEnvironmentName

    env = {"platform_system": "Linux", "sys_platform": "linux", "platform_machine": arch, "os_name": "posix", "extra": ""}
    out = []
    for req in release.companions:
        try:
            applies = req.marker is None or req.marker.evaluate(env)
        except UndefinedEnvironmentName:
            applies = True
        if applies:
            out.append(req)
    return out


def _vllm_tags(build, m: Matrices) -> Tuple[str, ...]:
    if build.variant and "{py}" not in (build.python_tag or "{py}"):
        return (build.python_tag,)
    files = m.wheel_files("vllm", str(build.release.version))  # one wheel per CPython, as on the index
    return files.python_tags if files is not None else ()


def describe(parts: Sequence[Tuple[str, Sequence[str]]]) -> List[str]:
    """[("torch 2.3.1", ["3.8", ..., "3.12"])] -> ["torch 2.3.1: 3.8–3.12"]."""
    return [f"{who}: {span(pythons)}" for who, pythons in parts]


def stack_pythons(build, m: Matrices, arch: str) -> Tuple[List[str], List[Tuple[str, List[str]]]]:
    """(Pythons every wheel of the stack runs on, (package, its Pythons) for each package), from each
    package's Requires-Python and the wheels that exist for it (vLLM, torch, the companions)."""
    from envdoctor.rules.base import pinned_version

    row, torch = build.release, build.torch
    parts = [(f"vllm {row.version}", allowed(row.python_requires, _vllm_tags(build, m), m)),
             (f"torch {torch.version}", allowed(torch.python_requires, torch.python_tags, m))]
    for req in companions(row, arch):
        version = pinned_version(req.specifier) or str(req.specifier)
        files = m.wheel_files(req.name, version)
        if files is not None and files.python_tags:
            parts.append((f"{req.name} {version}", allowed(None, files.python_tags, m)))
    ok = [py for py in all_pythons(m) if all(py in a for _, a in parts)]
    return ok, parts
