"""Which compute capabilities a build has kernels for: vLLM's CMake CUDA_SUPPORTED_ARCHS per release
(cut to what that CUDA's compiler can build: Blackwell needs CUDA >= 12.8), and torch's arch list per
build (matrices/torch_archs.csv, or torch.cuda.get_arch_list() seen on the machine). None = not known."""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

from envdoctor.compat.tables import Matrices
from envdoctor.compat.driver import cuda_key


def compilable(cc: str, cuda: str, m: Matrices) -> bool:
    """Can CUDA `cuda`'s compiler build kernels for `cc` (sm_120 needs CUDA 12.8)?"""
    row = next((r for r in m.table("cuda_archs") if r.cc == cc), None)
    return row is None or cuda_key(cuda) >= cuda_key(row.first_cuda)


def family_match(cc: str, archs: Sequence[str]) -> bool:
    """A kernel built for X.Y runs on X.Z with Z >= Y (8.6 code on 8.9; 12.0 code on 12.1)."""
    want = cuda_key(cc)
    for a in archs:
        have = cuda_key(a)
        if have and have[0] == want[0] and have[1] <= want[1]:
            return True
    return False


def vllm_has(release, vllm_cuda: Optional[str], cc: str, m: Matrices, variant: bool = False) -> Optional[bool]:
    """Does this vLLM build carry kernels for `cc`? From its CMake archs (index wheel); for a variant
    wheel, or a release whose CMake list is not in the data, from its documented minimum and what its
    CUDA can compile."""
    if vllm_cuda is None or release.min_cc is None:
        return None
    if cuda_key(cc) < cuda_key(release.min_cc):
        return False
    if release.cuda_archs and not variant:
        archs = [a for a in release.cuda_archs if compilable(a, vllm_cuda, m)]
        return family_match(cc, archs)
    return compilable(cc, vllm_cuda, m)


def arch_supported(cc: str, arch_list: Sequence[str]) -> bool:
    """SASS for sm_XY runs on X.Z with Z >= Y; PTX for compute_XY is JIT-compiled on any later GPU."""
    want = cuda_key(cc)
    for arch in arch_list:
        kind, _, num = arch.partition("_")
        num = num.rstrip("af")  # sm_90a / sm_100f: arch-specific, same family
        if not num.isdigit() or len(num) < 2:
            continue
        have = (int(num[:-1]), int(num[-1]))
        if kind == "sm" and have[0] == want[0] and have[1] <= want[1]:
            return True
        if kind == "compute" and have <= want:
            return True
    return False


def torch_archs(version: str, cuda: str, m: Matrices,
                observed: Sequence[Tuple[str, str, Tuple[str, ...]]] = ()) -> Optional[Tuple[Tuple[str, ...], str]]:
    """(arch list, where it comes from) of one torch build, or None when not known."""
    for v, c, archs in observed:
        if v == version.split("+")[0] and c == cuda and archs:
            return tuple(archs), "torch.cuda.get_arch_list() on this machine"
    row = m.torch_archs(version, cuda)
    return (row.arch_list, "matrices/torch_archs.csv") if row is not None else None


def nearest_release_for_cc(m: Matrices, cc: str, version) -> Optional[str]:
    """The release nearest to `version` whose minimum compute capability admits `cc`: the first
    newer one, else the newest older one (min_cc is not monotonic: 0.4.0 needs 8.0, 0.4.0.post1 7.0)."""
    fits = sorted((r.version for r in m.table("vllm") if r.min_cc and cuda_key(r.min_cc) <= cuda_key(cc)))
    newer = [v for v in fits if v > version]
    older = [v for v in fits if v < version]
    pick = newer[0] if newer else (older[-1] if older else None)
    return str(pick) if pick is not None else None


def lowest_min_cc(m: Matrices) -> Optional[str]:
    """The lowest compute capability any vLLM release in the data supports."""
    known = [r.min_cc for r in m.table("vllm") if r.min_cc]
    return min(known, key=cuda_key) if known else None
