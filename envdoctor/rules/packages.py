"""Package rules: unmet Requires-Dist ("the tutorial forgot a package") and a Python
version the vLLM stack ships no wheels for."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

from envdoctor.compat.python import choose, span
from envdoctor.compat.tables import Matrices, VllmRelease
from envdoctor.core.facts import canonicalize_name
from envdoctor.core.results import Facts
from envdoctor.rules.base import Advice, rule, target_pip
from envdoctor.rules.torch import applies

# Requirers whose unmet needs break vLLM itself rather than some side tool.
STACK = {"vllm", "torch", "xformers", "vllm-flash-attn", "flashinfer-python", "transformers", "triton"}


def unmet_requirements(facts: Facts) -> List[Tuple[str, Requirement, Optional[str]]]:
    """(requirer, requirement, installed version or None) for every unmet Requires-Dist."""
    env = facts.python
    if env is None:
        return []
    installed: Dict[str, str] = {canonicalize_name(d.name): d.version for d in env.distributions}
    out: List[Tuple[str, Requirement, Optional[str]]] = []
    for dist in env.distributions:
        for text in dist.requires:
            try:
                req = Requirement(text)
            except InvalidRequirement:
                continue
            if not applies(req, env.marker_env):
                continue
            name = canonicalize_name(req.name)
            if canonicalize_name(dist.name) == "vllm" and name == "torch":
                continue  # vllm-torch-mismatch explains this one precisely
            have = installed.get(name)
            if have is None:
                out.append((dist.name, req, None))
                continue
            try:
                ok = req.specifier.contains(Version(Version(have).public), prereleases=True)
            except InvalidVersion:
                continue
            if not ok:
                out.append((dist.name, req, have))
    return out


@rule("missing-requirements", "python", "Installed packages whose declared requirements are missing or conflicting")
def missing_requirements(facts: Facts, _m: Matrices) -> Optional[Advice]:
    unmet = unmet_requirements(facts)
    if not unmet:
        return None
    evidence = [f"{who} needs {req.name}{req.specifier or ''}: "
                + ("not installed" if have is None else f"found {have}") for who, req, have in unmet]
    missing = sorted({f"{req.name}{req.specifier}" for _, req, have in unmet if have is None})
    conflicting = sorted({f"{req.name}{req.specifier}" for _, req, have in unmet if have is not None})
    fix = []
    if missing:
        fix.append(f"{target_pip(facts)} install " + " ".join(f"'{r}'" for r in missing))
    if conflicting:
        fix.append(f"{target_pip(facts)} check")
    severity = "error" if any(canonicalize_name(who) in STACK for who, _, _ in unmet) else "warn"
    return Advice(
        severity, f"{len(unmet)} declared requirement(s) not met",
        evidence=tuple(evidence[:25]) + ((f"... and {len(evidence) - 25} more",) if len(evidence) > 25 else ()),
        why="A package whose requirements are missing fails at import time, one crash at a time: "
            "the \"tutorial forgot a package\" problem. pip only checks what it installs itself.",
        fix=tuple(fix),
        notes=(("Conflicts: installing one side may break the other. Run `pip check`; when several "
                "stack packages conflict, a fresh environment is faster (`envdoctor fix --plan`).",)
               if conflicting else ()),
    )


@rule("vllm-known-issue", "python", "The installed vLLM release has a known bug, or lacks the extra pin it needs")
def vllm_known_issue(facts: Facts, m: Matrices) -> Optional[Advice]:
    """What `fix` says of a release (matrices/vllm_known.csv), said of the one installed: a release
    that can hang, and an extra pin it needs that the environment breaks. The vaguer "dependency
    problems" of old releases show as the unmet requirements themselves (missing-requirements)."""
    import re

    from envdoctor.compat.known import issues

    env = facts.python
    vllm = env.dist("vllm") if env is not None else None
    if env is None or vllm is None:
        return None
    try:
        version = Version(vllm.version.split("+")[0])
    except InvalidVersion:
        return None
    installed = {canonicalize_name(d.name): d.version for d in env.distributions}
    evidence, fix, notes, severity, docs = [f"installed: vllm {vllm.version}"], [], [], None, None
    heads = []  # each problem in a few words, for the title
    for issue in issues(version, m):
        broken = [(req, installed.get(canonicalize_name(req.name))) for req in issue.pins]
        broken = [(req, have) for req, have in broken
                  if have is not None and not req.specifier.contains(have.split("+")[0], prereleases=True)]
        if issue.kind == "hang":
            evidence.append(f"vllm {vllm.version} {issue.text}")
            if issue.offer:
                fix.append(f"envdoctor fix --vllm {issue.offer}")
                notes.append(f"vllm {issue.offer} fixes it; `envdoctor fix --vllm {issue.offer}` plans it in a new "
                             "environment (its torch pin differs, so an in-place upgrade swaps torch too).")
            severity = severity or "warn"
        elif issue.kind == "pin" and broken:
            evidence += [f"vllm {vllm.version} {issue.text}; found {req.name} {have}" for req, have in broken]
            fix.append(f"{target_pip(facts)} install " + " ".join(f"'{req}'" for req, _ in broken))
            severity = "error"
        else:
            continue
        heads.append(re.split(r"[:(]", issue.text)[0].strip())
        url = re.search(r"https?://[^\s)\"]+", issue.source)
        docs = docs or (url.group(0) if url else None)
    if severity is None:
        return None
    return Advice(
        severity, f"vllm {vllm.version} " + "; ".join(heads),
        evidence=tuple(evidence),
        why="vLLM's own documentation lists this release's problem; it shows up at run time, not at install.",
        fix=tuple(fix), notes=tuple(notes), docs=docs,
    )


