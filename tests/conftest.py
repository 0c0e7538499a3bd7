"""Fixtures for every test: replayed fixture machines (check_machine), envdoctor's resolver knows
no real host name (no_internet, autouse), the terminal is pinned (plain_terminal, autouse), and `netrun` runs the network probe on a temporary
machine (tests/netkit.py)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import Dict, Tuple

import pytest

from envdoctor.check.run import exit_code, run_check
from envdoctor.compat.tables import Matrices
from envdoctor.core import codes
from envdoctor.core.results import Report
from envdoctor.redact import Redactor
from envdoctor.render.json_doc import document
from envdoctor.machine.replay import replay_context

from .netkit import netrun, no_internet  # noqa: F401 - fixtures, found by pytest by name

codes.enforce()  # a Finding whose code is in no catalogue entry fails the test that built it

HERE = os.path.dirname(os.path.abspath(__file__))
MACHINES = os.path.join(HERE, "fixtures", "machines")
MACHINE_NAMES = sorted(n for n in os.listdir(MACHINES) if os.path.isdir(os.path.join(MACHINES, n)))


def machine_dir(name: str) -> str:
    return os.path.join(MACHINES, name)


def check_machine(name: str, **options) -> Tuple[Report, Dict, object]:
    """Replay a fixture machine through the real check; returns (report, JSON doc, context)."""
    ctx = replay_context(machine_dir(name), options)
    report = run_check(ctx, Matrices())
    doc = document(report, exit_code(report), Redactor(ctx.env))
    return report, doc, ctx


# What the caller's terminal may say that changes CLI text; every test sees the same answer.
TERMINAL = {"NO_COLOR": "1", "COLUMNS": "80", "LINES": "25"}
TERMINAL_UNSET = ("FORCE_COLOR", "CLICOLOR_FORCE", "TTY_COMPATIBLE", "TTY_INTERACTIVE")


@pytest.fixture(autouse=True)
def plain_terminal(monkeypatch):
    """No colour and 80 columns for every test, whatever terminal runs the suite (hatch's habit)."""
    for name, value in TERMINAL.items():
        monkeypatch.setenv(name, value)
    for name in TERMINAL_UNSET:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def matrices() -> Matrices:
    return Matrices()


@pytest.fixture(scope="session")
def fake_env(tmp_path_factory):
    """A venv holding only the fake vllm (with dist-info, so envdoctor sees it installed)."""
    root = tmp_path_factory.mktemp("fake-vllm-env")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    python = os.path.join(root, "bin", "python")
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    shutil.copytree(os.path.join(HERE, "fake_vllm", "vllm"), os.path.join(site, "vllm"))
    info = os.path.join(site, "vllm-0.26.0.dist-info")
    os.makedirs(info)
    with open(os.path.join(info, "METADATA"), "w") as fh:
        fh.write("Metadata-Version: 2.1\nName: vllm\nVersion: 0.26.0\nRequires-Python: >=3.10\n\n")
    return python
