"""Commands are copyable: never hard-wrapped, in check and in fix; prose wraps at a
terminal's width with its continuation lines indented; piped output is not wrapped."""
from __future__ import annotations

import io
import shlex

from envdoctor.compat.tables import Matrices
from envdoctor.render.wrap import prose_lines
from .conftest import machine_dir


def test_prose_wraps_indented_under_its_text():
    text = "    - " + "word " * 30
    lines = prose_lines(text.rstrip(), 40)
    assert len(lines) > 1 and all(len(line) <= 40 for line in lines)
    assert all(line.startswith(" " * 6) and not line.startswith(" " * 7) for line in lines[1:])
    assert prose_lines("short", 40) == ["short"] and prose_lines(text, None) == [text]


def _plan_text(width):
    from envdoctor.fix.run import gather, plan_for
    from envdoctor.redact import Redactor
    from envdoctor.render.plan_text import render
    from envdoctor.fix.resolve import Wishes

    import contextlib
    inputs = gather(None, machine_dir("wsl2-rtx3050-laptop"), None, 8.0)
    resolution, plan = plan_for(inputs, Wishes("0.5.3", None, None, None, None, None), Matrices(), None, None, None,
                                None, None)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        render(resolution, plan, Redactor({}), color=False, width=width)
    return out.getvalue(), plan


def test_fix_plan_commands_stay_on_one_line_at_60_columns():
    text, plan = _plan_text(60)
    lines = text.splitlines()
    commands = [shlex.join(argv) for step in plan.steps for argv in step.commands]
    assert any(len(c) > 60 for c in commands)
    for command in commands:
        assert any(line.strip() == f"$ {command}" for line in lines), command
    pip_lines = [line for line in lines if "-m pip install --upgrade --timeout" in line]
    assert pip_lines and all("'pip>=25.3'" in line for line in pip_lines)  # not cut before its last word
    prose = [line for line in lines if line and not line.lstrip().startswith(("$ ", "instead:"))]
    assert max(len(line) for line in prose) <= 60
    assert not any(line.startswith(("60 ", "'pip")) for line in lines)  # no continuation at column 0


def test_check_on_a_60_column_terminal_wraps_prose_not_commands(monkeypatch):
    import re

    from envdoctor.check.run import exit_code, run_check
    from envdoctor.redact import Redactor
    from envdoctor.render.human import render
    from envdoctor.machine.replay import replay_context

    monkeypatch.setenv("COLUMNS", "60")
    report = run_check(replay_context(machine_dir("wsl2-rtx3050-laptop")), Matrices())
    out = io.StringIO()
    render(report, exit_code(report), Redactor({}), color=True, file=out)
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in out.getvalue().splitlines()]
    fixes = [c for f in report.findings for c in f.fix]
    assert any(len(c) > 60 for c in fixes)
    for command in fixes:
        assert any(line.strip() == f"$ {command}" for line in lines), command
    whys = [line for line in lines if line.startswith("    why:")]
    assert whys and all(len(line) <= 60 for line in whys)
    assert any(line.startswith(" " * 10) and not line.lstrip().startswith("$") for line in lines)  # indented
