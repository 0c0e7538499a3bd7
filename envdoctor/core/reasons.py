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


class ConfigKind(str, Enum):
    """What kind of network configuration cannot be used (ConfigProblem.kind); the network rules
    turn each kind into its finding."""

    PIP_CONFIG = "pip-config"  # a pip configuration file does not parse
    INDEX_URL = "index-url"  # pip's index-url, extra-index-url or find-links is not a URL
    PROXY_URL = "proxy-url"  # a proxy variable or pip's proxy setting is not a proxy URL
    CA_BUNDLE = "ca-bundle"  # the CA bundle a tool is told to use cannot be loaded
    UV_CONFIG = "uv-config"  # a uv.toml (or pyproject.toml [tool.uv]) does not parse
    CONDARC = "condarc"  # a .condarc does not parse


class FailureKind(str, Enum):
    """Whose fault a failed step is (fix --apply): rerun it, or change the environment."""

    NETWORK = "network"  # rerunning helps: downloads resume
    ENVIRONMENT = "environment"  # something on the machine must change first
