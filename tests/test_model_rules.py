"""`check --model`: the probe reads the config without the network; the rules size it against
the GPU's measured free memory and say which settings (or which quantized variant) work."""
from __future__ import annotations

import json

import pytest

from envdoctor.check.run import evaluate
from envdoctor.compat.tables import Matrices
from envdoctor.core.facts import DriverFacts, Gpu, ModelFacts, PlatformFacts
from envdoctor.core.results import Facts, ProbeResult
from envdoctor.machine.context import Context, Host
from envdoctor.machine.fs import RootedFS
from envdoctor.machine.runner import SubprocessRunner
from envdoctor.probes import llm_model as model_probe
from envdoctor.probes.engine import ProbeSkipped
from envdoctor.rules import ALL_RULES

MODEL_CODES = {"model-does-not-fit", "model-fits-with-settings", "kv-cache-too-small-for-context", "model-not-found",
               "model-no-gpu"}


def _facts(query, gpu_name="NVIDIA GeForce RTX 3050 Laptop GPU", total=4096, free=3379, cc="8.6", wsl=2):
    gpu = Gpu(0, gpu_name, cc, total, total - free, free)
    return Facts({
        "platform": ProbeResult("platform", "ok", facts=PlatformFacts("Linux", "x86_64", wsl=wsl)),
        "driver": ProbeResult("driver", "ok", facts=DriverFacts("nvml", "560.94", "12.6", "nvml", (gpu,))),
        "model": ProbeResult("model", "ok", facts=ModelFacts(query, hub_cache="/home/u/.cache/huggingface/hub")),
    })


def _model_findings(facts):
    findings, crashes = evaluate(facts, Matrices(), ALL_RULES)
    assert crashes == []
    return [f for f in findings if f.code in MODEL_CODES]


def test_seed_case_under_wsl_does_not_fit_and_names_a_quantized_variant():
    [finding] = _model_findings(_facts("Qwen/Qwen2-1.5B-Instruct"))
    assert finding.code == "model-does-not-fit" and finding.severity == "error"
    assert finding.fix and finding.fix[0].startswith("vllm serve Qwen/Qwen2-1.5B-Instruct-")
    assert "--gpu-memory-utilization 0." in finding.fix[0] and "--max-model-len" in finding.fix[0]
    assert any("3.30 GiB free" in e and "WSL" in e for e in finding.evidence)


def test_idle_4gb_card_gets_a_shorter_context():
    [finding] = _model_findings(_facts("Qwen/Qwen2-1.5B-Instruct", free=4000, wsl=None))
    assert finding.code == "kv-cache-too-small-for-context" and finding.severity == "warn"
    import re

    context = int(re.search(r"--max-model-len (\d+)", finding.fix[0]).group(1))
    assert 4096 <= context < 32768 and "--enforce-eager" in finding.fix[0]
    assert f"set max_model_len to {context:,}" in finding.title


def test_settings_only_finding_when_the_full_context_fits():
    # An 8 GB card with a compositor holding some: defaults ask for more than is free.
    [finding] = _model_findings(_facts("Qwen/Qwen2-1.5B-Instruct", gpu_name="NVIDIA GeForce RTX 4060 Laptop GPU",
                                       total=8188, free=6500, cc="8.9", wsl=None))
    assert finding.code == "model-fits-with-settings"
    assert "--max-model-len 32768" in finding.fix[0]


def test_a_roomy_card_has_nothing_to_say():
    assert _model_findings(_facts("Qwen/Qwen2-1.5B-Instruct", gpu_name="NVIDIA L4", total=23034, free=22800,
                                  cc="8.9", wsl=None)) == []


def test_unknown_model_says_what_to_pass():
    [finding] = _model_findings(_facts("Nobody/Nothing-1B"))
    assert finding.code == "model-not-found"
    assert "--local-dir" in finding.notes[0] and "/home/u/.cache/huggingface/hub" in finding.notes[0]


def test_no_gpu_is_not_a_pass():
    # N8: without a GPU the fit is unknown: say so, never a green line.
    facts = _facts("Qwen/Qwen2-1.5B-Instruct")
    facts.results["driver"] = ProbeResult("driver", "absent", error="no NVIDIA driver")
    [finding] = _model_findings(facts)
    assert finding.code == "model-no-gpu" and finding.severity == "warn"
    assert finding.title == "Cannot size Qwen/Qwen2-1.5B-Instruct: no GPU known"
    assert finding.fix == ("envdoctor fit Qwen/Qwen2-1.5B-Instruct --gpu NAME",)


def test_a_gpu_below_vllms_minimum_is_an_error_not_a_memory_question():
    facts = _facts("Qwen/Qwen2-1.5B-Instruct", gpu_name="NVIDIA GeForce GTX 1080", total=8192, free=8000, cc="6.1",
                   wsl=None)
    [finding] = _model_findings(facts)
    assert finding.code == "model-does-not-fit" and finding.severity == "error"
    assert "does not run on compute capability 6.1" in finding.title


def _ctx(root, options):
    return Context(runner=SubprocessRunner(), fs=RootedFS(str(root)), env={"HOME": "/home/u"}, nvml=None,
                   host=Host("Linux", "x86_64", "/usr/bin/python3"), options=options)


def test_probe_reads_the_cache_and_is_skipped_without_model(tmp_path):
    snap = tmp_path / "home/u/.cache/huggingface/hub/models--Qwen--Qwen2-1.5B-Instruct/snapshots/abc"
    snap.mkdir(parents=True)
    (snap / "config.json").write_text(json.dumps({
        "model_type": "qwen2", "hidden_size": 1536, "intermediate_size": 8960, "max_position_embeddings": 32768,
        "num_attention_heads": 12, "num_hidden_layers": 28, "num_key_value_heads": 2,
        "tie_word_embeddings": True, "torch_dtype": "bfloat16", "vocab_size": 151936}))
    found = model_probe.probe(_ctx(tmp_path, {"model": "Qwen/Qwen2-1.5B-Instruct"}), Facts())
    assert found.shape.layers == 28 and found.found_at.endswith("/snapshots/abc/config.json")
    with pytest.raises(ProbeSkipped):
        model_probe.probe(_ctx(tmp_path, {}), Facts())
    missing = model_probe.probe(_ctx(tmp_path, {"model": "Other/Model"}), Facts())
    assert missing.shape is None and missing.hub_cache == "/home/u/.cache/huggingface/hub"


def test_findings_suggest_run_smoke_with_the_settings_that_fit():
    # N31: the smoke test proves what fits (here the quantized variant), not the model that does not.
    [finding] = _model_findings(_facts("Qwen/Qwen2-1.5B-Instruct"))
    [prove] = [n for n in finding.notes if n.startswith("Prove it")]
    assert "envdoctor run-smoke --model Qwen/Qwen2-1.5B-Instruct-" in prove and "--max-model-len" in prove
    assert "--gpu-memory-utilization" in prove


def test_one_gpu_memory_utilization_per_report():
    # N37: the model's sizing and gpu-memory-in-use advise the same figure for the same card.
    import re

    from .conftest import check_machine

    report, _doc, _ctx = check_machine("wsl2-rtx3050-laptop", model="Qwen/Qwen2-1.5B-Instruct")
    figures = {float(m.group(1)) for f in report.findings for cmd in f.fix
               for m in [re.search(r"--gpu-memory-utilization (\d\.\d+)", cmd)] if m}
    codes = {f.code for f in report.findings}
    assert "gpu-memory-in-use" in codes and len(figures) == 1, figures
