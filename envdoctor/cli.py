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
@click.option("--model", "model", metavar="ID_OR_DIR",
              help="Also check that this model fits the GPU (a local folder or a Hugging Face id).")
@click.option("--want", "want", metavar="vllm==X",
              help="Pre-install gate: exit 0 only if `fix --plan` finds a working plan for this vLLM and nothing is an error.")
def check(as_json: bool, verbose: bool, quick: bool, only: Tuple[str, ...], skip: Tuple[str, ...],
          list_codes: bool, ci: bool, python: Optional[str], deadline: float, debug: bool,
          record: Optional[str], replay: Optional[str], model: Optional[str], want: Optional[str]) -> int:
    """Probe this machine and report what stands between it and a working vLLM."""
    wish = _want(want) if want else None
    if list_codes:
        _list_codes()
        return 0
    only, skip = _areas(only), _areas(skip)
    options = {"quick": quick}
    if model:
        from .modelcfg import absolute

        options["model"] = model if replay else absolute(model)
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
    redactor = Redactor(ctx.env)
    report = run_check(ctx, only=only, skip=skip, deadline=deadline)
    code = exit_code(report)
    if record and not replay:
        from .system.replay import save_recording

        save_recording(ctx, record, redactor.text)
    gate = None
    if wish is not None:
        from .gate import decide

        gate = decide(report, code, wish)
        code = gate.code
    if as_json:
        from .render.json_doc import document, dumps

        doc = document(report, ALL_PROBES, code, redactor)
        if gate is not None:
            doc["want"] = redactor.data(gate.document())
        click.echo(dumps(doc))
    else:
        from .render.human import render

        render(report, ALL_PROBES, code, redactor, verbose=verbose, ci=ci, debug=debug,
               color=False if ci or os.environ.get("NO_COLOR") else None)
        for line in gate.lines() if gate is not None else ():
            click.echo(redactor.text(line))
    return code


def _want(text: str) -> str:
    """--want vllm==X (or any version range of vllm) -> the range, checked before probing."""
    from packaging.requirements import InvalidRequirement, Requirement

    from .resolve import UsageProblem, vllm_spec

    try:
        req = Requirement(text)
    except InvalidRequirement:
        raise click.BadParameter(f"{text!r} is not a requirement like vllm==0.5.3", param_hint="--want") from None
    if req.name.lower() != "vllm":
        raise click.BadParameter(f"{text!r}: only vllm can be wanted (vllm==X)", param_hint="--want")
    try:
        vllm_spec(str(req.specifier) or None)
    except UsageProblem as exc:
        raise click.BadParameter(str(exc), param_hint="--want") from None
    return str(req.specifier)


@cli.command()
@click.argument("model", metavar="ID_OR_DIR")
@click.option("--gpu", "gpu_name", metavar="NAME",
              help='A GPU from `envdoctor matrices show gpu`, e.g. "RTX 3050 Laptop" (default: GPU 0 here).')
@click.option("--vram", type=click.FloatRange(0.25, 4096), metavar="GB", help="The card's memory in GB.")
@click.option("--free", "free", type=click.FloatRange(0, 4096), metavar="GB",
              help="Free GPU memory in GB, when it is not measured here.")
@click.option("--max-model-len", "context", type=click.IntRange(128, 100_000_000), metavar="TOKENS",
              help="The context you need (default: the model's maximum).")
