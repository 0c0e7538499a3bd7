"""torch runtime: a second child of the target interpreter that really imports torch.

Only when the environment probe found torch, and never with --quick (importing torch
takes seconds). Answers what metadata cannot: does CUDA initialise, the compiled arch
list, the device capability, and the exact error text when CUDA fails. A check from the
CLI caches the answer (torch_cache.py); --fresh runs the child again.
"""
from __future__ import annotations

import json
from dataclasses import replace

from envdoctor.core.facts import TorchDevice, TorchRuntimeFacts
from envdoctor.core.results import Facts
from envdoctor.machine.context import Context
from envdoctor.messages import Msg
from envdoctor.probes.engine import ProbeAbsent, ProbeFailed, ProbeSkipped, ProbeTimeout
from envdoctor.probes.python_env import child_source

CHILD_TIMEOUT = 15.0


def parse_child(data: dict) -> TorchRuntimeFacts:
    if "import_error" in data:
        raise ProbeFailed(f"import torch failed: {data['import_error']}")
    return TorchRuntimeFacts(
        version=str(data["version"]),
        cuda=data.get("cuda"),
        cuda_available=bool(data.get("cuda_available")),
        device_count=int(data.get("device_count") or 0),
        arch_list=tuple(str(a) for a in data.get("arch_list") or ()),
        devices=tuple(TorchDevice(int(d["index"]), str(d["name"]), str(d["capability"]))
                      for d in data.get("devices") or ()),
        error=data.get("error"),
        warnings=tuple(str(w) for w in data.get("warnings") or ()),
    )


def probe(ctx: Context, deps: Facts) -> TorchRuntimeFacts:
    if ctx.options.get("quick"):
        raise ProbeSkipped("--quick skips importing torch")
    env = deps.get("python")
    if env is None:
        raise ProbeSkipped(Msg("probe.torch.no-python"))
    if env.torch is None:
        raise ProbeAbsent(Msg("probe.torch.absent"))
    from envdoctor.probes import torch_cache  # hashlib and the cache only when torch is really probed

    directory = torch_cache.cache_dir(ctx.env) if ctx.options.get("torch_cache") else None
    digest = torch_cache.key(ctx, env.executable) if directory else None
    if directory and digest and not ctx.options.get("fresh"):
        cached = torch_cache.load(directory, digest)
        if cached is not None:
            try:
                return replace(parse_child(cached), cached=True)
            except (KeyError, TypeError, ValueError, ProbeFailed):
                pass  # an entry that does not parse: run the child and rewrite it
    data = _run_child(ctx, env.executable)
    facts = parse_child(data)  # an import error is not cached: the user is about to fix it
    if directory and digest:
        torch_cache.store(directory, digest, data)
    return facts


def _run_child(ctx: Context, executable: str) -> dict:
    result = ctx.run([executable, "-c", child_source("torch_child.py")], timeout=CHILD_TIMEOUT)
    if result.status == "timeout":
        raise ProbeTimeout(f"import torch gave no answer in time and was killed ({result.error})")
    try:
        data = json.loads(result.stdout.strip().splitlines()[-1])
        if not isinstance(data, dict):
            raise ValueError
    except (ValueError, IndexError):
        raise ProbeFailed(f"the torch probe printed no result: {result.describe()}") from None
    try:
        parse_child(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ProbeFailed(f"the torch probe printed data that cannot be read: {exc}") from None
    return data
