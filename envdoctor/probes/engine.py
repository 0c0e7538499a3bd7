"""Run probes concurrently, each under its own timeout, all under one global deadline.

Results come back in the probes' fixed order whatever order they finished in. A probe
that raises becomes a `crashed` result, one that overruns becomes `timeout`; its thread
is a daemon and is abandoned, never waited for. A probe may need others (the torch
runtime probe needs the Python environment): it starts as soon as those are final.
"""
from __future__ import annotations

import functools
import threading
import traceback
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from envdoctor.core.results import Facts, ProbeResult
from envdoctor.machine.context import Context
from envdoctor.machine.watchdog import Task
from envdoctor.messages import Msg


class ProbeAbsent(Exception):
    """Nothing to probe here (no GPU, no toolkit): a normal answer, not a failure."""


class ProbeFailed(Exception):
    """The probe could not read its facts; the message says why in one line, `reason` (an enum of
    core/reasons.py) says it to the rules."""

    def __init__(self, message: str, reason: Optional[Enum] = None) -> None:
        super().__init__(message)
        self.reason = reason


class ProbeTimeout(ProbeFailed):
    """A tool the probe depends on gave no answer in time (it was killed)."""


class ProbeOutOfTime(ProbeTimeout):
    """The global deadline left no time to start this probe: the check is cut short (exit 3)."""


def _reason(exc: Exception) -> Optional[str]:
    """The exception's one line, kept a Msg when it is one (a renderer words it)."""
    first = exc.args[0] if len(exc.args) == 1 else None
    return first if isinstance(first, Msg) else (str(exc) or None)


class ProbeSkipped(Exception):
    """Not applicable on this machine or not asked for (WSL checks outside WSL, --quick)."""


def require_linux(ctx: Context) -> None:
    """Probes of a Linux userland skip elsewhere: vLLM runs on Linux (or WSL 2) only."""
    if ctx.host.system != "Linux":
        raise ProbeSkipped(Msg("probe.not-linux", system=ctx.host.system))


@dataclass(frozen=True)
class Probe:
    area: str
    title: str  # shown in the summary: "NVIDIA driver"
    run: Callable[[Context, Facts], Any]  # returns the area's facts or raises one of the above
    timeout: float
    needs: Tuple[str, ...] = ()


def select(probes: Sequence[Probe], only: Iterable[str] = (), skip: Iterable[str] = ()) -> List[Probe]:
    """The probes to run, in fixed order; --only pulls in what the chosen ones need."""
    only, skip = set(only), set(skip)
    by_area = {p.area: p for p in probes}
    wanted = {p.area for p in probes if (not only or p.area in only) and p.area not in skip}
    pending = list(wanted)
    while pending:
        for need in by_area[pending.pop()].needs:
            if need not in wanted:
                wanted.add(need)
                pending.append(need)
    return [p for p in probes if p.area in wanted]


class _Run:
    def __init__(self, probe: Probe) -> None:
        self.probe = probe
        self.started_at: Optional[float] = None
        self.result: Optional[ProbeResult] = None
        self.final = threading.Event()


class ProbeRun:
    """Probes already running in their threads; `wait()` collects them. Starting and
    collecting are apart so the caller can do its own work (imports, loading the
    matrices) while child processes run."""

    def __init__(self, ctx: Context, probes: Sequence[Probe], deadline: float) -> None:
        self.ctx = ctx.with_deadline(deadline)
        assert self.ctx.deadline is not None  # with_deadline sets it
        self.end: float = self.ctx.deadline  # the absolute clock() time of the global deadline
        self.deadline = deadline
        self.probes = list(probes)
        self.runs: Dict[str, _Run] = {p.area: _Run(p) for p in probes}
        self.changed = threading.Condition()
        self.out_of_time = False  # a probe found no time left in the global deadline
        for run in self.runs.values():
            Task(functools.partial(self._body, run), name=f"envdoctor-probe-{run.probe.area}")

    def _body(self, run: _Run) -> None:
        ctx = self.ctx
        for need in run.probe.needs:
            if need in self.runs:
                self.runs[need].final.wait(max(0.0, ctx.remaining()))
        deps = Facts({a: r.result for a, r in self.runs.items() if r.result is not None and r.final.is_set()})
        with self.changed:
            run.started_at = ctx.clock()
            self.changed.notify_all()
        try:
            result = ProbeResult(run.probe.area, "ok", facts=run.probe.run(ctx, deps))
        except ProbeAbsent as exc:
            result = ProbeResult(run.probe.area, "absent", error=_reason(exc))
        except ProbeSkipped as exc:
            result = ProbeResult(run.probe.area, "skipped", error=_reason(exc))
        except ProbeTimeout as exc:
            self.out_of_time = self.out_of_time or isinstance(exc, ProbeOutOfTime)
            result = ProbeResult(run.probe.area, "timeout", error=_reason(exc) or "")
        except ProbeFailed as exc:
            result = ProbeResult(run.probe.area, "error", error=_reason(exc) or "",
                                 reason=exc.reason.value if exc.reason is not None else None)
        except Exception as exc:  # noqa: BLE001 - a crash is a result, never a traceback
            result = ProbeResult(run.probe.area, "crashed", error=f"{type(exc).__name__}: {exc}",
                                 trace=traceback.format_exc())
        with self.changed:
            if not run.final.is_set():  # else it already timed out; a late answer is dropped
                seconds = round(max(0.0, ctx.clock() - run.started_at), 3)
                run.result = ProbeResult(result.area, result.status, seconds, result.facts,
                                         result.error, result.trace, result.reason)
                run.final.set()
            self.changed.notify_all()

    def _stop(self, run: _Run, now: float, error: str) -> None:
        run.result = ProbeResult(run.probe.area, "timeout", round(now - (run.started_at or now), 3), error=error)
        run.final.set()

    def wait(self, on_tick: Optional[Callable[[List[str], float], None]] = None) -> Tuple[Facts, bool]:
        """Every probe's result in fixed order, and whether the global deadline cut any short.
        `on_tick(areas still running, seconds they may still take)` is called as they finish."""
        ctx, deadline_hit = self.ctx, False
        with self.changed:
            while True:
                now = ctx.clock()
                open_runs = [r for r in self.runs.values() if not r.final.is_set()]
                if not open_runs:
                    break
                if on_tick is not None:
                    ends = [min(self.end, r.started_at + r.probe.timeout) if r.started_at is not None
                            else self.end for r in open_runs]
                    on_tick([r.probe.title for r in open_runs], max(ends) - now)
                if now >= self.end:
                    deadline_hit = True
                    for r in open_runs:
                        self._stop(r, now, f"stopped at the global deadline of {self.deadline:g} s")
                    break
                next_wake = self.end
                for r in open_runs:
                    if r.started_at is None:
                        continue
                    run_end = r.started_at + r.probe.timeout
                    if now >= run_end:
                        self._stop(r, now, f"no answer in {r.probe.timeout:g} s")
                    else:
                        next_wake = min(next_wake, run_end)
                self.changed.notify_all()
                self.changed.wait(max(0.001, min(next_wake - now, 0.25)))
        results: Dict[str, ProbeResult] = {}
        for p in self.probes:
            result = self.runs[p.area].result
            assert result is not None  # every run is final here: answered or stopped
            results[p.area] = result
        return Facts(results), deadline_hit or self.out_of_time

