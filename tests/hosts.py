"""Tests that depend on the host running the suite say so here, each with the reason it skips
elsewhere. On this project's machines and CI (no GPU, pip >= 25.3, a local CPU torch) they run."""
from __future__ import annotations

import os
import shutil

import pytest


def has_nvidia_gpu() -> bool:
    """A sign of an NVIDIA driver that envdoctor's own driver probe would find."""
    return any(os.path.exists(p) for p in ("/dev/nvidiactl", "/dev/nvidia0", "/dev/dxg")) \
        or shutil.which("nvidia-smi") is not None


gpu_less_host = pytest.mark.skipif(
    has_nvidia_gpu(), reason="runs the real driver probe and expects no NVIDIA GPU; this host has one "
                             "(/dev/nvidia*, /dev/dxg or nvidia-smi)")
