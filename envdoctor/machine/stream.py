"""Run a long child (a vLLM generation) while watching it: lines as they come, an overall
timeout, and a no-progress watchdog. Progress is a new output line, or whatever the
caller's `progress` callable reports (GPU memory moving while weights load). A child
that makes no progress for `stall` seconds is a stall, killed with its whole process
group like a timed-out one; the group is killed at the end in every case, so no engine
subprocess is left holding GPU memory.
"""
from __future__ import annotations

import queue
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Callable, List, Mapping, Optional, Sequence, Tuple

from envdoctor.machine import children

Line = Tuple[float, str]  # (seconds since start, text without the newline)
# A line longer than this is cut into pieces: output without newlines must not grow memory.
LINE_LIMIT = 64 * 1024
# Lines waiting to be handled; a child that prints faster waits on its pipe.
QUEUE_LIMIT = 4096


@dataclass(frozen=True)
class StreamResult:
    status: str  # ok (exited by itself), timeout, stall, absent, error
    returncode: Optional[int]
    lines: Tuple[Line, ...]
    seconds: float
    error: Optional[str] = None


def _reader(pipe, out: "queue.Queue[Optional[bytes]]") -> None:
    try:
        for raw in iter(lambda: pipe.readline(LINE_LIMIT), b""):
            out.put(raw)
    except (OSError, ValueError):
        pass
    finally:
        out.put(None)


def run_streaming(argv: Sequence[str], *, timeout: float, stall: float, stdin_text: str = "",
                  env: Optional[Mapping[str, str]] = None,
                  on_line: Optional[Callable[[Line], None]] = None,
                  progress: Optional[Callable[[], Optional[float]]] = None,
                  poll: float = 2.0, max_lines: int = 20000) -> StreamResult:
    """`progress()` returns a number that changes when the child makes progress (or None)."""
    start = time.monotonic()
    try:
        proc = children.spawn(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    except FileNotFoundError:
        return StreamResult("absent", None, (), 0.0, "not found")
    except OSError as exc:
        return StreamResult("error", None, (), 0.0, exc.strerror or str(exc))
    lines: List[Line] = []
    q: "queue.Queue[Optional[bytes]]" = queue.Queue(QUEUE_LIMIT)
    threading.Thread(target=_reader, args=(proc.stdout, q), daemon=True).start()
    try:
        proc.stdin.write(stdin_text.encode())
        proc.stdin.close()
    except OSError:
        pass  # the child died before reading; its exit says why
    last_progress = start
    last_mark = progress() if progress else None
    next_poll = start + poll
    status, eof = "ok", False
    try:
        while True:
            now = time.monotonic()
            if now - start > timeout:
                status = "timeout"
                break
            if now - last_progress > stall:
                status = "stall"
                break
            if eof:
                if children.exited(proc):
                    break
                time.sleep(0.05)
                continue
            try:
                raw = q.get(timeout=min(0.25, max(0.01, next_poll - now)))
            except queue.Empty:
                raw = b""
            if raw is None:
                eof = True
                continue
            now = time.monotonic()
            if raw:
                line = (round(now - start, 3), raw.decode("utf-8", "replace").rstrip("\r\n"))
                if len(lines) < max_lines:
                    lines.append(line)
                if on_line:
                    on_line(line)
                last_progress = now
            if progress and now >= next_poll:
                next_poll = now + poll
                mark = progress()
                if mark is not None and mark != last_mark:
                    last_mark, last_progress = mark, now
    except BaseException:  # Ctrl-C, or a failing callback: the child must not outlive us
        children.release(proc, escaped=True)
        raise
    # The child is done or stuck: either way nothing of it may stay.
    children.release(proc, escaped=status != "ok")
    while True:  # lines already read before the end
        try:
            raw = q.get_nowait()
        except queue.Empty:
            break
        if raw and len(lines) < max_lines:
            lines.append((round(time.monotonic() - start, 3), raw.decode("utf-8", "replace").rstrip("\r\n")))
    return StreamResult(status, proc.returncode if status == "ok" else None, tuple(lines),
                        round(time.monotonic() - start, 3))
