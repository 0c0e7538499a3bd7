"""Driver number -> the CUDA it runs, natively or through minor-version compatibility.

NVIDIA's Table 3 ("CUDA Toolkit and Corresponding Driver Versions") gives each toolkit's minimum
driver, one column for Linux and one for Windows. A WSL machine reports its Windows driver's number
(nvidia-smi inside WSL prints "Driver Version: 546.33"), so it is read with the Windows column. Two
rules answer together, the newer wins:
- Table 3: the newest toolkit whose minimum for this OS is at or below the driver;
- the branch: the nearest known branch at or below the driver's first number (Windows 546.33 is
  R545, 581.57 is R580), and the CUDA that branch reports. This covers what Table 3 cannot: the
  13.x rows, where the Windows column is N/A, and R565, which reports 12.7 with no 12.7 toolkit.
A pre-release driver whose banner says otherwise is listed in matrices/driver_seen.csv with its banner.
Drivers older than the oldest branch in the data (R410) are unknown, never a pass.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Tuple

from envdoctor.compat.tables import CudaMinorCompat, DriverBranch, Matrices, driver_key


def key(version: Optional[str]) -> Optional[Tuple[int, ...]]:
    if version is None or not re.fullmatch(r"\d+(\.\d+){0,2}", version.strip()):
        return None
    return tuple(int(p) for p in version.strip().split("."))


def cuda_key(cuda: Optional[str]) -> Optional[Tuple[int, int]]:
    m = re.match(r"^(\d+)\.(\d+)", cuda or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def xy_key(text: str) -> Tuple[int, int]:
    """cuda_key of an X.Y that was already checked (a table cell, a compute capability, a glibc):
    an order that is never None. Raises ValueError otherwise."""
    k = cuda_key(text)
    if k is None:
        raise ValueError(f"not an X.Y version: {text!r}")
    return k


def os_of(target_os: str) -> str:
    """The Table 3 column a machine's driver number is read with: WSL and Windows report Windows numbers."""
    return "windows" if target_os in ("wsl2", "wsl1", "windows") else "linux"


def branch_of(version: str, matrices: Matrices) -> Optional[DriverBranch]:
    """The nearest known branch at or below the driver's first number (R545 for 546.33)."""
    k = key(version)
    if k is None:
        return None
    below = [b for b in matrices.table("driver_branches") if int(b.branch[1:]) <= k[0]]
    return max(below, key=lambda b: int(b.branch[1:]), default=None)


def _table3(k: Tuple[int, ...], os: str, matrices: Matrices) -> Optional[str]:
    def make() -> Optional[str]:
        best = None
        for row in matrices.table("cuda_driver"):
            need = row.min_driver_windows if os == "windows" else row.min_driver_linux
            if need and driver_key(need) <= k and (best is None or xy_key(row.cuda) > xy_key(best)):
                best = row.cuda
        return best
    return matrices.derived(f"table3:{os}:{k}", make)  # the resolver asks for the same drivers again and again


def cuda_for_driver(version: Optional[str], os: str, matrices: Matrices) -> Optional[str]:
    """The newest CUDA a driver runs natively ("12.1"), or None when unknown.
    `os` is "linux" or "windows" (a WSL machine reports its Windows driver's number)."""
    k = key(version)
    if k is None or version is None:
        return None
    seen = next((r for r in matrices.table("driver_seen") if r.driver == version.strip() and r.os == os), None)
    if seen is not None:
        return seen.cuda
    branch = branch_of(version, matrices)
    table = _table3(k, os, matrices)
    if branch is None:
        return None  # older than every branch envdoctor knows: unknown
    found = [c for c in (branch.max_cuda, table) if c]
    return max(found, key=xy_key)


@dataclass(frozen=True)
class Floor:
    """The drivers a CUDA version needs: natively (Table 3 GA) and through minor-version compatibility."""

    cuda: str
    linux: Optional[str]
    windows: Optional[str]  # None: Table 3 lists N/A (CUDA 13.x)
    compat_linux: Optional[str]
    compat_windows: Optional[str]

    def native(self, os: str) -> Optional[str]:
        return self.windows if os == "windows" else self.linux

    def compat(self, os: str) -> Optional[str]:
        return self.compat_windows if os == "windows" else self.compat_linux

    def least(self, os: str) -> Optional[str]:
        """The lowest driver that runs this CUDA at all."""
        return self.compat(os) or self.native(os)


def floor(cuda: str, matrices: Matrices) -> Floor:
    rows = [r for r in matrices.table("cuda_driver") if r.cuda == cuda and r.min_driver_linux]
    ga = min(rows, key=lambda r: driver_key(r.min_driver_linux), default=None)
    compat = minor_compat(cuda, matrices)
    return Floor(cuda, ga.min_driver_linux if ga else None, ga.min_driver_windows if ga else None,
                 compat.min_driver_linux if compat else None, compat.min_driver_windows if compat else None)


def minor_compat(cuda: str, matrices: Matrices) -> Optional[CudaMinorCompat]:
    major = cuda.split(".")[0]
    return next((r for r in matrices.table("cuda_compat") if r.cuda_major == major), None)


def runs(version: Optional[str], os: str, cuda: str, matrices: Matrices,
         reported: Optional[str] = None) -> Optional[str]:
    """Does the driver run code built for `cuda`? "native", "compat" (minor-version compatibility:
    same major, driver at or above that major's floor), "no", or None when the driver is unknown.
    `reported` is the CUDA the driver itself reported (nvidia-smi's banner), which wins."""
    have = cuda_key(reported) or cuda_key(cuda_for_driver(version, os, matrices))
    want = cuda_key(cuda)
    if have is None or want is None:
        return None
    if have >= want:
        return "native"
    row = minor_compat(cuda, matrices)
    k = key(version)
    if row is not None and k is not None and have[0] == want[0] and k >= driver_key(row.min_driver(os)):
        return "compat"
    return "no"
