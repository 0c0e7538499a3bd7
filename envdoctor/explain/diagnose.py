"""From matched lines to problems: keep the best signature per line, group lines by finding
code, pick the root cause, and let the analyses add what single lines cannot say.

Root cause: the cause with the highest priority, the earliest line on a tie. Priority is
data (log_signatures.csv): a specific cause (`ReadTimeoutError` while downloading) outranks
a generic one, and symptoms (BuildKit's `failed to solve`, pip's `ERROR: Exception:`) are
never the root while a cause is known; they are listed as where the problem surfaced.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Dict, List, Optional, Sequence, Set, Tuple

from envdoctor.explain import analyses, evidence
from envdoctor.explain.scan import Match, ScanResult
from envdoctor.explain.signatures import LogSignature, derive
from envdoctor.explain.signatures import finding as signature_finding
from envdoctor.explain.types import Diagnosis, Explanation, LogLine
from envdoctor.messages import Msg

EVIDENCE = 4  # matched lines listed per problem besides the first
ERROR_LINES = 8
EXCEPTION_LINE = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s+)?[\w.]*(?:Error|Exception)\b:")


def check_codes() -> Set[str]:
    from envdoctor.rules import ALL_RULES

    return {r.code for r in ALL_RULES}


def _markers(result: ScanResult, signatures: Dict[str, LogSignature]) -> Dict[str, List[Match]]:
    out: Dict[str, List[Match]] = {}
    for sid, matches in result.matches.items():
        if signatures[sid].role == "marker":
            out.setdefault(signatures[sid].code, []).extend(matches)
    return out


# The system Python's packages installed as root, where container images keep them. Read from the
# matched lines and the lines around them (a traceback's frames), not gated: pip prints the path on
# every "Requirement already satisfied" line of a build, and one sighting is all that is needed.
ROOT_PYTHON = re.compile(r"/usr/local/lib/python3\.\d+/dist-packages/")


def _near(matches: Sequence[Match]) -> List[str]:
    """The matched lines and the lines shown around them."""
    return [t for m in matches for t in [m.text] + [t for _, t in m.before + m.after]]


def _root_python(result: ScanResult, signatures: Dict[str, LogSignature]) -> bool:
    return any(ROOT_PYTHON.search(text) for sid, matches in result.matches.items()
               if signatures[sid].role != "marker" for text in _near(matches))


def _holds(when: Optional[str], markers: Dict[str, List[Match]]) -> bool:
    if not when:
        return True
    return (when.lstrip("!") in markers) != when.startswith("!")


def _score(text: str) -> int:
    low = text.lower()
    score = sum(w for word, w in (("traceback", 2), ("exception", 3), ("error", 3), ("fatal", 3), ("fail", 2),
                                  ("killed", 2), ("denied", 2), ("timed out", 2),
                                  ("segmentation fault", 3)) if word in low)
    if EXCEPTION_LINE.match(text):
        score += 3
    if low.lstrip().startswith(("error", "fatal")):
        score += 2
    return score


def error_like(lines: Sequence[Tuple[int, str]], n: int = ERROR_LINES) -> Tuple[LogLine, ...]:
    """The n lines that look most like errors, in log order."""
    best = sorted(lines, key=lambda e: (-_score(e[1]), e[0]))[:n]
    return tuple(LogLine(num, text) for num, text in sorted(best))


SITE = re.compile(r"(/[^\s'\"():]+?)/lib/python3\.\d+/site-packages/")
SYSTEM_PREFIXES = ("/usr", "/usr/local")


def _environment(matches: List[Match], lines: Sequence[Tuple[int, str]]) -> Optional[str]:
    """The environment the log's Python ran in, from a site-packages path near a matched line
    or on an error-like line (a venv or conda prefix; the system's own Python and pip's
    throw-away build environments give None)."""
    texts = _near(matches) + [t for _, t in lines]
    for text in texts:
        for found in SITE.finditer(text):
            prefix = found.group(1)
            if prefix not in SYSTEM_PREFIXES and "pip-build-env" not in prefix and not prefix.startswith("/tmp/"):
                return prefix
    return None


def context_values(markers: Dict[str, List[Match]], vllm_hint: Optional[str],
                   matches: Sequence[Match] = (), lines: Sequence[Tuple[int, str]] = ()) -> Dict[str, Optional[str]]:
    """Values for {vllm_version}, {model}, {build_package} and {pip}, from what the log says
    (--vllm wins)."""
    version, model = vllm_hint, None
    for m in markers.get("vllm-log", []):
        version = version or m.groups.get("version")
        model = model or m.groups.get("model")
    prefix = _environment(list(matches), lines)
    build = next((m.groups["package"] for m in markers.get("pip-build", []) if m.groups.get("package")), None)
    return {"vllm_version": version, "model": model, "build_package": build and build.rstrip(","),
            "pip": f"{prefix}/bin/python -m pip" if prefix else "python3 -m pip"}


def _diagnosis(code: str, matches: List[Match], count: int, values: Dict[str, Optional[str]],
               shared: Set[str]) -> Diagnosis:
    lead = max(matches, key=lambda m: (m.signature.priority, -m.line))  # the most specific row
    first = matches[0]
    fields = dict(values)
    for m in (first, lead):
        fields.update(m.groups)
        fields.update(derive(m.groups))
    sig = lead.signature
    evidence = tuple(Msg("explain.evidence.line", line=m.line, text=m.text[:300]) for m in matches[1:1 + EVIDENCE])
    if count > len(matches):
        evidence += (Msg("explain.evidence.count", count=count),)
    finding = signature_finding(sig, fields, evidence, code)
    context = tuple(LogLine(n, t) for n, t in first.before) + (LogLine(first.line, first.text),) + \
        tuple(LogLine(n, t) for n, t in first.after)
    sources = tuple(dict.fromkeys(m.signature.source for m in matches))
    return Diagnosis(finding, sig.role, LogLine(first.line, first.text), context, count, sources, code in shared,
                     max(m.signature.priority for m in matches))


def diagnose(result: ScanResult, signatures: Sequence[LogSignature], *, source: str,
             notes: Sequence[str] = (), vllm_hint: Optional[str] = None, matrices=None,
             seconds: float = 0.0) -> Explanation:
    by_id = {s.id: s for s in signatures}
    markers = _markers(result, by_id)
    if _root_python(result, by_id):
        markers["root-python"] = []
    # One explanation per line: the most specific signature. A symptom (where it surfaced)
    # is kept apart, so a line can be both a cause and the place a build stopped.
    best: Dict[Tuple[int, bool], Match] = {}
    for sid, matches in result.matches.items():
        sig = by_id[sid]
        if sig.role == "marker" or not _holds(sig.when, markers):
            continue
        for m in matches:
            key = (m.line, sig.role == "symptom")
            current = best.get(key)
            if current is None or sig.priority > current.signature.priority:
                best[key] = m
    groups: Dict[str, List[Match]] = {}
    for m in sorted(best.values(), key=lambda m: m.line):
        groups.setdefault(m.signature.code, []).append(m)
    counts: Dict[str, int] = {}
    for sid, n in result.counts.items():
        if by_id[sid].role != "marker" and _holds(by_id[sid].when, markers):
            counts[by_id[sid].code] = counts.get(by_id[sid].code, 0) + n
    values = context_values(markers, vllm_hint, [m for ms in groups.values() for m in ms], result.error_lines)
    shared = check_codes()
    found = [_diagnosis(code, ms, counts.get(code, len(ms)), values, shared) for code, ms in groups.items()]
    found = analyses.apply(found, groups, markers, values, matrices)
    found = analyses.demote_consequences(found)
    causes = sorted((d for d in found if d.role == "cause"), key=lambda d: (-d.priority, d.line.number))
    context = sorted((d for d in found if d.role == "context"), key=lambda d: (-d.priority, d.line.number))
    surfaced = tuple(sorted((d for d in found if d.role == "symptom"), key=lambda d: d.line.number))
    error_lines = () if causes else error_like(result.error_lines)
    if not causes:
        inferred = evidence.infer(result.error_lines, tuple(markers), surfaced, weak=result.other_lines)
        if inferred is None and not surfaced and not context:
            # No gate word anywhere: the last lines, read for a class's specific words, and a
            # line that says something failed without an error word is an error line.
            failing = [e for e in result.last_lines if evidence.FAILURE.search(e[1])]
            inferred = evidence.infer(failing, tuple(markers), (),
                                      weak=[e for e in result.last_lines if e not in failing])
        if inferred is not None and inferred.finding.code == evidence.CODES[inferred.category]:
            # The evidence names a class but no problem of it, and the log shows one of that
            # class as context (models read from /mnt/c under WSL): that one is the likeliest cause.
            same = next((d for d in context if d.category == inferred.category), None)
            if same is not None:
                context.remove(same)
                inferred = dataclasses.replace(same, role="cause", confidence="inferred")
        causes = [inferred] if inferred is not None else []
    causes = [analyses.in_context(d, markers, groups, values, signatures) for d in causes]
    diagnoses = tuple(causes + context)
    # The class: the root cause's; else where it surfaced; else, in a log without errors, what
    # it shows (vLLM under WSL turning pinned memory off).
    lead = causes[0] if causes else (surfaced[0] if surfaced else (context[0] if context else None))
    category = lead.category if lead is not None else None
    return Explanation(source, result.lines, result.bytes, category, diagnoses, surfaced, error_lines,
                       _kinds(markers, result, by_id), tuple(notes), round(seconds, 3))


def _kinds(markers: Dict[str, List[Match]], result: ScanResult, by_id: Dict[str, LogSignature]) -> Tuple[str, ...]:
    kinds = []
    if "docker" in markers:
        kinds.append("docker build")
    if "container" in markers:
        kinds.append("container start")
    if any(by_id[sid].id.startswith("pip-") for sid in result.matches) or "pip-build" in markers:
        kinds.append("pip")
    if "vllm-log" in markers:
        kinds.append("vLLM")
    if "wsl" in markers:
        kinds.append("WSL")
    return tuple(kinds)
