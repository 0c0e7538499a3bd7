"""Target Python environment, read in ONE short child process of that interpreter.

Which interpreter: --python PATH, else the active venv (VIRTUAL_ENV), else the active
conda env (CONDA_PREFIX), else `python3` on PATH (what the user would run vLLM with; the
interpreter running envdoctor is usually envdoctor's own pipx/venv, which tells nothing),
else that one. Nothing heavy is imported: versions come from package metadata.
"""
from __future__ import annotations

import json
import os
import re
from typing import Optional, Tuple



from envdoctor.machine.context import Context
from envdoctor.probes.engine import ProbeFailed, ProbeTimeout, require_linux
from envdoctor.core.facts import Distribution, PythonEnvFacts, TorchBuild, canonicalize_name
from envdoctor.core.results import Facts

CHILD_TIMEOUT = 5.0


def child_source(name: str) -> str:
    with open(os.path.join(os.path.dirname(__file__), name), encoding="utf-8") as fh:
        return fh.read()


def target_python(ctx: Context) -> Tuple[str, str]:
    """(interpreter path, what chose it)."""
    chosen = ctx.options.get("python")
    if chosen:
        return str(chosen), "--python"
    gone = []
    for var in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        prefix = ctx.env.get(var)
        if prefix:
            for name in ("bin/python", "bin/python3"):
                path = os.path.join(prefix, name)
                if ctx.fs.is_executable(path):
                    return path, var
            gone.append(f"{var}={prefix} holds no bin/python")  # an env deleted while active
    note = f" ({'; '.join(gone)})" if gone else ""
    on_path = ctx.which("python3")
    if on_path:
        return on_path, "python3 on PATH" + note
    return ctx.host.executable, "envdoctor" + note


def parse_torch_version_py(text: str) -> Tuple[Optional[str], Optional[str], Optional[str]]:
    """(__version__, cuda, hip) from torch/version.py, which torch generates at build time."""
    def value(name: str) -> Optional[str]:
        m = re.search(rf"^{name}\s*(?::[^=]+)?=\s*(?:'([^']*)'|\"([^\"]*)\"|None)", text, re.M)
        if not m:
            return None
        return m.group(1) if m.group(1) is not None else m.group(2)

    return value("__version__"), value("cuda"), value("hip")


def torch_build(dists: Tuple[Distribution, ...], version_py: Optional[str]) -> Optional[TorchBuild]:
    dist = next((d for d in dists if canonicalize_name(d.name) == "torch"), None)
    if dist is None:
        return None
    version, cuda, hip = parse_torch_version_py(version_py or "")
    version = version or dist.version
    if cuda is None and version_py is None:
        # No version.py readable: the local label still tells the build (+cu121, +cpu).
        m = re.search(r"\+cu(\d+)(\d)$", version)
        cuda = f"{m.group(1)}.{m.group(2)}" if m else None
    return TorchBuild(version=version, cuda=cuda, hip=hip)


def parse_child(data: dict, executable: str, selected_by: str) -> PythonEnvFacts:
    seen, dists, shadowed = set(), [], []
    for name, version, requires, requires_python in data.get("dists", []):
        key = canonicalize_name(str(name))
        if key in seen:
            shadowed.append(str(name))  # a later sys.path entry: importlib uses the first
            continue
        seen.add(key)
        dists.append(Distribution(str(name), str(version), tuple(str(r) for r in requires or ()),
                                  requires_python))
    dists.sort(key=lambda d: d.name.lower())
    prefix, base = data.get("prefix", ""), data.get("base_prefix", "")
    kind = "conda" if data.get("conda") else "venv" if prefix != base else "system"
    pip = next((d.version for d in dists if canonicalize_name(d.name) == "pip"), None)
    return PythonEnvFacts(
        executable=data.get("executable") or executable,
        selected_by=selected_by,
        version=str(data["version"]),
        implementation=str(data.get("implementation", "cpython")),
        prefix=prefix,
        base_prefix=base,
        kind=kind,
        # PEP 668: the marker binds only the interpreter's own prefix, never a venv on top of it.
        externally_managed=bool(data.get("externally_managed")) and kind == "system",
        pip_version=pip,
        marker_env=dict(data.get("marker_env") or {}),
        distributions=tuple(dists),
        torch=torch_build(tuple(dists), data.get("torch_version_py")),
        shadowed=tuple(sorted(set(shadowed))),
    )


def probe(ctx: Context, _deps: Facts) -> PythonEnvFacts:
    require_linux(ctx)
    python, selected_by = target_python(ctx)
    result = ctx.run([python, "-c", child_source("env_child.py")], timeout=CHILD_TIMEOUT)
    if result.status == "timeout":
        raise ProbeTimeout(f"{python} gave no answer in {CHILD_TIMEOUT:g} s and was killed")
    if result.status in ("absent", "error"):
        raise ProbeFailed(f"cannot run {python}: {result.error}")
    try:
        data = json.loads(result.stdout.strip().splitlines()[-1]) if result.returncode == 0 else None
        if not isinstance(data, dict) or not re.fullmatch(r"3\.\d+(\.\d+)?\S*", str(data.get("version"))):
            raise ValueError  # "12", 311, "": no Python 3 answers that
        return parse_child(data, python, selected_by)
    except (ValueError, IndexError, TypeError, KeyError, AttributeError, RecursionError):
        raise ProbeFailed(f"{python} does not behave like Python 3: {result.describe()}") from None
