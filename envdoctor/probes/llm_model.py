"""The model `check --model` names: its config.json from a local folder or the Hugging Face
cache, read through the Context (no network). Not found here is a normal answer: the rules
then try envdoctor's catalog."""
from __future__ import annotations

from envdoctor.machine.context import Context
from envdoctor.probes.engine import ProbeFailed, ProbeSkipped
from envdoctor.core.facts import ModelFacts
from envdoctor.core.results import Facts


def probe(ctx: Context, _facts: Facts) -> ModelFacts:
    query = ctx.options.get("model")
    if not query:
        raise ProbeSkipped("no --model given")
    from envdoctor.fit.model_config import ModelConfigError, find_local, hub_cache_dir  # only when asked

    try:
        shape = find_local(ctx.fs, ctx.env, str(query))
    except ModelConfigError as exc:
        raise ProbeFailed(str(exc)) from None
    return ModelFacts(str(query), shape.source if shape else None, shape, hub_cache_dir(ctx.env))
