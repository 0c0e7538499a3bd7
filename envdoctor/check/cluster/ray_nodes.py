"""`check --ray`: the same probes on every alive node of a Ray cluster, as a task pinned to that
node, each with a timeout. Ray is imported only here, and only when asked for."""
from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import Any, Dict, List, Mapping, Optional

from envdoctor.core.facts_from_json import FactsFileError, from_document
from envdoctor.core.results import Report
from envdoctor.check.cluster.node import Node, extras_from_document, probe
from envdoctor.core.errors import EnvdoctorError, UsageError

INSTALL_HINT = "check --ray needs Ray: pip install 'llm-envdoctor[ray]' (or pip install ray)"


class RayMissing(UsageError, RuntimeError):
    pass


class RayUnavailable(EnvdoctorError, RuntimeError):
    """No cluster could be joined; one line saying why."""


def _ray():
    try:
        import ray
    except ImportError:
        raise RayMissing(INSTALL_HINT) from None
    return ray


def collect(address: str, options: Mapping[str, Any], timeout: float,
            replay_by_resource: Optional[Mapping[str, str]] = None) -> List[Node]:
    """One Node per alive Ray node. A node that fails or does not answer within `timeout` seconds
    of the start is a Node without a report, never a wait. `replay_by_resource` (tests) replays a
    recorded machine on each node that has that custom resource."""
    ray = _ray()
    # Ray's own threads print node deaths and worker errors to stdout: keep stdout for our answer.
    with contextlib.redirect_stdout(sys.stderr):
        return _collect(ray, address, options, timeout, replay_by_resource or {})


def _collect(ray, address: str, options: Mapping[str, Any], timeout: float,
             replay_by_resource: Mapping[str, str]) -> List[Node]:
    try:
        ray.init(address=address, log_to_driver=False, logging_level="ERROR", configure_logging=False)
    except Exception as exc:  # noqa: BLE001 - ray raises ConnectionError, RuntimeError, ValueError ...
        raise RayUnavailable(f"cannot join the Ray cluster at {address!r}: {exc}") from None
    try:
        end = time.monotonic() + timeout
        alive = [n for n in ray.nodes() if n.get("Alive")]
        # envdoctor found installed on a node runs in the workers Ray has already started (no new
        # process); a node that lacks it is asked again with envdoctor shipped in the runtime env.
        answers = _ask(ray, alive, options, replay_by_resource, None, end)
        lacking = [n for n in alive if _lacks_envdoctor(answers[n["NodeID"]])]
        if lacking:
            shipped = {"py_modules": [_package_dir()]}
            answers.update(_ask(ray, lacking, options, replay_by_resource, shipped, end))
        nodes = [_node(ray, answers[n["NodeID"]], n, timeout) for n in alive]
        return _unique(sorted(nodes, key=lambda n: n.name))
    finally:
        ray.shutdown()


def _ask(ray, nodes: List[Dict[str, Any]], options: Mapping[str, Any], replay_by_resource: Mapping[str, str],
         runtime_env: Optional[Dict[str, Any]], end: float) -> Dict[str, Any]:
    """One probe task pinned to each node; {node id: its ObjectRef, or None when it did not finish
    by `end` (the task is cancelled)}."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    task = ray.remote(num_cpus=0, max_retries=0)(probe)
    refs = {}
    for n in nodes:
        node_options = dict(options)
        for resource, directory in replay_by_resource.items():
            if resource in n.get("Resources", {}):
                node_options["replay"] = directory
        strategy = NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)
        extra = {"runtime_env": runtime_env} if runtime_env else {}
        refs[n["NodeID"]] = task.options(scheduling_strategy=strategy, **extra).remote(node_options)
    _ready, late = ray.wait(list(refs.values()), num_returns=len(refs), timeout=max(0.0, end - time.monotonic()))
    for ref in late:
        ray.cancel(ref, force=True)
    return {node_id: (None if ref in late else ref) for node_id, ref in refs.items()}


def _lacks_envdoctor(ref) -> bool:
    if ref is None:
        return False
    import ray

    try:
        ray.get(ref, timeout=5)
    except Exception as exc:  # noqa: BLE001 - the task's own error, or the worker's
        return "No module named 'envdoctor" in str(exc)
    return False


def _unique(nodes: List[Node]) -> List[Node]:
    """Nodes that share a host name (several raylets on one machine) get their node id's head."""
    from dataclasses import replace

    names = [n.name for n in nodes]
    return [replace(n, name=f"{n.name} [{(n.node_id or '')[:8]}]") if names.count(n.name) > 1 else n
            for n in nodes]


def _package_dir() -> str:
    """envdoctor itself travels to the nodes (Ray's runtime environment), so every node runs
    the same version as the one asking."""
    here = os.path.abspath(__file__)
    return os.path.dirname(os.path.dirname(os.path.dirname(here)))


def _label(node: Mapping[str, Any]) -> str:
    return str(node.get("NodeManagerHostname") or node.get("NodeManagerAddress") or node.get("NodeID"))


def _node(ray, ref, node: Mapping[str, Any], timeout: float) -> Node:
    if ref is None:
        return Node(_label(node), node["NodeID"], error=f"no answer within {timeout:g} s")
    try:
        doc = ray.get(ref, timeout=5)
        facts = from_document(doc)
    except FactsFileError as exc:
        return Node(_label(node), node["NodeID"], error=f"sent a document envdoctor cannot read: {exc}")
    except Exception as exc:  # noqa: BLE001 - a dead node, a crashed worker, a task error
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return Node(_label(node), node["NodeID"], error=f"{type(exc).__name__}: {first}")
    name = doc["node"].get("name") if isinstance(doc.get("node"), dict) else None
    label = _label(node)
    shown = f"{name} ({node.get('NodeManagerAddress')})" if name and name != label else label
    return Node(shown, node["NodeID"], Report(facts, ()), extras_from_document(doc), document=doc)
