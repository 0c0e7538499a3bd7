"""Does a model fit on a GPU under vLLM, and with which settings? A pure calculator.

How vLLM sizes its KV cache at start-up (vllm/v1/worker/gpu_worker.py `init_device` and
`determine_available_memory`; vllm/utils/mem_utils.py `memory_profiling`):

    requested    = total GPU memory × gpu_memory_utilization
                   (start-up fails when the free memory, measured after the process made
                   its CUDA context, is below `requested`)
    non_kv_cache = weights + peak activation of a profile run + non-torch memory growth
    available_kv = requested − non_kv_cache          ("Available KV cache memory: N GiB")
    blocks       = available_kv // (block_size × kv_bytes_per_token)
    KV tokens    = blocks / blocks one request needs × max_model_len   ("GPU KV cache size: N tokens")
                   (vllm/v1/core/kv_cache_utils.py get_kv_cache_capacity: full attention needs
                   ceil(max_model_len / block_size) blocks a request, so this is blocks × block_size;
                   a sliding window needs ceil(min(window − 1 + in-flight tokens, max_model_len) /
                   block_size) + 1)
    kv_bytes_per_token = 2 (K and V) × layers × kv_heads × head_dim × KV dtype bytes

With tensor parallelism every GPU holds 1/tp of the weights and of the KV heads (a KV head is
never split: with fewer KV heads than GPUs each GPU keeps one), and each figure here is per GPU.

Weights, the KV bytes per token and the formula above are exact. Three terms are
estimates, stated where they are defined (ACTIVATION, NON_TORCH_BYTES, CUDA_CONTEXT_BYTES,
CUDA_GRAPH_BYTES) so a run on a real GPU can check each one: `predict_available_kv` gives
the figure vLLM logs as "Available KV cache memory".
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Iterable, List, Optional, Sequence, Tuple

from envdoctor.core import units

GiB = 1024 ** 3
MiB = 1024 ** 2

BLOCK_SIZE = 16  # vLLM's default KV-cache block size on CUDA (tokens per block)

# --- the estimated terms -------------------------------------------------------------------
# The CUDA context torch creates in the vLLM process. It is taken before vLLM's start-up
# snapshot, so it is outside `requested` but must fit in the free memory. pytorch/pytorch#86509
# measured 287,047,680 bytes with CUDA_MODULE_LOADING=LAZY (the default since CUDA 11.7 /
# torch 1.13); rounded up.
CUDA_CONTEXT_BYTES = 300 * MiB
# Memory vLLM's process allocates outside torch's allocator after start-up (cuBLAS workspaces,
# attention-backend buffers; NCCL only with several GPUs). Assumed; it matches the one real
# run we have (H100, Qwen2-1.5B: 4.47 GiB non-KV = 2.88 weights + 1.45 sampler + 0.14).
NON_TORCH_BYTES = 150 * MiB
# CUDA graphs are captured after the KV cache is allocated, so with enforce_eager=False they
# need memory beyond `requested`. vLLM logs the real figure ("Graph capturing finished in N
# secs, took X GiB"): 0.99 GiB for Llama-3.1-8B with 1,024 sequences on an H200 (vLLM 0.26.0,
# tests/fixtures/fit/h200); fewer sequences capture fewer graphs. One run, so an assumed
# headroom; small GPUs get enforce_eager instead of relying on it.
CUDA_GRAPH_BYTES = 1 * GiB
# Keep this share of the card unrequested when choosing gpu_memory_utilization: free memory
# drifts (a desktop compositor, WDDM under WSL) between our reading and vLLM's.
UTILIZATION_MARGIN = 0.02

# Several GPUs talk through NCCL and vLLM's custom all-reduce, whose buffers sit outside torch's
# allocator on every GPU. Assumed, not measured (no run with tensor_parallel_size > 1 yet).
TP_COMM_BYTES = 256 * MiB

# vLLM's defaults (vllm/engine/arg_utils.py EngineArgs.get_batch_defaults; vllm/config/cache.py).
# gpu_memory_utilization is 0.92 from vLLM 0.20.0 (`Field(default=0.92, gt=0, le=1)` in the 0.20.0
# and 0.26.0 wheels' vllm/config/cache.py; the H200 runs in tests/fixtures/fit/h200 resolved 0.92),
# 0.9 before.
DEFAULT_UTILIZATION = 0.92
UTILIZATION_BEFORE_0_20 = 0.9
DEFAULT_BATCHED_TOKENS_SERVE = 2048  # `vllm serve` on GPUs under 70 GiB (8192 on H100-class)
DEFAULT_MAX_SEQS = 256  # 1024 on H100-class GPUs
BIG_GPU_BYTES = 70 * GiB

# Contexts offered when the model's full context does not fit, largest first.
CONTEXT_STEPS = (131072, 65536, 32768, 16384, 8192, 4096, 2048)
MIN_USEFUL_CONTEXT = 2048
SEQ_STEPS = (256, 128, 64, 32, 16, 8)


@dataclass(frozen=True)
class ModelShape:
    """The config.json values that decide memory, plus quantization if the checkpoint has it."""

    name: str
    model_type: str
    layers: int
    hidden_size: int
    intermediate_size: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    max_positions: int
    dtype: str  # torch_dtype of the checkpoint
    tie_embeddings: bool
    parameters: Optional[int] = None  # None: counted from the shape
    quant_method: Optional[str] = None  # one of QUANT_METHODS
    quant_bits: Optional[int] = None
    quant_group_size: Optional[int] = None
    weights_file_bytes: Optional[int] = None  # the checkpoint's real bytes on the GPU, where known
    source: str = ""  # where these values were read
    sliding_window: Optional[int] = None  # set only when every layer attends within this window
    experts: Optional[int] = None  # routed experts per MoE layer (None: dense)
    expert_intermediate_size: Optional[int] = None
    shared_expert_intermediate_size: int = 0
    experts_per_token: int = 1

    @property
    def quantized(self) -> bool:
        return self.quant_method is not None


QUANT_METHODS = ("awq", "gptq", "fp8", "bitsandbytes", "compressed-tensors")


@dataclass(frozen=True)
class Gpu:
    name: str
    total_bytes: int
    free_bytes: Optional[int] = None  # measured; None = not measured (assumed idle)
    compute_capability: Optional[str] = None

    @property
    def usable_free(self) -> int:
        return self.total_bytes if self.free_bytes is None else min(self.free_bytes, self.total_bytes)


@dataclass(frozen=True)
class Settings:
    gpu_memory_utilization: float = DEFAULT_UTILIZATION
    max_model_len: Optional[int] = None  # None: the model's max_position_embeddings
    max_num_seqs: int = DEFAULT_MAX_SEQS
    max_num_batched_tokens: int = DEFAULT_BATCHED_TOKENS_SERVE
    enforce_eager: bool = False
    dtype: str = "auto"  # auto | half
    kv_cache_dtype: str = "auto"  # auto | fp8
    chunked_prefill: bool = True  # vLLM's V1 engine always chunks prefills
    tensor_parallel_size: int = 1

    def vllm_args(self, model: str) -> str:
        parts = [f"vllm serve {model}"]
        if self.tensor_parallel_size > 1:
            parts.append(f"--tensor-parallel-size {self.tensor_parallel_size}")
        if self.max_model_len:
            parts.append(f"--max-model-len {self.max_model_len}")
        parts.append(f"--gpu-memory-utilization {self.gpu_memory_utilization:.2f}")
        if self.max_num_seqs != DEFAULT_MAX_SEQS:
            parts.append(f"--max-num-seqs {self.max_num_seqs}")
        if self.enforce_eager:
            parts.append("--enforce-eager")
        if self.dtype != "auto":
            parts.append(f"--dtype {self.dtype}")
        if self.kv_cache_dtype != "auto":
            parts.append(f"--kv-cache-dtype {self.kv_cache_dtype}")
        return " ".join(parts)


@dataclass(frozen=True)
class Estimate:
    """The arithmetic for one model on one GPU with one set of settings (bytes)."""

    settings: Settings
    context: int  # the max_model_len this estimate is for
    weights: int
    forward_activation: int
    sampler_activation: int
    non_torch: int
    cuda_context: int
    cuda_graphs: int
    requested: int
    kv_available: int
    kv_bytes_per_token: int
    kv_tokens: int
    free: int
    problems: Tuple[str, ...] = ()
    profile_tokens: int = 0  # the tokens vLLM's profile run pushes through the model at once

    @property
    def activation(self) -> int:
        return max(self.forward_activation, self.sampler_activation)

    @property
    def non_kv(self) -> int:
        return self.weights + self.activation + self.non_torch

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class FitPlan:
    verdict: str  # fits | fits-with-settings | does-not-fit
    model: ModelShape
    gpu: Gpu
    default: Estimate  # vLLM's defaults
    chosen: Estimate  # the recommendation (the defaults when they fit)
    context_limited: bool = False  # max_model_len had to go below what was asked
    alternative: Optional["FitPlan"] = None  # a quantized variant that fits better
    notes: Tuple[str, ...] = ()
    blocker: Optional[str] = None  # vLLM cannot run here at all, whatever the memory (exit 2)
    unknowns: Tuple[str, ...] = ()  # what could not be checked: never a plain pass


# --- sizes -----------------------------------------------------------------------------------

def count_parameters(m: ModelShape) -> int:
    """Parameters of a dense decoder (Llama, Qwen2/3, Mistral, Phi-3, Gemma/Gemma 2)."""
    if m.parameters:
        return m.parameters
    return _embedding_params(m) + m.layers * _layer_params(m) + m.hidden_size


def _embedding_params(m: ModelShape) -> int:
    return m.vocab * m.hidden_size * (1 if m.tie_embeddings else 2)


def _linear_params(m: ModelShape) -> int:
    """Weights of one layer's projections: q, k, v, o and the gated MLP (every expert's, with the
    shared expert and the router, in an MoE layer)."""
    q = m.heads * m.head_dim
    kv = m.kv_heads * m.head_dim
    attention = m.hidden_size * (q + 2 * kv) + q * m.hidden_size
    if m.experts:
        each = m.expert_intermediate_size or m.intermediate_size
        mlp = m.experts * 3 * m.hidden_size * each + 3 * m.hidden_size * m.shared_expert_intermediate_size
        return attention + mlp + m.hidden_size * m.experts
    return attention + 3 * m.hidden_size * m.intermediate_size


def _layer_params(m: ModelShape) -> int:
    norms = (4 if m.model_type == "gemma2" else 2) * m.hidden_size
    extra = 0
    if m.model_type == "qwen2":  # q, k and v carry biases
        extra += (m.heads + 2 * m.kv_heads) * m.head_dim
    if m.model_type == "qwen3":  # per-head RMSNorm of q and k
        extra += 2 * m.head_dim
    return _linear_params(m) + norms + extra


def weight_bytes(m: ModelShape) -> int:
    """Bytes of the weights on the GPU (all GPUs together).

    The checkpoint's real bytes win where the hub's safetensors metadata gave them. Otherwise:
    unquantized: parameters × 2 (vLLM loads float32 checkpoints as 16-bit too). Quantized: the
    projections as each method stores them, embeddings, lm_head and norms 16-bit:
      awq / gptq: `bits` per weight, fp16 scales and packed zeros per group (and GPTQ's int32 g_idx
        per input row), as vllm/model_executor/layers/quantization/{auto_awq,auto_gptq}.py make them;
      fp8: one byte per weight (+ a float32 scale per block with weight_block_size);
      bitsandbytes: 4-bit with a float32 absmax per 64 weights (one byte with double quantization),
        or 8-bit with a float32 scale per output row;
      compressed-tensors: `num_bits` per weight, a 16-bit scale per group or output channel.
    """
    if m.weights_file_bytes:
        return m.weights_file_bytes
    if not m.quantized:
        return count_parameters(m) * 2
    linear = _linear_params(m)
    per_layer = _quantized_linear_bytes(m, linear) + 2 * (_layer_params(m) - linear)
    return m.layers * per_layer + 2 * (_embedding_params(m) + m.hidden_size)


def _quantized_linear_bytes(m: ModelShape, linear: int) -> int:
    bits = m.quant_bits or (8 if m.quant_method == "fp8" else 4)
    group = m.quant_group_size or (64 if m.quant_method == "bitsandbytes" else 128)
    packed = linear * bits // 8
    if m.quant_method in ("awq", "gptq"):
        groups = linear // group
        g_idx = 0
        if m.quant_method == "gptq":
            q = m.heads * m.head_dim
            inputs = 6 * m.hidden_size + q + m.intermediate_size  # q, k, v, gate, up read H; o, down
            g_idx = 4 * inputs
        return packed + groups * 2 + groups * bits // 8 + g_idx
    if m.quant_method == "fp8":
        return packed + (linear // group ** 2) * 4 if m.quant_group_size else packed
    if m.quant_method == "bitsandbytes":
        if bits == 8:
            return packed + 4 * linear // m.hidden_size
        return packed + (linear // group) * 4  # double quantization would store less: erring large
    # compressed-tensors: group scales when a group size is given, else one per output channel
    scales = linear // group if m.quant_group_size else linear // m.hidden_size
    return packed + 2 * scales


def kv_heads_per_gpu(m: ModelShape, tensor_parallel_size: int = 1) -> int:
    """KV heads each GPU keeps: split across GPUs, replicated when there are fewer than GPUs."""
    return max(1, m.kv_heads // max(1, tensor_parallel_size))


def kv_bytes_per_token(m: ModelShape, kv_cache_dtype: str = "auto", tensor_parallel_size: int = 1) -> int:
    """2 (K and V) × layers × kv_heads × head_dim × bytes, on one GPU."""
    per = 1 if kv_cache_dtype.startswith("fp8") else 2
    return 2 * m.layers * kv_heads_per_gpu(m, tensor_parallel_size) * m.head_dim * per


def blocks_per_request(m: ModelShape, context: int, in_flight_tokens: int, block_size: int = BLOCK_SIZE) -> int:
    """KV blocks (per layer) vLLM reserves for one request of `context` tokens
    (vllm/v1/kv_cache_interface.py FullAttentionSpec / SlidingWindowSpec.max_memory_usage_bytes)."""
    if m.sliding_window:
        held = min(m.sliding_window - 1 + in_flight_tokens, context)
        return -(-held // block_size) + 1
    return -(-context // block_size)


def kv_tokens(available_bytes: int, m: ModelShape, kv_cache_dtype: str = "auto",
              block_size: int = BLOCK_SIZE, *, context: Optional[int] = None, in_flight_tokens: int = 0,
              tensor_parallel_size: int = 1) -> int:
    """The token count vLLM logs as "GPU KV cache size", from its "Available KV cache memory":
    blocks / blocks a request needs × max_model_len (blocks × block_size without `context`)."""
    if available_bytes <= 0:
        return 0
    blocks = available_bytes // (block_size * kv_bytes_per_token(m, kv_cache_dtype, tensor_parallel_size))
    if context is None:
        return int(blocks * block_size)
    return int(blocks / blocks_per_request(m, context, in_flight_tokens, block_size) * context)


# --- activations -----------------------------------------------------------------------------
# ACTIVATION: vLLM's profile run (gpu_model_runner.profile_run) pushes max_num_batched_tokens
# tokens through the model, keeps the hidden states, then runs the sampler on one row per
# request (min(max_num_seqs, max_num_batched_tokens) rows). The peak is the larger phase:
#   forward: hidden + residual and the MLP's gate_up output with its activated half:
#            tokens × (2·hidden + 3·intermediate) × 2 bytes
#   sampler: the kept hidden states plus rows × vocab logits in the model dtype, a float32
#            copy and float32 probabilities: rows × vocab × (2 + 8) bytes
# An estimate of the allocator's peak, not a trace; checked against the H100 run in the tests.

def forward_activation(m: ModelShape, tokens: int, tensor_parallel_size: int = 1) -> int:
    """With tensor parallelism the MLP's intermediate is split; hidden states are whole on every GPU.
    An MoE layer's peak is the routed experts' intermediates (tokens × experts_per_token)."""
    intermediate = m.intermediate_size
    if m.experts:
        intermediate = (m.expert_intermediate_size or m.intermediate_size) * m.experts_per_token
        intermediate += m.shared_expert_intermediate_size
    return tokens * (2 * m.hidden_size + 3 * intermediate // max(1, tensor_parallel_size)) * 2


def sampler_activation(m: ModelShape, tokens: int, seqs: int) -> int:
    rows = min(seqs, tokens)
    return tokens * m.hidden_size * 2 + rows * m.vocab * (2 + 8)


# --- one estimate ----------------------------------------------------------------------------

def estimate(m: ModelShape, gpu: Gpu, settings: Settings) -> Estimate:
    """One GPU's figures (each of `tensor_parallel_size` identical GPUs holds the same)."""
    tp = max(1, settings.tensor_parallel_size)
    context = settings.max_model_len or m.max_positions
    tokens = settings.max_num_batched_tokens
    if not settings.chunked_prefill:
        tokens = max(tokens, context)  # the V0 engine profiles a whole prompt at once
    weights = -(-weight_bytes(m) // tp)
    fwd = forward_activation(m, tokens, tp)
    smp = sampler_activation(m, tokens, settings.max_num_seqs)
    requested = int(gpu.total_bytes * settings.gpu_memory_utilization)
    graphs = 0 if settings.enforce_eager else CUDA_GRAPH_BYTES
    per_token = kv_bytes_per_token(m, settings.kv_cache_dtype, tp)
    non_torch = NON_TORCH_BYTES + (TP_COMM_BYTES if tp > 1 else 0)
    available = requested - (weights + max(fwd, smp) + non_torch)
    # V1 keeps up to two scheduled batches in flight (async scheduling); V0 one.
    in_flight = tokens * (2 if settings.chunked_prefill else 1)
    tokens_fit = kv_tokens(available, m, settings.kv_cache_dtype, context=context, in_flight_tokens=in_flight,
                           tensor_parallel_size=tp)
    free = gpu.usable_free
    problems: List[str] = []
    if m.heads % tp:
        problems.append("tp-heads")  # vLLM: attention heads must divide by tensor_parallel_size
    if requested > free - CUDA_CONTEXT_BYTES:
        problems.append("start")  # vLLM: "Free memory on device ... less than desired GPU memory utilization"
    if available <= 0:
        problems.append("no-kv")
    elif tokens_fit < context:
        problems.append("context")  # vLLM: max_model_len needs more KV cache than is available
    if graphs and free - CUDA_CONTEXT_BYTES - requested < graphs:
        problems.append("graphs")
    return Estimate(settings, context, weights, fwd, smp, non_torch, CUDA_CONTEXT_BYTES, graphs,
                    requested, available, per_token, tokens_fit, free, tuple(problems), tokens)


def predict_available_kv(m: ModelShape, total_bytes: int, gpu_memory_utilization: float, *,
                         max_num_seqs: int = DEFAULT_MAX_SEQS,
                         max_num_batched_tokens: int = DEFAULT_BATCHED_TOKENS_SERVE,
                         tensor_parallel_size: int = 1) -> int:
    """What vLLM will log as "Available KV cache memory" (bytes), for comparing on a GPU."""
    return predict(m, total_bytes, gpu_memory_utilization, max_num_seqs=max_num_seqs,
                   max_num_batched_tokens=max_num_batched_tokens,
                   tensor_parallel_size=tensor_parallel_size).kv_available


def predict(m: ModelShape, total_bytes: int, gpu_memory_utilization: float, *, max_model_len: Optional[int] = None,
            max_num_seqs: int = DEFAULT_MAX_SEQS, max_num_batched_tokens: int = DEFAULT_BATCHED_TOKENS_SERVE,
            tensor_parallel_size: int = 1) -> Estimate:
    """The estimate for settings vLLM resolved (eager mode), e.g. to compare with its log."""
    settings = Settings(gpu_memory_utilization=gpu_memory_utilization, max_model_len=max_model_len,
                        max_num_seqs=max_num_seqs, max_num_batched_tokens=max_num_batched_tokens,
                        enforce_eager=True, tensor_parallel_size=tensor_parallel_size)
    return estimate(m, Gpu("predict", total_bytes), settings)


def vllm_defaults(m: ModelShape, gpu: Gpu, cc_below_8: bool = False, engine_v1: bool = True,
                  utilization: float = DEFAULT_UTILIZATION, tensor_parallel_size: int = 1) -> Settings:
    big = gpu.total_bytes >= BIG_GPU_BYTES
    return Settings(
        tensor_parallel_size=tensor_parallel_size,
        gpu_memory_utilization=utilization,
        max_model_len=m.max_positions,
        max_num_seqs=1024 if big else DEFAULT_MAX_SEQS,
        max_num_batched_tokens=8192 if big else DEFAULT_BATCHED_TOKENS_SERVE,
        dtype="half" if cc_below_8 and m.dtype == "bfloat16" and not m.quantized else "auto",
        chunked_prefill=engine_v1,
    )


# --- the plan ----------------------------------------------------------------------------------

def utilization_step(gpu: Gpu) -> float:
    """Utilizations are offered in steps: 0.05 on cards under 16 GiB (200 MB on a 4 GB card), 0.01 on
    larger ones, so free memory that drifts by a few MB between two runs gives the same advice."""
    return 0.05 if gpu.total_bytes < 16 * GiB else 0.01


def utilization_for(total_bytes: int, free_bytes: int, enforce_eager: bool = True) -> float:
    """The gpu_memory_utilization to advise for a card with this much free memory: the one figure every
    finding of a report should give (it leaves room for the CUDA context, which vLLM takes first)."""
    return max_utilization(Gpu("", total_bytes, free_bytes), enforce_eager)


def max_utilization(gpu: Gpu, enforce_eager: bool) -> float:
    """The highest gpu_memory_utilization whose request fits in today's free memory (in steps)."""
    spare = gpu.usable_free - CUDA_CONTEXT_BYTES - (0 if enforce_eager else CUDA_GRAPH_BYTES)
    share = min(spare / gpu.total_bytes - UTILIZATION_MARGIN, 0.95)
    step = utilization_step(gpu)
    return max(0.0, round(math.floor(share / step + 1e-9) * step, 2))


def plan(m: ModelShape, gpu: Gpu, *, context: Optional[int] = None, cc_below_8: bool = False,
         engine_v1: bool = True, default_utilization: float = DEFAULT_UTILIZATION,
         alternatives: Sequence[ModelShape] = (), tensor_parallel_size: int = 1) -> FitPlan:
    """Fits with vLLM's defaults, fits with these settings, or does not fit (and what does)."""
    want = min(context or m.max_positions, m.max_positions)
    defaults = vllm_defaults(m, gpu, cc_below_8, engine_v1, default_utilization, tensor_parallel_size)
    defaults = replace(defaults, max_model_len=want)
    default_est = estimate(m, gpu, defaults)
    if default_est.ok:
        return FitPlan("fits", m, gpu, default_est, default_est)

    def alternative() -> Optional[FitPlan]:
        return _alternative(alternatives, gpu, want, cc_below_8, engine_v1, default_utilization, tensor_parallel_size)

    candidates: List[Estimate] = []
    small = gpu.total_bytes < 16 * GiB
    contexts = [want] + [c for c in CONTEXT_STEPS if c < want and c >= min(MIN_USEFUL_CONTEXT, want)]
    for eager in ((True,) if small else (False, True)):
        util = max_utilization(gpu, eager)
        if util <= 0 or "tp-heads" in default_est.problems:
            continue
        for seqs in SEQ_STEPS:
            if seqs > defaults.max_num_seqs:
                continue
            trial = replace(defaults, gpu_memory_utilization=util, enforce_eager=eager, max_num_seqs=seqs)
            # The longest context that fits (the V0 engine's activations shrink with it too).
            est = next((e for e in (estimate(m, gpu, replace(trial, max_model_len=c)) for c in contexts) if e.ok),
                       None)
            if est is not None:
                candidates.append(est)
                if est.context == want:
                    break  # fewer sequences would only cost throughput
    if candidates:
        # The longest context; among equals the least intrusive (graphs kept, most sequences).
        best = max(candidates, key=lambda e: (e.context, not e.settings.enforce_eager, e.settings.max_num_seqs))
        chosen = FitPlan("fits-with-settings", m, gpu, default_est, best, context_limited=best.context < want)
        if chosen.context_limited:
            alt = alternative()
            if alt is not None and alt.chosen.context > best.context:
                chosen = replace(chosen, alternative=alt)
        return chosen
    floor = replace(defaults, gpu_memory_utilization=max(max_utilization(gpu, True), 0.01), enforce_eager=True,
                    max_num_seqs=SEQ_STEPS[-1], max_model_len=min(MIN_USEFUL_CONTEXT, want))
    return FitPlan("does-not-fit", m, gpu, default_est, estimate(m, gpu, floor), alternative=alternative())


def _alternative(variants: Iterable[ModelShape], gpu: Gpu, want: int, cc_below_8: bool, engine_v1: bool,
                 default_utilization: float, tensor_parallel_size: int = 1) -> Optional[FitPlan]:
    """The variant that fits with the longest context; more bits win a tie (better quality)."""
    plans = [plan(v, gpu, context=want, cc_below_8=cc_below_8, engine_v1=engine_v1,
                  default_utilization=default_utilization, tensor_parallel_size=tensor_parallel_size)
             for v in variants]
    plans = [p for p in plans if p.verdict != "does-not-fit"]
    if not plans:
        return None
    return max(plans, key=lambda p: (p.chosen.context, p.model.quant_bits or 16, -weight_bytes(p.model)))


def smoke_options(p: FitPlan) -> str:
    """`envdoctor run-smoke` options that prove the settings that fit (the variant's when only it fits)."""
    target = p if p.verdict != "does-not-fit" else p.alternative
    if target is None or p.blocker:
        return f"--model {p.model.name}"
    s = target.chosen.settings
    parts = [f"--model {target.model.name}", f"--max-model-len {target.chosen.context}",
             f"--gpu-memory-utilization {s.gpu_memory_utilization:.2f}"]
    if s.enforce_eager:
        parts.append("--enforce-eager")
    if s.dtype != "auto":
        parts.append(f"--dtype {s.dtype}")
    return " ".join(parts)


def gib(n: float) -> str:
    """The fit arithmetic's GiB, with 2 places: the KV cache left is often a fraction of one."""
    return units.gib(n, 2)


# --- vLLM's own figures, read back from its start-up log ----------------------------------------

_LOG_PATTERNS = {
    "available_kv_gib": r"Available KV cache memory:\s*([\d.]+)\s*GiB",
    "kv_tokens": r"GPU KV cache size:\s*([\d,]+)\s*tokens",
    "gpu_blocks": r"# GPU blocks:\s*([\d,]+)",  # the V0 engine's wording
    "weights_gib": r"Model loading took\s*([\d.]+)\s*GiB",
    "requested_util": r"Requested memory:\s*([\d.]+)\s*\(util\)",
    "requested_gib": r"Requested memory:\s*[\d.]+\s*\(util\),\s*([\d.]+)\s*GiB",
    "non_kv_gib": r"Total non KV cache memory:\s*([\d.]+)\s*GiB",
    "activation_gib": r"torch peak memory increase:\s*([\d.]+)\s*GiB",
    "non_torch_gib": r"non-torch forward increase memory:\s*([\d.]+)\s*GiB",
    "graphs_gib": r"Graph capturing finished in [\d.]+ secs, took\s*([\d.]+)\s*GiB",
}


def vllm_memory_log(text: str) -> dict:
    """The memory figures a vLLM start-up log states (the last of each), as numbers."""
    import re

    found = {}
    for key, pattern in _LOG_PATTERNS.items():
        hits = re.findall(pattern, text)
        if hits:
            value = hits[-1].replace(",", "")
            found[key] = int(value) if key in ("kv_tokens", "gpu_blocks") else float(value)
    return found
