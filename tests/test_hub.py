"""`envdoctor fit` for a model beyond the catalog, read from a Hugging Face hub served on 127.0.0.1
(tests/loopback_hub.py): through huggingface_hub, with HF_ENDPOINT, HF_TOKEN, the cache and
HF_HUB_OFFLINE, and every failure as one line."""
from __future__ import annotations

import json
import os
import time

import pytest

from envdoctor.fit import hub
from envdoctor.cli import main
from tests.loopback_hub import LoopbackHub, Repo, silent_server

LLAMA = "meta-llama/Llama-3.1-8B-Instruct"
with open(os.path.join(os.path.dirname(__file__), "fixtures", "fit", "configs", "llama-3.1-8b-instruct.json"),
          "rb") as _fh:
    LLAMA_CONFIG = _fh.read()  # the model's real config.json (tests/fixtures/fit/README.md)
# The hub's safetensors metadata for it: 8,030,261,248 bfloat16 parameters
# (https://github.com/thamada/modelQuery/blob/main/README.md: Llama-3.1-8B, 8030261248 parameters).
LLAMA_SAFETENSORS = {"parameters": {"BF16": 8_030_261_248}, "total": 8_030_261_248}

# A made-up AWQ upload of the same shape, for the arithmetic: 4-bit packed int32 weights, fp16 scales.
AWQ_CONFIG = dict(json.loads(LLAMA_CONFIG), torch_dtype="float16", quantization_config={
    "bits": 4, "group_size": 128, "quant_method": "awq", "version": "gemm", "zero_point": True})
AWQ_SAFETENSORS = {"parameters": {"I32": 872_415_232, "F16": 1_050_939_392}, "total": 1_923_354_624}


def repos():
    return {
        LLAMA: Repo({"config.json": LLAMA_CONFIG, "generation_config.json": b"{}"}, LLAMA_SAFETENSORS, gated=True),
        "test/llama-3.1-8b-awq": Repo({"config.json": json.dumps(AWQ_CONFIG).encode()}, AWQ_SAFETENSORS),
        "test/no-config": Repo({"model.gguf": b"GGUF"}),
    }


def run(capsys, *argv):
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    out = capsys.readouterr()
    return exit_.value.code, out.out, out.err


@pytest.fixture
def loopback(tmp_path, monkeypatch):
    with LoopbackHub(repos()) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
        monkeypatch.delenv("HF_HUB_CACHE", raising=False)
        monkeypatch.setenv("HF_TOKEN", server.token)
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        yield server


def test_llama_3_1_8b_on_an_rtx_4090(capsys, loopback):
    code, out, err = run(capsys, "fit", LLAMA, "--gpu", "RTX 4090", "-v")
    assert err == ""
    assert out.splitlines()[0].startswith(f"{LLAMA} on ") and "RTX 4090" in out.splitlines()[0]
    # 131,072 tokens of context need 16 GiB of KV cache: with 15 GiB of weights a 24 GB card holds less.
    assert code == 1 and "! Fits with these settings (max_model_len" in out
    assert "weights from the hub's safetensors metadata (BF16 8,030,261,248)" in out
    assert "8,030,261,248 parameters × 2 B → 14.96 GiB" in out
    assert "KV per token       131,072 B" in out
    assert f"$ vllm serve {LLAMA} --max-model-len" in out
    assert f"Prove it on the machine: envdoctor run-smoke --model {LLAMA} --max-model-len" in out
    # The token went to the hub, and config.json now sits in the cache.
    assert any(path.endswith("/resolve/main/config.json") and auth == f"Bearer {loopback.token}"
               for _, path, auth in loopback.requests)
    assert any(path == f"/api/models/{LLAMA}" for _, path, _ in loopback.requests)


def test_the_cache_answers_when_offline(capsys, loopback, monkeypatch):
    run(capsys, "fit", LLAMA, "--gpu", "RTX 4090")
    before = len(loopback.requests)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, out, _ = run(capsys, "fit", LLAMA, "--gpu", "RTX 4090", "--json")
    doc = json.loads(out)
    assert code == 1 and doc["verdict"] == "fits-with-settings"
    assert "HF_HUB_OFFLINE is set" in doc["model_source"] and "/hf/hub/models--meta-llama" in doc["model_source"]
    assert len(loopback.requests) == before  # not one request


