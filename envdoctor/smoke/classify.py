"""Why a smoke run failed, as findings. A stall or a timeout is named with the phase it
happened in (a model download that stopped moving is a network stall); an error is read
by the same signatures as `envdoctor explain`, so both speak in the same finding codes."""
from __future__ import annotations

import re
from typing import List, Optional, Sequence, Tuple

from envdoctor.core.codes import Command, register, reuse
from envdoctor.core.results import Finding
from envdoctor.smoke.parse import ChildOutput

SMOKE_STALLED = register("smoke-stalled", "smoke", Command.SMOKE,
                         "The generation made no progress (no output, no GPU memory change) and was killed")
SMOKE_TIMED_OUT = register("smoke-timed-out", "smoke", Command.SMOKE,
                           "The generation did not finish within run-smoke's --timeout and was killed")
SMOKE_FAILED = register("smoke-failed", "smoke", Command.SMOKE,
                        "vLLM failed and no known error signature matched: the log's last lines say why")
DOWNLOAD_STALLED = reuse("download-stalled", Command.SMOKE)  # check's network rule and explain's signatures
PHASE_HINTS = {
    "import vllm": "Importing vLLM reads thousands of files: from a Windows drive (/mnt/c) under WSL 2 this "
                   "takes minutes. Keep the environment on the Linux file system (~/).",
    "engine init (weights, memory profiling, KV cache)": "Engine start-up loads (or downloads) the weights, "
                   "compiles kernels and profiles memory.",
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
        f"The download of {last.group(1)} stopped at {last.group(2)} % ({last.group(3)} of {last.group(4)})",
        evidence=(last.group(0), f"no byte and no output for {limit:g} s", f"full log: {log_path}"),
        why="The model download from the Hugging Face hub stopped moving: a network stall, not a problem "
            "of this environment. Without a watchdog it would wait for hours.",
        fix=("huggingface-cli download MODEL --resume-download",),
        notes=("Download the model first (it resumes where it stopped), then run-smoke with --model on the "
               "local folder; or set HF_ENDPOINT to a nearer mirror. `envdoctor check --only network` "
               "measures the hub.",))


def _explained(log_path: str, vllm: str) -> Tuple[List[Finding], Tuple[str, ...], Optional[str]]:
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
        what = "made no progress (no output, no GPU memory change)" if status == "stall" else "did not finish"
        code = SMOKE_STALLED if status == "stall" else SMOKE_TIMED_OUT
        return tuple(f for f in (download, Finding(
            code, "error", "smoke", f"The generation {what} for {limit:g} s during {phase}",
            evidence=_tail(out) + (f"full log: {log_path}",),
            why="The child was killed with its whole process group; nothing of it holds GPU memory.",
            notes=tuple(n for n in (PHASE_HINTS.get(phase), f"`envdoctor explain {log_path}` reads the log again.")
                        if n))) if f is not None)
    causes, error_lines, inferred = _explained(log_path, out.markers.get("imported", {}).get("vllm"))
    if causes:
        return tuple(causes)
    error = out.markers.get("error")
    message = f"{error['type']}: {error['message']}" if error else (
        f"the child exited with code {stream.returncode} without a result")
    quoted = tuple(t for t in error_lines if "@@envdoctor" not in t)[-6:] or _tail(out)
    return (Finding(SMOKE_FAILED, "error", "smoke", f"vLLM failed during {phase}",
                    evidence=(message.splitlines()[0][:500],) + quoted + (f"full log: {log_path}",),
                    why="The generation did not complete and no known error signature matched; the last lines "
                        "of the log say why.",
                    notes=((f"{inferred} (explain's reading, lower confidence).",) if inferred else ())
                    + (f"`envdoctor explain {log_path}` shows the most error-like lines.",)),) + tuple(
        f for f in check_findings if f.severity == "error")
