"""envdoctor run-smoke against a bare script doing the same vLLM generation, side by side
in one run: whole-process wall times, medians and the overhead ratio (target: <= 5 % extra).

    python bench/smoke_overhead.py --bare path/to/smoke_dummy.py [--runs N] [--out DIR]
        [-- extra run-smoke options, e.g. --gpu-memory-utilization 0.5 --enforce-eager]

The bare script is shared/device/smoke_dummy.py (Qwen2-1.5B-Instruct's shape, dummy weights,
max_model_len 2048, gpu_memory_utilization 0.5, eager, TRITON_ATTN); pass run-smoke the same
settings after `--`. Warm-up runs of both come first (vLLM caches compiled graphs and Triton
kernels on disk: whichever ran first would pay for both), then the two alternate.
Needs a GPU and vLLM in the interpreter running this script.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(argv, env, out_path=None):
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=1800)
    took = time.perf_counter() - start
    if out_path:
        with open(out_path, "wb") as fh:
            fh.write(proc.stdout)
    return took, proc.returncode, proc.stdout.decode("utf-8", "replace")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bare", required=True)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=1, help="unmeasured runs of each first: file, Triton and "
                    "torch.compile caches warm up")
    ap.add_argument("--out", default=".")
    ap.add_argument("extra", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    extra = [a for a in args.extra if a != "--"]
    env = dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    smoke = [sys.executable, "-m", "envdoctor", "run-smoke", "--dummy", "--json", "--python", sys.executable,
             "--log-dir", os.path.join(args.out, "logs")] + extra
    bare = [sys.executable, args.bare, "--max-tokens", "32"]
    times = {"envdoctor run-smoke": [], "bare script": []}
    for i in range(args.warmup):
        for name, argv in (("bare script", bare), ("envdoctor run-smoke", smoke)):
            t, code, _ = timed(argv, env)
            print(f"warm-up {i}: {name} {t:.2f} s (exit {code})", flush=True)
    for i in range(args.runs):
        t, code, _ = timed(smoke, env, os.path.join(args.out, f"smoke-{i}.json"))
        times["envdoctor run-smoke"].append(t)
        print(f"run {i}: envdoctor run-smoke {t:.2f} s (exit {code})", flush=True)
        t, code, text = timed(bare, env, os.path.join(args.out, f"bare-{i}.log"))
        times["bare script"].append(t)
        print(f"run {i}: bare script        {t:.2f} s (exit {code})", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in med.items():
        print(f"{k:20} median {v:.2f} s over {len(times[k])} run(s)")
    print(f"overhead: run-smoke / bare = {med['envdoctor run-smoke'] / med['bare script']:.3f} (target <= 1.05)")
    with open(os.path.join(args.out, "smoke-0.json")) as fh:
        doc = json.load(fh)
    print("run-smoke phases:", json.dumps(doc.get("phases")), "tok/s:", doc.get("tokens_per_s"),
          "kv:", json.dumps(doc.get("vllm_log")))


if __name__ == "__main__":
    main()