def python_tag(version: str) -> str:
    major, minor = version.split(".")[:2]
    return f"cp{major}{minor}"


def supports_python(row: VllmRelease, python: str, m: Matrices, build=None, arch: str = "x86_64") -> bool:
    """Does `python` run the release (its index build, or `build`): Requires-Python of vLLM and torch,
    and wheels of every package of the stack (compat.python, the same answer `fix` plans with)."""
    ok, _ = _stack_range(row, m, build, arch)
    if not ok and build is None and not _builds(row, m):
        return row.python_requires.contains(python, prereleases=True)
    return ".".join(python.split(".")[:2]) in ok


@rule("python-unsupported-by-vllm", "python", "The target Python version has no vLLM (or pinned torch) wheels")
def python_unsupported(facts: Facts, m: Matrices) -> Optional[Advice]:
    env = facts.python
    if env is None:
        return None
    from envdoctor.compat.installed import installed_build, machine_of

    python = env.version
    installed = env.dist("vllm")
    row = m.vllm(installed.version.split("+")[0]) if installed is not None else None
    build = installed_build(facts, m) if row is not None else None
    arch = machine_of(facts, m).arch
    if row is not None:
        if supports_python(row, python, m, build, arch):
            return None
        subject = f"vllm {row.version} (installed)"
        severity = "error"
    else:
        newest = m.newest_vllm()
        if supports_python(newest, python, m):
            return None
        # Not installed yet: pip will quietly pick an older release, which may be fine.
        row, subject, severity = newest, f"the newest vllm ({newest.version})", "info"
    ok = [r for r in m.table("vllm") if supports_python(r, python, m)]
    notes = []
    if ok:
        best = max(ok, key=lambda r: r.version)
        notes.append(f"vllm {best.version} is the newest release with wheels for Python {python}.")
    else:
        severity = "error"
        notes.append(f"No vLLM release in envdoctor's data supports Python {python}.")
    ok_pythons, limits = _stack_range(row, m, build, arch)
    good = choose(ok_pythons, None)
    return Advice(
        severity, f"Python {python} is not supported by {subject}",
        evidence=(f"target: {env.executable} is Python {python}",
                  f"vllm {row.version} runs on Python {span(ok_pythons)} ({'; '.join(limits)})"),
        why="pip can only install vLLM and its exactly pinned torch where wheels exist for this "
            "Python; otherwise it fails, or silently picks an older release.",
        fix=((f"uv venv --python {good} ~/venvs/vllm",) if good else ()),
        notes=tuple(notes) + ((f"Or create a venv with Python {good} by any other means "
                               "(conda create -n vllm python=" + good + ", pyenv, deadsnakes).",) if good else ()),
    )


def _builds(row: VllmRelease, m: Matrices):
    from envdoctor.compat.builds import builds

    return builds(row, m)


def _stack_range(row: VllmRelease, m: Matrices, build=None, arch: str = "x86_64"):
    from envdoctor.compat.python import describe, stack_pythons

    if build is None:
        options = _builds(row, m)
        build = options[0] if options else None
    if build is None:
        return [], []
    ok, parts = stack_pythons(build, m, arch)
    return ok, describe(parts)
