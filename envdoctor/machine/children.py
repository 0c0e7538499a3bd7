"""Every child envdoctor starts is started here, so that none outlives it.

A child gets its own process group (a timeout kills its grandchildren too) and a marker in
its environment. A grandchild that left the group with setsid() still inherits the marker, so
a sweep of /proc finds it. When envdoctor is interrupted (Ctrl-C, SIGTERM, SIGHUP) `kill_all`
kills every group still running and every process carrying this run's marker.
Children run with PYTHONDONTWRITEBYTECODE=1: envdoctor inspects environments and must not
write bytecode into them.
"""
from __future__ import annotations

import itertools
import os
import signal
import subprocess
import threading
from typing import Dict, Mapping, Optional

MARK = "ENVDOCTOR_RUN"
_lock = threading.Lock()
_live: Dict[int, str] = {}  # pid (= process group id) -> its marker
_counter = itertools.count(1)
_closing = False


class Closing(OSError):
    """envdoctor is shutting down: no new child may start."""


def child_env(env: Optional[Mapping[str, str]], marker: str) -> Dict[str, str]:
    out = dict(os.environ if env is None else env)
    out["PYTHONDONTWRITEBYTECODE"] = "1"
    out[MARK] = marker
    return out


def spawn(argv, env: Optional[Mapping[str, str]] = None, **kwargs) -> subprocess.Popen:
    """Popen in a new session, tracked until `release`."""
    marker = f"{os.getpid()}.{next(_counter)}"
    with _lock:
        if _closing:
            raise Closing("envdoctor is stopping")
        proc = subprocess.Popen(list(argv), env=child_env(env, marker), start_new_session=True, **kwargs)
        _live[proc.pid] = marker
    return proc


def kill_group(proc: subprocess.Popen) -> None:
    """Kill the child's process group. Call it before the child is reaped (or while its pid
    is still tracked) so that the group id cannot have been reused."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _sweep(needle: bytes) -> None:
    """SIGKILL every other process whose environment holds the entry `needle` begins."""
    own = os.getpid()
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return
    for pid in pids:
        if pid == own:
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as fh:
                data = b"\0" + fh.read(1 << 20)
        except OSError:
            continue  # gone, or another user's
        if needle in data:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def sweep(marker: str) -> None:
    """Kill every process started under `marker`, including those that left the group."""
    _sweep(f"\0{MARK}={marker}\0".encode())


def exited(proc: subprocess.Popen) -> bool:
    """Has the child exited? It is not reaped, so its pid cannot be reused meanwhile."""
    if proc.returncode is not None:
        return True
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def marker_of(proc: subprocess.Popen) -> Optional[str]:
    with _lock:
        return _live.get(proc.pid)


def release(proc: subprocess.Popen, *, escaped: bool = False) -> None:
    """The child is done: kill what is left of its group (a daemon it started), sweep for
    setsid grandchildren when `escaped`, reap it, forget it."""
    marker = marker_of(proc)
    if proc.returncode is None:
        # Not reaped yet: its pid (the group id) is still ours, so the kill cannot hit a stranger.
        kill_group(proc)
    if escaped and marker:
        sweep(marker)
    try:
        proc.wait(timeout=1.0)
    except subprocess.TimeoutExpired:
        pass  # stuck in the kernel: abandoned, not waited for
    with _lock:
        _live.pop(proc.pid, None)


def kill_all() -> None:
    """envdoctor is exiting early: no child may stay behind."""
    global _closing
    with _lock:
        _closing = True
        live = dict(_live)
    for pid in live:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if live:
        _sweep(f"\0{MARK}={os.getpid()}.".encode())
