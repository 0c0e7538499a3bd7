"""The pre-install gate (check/gate.py) in words for `check --want`, and as the "want" part of
check's JSON document."""
from __future__ import annotations

from typing import Any, Dict, List

from envdoctor.check.gate import Gate


def lines(gate: Gate) -> List[str]:
    r = gate.resolution
    head = f"want vllm{gate.want}: "
    if r.stack is not None:
        s = r.stack
        out = [head + f"plan found: vllm {s.vllm.version} + torch {s.torch.version} ({s.cuda_tag}) on Python {s.python}"
               " (envdoctor fix --plan)"]
    else:
        out = [head + "no working plan on this machine"] + [f"  {x.line}" for x in r.rejected[:5]]
        out += [f"  to change: {c}" for c in r.changes]
    if gate.errors:
        out.append(f"gate closed: check found {gate.errors} error(s)")
    out.append("gate: " + ("open (exit 0)" if gate.open else f"closed (exit {gate.code})"))
    return out


def document(gate: Gate) -> Dict[str, Any]:
    r = gate.resolution
    return {"want": f"vllm{gate.want}", "ok": gate.open, "plan_found": r.ok,
            "stack": None if r.stack is None else {"vllm": r.stack.vllm.version, "torch": r.stack.torch.version,
                                                   "cuda_tag": r.stack.cuda_tag, "python": r.stack.python},
            "rejected": [x.line for x in r.rejected], "changes": list(r.changes), "check_errors": gate.errors}
