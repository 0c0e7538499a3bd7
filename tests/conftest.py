"""Fixtures for every test: replayed fixture machines (check_machine), envdoctor's resolver knows
no real host name (no_internet, autouse), and `netrun` runs the network probe on a temporary
machine (tests/netkit.py)."""
from __future__ import annotations

import os
from typing import Dict, Tuple

import pytest

from envdoctor.check import exit_code, run_check
from envdoctor.matrices import Matrices
from envdoctor.model import Report
from envdoctor.probes import ALL_PROBES
from envdoctor.redact import Redactor
from envdoctor.render.json_doc import document
from envdoctor.system.replay import replay_context

from .netkit import netrun, no_internet  # noqa: F401 - fixtures, found by pytest by name

HERE = os.path.dirname(os.path.abspath(__file__))
MACHINES = os.path.join(HERE, "fixtures", "machines")
MACHINE_NAMES = sorted(n for n in os.listdir(MACHINES) if os.path.isdir(os.path.join(MACHINES, n)))


def machine_dir(name: str) -> str:
    return os.path.join(MACHINES, name)


def check_machine(name: str, **options) -> Tuple[Report, Dict, object]:
    """Replay a fixture machine through the real check; returns (report, JSON doc, context)."""
    ctx = replay_context(machine_dir(name), options)
    report = run_check(ctx, Matrices())
    doc = document(report, ALL_PROBES, exit_code(report), Redactor(ctx.env))
    return report, doc, ctx


@pytest.fixture(scope="session")
def matrices() -> Matrices:
    return Matrices()
