"""The torch probe's cache: importing torch takes seconds, and its answer changes only
when the interpreter, torch's installed files, the driver, the GPUs or the variables
CUDA reads change. The key is all of those; any change is a miss. Entries live under
~/.cache/envdoctor/torch-runtime/ (XDG_CACHE_HOME when set); a file that cannot be read
is ignored and rewritten."""
from __future__ import annotations

import hashlib
import json
import os
from typing import Mapping, Optional

from envdoctor.machine.context import Context
from envdoctor.probes.python_env import child_source

KEY_TIMEOUT = 3.0
FORMAT = 1
# Variables that change what `import torch` and CUDA see.
ENV_KEYS = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER", "LD_LIBRARY_PATH",
            "LD_PRELOAD", "PYTHONPATH", "CUDA_HOME", "CUDA_PATH", "TORCH_CUDA_ARCH_LIST", "CUDA_LAUNCH_BLOCKING")
DRIVER_FILES = ("/proc/driver/nvidia/version", "/sys/module/nvidia/version")
WSL_DRIVER_GLOB = "/usr/lib/wsl/lib/libcuda.so*"  # the Windows driver's library, replaced when it updates


def cache_dir(env: Mapping[str, str]) -> Optional[str]:
    base = env.get("XDG_CACHE_HOME") or (os.path.join(env["HOME"], ".cache") if env.get("HOME") else None)
    return os.path.join(base, "envdoctor", "torch-runtime") if base else None


def _driver_identity(ctx: Context) -> dict:
    """The driver version and every GPU's UUID, as the kernel module reports them."""
    out = {f: ctx.fs.read_text(f, limit=4096) for f in DRIVER_FILES}
    uuids = []
    for info in sorted(ctx.fs.glob("/proc/driver/nvidia/gpus/*/information")):
        for line in (ctx.fs.read_text(info, limit=16384) or "").splitlines():
            if line.strip().lower().startswith("gpu uuid"):
                uuids.append(line.split(":", 1)[1].strip())
    out["gpu_uuids"] = uuids
    wsl = []
    for path in sorted(ctx.fs.glob(WSL_DRIVER_GLOB)):
        try:
            st = os.stat(path)  # the cache is used on this machine only, never on a replayed one
            wsl.append([path, st.st_size, st.st_mtime_ns])
        except OSError:
            wsl.append([path, None, None])
    out["wsl_driver"] = wsl
    return out


def key(ctx: Context, executable: str) -> Optional[str]:
    """The cache key for the torch probe in `executable`, or None when torch's files
    cannot be identified (then nothing is cached)."""
    result = ctx.run([executable, "-c", child_source("torch_key_child.py")], timeout=KEY_TIMEOUT)
    if not result.ok:
        return None
    try:
        where = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    if not isinstance(where, dict) or not where.get("files_sha256"):
        return None
    parts = {"format": FORMAT, "torch": where, "driver": _driver_identity(ctx),
             "env": {k: ctx.env.get(k) for k in ENV_KEYS}}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def load(directory: str, digest: str) -> Optional[dict]:
    try:
        with open(os.path.join(directory, f"{digest}.json"), encoding="utf-8") as fh:
            entry = json.load(fh)
    except (OSError, ValueError):
        return None  # absent or corrupt: run the probe and write it again
    if not isinstance(entry, dict) or entry.get("key") != digest or not isinstance(entry.get("data"), dict):
        return None
    return entry["data"]


def store(directory: str, digest: str, data: dict) -> None:
    """Write atomically; a cache that cannot be written only costs the next check time."""
    path = os.path.join(directory, f"{digest}.json")
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"key": digest, "data": data}, fh)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
