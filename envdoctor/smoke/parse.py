"""Read a smoke child's output: envdoctor's phase markers and vLLM's own log lines.

vLLM's start-up log says what memory profiling found; these lines are matched loosely
because their wording moved between releases ("# GPU blocks: N" in 0.5, "GPU KV cache
size: N tokens" in V1).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from envdoctor.messages import Msg

MARKER = "@@envdoctor "

# The phase the child is in after each marker: what a stall there means.
NEXT_PHASE = {
    None: Msg("smoke.phase.interpreter"),
    "start": Msg("smoke.phase.import"),
    "imported": Msg("smoke.phase.engine-init"),
    "engine_ready": Msg("smoke.phase.first-token"),
    "first_token": Msg("smoke.phase.generation"),
    "generated": Msg("smoke.phase.shutdown"),
}

VLLM_PATTERNS = (
    ("kv_cache_gib", re.compile(r"Available KV cache memory: ([\d.]+) ?GiB"), float),
    ("kv_cache_tokens", re.compile(r"GPU KV cache size: ([\d,]+) tokens"), lambda s: int(s.replace(",", ""))),
    ("gpu_blocks", re.compile(r"# GPU blocks: (\d+)"), int),
    ("weights_gib", re.compile(r"(?:Model loading|Loading (?:model )?weights) took ([\d.]+) ?(?:GiB|GB)"), float),
    ("max_concurrency", re.compile(r"Maximum concurrency for [\d,]+ tokens per request: ([\d.]+)x"), float),
    ("attention_backend", re.compile(r"Using (\w+?)(?:_VLLM_V1)? (?:attention )?backend"), str),
)


@dataclass
class ChildOutput:
    markers: Dict[str, dict] = field(default_factory=dict)  # phase -> marker data (with "at")
    vllm: Dict[str, object] = field(default_factory=dict)
    log: List[str] = field(default_factory=list)  # everything but our markers

    @property
    def last_phase(self) -> Optional[str]:
        done = [p for p in NEXT_PHASE if p in self.markers]
        return done[-1] if done else None

    def phase_running(self) -> str:
        return NEXT_PHASE.get(self.last_phase, Msg("smoke.phase.unknown"))


def parse_lines(lines: Sequence[Tuple[float, str]]) -> ChildOutput:
    out = ChildOutput()
    for at, text in lines:
        if text.startswith(MARKER):
            try:
                data = json.loads(text[len(MARKER):])
            except ValueError:
                out.log.append(text)
                continue
            if isinstance(data, dict) and "phase" in data:
                data["at"] = at
                out.markers[data["phase"]] = data
                continue
        out.log.append(text)
        for key, pattern, convert in VLLM_PATTERNS:
            m = pattern.search(text)
            if m and key not in out.vllm:
                out.vllm[key] = convert(m.group(1))
    return out


def phases(out: ChildOutput) -> Dict[str, float]:
    """Seconds per phase, from the child's own clocks (and the spawn time for start-up)."""
    m = out.markers
    result: Dict[str, float] = {}
    if "start" in m:
        result["interpreter start"] = m["start"]["at"]
    for phase, name in (("imported", "import vllm"), ("engine_ready", "engine init"),
                        ("first_token", "first token"), ("generated", "generation")):
        if phase in m:
            result[name] = m[phase]["seconds"]
    return result
