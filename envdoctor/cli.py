"""The command line: parse, build a Context, call the core, render. This is the one place
where exceptions become exit codes (docs/exit-codes.md):
0 no warnings, 1 warnings, 2 errors, 3 could not check, 4 usage error."""
from __future__ import annotations

import os
import sys
from typing import Optional, Tuple

import click

from . import __version__
from .areas import AREAS, DEFAULT_DEADLINE
from .exitcodes import EXIT_CANNOT_CHECK, EXIT_ERROR, EXIT_USAGE
from .model import DataError


def _areas(values: Tuple[str, ...]) -> Tuple[str, ...]:
    out = []
    for value in values:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    bad = [a for a in out if a not in AREAS]
    if bad:
        raise click.BadParameter(f"unknown area {', '.join(bad)}; areas are: {', '.join(AREAS)}")
    return tuple(out)


def _urls(values: Tuple[str, ...]) -> Tuple[str, ...]:
    from urllib.parse import urlsplit

    for value in values:
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise click.BadParameter(f"{value!r} is not an http(s) URL", param_hint="--url")
    return values


def _context(options: dict, python: Optional[str] = None, replay: Optional[str] = None,
             record: Optional[str] = None):
    """The Context a command probes through: this machine (recording it with --record) or a
    replayed fixture machine; --python must exist on this machine."""
    if python:
        if not replay and not os.path.exists(python):
            raise click.BadParameter(f"{python} does not exist", param_hint="--python")
        options = dict(options, python=python)
    if replay:
        from .system.replay import replay_context

        return replay_context(replay, options)
    from .context import live_context

    ctx = live_context(options)
    if record:
        from .system.replay import recording_context

        ctx = recording_context(ctx)
    return ctx


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
@click.option("--quick", is_flag=True, help="Skip probes that import torch in a child process, and the "
              "network checks unless --only network.")
@click.option("--offline", is_flag=True, help="Skip the network checks.")
@click.option("--url", "urls", multiple=True, metavar="URL",
              help="Also check that this http(s) URL can be reached and how fast (repeatable).")
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
@click.option("--from-report", "from_report", metavar="FILE|-",
              help="Judge a pasted `python -m torch.utils.collect_env` or vLLM `collect-env` report "
                   "instead of this machine.")
@click.option("--want", "want", metavar="vllm==X",
              help="Pre-install gate: exit 0 only if `fix --plan` finds a working plan for this vLLM and nothing is an error.")
def check(as_json: bool, verbose: bool, quick: bool, offline: bool, urls: Tuple[str, ...],
          only: Tuple[str, ...], skip: Tuple[str, ...], list_codes: bool, ci: bool, python: Optional[str],
          deadline: float, debug: bool, record: Optional[str], replay: Optional[str], model: Optional[str],
          from_report: Optional[str], want: Optional[str]) -> int:
    """Probe this machine and report what stands between it and a working vLLM."""
    wish = _want(want) if want else None
    if list_codes:
        _list_codes()
        return 0
    if from_report:
        if replay or record or python or only or skip:
            raise click.UsageError("--from-report reads a report: it cannot be combined with "
                                   "--replay, --record, --python, --only or --skip")
        return _check_from_report(from_report, as_json, verbose, ci, debug)
    only, skip = _areas(only), _areas(skip)
    options = {"quick": quick, "urls": _urls(urls)}
    if offline and "network" in only:
        raise click.UsageError("--offline and --only network contradict each other")
    if offline or (quick and "network" not in only):
        options["offline"] = "--offline" if offline else "--quick"
    if model:
        from .modelcfg import absolute

        options["model"] = model if replay else absolute(model)
    from .redact import Redactor

    ctx = _context(options, python, replay, record)
    redactor = Redactor(ctx.env)
    from .check import exit_code, run_check
    from .probes import ALL_PROBES

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
@click.option("--tensor-parallel-size", "-tp", "tensor_parallel_size", type=click.IntRange(1, 64), default=1,
              metavar="N", help="Split the model over N GPUs like this one (figures are per GPU).")
