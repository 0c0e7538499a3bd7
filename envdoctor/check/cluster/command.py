"""The glue of `check --ray` and `check --cluster`: gather nodes, judge, render, exit code."""
from __future__ import annotations

import os
from typing import Mapping, Optional

import click

from envdoctor.core.exitcodes import EXIT_CANNOT_CHECK, EXIT_USAGE
from envdoctor.check.cluster.rules import Wish

NODE_TIMEOUT = 60.0  # seconds a node has to start a worker, check itself and answer


def run(*, ray_address: Optional[str], cluster_dir: Optional[str], wish: Wish, options: Mapping[str, object],
        deadline: float, node_timeout: float, replay_nodes: Mapping[str, str], as_json: bool, verbose: bool,
        ci: bool) -> int:
    from envdoctor.compat.tables import Matrices
    from envdoctor.redact import Redactor
    from envdoctor.check.cluster.judge import judge_cluster

    matrices = Matrices()
    if cluster_dir is not None:
        from envdoctor.check.cluster.saved import ClusterDirError, load_dir

        try:
            nodes = load_dir(cluster_dir, matrices)
        except ClusterDirError as exc:
            click.echo(f"envdoctor: {exc}", err=True)
            return EXIT_USAGE
    else:
        from envdoctor.check.cluster.ray_nodes import RayMissing, RayUnavailable, collect

        node_options = dict(options, deadline=deadline, model=wish.model)
        try:
            nodes = collect(ray_address or "auto", node_options, node_timeout, replay_nodes)
        except RayMissing as exc:
            click.echo(f"envdoctor: {exc}", err=True)
            return EXIT_USAGE
        except RayUnavailable as exc:
            click.echo(f"envdoctor: {exc}", err=True)
            return EXIT_CANNOT_CHECK
    report = judge_cluster(nodes, wish, matrices)
    code = report.exit_code()
    redactor = Redactor(os.environ)
    from envdoctor.render import cluster as view

    if as_json:
        from envdoctor.render.json_doc import dumps

        click.echo(dumps(view.document(report, code, redactor)))
    else:
        view.render(report, code, redactor, verbose=verbose, ci=ci,
                    color=False if ci or os.environ.get("NO_COLOR") else None)
    return code


def replay_pairs(values) -> dict:
    """--replay-nodes RESOURCE=DIR (tests): replay a recorded machine on nodes with that resource."""
    pairs = {}
    for value in values:
        resource, sep, directory = value.partition("=")
        if not sep or not resource or not os.path.isdir(directory):
            raise click.BadParameter(f"{value!r}: expected RESOURCE=DIR with an existing DIR",
                                     param_hint="--replay-nodes")
        pairs[resource] = os.path.abspath(directory)
    return pairs
