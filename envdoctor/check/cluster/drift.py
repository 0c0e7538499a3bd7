"""The versions that must match on every node, read from each node's Facts, and the odd ones out."""
from __future__ import annotations

from collections import Counter
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from envdoctor.core.results import Facts

# vLLM's multi-node docs ask for the same environment on every node; these are the versions whose
# difference breaks a Ray / NCCL job (compiled extensions, NCCL's wire protocol, pickled objects).
FIELDS: Tuple[Tuple[str, str], ...] = (
    ("driver", "NVIDIA driver"),
    ("torch_cuda", "torch's CUDA build"),
    ("torch", "torch"),
    ("vllm", "vLLM"),
    ("python", "Python"),
    ("nccl", "NCCL"),
)


def _torch_build(facts: Facts):
    env = facts.python
    return env.torch if env is not None else None


def _driver(facts: Facts) -> Optional[str]:
    driver = facts.driver
    return driver.driver_version if driver is not None else None


def _torch(facts: Facts) -> Optional[str]:
    build = _torch_build(facts)
    return build.version if build is not None else None


def _torch_cuda(facts: Facts) -> Optional[str]:
    build = _torch_build(facts)
    if build is None:
        return None
    return build.cuda or (f"ROCm {build.hip}" if build.hip else "CPU")


def _vllm(facts: Facts) -> Optional[str]:
    env = facts.python
    if env is None:
        return None
    found = env.dist("vllm")
    return found.version if found is not None else "not installed"


def _nccl(facts: Facts) -> Optional[str]:
    """The NCCL wheel(s) torch brings (nvidia-nccl-cu12, -cu13 ...)."""
    env = facts.python
    if env is None:
        return None
    found = sorted(f"{d.name} {d.version}" for d in env.distributions
                   if d.name.lower().replace("_", "-").startswith("nvidia-nccl-"))
    return ", ".join(found) or "not installed"


def _python(facts: Facts) -> Optional[str]:
    env = facts.python
    return env.version if env is not None else None


READERS: Dict[str, Callable[[Facts], Optional[str]]] = {
    "driver": _driver, "torch_cuda": _torch_cuda, "torch": _torch, "vllm": _vllm, "python": _python,
    "nccl": _nccl,
}


def values(facts: Facts) -> Dict[str, Optional[str]]:
    """Each drift field's value on one node; None where the node could not tell."""
    return {key: READERS[key](facts) for key, _ in FIELDS}


def odd_ones(per_node: Sequence[Tuple[str, Optional[str]]]) -> List[str]:
    """The nodes whose known value differs from the most common one (all of them on a tie)."""
    known = [(n, v) for n, v in per_node if v is not None]
    counts = Counter(v for _, v in known)
    if len(counts) < 2:
        return []
    top = counts.most_common()
    if top[0][1] == top[1][1]:
        return [n for n, _ in known]
    return [n for n, v in known if v != top[0][0]]
