"""`envdoctor explain LOG`: which class of problem a failing log shows, which line is the
root cause, why, and the fix: the same finding codes as `check` where one exists.

    reader (bytes, bounded) -> scan (signatures from matrices/) -> diagnose (+ analyses, and the
    evidence layer where no signature matched) -> Explanation
"""
from __future__ import annotations

import time
from typing import BinaryIO, Callable, List, Optional, Tuple

from envdoctor.compat.tables import Matrices
from envdoctor.explain.diagnose import diagnose
from envdoctor.explain.types import Diagnosis, Explanation, LogLine
from envdoctor.explain.reader import DEFAULT_MAX_BYTES, LogInputError, open_log
from envdoctor.explain.scan import Scanner
from envdoctor.explain.signatures import load

__all__ = ["Diagnosis", "Explanation", "LogInputError", "LogLine", "codes", "exit_code", "explain_log",
           "explain_text"]

COLLECT_ENV = (b"PyTorch version:", b"Is debug build:")


def explain_log(path: str, *, matrices: Optional[Matrices] = None, vllm: Optional[str] = None,
                max_bytes: int = DEFAULT_MAX_BYTES, stdin: Optional[BinaryIO] = None,
                clock: Callable[[], float] = time.perf_counter) -> Explanation:
    """Explain the log at `path` (`-`: stdin). LogInputError when it cannot be one."""
    start = clock()
    matrices = matrices or Matrices()
    signatures = load(matrices)
    source = open_log(path, max_bytes, stdin)
    scanner = Scanner(signatures)
    notes = []
    try:
        for n, chunk in enumerate(source.chunks()):
            if n == 0 and all(marker in chunk for marker in COLLECT_ENV):
                notes.append("this looks like a `collect_env` report, not a failing log: "
                             "`envdoctor check --from-report FILE` diagnoses it")
            scanner.feed(chunk)
    finally:
        source.close()
    result = scanner.result()
    if result.lines == 0:
        raise LogInputError(f"{source.name} has no text: nothing to explain")
    return diagnose(result, signatures, source=source.name, notes=source.notes + notes, vllm_hint=vllm,
                    matrices=matrices, seconds=clock() - start)


def explain_text(text: str, *, source: str = "text", matrices: Optional[Matrices] = None,
                 vllm: Optional[str] = None) -> Explanation:
    """Explain text already in memory (a pasted report, a child's captured output)."""
    matrices = matrices or Matrices()
    signatures = load(matrices)
    scanner = Scanner(signatures)
    scanner.feed(text.encode("utf-8", "replace"))
    return diagnose(scanner.result(), signatures, source=source, vllm_hint=vllm, matrices=matrices)


def exit_code(e: Explanation) -> int:
    """2: an error-level problem; 1: only warnings; 0: nothing to report; 3: error-like
    lines that no signature explains (could not diagnose exactly: a class inferred at most)."""
    from envdoctor.core.exitcodes import EXIT_CANNOT_CHECK, EXIT_ERROR, EXIT_OK, EXIT_WARN
    from envdoctor.core.results import SEVERITY_RANK

    if e.root is not None and e.root.confidence == "inferred":
        return EXIT_CANNOT_CHECK
    found = [d.finding.severity for d in e.diagnoses + e.surfaced]
    if not found:
        return EXIT_CANNOT_CHECK if e.error_lines else EXIT_OK
    worst = max(found, key=SEVERITY_RANK.__getitem__)
    return {"error": EXIT_ERROR, "warn": EXIT_WARN}.get(worst, EXIT_OK)


def codes(matrices: Optional[Matrices] = None) -> List[Tuple[str, str, bool, str]]:
    """(code, class, shared with check, summary) for every code explain can report."""
    from envdoctor.explain import analyses, evidence
    from envdoctor.explain.diagnose import check_codes
    from envdoctor.explain.signatures import fill

    shared = check_codes()
    out = {}
    for sig in load(matrices):
        if sig.role != "marker" and sig.code not in out:
            out[sig.code] = (sig.code, sig.category, sig.code in shared, fill(sig.title, {}))
    for code, (category, summary) in analyses.CODES.items():
        out.setdefault(code, (code, category, code in shared, summary))
    for category, code in evidence.CODES.items():
        out.setdefault(code, (code, category, False, f"No signature matched; the evidence points at "
                                                    f"{evidence.SUMMARY[category]} (lower confidence)"))
    return sorted(out.values(), key=lambda c: (c[1], c[0]))
