"""One line of progress on a terminal's stderr, rewritten in place and erased at the end.
Only when both stdout and stderr are terminals: never in --json, --ci, a pipe or a log."""
from __future__ import annotations

import os
import shutil
import sys
from typing import Optional, TextIO


def wanted(as_json: bool = False, ci: bool = False, stdout: Optional[TextIO] = None,
           stderr: Optional[TextIO] = None) -> bool:
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    if as_json or ci or os.environ.get("CI"):
        return False
    try:
        return stdout.isatty() and stderr.isatty()
    except (AttributeError, ValueError):
        return False


class StatusLine:
    def __init__(self, stream: Optional[TextIO] = None) -> None:
        self.stream = stream or sys.stderr
        self.shown = False

    def show(self, text: str) -> None:
        from envdoctor.render.wrap import _cells

        width = shutil.get_terminal_size((80, 24)).columns
        if _cells(text) >= width:  # cells: a Chinese character takes two
            while text and _cells(text) > max(1, width - 2):
                text = text[:-1]
            text += "…"
        try:
            self.stream.write("\r" + text + "\x1b[K")
            self.stream.flush()
            self.shown = True
        except (OSError, ValueError):
            pass

    def clear(self) -> None:
        if self.shown:
            try:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
            except (OSError, ValueError):
                pass
            self.shown = False


def check_line(running, seconds_left: float) -> str:
    """"checking torch runtime, network · at most 3 s left": what the user is waiting for."""
    from envdoctor.messages import t

    return t("progress.checking", areas=t("sep.items").join(running), seconds=f"{max(0.0, seconds_left):.0f}")
