"""Put hanging fakes of nvidia-smi, nvcc and the target python first on PATH, run
`envdoctor check --json`, and print how long it took, what it reported as timed out,
and whether any fake (or a grandchild it started) was left running.

Target (issue 3): within the deadline + 0.5 s, exit 3 or findings naming what timed out,
no orphan processes. Usage: python bench/hang_check.py [--deadline 8]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Each fake starts a grandchild, records both PIDs, then blocks: a stuck driver call.
FAKE = """#!/bin/sh
sleep 1000 &
echo $! >> "{pids}"
echo $$ >> "{pids}"
exec sleep 1000
"""


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--deadline", type=float, default=8.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pids = os.path.join(tmp, "pids")
        for name in ("nvidia-smi", "nvcc", "python3"):
            path = os.path.join(tmp, name)
            with open(path, "w") as fh:
                fh.write(FAKE.format(pids=pids))
            os.chmod(path, 0o755)
        env = dict(os.environ, PATH=tmp + os.pathsep + os.environ.get("PATH", ""),
                   PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
        env.pop("VIRTUAL_ENV", None)
        env.pop("CONDA_PREFIX", None)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "envdoctor", "check", "--json", "--deadline", str(args.deadline),
                               "--python", os.path.join(tmp, "python3")],
                              capture_output=True, text=True, env=env, timeout=args.deadline + 60)
        took = time.perf_counter() - start
        time.sleep(0.2)
        started = [int(p) for p in open(pids).read().split()] if os.path.exists(pids) else []
        left = [p for p in started if alive(p)]
        for p in left:
            os.kill(p, 9)
    if proc.returncode not in (1, 2, 3):  # hung tools are warnings, errors or "could not check", never 0 or 4
        sys.exit(f"bench: FAILED: check exited {proc.returncode} against hanging tools\n{proc.stderr[-800:]}")
    try:
        doc = json.loads(proc.stdout)
    except ValueError as exc:
        sys.exit(f"bench: FAILED: check --json printed no JSON ({exc})\n{proc.stderr[-800:]}")
    stuck = [f"{p['area']} ({p['status']})" for p in doc["probes"] if p["status"] in ("timeout", "error")]
    print(f"check took {took:.2f} s with a {args.deadline:g} s deadline "
          f"(target <= {args.deadline + 0.5:g} s): {'OK' if took <= args.deadline + 0.5 else 'OVER'}")
    print(f"exit code {proc.returncode}; findings: {', '.join(f['code'] for f in doc['findings'])}")
    print(f"probes that timed out or failed: {', '.join(stuck) or 'none'}")
    print(f"fake processes started: {len(started)}; still running afterwards: {len(left)}")


if __name__ == "__main__":
    main()
