"""One file from an index into the wheelhouse: resumable, watched, verified.

- A download goes to NAME.part; after a dropped connection the next attempt asks for the rest with
  an HTTP Range request (a server that ignores it answers 200: the part is started over, never
  appended to). So a re-run after an interruption fetches only what is missing.
- Stall watchdog: the socket read timeout ends an attempt that receives nothing for `stall_seconds`;
  a trickle below `min_rate` bytes/s over a `window` also ends it. Either way the next attempt resumes.
- One download at a time per wheelhouse: applies sharing one take turns (a lock on the folder
  itself, so nothing is left in it), and the second finds the file complete.
- The finished file must match the SHA-256 the index published; a mismatch deletes it and refuses
  (a broken mirror, a proxy that rewrites files, or tampering): nothing is installed from it.
"""
from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass
from typing import Callable, Optional

CHUNK = 64 * 1024  # a dropped connection loses at most the chunk being read


class DownloadError(Exception):
    """kind: network (gave up after retries, HTTP error) or hash (the file is not what the index says)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class Stalled(Exception):
    pass


@dataclass(frozen=True)
class Fetched:
    path: str
    bytes_fetched: int  # over the network in this call
    attempts: int
    reused: bool  # already complete in the wheelhouse


@dataclass(frozen=True)
class Policy:
    connect_timeout: float = 15.0
    stall_seconds: float = 30.0  # no byte for this long: the attempt is over
    window: float = 30.0  # ... and below min_rate over this window too
    min_rate: float = 1024.0  # bytes per second
    attempts: int = 8
    backoff: float = 1.0  # seconds, doubled each attempt, at most 30


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1024 * 1024), b""):
            h.update(block)
    return h.hexdigest()


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def fetch(url: str, dest: str, sha256: Optional[str], session=None, policy: Policy = Policy(),
          progress: Optional[Callable[[int, Optional[int]], None]] = None,
          sleep: Callable[[float], None] = time.sleep) -> Fetched:
    """Download `url` to `dest` (resuming `dest`.part), verify `sha256`; raises DownloadError."""
    import fcntl

    folder = os.open(os.path.dirname(os.path.abspath(dest)), os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)  # another apply downloading into this wheelhouse: wait for it
        return _fetch(url, dest, sha256, session, policy, progress, sleep)
    finally:
        os.close(folder)


def _fetch(url: str, dest: str, sha256: Optional[str], session, policy: Policy,
           progress: Optional[Callable[[int, Optional[int]], None]], sleep: Callable[[float], None]) -> Fetched:
    import requests

    if os.path.exists(dest) and (sha256 is None or sha256_of(dest) == sha256):
        return Fetched(dest, 0, 0, True)
    session = session or requests.Session()
    part = dest + ".part"
    fetched, last_error, restarted = 0, "", False
    for attempt in range(1, policy.attempts + 1):
        have = _size(part)
        headers = {"Range": f"bytes={have}-"} if have else {}
        try:
            with session.get(url, headers=headers, stream=True,
                             timeout=(policy.connect_timeout, policy.stall_seconds)) as resp:
                total = _expected_total(resp, have)
                if resp.status_code == 416 and have:
                    total = have  # nothing left to send: the part may be complete
                elif resp.status_code == 206 and _range_start(resp) == have:
                    pass
                elif resp.status_code == 206:  # resumed somewhere else: never splice, start over
                    with open(part, "wb"):
                        pass
                    raise requests.ConnectionError("the server resumed at another offset than asked")
                elif resp.status_code == 200:
                    have = 0  # the server sent the whole file: start the part over
                    with open(part, "wb"):
                        pass
                elif resp.status_code in (408, 429) or resp.status_code >= 500:
                    raise requests.ConnectionError(f"HTTP {resp.status_code}")
                else:
                    raise DownloadError("network", f"{_short(url)}: HTTP {resp.status_code} {resp.reason or ''}".strip())
                if resp.status_code != 416:
                    fetched += _stream(resp, part, have, total, policy, progress)
        except DownloadError:
            raise
        except (requests.RequestException, Stalled, OSError) as exc:
            last_error = _why(exc)
            if attempt < policy.attempts:
                sleep(min(policy.backoff * 2 ** (attempt - 1), 30.0))
            continue
        if total is not None and _size(part) < total:
            last_error = f"connection closed at {_size(part)} of {total} bytes"
            continue
        if sha256 is not None and sha256_of(part) != sha256:
            os.remove(part)
            if have and not restarted:  # a spliced resume may be at fault: once more from the start
                restarted, last_error = True, "SHA-256 mismatch after a resume"
                continue
            raise DownloadError("hash", f"{os.path.basename(dest)}: SHA-256 does not match the hash the index "
                                        f"publishes ({sha256[:16]}...): refused")
        os.replace(part, dest)
        return Fetched(dest, fetched, attempt, False)
    raise DownloadError("network", f"{_short(url)}: gave up after {policy.attempts} attempts ({last_error}); "
                                   "rerun to resume from the bytes already saved")


def _stream(resp, part: str, have: int, total: Optional[int], policy: Policy,
            progress: Optional[Callable[[int, Optional[int]], None]]) -> int:
    got = 0
    window_start, window_bytes = time.monotonic(), 0
    with open(part, "ab") as fh:
        for chunk in resp.iter_content(CHUNK):
            if not chunk:
                continue
            fh.write(chunk)
            got += len(chunk)
            window_bytes += len(chunk)
            if progress is not None:
                progress(have + got, total)
            now = time.monotonic()
            if now - window_start >= policy.window:
                if window_bytes / (now - window_start) < policy.min_rate:
                    raise Stalled(f"under {policy.min_rate:.0f} B/s for {policy.window:.0f} s")
                window_start, window_bytes = now, 0
    return got


def _expected_total(resp, have: int) -> Optional[int]:
    m = re.match(r"bytes \d+-\d+/(\d+)", resp.headers.get("Content-Range", ""))
    if m:
        return int(m.group(1))
    length = resp.headers.get("Content-Length")
    if length and length.isdigit():
        return int(length) + (have if resp.status_code == 206 else 0)
    return None


def _range_start(resp) -> Optional[int]:
    m = re.match(r"bytes (\d+)-", resp.headers.get("Content-Range", ""))
    return int(m.group(1)) if m else None


def _why(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if "Read timed out" in text or isinstance(exc, Stalled):
        return f"stalled: {text[:160]}"
    return f"{type(exc).__name__}: {text[:160]}"


def _short(url: str) -> str:
    from envdoctor.redact import Redactor

    return Redactor().text(url.split("#")[0])
