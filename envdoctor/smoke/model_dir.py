"""The model a smoke run loads. With --dummy only its config.json is needed: vLLM builds
the architecture with random weights (load_format="dummy"), so kernels and memory are
exercised and nothing is downloaded. The config comes from a local folder, the Hugging
Face cache, or (for catalog models) is written from the catalog's values."""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from typing import Dict, List, Optional

from envdoctor.fit.calc import ModelShape
from envdoctor.fit.model_config import cached_snapshot, looks_like_repo_id
from envdoctor.machine.fs import RootedFS

# model_type -> the class its published config.json names in "architectures"
# (transformers' model classes; e.g. Qwen/Qwen2-1.5B-Instruct/config.json: Qwen2ForCausalLM).
ARCHITECTURES = {"qwen2": "Qwen2ForCausalLM", "qwen3": "Qwen3ForCausalLM", "llama": "LlamaForCausalLM",
                 "mistral": "MistralForCausalLM", "gemma": "GemmaForCausalLM", "gemma2": "Gemma2ForCausalLM",
                 "phi3": "Phi3ForCausalLM"}
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json", "merges.txt",
                   "special_tokens_map.json")
CONFIG_FILES = ("config.json", "generation_config.json")


class ModelPrepError(Exception):
    """The model cannot be prepared for a smoke run; the message says what to pass."""


@dataclass(frozen=True)
class PreparedModel:
    path: str  # what LLM(model=...) gets: a folder or a hub id
    source: str  # where the config came from
    tokenizer: bool  # a tokenizer is available: prompt as text, else as token ids
    prompt_token_ids: Optional[List[int]] = None


def source_dir(env, query: str) -> Optional[str]:
    if os.path.isdir(query):
        return query
    if looks_like_repo_id(query):
        return cached_snapshot(RootedFS("/"), env, query)
    return None


def catalog_config(shape: ModelShape) -> dict:
    if shape.model_type not in ARCHITECTURES:
        raise ModelPrepError(f"envdoctor cannot write a config for model type {shape.model_type!r}: "
                             "pass a folder that holds the model's config.json")
    return {"architectures": [ARCHITECTURES[shape.model_type]], "model_type": shape.model_type,
            "hidden_size": shape.hidden_size, "intermediate_size": shape.intermediate_size,
            "num_hidden_layers": shape.layers, "num_attention_heads": shape.heads,
            "num_key_value_heads": shape.kv_heads, "head_dim": shape.head_dim, "vocab_size": shape.vocab,
            "max_position_embeddings": shape.max_positions, "torch_dtype": shape.dtype,
            "tie_word_embeddings": shape.tie_embeddings}


def prompt_ids(vocab: int, n: int = 12) -> List[int]:
    """Token ids well inside any vocabulary: with dummy weights the text is noise anyway."""
    return [100 + (i * 37) % max(1, min(vocab, 30000) - 100) for i in range(n)]


def prepare(env, query: str, shape: ModelShape, dummy: bool, cache_root: str) -> PreparedModel:
    """For --dummy, a folder under `cache_root` named by its content: the same model gets the
    same folder every time, so vLLM's compile cache (keyed by it) is reused between runs."""
    src = source_dir(env, query)
    if not dummy:
        tokenizer = src is None or any(os.path.exists(os.path.join(src, f)) for f in TOKENIZER_FILES)
        return PreparedModel(src or query, src or "downloaded by vLLM from the hub", tokenizer,
                             None if tokenizer else prompt_ids(shape.vocab))
    files: Dict[str, bytes] = {}
    if src is not None:
        for name in CONFIG_FILES + TOKENIZER_FILES:
            path = os.path.join(src, name)
            if os.path.exists(path):
                with open(path, "rb") as fh:
                    files[name] = fh.read()
        where = src
    else:
        files["config.json"] = json.dumps(catalog_config(shape), indent=2).encode()
        where = f"envdoctor's catalog ({shape.source.split(';')[0][:80]})"
    digest = hashlib.sha256(b"".join(k.encode() + v for k, v in sorted(files.items()))).hexdigest()[:12]
    workdir = os.path.join(cache_root, re.sub(r"[^\w.-]+", "--", shape.name).strip("-") + "-" + digest)
    os.makedirs(workdir, exist_ok=True)
    for name, data in files.items():
        # Whole files only: a run-smoke started meanwhile reads the old config or the new one.
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=workdir)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, os.path.join(workdir, name))
    tokenizer = any(name in files for name in TOKENIZER_FILES)
    return PreparedModel(workdir, where, tokenizer, None if tokenizer else prompt_ids(shape.vocab))
