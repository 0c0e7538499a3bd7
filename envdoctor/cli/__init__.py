"""The command line: parse, build a Context, call the core, render. This is the one place
where exceptions become exit codes (docs/exit-codes.md):
0 no warnings, 1 warnings, 2 errors, 3 could not check, 4 usage error."""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Optional, Tuple

import click

from envdoctor import __version__
from envdoctor.core.areas import AREAS, DEFAULT_DEADLINE
from envdoctor.cli.support import (ClosedStdout, Group, Number, cannot_read, checked_index_url, interrupt, interrupted,
                          known_cc, python_arg, record_dir)
from envdoctor.core.exitcodes import EXIT_CANNOT_CHECK, EXIT_CLOSED_STDOUT, EXIT_ERROR, EXIT_USAGE

PROGRESS_AFTER = 0.4  # seconds before the progress line appears: a quick check shows none


def _areas(values: Tuple[str, ...]) -> Tuple[str, ...]:
    out = []
    for value in values:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    bad = [a for a in out if a not in AREAS]
    if bad:
        raise click.BadParameter(f"unknown area {', '.join(bad)}; areas are: {', '.join(AREAS)}")
    return tuple(out)


def _urls(values: Tuple[str, ...]) -> Tuple[str, ...]:
    if not values:
        return values
    from urllib.parse import urlsplit

    for value in values:
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            from envdoctor.redact import Redactor

            raise click.BadParameter(f"{Redactor(os.environ).text(value)!r} is not an http(s) URL", param_hint="--url")
    return values


def _context(options: dict, python: Optional[str] = None, replay: Optional[str] = None,
             record: Optional[str] = None):
    """The Context a command probes through: this machine (recording it with --record) or a
    replayed fixture machine; --python must name an interpreter on this machine."""
    if python is not None:
        options = dict(options, python=python if replay else python_arg(python))
    if replay:
        from envdoctor.machine.replay import replay_context

        return replay_context(replay, options)
    from envdoctor.machine.context import live_context

    ctx = live_context(options)
    if record:
        from envdoctor.machine.replay import recording_context

        ctx = recording_context(ctx)
    return ctx


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="envdoctor")
def cli() -> None:
    """Diagnose and fix a machine for running vLLM (driver, CUDA, torch, Python, WSL2)."""


def _list_codes(as_json: bool = False) -> None:
    from envdoctor.check.cluster.rules import AREA, CLUSTER_RULES
    from envdoctor.rules import ALL_RULES

    if as_json:
        import json

        click.echo(json.dumps([{"code": r.code, "area": r.area, "summary": r.summary} for r in ALL_RULES], indent=2))
        return
    for r in ALL_RULES:
        click.echo(f"{r.code:34} {r.area:10} {r.summary}")
    for c in CLUSTER_RULES:
        click.echo(f"{c.code:34} {AREA:10} {c.summary}")


@cli.command(short_help="What stands between this machine and a working vLLM.")
@click.option("--json", "as_json", is_flag=True, help="Print one versioned JSON document.")
@click.option("-v", "--verbose", is_flag=True, help="Show every fact and each probe's time.")
@click.option("--quick", is_flag=True, help="Skip probes that import torch in a child process, and the "
              "network checks unless --only network.")
@click.option("--offline", is_flag=True, help="Skip the network checks.")
@click.option("--fresh", is_flag=True, help="Import torch again instead of using the cached answer.")
@click.option("--speed", is_flag=True, help="Sample download speed with up to 32 MiB per host (by default the "
              "network check reads about 1 MiB in all; `--only network -v` samples too).")
@click.option("--url", "urls", multiple=True, metavar="URL",
              help="Also check that this http(s) URL can be reached and how fast (repeatable).")
