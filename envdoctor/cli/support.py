"""How a command ends other than by its result (docs/exit-codes.md): one JSON document when its
input cannot be read, a closed standard output, and Ctrl-C / SIGTERM / SIGHUP."""
from __future__ import annotations

import os
import signal
import sys
from typing import Optional

import click

from envdoctor.core.exitcodes import EXIT_CANNOT_CHECK


class ClosedStdout(Exception):
    """Whoever read our standard output stopped reading (`| head`)."""


def _choose_language(_ctx: click.Context, _param: click.Parameter, value: Optional[str]) -> None:
    from envdoctor.messages import choose, set_language

    set_language(choose(value), explicit=value is not None)


def lang_option() -> click.Option:
    """--lang on every command (and sub-command): else ENVDOCTOR_LANG, else the locale."""
    return click.Option(
        ["--lang"],
        type=click.Choice(["zh", "en"], case_sensitive=False),
        is_eager=True,
        expose_value=False,
        callback=_choose_language,
        help="Language of the output: zh (Simplified Chinese) or en; else ENVDOCTOR_LANG, else the locale.",
    )


def with_lang(command):
    """`command` with --lang among its options (added once)."""
    if command is not None and not any(p.name == "lang" for p in command.params):
        command.params.append(lang_option())
    return command


class Group(click.Group):
    group_class = type  # sub-groups (matrices) are this class too, so their commands get --lang

    def get_command(self, ctx: click.Context, cmd_name: str):
        return with_lang(super().get_command(ctx, cmd_name))

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise ClosedStdout() from None


def cannot_read(message: str, as_json: bool) -> int:
    """Input that cannot be read: one line on stderr, and under --json still one document."""
    click.echo(f"envdoctor: {message}", err=True)
    if as_json:
        from envdoctor.render.json_doc import dumps, envelope  # a renderer: not for `envdoctor --help`

        click.echo(dumps(envelope({"exit_code": EXIT_CANNOT_CHECK, "error": message})))
    return EXIT_CANNOT_CHECK


def interrupt(signum, _frame) -> None:
    ignore_interrupts()  # one is enough: a second must not cut the cleanup short
    raise KeyboardInterrupt(signum)


def ignore_interrupts() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        try:
            signal.signal(signum, signal.SIG_IGN)
        except ValueError:
            pass


def interrupted(exc: BaseException) -> int:
    """Ctrl-C (click turns it into Abort), SIGTERM or SIGHUP: kill every child first, so
    nothing envdoctor started keeps running, then exit 128 + the signal's number."""
    from envdoctor.machine.children import kill_all  # subprocess and threads: not for `envdoctor --help`

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
