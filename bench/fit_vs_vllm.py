"""Compare envdoctor's fit prediction with what vLLM logs at start-up, on a real GPU.

Run vLLM (any script or `vllm serve`) with the settings you want checked and capture its output,
or let this script run it; it reads "Available KV cache memory" and "GPU KV cache size" (and,
with VLLM_LOGGING_LEVEL=DEBUG, vLLM's own breakdown) and prints predicted vs measured.

    python bench/fit_vs_vllm.py --model DIR_OR_ID --util 0.5 [--max-num-seqs N]
        [--max-num-batched-tokens N] [--total-mib MIB] (--log FILE | -- COMMAND ...)

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

from envdoctor import fit  # noqa: E402
from envdoctor.matrices import Matrices  # noqa: E402
from envdoctor.modelcfg import absolute, find_model  # noqa: E402
from envdoctor.system.fs import RootedFS  # noqa: E402


def total_from_nvml() -> int:
    from envdoctor.context import live_context
    from envdoctor.model import Facts
    from envdoctor.probes import nvidia

    driver = nvidia.probe(live_context({}), Facts())
    return driver.gpus[0].memory_total_mib * fit.MiB


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--util", type=float, required=True, help="the gpu_memory_utilization vLLM ran with")
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
    est = fit.estimate(shape, fit.Gpu("measured", total), fit.Settings(
        gpu_memory_utilization=args.util, max_num_seqs=seqs, max_num_batched_tokens=tokens, enforce_eager=True))
    measured = seen["available_kv_gib"] * fit.GiB
    print(f"model {shape.name}; total {total / fit.GiB:.2f} GiB ({total_from}); util {args.util}; "
          f"{tokens} batched tokens, {seqs} sequences")
    rows = [("available KV cache", est.kv_available / fit.GiB, seen["available_kv_gib"])]
    if "kv_tokens" in seen:
        rows.append(("KV cache tokens", est.kv_tokens, seen["kv_tokens"]))
    rows.append(("tokens from vLLM's available", fit.kv_tokens(int(measured), shape), seen.get("kv_tokens")))
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
