"""Why a smoke run failed, as findings. A stall or a timeout is named with the phase it
happened in (a model download that stopped moving is a network stall); an error is read
by the same signatures as `envdoctor explain`, so both speak in the same finding codes."""
from __future__ import annotations

import re
from typing import List, Optional, Sequence, Tuple

from envdoctor.core.codes import Command, register, reuse
from envdoctor.core.results import Finding
from envdoctor.messages import Msg
from envdoctor.smoke.parse import ChildOutput

SMOKE_STALLED = register("smoke-stalled", "smoke", Command.SMOKE,
                         "The generation made no progress (no output, no GPU memory change) and was killed")
SMOKE_TIMED_OUT = register("smoke-timed-out", "smoke", Command.SMOKE,
                           "The generation did not finish within run-smoke's --timeout and was killed")
SMOKE_FAILED = register("smoke-failed", "smoke", Command.SMOKE,
                        "vLLM failed and no known error signature matched: the log's last lines say why")
DOWNLOAD_STALLED = reuse("download-stalled", Command.SMOKE)  # check's network rule and explain's signatures
PHASE_HINTS = {
    "import vllm": Msg("smoke.hint.import"),
    "engine init (weights, memory profiling, KV cache)": Msg("smoke.hint.engine-init"),
}
# huggingface_hub / tqdm progress: "model.safetensors:  42%|████▏ | 1.30G/3.09G [00:41<00:57, 31.2MB/s]"
DOWNLOAD = re.compile(r"(\S+):\s+(\d+)%\|.*?\|\s*([\d.]+[kMG]?B?)/([\d.]+[kMG]?B?)")


def _tail(out: ChildOutput, n: int = 6) -> Tuple[str, ...]:
    lines = [t for t in out.log if t.strip()]
    return tuple(lines[-n:])


def _stalled_download(out: ChildOutput, limit: float, log_path: str):
    progress = [m for m in (DOWNLOAD.search(t) for t in out.log) if m]
    if not progress:
        return None
    last = progress[-1]
    return Finding(
        DOWNLOAD_STALLED, "error", "network",
        Msg("smoke.download-stalled.title", file=last.group(1), percent=last.group(2), done=last.group(3),
            size=last.group(4)),
        evidence=(last.group(0), Msg("smoke.evidence.no-output", seconds=f"{limit:g}"),
                  Msg("smoke.evidence.log", path=log_path)),
        why=Msg("smoke.download-stalled.why"),
        fix=("huggingface-cli download MODEL --resume-download",),
        notes=(Msg("smoke.download-stalled.note"),))


def _explained(log_path: str, vllm: Optional[str]) -> Tuple[List[Finding], Tuple[str, ...], Optional[str]]:
    """The causes explain's exact signatures find in the log, the most error-like lines, and
    the class explain's evidence layer infers when no signature matched."""
    from envdoctor.explain import LogInputError, explain_log

    try:
        explanation = explain_log(log_path, vllm=vllm)
    except (LogInputError, OSError):
        return [], (), None
    causes = [d for d in explanation.diagnoses if d.role == "cause"]
    inferred = next((d.finding.title for d in causes if d.confidence == "inferred"), None)
    return ([d.finding for d in causes if d.confidence == "signature"],
            tuple(line.text for line in explanation.error_lines), inferred)


def classify(status: str, out: ChildOutput, stream, opts, log_path: str,
             check_findings: Sequence[Finding]) -> Tuple[Finding, ...]:
    phase = out.phase_running()
    if status in ("stall", "timeout"):
        limit = opts.stall if status == "stall" else opts.timeout
        download = _stalled_download(out, limit, log_path) if status == "stall" else None
        code = SMOKE_STALLED if status == "stall" else SMOKE_TIMED_OUT
        return tuple(f for f in (download, Finding(
            code, "error", "smoke", Msg(f"{code}.title", seconds=f"{limit:g}", phase=phase),
            evidence=_tail(out) + (Msg("smoke.evidence.log", path=log_path),),
            why=Msg("smoke.why.killed"),
            notes=tuple(n for n in (PHASE_HINTS.get(phase), Msg("smoke.note.explain-again", path=log_path))
                        if n))) if f is not None)
    causes, error_lines, inferred = _explained(log_path, out.markers.get("imported", {}).get("vllm"))
    if causes:
        return tuple(causes)
    error = out.markers.get("error")
    message = f"{error['type']}: {error['message']}" if error else (
        Msg("smoke-failed.evidence.no-result", code=stream.returncode))
    quoted = tuple(t for t in error_lines if "@@envdoctor" not in t)[-6:] or _tail(out)
    first = message if isinstance(message, Msg) else message.splitlines()[0][:500]
    return (Finding(SMOKE_FAILED, "error", "smoke", Msg("smoke-failed.title", phase=phase),
                    evidence=(first,) + quoted + (Msg("smoke.evidence.log", path=log_path),),
                    why=Msg("smoke-failed.why"),
                    notes=((Msg("smoke-failed.note.inferred", reading=inferred),) if inferred else ())
                    + (Msg("smoke-failed.note.explain", path=log_path),)),) + tuple(
        f for f in check_findings if f.severity == "error")
