"""envdoctor's KV-cache prediction against vLLM's own log, for real runs on an H200
(tests/fixtures/fit/README.md): three shapes (dense multi-head attention, grouped-query attention,
a sliding window), each within 3 % of the "GPU KV cache size" vLLM logged. The prediction sees only
the config.json, the GPU's total memory and the settings vLLM resolved; the log is the judge."""
from __future__ import annotations

import importlib.util
import json
import os

import pytest

from envdoctor.fit import calc as fit
from envdoctor.fit.model_config import shape_from_config

HERE = os.path.join(os.path.dirname(__file__), "fixtures", "fit")
# The runner that made the runs knows each run's config.json (a "-awq" / "-fp8" / "-graphs" run is its
# base config with a quantization_config, or without enforce_eager).
_spec = importlib.util.spec_from_file_location(
    "fit_shapes_gpu", os.path.join(os.path.dirname(os.path.dirname(__file__)), "bench", "fit_shapes_gpu.py"))
RUNNER = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(RUNNER)
RUNS = json.load(open(os.path.join(HERE, "h200", "runs.json"), encoding="utf-8"))
BOUND = 0.03


def _shape(name):
    return shape_from_config(RUNNER.config_for(name), name, name)


def _log(name):
    with open(os.path.join(HERE, "h200", name + ".log"), encoding="utf-8") as fh:
        return fit.vllm_memory_log(fh.read())


def _predict(run):
    cfg = run["config"]
    return fit.predict(_shape(run["name"]), run["gpu"]["total"], cfg["gpu_memory_utilization"],
                       max_model_len=cfg["max_model_len"], max_num_seqs=cfg["max_num_seqs"],
                       max_num_batched_tokens=cfg["max_num_batched_tokens"])


def test_the_runs_cover_the_three_shapes_and_each_generated():
    shapes = {r["name"]: _shape(r["name"]) for r in RUNS}
    assert all(r["generated"] and r["rc"] == 0 and r["config"]["vllm"] == "0.26.0" for r in RUNS)
    mha = [s for s in shapes.values() if s.kv_heads == s.heads]
    gqa = [s for s in shapes.values() if s.kv_heads < s.heads and not s.sliding_window]
    window = [s for s in shapes.values() if s.sliding_window]
    quantized = {s.quant_method for s in shapes.values() if s.quantized}
    assert mha and gqa and window and quantized == {"awq", "fp8"}
    assert window[0].sliding_window < max(r["config"]["max_model_len"] for r in RUNS)  # the window mattered


@pytest.mark.parametrize("run", RUNS, ids=[r["name"] for r in RUNS])
def test_predicted_kv_tokens_within_3_percent_of_vllms_log(run):
    logged = _log(run["name"])
    est = _predict(run)
    error = (est.kv_tokens - logged["kv_tokens"]) / logged["kv_tokens"]
    assert abs(error) <= BOUND, f"{run['name']}: predicted {est.kv_tokens:,}, vLLM logged {logged['kv_tokens']:,}"
    # The parts vLLM states (DEBUG) agree too: the request, and the weights the shape implies (exact
    # for 16-bit weights; from the quantization layout, without the checkpoint's real bytes, within 3 %).
    assert abs(est.requested / fit.GiB - logged["requested_gib"]) < 0.01
    weights_bound = BOUND if _shape(run["name"]).quantized else 0.01
    assert abs(est.weights / fit.GiB - logged["weights_gib"]) / logged["weights_gib"] < weights_bound


@pytest.mark.parametrize("run", RUNS, ids=[r["name"] for r in RUNS])
def test_token_formula_reproduces_vllms_count_from_its_own_memory_figure(run):
    # vLLM's "Available KV cache memory" is rounded to 0.01 GiB, so this is exact to about 0.01 %.
    logged = _log(run["name"])
    cfg = run["config"]
    tokens = fit.kv_tokens(int(logged["available_kv_gib"] * fit.GiB), _shape(run["name"]),
                           context=cfg["max_model_len"], in_flight_tokens=cfg["max_in_flight_tokens"])
    assert abs(tokens - logged["kv_tokens"]) / logged["kv_tokens"] < 0.001


def test_cuda_graphs_fit_in_the_headroom_fit_leaves_for_them():
    [run] = [r for r in RUNS if not r["llm_kwargs"]["enforce_eager"]]
    graphs = _log(run["name"])["graphs_gib"]  # "Graph capturing finished in 5 secs, took 0.99 GiB"
    assert 0 < graphs * fit.GiB <= fit.CUDA_GRAPH_BYTES


def test_the_logs_confirm_vllms_default_utilization():
    assert {r["config"]["gpu_memory_utilization"] for r in RUNS} == {fit.DEFAULT_UTILIZATION}
