"""Model-fit rules (`check --model`): the model's weights and KV cache against the GPU's
measured free memory, sized the way vLLM sizes them at start-up (envdoctor/fit/calc.py)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from envdoctor.compat.tables import Matrices
from envdoctor.core.results import Facts
from envdoctor.rules.base import Advice, in_wsl, rule

if TYPE_CHECKING:
    from envdoctor.fit.calc import FitPlan

DOCS = "https://docs.vllm.ai/en/latest/configuration/conserving_memory.html"


def fit_plan(facts: Facts, m: Matrices) -> Optional[FitPlan]:
    from envdoctor.fit.sizing import gpu_from_fact, plan_for
    from envdoctor.fit.model_config import from_catalog

    found, driver = facts.model, facts.driver
    if found is None or driver is None or not driver.gpus:
        return None
    shape = found.shape or from_catalog(m, found.query)
    gpu = gpu_from_fact(driver.gpus[0], m)  # vLLM runs on the first visible GPU
    if shape is None or gpu.total_bytes <= 0:
        return None
    env = facts.python
    installed = env.dist("vllm") if env is not None else None
    return plan_for(shape, gpu, m, vllm=installed.version if installed else None)


def _evidence(p: FitPlan, wsl: bool):
    from envdoctor.fit.calc import gib  # fit.py loads only when a model is asked about

    free = "not measured" if p.gpu.free_bytes is None else gib(p.gpu.free_bytes)
    lines = [f"GPU 0: {p.gpu.name}, {gib(p.gpu.total_bytes)} total, {free} free"
             + (" (the Windows desktop shares it under WSL)" if wsl else ""),
             f"{p.model.name}: {gib(p.default.weights)} of weights, {p.default.kv_bytes_per_token:,} B of KV "
             f"cache per token, context {p.model.max_positions:,}",
             f"with vLLM's defaults: requests {gib(p.default.requested)}, leaving {gib(p.default.kv_available)} "
             f"for the KV cache ({p.default.kv_tokens:,} tokens)"]
    return tuple(lines) + tuple(p.notes)


def _prove(p: FitPlan) -> str:
    from envdoctor.fit.calc import smoke_options

    return f"Prove it with a real generation: envdoctor run-smoke {smoke_options(p)}"


def _command(est, model: str) -> str:
    from envdoctor.render.fit_text import command

    return command(est, model)


@rule("model-not-found", "model", "The model given to --model is neither on this machine nor in the catalog")
def not_found(facts: Facts, m: Matrices) -> Optional[Advice]:
    from envdoctor.fit.model_config import from_catalog, not_found_message

    found = facts.model
    if found is None or found.shape is not None or from_catalog(m, found.query) is not None:
        return None
    return Advice("warn", f"Cannot size {found.query}: its config.json is not on this machine",
                  why="envdoctor reads the model's config.json (layers, heads, vocabulary) without the "
                      "network: from a local folder, the Hugging Face cache or its own catalog.",
                  notes=(not_found_message(found.hub_cache or "the Hugging Face cache", m, found.query),))


@rule("model-no-gpu", "model", "The model cannot be sized: no GPU is known")
def no_gpu(facts: Facts, m: Matrices) -> Optional[Advice]:
    from envdoctor.fit.model_config import from_catalog

    found, driver = facts.model, facts.driver
    if found is None or (driver is not None and driver.gpus):
        return None
    if found.shape is None and from_catalog(m, found.query) is None:
        return None  # model-not-found says what to pass
    return Advice("warn", f"Cannot size {found.query}: no GPU known",
                  why="Whether a model fits depends on the GPU's memory, and no NVIDIA GPU was read on this "
                      "machine: the model's fit is unknown, not fine.",
                  fix=(f"envdoctor fit {found.query} --gpu NAME",),
                  notes=("Or pass the card's memory (--vram GB), or run envdoctor where the GPU is.",), docs=DOCS)


@rule("model-does-not-fit", "model", "The model does not fit in the GPU's free memory under vLLM")
def does_not_fit(facts: Facts, m: Matrices) -> Optional[Advice]:
    p = fit_plan(facts, m)
    if p is None or p.verdict != "does-not-fit":
        return None
    if p.blocker:
        return Advice("error", f"{p.model.name} cannot run on {p.gpu.name}: {p.blocker}",
                      evidence=_evidence(p, in_wsl(facts)),
                      why="vLLM's kernels are built for a range of compute capabilities; below it vLLM does not "
                          "start, whatever the memory.",
                      notes=("A GPU with a newer architecture is needed (or an older vLLM that still supports "
                             "this one: envdoctor fix --plan).",), docs=DOCS)
    from envdoctor.fit.calc import gib, weight_bytes

    fix, notes = (), ["Run `envdoctor fit MODEL -v` for the arithmetic."]
    if p.alternative is not None:
        alt = p.alternative
        fix = (_command(alt.chosen, alt.model.name),)
        notes.insert(0, f"{alt.model.name} ({alt.model.quant_method}, {alt.model.quant_bits}-bit) holds "
                        f"{gib(weight_bytes(alt.model))} of weights and fits with the settings above.")
        notes.insert(1, _prove(p))
    else:
        notes.insert(0, "No published quantized variant in envdoctor's catalog fits: use a smaller model "
                        "or a GPU with more memory.")
    return Advice("error", f"{p.model.name} does not fit on {p.gpu.name}",
                  evidence=_evidence(p, in_wsl(facts)),
                  why="vLLM reserves gpu_memory_utilization × total memory at start-up and needs the weights, "
                      "a profile run's activations and at least one full-length request of KV cache inside it; "
                      "here the weights alone leave too little.",
                  fix=fix, notes=tuple(notes), docs=DOCS)


@rule("model-fits-with-settings", "model", "The model fits only with non-default vLLM settings")
def fits_with_settings(facts: Facts, m: Matrices) -> Optional[Advice]:
    p = fit_plan(facts, m)
    if p is None or p.verdict != "fits-with-settings" or p.context_limited:
        return None
    return Advice("warn", f"{p.model.name} fits on {p.gpu.name} only with these settings",
                  evidence=_evidence(p, in_wsl(facts)),
                  why="With vLLM's defaults it stops at start-up or runs out of KV cache: the defaults assume "
                      "a card with room to spare.",
                  fix=(_command(p.chosen, p.model.name),),
                  notes=(_prove(p), "Run `envdoctor fit MODEL -v` for the arithmetic."), docs=DOCS)


@rule("kv-cache-too-small-for-context", "model", "The KV cache cannot hold the model's full context on this GPU")
def kv_too_small(facts: Facts, m: Matrices) -> Optional[Advice]:
    p = fit_plan(facts, m)
    if p is None or p.verdict != "fits-with-settings" or not p.context_limited:
        return None
    notes = [f"vLLM refuses to start when max_model_len ({p.model.max_positions:,} by default here) needs more "
             f"KV cache than is left; {p.chosen.context:,} tokens fit."]
    notes.append(_prove(p))
    if p.alternative is not None:
        notes.append(f"Or {p.alternative.model.name} keeps {p.alternative.chosen.context:,} tokens: "
                     f"{_command(p.alternative.chosen, p.alternative.model.name)}")
    return Advice("warn", f"{p.model.name} on {p.gpu.name}: set max_model_len to {p.chosen.context:,}",
                  evidence=_evidence(p, in_wsl(facts)),
                  why="Every token of context needs KV cache (2 × layers × kv_heads × head_dim × 2 bytes); "
                      "what is left after the weights holds fewer tokens than the model's maximum.",
                  fix=(_command(p.chosen, p.model.name),), notes=tuple(notes), docs=DOCS)
