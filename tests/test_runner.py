"""The real subprocess runner: argv only, timeouts, the whole process group killed."""
from __future__ import annotations

import sys
import time

from envdoctor.system.runner import SubprocessRunner


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


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


def test_huge_output_is_capped():
    result = SubprocessRunner().run([sys.executable, "-c", "import sys; sys.stdout.write('x' * (6 * 1024 * 1024))"], 20)
    assert result.ok and len(result.stdout) == 4 * 1024 * 1024


def test_invalid_utf8_is_replaced_not_raised():
    result = SubprocessRunner().run([sys.executable, "-c", "import sys; sys.stdout.buffer.write(b'ok \\xff\\xfe')"], 10)
    assert result.ok and result.stdout.startswith("ok ")


def test_child_gets_no_terminal_stdin():
    # A tool that waits for input must not wait on envdoctor's terminal.
    result = SubprocessRunner().run([sys.executable, "-c", "import sys; print(repr(sys.stdin.read()))"], 10)
    assert result.ok and result.stdout.strip() == "''"
