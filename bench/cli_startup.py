"""Time the command line's start-up against a bare interpreter (`python -c pass`), interleaved in one
run; print medians and the cost over the interpreter. What is timed: `import envdoctor.cli` (its
cumulative time from `-X importtime`, and the modules it loads), `envdoctor --version`,
`envdoctor --help` and `envdoctor check --help`. Every timed command must exit 0 and say what it
should, or the bench fails.
Usage: python bench/cli_startup.py [--runs N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _checked import BenchFailure, run  # noqa: E402 - the bench's own helper, next to this file

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def import_cost(env) -> tuple:
    """(cumulative microseconds of `import envdoctor.cli`, envdoctor modules it loaded)."""
    _, done = run([sys.executable, "-X", "importtime", "-c", "import envdoctor.cli"], env)
    micros, ours = None, 0
    for line in done.stderr.decode().splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line[len("import time:"):].split("|"))
        ours += name.startswith("envdoctor")
        if name == "envdoctor.cli":
            micros = int(cumulative)
    if micros is None:
        raise BenchFailure("bench: -X importtime did not report envdoctor.cli")
    return micros, ours


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""), NO_COLOR="1")
    envdoctor = [sys.executable, "-m", "envdoctor"]
    commands = {  # name: (argv, text its standard output must hold)
        "python -c pass (the peer)": ([sys.executable, "-c", "pass"], b""),
        "envdoctor --version": (envdoctor + ["--version"], b"envdoctor, version"),
        "envdoctor --help": (envdoctor + ["--help"], b"run-smoke"),
        "envdoctor check --help": (envdoctor + ["check", "--help"], b"--deadline"),
    }
    run([sys.executable, "-m", "compileall", "-q", os.path.join(HERE, "envdoctor")], env)  # as an install would
    times = {name: [] for name in commands}
    imports = []
    for argv, _ in commands.values():  # warm-up: file cache, .pyc
        run(argv, env)
    for _ in range(args.runs):
        for name, (argv, says) in commands.items():
            took, done = run(argv, env)
            if says not in done.stdout:
                raise BenchFailure(f"bench: {' '.join(argv)} did not print {says!r}")
            times[name].append(took)
        imports.append(import_cost(env))
    peer = statistics.median(times["python -c pass (the peer)"])
    for name, t in times.items():
        med = statistics.median(t)
        print(f"{name:28} median {med:.3f} s  (+{med - peer:.3f} s over the peer, {med / peer:.2f}x; "
              f"min {min(t):.3f}, max {max(t):.3f}, n={len(t)})")
    micros = statistics.median(m for m, _ in imports)
    print(f"import envdoctor.cli (-X importtime, cumulative) median {micros / 1000:.1f} ms, "
          f"{imports[0][1]} envdoctor modules loaded")


if __name__ == "__main__":
    main()
