"""`envdoctor check`: options → Context → check.run → render; with --want the pre-install gate
(check/gate.py), with --from-report a pasted report, with --ray/--cluster a whole cluster.

The probes, rules, tables and renderers are imported inside the functions that use them:
`envdoctor check --help` must load none of them (tests/test_startup.py)."""
from __future__ import annotations

import os
from typing import Mapping, Optional, Tuple

import click

from envdoctor.cli import summary
from envdoctor.cli.options import (
    areas,
    ci_option,
    color,
    context,
    deadline_option,
    json_option,
    progress,
    python_option,
    record_dir,
    record_option,
    replay_option,
    urls,
)
from envdoctor.core.areas import AREAS
from envdoctor.redact import Redactor
from envdoctor.render.json_doc import document, dumps


@click.command(short_help=summary("check"))
@json_option()
@click.option("-v", "--verbose", is_flag=True, help="Show every fact and each probe's time.")
@click.option("--quick", is_flag=True, help="Skip probes that import torch in a child process, and the "
              "network checks unless --only network.")
@click.option("--offline", is_flag=True, help="Skip the network checks.")
@click.option("--fresh", is_flag=True, help="Import torch again instead of using the cached answer.")
@click.option("--speed", is_flag=True, help="Sample download speed with up to 32 MiB per host (by default the "
              "network check reads about 1 MiB in all; `--only network -v` samples too).")
@click.option("--url", "urls_", multiple=True, metavar="URL",
              help="Also check that this http(s) URL can be reached and how fast (repeatable).")
@click.option("--only", multiple=True, metavar="AREA", help=f"Run only these areas: {', '.join(AREAS)}.")
@click.option("--skip", multiple=True, metavar="AREA", help="Skip these areas.")
@click.option("--list", "list_codes", is_flag=True, help="List every finding code and exit.")
@ci_option()
@python_option()
@deadline_option()
@click.option("--debug", is_flag=True, help="Show tracebacks of probes and of envdoctor itself.")
@record_option()
@replay_option("Check a recorded fixture machine instead of this one.")
@click.option("--model", "model", metavar="ID_OR_DIR",
              help="Also check that this model fits the GPU (a local folder or a Hugging Face id).")
@click.option("--from-report", "from_report", metavar="FILE|-",
              help="Judge a pasted `python -m torch.utils.collect_env` or vLLM `collect-env` report "
                   "instead of this machine.")
