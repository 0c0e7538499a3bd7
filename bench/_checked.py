"""Run a timed command and fail the bench loudly unless it succeeded: its exit code in the
documented set and, where asked, valid JSON on stdout. A bench that times a usage error
measures nothing (check_speed.py once reported "51x faster" for one)."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Collection, Mapping, Optional, Sequence, Tuple


class BenchFailure(SystemExit):
    pass


def run(argv: Sequence[str], env: Mapping[str, str], codes: Collection[int] = (0,), want_json: bool = False,
        timeout: float = 300, stdin: Optional[bytes] = None) -> Tuple[float, subprocess.CompletedProcess]:
    """(seconds, the finished process); exits the bench if the command did not succeed."""
    start = time.perf_counter()
    try:
        done = subprocess.run(list(argv), input=stdin, capture_output=True, env=dict(env), timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchFailure(f"bench: {' '.join(argv)} ran past {timeout:g} s") from None
    took = time.perf_counter() - start
    problem = None
    if done.returncode not in codes:
        problem = f"exit {done.returncode}, expected one of {sorted(codes)}"
    elif want_json:
        try:
            json.loads(done.stdout)
        except ValueError as exc:
            problem = f"stdout is not JSON ({exc})"
    if problem:
        tail = (done.stderr or done.stdout or b"").decode("utf-8", "replace")[-800:]
        print(f"bench: FAILED: {' '.join(argv)}: {problem}\n{tail}", file=sys.stderr)
        raise BenchFailure(1)
    return took, done
