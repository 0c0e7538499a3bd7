"""`envdoctor fit` and `check --model` through the real CLI."""
from __future__ import annotations

import json

import pytest

from envdoctor.cli import main


def run(capsys, *argv):
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    out = capsys.readouterr()
    return exit_.value.code, out.out, out.err


@pytest.fixture(autouse=True)
def _no_user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # never the real hub: tests that need one serve it on 127.0.0.1
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)


def test_seed_case_verbose_shows_settings_and_the_arithmetic(capsys):
    code, out, _ = run(capsys, "fit", "Qwen/Qwen2-1.5B-Instruct", "--gpu", "RTX 3050 Laptop", "--free", "3.3", "-v")
    assert code == 2
    assert "✗ Does not fit" in out
    assert "Instead: Qwen/Qwen2-1.5B-Instruct-" in out
    assert "$ vllm serve Qwen/Qwen2-1.5B-Instruct-" in out and "--max-model-len 32768" in out
    # The arithmetic, line by line.
    assert "requested          total × 0.92 = 3.68 GiB" in out
    assert "weights            1,543,714,304 parameters × 2 B → 2.88 GiB" in out
    assert "KV per token       28,672 B" in out
    assert "free at start      3.30 GiB − CUDA context 0.29 GiB (assumed) = 3.01 GiB" in out
    assert "Assumptions" in out


def test_seed_case_on_an_idle_card_gets_settings(capsys):
    code, out, _ = run(capsys, "fit", "Qwen/Qwen2-1.5B-Instruct", "--gpu", "RTX 3050 Laptop")
    assert code == 1
    assert "! Fits with these settings (max_model_len 16,384 of 32,768)" in out
    assert "$ vllm serve Qwen/Qwen2-1.5B-Instruct --max-model-len 16384 --gpu-memory-utilization 0.90" in out
    assert "Python: LLM(" in out and "sold with 4 or 6 GB" in out


def test_json_document(capsys):
    code, out, _ = run(capsys, "fit", "Qwen/Qwen2-1.5B-Instruct", "--gpu", "RTX 4090", "--free", "23.5", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["verdict"] == "fits" and doc["not_checked"] == []
    # With only a memory size the compute capability is unknown: it fits in memory, unchecked.
    code, out, _ = run(capsys, "fit", "Qwen/Qwen2-1.5B-Instruct", "--vram", "24", "--free", "23.5", "--json")
    doc = json.loads(out)
    assert code == 1 and doc["verdict"] == "fits" and "compute capability is unknown" in doc["not_checked"][0]
    assert doc["chosen"]["bytes"]["kv_per_token"] == 28672
    assert doc["command"].startswith("vllm serve Qwen/Qwen2-1.5B-Instruct --max-model-len 32768")


def test_local_folder_relative_path(capsys, tmp_path, monkeypatch):
    folder = tmp_path / "mymodel"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({
        "model_type": "llama", "hidden_size": 2048, "intermediate_size": 8192, "max_position_embeddings": 131072,
        "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8, "head_dim": 64,
        "tie_word_embeddings": True, "torch_dtype": "bfloat16", "vocab_size": 128256}))
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "fit", "mymodel", "--vram", "8", "--free", "7.5", "--max-model-len", "8192")
    assert code in (0, 1) and "mymodel on 8 GB GPU" in out and "--max-model-len 8192" in out


@pytest.mark.parametrize("argv, message", [
    (("fit", "Nobody/Nothing-7B", "--vram", "8"), "not in envdoctor's catalog"),
    (("fit", "Qwen/Qwen2-1.5B-Instruct", "--gpu", "RTX 9999"), "unknown GPU 'RTX 9999': pass its memory instead"),
    (("fit", "Qwen/Qwen2-1.5B-Instruct", "--gpu", "GH200"), "'GH200' matches"),  # GH200 480GB or 144G
])
def test_bad_input_is_one_line_and_exit_4(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 4 and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_no_gpu_here_asks_for_one(capsys, monkeypatch):
    from envdoctor.probes.engine import ProbeAbsent
    from envdoctor.probes import nvidia

    # A reason no real probe gives: the test passes only through the stand-in, on any host.
    why = "no NVIDIA driver: the stand-in driver probe of this test"

    def absent(ctx, facts):
        raise ProbeAbsent(why)

    monkeypatch.setattr(nvidia, "probe", absent)
    code, _, err = run(capsys, "fit", "Qwen/Qwen2-1.5B-Instruct")
    assert code == 4 and "pass --gpu NAME or --vram GB" in err and why in err


def test_check_model_reports_an_unknown_model(capsys):
    code, out, _ = run(capsys, "check", "--only", "model", "--model", "Nobody/Nothing-7B", "--json")
    doc = json.loads(out)
    assert [f["code"] for f in doc["findings"]] == ["model-not-found"]
    assert doc["facts"]["model"]["query"] == "Nobody/Nothing-7B" and code == 1


def test_check_without_model_does_not_show_the_model_area(capsys):
    code, out, _ = run(capsys, "check", "--only", "resources", "--json")
    doc = json.loads(out)
    assert "model" not in doc["facts"]


def test_a_gpu_vllm_does_not_run_on_exits_2(capsys):
    # N4: GTX 1080 is compute capability 6.1; vLLM 0.5.3 needs 7.0 (matrices/vllm.csv).
    code, out, _ = run(capsys, "fit", "Qwen/Qwen2-1.5B-Instruct", "--gpu", "GTX 1080", "--vllm", "0.5.3")
    assert code == 2
    assert "✗ vLLM 0.5.3 does not run on compute capability 6.1 (minimum 7.0)" in out
    assert "vllm serve" not in out and "Fits" not in out
