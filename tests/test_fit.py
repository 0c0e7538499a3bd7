"""The fit calculator against vLLM's own numbers and the seed case (Qwen2-1.5B-Instruct on an
RTX 3050 Laptop 4 GB under WSL2)."""
from __future__ import annotations

import csv
import shutil
from dataclasses import replace

import pytest

from envdoctor.compat.tables import Matrices, default_dir
from envdoctor.fit import calc as fit
from envdoctor.fit.calc import GiB, MiB
from envdoctor.fit.model_config import from_catalog
from envdoctor.fit.sizing import gpu_from_catalog, plan_for

# A real H100 run (vLLM 0.26.0, Qwen2-1.5B-Instruct shape, dummy weights, gpu_memory_utilization
# 0.5, enforce_eager, max_model_len 2048) logged these two lines:
H100_AVAILABLE_KV_GIB = 35.35  # "Available KV cache memory: 35.35 GiB"
H100_KV_TOKENS = 1_323_760  # "GPU KV cache size: 1,323,760 tokens"
H100_TOTAL = 81559 * MiB  # nvidia-smi memory.total of an H100 80GB HBM3 (shared/compat/gpu.csv)


@pytest.fixture(scope="module")
def m():
    return Matrices()


@pytest.fixture(scope="module")
def qwen(m):
    return from_catalog(m, "Qwen/Qwen2-1.5B-Instruct")


def test_kv_bytes_per_token_is_the_formula(qwen):
    assert fit.kv_bytes_per_token(qwen) == 2 * 28 * 2 * 128 * 2 == 28_672
    assert fit.kv_bytes_per_token(qwen, "fp8") == 14_336


def test_token_count_from_vllms_available_memory_matches_its_log(qwen):
    predicted = fit.kv_tokens(int(H100_AVAILABLE_KV_GIB * GiB), qwen)
    assert abs(predicted - H100_KV_TOKENS) / H100_KV_TOKENS < 0.10
    assert predicted % fit.BLOCK_SIZE == 0


def test_predicted_available_kv_memory_on_the_h100_run(qwen):
    # vLLM's LLM class on a >= 70 GiB card: max_num_batched_tokens 16384, max_num_seqs 1024.
    available = fit.predict_available_kv(qwen, H100_TOTAL, 0.5, max_num_seqs=1024, max_num_batched_tokens=16384)
    assert abs(available / GiB - H100_AVAILABLE_KV_GIB) / H100_AVAILABLE_KV_GIB < 0.10
    tokens = fit.kv_tokens(available, qwen)
    assert abs(tokens - H100_KV_TOKENS) / H100_KV_TOKENS < 0.10


def test_weights_of_unquantized_and_quantized_checkpoints(m, qwen):
    assert fit.weight_bytes(qwen) == 1_543_714_304 * 2
    base = from_catalog(m, "Qwen/Qwen2.5-1.5B-Instruct")
    gptq = replace(base, quant_method="gptq", quant_bits=4, quant_group_size=128, dtype="float16")
    awq = replace(gptq, quant_method="awq", tie_embeddings=False)
    # Hugging Face shows model.safetensors of Qwen2.5-1.5B-Instruct GPTQ-Int4 as 1.15 GB and of
    # the AWQ upload as 1.61 GB (shared/compat/facts.md (d)).
    assert abs(fit.weight_bytes(gptq) / 1.15e9 - 1) < 0.03
    assert abs(fit.weight_bytes(awq) / 1.61e9 - 1) < 0.03
    assert fit.weight_bytes(replace(gptq, weights_file_bytes=123)) == 123  # a published size wins


def test_defaults_that_fit_are_kept(m, qwen):
    # A current vLLM requests 0.92 of the card (0.9 before 0.20.0) and needs CUDA-graph room beyond it.
    p = fit.plan(qwen, fit.Gpu("L4", 23034 * MiB, 22600 * MiB, "8.9"))
    assert p.verdict == "fits"
    assert p.chosen is p.default and p.chosen.settings.gpu_memory_utilization == 0.92
    tight = fit.plan(qwen, fit.Gpu("L4", 23034 * MiB, 22000 * MiB, "8.9"))
    assert tight.verdict == "fits-with-settings" and "graphs" in tight.default.problems
    assert p.chosen.context == qwen.max_positions


def test_seed_case_idle_4gb_card_gets_concrete_settings(m, qwen):
    gpu, notes = gpu_from_catalog(m, "RTX 3050 Laptop", None, None)
    assert gpu.total_bytes == 4 * GiB and gpu.compute_capability == "8.6"
    assert any("4 or 6 GB" in n for n in notes) and any("assumed the card is idle" in n for n in notes)
    p = plan_for(qwen, gpu, m)
    assert p.verdict == "fits-with-settings" and p.context_limited
    s = p.chosen.settings
    assert s.enforce_eager and s.max_num_seqs < 256
    assert 8192 <= p.chosen.context < qwen.max_positions
    # Never ask for more than is free after the CUDA context.
    assert p.chosen.requested <= gpu.usable_free - fit.CUDA_CONTEXT_BYTES
    assert p.chosen.kv_tokens >= p.chosen.context
    assert "context" in p.default.problems  # the defaults would not start


