"""`envdoctor check --ci --want vllm==X`: the pre-install gate. Exit 0 only when the resolver finds
a working plan for that vLLM on this machine AND nothing `check` found is an error; 2 otherwise;
3 when the machine could not be checked. Warnings do not close the gate (they are printed).
render/gate.py words it."""
from __future__ import annotations

from dataclasses import dataclass

from envdoctor.compat.tables import Matrices
from envdoctor.core.exitcodes import EXIT_CANNOT_CHECK, EXIT_ERROR, EXIT_OK
from envdoctor.core.results import Report
from envdoctor.fix.resolve import Resolution, Wishes, resolve


@dataclass(frozen=True)
class Gate:
    code: int
    want: str
    resolution: Resolution
    errors: int

    @property
    def open(self) -> bool:
        return self.code == EXIT_OK


def decide(report: Report, check_code: int, want: str, matrices: Matrices) -> Gate:
    resolution = resolve(report.facts, Wishes(vllm=want or None), matrices)
    errors = report.counts()["error"]
    if check_code == EXIT_CANNOT_CHECK:
        code = EXIT_CANNOT_CHECK
    elif errors or not resolution.ok:
        code = EXIT_ERROR
    else:
        code = EXIT_OK
    return Gate(code, want, resolution, errors)
