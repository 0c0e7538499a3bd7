"""`envdoctor matrices show|refresh`: print a shipped compatibility table with its sources, or
propose rows for newer vLLM and torch releases as a diff to review."""
from __future__ import annotations

import json
import os
from typing import Optional, Tuple

import click

from envdoctor.cli import summary
from envdoctor.cli.options import Number, checked_index_url
from envdoctor.cli.support import Group
from envdoctor.compat import pipindex, refresh
from envdoctor.compat.tables import Matrices
from envdoctor.redact import Redactor
from envdoctor.render.matrix_table import render_text, sections


@click.group(cls=Group, short_help=summary("matrices"))
def matrices() -> None:
    """The compatibility data envdoctor ships (matrices/), with the source of every row."""


@matrices.command("show")
@click.argument("table", type=click.Choice(["vllm", "torch", "cuda", "gpu", "model"]), default="vllm")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON (sources included).")
@click.option("--source", "with_source", is_flag=True, help="Add each row's source to the table.")
def matrices_show(table: str, as_json: bool, with_source: bool) -> int:
    """Print one table: vllm, torch, cuda, gpu or model."""
    data = sections(Matrices(), table)
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        for line in render_text(data, with_source=with_source):
            click.echo(line)
    return 0


@matrices.command("refresh", short_help="Propose rows for newer vLLM and torch releases.")
@click.option("--index-url", metavar="URL", help="Read this index (default: pip's configuration, else pip's default).")
@click.option("--package", "packages", type=click.Choice(["vllm", "torch"]), multiple=True,
              help="Only this package (repeatable).")
@click.option("--timeout", type=Number(0.1, 300), default=20.0, show_default=True,
              help="Seconds for each HTTP request.")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True,
              help="At most this many new releases per package.")
def matrices_refresh(index_url: Optional[str], packages: Tuple[str, ...], timeout: float, limit: int) -> int:
    """Propose rows for vLLM and torch releases newer than the data, as a diff to review.

    Nothing is written. Exit code: 0 up to date, 1 rows proposed, 3 the index could not be read."""
    redactor = Redactor(os.environ)
    url, where = pipindex.resolve(os.environ, index_url)
    checked_index_url(url, "--index-url" if index_url else f"the index ({where})")
    click.echo(redactor.text(f"index: {url} (from {where})"), err=True)
    proposals = refresh.run(url, Matrices(), packages or ("vllm", "torch"), timeout, limit)
    proposed = False
    for p in proposals:
        if not p.new_versions:
            click.echo(f"{p.table}: no release newer than the data", err=True)
            continue
        proposed = True
        click.echo(f"{p.table}: {len(p.new_versions)} new release(s): {', '.join(p.new_versions)}", err=True)
        click.echo(redactor.text(p.diff), nl=False)
        for problem in p.problems:
            click.echo(f"{p.table}: to fill in before these rows load: {problem}", err=True)
    if proposed:
        click.echo("Review the rows, fill the empty columns from the sources named, then apply the diff "
                   "(envdoctor never writes matrices/).", err=True)
    return 1 if proposed else 0
