"""Run external commands without ever hanging envdoctor.

Every child gets its own process group and a timeout. On timeout the whole group is
killed and we wait only a short, bounded time for the pipes to close: a child stuck in
the kernel (a wedged GPU driver) can ignore SIGKILL until its syscall returns, and
`subprocess.run(timeout=)` would then block forever in its final `communicate()`.
"""
from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass
from typing import Mapping, Optional, Protocol, Sequence

# Bytes kept of a child's stdout/stderr; tools we call print kilobytes, garbage may not.
OUTPUT_LIMIT = 4 * 1024 * 1024
# How long we wait for pipes to drain after killing a timed-out group.
REAP_GRACE = 0.3


@dataclass(frozen=True)
class CommandResult:
    """What a command did. `status` is ok (ran, any exit code), absent (no such binary),
    timeout (killed after `timeout` seconds) or error (could not be started)."""

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
            return f"{name} could not be started: {self.error}"
        last = (self.stderr.strip() or self.stdout.strip()).splitlines()
        detail = f": {last[-1][:200]}" if last else ""
        return f"{name} exited with code {self.returncode}{detail}"


class Runner(Protocol):
    def run(self, argv: Sequence[str], timeout: float, env: Optional[Mapping[str, str]] = None,
            stdin_text: Optional[str] = None) -> CommandResult: ...


def _decode(data: Optional[bytes]) -> str:
    return (data or b"")[:OUTPUT_LIMIT].decode("utf-8", errors="replace")


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class SubprocessRunner:
    """The real runner: argv lists only, never a shell."""

    def run(self, argv: Sequence[str], timeout: float, env: Optional[Mapping[str, str]] = None,
            stdin_text: Optional[str] = None) -> CommandResult:
        argv = tuple(str(a) for a in argv)
        if timeout <= 0:
            return CommandResult(argv, "timeout", error="no time left")
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=dict(env) if env is not None else None,
                start_new_session=True,  # own process group, so a timeout kills grandchildren too
            )
        except FileNotFoundError:
            return CommandResult(argv, "absent", error="not found")
        except OSError as exc:  # permission denied, exec format error, ...
            return CommandResult(argv, "error", error=exc.strerror or str(exc))
        stdin_bytes = stdin_text.encode() if stdin_text is not None else None
        try:
            out, err = proc.communicate(stdin_bytes, timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            out = err = b""
            try:
                out, err = proc.communicate(timeout=REAP_GRACE)
            except subprocess.TimeoutExpired:
                # Still stuck (uninterruptible sleep): abandon it rather than wait.
                for pipe in (proc.stdout, proc.stderr, proc.stdin):
                    try:
                        if pipe:
                            pipe.close()
                    except OSError:
                        pass
            return CommandResult(argv, "timeout", stdout=_decode(out), stderr=_decode(err),
                                 error=f"no answer in {timeout:.1f} s")
        return CommandResult(argv, "ok", proc.returncode, _decode(out), _decode(err))
