"""The command line: parse, build a Context, call the core, render. This is the one place
where exceptions become exit codes (docs/exit-codes.md):
0 no warnings, 1 warnings, 2 errors, 3 could not check, 4 usage error."""
from __future__ import annotations

import os
import sys
from typing import Optional, Tuple

import click

from . import __version__
from .check import DEFAULT_DEADLINE, EXIT_CANNOT_CHECK, EXIT_USAGE, exit_code, run_check
from .model import DataError
from .probes import ALL_PROBES, AREAS


def _areas(values: Tuple[str, ...]) -> Tuple[str, ...]:
    out = []
    for value in values:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    bad = [a for a in out if a not in AREAS]
    if bad:
        raise click.BadParameter(f"unknown area {', '.join(bad)}; areas are: {', '.join(AREAS)}")
    return tuple(out)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="envdoctor")
def cli() -> None:
    """Diagnose and fix a machine for running vLLM (driver, CUDA, torch, Python, WSL2)."""


def _list_codes() -> None:
    from .rules import ALL_RULES

    for r in ALL_RULES:
        click.echo(f"{r.code:34} {r.area:10} {r.summary}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print one versioned JSON document.")
@click.option("-v", "--verbose", is_flag=True, help="Show every fact and each probe's time.")
@click.option("--quick", is_flag=True, help="Skip probes that import torch in a child process.")
@click.option("--only", multiple=True, metavar="AREA", help=f"Run only these areas: {', '.join(AREAS)}.")
@click.option("--skip", multiple=True, metavar="AREA", help="Skip these areas.")
@click.option("--list", "list_codes", is_flag=True, help="List every finding code and exit.")
@click.option("--ci", is_flag=True, help="No colour, a short summary; the exit code is the gate.")
@click.option("--python", "python", metavar="PATH", help="The interpreter (env) to inspect.")
@click.option("--deadline", type=click.FloatRange(0.5, 600), default=DEFAULT_DEADLINE, show_default=True,
              help="Seconds for the whole check.")
@click.option("--debug", is_flag=True, help="Show tracebacks of probes and of envdoctor itself.")
@click.option("--record", type=click.Path(file_okay=False), metavar="DIR",
              help="Also save what the probes read as a fixture directory (secrets redacted).")
@click.option("--replay", type=click.Path(exists=True, file_okay=False), metavar="DIR", hidden=True,
              help="Check a recorded fixture machine instead of this one.")
@click.option("--from-report", "from_report", metavar="FILE|-",
              help="Judge a pasted `python -m torch.utils.collect_env` or vLLM `collect-env` report "
                   "instead of this machine.")
def check(as_json: bool, verbose: bool, quick: bool, only: Tuple[str, ...], skip: Tuple[str, ...],
          list_codes: bool, ci: bool, python: Optional[str], deadline: float, debug: bool,
          record: Optional[str], replay: Optional[str], from_report: Optional[str]) -> int:
    """Probe this machine and report what stands between it and a working vLLM."""
    if list_codes:
        _list_codes()
        return 0
    if from_report:
        if replay or record or python or only or skip:
            raise click.UsageError("--from-report reads a report: it cannot be combined with "
                                   "--replay, --record, --python, --only or --skip")
        return _check_from_report(from_report, as_json, verbose, ci, debug)
    only, skip = _areas(only), _areas(skip)
    options = {"quick": quick}
    if python:
        if not replay and not os.path.exists(python):
            raise click.BadParameter(f"{python} does not exist", param_hint="--python")
        options["python"] = python
    from .redact import Redactor

    if replay:
        from .system.replay import replay_context

        ctx = replay_context(replay, options)
    else:
        from .context import live_context

        ctx = live_context(options)
        if record:
            from .system.replay import recording_context

            ctx = recording_context(ctx)
    from .matrices import Matrices

    redactor = Redactor(ctx.env)
    report = run_check(ctx, Matrices(), only=only, skip=skip, deadline=deadline)
    code = exit_code(report)
    if record and not replay:
        from .system.replay import save_recording

        save_recording(ctx, record, redactor.text)
    if as_json:
        from .render.json_doc import document, dumps

        click.echo(dumps(document(report, ALL_PROBES, code, redactor)))
    else:
        from .render.human import render

        render(report, ALL_PROBES, code, redactor, verbose=verbose, ci=ci, debug=debug,
               color=False if ci or os.environ.get("NO_COLOR") else None)
    return code


