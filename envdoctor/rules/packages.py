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
from envdoctor.messages import Msg
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
    evidence = [Msg("missing-requirements.evidence.missing", who=who, req=f"{req.name}{req.specifier or ''}")
                if have is None else
                Msg("missing-requirements.evidence.found", who=who, req=f"{req.name}{req.specifier or ''}", have=have)
                for who, req, have in unmet]
    missing = sorted({f"{req.name}{req.specifier}" for _, req, have in unmet if have is None})
    conflicting = sorted({f"{req.name}{req.specifier}" for _, req, have in unmet if have is not None})
    fix = []
    if missing:
        fix.append(f"{target_pip(facts)} install " + " ".join(f"'{r}'" for r in missing))
    if conflicting:
        fix.append(f"{target_pip(facts)} check")
    severity = "error" if any(canonicalize_name(who) in STACK for who, _, _ in unmet) else "warn"
    return Advice(
        severity,
        Msg("missing-requirements.title", count=len(unmet)),
        evidence=tuple(evidence[:25])
        + ((Msg("evidence.more", count=len(evidence) - 25),) if len(evidence) > 25 else ()),
        why=Msg("missing-requirements.why"),
        fix=tuple(fix),
        notes=((Msg("missing-requirements.note.conflicts"),) if conflicting else ()),
    )


@rule("vllm-known-issue", "python", "The installed vLLM release has a known bug, or lacks the extra pin it needs")
def vllm_known_issue(facts: Facts, m: Matrices) -> Optional[Advice]:
    """What `fix` says of a release (matrices/vllm_known.csv), said of the one installed: a release
    that can hang, and an extra pin it needs that the environment breaks. The vaguer "dependency
    problems" of old releases show as the unmet requirements themselves (missing-requirements)."""
    import re

    from envdoctor.compat.known import issues, known_text

    env = facts.python
    vllm = env.dist("vllm") if env is not None else None
    if env is None or vllm is None:
        return None
    try:
        version = Version(vllm.version.split("+")[0])
    except InvalidVersion:
        return None
    installed = {canonicalize_name(d.name): d.version for d in env.distributions}
    evidence, fix, notes, severity, docs = [Msg("evidence.installed", what=f"vllm {vllm.version}")], [], [], None, None
    heads = []  # each problem in a few words, for the title
    for issue in issues(version, m):
        broken = [(req, installed.get(canonicalize_name(req.name))) for req in issue.pins]
        broken = [(req, have) for req, have in broken
                  if have is not None and not req.specifier.contains(have.split("+")[0], prereleases=True)]
        if issue.kind == "hang":
            evidence.append(Msg("evidence.vllm-problem", vllm=vllm.version, problem=known_text(issue)))
            if issue.offer:
                fix.append(f"envdoctor fix --vllm {issue.offer}")
                notes.append(Msg("vllm-known-issue.note.offer", offer=issue.offer))
            severity = severity or "warn"
        elif issue.kind == "pin" and broken:
            evidence += [Msg("vllm-known-issue.evidence.pin", vllm=vllm.version, problem=known_text(issue),
                             found=f"{req.name} {have}") for req, have in broken]
            fix.append(f"{target_pip(facts)} install " + " ".join(f"'{req}'" for req, _ in broken))
            severity = "error"
        else:
            continue
        heads.append(known_text(issue, head=True))
        url = re.search(r"https?://[^\s)\"]+", issue.source)
        docs = docs or (url.group(0) if url else None)
    if severity is None:
        return None
    return Advice(
        severity, Msg("vllm-known-issue.title", vllm=vllm.version, problems=tuple(heads)),
        evidence=tuple(evidence),
        why=Msg("vllm-known-issue.why"),
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
        subject = Msg("python-unsupported-by-vllm.installed", vllm=row.version)
        severity = "error"
    else:
        newest = m.newest_vllm()
        if supports_python(newest, python, m):
            return None
        # Not installed yet: pip will quietly pick an older release, which may be fine.
        row, subject, severity = newest, Msg("python-unsupported-by-vllm.newest", vllm=newest.version), "info"
    ok = [r for r in m.table("vllm") if supports_python(r, python, m)]
    notes = []
    if ok:
        best = max(ok, key=lambda r: r.version)
        notes.append(Msg("python-unsupported-by-vllm.note.newest", vllm=best.version, python=python))
    else:
        severity = "error"
        notes.append(Msg("python-unsupported-by-vllm.note.none", python=python))
    ok_pythons, limits = _stack_range(row, m, build, arch)
    good = choose(ok_pythons, None)
    return Advice(
        severity, Msg("python-unsupported-by-vllm.title", python=python, subject=subject),
        evidence=(Msg("python-unsupported-by-vllm.evidence.target", executable=env.executable, python=python),
                  Msg("python-unsupported-by-vllm.evidence.range", vllm=row.version, span=span(ok_pythons),
                      limits="; ".join(limits))),
        why=Msg("python-unsupported-by-vllm.why"),
        fix=((f"uv venv --python {good} ~/venvs/vllm",) if good else ()),
        notes=tuple(notes) + ((Msg("python-unsupported-by-vllm.note.other", python=good),) if good else ()),
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
