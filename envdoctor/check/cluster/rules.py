"""Cluster rules: what is wrong between nodes rather than on one. Each judges the list of nodes
and what the user asked for (--tp, --pp, --model)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

from envdoctor.core.codes import Command, register
from envdoctor.core.results import Finding
from envdoctor.check.cluster import drift
from envdoctor.check.cluster.node import Node

AREA = "cluster"
RAY_DOCS = "https://docs.vllm.ai/en/latest/serving/parallelism_scaling.html"
NCCL_DOCS = "https://docs.nvidia.com/deeplearning/nccl/user-guide/docs/env.html#nccl-socket-ifname"


@dataclass(frozen=True)
class Wish:
    tensor_parallel: Optional[int] = None
    pipeline_parallel: Optional[int] = None
    model: Optional[str] = None


@dataclass(frozen=True)
class ClusterRule:
    code: str
    summary: str
    judge: Callable[[Sequence[Node], Wish], Optional[Finding]]

    def __post_init__(self) -> None:
        register(self.code, AREA, Command.CLUSTER, self.summary)


def reached(nodes: Sequence[Node]) -> List[Node]:
    return [n for n in nodes if n.report is not None]


def unreachable(nodes: Sequence[Node], _wish: Wish) -> Optional[Finding]:
    lost = [n for n in nodes if n.report is None]
    if not lost:
        return None
    if all(n.saved for n in lost):  # check --cluster DIR: nothing was asked, a file could not be read
        return Finding("node-unreachable", "error", AREA, f"{len(lost)} node file(s) could not be read as a check",
                       tuple(f"{n.name}: {n.error}" for n in lost),
                       "A node whose check cannot be read is a node whose facts are unknown, not a node that is fine.",
                       ("envdoctor check --json > NODE.json",),
                       ("Run this on that node again and save its output unchanged (or its `python -m "
                        "torch.utils.collect_env` report as NODE.txt), then rerun.",),
                       RAY_DOCS)
    return Finding("node-unreachable", "error", AREA, f"{len(lost)} node(s) did not answer the check",
                   tuple(f"{n.name}: {n.error}" for n in lost),
                   "A node that cannot run a short check cannot run a vLLM worker either; its facts are unknown.",
                   ("ray status",),
                   ("Check that the node is alive and that envdoctor's dependencies are installed there, then rerun.",),
                   RAY_DOCS)


def version_drift(nodes: Sequence[Node], _wish: Wish) -> Optional[Finding]:
    seen = [(n.name, drift.values(n.report.facts)) for n in reached(nodes)]
    evidence = []
    for key, label in drift.FIELDS:
        odd = drift.odd_ones([(name, vals[key]) for name, vals in seen])
        if odd:
            per = ", ".join(f"{name}={vals[key] or '?'}" for name, vals in seen)
            evidence.append(f"{label} differs on {', '.join(odd)} ({per})")
    if not evidence:
        return None
    return Finding("node-version-drift", "error", AREA, "The nodes do not run the same stack", tuple(evidence),
                   "vLLM across nodes needs the same driver, torch build, vLLM, Python and NCCL everywhere: "
                   "workers exchange pickled objects and NCCL messages, and compiled kernels assume one torch.",
                   (), ("Install on the odd node(s) exactly what the others run (envdoctor fix --plan --from-json "
                        "a good node's `check --json`), or build every node from one container image.",), RAY_DOCS)


def gpus_insufficient(nodes: Sequence[Node], wish: Wish) -> Optional[Finding]:
    if wish.tensor_parallel is None and wish.pipeline_parallel is None:
        return None
    need = (wish.tensor_parallel or 1) * (wish.pipeline_parallel or 1)
    counts = []
    for n in reached(nodes):
        driver = n.report.facts.driver
        counts.append((n.name, len(driver.gpus) if driver is not None else None))
    have = sum(c or 0 for _, c in counts)
    unknown = [name for name, c in counts if c is None]
    if have >= need:
        return None
    evidence = [f"--tp {wish.tensor_parallel or 1} x --pp {wish.pipeline_parallel or 1} needs {need} GPUs; "
                f"the nodes that answered have {have}"]
    evidence += [f"{name}: {c} GPU(s)" for name, c in counts if c is not None]
    evidence += [f"{name}: GPU count unknown" for name in unknown]
    return Finding("cluster-gpus-insufficient", "error", AREA, f"The cluster has {have} of the {need} GPUs asked for",
                   tuple(evidence), "vLLM places one worker per GPU: tensor_parallel_size x pipeline_parallel_size "
                   "GPUs must be free in the Ray cluster, or start-up waits for resources forever.",
                   (), ("Lower --tensor-parallel-size / --pipeline-parallel-size, or add nodes.",), RAY_DOCS)


def _interface_unset(code: str, variable: str, library: str) -> Callable[[Sequence[Node], Wish], Optional[Finding]]:
    def judge(nodes: Sequence[Node], _wish: Wish) -> Optional[Finding]:
        if len(reached(nodes)) < 2:
            return None
        many = [n for n in reached(nodes) if n.extras.interfaces is not None and len(n.extras.interfaces) > 1
                and not getattr(n.extras, variable.lower())]
        if not many:
            return None
        first = many[0].extras.interfaces[0]
        return Finding(code, "warn", AREA, f"{variable} is unset on node(s) with several network interfaces",
                       tuple(f"{n.name}: {', '.join(n.extras.interfaces)}" for n in many),
                       f"{library} picks an interface by itself; on a node with several it can pick one the other "
                       "nodes cannot reach, and the job hangs at its first collective.",
                       (f"export {variable}={first}",),
                       (f"Use the interface the nodes reach each other on, the same name on every node "
                        f"(first one shown as an example: {first}).",), NCCL_DOCS)
    return judge


def p2p_unavailable(nodes: Sequence[Node], wish: Wish) -> Optional[Finding]:
    evidence = []
    for n in reached(nodes):
        platform = n.report.facts.platform
        driver = n.report.facts.driver
        gpus = len(driver.gpus) if driver is not None else 0
        if platform is not None and platform.wsl == 2 and gpus > 1:
            evidence.append(f"{n.name}: {gpus} GPUs under WSL 2, which gives CUDA no peer access between them")
        if n.extras.p2p_blocked:
            evidence.append(f"{n.name}: no peer access for {', '.join(n.extras.p2p_blocked)}")
    if not evidence:
        return None
    return Finding("gpu-p2p-unavailable", "warn", AREA, "Some GPUs of a node cannot reach each other directly (P2P)",
                   tuple(evidence), "Tensor parallelism inside a node moves activations between GPUs at every layer; "
                   "without peer access NCCL goes through host memory (slow), and under WSL 2 it can fail.",
                   ("nvidia-smi topo -m",),
                   ("Keep tensor parallelism to GPUs with peer access (or export NCCL_P2P_DISABLE=1 to make NCCL "
                    "avoid it); under WSL 2 run multi-GPU jobs on native Linux.",), RAY_DOCS)


def model_missing(nodes: Sequence[Node], wish: Wish) -> Optional[Finding]:
    if not wish.model:
        return None
    missing = [n.name for n in reached(nodes) if n.extras.model_cached is False]
    unknown = [n.name for n in reached(nodes) if n.extras.model_cached is None]
    if not missing and not unknown:
        return None
    evidence = [f"{name}: {wish.model} is not in its Hugging Face cache" for name in missing]
    evidence += [f"{name}: could not tell whether {wish.model} is cached" for name in unknown]
    return Finding("model-missing-on-node", "error" if missing else "warn", AREA,
                   f"{wish.model} is not on every node", tuple(evidence),
                   "Every worker loads its shard from its own node: a node without the model downloads it at "
                   "start-up (slow, and fails offline), or fails when HF_HUB_OFFLINE=1.",
                   (f"huggingface-cli download {wish.model}",),
                   ("Run the download on each node listed, or put the model on a shared file system and pass its path.",))


CLUSTER_RULES: Tuple[ClusterRule, ...] = (
    ClusterRule("node-unreachable", "A cluster node did not answer the check within its timeout", unreachable),
    ClusterRule("node-version-drift", "Driver, torch's CUDA build, torch, vLLM, Python or NCCL differ between nodes",
                version_drift),
    ClusterRule("cluster-gpus-insufficient", "Fewer GPUs in the cluster than --tp x --pp", gpus_insufficient),
    ClusterRule("nccl-interface-unset", "Several network interfaces and no NCCL_SOCKET_IFNAME",
                _interface_unset("nccl-interface-unset", "NCCL_SOCKET_IFNAME", "NCCL")),
    ClusterRule("gloo-interface-unset", "Several network interfaces and no GLOO_SOCKET_IFNAME",
                _interface_unset("gloo-interface-unset", "GLOO_SOCKET_IFNAME", "Gloo (torch.distributed's CPU side)")),
    ClusterRule("gpu-p2p-unavailable", "GPUs of a node without peer access (or several GPUs under WSL 2)",
                p2p_unavailable),
    ClusterRule("model-missing-on-node", "The --model is not cached on some node", model_missing),
)


def judge(nodes: Sequence[Node], wish: Wish) -> List[Finding]:
    found = [f for r in CLUSTER_RULES for f in [r.judge(nodes, wish)] if f is not None]
    rank = {"error": 0, "warn": 1, "info": 2}
    return sorted(found, key=lambda f: rank[f.severity])