def _load_report(path: str):
    """(Report, ParsedReport), or None after printing why the file is no report."""
    from .report_parse import ReportError, check_report

    try:
        return check_report(path)
    except ReportError as exc:
        click.echo(f"envdoctor: {exc}", err=True)
        return None


def _check_from_report(path: str, as_json: bool, verbose: bool, ci: bool, debug: bool) -> int:
    from .redact import Redactor

    loaded = _load_report(path)
    if loaded is None:
        return EXIT_CANNOT_CHECK
    report, parsed = loaded
    code = exit_code(report)
    redactor = Redactor(os.environ)
    from .render import from_report

    if as_json:
        from .render.json_doc import document, dumps

        doc = document(report, ALL_PROBES, code, redactor)
        doc["from_report"] = redactor.data(from_report.document(parsed))
        click.echo(dumps(doc))
    else:
        from .render.human import render

        render(report, ALL_PROBES, code, redactor, verbose=verbose, ci=ci, debug=debug,
               color=False if ci or os.environ.get("NO_COLOR") else None,
               title=from_report.title(parsed), footer=from_report.footer(parsed, verbose))
    return code


@cli.command()
@click.option("--markdown", "fmt", flag_value="markdown", default=True, help="Markdown (the default).")
@click.option("--json", "fmt", flag_value="json", help="The check's JSON document, redacted the same way.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the report to FILE instead of standard output.")
@click.option("--no-redact-paths", is_flag=True,
              help="Keep the home directory and host name (secrets are always redacted).")
@click.option("--from-report", "from_report", metavar="FILE|-",
              help="Report on a pasted collect_env report instead of this machine.")
@click.option("--quick", is_flag=True, help="Skip probes that import torch in a child process.")
@click.option("--python", "python", metavar="PATH", help="The interpreter (env) to inspect.")
@click.option("--deadline", type=click.FloatRange(0.5, 600), default=DEFAULT_DEADLINE, show_default=True,
              help="Seconds for the whole check.")
@click.option("--replay", type=click.Path(exists=True, file_okay=False), metavar="DIR", hidden=True,
              help="Report on a recorded fixture machine instead of this one.")
def report(fmt: str, output: Optional[str], no_redact_paths: bool, from_report: Optional[str], quick: bool,
           python: Optional[str], deadline: float, replay: Optional[str]) -> int:
    """A shareable, redacted report of `check` (facts, findings, plan summary) for a bug
    report or a forum post. Exit code 0 once written; 3 if it could not be made."""
    from .redact import Redactor

    source = None
    extra: list = []
    if from_report:
        loaded = _load_report(from_report)
        if loaded is None:
            return EXIT_CANNOT_CHECK
        result, parsed = loaded
        env = parsed.report.env_vars
        source = parsed.source
        from .render import from_report as fr

        extra = ["## From the report\n\n" + "\n\n".join(
            "```\n" + block + "\n```" for block in fr.footer(parsed))] if fr.footer(parsed) else []
        redactor = Redactor.for_sharing(os.environ, redact_paths=not no_redact_paths)
    else:
        options = {"quick": quick}
        if python:
            if not replay and not os.path.exists(python):
                raise click.BadParameter(f"{python} does not exist", param_hint="--python")
            options["python"] = python
        if replay:
            from .system.replay import replay_context

            ctx = replay_context(replay, options)
        else:
            from .context import live_context

            ctx = live_context(options)
        from .matrices import Matrices

        result = run_check(ctx, Matrices(), deadline=deadline)
        env = ctx.env
        redactor = Redactor.for_sharing(ctx.env, redact_paths=not no_redact_paths)
    code = exit_code(result)
    if fmt == "json":
        from .render.json_doc import document, dumps

        doc = document(result, ALL_PROBES, code, redactor)
        if from_report:
            from .render import from_report as fr

            doc["from_report"] = redactor.data(fr.document(parsed))
        text = redactor.text(dumps(doc)) + "\n"
    else:
        from .render.markdown import render as markdown

        text = markdown(result, ALL_PROBES, code, redactor, env=env, source=source, extra=extra,
                        redacted_paths=not no_redact_paths)
    if output:
        tmp = f"{output}.tmp{os.getpid()}"
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, output)
        except OSError as exc:
            click.echo(f"envdoctor: cannot write {output}: {exc.strerror or exc}", err=True)
            return EXIT_CANNOT_CHECK
        click.echo(f"envdoctor: wrote {output} ({text.count(chr(10))} lines, redacted); read it before you share it",
                   err=True)
    else:
        click.echo(text, nl=False)
    return 0


