"""Driver number -> the CUDA it runs."""
from __future__ import annotations

from typing import Optional

from ..matrices import Matrices


def cuda_for_driver(version: str, os: str, matrices: Matrices) -> Optional[str]:
    """The newest CUDA a driver runs natively ("12.1"), or None when unknown.
    `os` is "linux" or "windows" (a WSL machine reports its Windows driver's number)."""
    branch = matrices.branch_max_cuda(version)
    return branch.max_cuda if branch else None
