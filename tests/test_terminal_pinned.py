"""The suite's CLI text does not depend on the terminal that runs it: tests/conftest.py pins
NO_COLOR and COLUMNS for every test, and a run under a hostile terminal sees the same."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from envdoctor.cli import main

from .conftest import TERMINAL, TERMINAL_UNSET, machine_dir

HOSTILE = {"COLUMNS": "20", "LINES": "3", "FORCE_COLOR": "1", "CLICOLOR_FORCE": "1", "TTY_COMPATIBLE": "1",
           "TERM": "xterm-256color"}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _check_text(capsys):
    with pytest.raises(SystemExit):
        main(["check", "--replay", machine_dir("wsl2-rtx3050-laptop")])
    return capsys.readouterr().out


def test_every_test_sees_a_plain_80_column_terminal():
    assert {name: os.environ.get(name) for name in TERMINAL} == TERMINAL
    assert not [name for name in TERMINAL_UNSET if name in os.environ]


def test_the_pin_is_what_keeps_the_text_stable(capsys, monkeypatch):
    pinned = _check_text(capsys)
    assert "\x1b[" not in pinned and max(len(line) for line in pinned.splitlines()) > 20
    for name, value in HOSTILE.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NO_COLOR")
    hostile = _check_text(capsys)
    assert hostile != pinned  # without the pin this terminal would change the text under test


def test_a_suite_started_from_a_hostile_terminal_is_still_pinned():
    env = {k: v for k, v in os.environ.items() if k not in TERMINAL and not k.startswith("PYTEST_")}
    env.update(HOSTILE)
    inner = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "0", "-q",
                            "tests/test_terminal_pinned.py::test_every_test_sees_a_plain_80_column_terminal"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert inner.returncode == 0, inner.stdout + inner.stderr  # 5 would be "ran nothing"
