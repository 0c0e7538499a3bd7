"""Find a model's shape with no network: a local directory, the Hugging Face cache, or the
catalog in matrices/ (models.csv, model_variants.csv).

The Hugging Face cache is where `huggingface_hub` (and so vLLM) keeps downloads:
HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub (XDG_CACHE_HOME honoured), with
models--ORG--NAME/refs/main naming the snapshot whose config.json we read
(https://huggingface.co/docs/huggingface_hub/guides/manage-cache).
"""
from __future__ import annotations

import json
import os
import posixpath
import re
from dataclasses import replace
from typing import Any, Dict, List, Mapping, Optional, Tuple

from envdoctor.compat.tables import Matrices, ModelSpec, ModelVariant
from envdoctor.core.errors import UsageError
from envdoctor.fit.calc import QUANT_METHODS, ModelShape
from envdoctor.messages import Msg

# Model types whose config omits tie_word_embeddings when the embeddings are tied (their
# transformers config class defaults it to True); every other type here defaults to False.
TIED_BY_DEFAULT = ("gemma", "gemma2", "gemma3_text")
# Model types whose sliding_window, when set, applies to every layer (Mistral's first releases).
# Types that mix windowed and full layers (Gemma 2/3, Qwen2's max_window_layers, Phi-3) are sized
# as full attention: the larger, safe figure.
ALL_LAYERS_SLIDE = ("mistral", "mixtral")
# Attention whose KV cache is not 2 × kv_heads × head_dim a token: sizing it as such would be wrong.
UNSIZED_ATTENTION = (("kv_lora_rank", "multi-head latent attention (kv_lora_rank)"),
                     ("mamba_d_state", "Mamba state layers"), ("ssm_state_size", "state-space layers"),
                     ("linear_attn_config", "linear attention"))
# How MoE configs name their expert counts (transformers' Mixtral, Qwen2/3-MoE, DeepSeek, OLMoE).
EXPERT_KEYS = ("num_local_experts", "num_experts", "n_routed_experts")
EXPERTS_PER_TOKEN_KEYS = ("num_experts_per_tok", "moe_top_k", "num_experts_per_token")


class ModelNotFound(UsageError):
    """The model is nowhere we may look; the message says where we looked and what to pass."""


class ModelConfigError(UsageError):
    """A config.json that cannot be read or lacks what the estimate needs."""


def hub_cache_dir(env: Mapping[str, str]) -> str:
    if env.get("HF_HUB_CACHE"):
        return env["HF_HUB_CACHE"]
    if env.get("HF_HOME"):
        return posixpath.join(env["HF_HOME"], "hub")
    cache = env.get("XDG_CACHE_HOME") or posixpath.join(env.get("HOME", "~"), ".cache")
    return posixpath.join(cache, "huggingface", "hub")


def looks_like_repo_id(text: str) -> bool:
    return bool(re.fullmatch(r"[\w.-]+/[\w.-]+", text))


def cached_snapshot(fs, env: Mapping[str, str], repo_id: str) -> Optional[str]:
    """The snapshot directory of `repo_id` in the cache that holds a config.json, or None."""
    base = posixpath.join(hub_cache_dir(env), "models--" + repo_id.replace("/", "--"))
    if not fs.is_dir(base):
        return None
    ref = (fs.read_text(posixpath.join(base, "refs", "main")) or "").strip()
    if ref and fs.exists(posixpath.join(base, "snapshots", ref, "config.json")):
        return posixpath.join(base, "snapshots", ref)
    found = fs.glob(posixpath.join(base, "snapshots", "*", "config.json"))
    return posixpath.dirname(found[-1]) if found else None


