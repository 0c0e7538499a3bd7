"""Ctrl-C, SIGTERM and SIGHUP while tools hang: envdoctor exits 128 + the signal, says so in
one line, and nothing it started keeps running (the children are in their own sessions, so
the terminal's signal never reaches them)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from .processes import still_alive

FAKE = "#!/bin/sh\necho $$ >> \"{pids}\"\nsetsid sh -c 'echo $$ >> \"{pids}\"; exec sleep 600' &\nexec sleep 600\n"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_interrupted_check_leaves_no_child(tmp_path, signum):
    pids = tmp_path / "pids"
    for name in ("nvidia-smi", "nvcc", "python3"):
        path = tmp_path / name
        path.write_text(FAKE.format(pids=pids))
        path.chmod(0o755)
    env = dict(os.environ, PATH=f"{tmp_path}:/usr/bin:/bin", HOME=str(tmp_path))
    env.pop("VIRTUAL_ENV", None)
    proc = subprocess.Popen([sys.executable, "-m", "envdoctor", "check", "--offline", "--deadline", "60",
                             "--python", str(tmp_path / "python3")], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    end = time.monotonic() + 20
    while time.monotonic() < end and (not pids.exists() or len(pids.read_text().split()) < 6):
        time.sleep(0.1)
    started = [int(p) for p in pids.read_text().split()]
    assert len(started) >= 6, "the hanging fakes did not all start"
    os.killpg(proc.pid, signum)  # as a terminal does: the whole foreground group
    _, err = proc.communicate(timeout=20)
    left = still_alive(started)
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert proc.returncode == 128 + signum, err
    assert "interrupted" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not left, f"{len(left)} processes outlived envdoctor"


def test_ctrl_c_while_the_main_thread_waits_on_a_child_kills_it(tmp_path):
    # E6: fix --apply runs pip in the main thread; Ctrl-C while pip resolved left pip running.
    pidfile = tmp_path / "pid"
    script = (
        "import sys\n"
        "from envdoctor.cli.support import interrupted\n"
        "from envdoctor.machine.runner import SubprocessRunner\n"
        "try:\n"
        f"    SubprocessRunner().run(['sh', '-c', 'echo $$ > {pidfile}; exec sleep 600'], 600)\n"
        "except KeyboardInterrupt as exc:\n"
        "    interrupted(exc)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True, stderr=subprocess.PIPE, text=True)
    end = time.monotonic() + 20
    while time.monotonic() < end and not (pidfile.exists() and pidfile.read_text().strip()):
        time.sleep(0.05)
    child = int(pidfile.read_text())
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    alive = bool(still_alive([child]))
    if alive:
        os.kill(child, signal.SIGKILL)
    assert proc.returncode == 130 and "interrupted (SIGINT)" in err
    assert not alive, "the child outlived the interrupted command"
