"""rich's Console for every view. rich answers a closed standard output (`| head`) with its own
SystemExit(1), which reads as "warnings"; here it is a BrokenPipeError, which the CLI turns into
141, as a shell reports SIGPIPE."""
from __future__ import annotations

from rich.console import Console as RichConsole


class Console(RichConsole):
    def on_broken_pipe(self) -> None:
        self.quiet = True  # print nothing more
        raise BrokenPipeError("standard output was closed by its reader")
