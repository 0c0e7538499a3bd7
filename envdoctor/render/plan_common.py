"""Small pieces every plan renderer shares: the rejected releases grouped, sizes, one-line summaries."""
from __future__ import annotations

from typing import List

from envdoctor.fix.resolve import Resolution, Stack


def grouped_rejections(resolution: Resolution) -> List[str]:
    """Runs of releases rejected for the same reasons become one line: "vllm 0.27.0–0.32.0 (6 releases) ..."."""
    lines: List[str] = []
    run: List[str] = []
    reason = None
    for r in list(resolution.rejected) + [None]:
        text = "; ".join(b.text for b in r.blockers) if r is not None else None
        if run and text != reason:
            span = run[0] if len(run) == 1 else f"{run[-1]}–{run[0]} ({len(run)} releases)"
            lines.append(f"vllm {span} {reason}")
            run = []
        if r is not None:
            run.append(r.vllm)
            reason = text
    return lines


def summary(stack: Stack) -> str:
    return (f"vllm {stack.vllm.version} + torch {stack.torch.version} ({stack.cuda_tag}) on Python {stack.python}"
            + (f" with {', '.join(c.pin for c in stack.companions)}" if stack.companions else ""))


def target_line(resolution: Resolution) -> str:
    t = resolution.target
    gpus = ", ".join(f"{g.name} (compute capability {g.cc or '?'})" for g in t.gpus) if t.gpus else (
        "no NVIDIA GPU" if t.gpus == () else "GPU not known")
    os_name = {"wsl2": "WSL 2", "wsl1": "WSL 1", "linux": "Linux", "windows": "Windows",
               "macos": "macOS"}.get(t.os, t.os)
    driver = f"driver {t.driver} (CUDA <= {t.driver_cuda or '?'})" if t.driver else "driver not known"
    return f"{os_name} {t.machine}, {gpus}, {driver}, Python {t.python or '?'}" + (
        f" [planned for: {', '.join(t.overridden)} given]" if t.overridden else "")
