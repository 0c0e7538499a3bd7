"""`envdoctor check --ci --want vllm==X`: the pre-install gate. Exit 0 only when the resolver finds
a working plan for that vLLM on this machine AND nothing `check` found is an error; 2 otherwise;
3 when the machine could not be checked. Warnings do not close the gate (they are printed)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List

from envdoctor.core.exitcodes import EXIT_CANNOT_CHECK, EXIT_ERROR, EXIT_OK
from envdoctor.core.results import Report
from envdoctor.fix.resolve import Resolution, Wishes, resolve


@dataclass(frozen=True)
class Gate:
    code: int
    want: str
    resolution: Resolution
    errors: int

    def lines(self) -> List[str]:
        r = self.resolution
        head = f"want vllm{self.want}: "
        if r.stack is not None:
            s = r.stack
            out = [head + f"plan found: vllm {s.vllm.version} + torch {s.torch.version} ({s.cuda_tag}) on Python {s.python}"
                   " (envdoctor fix --plan)"]
        else:
            out = [head + "no working plan on this machine"] + [f"  {x.line}" for x in r.rejected[:5]]
            out += [f"  to change: {c}" for c in r.changes]
        if self.errors:
            out.append(f"gate closed: check found {self.errors} error(s)")
        out.append("gate: " + ("open (exit 0)" if self.code == EXIT_OK else f"closed (exit {self.code})"))
        return out

    def document(self) -> Dict[str, Any]:
        r = self.resolution
        return {"want": f"vllm{self.want}", "ok": self.code == EXIT_OK, "plan_found": r.ok,
                "stack": None if r.stack is None else {"vllm": r.stack.vllm.version, "torch": r.stack.torch.version,
                                                       "cuda_tag": r.stack.cuda_tag, "python": r.stack.python},
                "rejected": [x.line for x in r.rejected], "changes": list(r.changes), "check_errors": self.errors}


def decide(report: Report, check_code: int, want: str) -> Gate:
    resolution = resolve(report.facts, Wishes(vllm=want or None), _matrices())
    errors = report.counts()["error"]
    if check_code == EXIT_CANNOT_CHECK:
        code = EXIT_CANNOT_CHECK
    elif errors or not resolution.ok:
        code = EXIT_ERROR
    else:
        code = EXIT_OK
    return Gate(code, want, resolution, errors)


def _matrices():
    from envdoctor.compat.tables import Matrices

    return Matrices()
