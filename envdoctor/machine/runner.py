"""Run external commands without ever hanging envdoctor.

Every child gets its own process group (machine/children.py) and a timeout. Output is read as
it comes and kept up to OUTPUT_LIMIT: a child that prints more is stopped, so endless
output costs neither memory nor time. When the child ends its group is killed (a daemon it
left behind goes too); when the pipes stay open after it (a setsid grandchild holds them),
on timeout and past the limit, processes carrying its marker are swept as well. We wait
only a short, bounded time for the pipes to close: a child stuck in the kernel (a wedged GPU
driver) can ignore SIGKILL until its syscall returns.
"""
from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import List, Mapping, Optional, Protocol, Sequence

from envdoctor.machine import children

# Bytes kept of a child's stdout/stderr; tools we call print kilobytes, garbage may not.
OUTPUT_LIMIT = 4 * 1024 * 1024
# How long we wait for pipes to close after the child exits or its group is killed.
REAP_GRACE = 0.3
CHUNK = 65536


@dataclass(frozen=True)
class CommandResult:
    """What a command did. `status` is ok (ran, any exit code), absent (no such binary),
    timeout (killed after `timeout` seconds) or error (could not be started, or stopped for
    printing more than OUTPUT_LIMIT: then `stdout`/`stderr` hold what was kept)."""

    argv: tuple
    status: str
    returncode: Optional[int] = None
    stdout: str = ""
    stderr: str = ""
    error: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.returncode == 0

    def describe(self) -> str:
        """One line saying why this result is not a clean success."""
        name = os.path.basename(self.argv[0]) if self.argv else "command"
        if self.status == "absent":
            return f"{name} not found"
        if self.status == "timeout":
            return f"{name} gave no answer in time and was killed"
        if self.status == "error":
            if self.stdout or self.stderr:
                return f"{name} {self.error}"
            return f"{name} could not be started: {self.error}"
        last = (self.stderr.strip() or self.stdout.strip()).splitlines()
        detail = f": {last[-1][:200]}" if last else ""
        return f"{name} exited with code {self.returncode}{detail}"


class Runner(Protocol):
    def run(self, argv: Sequence[str], timeout: float, env: Optional[Mapping[str, str]] = None,
            stdin_text: Optional[str] = None) -> CommandResult: ...


class _Drain(threading.Thread):
    """Reads one pipe to its end, keeping at most `limit` bytes; `over` is set past it."""

    def __init__(self, pipe, limit: int, over: threading.Event) -> None:
        super().__init__(daemon=True)
        self.pipe, self.limit, self.over = pipe, limit, over
        self.chunks: List[bytes] = []
        self.size = 0
        self.start()

    def run(self) -> None:
        fd = self.pipe.fileno()
        try:
            while True:
                block = os.read(fd, CHUNK)
                if not block:
                    return
                keep = block[:max(0, self.limit - self.size)]
                if keep:
                    self.chunks.append(keep)
                self.size += len(block)
                if self.size > self.limit:
                    self.over.set()
                    return
        except (OSError, ValueError):
            return

    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", errors="replace")


def _feed(pipe, data: bytes) -> None:
    try:
        pipe.write(data)
    except (OSError, ValueError):
        pass  # the child stopped reading; its exit says why
    finally:
        try:
            pipe.close()
        except OSError:
            pass


class SubprocessRunner:
    """The real runner: argv lists only, never a shell."""

    def __init__(self, limit: int = OUTPUT_LIMIT) -> None:
        self.limit = limit

    def run(self, argv: Sequence[str], timeout: float, env: Optional[Mapping[str, str]] = None,
            stdin_text: Optional[str] = None) -> CommandResult:
        argv = tuple(str(a) for a in argv)
        if not timeout > 0:
            return CommandResult(argv, "timeout", error="no time left")
        try:
            proc = children.spawn(
                argv, env=env,
                stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except FileNotFoundError:
            return CommandResult(argv, "absent", error="not found")
        except OSError as exc:  # permission denied, exec format error, envdoctor stopping, ...
            return CommandResult(argv, "error", error=exc.strerror or str(exc))
        start = time.monotonic()
        over = threading.Event()
        out, err = _Drain(proc.stdout, self.limit, over), _Drain(proc.stderr, self.limit, over)
        if stdin_text is not None:
            threading.Thread(target=_feed, args=(proc.stdin, stdin_text.encode()), daemon=True).start()
        status, escaped, exit_seen = "ok", False, None
        while True:
            if over.is_set():
                status = "limit"
                break
            now = time.monotonic()
            if not out.is_alive() and not err.is_alive() and children.exited(proc):
                break
            if children.exited(proc):
                exit_seen = exit_seen or now
                if now - exit_seen > REAP_GRACE:  # exited, yet something still holds its pipes
                    escaped = True
                    break
            if now - start > timeout:
                status = "timeout"
                break
            time.sleep(0.005 if now - start < 0.2 else 0.02)
        exited = children.exited(proc)
        children.release(proc, escaped=escaped or status != "ok")
        for drain in (out, err):
            # A child stuck in the kernel keeps its pipes open: its readers are abandoned (daemon
            # threads), not waited for. Their pipes stay open, so no reused fd is ever read.
            drain.join(REAP_GRACE)
        if status == "timeout":
            return CommandResult(argv, "timeout", stdout=out.text(), stderr=err.text(),
                                 error=f"no answer in {timeout:.1f} s")
        if status == "limit":
            return CommandResult(argv, "error", stdout=out.text(), stderr=err.text(),
                                 error=f"printed more than {self.limit >> 20} MiB and was stopped")
        return CommandResult(argv, "ok", proc.returncode if exited else None, out.text(), err.text())
