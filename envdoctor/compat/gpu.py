"""GPU identity from the name NVML (nvidia-smi) prints, or from the words a person types."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

from ..matrices import GpuSpec, Matrices


@dataclass(frozen=True)
class GpuIdentity:
    name: str                      # the row's canonical name
    compute_capability: str        # "8.6"
    architecture: str
    segment: str                   # laptop | desktop | workstation | datacenter | embedded
    vram_mib: Optional[int]        # the card's memory when the name or the row fixes it, else None
    vram_options_gb: Tuple[float, ...]  # the sizes the card is sold with
    cpu_arch: Optional[str]        # the host CPU it always comes with ("aarch64" for Grace), else None
    jetson: bool                   # driver comes with JetPack; needs Jetson builds
    source: str


def _identity(spec: GpuSpec) -> GpuIdentity:
    options = spec.vram_options()
    only = int(options[0] * 1024) if len(options) == 1 else None
    return GpuIdentity(spec.name, spec.compute_capability, spec.architecture, spec.segment, only,
                       options, None, spec.segment == "embedded", spec.source)


def identify(nvml_name: str, matrices: Matrices) -> Optional[GpuIdentity]:
    """The GPU an NVML name denotes, or None when the name is not known (never a guess)."""
    spec = matrices.gpu(nvml_name)
    return _identity(spec) if spec else None


def named(query: str, matrices: Matrices) -> List[GpuIdentity]:
    """The GPUs a person's words name ("RTX 3050 Laptop", "T4"); several when ambiguous."""
    return [_identity(s) for s in matrices.gpus_named(query)]
