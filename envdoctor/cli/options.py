"""What the commands share: the options several of them take (--python, --replay, --record,
--deadline, --json, --ci), the values they refuse with exit 4, the one Context builder they call,
the colour decision and the progress line. Light on purpose: every command's `--help` loads it."""
from __future__ import annotations

import os
import re
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterator, Optional, Tuple
from urllib.parse import urlsplit

import click

from envdoctor.core.areas import AREAS, DEFAULT_DEADLINE
from envdoctor.machine.interpreter import NotAnInterpreter, resolve
from envdoctor.redact import Redactor
from envdoctor.render import progress as status_line

if TYPE_CHECKING:
    from envdoctor.machine.context import Context

PROGRESS_AFTER = 0.4  # seconds before the progress line appears: a quick check shows none
PYTHON_HELP = "The interpreter to inspect: a path, a name on PATH (python3.11) or a venv folder."


class Number(click.FloatRange):
    """click.FloatRange, without NaN: NaN passes every range check and then disables what it
    sets (a deadline, a watchdog) or crashes what uses it."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if number != number:
            self.fail(f"{value!r} is not a number", param, ctx)
        return number


def remember_json(ctx: click.Context, _param: click.Parameter, value):
    """main() writes one JSON document even when the input cannot be read: tell it JSON was asked for."""
    if value is True or value == "json":
        ctx.ensure_object(dict)["json"] = True
    return value


def json_option(help: str = "Print one versioned JSON document.", *, dest: str = "as_json", **kw):
    return click.option("--json", dest, is_flag=True, help=help, callback=remember_json, **kw)


def python_option(help: str = PYTHON_HELP):
    return click.option("--python", "python", metavar="PATH", help=help)


def deadline_option():
    return click.option("--deadline", type=Number(0.5, 600), default=DEFAULT_DEADLINE, show_default=True,
                        help="Seconds for the whole check.")


def replay_option(help: Optional[str] = None, metavar: Optional[str] = "DIR"):
    return click.option("--replay", type=click.Path(exists=True, file_okay=False), metavar=metavar, hidden=True,
                        help=help)


def record_option():
    return click.option("--record", type=click.Path(file_okay=False), metavar="DIR",
                        help="Also save what the probes read as a fixture directory (secrets redacted).")


def ci_option():
    return click.option("--ci", is_flag=True, help="No colour, a short summary; the exit code is the gate.")


def color(plain: bool = False) -> Optional[bool]:
    """The one colour decision: none under --ci (`plain`) or NO_COLOR (no-color.org), else rich decides."""
    return False if plain or os.environ.get("NO_COLOR") else None


def console(stderr: bool = False):
    """A rich console for the views that print as they go, honouring NO_COLOR."""
    from envdoctor.render.console import Console  # rich: only the commands that print with it load it

    return Console(stderr=stderr, no_color=color() is False, soft_wrap=True)


def python_arg(value: str) -> str:
    """--python resolved once: a path, or a name on PATH; an interpreter, else exit 4."""
    try:
        return resolve(value)
    except NotAnInterpreter as exc:
        raise click.BadParameter(str(exc), param_hint="--python") from None


def context(options: dict, python: Optional[str] = None, replay: Optional[str] = None,
            record: Optional[str] = None) -> Context:
    """The Context a command probes through: this machine (recording it with --record) or a
    replayed fixture machine; --python must name an interpreter on this machine."""
    from envdoctor.machine.target import machine_context  # the probes' runner and NVML: not for --help

    if python is not None:
        options = dict(options, python=python if replay else python_arg(python))
    return machine_context(options, replay, record=bool(record))


def areas(values: Tuple[str, ...]) -> Tuple[str, ...]:
    """--only/--skip: comma-separated or repeated area names, each one envdoctor knows."""
    out: list = []
    for value in values:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    bad = [a for a in out if a not in AREAS]
    if bad:
        raise click.BadParameter(f"unknown area {', '.join(bad)}; areas are: {', '.join(AREAS)}")
    return tuple(out)


def urls(values: Tuple[str, ...]) -> Tuple[str, ...]:
    """--url: http(s) URLs with a host (a bad port is refused here, not in a probe)."""
    for value in values:
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise click.BadParameter(f"{Redactor(os.environ).text(value)!r} is not an http(s) URL", param_hint="--url")
    return values


def checked_index_url(value: Optional[str], flag: str, schemes: Tuple[str, ...] = ("http", "https")) -> Optional[str]:
    """An index URL given on the command line (or read from pip's configuration) that can be used."""
    if value is None:
        return None
    shown = Redactor(os.environ).text(value)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise click.BadParameter(f"{shown!r} is not a URL ({exc})", param_hint=flag) from None
    if parts.scheme == "file" and "file" not in schemes:
        raise click.BadParameter(f"{shown!r}: file:// indexes are not supported here; serve the folder over "
                                 "http (python3 -m http.server) or name an http(s) index", param_hint=flag)
    if parts.scheme not in schemes or (parts.scheme != "file" and not parts.hostname):
        raise click.BadParameter(f"{shown!r} is not an index URL like https://host/simple/", param_hint=flag)
    return value


def known_cc(text: str, newest: int) -> None:
    """--cc X.Y: X from 1 up to the newest architecture in envdoctor's GPU table."""
    m = re.fullmatch(r"\s*(\d+)\.(\d)\s*", text)
    if not m:
        raise click.BadParameter(f"{text!r} is not a compute capability like 8.6", param_hint="--cc")
    if not 1 <= int(m.group(1)) <= newest:
        raise click.BadParameter(f"{text!r}: no NVIDIA GPU has this compute capability (envdoctor's GPU table "
                                 f"goes up to {newest}.x: `envdoctor matrices show gpu`)", param_hint="--cc")


def record_dir(path: str) -> None:
    """--record DIR: a new or empty folder, or an earlier recording (replaced); made before probing."""
    if os.path.isdir(path) and os.listdir(path) and not os.path.exists(os.path.join(path, "machine.json")):
        raise click.BadParameter(f"{path} is not empty and holds no earlier recording: choose a new folder",
                                 param_hint="--record")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise click.BadParameter(f"cannot create {path}: {exc.strerror or exc}", param_hint="--record") from None


@contextmanager
def progress(as_json: bool, ci: bool) -> Iterator[Optional[Callable]]:
    """An on_tick for run_check: one line on a terminal's stderr naming the areas still
    running, after a short wait (a quick check shows none); erased before the report."""
    if not status_line.wanted(as_json, ci):
        yield None
        return
    line, start = status_line.StatusLine(), time.monotonic()

    def on_tick(running, left: float) -> None:
        if time.monotonic() - start >= PROGRESS_AFTER:
            line.show(status_line.check_line(running, left))
    try:
        yield on_tick
    finally:
        line.clear()
