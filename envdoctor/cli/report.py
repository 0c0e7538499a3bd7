"""`envdoctor report`: check this machine (or read a pasted collect_env report), word it for sharing
(render/share.py) and print it or write it to a file atomically (machine/files.py)."""
from __future__ import annotations

import os
from typing import Optional

import click

from envdoctor.check.run import exit_code, run_check
from envdoctor.cli import summary
from envdoctor.cli.options import context, deadline_option, progress, python_option, remember_json, replay_option
from envdoctor.compat.tables import Matrices
from envdoctor.core.errors import EnvdoctorError
from envdoctor.machine.files import NotARegularFile, write_file
from envdoctor.redact import Redactor
from envdoctor.render.share import share_text
from envdoctor.report.collect_env import check_report


@click.command(short_help=summary("report"))
@click.option("--markdown", "fmt", flag_value="markdown", default=True, help="Markdown (the default).")
@click.option("--json", "fmt", flag_value="json", help="The check's JSON document, redacted the same way.",
              callback=remember_json)
@click.option("-o", "--output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the report to FILE instead of standard output.")
@click.option("--no-redact-paths", is_flag=True,
              help="Keep the home directory and host name (secrets are always redacted).")
@click.option("--from-report", "from_report", metavar="FILE|-",
              help="Report on a pasted collect_env report instead of this machine.")
@click.option("--quick", is_flag=True, help="Skip probes that import torch in a child process.")
@click.option("--offline", is_flag=True, help="Skip the network checks.")
@python_option()
@deadline_option()
@replay_option("Report on a recorded fixture machine instead of this one.")
def report(fmt: str, output: Optional[str], no_redact_paths: bool, from_report: Optional[str], quick: bool,
           offline: bool, python: Optional[str], deadline: float, replay: Optional[str]) -> int:
    """A shareable, redacted report of `check` (facts, findings, their fixes in order) for a bug
    report or a forum post. Exit code 0 once written; 3 if it could not be made."""
    parsed = None
    if from_report:
        result, parsed = check_report(from_report)
        env = parsed.report.env_vars
        redactor = Redactor.for_sharing(os.environ, redact_paths=not no_redact_paths)
    else:
        options: dict = {"quick": quick, "torch_cache": not replay}
        if offline:
            options["offline"] = "--offline"
        ctx = context(options, python, replay)
        with progress(fmt == "json" and not output, False) as on_tick:
            result = run_check(ctx, Matrices(), deadline=deadline, on_tick=on_tick)
        env = ctx.env
        redactor = Redactor.for_sharing(ctx.env, redact_paths=not no_redact_paths)
    text = share_text(result, exit_code(result), redactor, as_json=fmt == "json", env=env, parsed=parsed,
                      redacted_paths=not no_redact_paths)
    if not output:
        click.echo(text, nl=False)
        return 0
    try:
        write_file(output, text)
    except NotARegularFile as exc:
        raise click.BadParameter(str(exc), param_hint="-o") from None
    except OSError as exc:
        raise EnvdoctorError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"envdoctor: wrote {output} ({text.count(chr(10))} lines, redacted); read it before you share it",
               err=True)
    return 0
