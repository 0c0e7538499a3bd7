"""Run the network area against servers that never answer or stall mid-file, and print
its wall time (target <= 4.5 s, the budget is 4 s) and what it left behind: envdoctor
threads still alive and sockets still open in this process (target: none).

The servers run in a child process (tests/netservers.py), so every socket counted here
is envdoctor's own. Nothing leaves 127.0.0.1: the resolver knows no real name.
Usage: python bench/network_budget.py [--runs N] [--verbose]
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [HERE, os.path.join(HERE, "tests")]


def serve() -> None:
    from netservers import Loopback, black_hole, index

    servers = {"hole": Loopback(black_hole), "hole_tls": Loopback(black_hole),
               "stall": Loopback(index(stall_after=300_000)), "stall_page": Loopback(index(stall_after=0))}
    print(json.dumps({k: s.port for k, s in servers.items()}), flush=True)
    sys.stdin.read()  # until the parent closes our stdin


def sockets() -> int:
    fd_dir = "/proc/self/fd"
    count = 0
    for fd in os.listdir(fd_dir):
        try:
            count += os.readlink(os.path.join(fd_dir, fd)).startswith("socket:")
        except OSError:
            pass
    return count


def no_names(host: str, port: int):
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--verbose", action="store_true", help="print each target's steps")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve()
        return
    from envdoctor.check.run import evaluate
    from envdoctor.machine.context import Context, Host
    from envdoctor.core.facts import PlatformFacts, PythonEnvFacts, TorchBuild
    from envdoctor.compat.tables import Matrices
    from envdoctor.core.results import Facts, ProbeResult
    from envdoctor.probes import network
    from envdoctor.rules import ALL_RULES
    from envdoctor.machine.fs import RootedFS
    from envdoctor.machine.net import SystemNet
    from envdoctor.machine.runner import SubprocessRunner

    child = subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    try:
        ports = json.loads(child.stdout.readline())
        loop = "http://127.0.0.1:{}".format
        env = {
            "HOME": "/nonexistent", "PIP_CONFIG_FILE": os.devnull,
            "PIP_INDEX_URL": f"https://127.0.0.1:{ports['hole_tls']}/simple",  # TLS handshake never answered
            "PIP_EXTRA_INDEX_URL": f"{loop(ports['hole'])}/simple {loop(ports['stall'])}/simple "
                                   f"{loop(ports['stall_page'])}/simple",
            "HF_ENDPOINT": loop(ports["hole"]),
        }
        python = PythonEnvFacts(sys.executable, "bench", "3.11", prefix="/nonexistent", pip_version="25.2",
                                torch=TorchBuild("2.5.1+cu121", "12.1"))
        deps = Facts({"python": ProbeResult("python", "ok", facts=python),
                      "platform": ProbeResult("platform", "ok", facts=PlatformFacts("Linux", "x86_64"))})
        walls, left_threads, left_sockets = [], [], []
        codes = set()
        for _ in range(args.runs):
            ctx = Context(runner=SubprocessRunner(), fs=RootedFS("/"), env=env, nvml=None,
                          host=Host("Linux", "x86_64", sys.executable), options={"urls": (
                              f"{loop(ports['stall'])}/files/torch-big.whl",)}, net=SystemNet(no_names))
            threads_before, sockets_before = set(threading.enumerate()), sockets()
            start = time.perf_counter()
            facts = network.probe(ctx, deps)
            walls.append(time.perf_counter() - start)
            time.sleep(0.1)  # let the abandoned nothing settle: there should be nothing to settle
            left_threads.append([t.name for t in threading.enumerate()
                                 if t not in threads_before and t.name.startswith("envdoctor")])
            left_sockets.append(sockets() - sockets_before)
            found, _ = evaluate(Facts({**deps.results, "network": ProbeResult("network", "ok", facts=facts)}),
                                Matrices(), [r for r in ALL_RULES if r.area == "network"])
            codes |= {f.code for f in found}
            if args.verbose:
                for t in facts.targets:
                    print(t.kind, t.url, t.seconds, [(s.name, s.seconds, s.problem) for s in t.steps])
    finally:
        child.stdin.close()
        child.wait(5)
    print(f"network area vs black-hole and stalling servers, {len(facts.targets)} targets in parallel, "
          f"budget {facts.budget_seconds:g} s, {args.runs} runs")
    print(f"  wall: median {statistics.median(walls):.2f} s, max {max(walls):.2f} s  (target <= 4.5 s)")
    print(f"  findings: {', '.join(sorted(codes))}")
    print(f"  envdoctor threads left alive: {max(len(t) for t in left_threads)} {sorted(set(sum(left_threads, [])))}")
    print(f"  sockets left open: {max(left_sockets)}  (target: 0)")


if __name__ == "__main__":
    main()
