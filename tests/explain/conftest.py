"""Print the explain corpus accuracy at the end of every test run (issue 8 asks for it)."""
from __future__ import annotations

ACCURACY = []


def pytest_terminal_summary(terminalreporter):
    for line in ACCURACY:
        terminalreporter.write_line(line)
