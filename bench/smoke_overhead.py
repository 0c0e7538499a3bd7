"""envdoctor run-smoke against the same vLLM generation run bare, side by side in one run:
whole-process wall times, medians and the overhead ratio (target: <= 5 % extra).

    python bench/smoke_overhead.py [--runs N] [--warmup N] [--out DIR] [-- run-smoke options]

The bare run is envdoctor's own child script (envdoctor/smoke/child.py: plain vLLM, no
envdoctor import) fed the exact spec run-smoke used (its JSON's `spec`), started directly by
the same interpreter: identical LLM(...) arguments, prompt and token counts, so the ratio is
what envdoctor adds (the quick check, sizing, the watchdog, the log). Warm-up runs of both come
first: vLLM caches kernels on disk and whichever ran first would pay for both. Needs a GPU and
vLLM in the interpreter running this script.
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
OK = (0,)  # run-smoke's "the generation ran" (docs/exit-codes.md); anything else times a failure
CHILD = os.path.join(HERE, "envdoctor", "smoke", "child.py")


def timed(argv, env, stdin_text=None, out_path=None):
    start = time.perf_counter()
    proc = subprocess.run(argv, input=(stdin_text or "").encode(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, env=env, timeout=1800)
    took = time.perf_counter() - start
    if out_path:
        with open(out_path, "wb") as fh:
            fh.write(proc.stdout)
    text = proc.stdout.decode("utf-8", "replace")
    if proc.returncode not in OK:
        sys.exit(f"bench: FAILED: {' '.join(argv[:6])} ... exited {proc.returncode}: a failed generation "
                 f"measures nothing\n{text[-800:]}")
    return took, proc.returncode, text


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--out", default=".")
    ap.add_argument("extra", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    extra = [a for a in args.extra if a != "--"]
    env = dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    smoke = [sys.executable, "-m", "envdoctor", "run-smoke", "--dummy", "--json", "--python", sys.executable,
             "--log-dir", os.path.join(args.out, "logs")] + extra
    # The first run-smoke is a warm-up and tells us the exact spec to run bare.
    t, code, text = timed(smoke, env, out_path=os.path.join(args.out, "smoke-warmup.json"))
    try:
        doc = json.loads(text)
        spec = doc["spec"]
    except (ValueError, KeyError) as exc:
        sys.exit(f"bench: FAILED: run-smoke --json printed no JSON document with a spec ({exc})")
    print(f"warm-up: envdoctor run-smoke {t:.2f} s (exit {code}); spec: {json.dumps(spec['llm_kwargs'])}", flush=True)
    with open(CHILD, encoding="utf-8") as fh:
        bare = [sys.executable, "-c", fh.read()]  # as run-smoke starts it
    bare_env = dict(env, **spec.get("env", {}))
    for i in range(args.warmup):
        t, code, _ = timed(bare, bare_env, json.dumps(spec))
        print(f"warm-up {i}: bare child {t:.2f} s (exit {code})", flush=True)
    times = {"envdoctor run-smoke": [], "bare generation": []}
    for i in range(args.runs):
        t, code, _ = timed(smoke, env, out_path=os.path.join(args.out, f"smoke-{i}.json"))
        times["envdoctor run-smoke"].append(t)
        print(f"run {i}: envdoctor run-smoke {t:.2f} s (exit {code})", flush=True)
        t, code, _ = timed(bare, bare_env, json.dumps(spec), os.path.join(args.out, f"bare-{i}.log"))
        times["bare generation"].append(t)
        print(f"run {i}: bare generation    {t:.2f} s (exit {code})", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in med.items():
        print(f"{k:20} median {v:.2f} s over {len(times[k])} run(s)")
    ratio = med["envdoctor run-smoke"] / med["bare generation"]
    print(f"overhead: run-smoke / bare = {ratio:.3f} ({(ratio - 1) * 100:+.1f} %; target <= +5 %)")
    with open(os.path.join(args.out, "smoke-0.json")) as fh:
        doc = json.load(fh)
    print("run-smoke phases:", json.dumps(doc.get("phases")), "tok/s:", doc.get("tokens_per_s"),
          "kv:", json.dumps(doc.get("vllm_log")))


if __name__ == "__main__":
    main()
