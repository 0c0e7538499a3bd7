"""Time `envdoctor check --json --quick`, `envdoctor check --json` and PyTorch's
`python -m torch.utils.collect_env`, interleaved in one run, and print medians and ratios.

Targets (issue 3): --quick <= 0.35 s and >= 5x faster than collect_env; the full check no
slower than collect_env. collect_env reads no network, so the like-for-like full check is
`--offline`; the network area (a budget of up to 4 s, issue 5) is timed on its own line.
Usage: python bench/check_speed.py [--runs N] [--python PATH]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(argv, env) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, timeout=120)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--python", default=sys.executable, help="interpreter with torch, for collect_env")
    args = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    envdoctor = [sys.executable, "-m", "envdoctor", "check", "--json", "--python", args.python]
    commands = {
        "envdoctor check --json --quick": envdoctor + ["--quick"],
        "envdoctor check --json --offline": envdoctor + ["--offline"],
        "envdoctor check --json (with network)": envdoctor,
    }
    has_torch = subprocess.run([args.python, "-c", "import importlib.util,sys; "
                                "sys.exit(importlib.util.find_spec('torch') is None)"]).returncode == 0
    if has_torch:
        commands["python -m torch.utils.collect_env"] = [args.python, "-m", "torch.utils.collect_env"]
    times = {name: [] for name in commands}
    for argv in commands.values():  # warm-up: file cache, .pyc
        timed(argv, env)
    for _ in range(args.runs):
        for name, argv in commands.items():
            times[name].append(timed(argv, env))
    med = {name: statistics.median(t) for name, t in times.items()}
    for name, t in times.items():
        print(f"{name:40} median {med[name]:.3f} s  (min {min(t):.3f}, max {max(t):.3f}, n={len(t)})")
    if has_torch:
        base = med["python -m torch.utils.collect_env"]
        quick, full = med["envdoctor check --json --quick"], med["envdoctor check --json --offline"]
        print(f"collect_env / quick = {base / quick:.1f}x faster   (target >= 5x; quick target <= 0.35 s)")
        print(f"full (--offline) / collect_env = {full / base:.2f}   (target <= 1.0)")
    else:
        print(f"no torch in {args.python}: collect_env not measured (pip install torch==2.13.0)")


if __name__ == "__main__":
    main()
