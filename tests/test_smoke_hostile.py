"""run-smoke against a child that misbehaves: output without newlines (A30), Ctrl-C while
vLLM starts (A31), and runs started in the same second (F6)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from envdoctor.machine.stream import LINE_LIMIT, run_streaming
from envdoctor.smoke.run import SmokeOptions, run_smoke

from .processes import alive as _alive
from .test_smoke import ctx_for

HERE = os.path.dirname(os.path.abspath(__file__))


def test_output_without_newlines_is_cut_into_bounded_pieces():
    child = "import sys\nfor _ in range(200): sys.stdout.write('A' * 65536)\nsys.stdout.flush()"
    result = run_streaming([sys.executable, "-c", child], timeout=60, stall=30, max_lines=10)
    assert result.status == "ok"
    assert all(len(text) <= LINE_LIMIT for _, text in result.lines) and len(result.lines) == 10


def test_ctrl_c_kills_the_vllm_child_and_writes_the_log(fake_env, tmp_path):
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {os.path.dirname(HERE)!r})
        from envdoctor.smoke.run import SmokeOptions, run_smoke
        from envdoctor.machine.children import kill_all
        from tests.test_smoke import ctx_for
        try:
            run_smoke(ctx_for({fake_env!r}, "hang", cache={str(tmp_path / 'cache')!r}),
                      SmokeOptions(dummy=True, log_dir={str(tmp_path / 'logs')!r}))
        except KeyboardInterrupt:
            kill_all()
            sys.exit(130)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    child = None
    end = time.monotonic() + 60
    while time.monotonic() < end and child is None:  # the vLLM child: fake_env's python, started by us
        out = subprocess.run(["pgrep", "-f", "-P", str(proc.pid), fake_env], capture_output=True, text=True).stdout
        child = int(out.split()[0]) if out.split() else None
        time.sleep(0.2)
    assert child, "the vLLM child did not start"
    time.sleep(1.5)  # it prints its first lines, then hangs in engine start-up
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(30) == 130
    time.sleep(0.2)
    assert not _alive(child), "the vLLM child outlived the interrupted run-smoke"
    logs = os.listdir(tmp_path / "logs")
    assert len(logs) == 1
    text = open(tmp_path / "logs" / logs[0]).read()
    assert "non-default args" in text and "envdoctor: interrupted" in text


def test_runs_started_together_get_logs_of_their_own(fake_env, tmp_path):
    paths = set()
    for _ in range(3):
        result = run_smoke(ctx_for(fake_env, "weird", cache=str(tmp_path / "cache")),
                           SmokeOptions(dummy=True, log_dir=str(tmp_path / "logs")))
        paths.add(result.log_path)
    assert len(paths) == 3 and len(os.listdir(tmp_path / "logs")) == 3
