"""Time `envdoctor fix --plan --format json` (target <= 0.3 s) for the seed case (vLLM 0.5.3 on the WSL2
RTX 3050 laptop, from its saved report) next to `uv pip install --dry-run --offline` of the same pins,
where uv is installed (it resolves from its cache only; with an empty cache it fails fast, which is
printed too). Usage: python bench/plan_speed.py [--runs N] [--vllm 0.5.3]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = os.path.join(HERE, "tests", "fixtures", "machines", "wsl2-rtx3050-laptop")


def timed(argv, env):
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
    return time.perf_counter() - start, done


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--vllm", default="0.5.3")
    args = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    envdoctor = [sys.executable, "-m", "envdoctor"]
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "seed.json")
        _, done = timed(envdoctor + ["check", "--json", "--replay", SEED], env)
        with open(report, "w", encoding="utf-8") as fh:
            fh.write(done.stdout)
        plan_argv = envdoctor + ["fix", "--plan", "--format", "json", "--from-json", report, "--vllm", args.vllm]
        timed(plan_argv, env)  # warm-up: file cache, .pyc
        times, plan = [], None
        for _ in range(args.runs):
            t, done = timed(plan_argv, env)
            times.append(t)
            plan = json.loads(done.stdout)
        med = statistics.median(times)
        print(f"{'envdoctor fix --plan --format json':44} median {med:.3f} s  (min {min(times):.3f}, "
              f"max {max(times):.3f}, n={len(times)})  target <= 0.3 s: {'met' if med <= 0.3 else 'NOT met'}")
        s = plan["stack"]
        pins = [f"vllm=={s['vllm']}", f"torch=={s['torch']}"] + s["companions"]
        uv = shutil.which("uv")
        if uv is None:
            print("uv is not installed here: `uv pip install --dry-run --offline` not measured "
                  f"(pins: {' '.join(pins)})")
            return
        venv = os.path.join(tmp, "venv")
        subprocess.run([uv, "venv", "--offline", "--python", sys.executable, venv], capture_output=True, timeout=120)
        uv_argv = [uv, "pip", "install", "--dry-run", "--offline", "--python", os.path.join(venv, "bin", "python"),
                   "--extra-index-url", s["torch_index_url"] or "", *pins]
        uv_times, last = [], None
        for _ in range(args.runs):
            t, last = timed(uv_argv, env)
            uv_times.append(t)
        uv_med = statistics.median(uv_times)
        status = "resolved" if last.returncode == 0 else f"failed (exit {last.returncode}: cache lacks the pins?)"
        print(f"{'uv pip install --dry-run --offline':44} median {uv_med:.3f} s  ({status})")
        print(f"envdoctor / uv = {med / uv_med:.2f}x")


if __name__ == "__main__":
    main()
