"""Time envdoctor's start-up and checks against PyTorch's `python -m torch.utils.collect_env`,
interleaved in one run; print medians and ratios. Every timed command must succeed (its
exit code in docs/exit-codes.md's set for it, valid JSON where asked), or the bench fails.

Targets (issue 13): `check --quick` <= 0.35 s and >= 10x faster than collect_env, paired
(each run times both back to back; the ratio is the median of the pairs); a second full
check with torch (its cached answer) < 1 s; --version and --help import no more than they
need. collect_env reads no network, so the like-for-like full check is `--offline`; the
network area is timed on its own line.
Usage: python bench/check_speed.py [--runs N] [--python PATH-WITH-TORCH]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _checked import run  # noqa: E402 - the bench's own helper, next to this file

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHECK_CODES = (0, 1, 2)  # no warnings, warnings, errors; 3 (could not check) and 4 (usage) fail the bench


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--python", default=sys.executable, help="interpreter with torch, for collect_env")
    args = ap.parse_args()
    cache = tempfile.mkdtemp(prefix="envdoctor-bench-cache-")
    env = dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""),
               XDG_CACHE_HOME=cache)
    envdoctor = [sys.executable, "-m", "envdoctor"]
    # time the work, not the deadline
    check = envdoctor + ["check", "--json", "--python", args.python, "--deadline", "60"]
    commands = {
        "envdoctor --version": (envdoctor + ["--version"], (0,), False),
        "envdoctor --help": (envdoctor + ["--help"], (0,), False),
        "envdoctor check --json --quick": (check + ["--quick"], CHECK_CODES, True),
        "envdoctor check --json --offline": (check + ["--offline"], CHECK_CODES, True),
        "envdoctor check --json --offline --fresh": (check + ["--offline", "--fresh"], CHECK_CODES, True),
        "envdoctor check --json (with network)": (check, CHECK_CODES, True),
    }
    has_torch = subprocess.run([args.python, "-c", "import importlib.util,sys; "
                                "sys.exit(importlib.util.find_spec('torch') is None)"], timeout=60).returncode == 0
    collect = "python -m torch.utils.collect_env"
    if has_torch:
        commands[collect] = ([args.python, "-m", "torch.utils.collect_env"], (0,), False)
    # `pip install .` compiles envdoctor's bytecode; an editable install under PYTHONDONTWRITEBYTECODE
    # never does, and would time the compiler: compile it as an install would.
    run([sys.executable, "-m", "compileall", "-q", os.path.join(HERE, "envdoctor")], env)
    times = {name: [] for name in commands}
    for argv, codes, want_json in commands.values():  # warm-up: file cache, .pyc, the torch cache
        run(argv, env, codes, want_json)
    pairs = []
    for _ in range(args.runs):
        for name, (argv, codes, want_json) in commands.items():
            times[name].append(run(argv, env, codes, want_json)[0])
        if has_torch:
            pairs.append(times[collect][-1] / times["envdoctor check --json --quick"][-1])
    med = {name: statistics.median(t) for name, t in times.items()}
    for name, t in times.items():
        print(f"{name:42} median {med[name]:.3f} s  (min {min(t):.3f}, max {max(t):.3f}, n={len(t)})")
    quick = med["envdoctor check --json --quick"]
    print(f"quick: {quick:.3f} s   (target <= 0.35 s: {'met' if quick <= 0.35 else 'NOT met'})")
    if has_torch:
        ratio = statistics.median(pairs)
        full, fresh = med["envdoctor check --json --offline"], med["envdoctor check --json --offline --fresh"]
        met = "met" if ratio >= 10 else "NOT met"
        print(f"collect_env / quick, paired = {ratio:.1f}x faster   (target >= 10x: {met})")
        print(f"full check (--offline), torch answer cached = {full:.3f} s (target < 1 s: "
              f"{'met' if full < 1 else 'NOT met'}); with --fresh {fresh:.3f} s; collect_env {med[collect]:.3f} s")
    else:
        print(f"no torch in {args.python}: collect_env and the torch cache not measured "
              "(python3 -m venv V && V/bin/pip install torch==2.13.0, then --python V/bin/python)")


if __name__ == "__main__":
    main()