def read_config(fs, directory: str) -> Tuple[Dict[str, Any], Optional[Dict[str, Any]]]:
    """config.json (and quantize_config.json, which older GPTQ uploads keep apart)."""
    path = posixpath.join(directory, "config.json")
    text = fs.read_text(path)
    if text is None:
        raise ModelConfigError(f"{path} cannot be read")
    try:
        config = json.loads(text)
    except ValueError as exc:
        raise ModelConfigError(f"{path} is not valid JSON ({exc})") from None
    if not isinstance(config, dict):
        raise ModelConfigError(f"{path} does not hold a JSON object")
    quant = None
    qtext = fs.read_text(posixpath.join(directory, "quantize_config.json"))
    if qtext:
        try:
            quant = json.loads(qtext)
        except ValueError:
            quant = None
    return config, quant if isinstance(quant, dict) else None


def _int(cfg: Dict[str, Any], key: str, path: str, default: Optional[int] = None) -> int:
    value = cfg.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        if value is None:
            raise ModelConfigError(f"{path}: {key} is missing (a decoder-only model's config needs it)")
        raise ModelConfigError(f"{path}: {key} is {value!r}, not a positive whole number")
    return value


def shape_from_config(config: Dict[str, Any], name: str, path: str,
                      quantize_config: Optional[Dict[str, Any]] = None) -> ModelShape:
    cfg = dict(config)
    if isinstance(cfg.get("text_config"), dict):  # multimodal wrappers keep the LM here
        cfg = {**cfg, **cfg["text_config"]}
    model_type = str(cfg.get("model_type") or "unknown")
    unsized = next((why for key, why in UNSIZED_ATTENTION if cfg.get(key) is not None), None)
    if unsized:
        raise ModelConfigError(f"{path}: {model_type} uses {unsized}, whose KV cache envdoctor cannot size yet "
                               "(its estimate would be wrong, so it gives none)")
    hidden = _int(cfg, "hidden_size", path)
    heads = _int(cfg, "num_attention_heads", path)
    head_dim = cfg.get("head_dim") or hidden // heads
    dtype = str(cfg.get("torch_dtype") or cfg.get("dtype") or "bfloat16")
    if dtype not in ("bfloat16", "float16", "float32"):
        dtype = "bfloat16"
    tie = cfg.get("tie_word_embeddings")
    if tie is None:
        tie = model_type in TIED_BY_DEFAULT
    quant = cfg.get("quantization_config") or quantize_config
    method, bits, group = _quantization(quant, quantize_config is not None, path) if isinstance(quant, dict) \
        else (None, None, None)
    if method in ("awq", "gptq"):
        dtype = "float16"  # AWQ and GPTQ kernels run in half precision
    window = cfg.get("sliding_window")
    if model_type not in ALL_LAYERS_SLIDE or cfg.get("use_sliding_window") is False:
        window = None
    experts = next((cfg[k] for k in EXPERT_KEYS if isinstance(cfg.get(k), int) and cfg[k] > 1), None)
    per_token = next((cfg[k] for k in EXPERTS_PER_TOKEN_KEYS if isinstance(cfg.get(k), int) and cfg[k] > 0), 1)
    expert_size = cfg.get("moe_intermediate_size")
    shared = cfg.get("shared_expert_intermediate_size") or 0
    if isinstance(cfg.get("n_shared_experts"), int) and isinstance(expert_size, int):
        shared = cfg["n_shared_experts"] * expert_size
    return ModelShape(
        name=name, model_type=model_type,
        layers=_int(cfg, "num_hidden_layers", path), hidden_size=hidden,
        intermediate_size=_int(cfg, "intermediate_size", path, default=expert_size), heads=heads,
        kv_heads=_int(cfg, "num_key_value_heads", path, default=heads),
        head_dim=_int({"head_dim": head_dim}, "head_dim", path),
        vocab=_int(cfg, "vocab_size", path), max_positions=_int(cfg, "max_position_embeddings", path),
        dtype=dtype, tie_embeddings=bool(tie), quant_method=method,
        quant_bits=bits, quant_group_size=group, source=path,
        sliding_window=window if isinstance(window, int) and window > 0 else None,
        experts=experts, expert_intermediate_size=expert_size if isinstance(expert_size, int) else None,
        shared_expert_intermediate_size=shared if isinstance(shared, int) else 0, experts_per_token=per_token,
    )