@click.option("--want", "want", metavar="vllm==X",
              help="Pre-install gate: exit 0 only if `fix --plan` finds a working plan for this vLLM and nothing is "
                   "an error.")
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
def check(as_json: bool, verbose: bool, quick: bool, offline: bool, fresh: bool, speed: bool, urls_: Tuple[str, ...],
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
        node_options: dict = {"quick": quick}
        if offline or quick:
            node_options["offline"] = "--offline" if offline else "--quick"
        return _cluster(ray_address, cluster_dir, tensor_parallel, pipeline_parallel, model, node_options, deadline,
                        node_timeout, _replay_pairs(replay_nodes), as_json, verbose, ci)
    if tensor_parallel or pipeline_parallel or replay_nodes:
        raise click.UsageError("--tp, --pp and --replay-nodes go with --ray or --cluster")
    wish = _want(want) if want else None
    if list_codes:
        _list_codes(as_json)
        return 0
    if from_report:
        if replay or record or python or only or skip or want or urls_ or model:
            raise click.UsageError("--from-report reads a report: it cannot be combined with "
                                   "--replay, --record, --python, --only, --skip, --want, --url or --model")
        return _check_from_report(from_report, as_json, verbose, ci, debug)
    only, skip = areas(only), areas(skip)
    options = {"quick": quick, "urls": urls(urls_), "speed": speed or (verbose and only == ("network",)),
               "torch_cache": not replay, "fresh": fresh}
    if offline and "network" in only:
        raise click.UsageError("--offline and --only network contradict each other")
    network_off = offline or (quick and "network" not in only) or "network" in skip
    for given, name in ((urls_, "--url"), (speed, "--speed")):
        if given and network_off:
            raise click.UsageError(f"{name} is for the network area, which --offline, --quick or --skip network "
                                   f"turns off (use --only network {name}{' URL' if name == '--url' else ''})")
    if offline or (quick and "network" not in only):
        options["offline"] = "--offline" if offline else "--quick"
    from envdoctor.check.run import exit_code, process_seconds, run_check

    if model:
        from envdoctor.fit.model_config import absolute

        options["model"] = model if replay else absolute(model)
    if record and not replay:
        record_dir(record)
    ctx = context(options, python, replay, record)
    redactor = Redactor(ctx.env)
    with progress(as_json, ci) as on_tick:
        report = run_check(ctx, only=only, skip=skip, deadline=deadline, on_tick=on_tick)
    code = exit_code(report)
    if record and not replay:
        from envdoctor.machine.replay import save_recording

        try:
            save_recording(ctx, record, redactor.text)
        except OSError as exc:
            raise click.BadParameter(f"cannot write into {record}: {exc.strerror or exc}",
                                     param_hint="--record") from None
        files = sum(len(names) for _, _, names in os.walk(record))
        click.echo(f"envdoctor: recorded to {record} ({files} files, secrets redacted)", err=True)
    gate = None
    if wish is not None:  # the resolver loads only for the gate: a plain check does not pay for it
        from envdoctor.check.gate import decide
        from envdoctor.compat.tables import Matrices

        gate = decide(report, code, wish, Matrices())
        code = gate.code
    if as_json:
        doc = document(report, code, redactor)
        if gate is not None:
            from envdoctor.render import gate as gate_view

            doc["want"] = redactor.data(gate_view.document(gate))
        click.echo(dumps(doc))
    else:
        from envdoctor.render import gate as gate_view
        from envdoctor.render.human import render

        render(report, code, redactor, verbose=verbose, ci=ci, debug=debug, color=color(ci),
               wall=process_seconds())
        for line in gate_view.lines(gate) if gate is not None else ():
            click.echo(redactor.text(line))
    return code


def _list_codes(as_json: bool = False) -> None:
    import json

    from envdoctor.core import codes

    if as_json:
        click.echo(json.dumps(codes.list_json(), indent=2))
        return
    click.echo("\n".join(codes.list_lines()))


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


def _check_from_report(path: str, as_json: bool, verbose: bool, ci: bool, debug: bool) -> int:
    from envdoctor.check.run import exit_code
    from envdoctor.render import from_report
    from envdoctor.render.human import render
    from envdoctor.report.collect_env import check_report

    report, parsed = check_report(path)
    code = exit_code(report)
    redactor = Redactor(os.environ)
    if as_json:
        doc = document(report, code, redactor)
        doc["from_report"] = redactor.data(from_report.document(parsed))
        click.echo(dumps(doc))
    else:
        render(report, code, redactor, verbose=verbose, ci=ci, debug=debug, color=color(ci),
               title=from_report.title(parsed), footer=from_report.footer(parsed, verbose))
    return code


def _cluster(ray_address: Optional[str], cluster_dir: Optional[str], tp: Optional[int], pp: Optional[int],
             model: Optional[str], options: Mapping[str, object], deadline: float, node_timeout: float,
             replay_nodes: Mapping[str, str], as_json: bool, verbose: bool, ci: bool) -> int:
    """check --ray / --cluster: gather the nodes, judge them as one cluster, render."""
    from envdoctor.check.cluster.judge import judge_cluster
    from envdoctor.check.cluster.rules import Wish
    from envdoctor.compat.tables import Matrices
    from envdoctor.render import cluster as view

    matrices = Matrices()
    wish = Wish(tp, pp, model)
    if cluster_dir is not None:
        from envdoctor.check.cluster.saved import load_dir

        nodes = load_dir(cluster_dir, matrices)
    else:
        from envdoctor.check.cluster.ray_nodes import collect

        nodes = collect(ray_address or "auto", dict(options, deadline=deadline, model=wish.model), node_timeout,
                        replay_nodes)
    report = judge_cluster(nodes, wish, matrices)
    code = report.exit_code()
    redactor = Redactor(os.environ)
    if as_json:
        click.echo(dumps(view.document(report, code, redactor)))
    else:
        view.render(report, code, redactor, verbose=verbose, ci=ci, color=color(ci))
    return code


def _replay_pairs(values: Tuple[str, ...]) -> dict:
    """--replay-nodes RESOURCE=DIR (tests): replay a recorded machine on nodes with that resource."""
    pairs = {}
    for value in values:
        resource, sep, directory = value.partition("=")
        if not sep or not resource or not os.path.isdir(directory):
            raise click.BadParameter(f"{value!r}: expected RESOURCE=DIR with an existing DIR",
                                     param_hint="--replay-nodes")
        pairs[resource] = os.path.abspath(directory)
    return pairs