@click.option("--vllm", "vllm_version", metavar="VERSION", help="Size for this vLLM release (default: a current one).")
@click.option("-v", "--verbose", is_flag=True, help="Show the arithmetic.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def fit(model: str, gpu_name: Optional[str], vram: Optional[float], free: Optional[float], context: Optional[int],
        vllm_version: Optional[str], verbose: bool, as_json: bool) -> int:
    """Does a model fit on this GPU (or a named one) under vLLM, and with which settings?

    Exit code: 0 fits with vLLM's defaults, 1 fits with the settings shown, 2 does not fit."""
    from .matrices import Matrices
    from .model_fit import UnknownGpu, gpu_from_catalog, plan_for
    from .modelcfg import ModelConfigError, ModelNotFound, absolute, find_model
    from .redact import Redactor
    from .system.fs import RootedFS

    matrices = Matrices()
    try:
        shape = find_model(RootedFS("/"), os.environ, matrices, absolute(model))
    except (ModelNotFound, ModelConfigError) as exc:
        raise click.UsageError(str(exc)) from None
    notes = []
    if gpu_name or vram:
        try:
            gpu, notes = gpu_from_catalog(matrices, gpu_name, vram, free)
        except UnknownGpu as exc:
            raise click.UsageError(str(exc)) from None
    else:
        gpu, notes = _this_gpu(matrices, free)
    p = plan_for(shape, gpu, matrices, context=context, vllm=vllm_version, notes=notes)
    redactor = Redactor(os.environ)
    if as_json:
        import json

        from .render.fit_text import document

        click.echo(json.dumps(redactor.data(document(p)), indent=2))
    else:
        from .render.fit_text import render

        for line in render(p, verbose=verbose):
            click.echo(redactor.text(line))
    return {"fits": 0, "fits-with-settings": 1, "does-not-fit": 2}[p.verdict]


def _this_gpu(matrices, free: Optional[float]):
    """GPU 0 of this machine, measured through the driver probe (NVML, else nvidia-smi)."""
    from dataclasses import replace

    from .context import live_context
    from .model import Facts
    from .model_fit import gpu_from_fact
    from .probes import nvidia

    try:
        driver = nvidia.probe(live_context({}), Facts())
    except Exception as exc:  # noqa: BLE001 - absent, failed or timed out: all mean "say which GPU"
        raise click.UsageError(f"no NVIDIA GPU could be read here ({exc or type(exc).__name__}): pass "
                               "--gpu NAME or --vram GB") from None
    if not driver.gpus:
        raise click.UsageError("the NVIDIA driver reports no GPU: pass --gpu NAME or --vram GB")
    gpu = gpu_from_fact(driver.gpus[0], matrices)
    if gpu.total_bytes <= 0:
        raise click.UsageError(f"the driver did not report the memory of {gpu.name}: pass --vram GB")
    notes = [f"sized for GPU 0 of {len(driver.gpus)}"] if len(driver.gpus) > 1 else []
    if free is not None:
        gpu = replace(gpu, free_bytes=int(free * 1024) * 1024 * 1024)
    return gpu, notes


@cli.command()
@click.option("--plan", "mode", flag_value="plan", default=True, help="Print the plan (the default); changes nothing.")
@click.option("--apply", "mode", flag_value="apply", help="Carry the plan out in a NEW environment.")
@click.option("--format", "fmt", type=click.Choice(["human", "sh", "json", "md", "dockerfile"]), default="human",
              show_default=True, help="How --plan prints the plan.")
