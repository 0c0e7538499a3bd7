"""Start-up imports nothing a command does not use: `--version` not even click, `--help`
(of the group and of each command) no packaging regexes, no rich, no tables."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEAVY = ("packaging", "rich", "csv", "envdoctor.compat.tables", "envdoctor.core.facts", "envdoctor.rules", "requests")


def imported(*args: str) -> set:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "envdoctor", *args], capture_output=True,
                          text=True, timeout=60, cwd=ROOT, env=dict(os.environ, NO_COLOR="1"))
    assert done.returncode == 0, done.stderr[-2000:]
    return {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


def test_version_loads_neither_click_nor_the_commands():
    modules = imported("--version")
    assert "envdoctor.start" in modules
    assert not {m for m in modules if m.split(".")[0] == "click" or m == "envdoctor.cli"}


@pytest.mark.parametrize("args", [("--help",), ("check", "--help"), ("fix", "--help"), ("explain", "--help")])
def test_help_loads_no_packaging_rich_or_tables(args):
    modules = imported(*args)
    heavy = {m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)}
    assert not heavy, heavy