def _quantization(quant: Dict[str, Any], separate_file: bool, path: str
                  ) -> Tuple[str, Optional[int], Optional[int]]:
    """(method, bits, group size) from a quantization_config (or an old quantize_config.json)."""
    method = str(quant.get("quant_method") or ("gptq" if separate_file else "")).lower()
    if method not in QUANT_METHODS:
        raise ModelConfigError(f"{path}: quantization {method or 'unknown'!r} is not one envdoctor can size yet "
                               f"(it sizes {', '.join(QUANT_METHODS)})")
    bits = quant.get("bits") or quant.get("w_bit")
    group = quant.get("group_size") or quant.get("q_group_size")
    if method == "fp8":
        bits, block = 8, quant.get("weight_block_size")
        group = block[0] if isinstance(block, list) and block and isinstance(block[0], int) else None
    elif method == "bitsandbytes":
        bits = 4 if quant.get("load_in_4bit") else 8 if quant.get("load_in_8bit") else None
        if bits is None:
            raise ModelConfigError(f"{path}: a bitsandbytes quantization_config without load_in_4bit or "
                                   "load_in_8bit cannot be sized")
        group = None
    elif method == "compressed-tensors":
        weights = [g["weights"] for g in (quant.get("config_groups") or {}).values()
                   if isinstance(g, dict) and isinstance(g.get("weights"), dict)]
        if not weights:
            raise ModelConfigError(f"{path}: a compressed-tensors quantization_config without config_groups "
                                   "weights cannot be sized")
        first = weights[0]
        bits = first.get("num_bits")
        group = first.get("group_size") if first.get("strategy") == "group" else None
    bits = bits if isinstance(bits, int) and not isinstance(bits, bool) and bits > 0 else None
    group = group if isinstance(group, int) and not isinstance(group, bool) and group > 0 else None
    return method, bits, group


def shape_from_spec(spec: ModelSpec) -> ModelShape:
    window = spec.sliding_window if spec.model_type in ALL_LAYERS_SLIDE else None
    return ModelShape(spec.id, spec.model_type, spec.layers, spec.hidden_size, spec.intermediate_size,
                      spec.heads, spec.kv_heads, spec.head_dim, spec.vocab, spec.max_positions, spec.dtype,
                      spec.tie_embeddings, parameters=spec.parameters, sliding_window=window or None,
                      source=f"envdoctor catalog (matrices/models.csv: {spec.checked}; {spec.source})")


def shape_from_variant(variant: ModelVariant, base: ModelSpec) -> ModelShape:
    # Unread tying counts as untied: the larger, safer size.
    return ModelShape(variant.id, base.model_type, base.layers, base.hidden_size, base.intermediate_size,
                      base.heads, base.kv_heads, base.head_dim, base.vocab, base.max_positions, "float16",
                      bool(variant.tie_embeddings), quant_method=variant.method, quant_bits=variant.bits,
                      quant_group_size=variant.group_size, weights_file_bytes=variant.weights_bytes,
                      source=f"envdoctor catalog (matrices/model_variants.csv: {variant.checked}; {variant.source})")


def from_catalog(matrices: Matrices, model_id: str) -> Optional[ModelShape]:
    spec = matrices.model(model_id)
    if spec is not None:
        return shape_from_spec(spec)
    variant = matrices.variant(model_id)
    if variant is not None:
        base = matrices.model(variant.base)
        if base is not None:
            return shape_from_variant(variant, base)
    return None


def find_local(fs, env: Mapping[str, str], query: str) -> Optional[ModelShape]:
    """A directory holding config.json, or a repository id in the Hugging Face cache."""
    if fs.is_dir(query):
        if not fs.exists(posixpath.join(query, "config.json")):
            raise ModelConfigError(f"{query} has no config.json (point at the folder that holds the "
                                   "model's config.json and weights)")
        config, quant = read_config(fs, query)
        return shape_from_config(config, str(config.get("_name_or_path") or posixpath.basename(query.rstrip("/"))),
                                 posixpath.join(query, "config.json"), quant)
    if looks_like_repo_id(query):
        snapshot = cached_snapshot(fs, env, query)
        if snapshot is not None:
            config, quant = read_config(fs, snapshot)
            return shape_from_config(config, query, posixpath.join(snapshot, "config.json"), quant)
    return None


