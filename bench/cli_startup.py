"""Time the command line's start-up against a bare interpreter (`python -c pass`), interleaved in one
run; print medians and the cost over the interpreter. What is timed: `import envdoctor.cli` (its
cumulative time from `-X importtime`, and the modules it loads), `envdoctor --version`,
`envdoctor --help` and `envdoctor check --help`. Every timed command must exit 0 and say what it
should, or the bench fails.
With --against DIR (another checkout, e.g. `git archive <commit> | tar -x -C DIR`) the same
commands are timed from it too, interleaved, and the medians are shown side by side.
Usage: python bench/cli_startup.py [--runs N] [--against DIR]
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
    ap.add_argument("--against", metavar="DIR", help="another checkout to time side by side")
    args = ap.parse_args()
    trees = {"this": HERE, **({"against": os.path.abspath(args.against)} if args.against else {})}
    envs = {name: dict(os.environ, PYTHONPATH=tree + os.pathsep + os.environ.get("PYTHONPATH", ""), NO_COLOR="1")
            for name, tree in trees.items()}
    envdoctor = [sys.executable, "-m", "envdoctor"]
    commands = {  # name: (argv, text its standard output must hold)
        "python -c pass (the peer)": ([sys.executable, "-c", "pass"], b""),
        "envdoctor --version": (envdoctor + ["--version"], b"envdoctor, version"),
        "envdoctor --help": (envdoctor + ["--help"], b"run-smoke"),
        "envdoctor check --help": (envdoctor + ["check", "--help"], b"--deadline"),
    }
    for name, tree in trees.items():  # as an install would; then a warm-up (file cache, .pyc)
        print(f"{name}: {tree}")
        run([sys.executable, "-m", "compileall", "-q", os.path.join(tree, "envdoctor")], envs[name])
        for argv, _ in commands.values():
            run(argv, envs[name])
    times = {(tree, cmd): [] for tree in trees for cmd in commands}
    imports = {tree: [] for tree in trees}
    for _ in range(args.runs):  # interleaved: each round times every command from every tree
        for cmd, (argv, says) in commands.items():
            for tree in trees:
                took, done = run(argv, envs[tree])
                if says not in done.stdout:
                    raise BenchFailure(f"bench: {' '.join(argv)} did not print {says!r}")
                times[(tree, cmd)].append(took)
        for tree in trees:
            imports[tree].append(import_cost(envs[tree]))
    for cmd in commands:
        cells = []
        for tree in trees:
            t = times[(tree, cmd)]
            peer = statistics.median(times[(tree, "python -c pass (the peer)")])
            cells.append(f"{tree} {statistics.median(t):.3f} s (+{statistics.median(t) - peer:.3f} over the peer)")
        print(f"{cmd:28} " + "   ".join(cells))
    for tree in trees:
        micros = statistics.median(m for m, _ in imports[tree])
        print(f"{tree}: import envdoctor.cli (-X importtime, cumulative) median {micros / 1000:.1f} ms, "
              f"{imports[tree][0][1]} envdoctor modules loaded")


if __name__ == "__main__":
    main()
