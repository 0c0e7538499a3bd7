"""Plain data that flows from probes to rules to renderers."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from envdoctor.core.errors import DataError  # noqa: F401 - its home until every user imports core.errors
from envdoctor.core.codes import checked
from envdoctor.core.areas import Area, StrEnum, area as area_entry

if TYPE_CHECKING:  # facts.py is not needed to hold results, only to read them
    from envdoctor.core.facts import (CudaToolkitFacts, DriverFacts, ModelFacts, NetworkFacts, PlatformFacts,
                                      PythonEnvFacts, ResourceFacts, TorchRuntimeFacts, WslFacts)


class Severity(StrEnum):
    INFO = "info"
    WARN = "warn"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return SEVERITY_RANK[self]


class ProbeStatus(StrEnum):
    OK = "ok"  # facts read
    ABSENT = "absent"  # nothing there: no GPU, no toolkit
    SKIPPED = "skipped"  # not asked for or not applicable
    ERROR = "error"  # read garbage or a tool failed
    TIMEOUT = "timeout"
    CRASHED = "crashed"

    @property
    def failed(self) -> bool:
        """The probe could not read what it should have: the check knows less than it should."""
        return self in (ProbeStatus.ERROR, ProbeStatus.TIMEOUT, ProbeStatus.CRASHED)


SEVERITIES = tuple(s.value for s in Severity)
SEVERITY_RANK = {s.value: i for i, s in enumerate(Severity)}


@dataclass(frozen=True)
class ProbeResult:
    area: str
    status: str  # a ProbeStatus: a plain string is accepted, checked and turned into one
    seconds: float = 0.0
    facts: Any = None  # the area's facts dataclass, when status is ok
    error: Optional[str] = None  # one line: why not ok
    trace: Optional[str] = None  # a crash's traceback, shown only with --debug
    reason: Optional[str] = None  # why not ok, as a value rules read (core/reasons.py), where the probe knows

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", ProbeStatus(self.status))


@dataclass(frozen=True)
class Finding:
    """Advice: what was seen, why it matters, and the exact commands that fix it."""

    code: str  # stable kebab-case, a contract for CI
    severity: str  # a Severity: a plain string is accepted, checked and turned into one
    area: str
    title: str  # one line
    evidence: Tuple[str, ...] = ()
    why: str = ""
    fix: Tuple[str, ...] = ()  # shell commands, in order
    notes: Tuple[str, ...] = ()  # prose steps that are not commands
    docs: Optional[str] = None

    def __post_init__(self) -> None:
        checked(self.code)  # kebab-case; in the catalogue (core/codes.py) when enforced
        object.__setattr__(self, "severity", Severity(self.severity))


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

    # Typed accessors, one per area of the registry (tests/test_areas.py checks them against it).
    @property
    def platform(self) -> Optional[PlatformFacts]:
        return self.get(Area.PLATFORM)

    @property
    def wsl(self) -> Optional[WslFacts]:
        return self.get(Area.WSL)

    @property
    def driver(self) -> Optional[DriverFacts]:
        return self.get(Area.DRIVER)

    @property
    def cuda(self) -> Optional[CudaToolkitFacts]:
        return self.get(Area.CUDA)

    @property
    def python(self) -> Optional[PythonEnvFacts]:
        return self.get(Area.PYTHON)

    @property
    def torch(self) -> Optional[TorchRuntimeFacts]:
        return self.get(Area.TORCH)

    @property
    def resources(self) -> Optional[ResourceFacts]:
        return self.get(Area.RESOURCES)

    @property
    def model(self) -> Optional[ModelFacts]:
        return self.get(Area.MODEL)

    @property
    def network(self) -> Optional[NetworkFacts]:
        return self.get(Area.NETWORK)


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

    def area_state(self, area: str) -> str:
        """How an area stands, for its mark: the worst severity of its findings and of its probe
        failing (the registry says how bad that is for the area), else "ok", or "skip" when
        its probe was skipped or found nothing."""
        result = self.facts.results.get(area)
        mine: List[str] = [f.severity for f in self.findings if f.area == area]
        entry = area_entry(area)
        if result is not None and ProbeStatus(result.status).failed:
            mine.append(entry.info.failed if entry is not None else Severity.WARN)
        if not mine:
            return "skip" if result is not None and result.status in (ProbeStatus.SKIPPED, ProbeStatus.ABSENT) else "ok"
        return max(mine, key=SEVERITY_RANK.__getitem__)