def test_offline_and_not_cached_says_so(capsys, loopback, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, out, err = run(capsys, "fit", LLAMA, "--gpu", "RTX 4090")
    assert code == 4 and out == "" and err.count("\n") == 1
    assert "HF_HUB_OFFLINE is set and its config.json is not in the Hugging Face cache" in err
    assert loopback.requests == []


@pytest.mark.parametrize("token, status", [(None, 401), ("hf_wrongtoken", 403)])
def test_gated_repository_asks_for_hf_token(capsys, loopback, monkeypatch, token, status):
    if token is None:
        monkeypatch.delenv("HF_TOKEN")
        monkeypatch.setenv("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")
        monkeypatch.setenv("HF_TOKEN_PATH", str(loopback.url.replace(":", "_")))  # no stored token either
    else:
        monkeypatch.setenv("HF_TOKEN", token)
    code, out, err = run(capsys, "fit", LLAMA, "--gpu", "RTX 4090")
    assert code == 4 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert f"{LLAMA} is gated" in err and "HF_TOKEN" in err
    assert (token or "hf_loopbacktoken") not in err
    assert any(path.endswith("config.json") for _, path, _ in loopback.requests)


def test_missing_repository_and_missing_config(capsys, loopback):
    code, _, err = run(capsys, "fit", "Nobody/Nothing-70B", "--gpu", "RTX 4090")
    assert code == 4 and "Nobody/Nothing-70B: not found on the hub" in err and err.count("\n") == 1
    code, _, err = run(capsys, "fit", "test/no-config", "--gpu", "RTX 4090")
    assert code == 4 and "has no config.json on the hub" in err


def test_quantized_checkpoint_is_sized_from_its_real_bytes(capsys, loopback):
    code, out, _ = run(capsys, "fit", "test/llama-3.1-8b-awq", "--gpu", "RTX 4090", "--json")
    doc = json.loads(out)
    real = 872_415_232 * 4 + 1_050_939_392 * 2
    assert doc["chosen"]["bytes"]["weights"] == real
    assert "I32 872,415,232" in doc["model_source"]


def test_tensor_parallel_halves_the_weights_per_gpu(capsys, loopback):
    _, one, _ = run(capsys, "fit", LLAMA, "--gpu", "RTX 4090", "--json")
    code, two, _ = run(capsys, "fit", LLAMA, "--gpu", "RTX 4090", "--tensor-parallel-size", "2", "--json")
    one, two = json.loads(one), json.loads(two)
    assert two["tensor_parallel_size"] == 2 and two["default"]["settings"]["tensor_parallel_size"] == 2
    assert two["default"]["bytes"]["weights"] == -(-8_030_261_248 * 2 // 2)
    assert two["default"]["bytes"]["kv_per_token"] * 2 == one["default"]["bytes"]["kv_per_token"]
    # Two 24 GB cards hold the full 131,072-token context that one cannot.
    assert code in (0, 1) and two["chosen"]["settings"]["max_model_len"] == 131072
    assert "--tensor-parallel-size 2" in two["command"]


def test_heads_that_do_not_divide_block(capsys, loopback):
    code, out, _ = run(capsys, "fit", LLAMA, "--gpu", "RTX 4090", "--tensor-parallel-size", "3")
    assert code == 2 and "32 attention heads do not divide by --tensor-parallel-size 3" in out


def test_a_hub_that_never_answers_is_given_up_in_time(tmp_path):
    sock, url = silent_server()
    try:
        started = time.monotonic()
        with pytest.raises(hub.HubError) as err:
            hub.fetch(LLAMA, {"HF_ENDPOINT": url}, str(tmp_path), timeout=1.0, deadline=3.0)
        assert time.monotonic() - started < 10
        assert LLAMA in str(err.value) and "\n" not in str(err.value)
    finally:
        sock.close()


def test_weight_sizes_for_a_cached_config_never_wait_long(tmp_path):
    sock, url = silent_server()
    try:
        started = time.monotonic()
        weights, note = hub.weights_only(LLAMA, {"HF_ENDPOINT": url}, timeout=0.5, deadline=1.5)
        assert weights is None and note and time.monotonic() - started < 5
    finally:
        sock.close()


def _no_dns_for(monkeypatch, host):
    """A machine whose DNS cannot resolve `host` (the fake stands in for the resolver)."""
    import socket

    real = socket.getaddrinfo

    def getaddrinfo(name, *args, **kwargs):
        if name == host:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_a_hub_name_that_does_not_resolve_is_said_at_once_not_retried_to_the_deadline(tmp_path, monkeypatch):
    # huggingface_hub retried the failed lookup for ~20 s, then fit said "did not answer within 20 s".
    _no_dns_for(monkeypatch, "hub.test")
    for var in hub.PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(hub.HubError) as err:
        hub.fetch(LLAMA, {"HF_ENDPOINT": "http://hub.test"}, str(tmp_path), timeout=1.0, deadline=3.0)
    assert "hub.test does not resolve (DNS)" in str(err.value) and "did not answer" not in str(err.value)


def test_a_cached_config_still_answers_when_the_hub_name_does_not_resolve(capsys, loopback, monkeypatch):
    run(capsys, "fit", LLAMA, "--gpu", "RTX 4090")
    before = len(loopback.requests)
    _no_dns_for(monkeypatch, "127.0.0.1")
    code, out, _ = run(capsys, "fit", LLAMA, "--gpu", "RTX 4090", "--json")
    doc = json.loads(out)
    assert code == 1 and doc["verdict"] == "fits-with-settings" and len(loopback.requests) == before
    assert "127.0.0.1 does not resolve (DNS)" in json.dumps(doc)
