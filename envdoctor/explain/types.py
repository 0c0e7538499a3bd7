"""What `explain` answers, as plain data: renderers and tests read only this."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from envdoctor.core.results import SEVERITY_RANK, Finding


@dataclass(frozen=True)
class LogLine:
    number: int
    text: str


@dataclass(frozen=True)
class Diagnosis:
    """One problem the log shows. `finding.area` is its class; the code is shared with
    `check` where `check` can see the same problem on a live machine."""

    finding: Finding
    role: str  # cause | context | symptom
    line: LogLine  # the first line that shows it
    context: Tuple[LogLine, ...] = ()  # that line with a little before and after
    count: int = 1  # lines that matched
    sources: Tuple[str, ...] = ()  # where these error texts were seen in public
    shared_with_check: bool = False
    priority: int = 0  # ranks causes: the highest is the root
    confidence: str = "signature"  # signature: an exact error text; inferred: the evidence layer's reading

    @property
    def category(self) -> str:
        return self.finding.area


@dataclass(frozen=True)
class Explanation:
    source: str
    lines: int
    bytes: int
    category: Optional[str]  # class of the root cause; None when nothing was recognised
    diagnoses: Tuple[Diagnosis, ...]  # causes (root first), then context
    surfaced: Tuple[Diagnosis, ...] = ()  # where it surfaced: a failed docker step, pip's exit
    error_lines: Tuple[LogLine, ...] = ()  # the most error-like lines nothing explained
    kinds: Tuple[str, ...] = ()  # what the log is: "docker build", "pip", "WSL", ...
    notes: Tuple[str, ...] = ()  # how it was read: gzip, tail only, UTF-16
    seconds: float = 0.0

    @property
    def root(self) -> Optional[Diagnosis]:
        return self.diagnoses[0] if self.diagnoses and self.diagnoses[0].role == "cause" else None

    def worst(self) -> Optional[str]:
        found = [d.finding.severity for d in self.diagnoses]
        return max(found, key=SEVERITY_RANK.__getitem__) if found else None
