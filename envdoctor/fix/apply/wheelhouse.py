"""What a step needs, fetched into the wheelhouse, then installed from there with no network.

pip itself resolves the step (`pip install --dry-run --report`), reading only index pages and PEP 658
metadata (pip >= 25.3; older pips download every file during a dry run, so apply lets them install
as the plan's commands say, with pip's own retries); the report names every file with the URL and the SHA-256 the index published.
envdoctor downloads those files itself (download.py: resume, watchdog, hash check), then runs
`pip install --no-index --find-links WHEELHOUSE FILE...`, which cannot reach the network at all.
Only wheels are accepted: a step that would build from source is not a known-good plan.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from typing import Callable, List, Mapping, Optional, Sequence, Tuple

from envdoctor.core.reasons import FailureKind
from envdoctor.fix.plan import Install
from envdoctor.machine.runner import CommandResult, Runner
from envdoctor.fix.apply.download import DownloadError, Fetched, Policy, fetch

REPORT_PIP = (25, 3)  # --report since pip 22.2; a metadata-only --dry-run since 25.3 (pip NEWS.rst #12603)
RESOLVE_TIMEOUT = 900.0
INSTALL_TIMEOUT = 3600.0


@dataclass(frozen=True)
class Artifact:
    name: str
    version: str
    url: str
    filename: str
    sha256: Optional[str]


@dataclass(frozen=True)
class Cause:
    """What explain's signatures recognised in a failed command's output: a catalogued code."""

    code: str
    title: str


class StepError(Exception):
    """A step failed; `kind` network | environment, `lines` the output lines that matter,
    `cause` what explain's signatures recognised in them, if anything."""

    def __init__(self, kind: FailureKind, message: str, lines: Sequence[str] = (),
                 cause: Optional[Cause] = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.lines = tuple(lines)
        self.cause = cause


def pip_version(runner: Runner, python: str, env: Mapping[str, str]) -> Optional[Tuple[int, ...]]:
    result = runner.run([python, "-m", "pip", "--version"], 60.0, env=env)
    if not result.ok:
        return None
    try:
        return tuple(int(p) for p in result.stdout.split()[1].split(".")[:2])
    except (IndexError, ValueError):
        return None


def resolve(runner: Runner, python: str, install: Install, flags: Sequence[str], env: Mapping[str, str]) -> List[Artifact]:
    with tempfile.TemporaryDirectory(prefix="envdoctor-report-") as tmp:
        report = os.path.join(tmp, "report.json")
        argv = [python, "-m", "pip", "install", "--dry-run", "--quiet", "--report", report,
                "--only-binary", ":all:"] + list(flags)
        if install.index_url:
            argv += ["--index-url", install.index_url]
        if install.constraints:
            argv += ["-c", install.constraints]
        if install.upgrade:
            argv.append("--upgrade")
        argv += list(install.requirements)
        result = runner.run(argv, RESOLVE_TIMEOUT, env=env)
        if not result.ok:
            raise failure("pip could not resolve " + " ".join(install.requirements), result)
        try:
            with open(report, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError) as exc:
            raise StepError(FailureKind.ENVIRONMENT, f"pip wrote no readable report ({exc})") from None
    out = []
    for item in data.get("install", []):
        info, meta = item.get("download_info") or {}, item.get("metadata") or {}
        url = info.get("url", "")
        archive = info.get("archive_info") or {}
        sha = (archive.get("hashes") or {}).get("sha256")
        if sha is None and str(archive.get("hash", "")).startswith("sha256="):
            sha = archive["hash"].split("=", 1)[1]  # pip < 23: one "hash" string
        out.append(Artifact(str(meta.get("name", "?")), str(meta.get("version", "?")), url.split("#")[0],
                            file_name(url), sha))
    return out


def file_name(url: str) -> str:
    """The file's name as pip takes it: the last segment of the decoded path, so that an
    index's ..%2F cannot put a path in it."""
    import posixpath
    from urllib.parse import unquote, urlsplit

    return posixpath.basename(unquote(urlsplit(url.split("#")[0]).path).rstrip("/"))


def _inside(wheelhouse: str, filename: str) -> Optional[str]:
    """Where `filename` goes in the wheelhouse, or None when it is no plain wheel file name."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    if not filename or filename != os.path.basename(filename) or "\\" in filename or "\0" in filename:
        return None
    try:
        parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return None
    dest = os.path.join(wheelhouse, filename)
    root = os.path.realpath(wheelhouse)
    return dest if os.path.dirname(os.path.realpath(dest)) == root else None


def _without_tracebacks(lines: List[str]) -> List[str]:
    """A Python traceback becomes its last line, the exception: users read no stack frames."""
    out, inside = [], False
    for line in lines:
        if line.startswith("Traceback (most recent call last)"):
            inside = True
            continue
        if inside and (line.startswith(" ") or line.startswith("\t")):
            continue
        inside = False
        out.append(line)
    return out


def download_all(artifacts: Sequence[Artifact], wheelhouse: str, policy: Policy,
                 progress: Optional[Callable[[Artifact, int, Optional[int]], None]] = None,
                 session=None) -> List[Fetched]:
    os.makedirs(wheelhouse, exist_ok=True)
    done = []
    for a in artifacts:
        if not a.filename.endswith(".whl"):
            raise StepError(FailureKind.ENVIRONMENT, f"{a.name} {a.version} has no wheel for this Python and platform "
                                           f"({a.filename}): building from source is not part of a known-good plan")
        dest = _inside(wheelhouse, a.filename)
        if dest is None:
            raise StepError(FailureKind.NETWORK, f"{a.name} {a.version}: the index names its file {a.filename!r}, which is no "
                                       "wheel file name: refused (a broken or hostile index)", (a.url,))
        try:
            done.append(fetch(a.url, dest, a.sha256, session=session, policy=policy,
                              progress=(lambda got, total, a=a: progress(a, got, total)) if progress else None))
        except DownloadError as exc:
            raise StepError(FailureKind.NETWORK, str(exc), (f"{a.name} {a.version}: {a.url}",)) from None
    return done


def install_offline(runner: Runner, python: str, wheelhouse: str, files: Sequence[str], install: Install,
                    env: Mapping[str, str]) -> CommandResult:
    argv = [python, "-m", "pip", "install", "--no-index", "--find-links", wheelhouse]
    if install.constraints:
        argv += ["-c", install.constraints]
    if install.upgrade:
        argv.append("--upgrade")
    result = runner.run(argv + list(files), INSTALL_TIMEOUT, env=env)
    if not result.ok:
        raise failure("pip could not install from the wheelhouse", result)
    return result


MATTERS = ("ERROR", "Error", "error:", "Traceback", "No matching distribution", "conflict", "requires", "Could not")


def important_lines(text: str, keep: int = 12) -> List[str]:
    lines = _without_tracebacks([line.rstrip() for line in text.splitlines() if line.strip()])
    hits = [line for line in lines if any(s in line for s in MATTERS)]
    return (hits or lines)[-keep:]


def classify(text: str) -> Tuple[FailureKind, Optional[Cause]]:
    """network or environment, by the class explain gives what the failing command printed, and
    the cause its signatures name there (the same signatures as `envdoctor explain` and run-smoke)."""
    from envdoctor.explain import explain_text

    e = explain_text(text, source="pip output")
    cause = e.root
    kind = FailureKind.NETWORK if e.category == "network" else FailureKind.ENVIRONMENT
    return kind, (Cause(cause.finding.code, cause.finding.title) if cause is not None else None)


def failure(what: str, result: CommandResult) -> StepError:
    text = "\n".join(p for p in (result.stderr, result.stdout, result.error or "") if p)
    if result.status == "timeout":
        return StepError(FailureKind.NETWORK, f"{what}: no answer in time, killed", important_lines(text))
    if result.status in ("absent", "error"):
        return StepError(FailureKind.ENVIRONMENT, f"{what}: {result.describe()}")
    kind, cause = classify(text)
    return StepError(kind, f"{what} ({result.describe()})", important_lines(text), cause)
