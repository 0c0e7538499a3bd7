"""run-smoke through a fake vLLM installed into a venv made for the tests: the watchdog,
the phase parser, the settings and the failure classes, without a GPU."""
from __future__ import annotations

import dataclasses
import json
import os
import sys
import time

import pytest

from envdoctor.cli import main
from envdoctor.machine.context import live_context
from envdoctor.smoke.run import SmokeOptions, run_smoke
from envdoctor.machine.replay import ReplayNvml

from .hosts import gpu_less_host
from .processes import alive as _alive


HERE = os.path.dirname(os.path.abspath(__file__))
MIB = 1024 * 1024
H100 = {"driver_version": "580.159.04", "cuda_driver_version": 13000, "gpus": [{
    "index": 0, "name": "NVIDIA H100 80GB HBM3", "compute_capability": [9, 0],
    "memory": {"total": 81559 * MIB, "used": 0, "free": 81079 * MIB}, "processes": []}]}
LAPTOP = {"driver_version": "531.41", "cuda_driver_version": 12010, "gpus": [{
    "index": 0, "name": "NVIDIA GeForce RTX 3050 Laptop GPU", "compute_capability": [8, 6],
    "memory": {"total": 4096 * MIB, "used": 591 * MIB, "free": 3505 * MIB}, "processes": []}]}


def ctx_for(python, mode, snapshot=H100, cache=None):
    ctx = live_context({"python": python})
    env = dict(ctx.env, FAKE_VLLM_MODE=mode)
    if cache:
        env["XDG_CACHE_HOME"] = cache  # model folders go there, not into the real ~/.cache
    return dataclasses.replace(ctx, env=env, nvml=ReplayNvml({"snapshot": snapshot}))


def smoke(fake_env, tmp_path, mode, snapshot=H100, **opts):
    opts.setdefault("dummy", True)
    opts.setdefault("log_dir", str(tmp_path))
    cache = os.environ.get("XDG_CACHE_HOME") or str(tmp_path / "cache")
    return run_smoke(ctx_for(fake_env, mode, snapshot, cache), SmokeOptions(**opts))


def test_a_generation_reports_phases_tokens_and_vllm_memory_lines(fake_env, tmp_path):
    events = []
    result = run_smoke(ctx_for(fake_env, "ok", cache=str(tmp_path / "cache")),
                       SmokeOptions(dummy=True, log_dir=str(tmp_path), max_tokens=8),
                       on_event=lambda kind, data: events.append((kind, data.get("phase"))))
    assert result.ok and result.status == "ok"
    assert result.token_ids == tuple(range(1000, 1008)) and result.tokens_per_s > 0
    assert list(result.phases) == ["interpreter start", "import vllm", "engine init", "first token", "generation"]
    assert result.vllm_log["kv_cache_tokens"] == 1323760 and result.vllm_log["kv_cache_gib"] == 35.35
    assert result.versions["vllm"] == "0.26.0"
    assert ("phase", "engine_ready") in events and events[0][0] == "settings"
    log = open(result.log_path).read()
    assert "GPU KV cache size: 1,323,760 tokens" in log


def test_settings_are_sized_from_the_card(fake_env, tmp_path):
    result = smoke(fake_env, tmp_path, "ok", snapshot=LAPTOP, model="Qwen/Qwen2-0.5B-Instruct")
    settings = {s.name: s for s in result.settings}
    assert settings["enforce_eager"].value is True and "under 8 GiB" in settings["enforce_eager"].reason
    assert settings["max_model_len"].value <= 2048
    assert 0 < settings["gpu_memory_utilization"].value <= 3505 / 4096
    assert "3,505 of 4,096 MiB are free" in settings["gpu_memory_utilization"].reason


def test_overrides_win_and_say_so(fake_env, tmp_path):
    result = smoke(fake_env, tmp_path, "ok", overrides={"gpu_memory_utilization": 0.5, "enforce_eager": True})
    settings = {s.name: s for s in result.settings}
    assert settings["gpu_memory_utilization"].value == 0.5 and settings["gpu_memory_utilization"].overridden


