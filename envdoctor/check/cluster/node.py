"""What one node reports: its check document, plus the facts that matter only between nodes
(network interfaces, NCCL/Gloo settings, GPU peer access, whether the model is cached there).

`probe` runs ON the node (a Ray task pinned to it), so it imports nothing the node may lack and
returns plain JSON data."""
from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple

from envdoctor.machine.context import Context
from envdoctor.core.results import Report

NET_SYSFS = "/sys/class/net"
# NCCL leaves out the loopback and docker interfaces by itself (NCCL_SOCKET_IFNAME's default,
# https://docs.nvidia.com/deeplearning/nccl/user-guide/docs/env.html#nccl-socket-ifname), so only
# the others can make it pick the wrong one.
NCCL_SKIPS = re.compile(r"^(lo|docker)")
P2P_TIMEOUT = 5.0


@dataclass(frozen=True)
class NodeExtras:
    interfaces: Optional[Tuple[str, ...]] = None  # interfaces NCCL may choose between; None: unknown
    nccl_socket_ifname: Optional[str] = None
    gloo_socket_ifname: Optional[str] = None
    p2p_blocked: Optional[Tuple[str, ...]] = None  # "GPU0-GPU1: NS" pairs without peer access; None: unknown
    model_cached: Optional[bool] = None  # None: no --model, or could not tell


@dataclass(frozen=True)
class Node:
    name: str  # hostname, address or file name: what the table shows
    node_id: Optional[str] = None
    report: Optional[Report] = None  # None: the node did not answer
    extras: NodeExtras = NodeExtras()
    error: Optional[str] = None  # why there is no report
    document: Optional[Dict[str, Any]] = None  # its `check --json` document, as the node sent it
    saved: bool = False  # from a file of `check --cluster DIR`, not asked over Ray


def interfaces(ctx: Context) -> Optional[Tuple[str, ...]]:
    if not ctx.fs.is_dir(NET_SYSFS):
        return None
    names = sorted(os.path.basename(p) for p in ctx.fs.glob(NET_SYSFS + "/*"))
    return tuple(n for n in names if not NCCL_SKIPS.match(n))


def p2p_blocked(ctx: Context, gpu_count: int) -> Optional[Tuple[str, ...]]:
    """GPU pairs `nvidia-smi topo -p2p r` (peer reads) does not mark OK; () with one GPU."""
    if gpu_count < 2:
        return ()
    smi = ctx.which("nvidia-smi")
    if smi is None:
        return None
    result = ctx.run([smi, "topo", "-p2p", "r"], timeout=P2P_TIMEOUT)
    if not result.ok:
        return None
    return parse_p2p(result.stdout)


def parse_p2p(text: str) -> Optional[Tuple[str, ...]]:
    rows = [line.split() for line in text.splitlines() if re.match(r"\s*GPU\d+\s+(X|OK|[A-Z]{2,4})\b", line)]
    if not rows:
        return None
    blocked = []
    for i, cells in enumerate(rows):
        for j, value in enumerate(cells[1:]):
            if j > i and value not in ("X", "OK"):
                blocked.append(f"GPU{i}-GPU{j}: {value}")
    return tuple(blocked)


def hub_cache(env: Mapping[str, str]) -> str:
    if env.get("HF_HUB_CACHE"):
        return env["HF_HUB_CACHE"]
    home = env.get("HF_HOME") or os.path.join(env.get("HOME", "~"), ".cache", "huggingface")
    return os.path.join(home, "hub")


def model_cached(ctx: Context, model: Optional[str]) -> Optional[bool]:
    """Is the model's config.json on this node: a folder, or a snapshot in the hub cache?"""
    if not model:
        return None
    if model.startswith("/"):
        return ctx.fs.exists(os.path.join(model, "config.json"))
    folder = os.path.join(hub_cache(ctx.env), "models--" + model.replace("/", "--"))
    return bool(ctx.fs.glob(os.path.join(folder, "snapshots", "*", "config.json")))


def extras(ctx: Context, report: Report, model: Optional[str]) -> NodeExtras:
    driver = report.facts.driver
    gpus = len(driver.gpus) if driver is not None else 0
    return NodeExtras(interfaces(ctx), ctx.env.get("NCCL_SOCKET_IFNAME"), ctx.env.get("GLOO_SOCKET_IFNAME"),
                      p2p_blocked(ctx, gpus), model_cached(ctx, model))


def probe(options: Dict[str, Any]) -> Dict[str, Any]:
    """Run on the node: check it as `envdoctor check --json` would, and read its extras.
    options: check's context options, plus deadline, model and (tests) replay."""
    from envdoctor.check.run import exit_code, run_check
    from envdoctor.redact import Redactor
    from envdoctor.render.json_doc import document, plain

    check_options = {k: v for k, v in options.items() if k not in ("replay", "deadline", "model")}
    if options.get("replay"):
        from envdoctor.machine.replay import replay_context

        ctx = replay_context(str(options["replay"]), check_options)
        name = ctx.env.get("HOSTNAME") or os.path.basename(str(options["replay"]).rstrip("/"))
    else:
        from envdoctor.machine.context import live_context

        ctx = live_context(check_options)
        name = socket.gethostname()
    report = run_check(ctx, deadline=float(options.get("deadline", 8.0)))
    doc = document(report, exit_code(report), Redactor(ctx.env))
    doc["node"] = {"name": name, **plain(extras(ctx, report, options.get("model")))}
    return doc


def extras_from_document(doc: Mapping[str, Any]) -> NodeExtras:
    raw = doc.get("node") if isinstance(doc.get("node"), dict) else {}

    def names(key: str) -> Optional[Tuple[str, ...]]:
        value = raw.get(key)
        return tuple(str(v) for v in value) if isinstance(value, list) else None

    def text(key: str) -> Optional[str]:
        value = raw.get(key)
        return value if isinstance(value, str) else None

    cached = raw.get("model_cached")
    return NodeExtras(names("interfaces"), text("nccl_socket_ifname"), text("gloo_socket_ifname"),
                      names("p2p_blocked"), cached if isinstance(cached, bool) else None)
