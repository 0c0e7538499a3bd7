"""The one door to the machine: every probe touches the outside only through a Context.

The live Context wraps the real runner, "/" and NVML; a fixture machine (tests, replay)
swaps in recorded ones; a recording Context saves what the probes read.
"""
from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Callable, Mapping, Optional, Sequence

from envdoctor.machine.fs import RootedFS
from envdoctor.machine.nvml import NvmlReader, SystemNvml
from envdoctor.machine.runner import CommandResult, Runner, SubprocessRunner

if TYPE_CHECKING:
    from envdoctor.machine.net import Net


@dataclass(frozen=True)
class Host:
    """What the running interpreter knows about the machine without reading files."""

    system: str  # platform.system(): Linux, Windows, Darwin
    machine: str  # x86_64, aarch64, AMD64
    executable: str  # the interpreter running envdoctor


@dataclass(frozen=True)
class Context:
    runner: Runner
    fs: RootedFS
    env: Mapping[str, str]
    nvml: NvmlReader
    host: Host
    clock: Callable[[], float] = time.monotonic
    deadline: Optional[float] = None  # absolute clock() time after which no new work starts
    options: Mapping[str, object] = field(default_factory=dict)  # --python, --quick, ...
    net: Optional["Net"] = None  # None: no network here (a recorded machine)

    def remaining(self) -> float:
        return float("inf") if self.deadline is None else self.deadline - self.clock()

    def with_deadline(self, seconds: float) -> "Context":
        return replace(self, deadline=self.clock() + seconds)

    def run(self, argv: Sequence[str], timeout: float, env: Optional[Mapping[str, str]] = None,
            stdin_text: Optional[str] = None) -> CommandResult:
        """Run argv with `timeout`, cut short by the global deadline."""
        return self.runner.run(argv, min(timeout, self.remaining()), env=env, stdin_text=stdin_text)

    def which(self, name: str) -> Optional[str]:
        """Where `name` is found on this machine's PATH, as a shell would find it."""
        if "/" in name:
            return name if self.fs.is_executable(name) else None
        for directory in self.env.get("PATH", os.defpath).split(os.pathsep):
            if directory:
                candidate = os.path.join(directory, name)
                if self.fs.is_executable(candidate):
                    return candidate
        return None


def live_context(options: Optional[Mapping[str, object]] = None) -> Context:
    options = dict(options or {})
    net = None
    if not options.get("offline"):  # sockets load only when the network is checked
        from envdoctor.machine.net import SystemNet

        net = SystemNet()
    host = Host(platform.system(), platform.machine(), sys.executable)
    return Context(runner=SubprocessRunner(), fs=RootedFS("/"), env=dict(os.environ),
                   nvml=SystemNvml(), host=host, options=options, net=net)
