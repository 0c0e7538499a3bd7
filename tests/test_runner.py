"""The real subprocess runner: argv only, timeouts, the whole process group killed."""
from __future__ import annotations

import sys
import time

from envdoctor.machine.runner import SubprocessRunner

from .processes import alive as _alive


def test_runs_argv_without_a_shell():
    result = SubprocessRunner().run([sys.executable, "-c", "import sys; print(sys.argv[1])", "$HOME; echo hi"], 10)
    assert result.ok and result.stdout.strip() == "$HOME; echo hi"


def test_nonzero_exit_is_reported_with_its_last_line():
    result = SubprocessRunner().run([sys.executable, "-c", "import sys; print('first'); sys.exit('boom')"], 10)
    assert result.status == "ok" and result.returncode == 1 and not result.ok
    assert result.describe().endswith("exited with code 1: boom")


def test_missing_binary_is_absent_not_an_exception():
    result = SubprocessRunner().run(["/nonexistent/nvidia-smi", "-L"], 5)
    assert result.status == "absent" and result.describe() == "nvidia-smi not found"


def test_file_that_is_not_a_program_is_an_error(tmp_path):
    junk = tmp_path / "python"
    junk.write_bytes(b"\x00\x01garbage")
    junk.chmod(0o755)
    result = SubprocessRunner().run([str(junk)], 5)
    assert result.status == "error" and "could not be started" in result.describe()


def test_timeout_kills_the_whole_group_and_returns_promptly(tmp_path):
    pids = tmp_path / "pids"
    script = f"sleep 60 & echo $! >> {pids}; echo $$ >> {pids}; exec sleep 60"
    start = time.monotonic()
    result = SubprocessRunner().run(["sh", "-c", script], 0.5)
    took = time.monotonic() - start
    assert result.status == "timeout"
    assert took < 2.0
    started = [int(p) for p in pids.read_text().split()]
    assert len(started) == 2
    time.sleep(0.1)
    assert not [p for p in started if _alive(p)], "a child or grandchild outlived the timeout"


def test_no_time_left_does_not_start_anything(tmp_path):
    marker = tmp_path / "ran"
    result = SubprocessRunner().run(["sh", "-c", f"touch {marker}"], 0)
    assert result.status == "timeout" and not marker.exists()


def test_huge_output_is_capped_and_the_child_stopped():
    result = SubprocessRunner().run([sys.executable, "-c", "import sys; sys.stdout.write('x' * (6 * 1024 * 1024))"], 20)
    assert result.status == "error" and len(result.stdout) == 4 * 1024 * 1024
    assert "printed more than 4 MiB" in result.describe()


def test_endless_output_ends_at_the_limit_not_the_timeout():
    # `exec cat /dev/zero` as a tool: bounded memory, and no waiting for the timeout.
    start = time.monotonic()
    result = SubprocessRunner(limit=1 << 20).run(["sh", "-c", "exec cat /dev/zero"], 30)
    assert time.monotonic() - start < 5
    assert result.status == "error" and len(result.stdout) == 1 << 20


def test_a_line_without_newline_forever_is_bounded_too():
    result = SubprocessRunner(limit=1 << 20).run(
        [sys.executable, "-c", "import sys\nwhile True: sys.stderr.write('A' * 65536)"], 30)
    assert result.status == "error" and len(result.stderr) == 1 << 20


def _started(pids, count, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pids.exists() and len(pids.read_text().split()) >= count:
            return [int(p) for p in pids.read_text().split()]
        time.sleep(0.05)
    raise AssertionError("the fake did not start")


def test_setsid_grandchild_holding_the_pipe_is_killed(tmp_path):
    pids = tmp_path / "pids"
    script = f"setsid sh -c 'echo $$ >> {pids}; exec sleep 60' & echo done"
    start = time.monotonic()
    result = SubprocessRunner().run(["sh", "-c", script], 20)
    assert time.monotonic() - start < 3, "waited for the grandchild's pipe"
    assert result.ok and result.stdout.strip() == "done"
    started = _started(pids, 1)
    time.sleep(0.1)
    assert not [p for p in started if _alive(p)], "a setsid grandchild outlived its command"


def test_background_process_left_after_a_clean_exit_is_killed(tmp_path):
    pids = tmp_path / "pids"
    script = f"sleep 60 >/dev/null 2>&1 & echo $! >> {pids}; echo ok"
    result = SubprocessRunner().run(["sh", "-c", script], 20)
    assert result.ok and result.returncode == 0
    started = _started(pids, 1)
    time.sleep(0.1)
    assert not [p for p in started if _alive(p)], "a daemon of a finished tool kept running"


def test_children_write_no_bytecode(tmp_path):
    # envdoctor inspects environments: importing a module there must not create __pycache__.
    (tmp_path / "mod_under_test.py").write_text("X = 1\n")
    result = SubprocessRunner().run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                                     "import mod_under_test", str(tmp_path)], 20, env={"PATH": "/usr/bin:/bin"})
    assert result.ok
    assert not (tmp_path / "__pycache__").exists()


def test_kill_all_ends_running_children_and_their_escaped_grandchildren(tmp_path):
    import threading

    from envdoctor.machine import children

    pids = tmp_path / "pids"
    script = f"echo $$ >> {pids}; setsid sh -c 'echo $$ >> {pids}; exec sleep 60' & exec sleep 60"
    results = []
    worker = threading.Thread(target=lambda: results.append(SubprocessRunner().run(["sh", "-c", script], 60)))
    worker.start()
    started = _started(pids, 2)
    try:
        children.kill_all()
        worker.join(5)
        assert not worker.is_alive() and results
        time.sleep(0.1)
        assert not [p for p in started if _alive(p)], "a child outlived kill_all"
        refused = SubprocessRunner().run(["true"], 5)
        assert refused.status == "error", "a child was started after kill_all"
    finally:
        children._closing = False


def test_invalid_utf8_is_replaced_not_raised():
    result = SubprocessRunner().run([sys.executable, "-c", "import sys; sys.stdout.buffer.write(b'ok \\xff\\xfe')"], 10)
    assert result.ok and result.stdout.startswith("ok ")


def test_child_gets_no_terminal_stdin():
    # A tool that waits for input must not wait on envdoctor's terminal.
    result = SubprocessRunner().run([sys.executable, "-c", "import sys; print(repr(sys.stdin.read()))"], 10)
    assert result.ok and result.stdout.strip() == "''"


def test_the_env_and_pip_children_leave_no_bytecode_in_a_real_venv(tmp_path):
    # E9: check wrote 8 .pyc into the site-packages of the environment it inspected.
    import os
    import shutil
    import subprocess

    from envdoctor.probes.net_check import PIP_CHILD
    from envdoctor.probes.python_env import child_source

    venv = tmp_path / "userenv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    for root, dirs, _ in os.walk(venv):
        for d in [d for d in dirs if d == "__pycache__"]:
            shutil.rmtree(os.path.join(root, d))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    python = str(venv / "bin" / "python")
    for code in (child_source("env_child.py"), PIP_CHILD):
        assert SubprocessRunner().run([python, "-c", code], 60, env=env).ok
    written = [os.path.join(r, f) for r, _, files in os.walk(venv) for f in files if f.endswith(".pyc")]
    assert written == []
