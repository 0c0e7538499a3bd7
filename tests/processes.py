"""What the process-leak tests ask of /proc."""
from __future__ import annotations


def alive(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def still_alive(pids, within: float = 5.0):
    """The pids still alive after up to `within` seconds: a killed process takes a moment to die
    and be reaped on a loaded machine, one left running outlives any such wait."""
    import time

    end = time.monotonic() + within
    left = [p for p in pids if alive(p)]
    while left and time.monotonic() < end:
        time.sleep(0.05)
        left = [p for p in left if alive(p)]
    return left
