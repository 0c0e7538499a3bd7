"""The one registry of the areas `check` probes, in render order: each area's title, its facts
dataclass, its probe, the probe's time limit and what it needs first.

Everything else is read from here: the probe tuple (probes/__init__.py), reading a saved report
back (core/facts_from_json.py), the titles every renderer shows, `--only`. Adding an area is one
entry here. Facts and probes are named as "module:attribute" and imported only when asked for,
so the CLI knows the areas (for `--help`) without loading a probe or a facts class.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable, Optional, Tuple

DEFAULT_DEADLINE = 8.0  # seconds for the whole check


class StrEnum(str, Enum):
    """An Enum whose members are their string values: JSON, f-strings and `== "ok"` see the string."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


def _load(ref: str) -> Any:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class AreaInfo:
    title: str  # shown in the summary: "NVIDIA driver"
    facts: str  # "module:Class" of the area's facts dataclass (it has a summary())
    probe: str  # "module:function": (Context, Facts of its needs) -> facts, or raises probes.engine's exceptions
    timeout: Optional[float] = None  # seconds; None: the probe module's PROBE_TIMEOUT
    needs: Tuple[str, ...] = ()  # areas whose facts the probe reads
    failed: str = "warn"  # the severity of this area's probe failing (error, timeout, crash)
    asked_by: Optional[str] = None  # the context option without which the area is not probed (model: --model)


class Area(StrEnum):
    """An area: its value is the name used in JSON, `--only` and findings; `.info` is its entry."""

    info: AreaInfo

    def __new__(cls, name: str, info: AreaInfo) -> "Area":
        member = str.__new__(cls, name)
        member._value_ = name
        member.info = info
        return member

    PLATFORM = "platform", AreaInfo("Platform", "envdoctor.core.facts:PlatformFacts",
                                    "envdoctor.probes.platform:probe", 1.5)
    WSL = "wsl", AreaInfo("WSL GPU plumbing", "envdoctor.core.facts:WslFacts", "envdoctor.probes.wsl:probe", 2.5,
                          needs=("platform",))
    # Without a readable driver nothing on the GPU can be judged: its failure is an error.
    DRIVER = "driver", AreaInfo("NVIDIA driver", "envdoctor.core.facts:DriverFacts", "envdoctor.probes.nvidia:probe",
                                7.0, failed="error")
    CUDA = "cuda", AreaInfo("CUDA toolkit", "envdoctor.core.facts:CudaToolkitFacts",
                            "envdoctor.probes.cuda_toolkit:probe", 4.0)
    PYTHON = "python", AreaInfo("Python environment", "envdoctor.core.facts:PythonEnvFacts",
                                "envdoctor.probes.python_env:probe", 6.0)
    TORCH = "torch", AreaInfo("torch runtime", "envdoctor.core.facts:TorchRuntimeFacts",
                              "envdoctor.probes.torch_runtime:probe", 16.0, needs=("python",))
    RESOURCES = "resources", AreaInfo("Resources", "envdoctor.core.facts:ResourceFacts",
                                      "envdoctor.probes.resources:probe", 2.0, needs=("platform",))
    MODEL = "model", AreaInfo("Model", "envdoctor.core.facts:ModelFacts", "envdoctor.probes.llm_model:probe", 2.0,
                              asked_by="model")
    NETWORK = "network", AreaInfo("Network", "envdoctor.core.facts:NetworkFacts", "envdoctor.probes.network:probe",
                                  needs=("platform", "python"))

    @property
    def facts_type(self) -> type:
        return _load(self.info.facts)  # type: ignore[no-any-return]

    @property
    def probe_function(self) -> Callable[..., Any]:
        return _load(self.info.probe)  # type: ignore[no-any-return]

    @property
    def timeout(self) -> float:
        if self.info.timeout is not None:
            return self.info.timeout
        return float(_load(self.info.probe.partition(":")[0] + ":PROBE_TIMEOUT"))


AREAS: Tuple[str, ...] = tuple(a.value for a in Area)


def area(name: str) -> Optional[Area]:
    """The registry entry of `name`, or None for a name this version does not know."""
    found = Area._value2member_map_.get(name)
    return found if isinstance(found, Area) else None


def title(name: str) -> str:
    found = area(name)
    return found.info.title if found is not None else name
