"""The built wheel, not the checkout: build it, install it into a fresh venv, run the installed
`envdoctor` from a folder outside the checkout, so nothing can be imported from the source tree.

Offline: the wheel is built without build isolation (hatchling comes with the test extra), the
new venv gets only the wheel, and its dependencies come from the test venv's site-packages
through a .pth line, placed after the venv's own site-packages, so the wheel's envdoctor is
the one imported (a path added by a .pth line runs no .pth of its own: the checkout's editable
hook stays off).
"""
from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import sysconfig

import pytest

from .conftest import check_machine, machine_dir

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=180, **kw)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv folder, a folder outside the checkout, env) with the wheel installed there."""
    tmp = tmp_path_factory.mktemp("wheel")
    out = tmp / "dist"
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                  "-q", "-w", str(out), ROOT])
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = list(out.glob("llm_envdoctor-*.whl"))
    venv = tmp / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    assert made.returncode == 0, made.stderr
    python = str(venv / "bin" / "python")
    put = _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-index", "--no-deps", "-q", str(wheel)])
    assert put.returncode == 0, put.stdout + put.stderr
    site = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    with open(os.path.join(site, "zz_test_venv_deps.pth"), "w") as fh:
        fh.write(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ENVDOCTOR_MATRICES_DIR", "VIRTUAL_ENV")}
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    return venv, elsewhere, env


def _envdoctor(installed, *args):
    venv, elsewhere, env = installed
    return _run([str(venv / "bin" / "envdoctor"), *args], cwd=str(elsewhere), env=env)


def test_the_installed_package_is_the_wheel_not_the_checkout(installed):
    venv, elsewhere, env = installed
    where = _run([str(venv / "bin" / "python"), "-c", "import envdoctor, envdoctor.compat.tables as t; "
                  "print(envdoctor.__file__); print(t.default_dir())"], cwd=str(elsewhere), env=env)
    package, tables = where.stdout.split("\n")[:2]
    assert package.startswith(str(venv)) and not package.startswith(ROOT), where.stdout + where.stderr
    assert tables == os.path.join(os.path.dirname(package), "matrices")
    with open(os.path.join(tables, "vllm.csv"), encoding="utf-8") as shipped, \
            open(os.path.join(ROOT, "matrices", "vllm.csv"), encoding="utf-8") as source:
        assert shipped.read() == source.read()


def test_installed_version(installed):
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as fh:
        version = re.search(r'^version = "([^"]+)"', fh.read(), re.M).group(1)
    res = _envdoctor(installed, "--version")
    assert res.returncode == 0 and res.stdout.strip() == f"envdoctor, version {version}", res.stdout + res.stderr


def test_installed_command_shows_the_shipped_vllm_table(installed):
    with open(os.path.join(ROOT, "matrices", "vllm.csv"), encoding="utf-8") as fh:
        versions = [row["version"] for row in csv.DictReader(line for line in fh if not line.startswith("#"))]
    res = _envdoctor(installed, "matrices", "show", "vllm")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(f"vLLM releases ({len(versions)} rows)\n"), res.stdout[:200]
    first_table = res.stdout.split("\n\n")[0].splitlines()[3:]  # title, header, rule, rows
    shown = [line.split()[0] for line in first_table]
    assert shown == versions


def test_installed_check_replays_a_machine_as_the_checkout_does(installed):
    report, doc, _ = check_machine("wsl2-rtx3050-laptop")
    res = _envdoctor(installed, "check", "--replay", machine_dir("wsl2-rtx3050-laptop"), "--json")
    got = json.loads(res.stdout)
    assert res.returncode == doc["exit_code"] == got["exit_code"], res.stderr
    assert [f["code"] for f in got["findings"]] == [f["code"] for f in doc["findings"]] != []
