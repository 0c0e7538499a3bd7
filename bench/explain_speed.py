"""Time `envdoctor explain` on a generated 100 MB log and print wall time and peak memory.

Targets (issue 8): <= 3 s and <= 100 MB resident for a 100 MB log. The log mixes what real
failing logs hold: BuildKit steps, pip downloads, `\\r` progress bars, vLLM lines with ANSI
colours, CRLF lines, compiler command lines, a little binary junk, and the first user's
failure at the end. The gzip variant is timed too. Usage:
    python bench/explain_speed.py [--mb 100] [--runs 3] [--keep DIR]
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED_LOG = os.path.join(HERE, "tests", "data", "seed", "docker-build.log")

NOISE = [
    "#12 16.15 Downloading ninja-1.11.1.1-py2.py3-none-manylinux1_x86_64.manylinux_2_5_x86_64.whl "
    "(307 kB)\n",
    "#12 7.680 Collecting nvidia-cuda-nvrtc-cu12==12.1.105 (from torch->mamba-ssm>=1.2.2->-r "
    "requirements-mamba.txt (line 2))\n",
    "Requirement already satisfied: numpy>=1.17 in /usr/local/lib/python3.10/dist-packages (from transformers) "
    "(1.26.4)\n",
    " => CACHED [build  4/15] COPY csrc csrc                                                          "
    "                  0.0s\n",
    "[1/200] /usr/local/cuda/bin/nvcc -I/workspace/csrc -DTORCH_EXTENSION_NAME=_C -O3 "
    "-gencode arch=compute_86,code=sm_86 "
    "-c csrc/attention/attention_kernels.cu -o CMakeFiles/_C.dir/csrc/attention/attention_kernels.cu.o\n",
    "\x1b[32mINFO\x1b[0m 07-23 10:12:31 model_runner.py:160] Loading model weights took 2.8876 GB\n",
    "INFO 07-23 10:12:33 gpu_executor.py:83] # GPU blocks: 1571, # CPU blocks: 9362\r\n",
    "   \u2501\u2501\u2501\u2501\u2501\u2501 120.3/797.2 MB 9.1 MB/s eta 0:01:15\r"
    "   \u2501\u2501\u2501\u2501\u2501\u2501\u2501 130.1/797.2 MB 9.3 MB/s eta 0:01:12\n",
    "model-00001-of-00002.safetensors:  45%|\u2588\u2588\u2588\u2588\u258c     | 1.40G/3.09G "
    "[02:13<02:39, 10.5MB/s]\r",
    "Processed prompts: 100%|\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588| 8/8 "
    "[00:01<00:00,  5.12it/s]\n",
]


def make_log(path: str, megabytes: int) -> None:
    rng = random.Random(8)
    with open(SEED_LOG, "rb") as fh:
        tail = fh.read()
    target = megabytes << 20
    with open(path, "wb") as out:
        written = 0
        block = []
        while written < target - len(tail):
            line = rng.choice(NOISE).encode()
            if rng.random() < 0.0005:
                line = bytes(rng.randrange(256) for _ in range(40)) + b"\n"  # binary junk
            block.append(line)
            written += len(line)
            if len(block) >= 4096:
                out.write(b"".join(block))
                block = []
        out.write(b"".join(block) + tail)


# A fresh wrapper per run, so RUSAGE_CHILDREN holds exactly one child: explain itself.
WRAPPER = ("import resource, subprocess, sys, time\n"
           "t = time.perf_counter(); done = subprocess.run(sys.argv[1:]); t = time.perf_counter() - t\n"
           "print(t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode, file=sys.stderr)")


def measure(argv) -> tuple:
    done = subprocess.run([sys.executable, "-c", WRAPPER] + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=300, env=dict(os.environ, PYTHONPATH=HERE))
    seconds, peak_kb, code = done.stderr.decode().strip().splitlines()[-1].split()
    if int(code) not in (0, 1, 2):
        sys.exit(f"explain failed ({code}): {done.stderr.decode()[-500:]}")
    try:
        json.loads(done.stdout)
    except ValueError as exc:
        sys.exit(f"explain --json printed no JSON ({exc}): a bench of it measures nothing")
    return float(seconds), int(peak_kb), done.stdout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", metavar="DIR")
    args = ap.parse_args()
    work = args.keep or tempfile.mkdtemp(prefix="envdoctor-bench-")
    log = os.path.join(work, f"bench-{args.mb}mb.log")
    if not os.path.exists(log):
        make_log(log, args.mb)
    gz = log + ".gz"
    if not os.path.exists(gz):
        with open(log, "rb") as src, gzip.open(gz, "wb", compresslevel=1) as dst:
            while True:
                block = src.read(1 << 22)
                if not block:
                    break
                dst.write(block)
    size = os.path.getsize(log) / 2 ** 20
    base = [sys.executable, "-m", "envdoctor", "explain", "--json"]
    for name, path in ((f"{size:.0f} MB log", log), (f"same log, gzip ({os.path.getsize(gz) / 2 ** 20:.0f} MB)", gz)):
        times, peaks, out = [], [], b""
        for _ in range(args.runs):
            seconds, peak, out = measure(base + [path])
            times.append(seconds)
            peaks.append(peak)
        found = b'"root_cause": "download-stalled"' in out
        rss = f"{max(peaks) / 1024:.0f} MB"
        print(f"{name:32} median {statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f}, "
              f"n={len(times)})  peak RSS {rss}  root cause found: {found}")
    print("targets: <= 3 s and <= 100 MB for the 100 MB log")


if __name__ == "__main__":
    main()
