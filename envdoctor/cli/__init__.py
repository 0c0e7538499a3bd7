"""The command line: parse, build a Context, call the core, render. One module per command
(check.py, fix.py, fit.py, smoke.py, explain.py, report.py, matrices.py), loaded only when that
command runs: the group is lazy, so `envdoctor --help` and `--version` import no command, probe,
rule or renderer. main() is the one place where exceptions become exit codes (docs/exit-codes.md):
0 no warnings, 1 warnings, 2 errors, 3 could not check, 4 usage error."""
from __future__ import annotations

import importlib
import os
import signal
import sys
from difflib import get_close_matches
from typing import Dict, List, Optional, Tuple

import click

from envdoctor import __version__
from envdoctor.cli.support import ClosedStdout, Group, cannot_read, interrupt, interrupted, with_lang
from envdoctor.core.errors import DataError, EnvdoctorError, InputError, UsageError
from envdoctor.core.exitcodes import EXIT_CANNOT_CHECK, EXIT_CLOSED_STDOUT, EXIT_USAGE

# name: (the module and attribute that define it, its one line in `envdoctor --help`). The line
# is kept here so the group's help need not import the command; test_cli_package checks they agree.
COMMANDS: Dict[str, Tuple[str, str]] = {
    "check": ("envdoctor.cli.check:check", "What stands between this machine and a working vLLM."),
    "explain": ("envdoctor.cli.explain:explain", "Explain a failing log: cause, why, fix."),
    "fit": ("envdoctor.cli.fit:fit", "Does a model fit on this GPU under vLLM, and how."),
    "fix": ("envdoctor.cli.fix:fix", "A known-good install plan for vLLM; --apply runs it."),
    "matrices": ("envdoctor.cli.matrices:matrices", "The compatibility data envdoctor ships."),
    "report": ("envdoctor.cli.report:report", "A shareable, redacted report of check."),
    "run-smoke": ("envdoctor.cli.smoke:run_smoke", "Run a real vLLM generation and time each phase."),
}


def summary(name: str) -> str:
    """A command's one-line help, for its own `short_help=`."""
    return COMMANDS[name][1]


class LazyGroup(Group):
    """click's lazy-loading group (docs: "Lazily Loading Subcommands"): a command's module is
    imported when that command is looked up, and the list in --help comes from COMMANDS."""

    def list_commands(self, ctx: click.Context) -> List[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> Optional[click.Command]:
        if cmd_name not in COMMANDS:
            return None
        module, _, attr = COMMANDS[cmd_name][0].partition(":")
        return with_lang(getattr(importlib.import_module(module), attr))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="envdoctor")
def cli() -> None:
    """Diagnose and fix a machine for running vLLM (driver, CUDA, torch, Python, WSL2)."""


def _usage_message(exc: click.exceptions.UsageError) -> str:
    """click's message, without a far-fetched "Did you mean" (--fast is not --want)."""
    if isinstance(exc, click.exceptions.NoSuchOption) and exc.possibilities:
        close = get_close_matches(exc.option_name, exc.possibilities, cutoff=0.8)
        if not close:
            return exc.message
    return exc.format_message()


def _say(message: str) -> None:
    from envdoctor.redact import Redactor  # a message may carry a password: --index-url http://u:pw@...

    click.echo(f"envdoctor: {Redactor(os.environ).text(message)}", err=True)


def main(argv: Optional[list] = None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    # check has --debug; every command honours ENVDOCTOR_DEBUG=1 (fix, explain, ... have no --debug).
    debug = "--debug" in args or os.environ.get("ENVDOCTOR_DEBUG") == "1"
    for signum in (signal.SIGTERM, signal.SIGHUP):  # end like Ctrl-C: children killed, one line
        try:
            signal.signal(signum, interrupt)
        except ValueError:  # not the main thread (an embedding program): its signals stay its own
            pass
    for stream in (sys.stdout, sys.stderr):
        # Text from a child or a file may hold lone surrogates (a non-UTF-8 path, "\ud800" in
        # JSON): they print as \udcXX escapes, which also keeps --json one valid document.
        reconfigure = getattr(stream, "reconfigure", None)  # a replaced stream may have none
        try:
            if reconfigure is not None:
                reconfigure(errors="backslashreplace")
        except ValueError:
            pass
    asked: dict = {}  # what the options told main(): {"json": True} under --json (options.json_option)
    try:
        code = cli.main(args=argv, prog_name="envdoctor", standalone_mode=False, obj=asked)
    except click.exceptions.NoArgsIsHelpError as exc:  # `envdoctor` alone: the help, as --help shows it
        click.echo(exc.format_message())
        code = 0
    except click.exceptions.UsageError as exc:
        _say(_usage_message(exc))
        code = EXIT_USAGE
    except (click.exceptions.Abort, KeyboardInterrupt) as exc:
        code = interrupted(exc)
    except DataError as exc:
        _say(f"corrupt compatibility data: {exc}")
        code = exc.exit_code
    except InputError as exc:
        from envdoctor.redact import Redactor

        code = cannot_read(Redactor(os.environ).text(str(exc)), bool(asked.get("json")))
    except (UsageError, EnvdoctorError) as exc:
        _say(str(exc))
        code = exc.exit_code
    except ClosedStdout:
        # Not a finding: say nothing more on a pipe nobody reads, exit as a shell's SIGPIPE does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_CLOSED_STDOUT
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        if debug:
            raise
        click.echo(f"envdoctor: internal error: {type(exc).__name__}: {exc} (a bug: please report it; "
                   "ENVDOCTOR_DEBUG=1 shows the traceback)", err=True)
        code = EXIT_CANNOT_CHECK
    sys.exit(code if isinstance(code, int) else 0)
