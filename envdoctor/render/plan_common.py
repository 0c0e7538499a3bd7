"""Small pieces every plan renderer shares: the rejected releases grouped, sizes, one-line summaries."""
from __future__ import annotations

from typing import List

from envdoctor.fix.resolve import Resolution, Stack
from envdoctor.messages import say, t


def grouped_rejections(resolution: Resolution) -> List[str]:
    """Runs of releases rejected for the same reasons become one line: "vllm 0.27.0–0.32.0 (6 releases) ..."."""
    lines: List[str] = []
    run: List[str] = []
    reason = None
    for r in list(resolution.rejected) + [None]:
        text = t("sep.list").join(say(b.text) for b in r.blockers) if r is not None else None
        if run and text != reason:
            span = run[0] if len(run) == 1 else t("plan.release-span", first=run[-1], last=run[0], count=len(run))
            lines.append(f"vllm {span} {reason}")
            run = []
        if r is not None:
            run.append(r.vllm)
            reason = text
    return lines


def summary(stack: Stack) -> str:
    return t("plan.summary", vllm=stack.vllm.version, torch=stack.torch.version, tag=stack.cuda_tag,
             python=stack.python) + (t("plan.summary.with", pins=", ".join(c.pin for c in stack.companions))
                                     if stack.companions else "")


def target_line(resolution: Resolution) -> str:
    target = resolution.target
    gpus = (
        t("sep.items").join(t("plan.target.gpu", name=g.name, cc=g.cc or "?") for g in target.gpus)
        if target.gpus
        else (t("plan.target.no-gpu") if target.gpus == () else t("plan.target.gpu-unknown"))
    )
    os_name = {"wsl2": "WSL 2", "wsl1": "WSL 1", "linux": "Linux", "windows": "Windows", "macos": "macOS"}.get(
        target.os, target.os
    )
    driver = t("plan.target.driver", driver=target.driver, cuda=target.driver_cuda or "?") if target.driver else \
        t("plan.target.driver-unknown")
    return t(
        "plan.target", os=os_name, machine=target.machine, gpus=gpus, driver=driver, python=target.python or "?"
    ) + (t("plan.target.overridden", given=", ".join(target.overridden)) if target.overridden else "")
