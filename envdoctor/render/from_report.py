"""What `check --from-report` adds to the usual check output: the report's own facts that
no probe has a slot for (cuDNN, vLLM build flags, GPU topology, environment variables), and
what the report leaves unknown, with the command that would tell."""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, List

from envdoctor.report.collect_env import ParsedReport


def title(parsed: ParsedReport) -> str:
    r = parsed.report
    if r.layout == "log":
        return f"envdoctor: read from {parsed.source} as a log (it holds no collect_env report); no probe ran"
    return f"envdoctor: read from {parsed.source} ({r.tool} report, {r.layout} layout); no probe ran"


def footer(parsed: ParsedReport, verbose: bool = False) -> List[str]:
    r = parsed.report
    blocks = []
    said = []
    if r.vllm_version:
        said.append(f"vLLM version: {r.vllm_version}")
    if r.vllm_build_flags:
        said.append(f"vLLM build flags: {r.vllm_build_flags}")
    if r.cudnn:
        said.append("cuDNN: " + ", ".join(r.cudnn))
    if r.gpu_topology:
        said.append("GPU topology:\n" + "\n".join("      " + row.strip() for row in r.gpu_topology))
    if r.env_vars:
        said.append("environment: " + " ".join(f"{k}={v}" for k, v in r.env_vars.items()))
    if verbose and r.packages:
        said.append("packages: " + ", ".join(r.packages))
    if said:
        blocks.append("Also in the report:\n" + "\n".join(f"    {s}" for s in said))
    if r.unknown:
        blocks.append("Not in the report (unknown, not guessed):\n" + "\n".join(f"    - {u}" for u in r.unknown))
    if r.skipped_rules:
        blocks.append("Not judged, their facts are unknown: " + ", ".join(r.skipped_rules))
    return blocks


def document(parsed: ParsedReport) -> Dict[str, Any]:
    doc = dataclasses.asdict(parsed.report)
    doc["source"] = parsed.source
    return doc
