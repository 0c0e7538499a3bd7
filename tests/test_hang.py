"""Never hang: hanging fakes of nvidia-smi, nvcc and the target python on PATH, and an
NVML that never returns. The check ends within its deadline, names what timed out, and
leaves no process behind."""
from __future__ import annotations

import threading
import time

from envdoctor.check.run import exit_code, run_check
from envdoctor.compat.tables import Matrices
from envdoctor.machine.context import Context, Host
from envdoctor.machine.fs import RootedFS
from envdoctor.machine.runner import SubprocessRunner

from .processes import alive as _alive

FAKE = "#!/bin/sh\nsleep 600 &\necho $! >> \"{pids}\"\necho $$ >> \"{pids}\"\nexec sleep 600\n"


class HangingNvml:
    def __init__(self):
        self.release = threading.Event()

    def read(self, timeout):
        # Like the real reader: the call runs in a watchdog thread that is abandoned.
        from envdoctor.machine.watchdog import call_with_timeout
        outcome = call_with_timeout(lambda: self.release.wait(600), timeout)
        raise TimeoutError(f"NVML gave no answer in {timeout:.1f} s") if outcome.status == "timeout" else AssertionError


def test_everything_hangs_and_check_still_ends_in_time(tmp_path):
    pids = tmp_path / "pids"
    for name in ("nvidia-smi", "nvcc", "python3"):
        path = tmp_path / name
        path.write_text(FAKE.format(pids=pids))
        path.chmod(0o755)
    nvml = HangingNvml()
    ctx = Context(runner=SubprocessRunner(), fs=RootedFS("/"),
                  env={"PATH": f"{tmp_path}:/usr/bin:/bin", "HOME": str(tmp_path)},
                  nvml=nvml, host=Host("Linux", "x86_64", "/usr/bin/python3"),
                  options={"python": str(tmp_path / "python3")})
    start = time.monotonic()
    report = run_check(ctx, Matrices(), deadline=2.0)
    took = time.monotonic() - start
    nvml.release.set()
    assert took < 2.5, f"check took {took:.2f} s with a 2 s deadline"
    statuses = {a: r.status for a, r in report.facts.results.items()}
    assert statuses["python"] == "timeout" and statuses["driver"] == "timeout" and statuses["cuda"] == "timeout"
    assert exit_code(report) in (2, 3)
    codes = {f.code for f in report.findings}
    assert {"nvidia-driver-unreadable", "probe-failed"} <= codes
    time.sleep(0.2)
    started = [int(p) for p in pids.read_text().split()]
    assert started and not [p for p in started if _alive(p)], "a hanging fake outlived the check"
