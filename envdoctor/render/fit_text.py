"""`envdoctor fit` as text (with the arithmetic under -v) and as a JSON document."""
from __future__ import annotations

from typing import Any, Dict, List

from envdoctor.fit.calc import (CUDA_CONTEXT_BYTES, CUDA_GRAPH_BYTES, NON_TORCH_BYTES, Estimate, FitPlan, GiB, ModelShape,
                   count_parameters, gib, smoke_options, weight_bytes)

PROBLEM_TEXT = {
    "start": "vLLM would stop at start-up: the memory it requests is more than is free",
    "no-kv": "weights and activations leave no memory for the KV cache",
    "context": "the KV cache cannot hold one request of the full context",
    "graphs": "no headroom left for CUDA graphs (use enforce_eager)",
    "tp-heads": "the attention heads do not divide by tensor_parallel_size",
}
VERDICT_TEXT = {"fits": "Fits with vLLM's defaults", "fits-with-settings": "Fits with these settings",
                "does-not-fit": "Does not fit"}
# The same verdicts in a sentence, for reports that mention a fit in passing (fix --plan).
VERDICT_WORDS = {"fits": "fits with vLLM's defaults", "fits-with-settings": "fits with the settings below",
                 "does-not-fit": "does not fit"}


def exit_code(p: FitPlan) -> int:
    """0 fits with vLLM's defaults, 1 fits with settings (or with something unchecked), 2 does not fit."""
    if p.verdict == "does-not-fit":
        return 2
    return 1 if p.verdict == "fits-with-settings" or p.unknowns else 0


def headline(p: FitPlan) -> str:
    free = "free memory not measured (assumed idle)" if p.gpu.free_bytes is None else f"{gib(p.gpu.free_bytes)} free"
    cc = f", CC {p.gpu.compute_capability}" if p.gpu.compute_capability else ""
    return f"{p.model.name} on {p.gpu.name} ({gib(p.gpu.total_bytes)}, {free}{cc})"


def python_args(est: Estimate, model: str) -> str:
    s = est.settings
    args = [f'model="{model}"', f"max_model_len={est.context}", f"gpu_memory_utilization={s.gpu_memory_utilization:.2f}"]
    if s.max_num_seqs != 256:
        args.append(f"max_num_seqs={s.max_num_seqs}")
    if s.enforce_eager:
        args.append("enforce_eager=True")
    if s.dtype != "auto":
        args.append(f'dtype="{s.dtype}"')
    if s.tensor_parallel_size > 1:
        args.append(f"tensor_parallel_size={s.tensor_parallel_size}")
    return "LLM(" + ", ".join(args) + ")"


def command(est: Estimate, model: str) -> str:
    from dataclasses import replace

    return replace(est.settings, max_model_len=est.context).vllm_args(model)


def _weights_line(m: ModelShape, est: Estimate) -> str:
    tp = est.settings.tensor_parallel_size
    per_gpu = f" ÷ {tp} GPUs = {gib(est.weights)}" if tp > 1 else ""
    if m.weights_file_bytes and not m.quantized and m.parameters:
        return (f"{m.parameters:,} parameters × 2 B → {gib(m.weights_file_bytes)} (the hub's count)" + per_gpu
                if per_gpu else f"{m.parameters:,} parameters × 2 B → {gib(est.weights)} (the hub's count)")
    if m.weights_file_bytes:
        return f"checkpoint tensors {m.weights_file_bytes:,} B (hub or published) → {gib(m.weights_file_bytes)}" + (
            per_gpu)
    if m.quantized:
        group = m.quant_group_size or 128
        assumed = "" if m.quant_group_size else ", group assumed"
        tied = "tied" if m.tie_embeddings else "untied (assumed unless read)"
        return (f"{m.quant_method} {m.quant_bits}-bit projections, group {group}{assumed}; 16-bit embeddings, "
                f"{tied} → {gib(weight_bytes(m))}" + per_gpu)
    return f"{count_parameters(m):,} parameters × 2 B → {gib(weight_bytes(m))}" + per_gpu


def arithmetic(est: Estimate, m: ModelShape, title: str) -> List[str]:
    s = est.settings
    per_token = est.kv_bytes_per_token
    lines = [f"  {title}:",
             f"    free at start      {gib(est.free)} − CUDA context {gib(est.cuda_context)} (assumed) = "
             f"{gib(est.free - est.cuda_context)}",
             f"    requested          total × {s.gpu_memory_utilization:.2f} = {gib(est.requested)}",
             f"    weights            {_weights_line(m, est)}",
             f"    activation peak    max(forward {gib(est.forward_activation)}, sampler "
             f"{gib(est.sampler_activation)}) = {gib(est.activation)}  "
             f"[{est.profile_tokens:,} tokens, {s.max_num_seqs} sequences]",
             f"    non-torch          {gib(est.non_torch)} (assumed)",
             f"    KV cache           {gib(est.requested)} − {gib(est.weights)} − {gib(est.activation)} − "
             f"{gib(est.non_torch)} = {gib(est.kv_available)}",
             f"    KV per token       {per_token:,} B (2 × layers × kv_heads × head_dim × bytes)",
             f"    KV tokens          {est.kv_tokens:,} (need {est.context:,} for max_model_len)"]
    if est.cuda_graphs:
        lines.append(f"    CUDA graphs        {gib(est.cuda_graphs)} headroom outside the request (assumed)")
    for problem in est.problems:
        lines.append(f"    ✗ {PROBLEM_TEXT[problem]}")
    return lines