def test_seed_case_under_wsl_with_measured_free_memory_gets_a_quantized_model(m, qwen):
    # WSL2: the Windows desktop holds part of the laptop GPU; NVML reports the rest as free.
    gpu = fit.Gpu("NVIDIA GeForce RTX 3050 Laptop GPU", 4096 * MiB, 3379 * MiB, "8.6")
    p = plan_for(qwen, gpu, m)
    assert p.verdict == "does-not-fit"
    assert "start" in p.default.problems
    alt = p.alternative
    assert alt is not None and alt.model.quantized and alt.model.name.startswith("Qwen/Qwen2-1.5B-Instruct-")
    assert alt.verdict in ("fits", "fits-with-settings") and alt.chosen.context == 32768
    assert alt.chosen.requested <= gpu.usable_free - fit.CUDA_CONTEXT_BYTES
    from envdoctor.render.fit_text import command

    cmd = command(alt.chosen, alt.model.name)
    assert cmd.startswith(f"vllm serve {alt.model.name} --max-model-len 32768 --gpu-memory-utilization 0.")
    assert "--enforce-eager" in cmd


def test_old_vllm_profiles_a_whole_prompt(m, qwen):
    gpu = fit.Gpu("RTX 3050 Laptop", 4 * GiB, None, "8.6")
    v1 = plan_for(qwen, gpu, m)
    v0 = plan_for(qwen, gpu, m, vllm="0.5.3")
    assert v0.chosen.settings.chunked_prefill is False
    assert v0.chosen.forward_activation > v1.chosen.forward_activation
    assert any("V0 engine" in n for n in v0.notes)


def test_cc_below_8_runs_bfloat16_models_as_half(m, qwen):
    p = plan_for(qwen, fit.Gpu("Tesla T4", 15360 * MiB, 15000 * MiB, "7.5"), m)
    assert p.chosen.settings.dtype == "half"
    assert any("--dtype half" in n for n in p.notes)


def test_quantized_alternative_respects_the_kernels_minimum_cc(m, qwen):
    # AWQ needs compute capability 7.5 in vLLM; a Volta card (with a vLLM that still runs on 7.0) only
    # gets GPTQ.
    p = plan_for(qwen, fit.Gpu("V100", 4096 * MiB, 3379 * MiB, "7.0"), m, vllm="0.19.1")
    assert p.alternative is not None and p.alternative.model.quant_method == "gptq"


def test_a_gpu_below_vllms_minimum_does_not_fit_whatever_the_memory(m, qwen):
    # N4: a GTX 1080 (6.1) with plenty of memory; vLLM 0.5.3 needs 7.0 (matrices/vllm.csv).
    p = plan_for(qwen, fit.Gpu("GeForce GTX 1080", 8 * GiB, 8 * GiB, "6.1"), m, vllm="0.5.3")
    assert p.verdict == "does-not-fit" and p.alternative is None
    assert p.blocker == ("vLLM 0.5.3 does not run on compute capability 6.1 (minimum 7.0): its wheels have "
                         "no kernels for GeForce GTX 1080")
    # A current vLLM needs 7.5, so Volta is out too; 7.5 itself is fine.
    assert plan_for(qwen, fit.Gpu("V100", 16 * GiB, 16 * GiB, "7.0"), m).blocker
    assert plan_for(qwen, fit.Gpu("T4", 16 * GiB, 16 * GiB, "7.5"), m).blocker is None


def test_an_unknown_minimum_is_not_a_pass(m, qwen, tmp_path):
    # A release whose min_cc the tables lack (as 0.15.x once did, facts.md F4): a copy of the
    # shipped tables with that one cell emptied.
    shutil.copytree(default_dir(), tmp_path / "m")
    path = tmp_path / "m" / "vllm.csv"
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if row["version"] == "0.15.1":
            row["min_cc"] = ""
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    blank = Matrices(str(tmp_path / "m"))
    p = plan_for(qwen, fit.Gpu("GTX 1080 Ti", 11 * GiB, 11 * GiB, "6.1"), blank, vllm="0.15.1")
    assert p.blocker is None
    assert any("not in envdoctor's data" in u for u in p.unknowns)
    unknown_cc = plan_for(qwen, fit.Gpu("16 GB GPU", 16 * GiB, 16 * GiB, None), m)
    assert any("compute capability is unknown" in u for u in unknown_cc.unknowns)


