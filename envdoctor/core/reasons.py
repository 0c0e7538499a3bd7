"""Why something could not be read, as values the layers pass to each other instead of sentences.

A probe (or the machine layer under it) decides the reason where it sees the tool's own answer;
rules and renderers read the value, never the wording of a message (which is for people, and will
be translated).
"""
from __future__ import annotations

from enum import Enum


class DriverReason(str, Enum):
    """Why the NVIDIA driver gave no facts (NvmlUnavailable.reason, the driver ProbeResult's reason)."""

    ABSENT = "absent"  # no NVML library, no binding for it, no sign of a driver: nothing installed
    NOT_LOADED = "not-loaded"  # installed, but the kernel driver is not running (or mismatches the library)
    LIBRARY_MISSING = "library-missing"  # nvidia-smi is there but cannot load libnvidia-ml.so.1
    GARBAGE = "garbage"  # an answer that cannot be read
    FAILED = "failed"  # anything else: the message says what
