"""Probes gather facts; they never judge or print. ALL_PROBES is the fixed render order."""
from __future__ import annotations

from envdoctor.core.areas import AREAS
from envdoctor.probes.engine import Probe
from envdoctor.probes import cuda_toolkit, network, nvidia, platform, python_env, resources, torch_runtime, wsl
from envdoctor.probes import llm_model as model
ALL_PROBES = (
    Probe("platform", "Platform", platform.probe, timeout=1.5),
    Probe("wsl", "WSL GPU plumbing", wsl.probe, timeout=2.5, needs=("platform",)),
    Probe("driver", "NVIDIA driver", nvidia.probe, timeout=7.0),
    Probe("cuda", "CUDA toolkit", cuda_toolkit.probe, timeout=4.0),
    Probe("python", "Python environment", python_env.probe, timeout=6.0),
    Probe("torch", "torch runtime", torch_runtime.probe, timeout=16.0, needs=("python",)),
    Probe("resources", "Resources", resources.probe, timeout=2.0, needs=("platform",)),
    Probe("model", "Model", model.probe, timeout=2.0),
    Probe("network", "Network", network.probe, timeout=network.PROBE_TIMEOUT, needs=("platform", "python")),
)
assert tuple(p.area for p in ALL_PROBES) == AREAS, "areas.py lists the areas in probe order"
