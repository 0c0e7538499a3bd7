"""The glue between facts / matrices and the pure calculator in fit/calc.py: which GPU, which
vLLM defaults, which quantized variants may stand in for a model."""
from __future__ import annotations

from dataclasses import replace
from typing import List, Optional, Sequence, Tuple

from packaging.version import InvalidVersion, Version

from envdoctor.compat.tables import Matrices
from envdoctor.core.errors import UsageError
from envdoctor.core.facts import Gpu as GpuFact
from envdoctor.fit import calc as fit
from envdoctor.fit.model_config import variants_for
from envdoctor.messages import Msg

# vLLM's V1 engine (chunked prefill always on) is the default from 0.8.0 (vllm-project/vllm#15064,
# docs/source/getting_started/v1_user_guide.md "V1 is now enabled by default").
V1_DEFAULT_FROM = Version("0.8.0")
# gpu_memory_utilization's default became 0.92 at 0.20.0 (vllm/config/cache.py; shared/compat/facts.md (f)).
UTIL_092_FROM = Version("0.20.0")
MIB = 1024 * 1024
# The lowest compute capability each quantization method's vLLM kernels accept, read from the vLLM
# 0.26.0 wheel's vllm/model_executor/layers/quantization/ (get_min_capability): auto_awq.py 75,
# auto_gptq.py 60, fp8.py 75, bitsandbytes.py 70, compressed_tensors/compressed_tensors.py 70
# (its schemes ask more: w8a8 fp8 89). AWQ's and GPTQ's are the same in the older vLLM that
# matrices/model_variants.csv cites; the others, for releases before 0.26.0, are a note.
QUANT_MIN_CC_RELEASE = Version("0.26.0")
QUANT_MIN_CC_ALL_RELEASES = ("awq", "gptq")
QUANT_MIN_CC = {"awq": "7.5", "gptq": "6.0", "fp8": "7.5", "bitsandbytes": "7.0", "compressed-tensors": "7.0"}


IDLE_NOTE = ("free memory not measured: assumed the card is idle. A desktop, WSL's Windows host or another "
             "process may hold some; run `envdoctor fit` on the machine, or pass --free GB")


class UnknownGpu(UsageError):
    """The GPU a person named is not in gpus.csv; the message says what to pass instead."""


def cc_tuple(cc: Optional[str]) -> Optional[Tuple[int, int]]:
    try:
        major, minor = (cc or "").split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        return None


def gpu_from_fact(g: GpuFact, matrices: Matrices) -> fit.Gpu:
    """A GPU as the driver reported it: measured total and free memory."""
    cc = g.compute_capability
    if cc is None:
        spec = matrices.gpu(g.name)
        cc = spec.compute_capability if spec else None
    total = (g.memory_total_mib or 0) * MIB
    free = g.memory_free_mib * MIB if g.memory_free_mib is not None else None
    return fit.Gpu(g.name, total, free, cc)


def gpu_from_catalog(matrices: Matrices, name: Optional[str], vram_gib: Optional[float],
                     free_gib: Optional[float]) -> Tuple[fit.Gpu, List[str]]:
    """--gpu NAME and/or --vram GB (GiB, as NVML counts it), optionally --free GB."""
    from envdoctor.compat.gpu import close_names, named

    notes: List[str] = []
    cc = None
    label = "a GPU"
    total_mib: Optional[int] = None
    if name:
        hits = named(name, matrices)
        if not hits:
            close = close_names(name, matrices)
            raise UnknownGpu(f"unknown GPU {name!r}: pass its memory instead (--vram 4) or a name from "
                             "`envdoctor matrices show gpu` (for example --gpu \"RTX 3050 Laptop\")"
                             + (f". Did you mean: {', '.join(close)}?" if close else ""))
        if len(hits) > 1:
            raise UnknownGpu(f"{name!r} matches {len(hits)} GPUs ({'; '.join(h.name for h in hits)}): "
                             "be more specific, or pass --vram")
        spec = hits[0]
        cc, label = spec.compute_capability, spec.name
        options = spec.vram_options_gb
        if vram_gib is None:
            if spec.vram_mib:  # the memory the card reports (nvidia-smi's MiB), where the data has it
                total_mib = spec.vram_mib
            elif not options:
                raise UnknownGpu(f"{spec.name}: its memory size is not in envdoctor's data; pass --vram GB")
            else:
                vram_gib = min(options)
                if len(options) > 1:
                    notes.append(f"{spec.name} is sold with {' or '.join(f'{o:g}' for o in options)} GB; "
                                 f"this assumes {vram_gib:g} GB (pass --vram to choose)")
    if total_mib is not None:
        free = int(free_gib * 1024) * MIB if free_gib is not None else None
        if free is None:
            notes.append(IDLE_NOTE)
        return fit.Gpu(label, total_mib * MIB, free, cc), notes
    if vram_gib is None or vram_gib <= 0:
        raise UnknownGpu("pass --gpu NAME or --vram GB (the card's memory in GB)")
    total = int(vram_gib * 1024) * MIB
    free = int(free_gib * 1024) * MIB if free_gib is not None else None
    if free is None:
        notes.append(IDLE_NOTE)
    return fit.Gpu(label if name else f"{vram_gib:g} GB GPU", total, free, cc), notes


