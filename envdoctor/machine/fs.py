"""Read-only file access rooted at "/" (the machine) or at a fixture directory.

Probes speak in absolute machine paths ("/proc/version"); a fixture machine maps them
under its own root, so the same probe code reads a recorded WSL2 laptop in tests.
"""
from __future__ import annotations

import glob as _glob
import os
import shutil
from typing import List, NamedTuple, Optional

READ_LIMIT = 1024 * 1024


class DiskUsage(NamedTuple):
    total: int
    free: int


class RootedFS:
    """Files under `root`; paths given and returned are absolute machine paths."""

    def __init__(self, root: str = "/", disk: Optional[dict] = None) -> None:
        self.root = os.path.abspath(root)
        # Fixture machines state disk space explicitly: {mount point: {"total": n, "free": n}}.
        self._disk = disk

    def _host(self, path: str) -> str:
        if self.root == "/":
            return path
        return os.path.join(self.root, path.lstrip("/"))

    def _machine(self, host_path: str) -> str:
        if self.root == "/":
            return host_path
        rel = os.path.relpath(host_path, self.root)
        return "/" if rel == "." else "/" + rel

    def read_text(self, path: str, limit: int = READ_LIMIT) -> Optional[str]:
        """The file's text (invalid UTF-8 replaced), or None if it cannot be read."""
        try:
            with open(self._host(path), "rb") as fh:
                return fh.read(limit).decode("utf-8", errors="replace")
        except OSError:
            return None

    def exists(self, path: str) -> bool:
        return os.path.lexists(self._host(path))

    def is_dir(self, path: str) -> bool:
        return os.path.isdir(self._host(path))

    def is_executable(self, path: str) -> bool:
        host = self._host(path)
        if self.root == "/":
            return os.path.isfile(host) and os.access(host, os.X_OK)
        return os.path.isfile(host)  # fixture placeholders need not carry mode bits

    def glob(self, pattern: str) -> List[str]:
        return sorted(self._machine(p) for p in _glob.glob(self._host(pattern)))

    def realpath(self, path: str) -> str:
        """Resolve links; a fixture's links are relative, so they stay inside its root."""
        return self._machine(os.path.realpath(self._host(path)))

    def disk_usage(self, path: str) -> Optional[DiskUsage]:
        """Space on the file system holding `path` (its nearest existing parent)."""
        if self._disk is not None:
            best = max((m for m in self._disk if path == m or path.startswith(m.rstrip("/") + "/")),
                       key=len, default=None)
            if best is None:
                return None
            return DiskUsage(int(self._disk[best]["total"]), int(self._disk[best]["free"]))
        probe = path
        while probe and not os.path.exists(probe):
            parent = os.path.dirname(probe)
            if parent == probe:
                break
            probe = parent
        try:
            usage = shutil.disk_usage(probe or "/")
        except OSError:
            return None
        return DiskUsage(usage.total, usage.free)
