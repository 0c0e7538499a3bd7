"""What the command line checks before a command runs, and how it ends when interrupted:
values that must be refused with exit 4 (docs/exit-codes.md), one JSON document when input
cannot be read, a closed standard output, and Ctrl-C / SIGTERM / SIGHUP."""
from __future__ import annotations

import os
import sys
from typing import Optional, Tuple

import click

from envdoctor import __version__
from envdoctor.core.exitcodes import EXIT_CANNOT_CHECK


class Number(click.FloatRange):
    """click.FloatRange, without NaN: NaN passes every range check and then disables what it
    sets (a deadline, a watchdog) or crashes what uses it."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if number != number:
            self.fail(f"{value!r} is not a number", param, ctx)
        return number


def python_arg(value: str) -> str:
    """--python resolved once: a path, or a name on PATH; an interpreter, else exit 4."""
    from envdoctor.machine.interpreter import NotAnInterpreter, resolve

    try:
        return resolve(value)
    except NotAnInterpreter as exc:
        raise click.BadParameter(str(exc), param_hint="--python") from None


def checked_index_url(value: Optional[str], flag: str, schemes: Tuple[str, ...] = ("http", "https")) -> Optional[str]:
    """An index URL given on the command line (or read from pip's configuration) that can be used."""
    from urllib.parse import urlsplit

    if value is None:
        return None
    from envdoctor.redact import Redactor

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


def known_cc(text: str) -> None:
    """--cc X.Y: X from 1 up to the newest architecture in envdoctor's GPU table."""
    import re

    from envdoctor.compat.tables import Matrices

    newest = max(int(g.compute_capability.split(".")[0]) for g in Matrices().table("gpus"))
    m = re.fullmatch(r"\s*(\d+)\.(\d)\s*", text)
    if not m:
        raise click.BadParameter(f"{text!r} is not a compute capability like 8.6", param_hint="--cc")
    if not 1 <= int(m.group(1)) <= newest:
        raise click.BadParameter(f"{text!r}: no NVIDIA GPU has this compute capability (envdoctor's GPU table "
                                 f"goes up to {newest}.x: `envdoctor matrices show gpu`)", param_hint="--cc")


class ClosedStdout(Exception):
    """Whoever read our standard output stopped reading (`| head`)."""


def _choose_language(_ctx: click.Context, _param: click.Parameter, value: Optional[str]) -> None:
    from envdoctor.messages import choose, set_language

    set_language(choose(value), explicit=value is not None)


def lang_option() -> click.Option:
    """--lang on every command (and sub-command): else ENVDOCTOR_LANG, else the locale."""
    return click.Option(["--lang"], type=click.Choice(["zh", "en"], case_sensitive=False), is_eager=True,
                        expose_value=False, callback=_choose_language,
                        help="Language of the output: zh (Simplified Chinese) or en; else ENVDOCTOR_LANG, else the locale.")


class Group(click.Group):
    group_class = type  # sub-groups (matrices) are this class too, so their commands get --lang

    def get_command(self, ctx: click.Context, cmd_name: str):
        command = super().get_command(ctx, cmd_name)
        if command is not None and not any(p.name == "lang" for p in command.params):
            command.params.append(lang_option())
        return command

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise ClosedStdout() from None


def record_dir(path: str) -> None:
    """--record DIR: a new or empty folder, or an earlier recording (replaced); made before probing."""
    if os.path.isdir(path) and os.listdir(path) and not os.path.exists(os.path.join(path, "machine.json")):
        raise click.BadParameter(f"{path} is not empty and holds no earlier recording: choose a new folder",
                                 param_hint="--record")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise click.BadParameter(f"cannot create {path}: {exc.strerror or exc}", param_hint="--record") from None


def cannot_read(message: str, as_json: bool) -> int:
    """Input that cannot be read: one line on stderr, and under --json still one document."""
    click.echo(f"envdoctor: {message}", err=True)
    if as_json:
        from envdoctor.render.json_doc import SCHEMA_VERSION, dumps

        click.echo(dumps({"schema_version": SCHEMA_VERSION, "tool": {"name": "envdoctor", "version": __version__},
                          "exit_code": EXIT_CANNOT_CHECK, "error": message}))
    return EXIT_CANNOT_CHECK


def interrupt(signum, _frame) -> None:
    ignore_interrupts()  # one is enough: a second must not cut the cleanup short
    raise KeyboardInterrupt(signum)


def ignore_interrupts() -> None:
    import signal

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        try:
            signal.signal(signum, signal.SIG_IGN)
        except ValueError:
            pass


def interrupted(exc: BaseException) -> int:
    """Ctrl-C (click turns it into Abort), SIGTERM or SIGHUP: kill every child first, so
    nothing envdoctor started keeps running, then exit 128 + the signal's number."""
    import signal

    from envdoctor.machine.children import kill_all

    ignore_interrupts()
    kill_all()
    cause = exc if isinstance(exc, KeyboardInterrupt) else exc.__cause__ or exc.__context__
    if not isinstance(cause, KeyboardInterrupt):  # a confirmation answered "no"
        click.echo("envdoctor: aborted", err=True)
        return EXIT_CANNOT_CHECK
    signum = cause.args[0] if cause.args and isinstance(cause.args[0], int) else signal.SIGINT
    click.echo(f"envdoctor: interrupted ({signal.Signals(signum).name}); nothing it started is left running",
               err=True)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    # Straight out: the interpreter's shutdown would wait on probe threads, and an interrupt
    # caught there turns the exit status into "killed by SIGINT".
    os._exit(128 + int(signum))