def test_dummy_model_dir_is_written_from_the_catalog_once(fake_env, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = smoke(fake_env, tmp_path, "ok")
    second = smoke(fake_env, tmp_path, "ok")
    models = os.listdir(tmp_path / "cache" / "envdoctor" / "models")
    assert len(models) == 1 and models[0].startswith("Qwen--Qwen2-1.5B-Instruct-")  # same config, same folder
    config = json.load(open(tmp_path / "cache" / "envdoctor" / "models" / models[0] / "config.json"))
    assert config["architectures"] == ["Qwen2ForCausalLM"] and config["num_key_value_heads"] == 2
    assert first.model_source.startswith("envdoctor's catalog") and second.ok


def test_a_silent_hang_is_a_stall_named_by_its_phase_and_nothing_is_left(fake_env, tmp_path):
    start = time.monotonic()
    result = smoke(fake_env, tmp_path, "hang", stall=2.0, timeout=60)
    took = time.monotonic() - start
    assert result.status == "stall" and not result.ok
    assert result.stalled_in.startswith("engine init")
    assert took < 2.0 + 4.0  # stall limit + the quick check and start-up, never the 60 s timeout
    finding = result.findings[0]
    assert finding.code == "smoke-stalled" and "engine init" in finding.title
    pid = json.loads(next(l for l in open(result.log_path) if '"phase": "start"' in l).split("@@envdoctor ")[1])["pid"]
    assert not _alive(pid)


def test_output_without_an_end_hits_the_overall_timeout(fake_env, tmp_path):
    result = smoke(fake_env, tmp_path, "noisy-hang", stall=30, timeout=3)
    assert result.status == "timeout" and result.findings[0].code == "smoke-timed-out"


def test_an_error_is_quoted(fake_env, tmp_path):
    result = smoke(fake_env, tmp_path, "undefined-symbol")
    assert result.status == "failed"
    assert any("undefined symbol" in e for f in result.findings for e in f.evidence)


def test_no_vllm_in_the_target_is_not_run(tmp_path):
    ctx = dataclasses.replace(live_context({"python": sys.executable}), nvml=ReplayNvml({"snapshot": H100}))
    ctx = dataclasses.replace(ctx, env=dict(ctx.env, XDG_CACHE_HOME=str(tmp_path / "cache")))
    result = run_smoke(ctx, SmokeOptions(dummy=True, log_dir=str(tmp_path)))
    assert result.status == "not-run" and [f.code for f in result.findings] == ["vllm-not-installed"]
    assert result.findings[0].fix == ("envdoctor fix --plan",)


def test_a_model_that_cannot_fit_is_not_started(fake_env, tmp_path):
    result = smoke(fake_env, tmp_path, "ok", snapshot=LAPTOP, model="Qwen/Qwen2.5-7B-Instruct")
    assert result.status == "not-run" and "model-does-not-fit" in [f.code for f in result.findings]
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".log")]  # nothing was launched


@gpu_less_host
def test_cli_on_this_machine_without_a_gpu(capsys, fake_env):
    with pytest.raises(SystemExit) as exit_info:
        main(["run-smoke", "--dummy", "--json", "--python", fake_env])
    doc = json.loads(capsys.readouterr().out)
    assert exit_info.value.code == 2 and doc["status"] == "not-run"
    assert "no-nvidia-gpu" in [f["code"] for f in doc["findings"]]


@pytest.mark.parametrize("args", [["--max-tokens", "-3"], ["--max-tokens", "999999"], ["--timeout", "0"],
                                  ["--python", "/no/such/python"]])
def test_bad_arguments_are_usage_errors(capsys, args):
    with pytest.raises(SystemExit) as exit_info:
        main(["run-smoke"] + args)
    assert exit_info.value.code == 4 and "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("mode, code", [
    ("undefined-symbol", "vllm-torch-mismatch"),
    ("missing-module", "missing-requirements"),
    ("oom", "cuda-out-of-memory"),
    ("kv-too-small", "kv-cache-too-small-for-context"),
    ("cuda-init", "torch-cuda-init-failed"),
    ("no-kernel-image", "torch-arch-missing-for-gpu"),
    ("bf16", "bf16-unsupported"),
    ("download-error", "hf-endpoint-unreachable"),
])
def test_failures_are_classified_with_the_codes_check_and_explain_use(fake_env, tmp_path, mode, code):
    result = smoke(fake_env, tmp_path, mode)
    assert result.status == "failed"
    assert result.findings and result.findings[0].code == code, [f.code for f in result.findings]


