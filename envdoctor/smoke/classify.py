"""Why a smoke run failed, as findings: a stall or a timeout (with the phase it happened
in), else what the child's error and vLLM's log say."""
from __future__ import annotations

from typing import Sequence, Tuple

from ..model import Finding
from .parse import ChildOutput

PHASE_HINTS = {
    "import vllm": "Importing vLLM reads thousands of files: from a Windows drive (/mnt/c) under WSL 2 this "
                   "takes minutes. Keep the environment on the Linux file system (~/).",
    "engine init (weights, memory profiling, KV cache)": "Engine start-up loads (or downloads) the weights, "
                   "compiles kernels and profiles memory; a download that stopped moving is a network stall.",
}


def _tail(out: ChildOutput, n: int = 6) -> Tuple[str, ...]:
    lines = [t for t in out.log if t.strip()]
    return tuple(lines[-n:])


def classify(status: str, out: ChildOutput, stream, opts, log_path: str,
             check_findings: Sequence[Finding]) -> Tuple[Finding, ...]:
    phase = out.phase_running()
    if status in ("stall", "timeout"):
        limit = opts.stall if status == "stall" else opts.timeout
        what = "made no progress (no output, no GPU memory change)" if status == "stall" else "did not finish"
        code = "smoke-stalled" if status == "stall" else "smoke-timed-out"
        return (Finding(code, "error", "smoke", f"The generation {what} for {limit:g} s during {phase}",
                        evidence=_tail(out) + (f"full log: {log_path}",),
                        why="The child was killed with its whole process group; nothing of it holds GPU memory.",
                        notes=tuple(n for n in (PHASE_HINTS.get(phase),
                                                f"`envdoctor explain {log_path}` reads the log again.") if n)),)
    error = out.markers.get("error")
    message = f"{error['type']}: {error['message']}" if error else (
        f"the child exited with code {stream.returncode} without a result")
    return (Finding("smoke-failed", "error", "smoke", f"vLLM failed during {phase}",
                    evidence=(message.splitlines()[0][:500],) + _tail(out) + (f"full log: {log_path}",),
                    why="The generation did not complete; the first lines of the error say why.",
                    notes=(f"`envdoctor explain {log_path}` explains the log.",)),) + tuple(
        f for f in check_findings if f.severity == "error")
