"""Which builds exist for a vLLM release: the wheel on the package index (with torch's default
build, or another CUDA build of the same torch where the GPU needs it), and the CUDA-variant wheels
vLLM attaches to its GitHub releases (vllm-X+cu118-..., vllm-X+cu129-...), each with the torch build
and index it is installed with."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

from envdoctor.compat.tables import TORCH_INDEX, Matrices, TorchRelease, VllmRelease
from envdoctor.compat.driver import cuda_key

RELEASES = "https://github.com/vllm-project/vllm/releases/download"


def cuda_of_tag(tag: str) -> str:
    """cu121 -> 12.1, cu118 -> 11.8."""
    digits = tag[2:]
    return f"{digits[:-1]}.{digits[-1]}"


def tag_of(cuda: str) -> str:
    major, minor = cuda.split(".")[:2]
    return f"cu{major}{minor}"


@dataclass(frozen=True)
class Build:
    release: VllmRelease
    torch: TorchRelease
    torch_cuda: str  # the CUDA of the torch build installed ("12.1")
    vllm_cuda: Optional[str]  # the CUDA vLLM's own kernels are built for (None: not known)
    variant: Optional[str] = None  # cu129: a GitHub-release wheel; None: the package index's wheel
    python_tag: Optional[str] = None  # the variant wheel's interpreter tag (cp38-abi3, cp{py})
    platforms: Tuple[str, ...] = ()
    default_torch: bool = True  # torch's build is the one the package index serves by default

    @property
    def version(self) -> str:
        return str(self.release.version) + (f"+{self.variant}" if self.variant else "")

    @property
    def torch_tag(self) -> str:
        return tag_of(self.torch_cuda)

    @property
    def torch_index(self) -> Optional[str]:
        """The PyTorch index folder of torch's build, where envdoctor's data lists it."""
        return f"{TORCH_INDEX}/{self.torch_tag}" if self.torch_tag in self.torch.cuda_builds else None

    def wheel_url(self, python: str, machine: str) -> Optional[str]:
        """The variant wheel's URL on the GitHub release (None for the package index's wheel)."""
        if not self.variant:
            return None
        tag = (self.python_tag or "cp38-abi3").replace("{py}", python.replace(".", ""))
        if "abi3" not in tag:
            tag = f"{tag}-{tag}"
        plat = next((p for p in self.platforms if p.endswith("_" + machine)), None)
        if plat is None:
            return None
        v = self.release.version
        return f"{RELEASES}/v{v}/vllm-{v}+{self.variant}-{tag}-{plat}.whl"

    @property
    def needs(self) -> Optional[str]:
        """The newest CUDA of the stack's binaries: what the driver must run."""
        known = [c for c in (self.vllm_cuda, self.torch_cuda) if c]
        return max(known, key=cuda_key) if known else None


def builds(release: VllmRelease, m: Matrices) -> List[Build]:
    """Every build of a release, the package index's first. Empty when its torch pin is not in the data."""
    from envdoctor.rules.base import pinned_version

    pin = pinned_version(release.torch)
    torch = m.torch(pin) if pin else None
    if torch is None or torch.default_cuda is None:
        return []
    vllm_cuda = release.cuda or torch.default_cuda
    out = [Build(release, torch, torch.default_cuda, vllm_cuda, platforms=release.platforms)]
    # Another CUDA build of the same torch, same major as vLLM's kernels (Blackwell needs torch 2.7's cu128).
    for tag in torch.cuda_builds:
        cuda = cuda_of_tag(tag)
        if cuda != torch.default_cuda and cuda.split(".")[0] == vllm_cuda.split(".")[0]:
            out.append(Build(release, torch, cuda, vllm_cuda, platforms=release.platforms, default_torch=False))
    for v in m.table("vllm_variants"):
        if v.vllm == release.version:
            out.append(Build(release, torch, cuda_of_tag(v.torch_build), v.cuda, v.variant, v.python_tag,
                             v.platforms or release.platforms, default_torch=False))
    return out
