"""Run a Python callable in a daemon thread and stop waiting for it after a timeout.

A thread cannot be killed, but a daemon thread does not keep the process alive: a call
stuck in a C library (NVML on a wedged driver) is abandoned, never waited for.
"""
from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Optional


@dataclass(frozen=True)
class Outcome:
    status: str  # ok | timeout | crashed
    value: Any = None
    error: Optional[str] = None
    exc: Optional[BaseException] = None
    trace: Optional[str] = None


class Task:
    """A callable already running in its own daemon thread."""

    def __init__(self, fn: Callable[[], Any], name: str = "envdoctor-task") -> None:
        self._done = threading.Event()
        self._outcome: Optional[Outcome] = None
        self._thread = threading.Thread(target=self._body, args=(fn,), name=name, daemon=True)
        self._thread.start()

    def _body(self, fn: Callable[[], Any]) -> None:
        try:
            self._outcome = Outcome("ok", fn())
        except BaseException as exc:  # noqa: BLE001 - a crash becomes a result, never a traceback
            self._outcome = Outcome("crashed", error=f"{type(exc).__name__}: {exc}", exc=exc,
                                    trace=traceback.format_exc())
        finally:
            self._done.set()

    def wait(self, timeout: float) -> Outcome:
        if self._done.wait(max(0.0, timeout)) and self._outcome is not None:
            return self._outcome
        return Outcome("timeout", error=f"no answer in {timeout:.1f} s")


def call_with_timeout(fn: Callable[[], Any], timeout: float, name: str = "envdoctor-task") -> Outcome:
    return Task(fn, name).wait(timeout)