def render(p: FitPlan, verbose: bool = False) -> List[str]:
    out = [headline(p), f"  model: {p.model.source}" if verbose else ""]
    out = [line for line in out if line]
    if p.blocker:
        out.append(f"✗ {p.blocker}")
        out.append("  Whatever the memory: no setting changes this (envdoctor fix --plan says what would run).")
        return out
    mark = {"fits": "✓", "fits-with-settings": "!", "does-not-fit": "✗"}[p.verdict]
    if mark == "✓" and p.unknowns:
        mark = "?"
    out.append(f"{mark} {VERDICT_TEXT[p.verdict]}" + (
        f" (max_model_len {p.chosen.context:,} of {p.model.max_positions:,})" if p.context_limited else "")
        + (" (memory only: see what was not checked)" if p.unknowns and p.verdict != "does-not-fit" else ""))
    out.extend(f"  ? not checked: {u}" for u in p.unknowns)
    if p.verdict != "fits":
        out.extend(f"  with vLLM's defaults: {PROBLEM_TEXT[x]}" for x in p.default.problems)
    if p.verdict != "does-not-fit":
        out.append(f"  $ {command(p.chosen, p.model.name)}")
        out.append(f"  Python: {python_args(p.chosen, p.model.name)}")
    if p.alternative is not None:
        alt = p.alternative
        longer = "the full context" if alt.chosen.context >= p.model.max_positions else "a longer context"
        out.append(f"  {'Instead' if p.verdict == 'does-not-fit' else 'Or, for ' + longer}: "
                   f"{alt.model.name} ({alt.model.quant_method} {alt.model.quant_bits}-bit, "
                   f"{gib(weight_bytes(alt.model))} of weights) "
                   f"{'fits' if alt.verdict == 'fits' else 'fits with settings'}"
                   f" at max_model_len {alt.chosen.context:,}")
        out.append(f"  $ {command(alt.chosen, alt.model.name)}")
    elif p.verdict == "does-not-fit":
        out.append("  No published quantized variant in envdoctor's catalog fits either: pick a smaller "
                   "model, a GPU with more memory" + ("" if p.default.settings.tensor_parallel_size > 1 else
                                                      ", or several GPUs (--tensor-parallel-size)") + ".")
    if p.verdict != "does-not-fit" or p.alternative is not None:
        out.append(f"  Prove it on the machine: envdoctor run-smoke {smoke_options(p)}")
    if verbose:
        out.append("")
        worker = ("vllm/v1/worker/gpu_worker.py determine_available_memory" if p.default.settings.chunked_prefill
                  else "the V0 engine's vllm/worker/worker.py determine_num_available_blocks")
        out.append(f"Arithmetic (vLLM's start-up sizing, {worker}; 1 GiB = 2^30 bytes"
                   + (f"; per GPU of {p.default.settings.tensor_parallel_size}"
                      if p.default.settings.tensor_parallel_size > 1 else "") + "):")
        out.extend(arithmetic(p.default, p.model, "with vLLM's defaults"))
        if p.chosen is not p.default:
            out.extend(arithmetic(p.chosen, p.model, "with the settings above"))
        if p.alternative is not None:
            out.extend(arithmetic(p.alternative.chosen, p.alternative.model,
                                  f"{p.alternative.model.name} with the settings above"))
        out.append("Assumptions (see envdoctor/fit/calc.py): CUDA context "
                   f"{CUDA_CONTEXT_BYTES / GiB:.2f} GiB, non-torch {NON_TORCH_BYTES / GiB:.2f} GiB, CUDA-graph headroom "
                   f"{CUDA_GRAPH_BYTES / GiB:.2f} GiB; activations estimated from the profile run's shapes; "
                   "sliding-window layers counted in full.")
    out.extend(f"  note: {n}" for n in p.notes)
    return out


def _estimate(e: Estimate) -> Dict[str, Any]:
    return {"settings": {"max_model_len": e.context, "gpu_memory_utilization": e.settings.gpu_memory_utilization,
                         "tensor_parallel_size": e.settings.tensor_parallel_size, "profile_tokens": e.profile_tokens,
                         "max_num_seqs": e.settings.max_num_seqs, "enforce_eager": e.settings.enforce_eager,
                         "dtype": e.settings.dtype, "max_num_batched_tokens": e.settings.max_num_batched_tokens},
            "bytes": {"weights": e.weights, "activation": e.activation, "non_torch": e.non_torch,
                      "cuda_context": e.cuda_context, "cuda_graphs": e.cuda_graphs, "requested": e.requested,
                      "kv_available": e.kv_available, "kv_per_token": e.kv_bytes_per_token, "free": e.free},
            "kv_tokens": e.kv_tokens, "problems": list(e.problems)}


def document(p: FitPlan) -> Dict[str, Any]:
    """`fit --json`: the plan's figures under the envelope every --json document has."""
    from envdoctor.render.json_doc import envelope

    return envelope(_body(p), kind="envdoctor-fit")


def _body(p: FitPlan) -> Dict[str, Any]:
    doc = {"model": p.model.name, "model_source": p.model.source, "gpu": p.gpu.name,
           "gpu_total_bytes": p.gpu.total_bytes, "gpu_free_bytes": p.gpu.free_bytes, "verdict": p.verdict,
           "blocker": p.blocker, "not_checked": list(p.unknowns),
           "tensor_parallel_size": p.default.settings.tensor_parallel_size,
           "context_limited": p.context_limited, "default": _estimate(p.default), "chosen": _estimate(p.chosen),
           "command": command(p.chosen, p.model.name) if p.verdict != "does-not-fit" else None,
           "smoke": f"envdoctor run-smoke {smoke_options(p)}" if not p.blocker else None,
           "notes": list(p.notes)}
    if p.alternative is not None:
        doc["alternative"] = _body(p.alternative)
    return doc