@cli.command()
@click.argument("log", required=False, metavar="LOG|-")
@click.option("--json", "as_json", is_flag=True, help="Print one versioned JSON document.")
@click.option("--list", "list_codes", is_flag=True, help="List every finding code explain can report and exit.")
@click.option("--vllm", "vllm_version", metavar="VERSION",
              help="The vLLM version the log is about, when the log does not say (e.g. 0.5.3).")
@click.option("--max-mb", type=click.IntRange(1, 4096), default=256, show_default=True,
              help="Read at most this many MiB of the log (of a large file, its end).")
@click.option("-v", "--verbose", is_flag=True, help="Context for every problem and where each error text was seen.")
def explain(log: Optional[str], as_json: bool, list_codes: bool, vllm_version: Optional[str], max_mb: int,
            verbose: bool) -> int:
    """Explain a failing log (pip, uv, docker build, vLLM, torch): class, root-cause line, why, fix."""
    from .explain import LogInputError, codes, exit_code, explain_log
    from .matrices import Matrices
    from .redact import Redactor

    matrices = Matrices()
    if list_codes:
        for code, category, shared, summary in codes(matrices):
            click.echo(f"{code:36} {category:12} {'check' if shared else '':6} {summary}")
        return 0
    if not log:
        raise click.UsageError("missing LOG: a log file, or - to read standard input")
    try:
        explanation = explain_log(log, matrices=matrices, vllm=vllm_version, max_bytes=max_mb << 20)
    except LogInputError as exc:
        click.echo(f"envdoctor: {exc}", err=True)
        return EXIT_CANNOT_CHECK
    code = exit_code(explanation)
    redactor = Redactor(os.environ)
    if as_json:
        from .render.json_doc import dumps
        from .render.explain_json import document

        click.echo(dumps(document(explanation, code, redactor)))
    else:
        from .render.explain_human import render

        render(explanation, code, redactor, verbose=verbose,
               color=False if os.environ.get("NO_COLOR") else None)
    return code


def main(argv: Optional[list] = None) -> None:
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        code = cli.main(args=argv, prog_name="envdoctor", standalone_mode=False)
    except click.exceptions.UsageError as exc:
        click.echo(f"envdoctor: {exc.format_message()}", err=True)
        code = EXIT_USAGE
    except click.exceptions.Abort:
        click.echo("envdoctor: aborted", err=True)
        code = EXIT_CANNOT_CHECK
    except DataError as exc:
        click.echo(f"envdoctor: corrupt compatibility data: {exc}", err=True)
        code = EXIT_CANNOT_CHECK
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        if debug:
            raise
        click.echo(f"envdoctor: internal error: {type(exc).__name__}: {exc} (rerun with --debug)", err=True)
        code = EXIT_CANNOT_CHECK
    sys.exit(code if isinstance(code, int) else 0)
