"""Sizes, rates and durations as envdoctor prints them: one place for every formatter, so the same
quantity reads the same in check, fix, fit and explain."""
from __future__ import annotations

from typing import Optional

GIB = 1024 ** 3


def gib(n_bytes: Optional[float], places: int = 1) -> str:
    """Binary gigabytes: "3.8 GiB" (memory and disks); the fit arithmetic shows 2 places."""
    return "?" if n_bytes is None else f"{n_bytes / GIB:.{places}f} GiB"


def binary_size(n_bytes: int) -> str:
    """What the network checks read: "1.0 MiB", "12 KiB"."""
    return f"{n_bytes / 1048576:.1f} MiB" if n_bytes >= 1048576 else f"{n_bytes / 1024:.0f} KiB"


def download_size(n_bytes: Optional[int]) -> str:
    """A download as package indexes state it, in decimal units: "2.6 GB", "780 MB"; "?" when not known."""
    if not n_bytes:
        return "?"
    return f"{n_bytes / 1e9:.1f} GB" if n_bytes >= 1e9 else f"{n_bytes / 1e6:.0f} MB"


def megabytes(value: float) -> str:
    """Decimal megabytes as pip prints a download's progress: "658.0 MB"."""
    return f"{value:.1f} MB"


def rate(bytes_per_second: Optional[float]) -> str:
    if not bytes_per_second:
        return "?"
    return f"{bytes_per_second / 1e6:.1f} MB/s" if bytes_per_second >= 1e6 else f"{bytes_per_second / 1e3:.0f} kB/s"


def duration(seconds: Optional[float]) -> str:
    if seconds is None:
        return "?"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"
