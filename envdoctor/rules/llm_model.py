"""Model-fit rules (`check --model`): the model's weights and KV cache against the GPU's
measured free memory, sized the way vLLM sizes them at start-up (envdoctor/fit/calc.py)."""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Tuple

from envdoctor.compat.tables import Matrices
from envdoctor.core.results import Facts
from envdoctor.messages import Msg
from envdoctor.rules.base import Advice, in_wsl, rule

if TYPE_CHECKING:
    from envdoctor.fit.calc import FitPlan

DOCS = "https://docs.vllm.ai/en/latest/configuration/conserving_memory.html"


def fit_plan(facts: Facts, m: Matrices) -> Optional[FitPlan]:
    from envdoctor.fit.model_config import from_catalog
    from envdoctor.fit.sizing import gpu_from_fact, plan_for

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

    free = Msg("model.evidence.free-not-measured") if p.gpu.free_bytes is None else gib(p.gpu.free_bytes)
    lines = [Msg("model.evidence.gpu" + (".wsl" if wsl else ""), gpu=p.gpu.name, total=gib(p.gpu.total_bytes),
                 free=free),
             Msg("model.evidence.model", model=p.model.name, weights=gib(p.default.weights),
                 kv_per_token=p.default.kv_bytes_per_token, context=p.model.max_positions),
             Msg("model.evidence.defaults", requested=gib(p.default.requested), kv=gib(p.default.kv_available),
                 tokens=p.default.kv_tokens)]
    return tuple(lines) + tuple(p.notes)


def _prove(p: FitPlan) -> str:
    from envdoctor.fit.calc import smoke_options

    return Msg("model.note.prove", command=f"envdoctor run-smoke {smoke_options(p)}")


def _command(est, model: str) -> str:
    from envdoctor.render.fit_text import command

    return command(est, model)


@rule("model-not-found", "model", "The model given to --model is neither on this machine nor in the catalog")
def not_found(facts: Facts, m: Matrices) -> Optional[Advice]:
    from envdoctor.fit.model_config import from_catalog, not_found_message

    found = facts.model
    if found is None or found.shape is not None or from_catalog(m, found.query) is not None:
        return None
    return Advice("warn", Msg("model-not-found.title", model=found.query), why=Msg("model-not-found.why"),
                  notes=(not_found_message(found.hub_cache or Msg("model-not-found.hub-cache"), m, found.query),))


@rule("model-no-gpu", "model", "The model cannot be sized: no GPU is known")
def no_gpu(facts: Facts, m: Matrices) -> Optional[Advice]:
    from envdoctor.fit.model_config import from_catalog

    found, driver = facts.model, facts.driver
    if found is None or (driver is not None and driver.gpus):
        return None
    if found.shape is None and from_catalog(m, found.query) is None:
        return None  # model-not-found says what to pass
    return Advice("warn", Msg("model-no-gpu.title", model=found.query), why=Msg("model-no-gpu.why"),
                  fix=(f"envdoctor fit {found.query} --gpu NAME",), notes=(Msg("model-no-gpu.note"),), docs=DOCS)


@rule("model-does-not-fit", "model", "The model does not fit in the GPU's free memory under vLLM")
def does_not_fit(facts: Facts, m: Matrices) -> Optional[Advice]:
    p = fit_plan(facts, m)
    if p is None or p.verdict != "does-not-fit":
        return None
    if p.blocker:
        return Advice("error", Msg("model-does-not-fit.title.blocked", model=p.model.name, gpu=p.gpu.name,
                                   blocker=p.blocker),
                      evidence=_evidence(p, in_wsl(facts)), why=Msg("model-does-not-fit.why.blocked"),
                      notes=(Msg("model-does-not-fit.note.blocked"),), docs=DOCS)
    from envdoctor.fit.calc import gib, weight_bytes

    fix: Tuple[str, ...] = ()
    notes: List[str] = [Msg("model.note.arithmetic")]
    if p.alternative is not None:
        alt = p.alternative
        fix = (_command(alt.chosen, alt.model.name),)
        notes.insert(0, Msg("model-does-not-fit.note.alternative", model=alt.model.name,
                            method=alt.model.quant_method, bits=alt.model.quant_bits,
                            weights=gib(weight_bytes(alt.model))))
        notes.insert(1, _prove(p))
    else:
        notes.insert(0, Msg("model-does-not-fit.note.no-alternative"))
    return Advice("error", Msg("model-does-not-fit.title", model=p.model.name, gpu=p.gpu.name),
                  evidence=_evidence(p, in_wsl(facts)), why=Msg("model-does-not-fit.why"),
                  fix=fix, notes=tuple(notes), docs=DOCS)


@rule("model-fits-with-settings", "model", "The model fits only with non-default vLLM settings")
def fits_with_settings(facts: Facts, m: Matrices) -> Optional[Advice]:
    p = fit_plan(facts, m)
    if p is None or p.verdict != "fits-with-settings" or p.context_limited:
        return None
    return Advice("warn", Msg("model-fits-with-settings.title", model=p.model.name, gpu=p.gpu.name),
                  evidence=_evidence(p, in_wsl(facts)), why=Msg("model-fits-with-settings.why"),
                  fix=(_command(p.chosen, p.model.name),), notes=(_prove(p), Msg("model.note.arithmetic")),
                  docs=DOCS)


@rule("kv-cache-too-small-for-context", "model", "The KV cache cannot hold the model's full context on this GPU")
def kv_too_small(facts: Facts, m: Matrices) -> Optional[Advice]:
    p = fit_plan(facts, m)
    if p is None or p.verdict != "fits-with-settings" or not p.context_limited:
        return None
    notes: List[str] = [Msg("kv-cache-too-small-for-context.note.refuses", default=p.model.max_positions,
                 tokens=p.chosen.context)]
    notes.append(_prove(p))
    if p.alternative is not None:
        notes.append(Msg("kv-cache-too-small-for-context.note.alternative", model=p.alternative.model.name,
                         tokens=p.alternative.chosen.context,
                         command=_command(p.alternative.chosen, p.alternative.model.name)))
    return Advice("warn", Msg("kv-cache-too-small-for-context.title", model=p.model.name, gpu=p.gpu.name,
                              tokens=p.chosen.context),
                  evidence=_evidence(p, in_wsl(facts)), why=Msg("kv-cache-too-small-for-context.why"),
                  fix=(_command(p.chosen, p.model.name),), notes=tuple(notes), docs=DOCS)
