"""Settings for the smoke generation, sized from the facts, each with its reason.

A smoke test needs one short request, not a server: a short context, few sequences, and
memory sized from what is FREE on the card (vLLM takes gpu_memory_utilization of the
TOTAL and refuses to start when that much is not free). The fit calculator (fit/calc.py) does
the arithmetic; every value can be overridden from the command line.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple

from envdoctor.core.facts import DriverFacts
from envdoctor.fit.calc import FitPlan, ModelShape
from envdoctor.compat.tables import Matrices

SMOKE_CONTEXT = 2048  # tokens: a prompt and a few dozen generated tokens fit many times over
SMALL_CARD_MIB = 8 * 1024  # below this, CUDA graphs cost memory the KV cache needs


@dataclass(frozen=True)
class Setting:
    name: str
    value: Any
    reason: str
    overridden: bool = False


def choose(shape: ModelShape, driver: DriverFacts, matrices: Matrices, *, wsl: bool,
           vllm_version: Optional[str], overrides: Mapping[str, Any]) -> Tuple[Tuple[Setting, ...], FitPlan]:
    """The LLM(...) settings for a smoke run on GPU 0, and the fit plan they came from."""
    from envdoctor.fit.sizing import gpu_from_fact, plan_for

    gpu = gpu_from_fact(driver.gpus[0], matrices)
    context = min(SMOKE_CONTEXT, shape.max_positions)
    if overrides.get("max_model_len"):
        context = int(overrides["max_model_len"])
    p = plan_for(shape, gpu, matrices, context=context, vllm=vllm_version)
    chosen = p.chosen.settings
    free_mib = (gpu.usable_free // (1024 * 1024))
    total_mib = gpu.total_bytes // (1024 * 1024)
    small = total_mib < SMALL_CARD_MIB
    auto: Dict[str, Setting] = {
        "max_model_len": Setting("max_model_len", p.chosen.context,
                                 f"a smoke test needs one short request; {p.chosen.context} tokens of KV cache "
                                 f"({p.chosen.kv_bytes_per_token:,} B each) instead of the model's "
                                 f"{shape.max_positions:,}"),
        "gpu_memory_utilization": Setting(
            "gpu_memory_utilization", round(chosen.gpu_memory_utilization, 2),
            f"{free_mib:,} of {total_mib:,} MiB are free on GPU 0; vLLM reserves this share of the TOTAL and "
            "refuses to start when it is not free" + (" (the fit calculator's choice)" if p.verdict != "fits" else "")),
        "enforce_eager": Setting(
            "enforce_eager", bool(chosen.enforce_eager or small or wsl),
            ("CUDA graphs cost memory and capture time: eager mode " +
             ("on a card under 8 GiB" if small else "under WSL 2" if wsl else "because the memory is tight"))
            if chosen.enforce_eager or small or wsl else "the card has room: CUDA graphs stay on, as when serving"),
        "max_num_seqs": Setting("max_num_seqs", min(chosen.max_num_seqs, 8),
                                "one request is generated; fewer sequences shrink the warm-up's activations"),
    }
    if chosen.dtype != "auto":
        auto["dtype"] = Setting("dtype", chosen.dtype, f"compute capability {gpu.compute_capability} has no "
                                "bfloat16 and the model is bfloat16: half precision instead")
    for name, value in overrides.items():
        if value is None or name not in ("max_model_len", "gpu_memory_utilization", "enforce_eager", "dtype",
                                         "max_num_seqs"):
            continue
        auto[name] = Setting(name, value, "given on the command line", overridden=True)
    return tuple(auto.values()), p
