"""Plain data that flows from probes to rules to renderers."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

SEVERITIES = ("info", "warn", "error")
SEVERITY_RANK = {"info": 0, "warn": 1, "error": 2}


class DataError(Exception):
    """A data file envdoctor ships or reads is corrupt; the message names file and line."""


@dataclass(frozen=True)
class ProbeResult:
    area: str
    # ok (facts read), absent (nothing there: no GPU, no toolkit), skipped (not asked for or not
    # applicable), error (read garbage or a tool failed), timeout, crashed
    status: str
    seconds: float = 0.0
    facts: Any = None  # the area's facts dataclass, when status is ok
    error: Optional[str] = None  # one line: why not ok
    trace: Optional[str] = None  # a crash's traceback, shown only with --debug


@dataclass(frozen=True)
class Finding:
    """Advice: what was seen, why it matters, and the exact commands that fix it."""

    code: str  # stable kebab-case, a contract for CI
    severity: str  # info | warn | error
    area: str
    title: str  # one line
    evidence: Tuple[str, ...] = ()
    why: str = ""
    fix: Tuple[str, ...] = ()  # shell commands, in order
    notes: Tuple[str, ...] = ()  # prose steps that are not commands
    docs: Optional[str] = None


@dataclass(frozen=True)
class Facts:
    """Every probe's result, by area."""

    results: Dict[str, ProbeResult] = field(default_factory=dict)

    def get(self, area: str) -> Any:
        """The facts of `area`, or None when its probe did not succeed."""
        result = self.results.get(area)
        return result.facts if result is not None and result.status == "ok" else None

    def status(self, area: str) -> Optional[str]:
        result = self.results.get(area)
        return result.status if result is not None else None


@dataclass(frozen=True)
class Report:
    facts: Facts
    findings: Tuple[Finding, ...]
    deadline_hit: bool = False
    seconds: float = 0.0
    internal_errors: Tuple[str, ...] = ()  # tracebacks of rules that crashed

    def counts(self) -> Dict[str, int]:
        return {s: sum(1 for f in self.findings if f.severity == s) for s in ("error", "warn", "info")}

    def worst(self) -> Optional[str]:
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=SEVERITY_RANK.__getitem__)
