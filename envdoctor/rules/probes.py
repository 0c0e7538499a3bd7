"""When a probe itself fails, say which, why, and how to look by hand."""
from __future__ import annotations

from typing import Optional

from envdoctor.compat.tables import Matrices
from envdoctor.core.results import Facts
from envdoctor.rules.base import Advice, rule

HANDLED_ELSEWHERE = {"driver"}  # nvidia-driver-unreadable explains the driver's failures


@rule("probe-failed", "envdoctor", "A probe could not read its facts (timed out, crashed or read garbage)")
def probe_failed(facts: Facts, _m: Matrices) -> Optional[Advice]:
    failed = [r for a, r in facts.results.items()
              if r.status in ("error", "timeout", "crashed") and a not in HANDLED_ELSEWHERE]
    if not failed:
        return None
    return Advice(
        "warn", "Could not check: " + ", ".join(r.area for r in failed),
        evidence=tuple(f"{r.area}: {r.status}: {r.error}" for r in failed),
        why="Findings that need these facts were skipped, so this report may miss problems.",
        notes=("Run with --debug for details, or --deadline 30 on a slow machine.",),
    )
