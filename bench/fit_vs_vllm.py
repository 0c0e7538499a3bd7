"""Compare envdoctor's fit prediction with what vLLM logs at start-up, on a real GPU.

Run vLLM (any script or `vllm serve`) with the settings you want checked and capture its output,
or let this script run it; it reads "Available KV cache memory" and "GPU KV cache size" (and,
with VLLM_LOGGING_LEVEL=DEBUG, vLLM's own breakdown) and prints predicted vs measured.

    python bench/fit_vs_vllm.py --model DIR_OR_ID --util 0.5 [--max-num-seqs N] [--max-model-len N]
        [--max-num-batched-tokens N] [--total-mib MIB] (--log FILE | -- COMMAND ...)
    python bench/fit_vs_vllm.py --runs tests/fixtures/fit/h200     # the recorded runs, side by side

Without --max-num-seqs / --max-num-batched-tokens it assumes vLLM's LLM-class defaults for the
card's size (16384 tokens / 1024 sequences on >= 70 GiB cards, else 8192 / 256). The total
memory comes from vLLM's DEBUG "Requested memory" line when present, else --total-mib, else NVML.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)

from envdoctor.fit import calc as fit  # noqa: E402
from envdoctor.compat.tables import Matrices  # noqa: E402
from envdoctor.fit.model_config import absolute, find_model  # noqa: E402
from envdoctor.machine.fs import RootedFS  # noqa: E402


def total_from_nvml() -> int:
    from envdoctor.machine.context import live_context
    from envdoctor.core.results import Facts
    from envdoctor.probes import nvidia

    driver = nvidia.probe(live_context({}), Facts())
    return driver.gpus[0].memory_total_mib * fit.MiB


def recorded(runs_dir: str) -> int:
    """Predicted vs logged for runs written by bench/fit_shapes_gpu.py."""
    import json

    from envdoctor.fit.model_config import shape_from_config

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from fit_shapes_gpu import config_for  # what each run's config.json was

    with open(os.path.join(runs_dir, "runs.json"), encoding="utf-8") as fh:
        runs = json.load(fh)
    print(f"{'shape':28} {'predicted tokens':>17} {'vLLM logged':>12} {'error':>8}   "
          f"{'pred. KV GiB':>12} {'vLLM KV GiB':>11}")
    worst = 0.0
    for run in runs:
        shape = shape_from_config(config_for(run["name"]), run["name"], run["name"])
        with open(os.path.join(runs_dir, run["name"] + ".log"), encoding="utf-8", errors="replace") as fh:
            seen = fit.vllm_memory_log(fh.read())
        if not run.get("generated") or "kv_tokens" not in seen:
            print(f"{run['name']:28} vLLM did not start or generate: no comparison")
            return 3
        cfg = run["config"]
        est = fit.predict(shape, run["gpu"]["total"], cfg["gpu_memory_utilization"], max_model_len=cfg["max_model_len"],
                          max_num_seqs=cfg["max_num_seqs"], max_num_batched_tokens=cfg["max_num_batched_tokens"])
        error = (est.kv_tokens - seen["kv_tokens"]) / seen["kv_tokens"]
        worst = max(worst, abs(error))
        print(f"{run['name']:28} {est.kv_tokens:>17,} {seen['kv_tokens']:>12,} {error * 100:>+7.2f}%   "
              f"{est.kv_available / fit.GiB:>12.2f} {seen['available_kv_gib']:>11.2f}")
    print(f"worst error {worst * 100:.2f} %")
    return 0


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--runs":
        return recorded(sys.argv[2])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--util", type=float, required=True, help="the gpu_memory_utilization vLLM ran with")
    ap.add_argument("--max-model-len", type=int, help="the max_model_len vLLM ran with (default: the model's)")
    ap.add_argument("--max-num-seqs", type=int)
    ap.add_argument("--max-num-batched-tokens", type=int)
    ap.add_argument("--total-mib", type=int)
    ap.add_argument("--log", help="a captured vLLM log")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND to run and capture")
    args = ap.parse_args()
    if args.log:
        with open(args.log, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    elif args.command:
        cmd = args.command[1:] if args.command[0] == "--" else args.command
        env = dict(os.environ, VLLM_LOGGING_LEVEL=os.environ.get("VLLM_LOGGING_LEVEL", "DEBUG"))
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                              timeout=args.timeout)
        text = done.stdout
    else:
        ap.error("give --log FILE or -- COMMAND")
    seen = fit.vllm_memory_log(text)
    if "available_kv_gib" not in seen:
        print("vLLM's log has no 'Available KV cache memory' line", file=sys.stderr)
        return 3
    shape = find_model(RootedFS("/"), os.environ, Matrices(), absolute(args.model))
    if "requested_gib" in seen:
        total = int(seen["requested_gib"] / args.util * fit.GiB)
        total_from = "vLLM's Requested memory line"
    elif args.total_mib:
        total, total_from = args.total_mib * fit.MiB, "--total-mib"
    else:
        total, total_from = total_from_nvml(), "NVML"
    big = total >= fit.BIG_GPU_BYTES
    seqs = args.max_num_seqs or (1024 if big else 256)
    tokens = args.max_num_batched_tokens or (16384 if big else 8192)
    est = fit.predict(shape, total, args.util, max_model_len=args.max_model_len, max_num_seqs=seqs,
                      max_num_batched_tokens=tokens)
    measured = seen["available_kv_gib"] * fit.GiB
    print(f"model {shape.name}; total {total / fit.GiB:.2f} GiB ({total_from}); util {args.util}; "
          f"{tokens} batched tokens, {seqs} sequences")
    rows = [("available KV cache", est.kv_available / fit.GiB, seen["available_kv_gib"])]
    if "kv_tokens" in seen:
        rows.append(("KV cache tokens", est.kv_tokens, seen["kv_tokens"]))
    rows.append(("tokens from vLLM's available", fit.kv_tokens(int(measured), shape, context=est.context,
                                                                in_flight_tokens=2 * tokens), seen.get("kv_tokens")))
    for key, mine in (("weights_gib", est.weights), ("activation_gib", est.activation),
                      ("non_torch_gib", est.non_torch), ("non_kv_gib", est.non_kv)):
        if key in seen:
            rows.append((key.replace("_gib", "") + " (GiB)", mine / fit.GiB, seen[key]))
    for name, predicted, actual in rows:
        diff = f"{(predicted - actual) / actual * 100:+.1f} %" if actual else "?"
        print(f"  {name:30} predicted {predicted:>14,.2f}   vLLM {actual if actual is not None else '?':>14}   {diff}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