def find_model(fs, env: Mapping[str, str], matrices: Matrices, query: str, hub: bool = False) -> ModelShape:
    """A local folder, the Hugging Face cache, envdoctor's catalog, then (with `hub`) the hub itself.
    With `hub`, a cached repository also gets its real weight sizes from the hub where it answers."""
    shape = find_local(fs, env, query)
    if shape is not None:
        if hub and looks_like_repo_id(query) and not fs.is_dir(query):
            from envdoctor.fit import hub as hf
            weights, note = hf.weights_only(query, env)
            shape = with_weights(shape, weights, note)
        return shape
    shape = from_catalog(matrices, query)
    if shape is not None:
        return shape
    if hub and looks_like_repo_id(query):
        from envdoctor.fit import hub as hf
        try:
            found = hf.fetch(query, env, hub_cache_dir(env))
        except hf.HubError as exc:
            raise ModelNotFound(f"{exc}. It is not in envdoctor's catalog either"
                                + _did_you_mean(matrices, query)) from None
        return shape_from_hub(found)
    raise ModelNotFound(not_found_message(hub_cache_dir(env), matrices, query))


def shape_from_hub(found) -> ModelShape:
    shape = shape_from_config(found.config, found.repo_id, found.source, found.quantize_config)
    return with_weights(shape, found.weights, found.note)


def with_weights(shape: ModelShape, weights, note: Optional[str]) -> ModelShape:
    """The checkpoint's real bytes from the hub's safetensors metadata, said in the source."""
    if weights is None:
        return replace(shape, source=shape.source + (f"; {note}" if note else ""))
    counts = ", ".join(f"{dtype} {count:,}" for dtype, count in weights.parameters)
    real = weights.bytes(sixteen_bit_floats=not shape.quantized)
    return replace(shape, weights_file_bytes=real, parameters=None if shape.quantized else weights.total,
                   source=f"{shape.source}; weights from the hub's safetensors metadata ({counts})")


def _did_you_mean(matrices: Matrices, query: str) -> str:
    close = suggestions(matrices, query)
    return f". Did you mean: {', '.join(close)}?" if close else ""


def not_found_message(hub_dir: str, matrices: Matrices, query: str) -> str:
    repo = looks_like_repo_id(query)
    close = suggestions(matrices, query)
    return Msg("model-not-found.note." + ("repo" if repo else "dir"), query=query, hub=hub_dir,
               download=f"huggingface-cli download {query if repo else 'ORG/NAME'} config.json --local-dir ./model",
               catalog="envdoctor matrices show model",
               close=Msg("model-not-found.close", names=", ".join(close)) if close else Msg("model-not-found.end"))


def suggestions(matrices: Matrices, query: str, limit: int = 3) -> List[str]:
    words = [w for w in re.split(r"[/\-_. ]+", query.lower()) if w]
    ids = [m.id for m in matrices.table("models")] + [v.id for v in matrices.table("model_variants")]
    scored = sorted(((sum(w in i.lower() for w in words), i) for i in ids), key=lambda t: (-t[0], t[1]))
    return [i for score, i in scored if score][:limit]


def variants_for(matrices: Matrices, shape: ModelShape) -> List[ModelShape]:
    """Published quantized variants of the catalog model `shape` is (or is a copy of)."""
    base = matrices.model(shape.name)
    if base is None or shape.quantized:
        return []
    return [shape_from_variant(v, base) for v in matrices.variants_of(base.id)]


def absolute(path: str, cwd: Optional[str] = None) -> str:
    """A user's relative folder as an absolute machine path (repository ids pass through)."""
    if path.startswith(("/", "~")):
        return os.path.expanduser(path)
    candidate = os.path.abspath(os.path.join(cwd or os.getcwd(), path))
    return candidate if os.path.isdir(candidate) else path
