"""Long work shows progress on a terminal's stderr (the areas still running and the time
left), and nothing of it in --json, --ci, or when stdout is not a terminal. --dry-run says
the commands each step would run."""
from __future__ import annotations

import io
import time

import pytest

from envdoctor.probes.engine import Probe, ProbeRun
from envdoctor.render.progress import StatusLine, check_line, wanted
from .test_apply import isolated, run, seed_facts  # noqa: F401 - isolated is a fixture
from .test_engine import _ctx


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_engine_names_the_probes_still_running_and_the_time_left():
    ticks = []
    probes = [Probe("slow", "torch runtime", lambda c, d: time.sleep(0.6), 3),
              Probe("fast", "Platform", lambda c, d: None, 2)]
    ProbeRun(_ctx(), probes, 5).wait(lambda running, left: ticks.append((tuple(running), left)))
    assert ticks and all("Platform" not in r for r, _l in ticks[-2:])
    assert any(r == ("torch runtime",) and 2.0 < left <= 3.0 for r, left in ticks)
    assert check_line(["torch runtime", "Network"], 3.2) == "envdoctor: checking torch runtime, Network · at most 3 s left"


def test_progress_only_when_stdout_and_stderr_are_terminals(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert wanted(stdout=Tty(), stderr=Tty())
    assert not wanted(stdout=io.StringIO(), stderr=Tty())
    assert not wanted(as_json=True, stdout=Tty(), stderr=Tty())
    assert not wanted(ci=True, stdout=Tty(), stderr=Tty())
    line, stream = StatusLine(Tty()), None
    stream = line.stream
    line.show("envdoctor: checking Network · at most 4 s left")
    line.clear()
    assert stream.getvalue() == "\renvdoctor: checking Network · at most 4 s left\x1b[K\r\x1b[K"


def test_a_piped_check_prints_no_progress(capsys):
    from envdoctor.cli import main

    with pytest.raises(SystemExit):
        main(["check", "--offline", "--only", "platform"])
    err = capsys.readouterr().err
    assert "\r" not in err and "checking" not in err


def test_dry_run_says_what_each_step_would_run(isolated, capsys):
    tmp = isolated
    code, out, _ = run(capsys, "fix", "--apply", "--dry-run", "--from-json", seed_facts(tmp), "--env",
                       str(tmp / "newenv"), "--cache-dir", str(tmp / "cache"))
    assert code == 0
    assert "$ " in out and "-m venv" in out and "into the wheelhouse" in out, out


def test_run_smoke_names_the_phase_under_way_and_its_seconds():
    from envdoctor.redact import Redactor
    from envdoctor.render.smoke_text import PhaseTicker, live_printer

    now = [100.0]
    stream = Tty()
    ticker = PhaseTicker(StatusLine(stream), clock=lambda: now[0])

    class Console:
        def print(self, text, **_kw):
            stream.write(text + "\n")

    on_event = live_printer(Console(), Redactor({}), ticker)
    ticker.begin = lambda: None  # no thread in a test: the lines are drawn by hand below
    on_event("phase", {"phase": "imported", "at": 18.3, "seconds": 18.3})
    now[0] += 42
    assert ticker.text() == "run-smoke: engine init… 42 s"
    ticker.line.show(ticker.text())
    on_event("phase", {"phase": "engine_ready", "at": 60.3, "seconds": 42.0})
    assert ticker.text() == "run-smoke: first token… 0 s"
    ticker.line.show(ticker.text())
    ticker.stop()
    out = stream.getvalue()
    # the status line is erased before each phase line is printed, and at the end
    assert "\r\x1b[K  [  60.30 s] engine init in 42.00 s\n" in out and out.endswith("\r\x1b[K")


def test_fix_apply_download_progress_goes_to_stderr_and_only_on_a_terminal(monkeypatch):
    from envdoctor.cli import fix as fixapply
    from envdoctor.render import progress

    monkeypatch.setattr(progress, "wanted", lambda *a, **k: False)
    assert fixapply._reporter(lambda text: None).progress is None
    monkeypatch.setattr(progress, "wanted", lambda *a, **k: True)
    reporter = fixapply._reporter(lambda text: None)
    try:
        assert reporter.progress is not None and reporter.progress.console.stderr
    finally:
        reporter.close()
