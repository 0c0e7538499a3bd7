"""Start vLLM once per model shape on a real GPU and keep what it logs about its KV cache.

Each shape is a config.json in tests/fixtures/fit/configs/ (copied from public sources, see the
README there). For each, a child Python builds `vllm.LLM` on a folder holding only that config
with dummy weights (no hub, no tokenizer), generates four tokens to prove the engine works, and
exits. Its whole output (VLLM_LOGGING_LEVEL=DEBUG) goes to OUT/NAME.log; OUT/runs.json records
the GPU's memory as torch saw it before start, the settings vLLM resolved, and whether it
generated. tests/test_fit_gpu_runs.py then compares envdoctor's prediction with those logs.

    python3 bench/fit_shapes_gpu.py OUT [--timeout 240] [NAME ...]
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = os.path.join(HERE, "tests", "fixtures", "fit", "configs")

# What each run asks of vLLM beyond its defaults: eager mode (no torch.compile / CUDA-graph
# capture, which would only cost device time; neither changes the KV-cache sizing) unless the
# name says "graphs", and a context chosen per shape (the sliding-window model runs past its
# 4,096-token window). A "-awq" / "-fp8" name is its base config with a quantization_config as
# such uploads write it (dummy weights are created in that layout).
MAX_MODEL_LEN = {"llama-2-7b-chat-hf": 4096, "llama-3.1-8b-instruct": 16384, "mistral-7b-instruct-v0.1": 32768,
                 "llama-3.1-8b-instruct-awq": 16384, "llama-3.1-8b-instruct-fp8": 16384,
                 "llama-3.1-8b-instruct-graphs": 16384}
QUANTIZATION = {
    "awq": {"quant_method": "awq", "bits": 4, "group_size": 128, "version": "gemm", "zero_point": True},
    "fp8": {"quant_method": "fp8", "activation_scheme": "dynamic"},
}

CHILD = r"""
import json, sys, time
import torch
free, total = torch.cuda.mem_get_info()
print("ENVDOCTOR_GPU " + json.dumps({"free": free, "total": total, "name": torch.cuda.get_device_name(0)}), flush=True)
from vllm import LLM, SamplingParams
import vllm
kwargs = json.loads(sys.argv[1])
llm = LLM(**kwargs)
seen = {"vllm": vllm.__version__, "torch": torch.__version__}
cfg = getattr(llm.llm_engine, "vllm_config", None)
if cfg is not None:
    sc, cc = cfg.scheduler_config, cfg.cache_config
    seen.update(max_num_batched_tokens=sc.max_num_batched_tokens, max_num_seqs=sc.max_num_seqs,
                async_scheduling=getattr(sc, "async_scheduling", None),
                gpu_memory_utilization=cc.gpu_memory_utilization, block_size=cc.block_size,
                max_model_len=cfg.model_config.max_model_len, dtype=str(cfg.model_config.dtype),
                max_in_flight_tokens=getattr(cfg, "max_in_flight_tokens", None))
print("ENVDOCTOR_CONFIG " + json.dumps(seen), flush=True)
out = llm.generate([{"prompt_token_ids": [1, 2, 3, 4, 5, 6, 7, 8]}], SamplingParams(max_tokens=4, ignore_eos=True),
                   use_tqdm=False)
print("ENVDOCTOR_TOKENS " + json.dumps(list(out[0].outputs[0].token_ids)), flush=True)
try:
    llm.llm_engine.engine_core.shutdown()
except Exception:
    pass
"""


def config_for(name: str) -> dict:
    base, _, variant = name.rpartition("-")
    if variant in QUANTIZATION or variant == "graphs":
        config = config_for(base)
        if variant in QUANTIZATION:
            config["quantization_config"] = QUANTIZATION[variant]
            if variant == "awq":
                config["torch_dtype"] = "float16"
        return config
    with open(os.path.join(CONFIGS, name + ".json"), encoding="utf-8") as fh:
        return json.load(fh)


def run_one(name: str, out_dir: str, timeout: float) -> dict:
    config = config_for(name)
    model_dir = tempfile.mkdtemp(prefix=name + "-")
    with open(os.path.join(model_dir, "config.json"), "w", encoding="utf-8") as fh:
        json.dump(config, fh)
    with open(os.path.join(model_dir, "generation_config.json"), "w", encoding="utf-8") as fh:
        json.dump({"bos_token_id": config.get("bos_token_id"), "eos_token_id": config.get("eos_token_id")}, fh)
    kwargs = {"model": model_dir, "load_format": "dummy", "skip_tokenizer_init": True,
              "enforce_eager": not name.endswith("-graphs"), "max_model_len": MAX_MODEL_LEN[name], "seed": 0}
    env = dict(os.environ, VLLM_LOGGING_LEVEL="DEBUG", PYTHONUNBUFFERED="1")
    log_path = os.path.join(out_dir, name + ".log")
    started = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as log:
        child = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(kwargs)], stdout=log,
                                 stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            rc = child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)  # the engine core is a grandchild: kill the group
            child.wait()
            rc = "timeout"
    shutil.rmtree(model_dir, ignore_errors=True)
    record = {"name": name, "llm_kwargs": {k: v for k, v in kwargs.items() if k != "model"}, "rc": rc,
              "seconds": round(time.monotonic() - started, 1)}
    with open(log_path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            for key in ("ENVDOCTOR_GPU", "ENVDOCTOR_CONFIG", "ENVDOCTOR_TOKENS"):
                if line.startswith(key + " "):
                    record[key[len("ENVDOCTOR_"):].lower()] = json.loads(line[len(key) + 1:])
    record["generated"] = len(record.get("tokens") or []) == 4
    print(json.dumps(record), flush=True)
    return record


def main() -> int:
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    out_dir, names, timeout = args[0], [], 240.0
    rest = iter(args[1:])
    for arg in rest:
        if arg == "--timeout":
            timeout = float(next(rest))
        else:
            names.append(arg)
    os.makedirs(out_dir, exist_ok=True)
    names = names or ["llama-2-7b-chat-hf", "llama-3.1-8b-instruct", "mistral-7b-instruct-v0.1"]
    runs = [run_one(n, out_dir, timeout) for n in names]
    with open(os.path.join(out_dir, "runs.json"), "w", encoding="utf-8") as fh:
        json.dump(runs, fh, indent=2)
    return 0 if all(r["generated"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