@click.option("--vllm", "vllm_version", metavar="VERSION|RANGE", help="The vLLM wanted (default: the newest that runs).")
@click.option("--model", metavar="ID_OR_DIR", help="Also size this model for the GPU (and pass it to run-smoke).")
@click.option("--python-version", "python_version", metavar="X.Y", help="The Python the new environment must use.")
@click.option("--driver", metavar="VERSION", help="Plan for this NVIDIA driver (another machine).")
@click.option("--gpu", "gpu_name", metavar="NAME", help='Plan for this GPU, e.g. "RTX 3050 Laptop".')
@click.option("--cc", metavar="X.Y", help="Plan for a GPU of this compute capability.")
@click.option("--os", "os_name", type=click.Choice(["wsl2", "linux"]), help="Plan for this OS.")
@click.option("--from-json", "from_json", metavar="FILE", help="Plan from a saved `envdoctor check --json`.")
@click.option("--python", "python", metavar="PATH", help="The interpreter (env) to inspect.")
@click.option("--env", "env_path", metavar="PATH", help="The NEW environment's directory (default ~/venvs/vllm-X).")
@click.option("--env-tool", type=click.Choice(["venv", "conda", "uv"]), help="How to create it (default: what you use).")
@click.option("--index-url", metavar="URL", help="Package index for vLLM and its dependencies (default: pip's config).")
@click.option("--torch-index-url", metavar="URL", help="Index for torch (default: its CUDA folder of the PyTorch index).")
@click.option("--yes", is_flag=True, help="--apply: do not ask before starting.")
@click.option("--dry-run", is_flag=True, help="--apply: say what would run (and what is already done); change nothing.")
@click.option("--cache-dir", metavar="DIR", help="--apply: wheelhouse and resume state (default ~/.cache/envdoctor).")
@click.option("--replay", type=click.Path(exists=True, file_okay=False), hidden=True)
def fix(mode: str, fmt: str, vllm_version: Optional[str], model: Optional[str], python_version: Optional[str],
        driver: Optional[str], gpu_name: Optional[str], cc: Optional[str], os_name: Optional[str],
        from_json: Optional[str], python: Optional[str], env_path: Optional[str], env_tool: Optional[str],
        index_url: Optional[str], torch_index_url: Optional[str], yes: bool, dry_run: bool, cache_dir: Optional[str],
        replay: Optional[str]) -> int:
    """A known-good install plan for vLLM on this machine (or one you describe), explained.

    Exit code: 0 a plan was found (applied), 2 nothing can work as asked / a step failed, 4 usage."""
    from .fixcmd import gather, plan_for
    from .matrices import Matrices
    from .redact import Redactor
    from .resolve import UsageProblem, Wishes

    wishes = Wishes(vllm_version, python_version, driver, gpu_name, cc, os_name)
    matrices_ = Matrices()
    try:
        inputs = gather(from_json, replay, python, DEFAULT_DEADLINE)
        resolution, plan = plan_for(inputs, wishes, matrices_, model, env_path, env_tool, index_url, torch_index_url)
    except UsageProblem as exc:
        raise click.UsageError(str(exc)) from None
    redactor = Redactor(os.environ)
    if mode == "apply":
        from .fixapply import run_apply

        return run_apply(resolution, plan, redactor, yes=yes, dry_run=dry_run, cache_dir=cache_dir)
    from .fixapply import render_plan

    return render_plan(resolution, plan, fmt, redactor, matrices_)


@cli.group()
def matrices() -> None:
    """The compatibility data envdoctor ships (matrices/), with the source of every row."""


@matrices.command("show")
@click.argument("table", type=click.Choice(["vllm", "torch", "cuda", "gpu", "model"]), default="vllm")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON (sources included).")
@click.option("--source", "with_source", is_flag=True, help="Add each row's source to the table.")
def matrices_show(table: str, as_json: bool, with_source: bool) -> int:
    """Print one table: vllm, torch, cuda, gpu or model."""
    from .matrices import Matrices
    from .render.matrix_table import render_text, sections

    data = sections(Matrices(), table)
    if as_json:
        import json

        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        for line in render_text(data, with_source=with_source):
            click.echo(line)
    return 0


@matrices.command("refresh")
@click.option("--index-url", metavar="URL", help="Read this index (default: pip's configuration, else pip's default).")
@click.option("--package", "packages", type=click.Choice(["vllm", "torch"]), multiple=True,
              help="Only this package (repeatable).")
@click.option("--timeout", type=click.FloatRange(0.1, 300), default=20.0, show_default=True,
              help="Seconds for each HTTP request.")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True,
              help="At most this many new releases per package.")
def matrices_refresh(index_url: Optional[str], packages: Tuple[str, ...], timeout: float, limit: int) -> int:
    """Propose rows for vLLM and torch releases newer than the data, as a diff to review.

    Nothing is written. Exit code: 0 up to date, 1 rows proposed, 3 the index could not be read."""
    from .matrices import Matrices
    from .pipindex import NoIndex, resolve
    from .redact import Redactor
    from .refresh import RefreshError, run

    redactor = Redactor(os.environ)
    try:
        url, where = resolve(os.environ, index_url)
    except NoIndex as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(redactor.text(f"index: {url} (from {where})"), err=True)
    try:
        proposals = run(url, Matrices(), packages or ("vllm", "torch"), timeout, limit)
    except RefreshError as exc:
        click.echo(f"envdoctor: {redactor.text(str(exc))}", err=True)
        return EXIT_CANNOT_CHECK
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