def test_a_model_too_big_for_any_variant(m):
    big = from_catalog(m, "Qwen/Qwen2.5-7B-Instruct")
    p = plan_for(big, fit.Gpu("tiny", 2 * GiB, 2 * GiB, "8.6"), m)
    assert p.verdict == "does-not-fit" and p.alternative is None


def test_requested_context_is_honoured(m, qwen):
    p = plan_for(qwen, fit.Gpu("RTX 3050 Laptop", 4 * GiB, None, "8.6"), m, context=4096)
    assert p.chosen.context == 4096 and not p.context_limited


def test_reads_vllms_memory_lines_back():
    # The two lines the H100 run logged (shared/device.md), between unrelated ones.
    log = ("INFO 11-25 [core.py:90] Initializing a V1 LLM engine\n"
           "INFO 11-25 [gpu_worker.py:298] Available KV cache memory: 35.35 GiB\n"
           "INFO 11-25 [kv_cache_utils.py:1087] GPU KV cache size: 1,323,760 tokens\n")
    assert fit.vllm_memory_log(log) == {"available_kv_gib": 35.35, "kv_tokens": 1_323_760}
    assert fit.vllm_memory_log("INFO # GPU blocks: 2140, # CPU blocks: 9362")["gpu_blocks"] == 2140
    assert fit.vllm_memory_log("nothing here") == {}


def test_v0_note_names_its_worker_and_the_tokens_it_profiles(m, qwen):
    # N36: vLLM 0.5.3's profile run takes max_model_len (32,768) tokens, not 2,048.
    gpu = fit.Gpu("RTX 3050 Laptop", 4 * GiB, int(3.4 * GiB), "8.6")
    p = plan_for(qwen, gpu, m, vllm="0.5.3")
    assert p.default.profile_tokens == 32768
    [note] = [n for n in p.notes if "V0 engine" in n]
    assert "vllm/worker/worker.py" in note and "32,768 tokens with vLLM's defaults" in note


def test_advice_does_not_flip_on_20_mb_of_free_memory(m, qwen):
    # N37: 3.40 and 3.42 GiB free on the seed card gave two different recommendations.
    def advice(free_gib):
        p = plan_for(qwen, fit.Gpu("RTX 3050 Laptop", 4 * GiB, int(free_gib * GiB), "8.6"), m, vllm="0.5.3")
        target = p.alternative or p
        return target.model.name, target.chosen.context, target.chosen.settings.gpu_memory_utilization

    assert advice(3.40) == advice(3.42) == advice(3.41)
    assert fit.utilization_for(4 * GiB, int(3.40 * GiB)) == fit.utilization_for(4 * GiB, int(3.42 * GiB))


