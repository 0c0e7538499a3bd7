"""The probe engine: concurrency, fixed order, per-probe timeouts, the global deadline,
crashes as results, and needs between probes."""
from __future__ import annotations

import threading
import time

from envdoctor.check.run import evaluate, exit_code, run_check
from envdoctor.compat.tables import Matrices
from envdoctor.core.results import Facts, Report
from envdoctor.machine.replay import replay_context
from envdoctor.probes.engine import Probe, ProbeFailed, ProbeRun, ProbeSkipped, select
from envdoctor.rules import ALL_RULES

from .conftest import machine_dir


def _ctx():
    ctx = replay_context(machine_dir("cpu-only"))
    import dataclasses
    return dataclasses.replace(ctx, clock=time.monotonic)


def test_results_come_in_fixed_order_whatever_finishes_first():
    probes = [Probe("slow", "Slow", lambda c, d: time.sleep(0.2) or "slow", 2),
              Probe("fast", "Fast", lambda c, d: "fast", 2)]
    facts, hit = ProbeRun(_ctx(), probes, 5).wait()
    assert list(facts.results) == ["slow", "fast"] and not hit
    assert facts.get("slow") == "slow" and facts.get("fast") == "fast"


def test_probes_run_concurrently():
    probes = [Probe(f"p{i}", "P", lambda c, d: time.sleep(0.3), 2) for i in range(5)]
    start = time.monotonic()
    ProbeRun(_ctx(), probes, 5).wait()
    assert time.monotonic() - start < 1.0


def test_a_hanging_probe_times_out_and_is_abandoned():
    block = threading.Event()
    probes = [Probe("stuck", "Stuck", lambda c, d: block.wait(30), 0.3), Probe("ok", "Ok", lambda c, d: 1, 2)]
    start = time.monotonic()
    facts, hit = ProbeRun(_ctx(), probes, 5).wait()
    took = time.monotonic() - start
    block.set()
    assert facts.status("stuck") == "timeout" and "0.3" in facts.results["stuck"].error
    assert facts.status("ok") == "ok" and not hit and took < 1.0


def test_global_deadline_stops_everything_and_is_reported():
    block = threading.Event()
    probes = [Probe("a", "A", lambda c, d: block.wait(30), 10), Probe("b", "B", lambda c, d: block.wait(30), 10)]
    start = time.monotonic()
    facts, hit = ProbeRun(_ctx(), probes, 0.4).wait()
    block.set()
    assert hit and time.monotonic() - start < 1.0
    assert {r.status for r in facts.results.values()} == {"timeout"}
    assert "global deadline" in facts.results["a"].error
    report = Report(facts, (), deadline_hit=hit)
    assert exit_code(report) == 3


def test_a_crash_is_a_result_with_its_traceback():
    def boom(c, d):
        raise KeyError("unexpected")
    facts, _ = ProbeRun(_ctx(), [Probe("x", "X", boom, 2)], 5).wait()
    result = facts.results["x"]
    assert result.status == "crashed" and result.error == "KeyError: 'unexpected'"
    assert "Traceback" in result.trace


def test_failed_and_skipped_probes_keep_their_reason():
    def failed(c, d):
        raise ProbeFailed("nvidia-smi printed garbage")

    def skipped(c, d):
        raise ProbeSkipped("not WSL")
    facts, _ = ProbeRun(_ctx(), [Probe("f", "F", failed, 2), Probe("s", "S", skipped, 2)], 5).wait()
    assert (facts.status("f"), facts.results["f"].error) == ("error", "nvidia-smi printed garbage")
    assert (facts.status("s"), facts.results["s"].error) == ("skipped", "not WSL")


def test_a_probe_sees_what_it_needs():
    seen = {}
    probes = [Probe("child", "C", lambda c, d: seen.setdefault("dep", d.get("base")), 2, needs=("base",)),
              Probe("base", "B", lambda c, d: time.sleep(0.1) or "base facts", 2)]
    facts, _ = ProbeRun(_ctx(), probes, 5).wait()
    assert seen["dep"] == "base facts" and facts.get("child") == "base facts"


def test_select_pulls_in_needs_and_honours_skip():
    probes = [Probe("platform", "P", None, 1), Probe("python", "Py", None, 1),
              Probe("torch", "T", None, 1, needs=("python",))]
    assert [p.area for p in select(probes, only=["torch"])] == ["python", "torch"]
    assert [p.area for p in select(probes, skip=["torch"])] == ["platform", "python"]


def test_probe_failure_becomes_a_probe_failed_finding():
    facts, _ = ProbeRun(
        _ctx(), [Probe("python", "Python", lambda c, d: (_ for _ in ()).throw(ProbeFailed("no")), 2)], 5
    ).wait()
    findings, crashes = evaluate(facts, Matrices(), ALL_RULES)
    codes = [f.code for f in findings]
    assert codes == ["probe-failed"] and not crashes
    assert findings[0].evidence == ("python: error: no",)


def test_a_crashing_rule_is_reported_not_raised(monkeypatch):
    from envdoctor.rules.base import Rule

    def broken(facts, m):
        raise ZeroDivisionError("bug")
    findings, crashes = evaluate(Facts(), Matrices(), [Rule("x", "envdoctor", "x", broken)] + list(ALL_RULES))
    assert len(crashes) == 1 and "ZeroDivisionError" in crashes[0]
    report = Report(Facts(), tuple(findings), internal_errors=tuple(crashes))
    assert exit_code(report) == 3


def test_only_areas_probed_are_judged():
    report = run_check(replay_context(machine_dir("driver-470-torch-cu121")), Matrices(), only=["driver"])
    assert set(report.facts.results) == {"driver"}
    codes = {f.code for f in report.findings}
    assert "gpu-compute-capability-too-low" in codes
    assert not codes & {"installing-into-system-python", "torch-cuda-init-failed", "cuda-toolkit-not-needed"}