@click.option("-v", "--verbose", is_flag=True, help="Show the arithmetic.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def fit(model: str, gpu_name: Optional[str], vram: Optional[float], free: Optional[float], context: Optional[int],
        vllm_version: Optional[str], tensor_parallel_size: int, verbose: bool, as_json: bool) -> int:
    """Does a model fit on this GPU (or a named one) under vLLM, and with which settings?

    A Hugging Face id beyond envdoctor's catalog is read from the hub (HF_ENDPOINT, HF_TOKEN, the
    local cache; HF_HUB_OFFLINE=1 for the cache only).

    Exit code: 0 fits with vLLM's defaults, 1 fits with the settings shown (or something could not be
    checked), 2 does not fit or vLLM does not run on the GPU."""
    from .matrices import Matrices
    from .model_fit import UnknownGpu, gpu_from_catalog, plan_for
    from .modelcfg import ModelConfigError, ModelNotFound, absolute, find_model
    from .redact import Redactor
    from .render.fit_text import exit_code
    from .system.fs import RootedFS

    matrices = Matrices()
    redactor = Redactor(os.environ)
    try:
        shape = find_model(RootedFS("/"), os.environ, matrices, absolute(model), hub=True)
    except (ModelNotFound, ModelConfigError) as exc:
        raise click.UsageError(redactor.text(str(exc))) from None
    notes = []
    if gpu_name or vram:
        try:
            gpu, notes = gpu_from_catalog(matrices, gpu_name, vram, free)
        except UnknownGpu as exc:
            raise click.UsageError(str(exc)) from None
    else:
        gpu, notes = _this_gpu(matrices, free)
    p = plan_for(shape, gpu, matrices, context=context, vllm=vllm_version, notes=notes,
                 tensor_parallel_size=tensor_parallel_size)
    if as_json:
        import json

        from .render.fit_text import document

        click.echo(json.dumps(redactor.data(document(p)), indent=2))
    else:
        from .render.fit_text import render

        for line in render(p, verbose=verbose):
            click.echo(redactor.text(line))
    return exit_code(p)


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


@cli.command("run-smoke")
@click.option("--python", "python", metavar="PATH", help="The interpreter (env) whose vLLM to run.")
@click.option("--model", default="Qwen/Qwen2-1.5B-Instruct", show_default=True, metavar="ID_OR_DIR",
              help="A Hugging Face id or a local folder.")
@click.option("--dummy", is_flag=True, help="Random weights from the model's config: nothing is downloaded.")
@click.option("--prompt", default="The capital of France is", show_default=True)
@click.option("--max-tokens", type=click.IntRange(1, 4096), default=32, show_default=True)
@click.option("--timeout", type=click.FloatRange(10, 7200), default=900.0, show_default=True,
              help="Seconds for the whole run.")
@click.option("--stall", type=click.FloatRange(5, 3600), default=180.0, show_default=True,
              help="Seconds with no output and no GPU-memory change that count as a stall.")
@click.option("--gpu-memory-utilization", type=click.FloatRange(0.01, 1.0), default=None)
@click.option("--max-model-len", type=click.IntRange(16, 1 << 22), default=None)
@click.option("--enforce-eager/--no-enforce-eager", default=None)
@click.option("--dtype", type=click.Choice(["auto", "half", "bfloat16", "float16", "float32"]), default=None)
@click.option("--attention-backend", default=None, metavar="NAME", help="e.g. TRITON_ATTN, FLASH_ATTN.")
@click.option("--force", is_flag=True, help="Run even when the model looks too big for the card.")
@click.option("--log-dir", type=click.Path(file_okay=False), default=None, help="Where the run's log goes.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def run_smoke(python: Optional[str], model: str, dummy: bool, prompt: str, max_tokens: int, timeout: float,
              stall: float, gpu_memory_utilization: Optional[float], max_model_len: Optional[int],
              enforce_eager: Optional[bool], dtype: Optional[str], attention_backend: Optional[str], force: bool,
              log_dir: Optional[str], as_json: bool) -> int:
    """Run a real vLLM generation in the target environment and time each phase."""
    from rich.console import Console

    from .redact import Redactor
    from .render import smoke_text
    from .smoke.run import SmokeOptions, run_smoke as smoke

    ctx = _context({}, python)
    redactor = Redactor(ctx.env)
    overrides = {"gpu_memory_utilization": gpu_memory_utilization, "max_model_len": max_model_len,
                 "enforce_eager": enforce_eager, "dtype": dtype}
    opts = SmokeOptions(model=model, dummy=dummy, prompt=prompt, max_tokens=max_tokens, timeout=timeout,
                        stall=stall, overrides={k: v for k, v in overrides.items() if v is not None},
                        attention_backend=attention_backend, force=force, log_dir=log_dir)
    err = Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")), soft_wrap=True)
    result = smoke(ctx, opts, on_event=None if as_json else smoke_text.live_printer(err, redactor))
    code = 0 if result.ok else EXIT_ERROR
    if as_json:
        from .render.json_doc import dumps

        click.echo(dumps(smoke_text.document(result, code, redactor)))
    else:
        smoke_text.render(result, code, redactor, Console(no_color=bool(os.environ.get("NO_COLOR")), soft_wrap=True))
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
    from .check import exit_code
    from .probes import ALL_PROBES
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
    from .check import exit_code, run_check
    from .probes import ALL_PROBES
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
        ctx = _context({"quick": quick}, python, replay)
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