def test_sliding_window_needs_only_its_window_per_request(m):
    # vllm/v1/kv_cache_interface.py SlidingWindowSpec: min(window - 1 + in-flight, max_model_len) tokens + 1 block.
    mistral = from_catalog(m, "mistralai/Mistral-7B-Instruct-v0.1")
    full = replace(mistral, sliding_window=None)
    assert mistral.sliding_window == 4096
    assert fit.blocks_per_request(mistral, 32768, in_flight_tokens=4096) == -(-(4095 + 4096) // 16) + 1 == 513
    assert fit.blocks_per_request(full, 32768, in_flight_tokens=4096) == 2048
    thousand_blocks = 1000 * 16 * fit.kv_bytes_per_token(mistral)
    assert fit.kv_tokens(thousand_blocks, full, context=32768, in_flight_tokens=4096) == 16000
    assert fit.kv_tokens(thousand_blocks, mistral, context=32768, in_flight_tokens=4096) > 32768  # one request fits


def _quantized(base, method, bits, group=None):
    return replace(base, quant_method=method, quant_bits=bits, quant_group_size=group, weights_file_bytes=None)


def test_every_quantization_method_is_sized_from_its_layout(m):
    base = from_catalog(m, "meta-llama/Meta-Llama-3-8B-Instruct")
    linear = base.layers * fit._linear_params(base)
    sixteen_bit_rest = fit.weight_bytes(base) - 2 * linear
    fp8 = fit.weight_bytes(_quantized(base, "fp8", 8))
    assert fp8 == linear + sixteen_bit_rest  # one byte a weight, the rest as before
    block_fp8 = fit.weight_bytes(_quantized(base, "fp8", 8, 128))
    assert block_fp8 - fp8 == base.layers * (fit._linear_params(base) // 128 ** 2) * 4
    bnb4 = fit.weight_bytes(_quantized(base, "bitsandbytes", 4))
    assert bnb4 == linear // 2 + base.layers * (fit._linear_params(base) // 64) * 4 + sixteen_bit_rest
    bnb8 = fit.weight_bytes(_quantized(base, "bitsandbytes", 8))
    ct4 = fit.weight_bytes(_quantized(base, "compressed-tensors", 4, 128))
    awq4 = fit.weight_bytes(_quantized(base, "awq", 4, 128))
    assert ct4 < awq4 < bnb4 < fp8 <= bnb8 < fit.weight_bytes(base)  # AWQ also stores zero points


def test_quantization_configs_as_published_are_read(m):
    from envdoctor.fit.model_config import shape_from_config

    cfg = {"model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336, "num_attention_heads": 32,
           "num_hidden_layers": 32, "num_key_value_heads": 8, "vocab_size": 128256,
           "max_position_embeddings": 131072, "torch_dtype": "bfloat16"}
    fp8 = shape_from_config({**cfg, "quantization_config": {"quant_method": "fp8", "activation_scheme": "dynamic",
                                                            "weight_block_size": [128, 128]}}, "x", "p")
    assert (fp8.quant_method, fp8.quant_bits, fp8.quant_group_size, fp8.dtype) == ("fp8", 8, 128, "bfloat16")
    bnb = shape_from_config({**cfg, "quantization_config": {"quant_method": "bitsandbytes", "load_in_4bit": True,
                                                            "bnb_4bit_quant_type": "nf4"}}, "x", "p")
    assert (bnb.quant_method, bnb.quant_bits) == ("bitsandbytes", 4)
    ct = shape_from_config({**cfg, "quantization_config": {
        "quant_method": "compressed-tensors", "format": "pack-quantized", "ignore": ["lm_head"],
        "config_groups": {"group_0": {"targets": ["Linear"], "weights": {
            "num_bits": 4, "type": "int", "symmetric": True, "strategy": "group", "group_size": 128}}}}}, "x", "p")
    assert (ct.quant_method, ct.quant_bits, ct.quant_group_size) == ("compressed-tensors", 4, 128)


def test_tensor_parallel_splits_kv_heads_but_never_below_one(m, qwen):
    assert fit.kv_heads_per_gpu(qwen, 1) == 2 and fit.kv_heads_per_gpu(qwen, 2) == 1
    assert fit.kv_heads_per_gpu(qwen, 4) == 1  # 2 KV heads on 4 GPUs: each keeps a copy
    one = fit.estimate(qwen, fit.Gpu("A", 24 * GiB), fit.Settings(max_model_len=4096))
    four = fit.estimate(qwen, fit.Gpu("A", 24 * GiB), fit.Settings(max_model_len=4096, tensor_parallel_size=4))
    assert four.weights == -(-one.weights // 4) and four.kv_bytes_per_token == one.kv_bytes_per_token // 2
    assert four.non_torch > one.non_torch  # NCCL buffers on every GPU


def test_a_gpu_is_sized_by_the_memory_it_reports_where_known(m, monkeypatch):
    # F13: a B200 reports 183359 MiB ("NVIDIA B200 ... 0MiB / 183359MiB",
    # https://github.com/vllm-project/vllm/issues/32373), not 192 GB; the identity's MiB wins.
    from envdoctor.compat import gpu as compat_gpu

    b200 = compat_gpu.GpuIdentity("NVIDIA B200", "10.0", "Blackwell", "datacenter", 183359, (192.0,), None, False,
                                  "https://github.com/vllm-project/vllm/issues/32373")
    monkeypatch.setattr(compat_gpu, "named", lambda query, matrices: [b200])
    gpu, notes = gpu_from_catalog(m, "B200", None, None)
    assert gpu.total_bytes == 183359 * MiB and gpu.compute_capability == "10.0"
    assert not any("sold with" in n for n in notes)


def test_moe_parameters_count_every_expert():
    # Mixtral-8x7B's config (8 local experts, 2 per token) and its published total: 46,702,792,704
    # parameters (keras-hub's Mixtral preset "mixtral_8_7b_en": params 46702792704; a training log
    # "Created model with total parameters: 46702792704 (46.70 B)").
    from envdoctor.fit.model_config import shape_from_config

    mixtral = shape_from_config({
        "architectures": ["MixtralForCausalLM"], "model_type": "mixtral", "hidden_size": 4096,
        "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
        "num_local_experts": 8, "num_experts_per_tok": 2, "vocab_size": 32000, "max_position_embeddings": 32768,
        "sliding_window": None, "tie_word_embeddings": False, "torch_dtype": "bfloat16"}, "mixtral", "p")
    assert (mixtral.experts, mixtral.experts_per_token, mixtral.sliding_window) == (8, 2, None)
    assert fit.count_parameters(mixtral) == 46_702_792_704
    # The profile run's MLP peak is the two routed experts' intermediates, not all eight.
    assert fit.forward_activation(mixtral, 1) == (2 * 4096 + 3 * 2 * 14336) * 2
