"""What a log says about the download that was running when a network error struck.

pip prints `Downloading torch-2.4.0-...whl (797.2 MB)`, then a progress bar whose last state
(`658.2/797.2 MB 9.3 MB/s eta 0:00:15`) survives in the log, and BuildKit stamps each line
with seconds since the step began. From these: how far it got, how fast it had been going,
and whether the line was slow (a low rate throughout) or stalled (data flowing, then none
for pip's whole read timeout). Looked up backwards from the error line, only when one of
the download-error signatures matched, so it costs nothing on other logs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional
from urllib.parse import unquote

from envdoctor.explain.reader import clean_line

CODES = ("download-stalled", "download-slow", "download-interrupted", "download-corrupted")
UNITS = {"": 1e-6, "b": 1e-6, "k": 1e-3, "kb": 1e-3, "kib": 1.024e-3, "m": 1.0, "mb": 1.0, "mib": 1.048576,
         "g": 1e3, "gb": 1e3, "gib": 1073.741824}
# Below this a large download is slow however well the line behaves otherwise.
SLOW_MB_S = 1.0

DOWNLOAD = re.compile(r"Downloading (?:\S*/)?(?P<file>[^/\s]+?) \((?P<size>[\d.]+)\s*(?P<unit>[kKMG]i?B)\)")
WHEEL = re.compile(r"^(?P<name>[A-Za-z0-9_.]+?)-(?P<version>\d[^-]*)-")
STAMP = re.compile(r"^(?:#\d+\s+)?(?P<ts>\d+\.\d+)\s")
PROGRESS = (
    # pip >= 22 (rich): 658.2/797.2 MB 9.3 MB/s eta 0:00:15
    re.compile(r"(?P<done>[\d.]+)/(?P<total>[\d.]+)\s*(?P<unit>[kMG]i?B)\s+(?P<rate>[\d.]+)\s*(?P<runit>[kMG]?i?B)/s"
               r"(?:\s+eta\s+(?P<eta>[\d:]+))?"),
    # tqdm (huggingface_hub): 1.40G/3.09G [02:13<02:39, 10.5MB/s]
    re.compile(r"(?P<done>[\d.]+)(?P<unit>[kMG]?)/(?P<total>[\d.]+)(?P<tunit>[kMG]?)\s*\[[\d:]+<(?P<eta>[\d:?]+),"
               r"\s*(?P<rate>[\d.]+)(?P<runit>[kMG]?B)/s\]"),
    # pip < 22: |██████▌        | 399.4 MB 9.3 MB/s eta 0:00:30
    re.compile(r"\|\s*(?P<done>[\d.]+)\s*(?P<unit>[kMG]B)\s+(?P<rate>[\d.]+)\s*(?P<runit>[kMG]?B)/s"
               r"(?:\s+eta\s+(?P<eta>[\d:]+))?"),
)
COLLECTING = re.compile(r"Collecting (?P<req>[A-Za-z0-9_.\-\[\]]+)(?P<spec>[^\s(]*)(?: \(from (?P<chain>.*)\))?")


@dataclass(frozen=True)
class DownloadContext:
    file: str
    name: str
    version: Optional[str]
    size_mb: float
    size_text: str  # as pip printed it: "797.2 MB"
    started_at: Optional[float] = None  # BuildKit seconds since the step began
    done_mb: Optional[float] = None
    rate_mb_s: Optional[float] = None  # the last rate the progress bar showed
    eta: Optional[str] = None
    progress_at: Optional[float] = None
    progress_text: Optional[str] = None
    requirement: Optional[str] = None  # "torch" as collected (no specifier: unpinned)
    required_by: Optional[str] = None  # "mamba-ssm>=1.2.2->-r requirements-mamba.txt (line 2)"
    # How many lines before the error line each of these was printed.
    lines_back: int = 0
    progress_lines_back: Optional[int] = None
    requirement_lines_back: Optional[int] = None

    @property
    def pinned(self) -> bool:
        return bool(self.requirement) and self.requirement != self.name and \
            any(op in self.requirement for op in ("==", "<", ">", "~=", "!="))

    @property
    def percent(self) -> Optional[float]:
        return None if self.done_mb is None or not self.size_mb else 100.0 * self.done_mb / self.size_mb

    @property
    def average_mb_s(self) -> Optional[float]:
        """Megabytes per second from the download's start to its last progress state."""
        if None in (self.started_at, self.progress_at, self.done_mb):
            return None
        seconds = self.progress_at - self.started_at
        return self.done_mb / seconds if seconds > 0 else None

    @property
    def slow(self) -> bool:
        rates = [r for r in (self.rate_mb_s, self.average_mb_s) if r is not None]
        return bool(rates) and max(rates) < SLOW_MB_S


def _mb(value: str, unit: str) -> float:
    return float(value) * UNITS.get(unit.lower(), 1.0)


def _stamp(line: str) -> Optional[float]:
    m = STAMP.match(line)
    return float(m.group("ts")) if m else None


def _last_line(window: bytes, needle: bytes, end: int) -> Optional[int]:
    pos = window.rfind(needle, 0, end)
    return None if pos == -1 else window.rfind(b"\n", 0, pos) + 1


def look_back(window: bytes) -> Optional[DownloadContext]:
    """The last non-metadata download in `window` (the log up to the error line)."""
    end, found = len(window), None
    while found is None:
        start = _last_line(window, b"Downloading ", end)
        if start is None:
            return None
        stop = window.find(b"\n", start)
        line = clean_line(window[start:stop if stop != -1 else len(window)])
        m = DOWNLOAD.search(line)
        if m and not m.group("file").endswith(".metadata"):
            found, line_start, line_end = (m, line), start, (stop if stop != -1 else len(window))
        end = start
    m, line = found
    file = unquote(m.group("file"))
    wheel = WHEEL.match(file)
    name = wheel.group("name") if wheel else file.split("-")[0]
    after = window[line_end:].split(b"\n")  # [rest of the download line, next line, ...]
    progress = None
    for k in range(len(after) - 1, 0, -1):
        for segment in reversed(after[k].split(b"\r")):
            text = clean_line(segment)
            p = next((hit for hit in (pat.search(text) for pat in PROGRESS) if hit), None)
            if p:
                progress = (p, text, len(after) - 1 - k)
                break
        if progress:
            break
    done = rate = eta = at = text = progress_back = None
    if progress:
        p, text, progress_back = progress
        done = _mb(p.group("done"), p.group("unit") or (p.groupdict().get("tunit") or ""))
        rate = _mb(p.group("rate"), p.group("runit"))
        eta, at = p.groupdict().get("eta"), _stamp(text)
    requirement = required_by = requirement_back = None
    before = _last_line(window, b"Collecting " + name.encode(), line_start)
    if before is not None:
        stop = window.find(b"\n", before)
        c = COLLECTING.search(clean_line(window[before:stop if stop != -1 else line_start]))
        if c:
            requirement, required_by = c.group("req") + c.group("spec"), c.group("chain")
            requirement_back = window.count(b"\n", before)
    return DownloadContext(
        file=file, name=name, version=wheel.group("version") if wheel else None,
        size_mb=_mb(m.group("size"), m.group("unit")), size_text=f"{m.group('size')} {m.group('unit')}",
        started_at=_stamp(line), done_mb=done, rate_mb_s=rate, eta=eta, progress_at=at, progress_text=text,
        requirement=requirement, required_by=required_by, lines_back=window.count(b"\n", line_start),
        progress_lines_back=progress_back, requirement_lines_back=requirement_back)