def vllm_version(text: Optional[str]) -> Optional[Version]:
    try:
        return Version(text) if text else None
    except InvalidVersion:
        return None


def plan_for(shape: fit.ModelShape, gpu: fit.Gpu, matrices: Matrices, *, context: Optional[int] = None,
             vllm: Optional[str] = None, notes: Sequence[str] = (), tensor_parallel_size: int = 1) -> fit.FitPlan:
    cc = cc_tuple(gpu.compute_capability)
    cc_below_8 = cc is not None and cc < (8, 0)
    version = vllm_version(vllm)
    engine_v1 = version is None or version >= V1_DEFAULT_FROM
    util = fit.UTILIZATION_BEFORE_0_20 if version is not None and version < UTIL_092_FROM else fit.DEFAULT_UTILIZATION
    candidates = [v for v in variants_for(matrices, shape) if _kernel_runs(v, matrices, cc)]
    result = fit.plan(shape, gpu, context=context, cc_below_8=cc_below_8, engine_v1=engine_v1,
                      default_utilization=util, alternatives=candidates, tensor_parallel_size=tensor_parallel_size)
    extra = list(notes)
    if cc_below_8 and shape.dtype == "bfloat16" and not shape.quantized:
        extra.append(Msg("fit.note.no-bf16", cc=gpu.compute_capability))
    if not engine_v1:
        used = Msg("fit.note.v0.used", default=result.default.profile_tokens)
        if result.chosen.profile_tokens != result.default.profile_tokens:
            used = Msg("fit.note.v0.used-chosen", default=result.default.profile_tokens,
                       chosen=result.chosen.profile_tokens)
        extra.append(Msg("fit.note.v0", vllm=vllm, used=used))
    if version is None:
        extra.append(Msg("fit.note.current-vllm", util=f"{fit.DEFAULT_UTILIZATION:.2f}"))
    if tensor_parallel_size > 1:
        extra.append(Msg("fit.note.tensor-parallel", tp=tensor_parallel_size,
                         kv_heads=fit.kv_heads_per_gpu(shape, tensor_parallel_size), all_kv_heads=shape.kv_heads))
    blocker, unknowns = _runs_here(shape, gpu, matrices, version, cc)
    if "tp-heads" in result.default.problems:
        blocker = blocker or Msg("fit.blocker.tp-heads", heads=shape.heads, tp=tensor_parallel_size)
    result = replace(result, notes=tuple(extra), blocker=blocker, unknowns=tuple(unknowns))
    if blocker:
        result = replace(result, verdict="does-not-fit", alternative=None)
    return result


def _runs_here(shape: fit.ModelShape, gpu: fit.Gpu, matrices: Matrices, version: Optional[Version],
               cc: Optional[Tuple[int, int]]) -> Tuple[Optional[str], List[str]]:
    """Whether vLLM (and the checkpoint's quantization kernel) runs on this compute capability at all."""
    release = matrices.vllm(str(version)) if version is not None else matrices.newest_vllm()
    label = f"vLLM {version}" if version is not None else f"vLLM {release.version if release else '?'}"
    unknowns: List[str] = []
    if cc is None:
        unknowns.append(f"the GPU's compute capability is unknown, so whether {label} runs on it is not "
                        "checked (pass --gpu NAME)")
        return None, unknowns
    min_cc = release.min_cc if release is not None else None
    need = cc_tuple(min_cc)
    if need is None:
        unknowns.append(f"the lowest compute capability {label} supports is not in envdoctor's data "
                        f"(matrices/vllm.csv); check its docs before relying on compute capability "
                        f"{gpu.compute_capability}")
    elif cc < need:
        return Msg("fit.blocker.cc", vllm=label, cc=gpu.compute_capability, min_cc=min_cc, gpu=gpu.name), unknowns
    if shape.quant_method:
        floor = QUANT_MIN_CC.get(shape.quant_method)
        floor_cc = cc_tuple(floor)
        known = version is None or version >= QUANT_MIN_CC_RELEASE or shape.quant_method in QUANT_MIN_CC_ALL_RELEASES
        if floor_cc and known and cc < floor_cc:
            return Msg("fit.blocker.quant-cc", method=shape.quant_method, floor=floor, gpu=gpu.name,
                       cc=gpu.compute_capability), unknowns
        if not known:
            unknowns.append(f"the compute capability vLLM {version}'s {shape.quant_method} kernels need is not in "
                            f"envdoctor's data (vLLM 0.26.0's need {floor})")
    return None, unknowns


def _kernel_runs(variant: fit.ModelShape, matrices: Matrices, cc: Optional[Tuple[int, int]]) -> bool:
    row = matrices.variant(variant.name)
    need = cc_tuple(row.min_cc) if row is not None else None
    return cc is None or need is None or cc >= need
