"""What a rule is, and the small helpers several rules share.

A rule is a pure function of Facts + Matrices that returns nothing or Advice; the
registry wraps Advice into a Finding with the rule's stable code and area.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Optional, Sequence, Tuple

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

if TYPE_CHECKING:
    from envdoctor.core.facts import DriverFacts, Gpu
from envdoctor.compat.tables import TORCH_INDEX, Matrices, driver_key  # noqa: F401 - TORCH_INDEX is re-exported
from envdoctor.core.codes import Command, register
from envdoctor.core.results import Facts, Finding


@dataclass(frozen=True)
class Advice:
    severity: str
    title: str
    evidence: Tuple[str, ...] = ()
    why: str = ""
    fix: Tuple[str, ...] = ()
    notes: Tuple[str, ...] = ()
    docs: Optional[str] = None


Check = Callable[[Facts, Matrices], Optional[Advice]]


@dataclass(frozen=True)
class Rule:
    code: str
    area: str
    summary: str
    check: Check

    def evaluate(self, facts: Facts, matrices: Matrices) -> Optional[Finding]:
        advice = self.check(facts, matrices)
        if advice is None:
            return None
        return Finding(self.code, advice.severity, self.area, advice.title, tuple(advice.evidence),
                       advice.why, tuple(advice.fix), tuple(advice.notes), advice.docs)


def rule(code: str, area: str, summary: str) -> Callable[[Check], Rule]:
    """Register a check rule; its code goes into the catalogue (core/codes.py) as check's."""
    register(code, area, Command.CHECK, summary)

    def wrap(check: Check) -> Rule:
        return Rule(code, area, summary, check)
    return wrap


# --- shared helpers --------------------------------------------------------------------

def cuda_tuple(text: Optional[str]) -> Optional[Tuple[int, int]]:
    m = re.match(r"^(\d+)\.(\d+)", text or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def cuda_tag(cuda: str) -> str:
    """"12.1" -> "cu121", the name of the PyTorch wheel index for that build."""
    major, minor = cuda.split(".")[:2]
    return f"cu{major}{minor}"


def version_or_none(text: Optional[str]) -> Optional[Version]:
    try:
        return Version(text) if text else None
    except InvalidVersion:
        return None


def pinned_version(spec: SpecifierSet) -> Optional[str]:
    """The version an exact pin (==X) names, or None."""
    return next((s.version for s in spec if s.operator in ("==", "===") and "*" not in s.version), None)


def gpu_cc(gpu: Gpu, matrices: Matrices) -> Optional[str]:
    """The GPU's compute capability: as the driver reported it, else by name from gpus.csv."""
    if gpu.compute_capability:
        return gpu.compute_capability
    spec = matrices.gpu(gpu.name)
    return spec.compute_capability if spec else None


def driver_max_cuda(driver: DriverFacts, matrices: Matrices, target_os: str = "linux") -> Optional[str]:
    """The newest CUDA the driver runs: as it reported it, else from NVIDIA's Table 3 and its branch
    (compat.driver; a WSL or Windows machine reports a Windows driver number)."""
    from envdoctor.compat.driver import cuda_for_driver, os_of

    if driver.cuda_max:
        return driver.cuda_max
    return cuda_for_driver(driver.driver_version, os_of(target_os), matrices)


def driver_runs_cuda(driver: DriverFacts, cuda: str, matrices: Matrices, target_os: str = "linux") -> Optional[bool]:
    """Can this driver run code built for `cuda`? Natively, or through minor-version compatibility
    (compat.driver.runs). None: unknown."""
    from envdoctor.compat.driver import os_of, runs

    verdict = runs(driver.driver_version, os_of(target_os), cuda, matrices, driver.cuda_max)
    return None if verdict is None else verdict != "no"


def target_os(facts: Facts) -> str:
    platform = facts.platform
    if platform is None:
        return "linux"
    return "wsl2" if platform.wsl else ("windows" if platform.system == "Windows" else "linux")


def in_wsl(facts: Facts) -> bool:
    platform = facts.platform
    return bool(platform and platform.wsl)


def target_pip(facts: Facts) -> str:
    """`python -m pip` of the target interpreter, so fixes install where envdoctor looked."""
    env = facts.python
    return f"{env.executable} -m pip" if env is not None else "python -m pip"


def join(items: Sequence[str]) -> str:
    return ", ".join(items)
