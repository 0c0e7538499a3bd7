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

from .conftest import HERE, machine_dir


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


@pytest.mark.parametrize("args", [
    ["check", "--replay", machine_dir("wsl2-rtx3050-laptop")],
    ["fix", "--replay", machine_dir("wsl2-rtx3050-laptop"), "--vllm", "0.5.3"],
    ["explain", os.path.join(HERE, "data", "seed", "docker-build.log")],
])
def test_a_closed_stdout_is_not_warnings_where_rich_prints(args):
    # N44 for the rich views: rich ends the process with its own SystemExit(1) on a closed pipe.
    proc = subprocess.Popen([sys.executable, "-m", "envdoctor", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 141 and err == b""


@pytest.mark.parametrize("args, message", [
    (["check", "--want", "vllm==99.0"], "no vLLM release in envdoctor's data matches"),  # C2, N6
    (["check", "--want", "vllm>=0.9,<0.1", "--offline"], "no vLLM release"),
    (["check", "--offline", "--record", "/proc/1/x"], "cannot create /proc/1/x"),  # C3
    (["fit", "Qwen/Qwen2-1.5B-Instruct", "--vram", "nan"], "is not a number"),  # C4
    (["fit", "Qwen/Qwen2-1.5B-Instruct", "--vram", "24", "--free", "nan"], "is not a number"),
    (["fit", "Qwen/Qwen2-1.5B-Instruct", "--vram", "4", "--free", "8"], "cannot exceed"),  # N39
    (["matrices", "refresh", "--index-url", "http://[bad/simple/"], "is not a URL"),  # C6
    (["matrices", "refresh", "--timeout", "nan", "--index-url", "http://127.0.0.1:9/simple/"], "is not a number"),  # C7
    (["matrices", "refresh", "--index-url", "file:///srv/simple"], "file:// indexes are not supported"),  # N38
    (["run-smoke", "--timeout", "nan"], "is not a number"),  # C8
    (["run-smoke", "--stall", "nan"], "is not a number"),
    (["check", "--deadline", "nan"], "is not a number"),
    (["fix", "--cc", "99.9"], "no NVIDIA GPU has this compute capability"),  # N39
    (["fix", "--cc", "0.0"], "no NVIDIA GPU has this compute capability"),
    (["fix", "--index-url", "notaurl", "--gpu", "T4"], "is not an index URL"),  # N39
])
def test_bad_input_is_a_one_line_usage_error(capsys, args, message):
    code, out, err = run(capsys, *args)
    assert code == 4 and message in err, err
    assert "internal error" not in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_record_says_where_it_went_and_refuses_a_folder_with_other_things(capsys, tmp_path):
    # N50
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    code, _, err = run(capsys, "check", "--quick", "--only", "platform", "--record", str(busy))
    assert code == 4 and "not empty" in err and os.listdir(busy) == ["notes.txt"]
    rec = tmp_path / "rec"
    code, _, err = run(capsys, "check", "--quick", "--only", "platform", "--record", str(rec))
    assert f"recorded to {rec} (" in err and "files, secrets redacted" in err
    again, _, err = run(capsys, "check", "--quick", "--only", "platform", "--record", str(rec))
    assert again == code and "recorded to" in err  # an earlier recording is replaced


def test_a_vanished_active_venv_is_named(capsys, tmp_path, monkeypatch):
    # N55
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "gone"))
    code, out, _ = run(capsys, "check", "--json", "--quick", "--only", "python")
    assert f"VIRTUAL_ENV={tmp_path / 'gone'} holds no bin/python" in json.loads(out)["facts"]["python"]["selected_by"]


def test_an_internal_error_names_a_debug_switch_every_command_has(capsys, monkeypatch):
    # Other defects: fix has no --debug, yet its internal errors said "rerun with --debug".
    import envdoctor.fix.run as fixcmd

    def broken(*_a, **_k):
        raise RuntimeError("boom")

    monkeypatch.setattr(fixcmd, "gather", broken)
    code, _, err = run(capsys, "fix", "--vllm", "0.5.3")
    assert code == 3 and "internal error: RuntimeError: boom" in err and "ENVDOCTOR_DEBUG=1" in err
    assert "--debug" not in err
    monkeypatch.setenv("ENVDOCTOR_DEBUG", "1")
    with pytest.raises(RuntimeError):
        main(["fix", "--vllm", "0.5.3"])
