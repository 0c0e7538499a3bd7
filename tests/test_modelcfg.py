"""Reading a model's config.json from a folder or the Hugging Face cache (no network), and the
messages for models that are nowhere."""
from __future__ import annotations

import json

import pytest

from envdoctor.compat.tables import Matrices
from envdoctor.fit.calc import weight_bytes
from envdoctor.fit.model_config import (
    ModelConfigError,
    ModelNotFound,
    find_local,
    find_model,
    hub_cache_dir,
    variants_for,
)
from envdoctor.machine.fs import RootedFS

# The values of the Qwen2-1.5B-Instruct config copy cited in matrices/models.csv.
QWEN2_1_5B = {
    "_name_or_path": "Qwen/Qwen2-1.5B-Instruct", "architectures": ["Qwen2ForCausalLM"], "hidden_size": 1536,
    "intermediate_size": 8960, "max_position_embeddings": 32768, "model_type": "qwen2",
    "num_attention_heads": 12, "num_hidden_layers": 28, "num_key_value_heads": 2, "tie_word_embeddings": True,
    "torch_dtype": "bfloat16", "vocab_size": 151936,
}
SHA = "ba1cf1846d7df0a0591d6c00649f57e798519da8"


def _cache(root, repo, config, sha=SHA, refs=True, extra=None):
    base = root / "home/u/.cache/huggingface/hub" / ("models--" + repo.replace("/", "--"))
    snap = base / "snapshots" / sha
    snap.mkdir(parents=True)
    (snap / "config.json").write_text(json.dumps(config))
    for name, text in (extra or {}).items():
        (snap / name).write_text(text)
    if refs:
        (base / "refs").mkdir()
        (base / "refs" / "main").write_text(sha + "\n")
    return snap


@pytest.fixture()
def machine(tmp_path):
    return tmp_path, RootedFS(str(tmp_path)), {"HOME": "/home/u"}


def test_hub_cache_dir_follows_huggingface_hub():
    assert hub_cache_dir({"HF_HUB_CACHE": "/x"}) == "/x"
    assert hub_cache_dir({"HF_HOME": "/hf"}) == "/hf/hub"
    assert hub_cache_dir({"XDG_CACHE_HOME": "/c", "HOME": "/h"}) == "/c/huggingface/hub"
    assert hub_cache_dir({"HOME": "/h"}) == "/h/.cache/huggingface/hub"


def test_reads_the_snapshot_refs_main_points_to(machine):
    root, fs, env = machine
    _cache(root, "Qwen/Qwen2-1.5B-Instruct", QWEN2_1_5B)
    _cache(root, "Qwen/Qwen2-1.5B-Instruct", {**QWEN2_1_5B, "num_hidden_layers": 99}, sha="0" * 40, refs=False)
    shape = find_local(fs, env, "Qwen/Qwen2-1.5B-Instruct")
    assert (shape.layers, shape.kv_heads, shape.head_dim, shape.max_positions) == (28, 2, 128, 32768)
    assert shape.source.endswith(f"/snapshots/{SHA}/config.json")
    assert weight_bytes(shape) == 1_543_714_304 * 2


def test_hf_home_moves_the_cache(machine):
    root, fs, _ = machine
    base = root / "data/hf/hub/models--Qwen--Qwen2-1.5B-Instruct/snapshots/abc"
    base.mkdir(parents=True)
    (base / "config.json").write_text(json.dumps(QWEN2_1_5B))
    assert find_local(fs, {"HF_HOME": "/data/hf"}, "Qwen/Qwen2-1.5B-Instruct").layers == 28
    assert find_local(fs, {"HOME": "/home/u"}, "Qwen/Qwen2-1.5B-Instruct") is None


def test_local_folder_with_awq_quantization(machine):
    root, fs, env = machine
    folder = root / "models/qwen-awq"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({**QWEN2_1_5B, "torch_dtype": "float16", "quantization_config": {
        "bits": 4, "group_size": 128, "quant_method": "awq", "version": "gemm", "zero_point": True}}))
    shape = find_local(fs, env, "/models/qwen-awq")
    assert (shape.quant_method, shape.quant_bits, shape.quant_group_size, shape.dtype) == ("awq", 4, 128, "float16")
    assert weight_bytes(shape) < 1.2e9


def test_old_gptq_uploads_keep_quantize_config_apart(machine):
    root, fs, env = machine
    _cache(
        root, "Some/Model-GPTQ", QWEN2_1_5B, extra={"quantize_config.json": json.dumps({"bits": 8, "group_size": 128})}
    )
    shape = find_local(fs, env, "Some/Model-GPTQ")
    assert (shape.quant_method, shape.quant_bits) == ("gptq", 8)


def test_multimodal_config_uses_its_text_config(machine):
    root, fs, env = machine
    _cache(root, "Some/VLM", {"model_type": "llava", "text_config": {k: v for k, v in QWEN2_1_5B.items()
                                                                     if k != "_name_or_path"}})
    assert find_local(fs, env, "Some/VLM").layers == 28


@pytest.mark.parametrize("config, message", [
    ("{not json", "is not valid JSON"),
    (json.dumps({k: v for k, v in QWEN2_1_5B.items() if k != "num_hidden_layers"}), "num_hidden_layers is missing"),
    (json.dumps({**QWEN2_1_5B, "hidden_size": "big"}), "hidden_size is 'big', not a positive whole number"),
    (json.dumps({**QWEN2_1_5B, "kv_lora_rank": 512}), "multi-head latent attention (kv_lora_rank)"),
    (json.dumps({**QWEN2_1_5B, "quantization_config": {"quant_method": "hqq"}}),
     "quantization 'hqq' is not one envdoctor can size"),
    (json.dumps({**QWEN2_1_5B, "quantization_config": {"quant_method": "bitsandbytes"}}),
     "without load_in_4bit or load_in_8bit cannot be sized"),
])
def test_bad_configs_say_what_is_wrong(machine, config, message):
    root, fs, env = machine
    folder = root / "m"
    folder.mkdir()
    (folder / "config.json").write_text(config)
    with pytest.raises(ModelConfigError) as err:
        find_local(fs, env, "/m")
    assert message in str(err.value) and "/m/config.json" in str(err.value)


def test_folder_without_config(machine):
    root, fs, env = machine
    (root / "empty").mkdir()
    with pytest.raises(ModelConfigError, match="has no config.json"):
        find_local(fs, env, "/empty")


def test_catalog_is_the_fallback_and_unknown_models_get_a_way_out(machine):
    _, fs, env = machine
    m = Matrices()
    shape = find_model(fs, env, m, "Qwen/Qwen2-1.5B-Instruct")
    assert shape.source.startswith("envdoctor catalog")
    assert {v.name for v in variants_for(m, shape)} >= {"Qwen/Qwen2-1.5B-Instruct-AWQ"}
    variant = find_model(fs, env, m, "Qwen/Qwen2.5-1.5B-Instruct-GPTQ-Int4")
    assert variant.quant_method == "gptq" and variant.weights_file_bytes == 1_150_000_000
    with pytest.raises(ModelNotFound) as err:
        find_model(fs, env, m, "Qwen/Qwen2-1.5B-Instruc")
    text = str(err.value)
    assert "not in the Hugging Face cache (/home/u/.cache/huggingface/hub)" in text
    assert "--local-dir" in text and "Did you mean: Qwen/Qwen2-1.5B-Instruct" in text
