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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _checked import run  # noqa: E402 - the bench's own helper, next to this file

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = os.path.join(HERE, "tests", "fixtures", "machines", "wsl2-rtx3050-laptop")


def timed(argv, env, codes=(0,), want_json=True):
    """Seconds and the finished process; the bench stops if the command did not succeed."""
    took, done = run(argv, env, codes, want_json)
    return took, done


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--vllm", default="0.5.3")
    args = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    envdoctor = [sys.executable, "-m", "envdoctor"]
    # `pip install .` compiles the bytecode; an editable install under PYTHONDONTWRITEBYTECODE never does
    run([sys.executable, "-m", "compileall", "-q", os.path.join(HERE, "envdoctor")], env)
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "seed.json")
        _, done = timed(envdoctor + ["check", "--json", "--replay", SEED], env, codes=(0, 1, 2))
        with open(report, "wb") as fh:
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
        uv_times = []
        for _ in range(args.runs):  # a uv that fails (its cache lacks the pins) stops the bench: no ratio
            t, _done = timed(uv_argv, env, want_json=False)
            uv_times.append(t)
        uv_med = statistics.median(uv_times)
        print(f"{'uv pip install --dry-run --offline':44} median {uv_med:.3f} s  (resolved)")
        print(f"envdoctor / uv = {med / uv_med:.2f}x")


if __name__ == "__main__":
    main()
