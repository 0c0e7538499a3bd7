"""Network: can this machine reach the places an install fetches from, how fast, and if
not, exactly why (issue 5) -- before anything is installed.

Targets come from the user's real configuration, never from a list of our own: pip's
index, extra indexes and find-links (pip's files, PIP_* variables, and pip's built-in
default read from pip itself), the PyTorch wheel index of the CUDA build in question,
the Hugging Face endpoint (HF_ENDPOINT or its default), ModelScope when
VLLM_USE_MODELSCOPE is set, conda channels for a conda env, uv's indexes, and --url.
All are traced in parallel (net_check.py), each step under its own timeout
(net_trace.py), the whole area under one budget.
"""
from __future__ import annotations

from envdoctor.core.facts import NetworkFacts
from envdoctor.core.results import Facts
from envdoctor.machine.context import Context
from envdoctor.messages import Msg
from envdoctor.probes.engine import ProbeOutOfTime, ProbeSkipped

BUDGET = 4.0  # seconds of wall time for the whole area
PROBE_TIMEOUT = BUDGET + 1.5  # the engine's limit: the budget, the pip child and the joins


def probe(ctx: Context, deps: Facts) -> NetworkFacts:
    if ctx.options.get("offline"):
        raise ProbeSkipped(f"{ctx.options['offline']} skips the network checks")
    if ctx.net is None:
        raise ProbeSkipped(Msg("probe.network.replayed"))
    asked = ctx.options.get("network_budget")  # seconds, set by tests and benches
    budget = min(float(asked) if isinstance(asked, (int, float)) and asked else BUDGET, ctx.remaining() - 0.3)
    if budget < 0.5:
        raise ProbeOutOfTime("not checked: the global deadline left no time for the network checks "
                             "(raise --deadline)")
    from envdoctor.probes.net_check import run  # sockets, ssl and config parsers load only here

    return run(ctx, ctx.net, deps, budget)
