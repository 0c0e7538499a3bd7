"""`envdoctor check` as a function: probe, evaluate the rules, decide the exit code."""
from __future__ import annotations

import os
import traceback
from typing import Callable, Iterable, List, Optional, Sequence, Tuple

from envdoctor.core.areas import DEFAULT_DEADLINE, Area
from envdoctor.machine.context import Context
from envdoctor.core.exitcodes import EXIT_CANNOT_CHECK, EXIT_ERROR, EXIT_OK, EXIT_WARN
from envdoctor.probes.engine import Probe, ProbeRun, select
from envdoctor.core.results import Facts, Finding, Report
from envdoctor.probes import ALL_PROBES


def evaluate(facts: Facts, matrices, rules: Sequence) -> Tuple[List[Finding], List[str]]:
    """Findings, worst first; and a traceback for any rule that crashed (a bug of ours)."""
    found, crashes = [], []
    for r in rules:
        try:
            finding = r.evaluate(facts, matrices)
        except Exception:  # noqa: BLE001 - one broken rule must not hide the others
            crashes.append(f"rule {r.code} crashed:\n{traceback.format_exc()}")
            continue
        if finding is not None:
            found.append(finding)
    rank = {"error": 0, "warn": 1, "info": 2}
    return sorted(found, key=lambda f: rank[f.severity]), crashes


def run_check(ctx: Context, matrices=None, only: Iterable[str] = (), skip: Iterable[str] = (),
              deadline: float = DEFAULT_DEADLINE, probes: Sequence[Probe] = ALL_PROBES,
              on_tick: Optional[Callable[[List[str], float], None]] = None) -> Report:
    """Probe, then judge. `matrices` defaults to the shipped tables; `on_tick` hears which
    probes are still running (the CLI's progress line)."""
    start = ctx.clock()
    # an area some option asks for (the model: `check --model`) exists only when it is asked
    skip = tuple(skip) + tuple(a.value for a in Area if a.info.asked_by and not ctx.options.get(a.info.asked_by))
    chosen = select(probes, only, skip)
    running = ProbeRun(ctx, chosen, deadline)
    # While the probes' child processes run: import the rules (tables load as rules ask).
    from envdoctor.compat.tables import Matrices
    from envdoctor.rules import ALL_RULES

    matrices = matrices or Matrices()
    facts, deadline_hit = running.wait(on_tick)
    # Rules judge only areas asked for: --only driver must not report "no torch", and
    # --only network must not judge the Python env it read only to find pip.
    areas = set(only) or {p.area for p in chosen} - set(skip)  # pulled in as a need, --skip still holds
    rules = [r for r in ALL_RULES if r.area in areas or r.area == "envdoctor"]
    findings, crashes = evaluate(facts, matrices, rules)
    return Report(facts, tuple(findings), deadline_hit, round(ctx.clock() - start, 3), tuple(crashes))


def process_seconds() -> Optional[float]:
    """Seconds since this process started (the interpreter's start-up and imports included),
    from /proc; None where there is no /proc."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            started = int(fh.read().rsplit(")", 1)[1].split()[19])  # field 22: starttime, in clock ticks
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        return max(0.0, uptime - started / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


def exit_code(report: Report) -> int:
    if report.deadline_hit or report.internal_errors:
        return EXIT_CANNOT_CHECK
    worst = report.worst()
    return {"error": EXIT_ERROR, "warn": EXIT_WARN}.get(worst or "", EXIT_OK)
