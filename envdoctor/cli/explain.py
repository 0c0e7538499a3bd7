"""`envdoctor explain LOG`: read the log, diagnose it (explain/), render the explanation.

The signature tables and renderers are imported inside the command: `envdoctor explain --help`
must load none of them (tests/test_startup.py)."""
from __future__ import annotations

import os
from typing import Optional

import click

from envdoctor.cli import summary
from envdoctor.cli.options import color, json_option
from envdoctor.redact import Redactor
from envdoctor.render.json_doc import dumps


@click.command(short_help=summary("explain"))
@click.argument("log", required=False, metavar="LOG|-")
@json_option()
@click.option("--list", "list_codes", is_flag=True, help="List every finding code explain can report and exit.")
@click.option("--vllm", "vllm_version", metavar="VERSION",
              help="The vLLM version the log is about, when the log does not say (e.g. 0.5.3).")
@click.option("--max-mb", type=click.IntRange(1, 4096), default=256, show_default=True,
              help="Read at most this many MiB of the log (of a large file, its end).")
@click.option("-v", "--verbose", is_flag=True, help="Context for every problem and where each error text was seen.")
def explain(log: Optional[str], as_json: bool, list_codes: bool, vllm_version: Optional[str], max_mb: int,
            verbose: bool) -> int:
    """Explain a failing log (pip, uv, docker build, vLLM, torch): class, root-cause line, why, fix.

    Exit code: 0 nothing error-like in the log, 1 only warnings, 2 a cause was found, 3 error lines
    that no known signature explains (or the log cannot be read), 4 usage."""
    from envdoctor.compat.tables import Matrices
    from envdoctor.explain import codes, exit_code, explain_log
    from envdoctor.render import explain_human, explain_json

    matrices = Matrices()
    if list_codes:
        for name, category, shared, text in codes(matrices):
            click.echo(f"{name:36} {category:12} {'check' if shared else '':6} {text}")
        return 0
    if not log:
        raise click.UsageError("missing LOG: a log file, or - to read standard input")
    explanation = explain_log(log, matrices=matrices, vllm=vllm_version, max_bytes=max_mb << 20)
    code = exit_code(explanation)
    redactor = Redactor(os.environ)
    if as_json:
        click.echo(dumps(explain_json.document(explanation, code, redactor)))
    else:
        explain_human.render(explanation, code, redactor, verbose=verbose, color=color())
    return code