@click.option("--only", multiple=True, metavar="AREA", help=f"Run only these areas: {', '.join(AREAS)}.")
@click.option("--skip", multiple=True, metavar="AREA", help="Skip these areas.")
@click.option("--list", "list_codes", is_flag=True, help="List every finding code and exit.")
@click.option("--ci", is_flag=True, help="No colour, a short summary; the exit code is the gate.")
@click.option("--python", "python", metavar="PATH", help="The interpreter to inspect: a path, a name on PATH (python3.11) or a venv folder.")
@click.option("--deadline", type=Number(0.5, 600), default=DEFAULT_DEADLINE, show_default=True,
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
@click.option("--ray", "ray_address", is_flag=False, flag_value="auto", default=None, metavar="[ADDRESS]",
              help="Check every node of a Ray cluster (ADDRESS as for ray.init, default auto).")
@click.option("--cluster", "cluster_dir", type=click.Path(exists=True, file_okay=False), metavar="DIR",
              help="Judge a folder of per-node `check --json` documents or collect_env reports as one cluster.")
@click.option("--tp", "tensor_parallel", type=click.IntRange(1, 4096), metavar="N",
              help="With --ray/--cluster: the tensor_parallel_size the cluster must hold.")
@click.option("--pp", "pipeline_parallel", type=click.IntRange(1, 4096), metavar="M",
              help="With --ray/--cluster: the pipeline_parallel_size.")
@click.option("--node-timeout", type=click.FloatRange(1, 3600), default=60.0, show_default=True,
              help="With --ray: seconds each node has to answer.")
@click.option("--replay-nodes", multiple=True, hidden=True, metavar="RESOURCE=DIR")
def check(as_json: bool, verbose: bool, quick: bool, offline: bool, fresh: bool, speed: bool, urls: Tuple[str, ...],
          only: Tuple[str, ...], skip: Tuple[str, ...], list_codes: bool, ci: bool, python: Optional[str],
          deadline: float, debug: bool, record: Optional[str], replay: Optional[str], model: Optional[str],
          from_report: Optional[str], want: Optional[str], ray_address: Optional[str], cluster_dir: Optional[str],
          tensor_parallel: Optional[int], pipeline_parallel: Optional[int], node_timeout: float,
          replay_nodes: Tuple[str, ...]) -> int:
    """Probe this machine and report what stands between it and a working vLLM."""
    if ray_address is not None or cluster_dir is not None:
        if ray_address is not None and cluster_dir is not None:
            raise click.UsageError("--ray probes a live cluster and --cluster reads saved files: pick one")
        if from_report or replay or record or python or want or only or skip:
            raise click.UsageError("--ray/--cluster cannot be combined with --from-report, --replay, --record, "
                                   "--python, --want, --only or --skip")
        from envdoctor.check.cluster import command
        from envdoctor.check.cluster.rules import Wish

        node_options: dict = {"quick": quick}
        if offline or quick:
            node_options["offline"] = "--offline" if offline else "--quick"
        return command.run(ray_address=ray_address, cluster_dir=cluster_dir,
                           wish=Wish(tensor_parallel, pipeline_parallel, model),
                           options=node_options, deadline=deadline, node_timeout=node_timeout,
                           replay_nodes=command.replay_pairs(replay_nodes), as_json=as_json, verbose=verbose, ci=ci)
    if tensor_parallel or pipeline_parallel or replay_nodes:
        raise click.UsageError("--tp, --pp and --replay-nodes go with --ray or --cluster")
    wish = _want(want) if want else None
    if list_codes:
        _list_codes(as_json)
        return 0
    if from_report:
        if replay or record or python or only or skip or want or urls or model:
            raise click.UsageError("--from-report reads a report: it cannot be combined with "
                                   "--replay, --record, --python, --only, --skip, --want, --url or --model")
        return _check_from_report(from_report, as_json, verbose, ci, debug)
    only, skip = _areas(only), _areas(skip)
    options = {"quick": quick, "urls": _urls(urls), "speed": speed or (verbose and only == ("network",)),
               "torch_cache": not replay, "fresh": fresh}
    if offline and "network" in only:
        raise click.UsageError("--offline and --only network contradict each other")
    network_off = offline or (quick and "network" not in only) or "network" in skip
    for given, name in ((urls, "--url"), (speed, "--speed")):
        if given and network_off:
            raise click.UsageError(f"{name} is for the network area, which --offline, --quick or --skip network "
                                   f"turns off (use --only network {name}{' URL' if name == '--url' else ''})")
    if offline or (quick and "network" not in only):
        options["offline"] = "--offline" if offline else "--quick"
    if model:
        from envdoctor.fit.model_config import absolute

        options["model"] = model if replay else absolute(model)
    from envdoctor.redact import Redactor

    if record and not replay:
        record_dir(record)
    ctx = _context(options, python, replay, record)
    redactor = Redactor(ctx.env)
    from envdoctor.check.run import exit_code, run_check
    from envdoctor.probes import ALL_PROBES

    with _progress(as_json, ci) as on_tick:
        report = run_check(ctx, only=only, skip=skip, deadline=deadline, on_tick=on_tick)
    code = exit_code(report)
    if record and not replay:
        from envdoctor.machine.replay import save_recording

        try:
            save_recording(ctx, record, redactor.text)
        except OSError as exc:
            raise click.BadParameter(f"cannot write into {record}: {exc.strerror or exc}", param_hint="--record")
        files = sum(len(names) for _, _, names in os.walk(record))
        click.echo(f"envdoctor: recorded to {record} ({files} files, secrets redacted)", err=True)
    gate = None
    if wish is not None:
        from envdoctor.check.gate import decide

        gate = decide(report, code, wish)
        code = gate.code
    if as_json:
        from envdoctor.render.json_doc import document, dumps

        doc = document(report, ALL_PROBES, code, redactor)
        if gate is not None:
            doc["want"] = redactor.data(gate.document())
        click.echo(dumps(doc))
    else:
        from envdoctor.check.run import process_seconds
        from envdoctor.render.human import render

        render(report, ALL_PROBES, code, redactor, verbose=verbose, ci=ci, debug=debug,
               color=False if ci or os.environ.get("NO_COLOR") else None, wall=process_seconds())
        for line in gate.lines() if gate is not None else ():
            click.echo(redactor.text(line))
    return code


@contextmanager
def _progress(as_json: bool, ci: bool):
    """An on_tick for run_check: one line on a terminal's stderr naming the areas still
    running, after a short wait (a quick check shows none); erased before the report."""
    from envdoctor.render.progress import StatusLine, check_line, wanted

    if not wanted(as_json, ci):
        yield None
        return
    import time

    line, start = StatusLine(), time.monotonic()

    def on_tick(running, left: float) -> None:
        if time.monotonic() - start >= PROGRESS_AFTER:
            line.show(check_line(running, left))
    try:
        yield on_tick
    finally:
        line.clear()


def _want(text: str) -> str:
    """--want vllm==X (or any version range of vllm) -> the range, checked before probing."""
    from packaging.requirements import InvalidRequirement, Requirement

    from envdoctor.compat.tables import Matrices
    from envdoctor.fix.resolve import UsageProblem, candidates, vllm_spec

    try:
        req = Requirement(text)
    except InvalidRequirement:
        raise click.BadParameter(f"{text!r} is not a requirement like vllm==0.5.3", param_hint="--want") from None
    if req.name.lower() != "vllm":
        raise click.BadParameter(f"{text!r}: only vllm can be wanted (vllm==X)", param_hint="--want")
    try:
        spec = vllm_spec(str(req.specifier) or None)
    except UsageProblem as exc:
        raise click.BadParameter(str(exc).replace("--vllm ", "", 1), param_hint="--want") from None
    if spec is not None and not candidates(Matrices(), spec):
        known = sorted(r.version for r in Matrices().table("vllm"))
        raise click.BadParameter(f"{text!r}: no vLLM release in envdoctor's data matches (it knows "
                                 f"{known[0]} to {known[-1]}: `envdoctor matrices show vllm`)", param_hint="--want")
    return str(req.specifier)


@cli.command(short_help="Does a model fit on this GPU under vLLM, and how.")
@click.argument("model", metavar="ID_OR_DIR")
@click.option("--gpu", "gpu_name", metavar="NAME",
              help='A GPU from `envdoctor matrices show gpu`, e.g. "RTX 3050 Laptop" (default: GPU 0 here).')
@click.option("--vram", type=Number(0.25, 4096), metavar="GB", help="The card's memory in GB.")
@click.option("--free", "free", type=Number(0, 4096), metavar="GB",
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
    from envdoctor.compat.tables import Matrices
    from envdoctor.fit.sizing import UnknownGpu, gpu_from_catalog, plan_for
    from envdoctor.fit.model_config import ModelConfigError, ModelNotFound, absolute, find_model
    from envdoctor.redact import Redactor
    from envdoctor.render.fit_text import exit_code
    from envdoctor.machine.fs import RootedFS

    if free is not None and vram is not None and free > vram:
        raise click.BadParameter(f"{free:g} GB free of a {vram:g} GB card: free memory cannot exceed the card's",
                                 param_hint="--free")
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

        from envdoctor.render.fit_text import document

        click.echo(json.dumps(redactor.data(document(p)), indent=2))
    else:
        from envdoctor.render.fit_text import render

        for line in render(p, verbose=verbose):
            click.echo(redactor.text(line))
    return exit_code(p)


def _this_gpu(matrices, free: Optional[float]):
    """GPU 0 of this machine, measured through the driver probe (NVML, else nvidia-smi)."""
    from dataclasses import replace

    from envdoctor.machine.context import live_context
    from envdoctor.core.results import Facts
    from envdoctor.fit.sizing import gpu_from_fact
    from envdoctor.probes import nvidia

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


@cli.command(short_help="A known-good install plan for vLLM; --apply runs it.")
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
@click.option("--python", "python", metavar="PATH", help="The interpreter to inspect: a path, a name on PATH (python3.11) or a venv folder.")
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
    from envdoctor.fix.run import gather, plan_for
    from envdoctor.compat.tables import Matrices
    from envdoctor.redact import Redactor
    from envdoctor.fix.resolve import UsageProblem, Wishes

    if cc is not None:
        known_cc(cc)
    checked_index_url(index_url, "--index-url", ("http", "https", "file"))
    checked_index_url(torch_index_url, "--torch-index-url", ("http", "https", "file"))
    wishes = Wishes(vllm_version, python_version, driver, gpu_name, cc, os_name)
    matrices_ = Matrices()
    try:
        inputs = gather(from_json, replay, python_arg(python) if python is not None and not replay else python,
                        DEFAULT_DEADLINE)
        resolution, plan = plan_for(inputs, wishes, matrices_, model, env_path, env_tool, index_url, torch_index_url)
    except UsageProblem as exc:
        raise click.UsageError(str(exc)) from None
    redactor = Redactor(os.environ)
    if mode == "apply":
        from envdoctor.cli.fix_apply import run_apply

        elsewhere = [flag for flag, value in (("--os", os_name), ("--gpu", gpu_name), ("--driver", driver),
                                              ("--cc", cc)) if value is not None]
        if elsewhere:
            raise click.UsageError(f"this plan is for another machine ({', '.join(elsewhere)}): render it with "
                                   "--format sh and run it there")
        return run_apply(resolution, plan, redactor, yes=yes, dry_run=dry_run, cache_dir=cache_dir)
    from envdoctor.cli.fix_apply import render_plan

    return render_plan(resolution, plan, fmt, redactor, matrices_)


@cli.group(short_help="The compatibility data envdoctor ships.")
def matrices() -> None:
    """The compatibility data envdoctor ships (matrices/), with the source of every row."""


@matrices.command("show")
@click.argument("table", type=click.Choice(["vllm", "torch", "cuda", "gpu", "model"]), default="vllm")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON (sources included).")
@click.option("--source", "with_source", is_flag=True, help="Add each row's source to the table.")
def matrices_show(table: str, as_json: bool, with_source: bool) -> int:
    """Print one table: vllm, torch, cuda, gpu or model."""
    from envdoctor.compat.tables import Matrices
    from envdoctor.render.matrix_table import render_text, sections

    data = sections(Matrices(), table)
    if as_json:
        import json

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
    from envdoctor.compat.tables import Matrices
    from envdoctor.compat.pipindex import NoIndex, resolve
    from envdoctor.redact import Redactor
    from envdoctor.compat.refresh import RefreshError, run

    redactor = Redactor(os.environ)
    try:
        url, where = resolve(os.environ, index_url)
    except NoIndex as exc:
        raise click.UsageError(str(exc)) from None
    checked_index_url(url, "--index-url" if index_url else f"the index ({where})")
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


@cli.command("run-smoke", short_help="Run a real vLLM generation and time each phase.")
@click.option("--python", "python", metavar="PATH", help="The interpreter whose vLLM to run: a path, a name on PATH or a venv folder.")
@click.option("--model", default="Qwen/Qwen2-1.5B-Instruct", show_default=True, metavar="ID_OR_DIR",
              help="A Hugging Face id or a local folder.")
@click.option("--dummy", is_flag=True, help="Random weights from the model's config: nothing is downloaded.")
@click.option("--prompt", default="The capital of France is", show_default=True)
@click.option("--max-tokens", type=click.IntRange(1, 4096), default=32, show_default=True)
@click.option("--timeout", type=Number(10, 7200), default=900.0, show_default=True,
              help="Seconds for the whole run.")
@click.option("--stall", type=Number(5, 3600), default=180.0, show_default=True,
              help="Seconds with no output and no GPU-memory change that count as a stall.")
@click.option("--gpu-memory-utilization", type=Number(0.01, 1.0), default=None,
              help="Fraction of the card's memory vLLM may take (default: sized from its free memory).")
@click.option("--max-model-len", type=click.IntRange(16, 1 << 22), default=None,
              help="Context length (default: a short one for one request, at most the model's).")
@click.option("--enforce-eager/--no-enforce-eager", default=None,
              help="No CUDA graphs (default: on under 8 GiB, under WSL 2, or when memory is tight).")
@click.option("--dtype", type=click.Choice(["auto", "half", "bfloat16", "float16", "float32"]), default=None,
              help="Weights' dtype (default: half on cards without bfloat16 for a bfloat16 model, else the model's).")
@click.option("--attention-backend", default=None, metavar="NAME", help="e.g. TRITON_ATTN, FLASH_ATTN.")
@click.option("--force", is_flag=True, help="Run even when the model looks too big for the card.")
@click.option("--log-dir", type=click.Path(file_okay=False), default=None, help="Where the run's log goes.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def run_smoke(python: Optional[str], model: str, dummy: bool, prompt: str, max_tokens: int, timeout: float,
              stall: float, gpu_memory_utilization: Optional[float], max_model_len: Optional[int],
              enforce_eager: Optional[bool], dtype: Optional[str], attention_backend: Optional[str], force: bool,
              log_dir: Optional[str], as_json: bool) -> int:
    """Run a real vLLM generation in the target environment and time each phase.

    Exit code: 0 the generation ran, 2 it failed or could not start (a finding says why), 4 usage."""
    from envdoctor.redact import Redactor
    from envdoctor.render import smoke_text
    from envdoctor.render.console import Console
    from envdoctor.smoke.run import SmokeOptions, run_smoke as smoke

    ctx = _context({}, python)
    redactor = Redactor(ctx.env)
    overrides = {"gpu_memory_utilization": gpu_memory_utilization, "max_model_len": max_model_len,
                 "enforce_eager": enforce_eager, "dtype": dtype}
    opts = SmokeOptions(model=model, dummy=dummy, prompt=prompt, max_tokens=max_tokens, timeout=timeout,
                        stall=stall, overrides={k: v for k, v in overrides.items() if v is not None},
                        attention_backend=attention_backend, force=force, log_dir=log_dir)
    from envdoctor.render.progress import StatusLine, wanted

    err = Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")), soft_wrap=True)
    ticker = smoke_text.PhaseTicker(StatusLine()) if wanted(as_json) else None
    try:
        result = smoke(ctx, opts, on_event=None if as_json else smoke_text.live_printer(err, redactor, ticker))
    finally:
        if ticker is not None:
            ticker.stop()
    code = 0 if result.ok else EXIT_ERROR
    if as_json:
        from envdoctor.render.json_doc import dumps

        click.echo(dumps(smoke_text.document(result, code, redactor)))
    else:
        smoke_text.render(result, code, redactor, Console(no_color=bool(os.environ.get("NO_COLOR")), soft_wrap=True))
    return code


def _load_report(path: str, as_json: bool = False):
    """(Report, ParsedReport), or an exit code after saying why the file is no report."""
    from envdoctor.report.collect_env import ReportError, check_report

    try:
        return check_report(path)
    except ReportError as exc:
        return cannot_read(str(exc), as_json)


def _check_from_report(path: str, as_json: bool, verbose: bool, ci: bool, debug: bool) -> int:
    from envdoctor.check.run import exit_code
    from envdoctor.probes import ALL_PROBES
    from envdoctor.redact import Redactor

    loaded = _load_report(path, as_json)
    if isinstance(loaded, int):
        return loaded
    report, parsed = loaded
    code = exit_code(report)
    redactor = Redactor(os.environ)
    from envdoctor.render import from_report

    if as_json:
        from envdoctor.render.json_doc import document, dumps

        doc = document(report, ALL_PROBES, code, redactor)
        doc["from_report"] = redactor.data(from_report.document(parsed))
        click.echo(dumps(doc))
    else:
        from envdoctor.render.human import render

        render(report, ALL_PROBES, code, redactor, verbose=verbose, ci=ci, debug=debug,
               color=False if ci or os.environ.get("NO_COLOR") else None,
               title=from_report.title(parsed), footer=from_report.footer(parsed, verbose))
    return code


@cli.command(short_help="A shareable, redacted report of check.")
@click.option("--markdown", "fmt", flag_value="markdown", default=True, help="Markdown (the default).")
@click.option("--json", "fmt", flag_value="json", help="The check's JSON document, redacted the same way.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the report to FILE instead of standard output.")
@click.option("--no-redact-paths", is_flag=True,
              help="Keep the home directory and host name (secrets are always redacted).")
@click.option("--from-report", "from_report", metavar="FILE|-",
              help="Report on a pasted collect_env report instead of this machine.")
@click.option("--quick", is_flag=True, help="Skip probes that import torch in a child process.")
@click.option("--offline", is_flag=True, help="Skip the network checks.")
@click.option("--python", "python", metavar="PATH", help="The interpreter to inspect: a path, a name on PATH (python3.11) or a venv folder.")
@click.option("--deadline", type=Number(0.5, 600), default=DEFAULT_DEADLINE, show_default=True,
              help="Seconds for the whole check.")
@click.option("--replay", type=click.Path(exists=True, file_okay=False), metavar="DIR", hidden=True,
              help="Report on a recorded fixture machine instead of this one.")
def report(fmt: str, output: Optional[str], no_redact_paths: bool, from_report: Optional[str], quick: bool,
           offline: bool, python: Optional[str], deadline: float, replay: Optional[str]) -> int:
    """A shareable, redacted report of `check` (facts, findings, plan summary) for a bug
    report or a forum post. Exit code 0 once written; 3 if it could not be made."""
    from envdoctor.check.run import exit_code, run_check
    from envdoctor.probes import ALL_PROBES
    from envdoctor.redact import Redactor

    source = None
    extra: list = []
    if from_report:
        loaded = _load_report(from_report, fmt == "json")
        if isinstance(loaded, int):
            return loaded
        result, parsed = loaded
        env = parsed.report.env_vars
        source = parsed.source
        from envdoctor.render import from_report as fr

        extra = ["## From the report\n\n" + "\n\n".join(
            "```\n" + block + "\n```" for block in fr.footer(parsed))] if fr.footer(parsed) else []
        redactor = Redactor.for_sharing(os.environ, redact_paths=not no_redact_paths)
    else:
        options = {"quick": quick, "torch_cache": not replay}
        if offline:
            options["offline"] = "--offline"
        ctx = _context(options, python, replay)
        from envdoctor.compat.tables import Matrices

        with _progress(fmt == "json" and not output, False) as on_tick:
            result = run_check(ctx, Matrices(), deadline=deadline, on_tick=on_tick)
        env = ctx.env
        redactor = Redactor.for_sharing(ctx.env, redact_paths=not no_redact_paths)
    code = exit_code(result)
    if fmt == "json":
        from envdoctor.render.json_doc import document, dumps

        doc = document(result, ALL_PROBES, code, redactor)
        if from_report:
            from envdoctor.render import from_report as fr

            doc["from_report"] = redactor.data(fr.document(parsed))
        text = redactor.text(dumps(doc)) + "\n"
    else:
        from envdoctor.render.markdown import render as markdown

        text = markdown(result, ALL_PROBES, code, redactor, env=env, source=source, extra=extra,
                        redacted_paths=not no_redact_paths)
    if output:
        from envdoctor.machine.files import NotARegularFile, write_file

        try:
            write_file(output, text)
        except NotARegularFile as exc:
            raise click.BadParameter(str(exc), param_hint="-o") from None
        except OSError as exc:
            click.echo(f"envdoctor: cannot write {output}: {exc.strerror or exc}", err=True)
            return EXIT_CANNOT_CHECK
        click.echo(f"envdoctor: wrote {output} ({text.count(chr(10))} lines, redacted); read it before you share it",
                   err=True)
    else:
        click.echo(text, nl=False)
    return 0


@cli.command(short_help="Explain a failing log: cause, why, fix.")
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
    """Explain a failing log (pip, uv, docker build, vLLM, torch): class, root-cause line, why, fix.

    Exit code: 0 nothing error-like in the log, 1 only warnings, 2 a cause was found, 3 error lines
    that no known signature explains (or the log cannot be read), 4 usage."""
    from envdoctor.explain import LogInputError, codes, exit_code, explain_log
    from envdoctor.compat.tables import Matrices
    from envdoctor.redact import Redactor

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
        return cannot_read(str(exc), as_json)
    code = exit_code(explanation)
    redactor = Redactor(os.environ)
    if as_json:
        from envdoctor.render.json_doc import dumps
        from envdoctor.render.explain_json import document

        click.echo(dumps(document(explanation, code, redactor)))
    else:
        from envdoctor.render.explain_human import render

        render(explanation, code, redactor, verbose=verbose,
               color=False if os.environ.get("NO_COLOR") else None)
    return code


def _usage_message(exc: click.exceptions.UsageError) -> str:
    """click's message, without a far-fetched "Did you mean" (--fast is not --want)."""
    if isinstance(exc, click.exceptions.NoSuchOption) and exc.possibilities:
        from difflib import get_close_matches

        close = get_close_matches(exc.option_name, exc.possibilities, cutoff=0.8)
        if not close:
            return exc.message
    return exc.format_message()


def main(argv: Optional[list] = None) -> None:
    import signal

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
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):
            pass
    from envdoctor.core.results import DataError

    try:
        code = cli.main(args=argv, prog_name="envdoctor", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:  # `envdoctor` alone: the help, as --help shows it
        click.echo(exc.format_message())
        code = 0
    except click.exceptions.UsageError as exc:
        from envdoctor.redact import Redactor  # a bad value may carry a password: --index-url http://u:pw@...

        click.echo(f"envdoctor: {Redactor(os.environ).text(_usage_message(exc))}", err=True)
        code = EXIT_USAGE
    except (click.exceptions.Abort, KeyboardInterrupt) as exc:
        code = interrupted(exc)
    except DataError as exc:
        click.echo(f"envdoctor: corrupt compatibility data: {exc}", err=True)
        code = EXIT_CANNOT_CHECK
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