def test_a_stalled_model_download_is_a_network_finding(fake_env, tmp_path):
    result = smoke(fake_env, tmp_path, "download-stall", stall=2.0, timeout=60)
    assert result.status == "stall"
    codes = [f.code for f in result.findings]
    assert codes == ["download-stalled", "smoke-stalled"]
    assert "42 %" in result.findings[0].title and "1.30G of 3.09G" in result.findings[0].title


FIXTURE = os.path.join(HERE, "fixtures", "smoke", "h100-qwen2-1.5b-dummy")


def _saved_log(path):
    """A run-smoke log file back into (seconds, line) pairs."""
    import re

    out = []
    for line in open(path, encoding="utf-8"):
        m = re.match(r"\[\s*([\d.]+)\] (.*)$", line.rstrip("\n"))
        if m:
            out.append((float(m.group(1)), m.group(2)))
    return out


def test_the_parser_reads_the_real_h100_run_as_envdoctor_reported_it():
    from envdoctor.smoke.parse import parse_lines, phases

    doc = json.load(open(FIXTURE + ".json"))
    out = parse_lines(_saved_log(FIXTURE + ".log"))
    assert phases(out) == doc["phases"]
    assert out.vllm == doc["vllm_log"]
    assert out.vllm["kv_cache_tokens"] == 1323760 and out.vllm["kv_cache_gib"] == 35.35
    assert out.markers["generated"]["token_ids"] == doc["token_ids"] and len(doc["token_ids"]) == 32
    assert doc["ok"] and doc["versions"]["vllm"] == "0.26.0" and doc["gpu"] == "NVIDIA H100 80GB HBM3"
    assert doc["spec"]["llm_kwargs"]["load_format"] == "dummy"


def test_the_fit_calculator_agrees_with_the_real_kv_cache_within_two_percent():
    from envdoctor.fit import calc as fit
    from envdoctor.compat.tables import Matrices
    from envdoctor.fit.model_config import from_catalog

    doc = json.load(open(FIXTURE + ".json"))
    kwargs = doc["spec"]["llm_kwargs"]
    shape = from_catalog(Matrices(), "Qwen/Qwen2-1.5B-Instruct")
    predicted = fit.predict_available_kv(shape, 81559 * fit.MiB, kwargs["gpu_memory_utilization"],
                                         max_num_seqs=kwargs["max_num_seqs"], max_num_batched_tokens=16384)
    measured = doc["vllm_log"]["kv_cache_gib"] * fit.GiB
    assert abs(predicted - measured) / measured < 0.02
    assert abs(fit.kv_tokens(predicted, shape) - doc["vllm_log"]["kv_cache_tokens"]) / 1323760 < 0.02


def test_an_unknown_failure_quotes_the_last_meaningful_lines(fake_env, tmp_path):
    result = smoke(fake_env, tmp_path, "weird")
    finding = result.findings[0]
    assert finding.code == "smoke-failed" and "engine init" in finding.title
    assert finding.evidence[0] == "RuntimeError: quantum flux capacitor misaligned"
    assert any("EngineCore encountered a fatal error." in e for e in finding.evidence)


def test_the_overall_timeout_is_kept_within_two_seconds_and_leaves_nothing(fake_env, tmp_path):
    start = time.monotonic()
    result = smoke(fake_env, tmp_path, "noisy-hang", stall=60, timeout=3)
    took = time.monotonic() - start
    assert result.status == "timeout"
    # the quick check before the child is not part of the child's timeout: bound it generously
    assert took < 3 + 2 + 3
    pid = json.loads(next(l for l in open(result.log_path) if '"phase": "start"' in l).split("@@envdoctor ")[1])["pid"]
    time.sleep(0.2)
    assert not _alive(pid)


@pytest.mark.parametrize("model, words", [("nobody/no-such-model", "not in the Hugging Face cache"),
                                          ("/", "has no config.json")])
def test_a_model_that_is_nowhere_is_not_run(fake_env, tmp_path, model, words):
    result = smoke(fake_env, tmp_path, "ok", model=model)
    assert result.status == "not-run" and result.findings[0].code == "model-not-found"
    assert words in result.findings[0].title or any(words in n for n in result.findings[0].notes)
