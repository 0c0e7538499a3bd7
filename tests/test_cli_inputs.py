"""Input the CLI must judge before it runs anything: --python resolved once (a path, or a
name on PATH as a shell finds it; a venv directory means DIR/bin/python; interpreters only),
and a closed standard output."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from envdoctor.cli import main


def run(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


def _program(path, body="#!/bin/sh\necho ran > \"$0.ran\"\n"):
    path.write_text(body)
    path.chmod(0o755)
    return path


def test_a_bare_name_is_not_taken_from_the_current_directory_nor_run_when_not_python(capsys, tmp_path, monkeypatch):
    # N14: ./passwd was existence-checked, then `passwd` from PATH was executed.
    here, bindir = tmp_path / "here", tmp_path / "bin"
    here.mkdir(), bindir.mkdir()
    _program(here / "passwd")
    _program(bindir / "passwd")
    monkeypatch.chdir(here)
    monkeypatch.setenv("PATH", f"{bindir}:/usr/bin:/bin")
    code, out, err = run(capsys, "check", "--quick", "--only", "python", "--python", "passwd")
    assert code == 4 and "not a Python interpreter" in err and len(err.strip().splitlines()) == 1
    assert not (here / "passwd.ran").exists() and not (bindir / "passwd.ran").exists()


def test_a_bare_name_is_found_on_path(capsys, tmp_path, monkeypatch):
    # `--python python3` was refused as "does not exist" unless ./python3 existed.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.symlink(sys.executable, bindir / "python3")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", f"{bindir}:/usr/bin:/bin")
    code, out, err = run(capsys, "check", "--json", "--quick", "--only", "python", "--python", "python3")
    doc = json.loads(out)
    assert doc["probes"][0]["status"] == "ok", err
    assert doc["facts"]["python"]["executable"] in (str(bindir / "python3"), sys.executable)


def test_a_venv_directory_means_its_interpreter(capsys, tmp_path):
    # N23: `--python torchvenv` gave "cannot run torchvenv: Permission denied".
    venv = tmp_path / "torchvenv"
    (venv / "bin").mkdir(parents=True)
    os.symlink(sys.executable, venv / "bin" / "python")
    code, out, err = run(capsys, "check", "--json", "--quick", "--only", "python", "--python", str(venv))
    doc = json.loads(out)
    assert doc["probes"][0]["status"] == "ok", err
    assert doc["facts"]["python"]["version"].startswith("%d.%d" % sys.version_info[:2])


@pytest.mark.parametrize("value, message", [
    ("/dev/null", "is not a file"),
    ("", "is empty"),
    ("no-such-python-anywhere", "is not on PATH"),
])
def test_what_is_no_interpreter_is_a_usage_error(capsys, value, message):
    code, _, err = run(capsys, "check", "--quick", "--python", value)
    assert code == 4 and message in err and "Traceback" not in err


def test_a_directory_without_an_interpreter_is_a_usage_error(capsys, tmp_path):
    code, _, err = run(capsys, "check", "--quick", "--python", str(tmp_path))
    assert code == 4 and "without bin/python" in err


def test_fix_refuses_a_missing_python_like_check(capsys):
    # C5: fix --python /nonexistent/python planned for "Python ?" with exit 2.
    code, out, err = run(capsys, "fix", "--python", "/nonexistent/python")
    assert code == 4 and "does not exist" in err and out == ""


def test_a_closed_stdout_is_not_warnings():
    # N44: `check --list | head` exited 1, which means "warnings".
    proc = subprocess.Popen([sys.executable, "-m", "envdoctor", "check", "--list"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 141 and err == b""
