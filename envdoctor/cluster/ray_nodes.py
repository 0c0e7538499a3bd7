"""`check --ray`: the same probes on every alive node of a Ray cluster, as a task pinned to that
node, each with a timeout. Ray is imported only here, and only when asked for."""
from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, Dict, List, Mapping, Optional

from ..facts_json import FactsFileError, from_document
from ..model import Report
from .node import Node, extras_from_document, probe

INSTALL_HINT = "check --ray needs Ray: pip install 'llm-envdoctor[ray]' (or pip install ray)"


class RayMissing(RuntimeError):
    pass


class RayUnavailable(RuntimeError):
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
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    try:
        ray.init(address=address, log_to_driver=False, logging_level="ERROR", configure_logging=False,
                 runtime_env={"py_modules": [_package_dir()]})
    except Exception as exc:  # noqa: BLE001 - ray raises ConnectionError, RuntimeError, ValueError ...
        raise RayUnavailable(f"cannot join the Ray cluster at {address!r}: {exc}") from None
    try:
        alive = [n for n in ray.nodes() if n.get("Alive")]
        task = ray.remote(num_cpus=0, max_retries=0)(probe)
        pending: Dict[Any, Dict[str, Any]] = {}
        for n in alive:
            node_options = dict(options)
            for resource, directory in replay_by_resource.items():
                if resource in n.get("Resources", {}):
                    node_options["replay"] = directory
            strategy = NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)
            pending[task.options(scheduling_strategy=strategy).remote(node_options)] = n
        ready, late = ray.wait(list(pending), num_returns=len(pending), timeout=timeout)
        nodes = [_answer(ray, ref, pending[ref]) for ref in ready]
        for ref in late:
            ray.cancel(ref, force=True)
            nodes.append(Node(_label(pending[ref]), pending[ref]["NodeID"],
                              error=f"no answer within {timeout:g} s"))
        return _unique(sorted(nodes, key=lambda n: n.name))
    finally:
        ray.shutdown()


def _unique(nodes: List[Node]) -> List[Node]:
    """Nodes that share a host name (several raylets on one machine) get their node id's head."""
    from dataclasses import replace

    names = [n.name for n in nodes]
    return [replace(n, name=f"{n.name} [{(n.node_id or '')[:8]}]") if names.count(n.name) > 1 else n
            for n in nodes]


def _package_dir() -> str:
    """envdoctor itself travels to the nodes (Ray's runtime environment), so every node runs
    the same version as the one asking."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _label(node: Mapping[str, Any]) -> str:
    return str(node.get("NodeManagerHostname") or node.get("NodeManagerAddress") or node.get("NodeID"))


def _answer(ray, ref, node: Mapping[str, Any]) -> Node:
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
