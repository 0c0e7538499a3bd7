"""`envdoctor matrices refresh`: propose rows for vLLM and torch releases newer than the data.

Reads the user's package index (pipindex.resolve) through its PEP 691 JSON simple API, and each
new release's core metadata: the PEP 658 `.metadata` file where the index offers one, else the
METADATA member of a wheel fetched by HTTP range requests (the zip's central directory, then
the one member), never the whole wheel. Prints a unified diff against matrices/; never writes.
Columns that package metadata cannot tell (vLLM's CUDA build and minimum compute capability,
torch's CUDA build list) are left empty for the maintainer, with the file to read named in
the row's source.
"""
from __future__ import annotations

import csv
import difflib
import io
import struct
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from email.parser import Parser
from typing import Dict, List, Optional, Sequence, Tuple
from urllib.parse import urljoin

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from envdoctor.compat.tables import TABLES, MatrixError, Matrices, parse_table
from envdoctor.core.errors import InputError

JSON_ACCEPT = "application/vnd.pypi.simple.v1+json"
TAIL_BYTES = 64 * 1024  # enough for the end-of-central-directory record and most directories
MAX_MEMBER_BYTES = 4 * 1024 * 1024  # a METADATA file larger than this is not one
COMPANIONS = ("xformers", "vllm-flash-attn", "flashinfer-python")


class RefreshError(InputError):
    """The index could not be read as needed; one line, never a traceback."""


@dataclass(frozen=True)
class IndexFile:
    filename: str
    url: str
    upload_time: Optional[str]
    has_metadata: bool  # PEP 658/714: a .metadata file sits next to it
    yanked: bool


@dataclass
class Release:
    version: Version
    files: List[IndexFile] = field(default_factory=list)

    def wheels(self) -> List[Tuple[IndexFile, frozenset]]:
        out = []
        for f in self.files:
            try:
                _, _, _, tags = parse_wheel_filename(f.filename)
            except InvalidWheelFilename:
                continue
            out.append((f, tags))
        return out


class Http:
    """A thin requests session: every call has a timeout; errors become RefreshError."""

    def __init__(self, timeout: float) -> None:
        import requests

        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "envdoctor-matrices-refresh"
        self.bytes_read = 0

    def get(self, url: str, headers: Optional[Dict[str, str]] = None, limit: int = 32 * 1024 * 1024,
            expect_partial: bool = False) -> Tuple[int, Dict[str, str], bytes]:
        import requests

        try:
            with self.session.get(url, headers=headers or {}, timeout=self.timeout, stream=True) as resp:
                if expect_partial and resp.status_code == 200:
                    raise RefreshError(f"{redact(url)} ignored the Range header (it would send the whole file); "
                                       "this index needs PEP 658 metadata files")
                body = bytearray()
                for chunk in resp.iter_content(64 * 1024):
                    body.extend(chunk)
                    if len(body) > limit:
                        raise RefreshError(f"{redact(url)} sent more than {limit} bytes; stopped")
                self.bytes_read += len(body)
                return resp.status_code, dict(resp.headers), bytes(body)
        except requests.RequestException as exc:
            raise RefreshError(f"{redact(url)}: {type(exc).__name__}: {redact(str(exc))}") from None


def redact(text: str) -> str:
    from envdoctor.redact import Redactor

    return Redactor().text(text)


def project_releases(http: Http, index_url: str, project: str) -> List[Release]:
    url = urljoin(index_url.rstrip("/") + "/", f"{project}/")
    status, headers, body = http.get(url, {"Accept": JSON_ACCEPT})
    if status != 200:
        raise RefreshError(f"{redact(url)} answered HTTP {status}")
    if "json" not in headers.get("Content-Type", headers.get("content-type", "")):
        raise RefreshError(f"{redact(url)} did not answer with the PEP 691 JSON simple API "
                           f"(Content-Type {headers.get('Content-Type', '?')})")
    import json

    try:
        data = json.loads(body)
    except ValueError as exc:
        raise RefreshError(f"{redact(url)}: not JSON ({exc})") from None
    releases: Dict[Version, Release] = {}
    for entry in data.get("files", []):
        name = entry.get("filename", "")
        version = _version_of(name, project)
        if version is None:
            continue
        meta = entry.get("core-metadata", entry.get("data-dist-info-metadata", False))
        releases.setdefault(version, Release(version)).files.append(IndexFile(
            filename=name, url=urljoin(url, entry.get("url", name)), upload_time=entry.get("upload-time"),
            has_metadata=bool(meta), yanked=bool(entry.get("yanked"))))
    return sorted(releases.values(), key=lambda r: r.version)


def _version_of(filename: str, project: str) -> Optional[Version]:
    if filename.endswith(".whl"):
        try:
            return parse_wheel_filename(filename)[1]
        except InvalidWheelFilename:
            return None
    stem = filename[:-len(".tar.gz")] if filename.endswith(".tar.gz") else None
    if stem and stem.lower().startswith(project.lower() + "-"):
        try:
            return Version(stem[len(project) + 1:])
        except InvalidVersion:
            return None
    return None


# --- wheel METADATA by range requests ----------------------------------------------------------

def metadata_by_range(http: Http, url: str) -> str:
    status, headers, tail = http.get(url, {"Range": f"bytes=-{TAIL_BYTES}"}, limit=TAIL_BYTES,
                                     expect_partial=True)
    if status != 206:
        raise RefreshError(f"{redact(url)} answered HTTP {status} to a range request")
    total = _total_size(headers)
    eocd = tail.rfind(b"PK\x05\x06")
    if eocd < 0 or total is None:
        raise RefreshError(f"{redact(url)}: no zip directory in the last {TAIL_BYTES} bytes")
    cd_size, cd_offset = struct.unpack("<II", tail[eocd + 12:eocd + 20])
    tail_start = total - len(tail)
    if cd_offset >= tail_start:
        directory = tail[cd_offset - tail_start:cd_offset - tail_start + cd_size]
    else:
        _, _, directory = http.get(url, {"Range": f"bytes={cd_offset}-{cd_offset + cd_size - 1}"},
                                   limit=cd_size, expect_partial=True)
    member = _find_member(directory)
    if member is None:
        raise RefreshError(f"{redact(url)}: no .dist-info/METADATA in the wheel")
    method, csize, local_offset = member
    if csize > MAX_MEMBER_BYTES:
        raise RefreshError(f"{redact(url)}: METADATA is {csize} bytes; not reading it")
    span = 30 + 1024 + csize  # the local header (30 bytes + name + extra) then the data
    _, _, chunk = http.get(url, {"Range": f"bytes={local_offset}-{local_offset + span - 1}"}, limit=span,
                           expect_partial=True)
    if len(chunk) < 30 or chunk[:4] != b"PK\x03\x04":
        raise RefreshError(f"{redact(url)}: no zip entry where the directory points")
    name_len, extra_len = struct.unpack("<HH", chunk[26:30])
    data = chunk[30 + name_len + extra_len:30 + name_len + extra_len + csize]
    try:
        if method == 8:
            data = zlib.decompress(data, -15)
        elif method != 0:
            raise RefreshError(f"{redact(url)}: METADATA uses zip method {method}")
    except zlib.error as exc:
        raise RefreshError(f"{redact(url)}: METADATA does not decompress ({exc})") from None
    return data.decode("utf-8", errors="replace")


def _total_size(headers: Dict[str, str]) -> Optional[int]:
    rng = headers.get("Content-Range") or headers.get("content-range") or ""
    if "/" in rng and rng.rsplit("/", 1)[1].isdigit():
        return int(rng.rsplit("/", 1)[1])
    return None


def _find_member(directory: bytes) -> Optional[Tuple[int, int, int]]:
    pos = 0
    while pos + 46 <= len(directory) and directory[pos:pos + 4] == b"PK\x01\x02":
        method, = struct.unpack("<H", directory[pos + 10:pos + 12])
        csize, = struct.unpack("<I", directory[pos + 20:pos + 24])
        name_len, extra_len, comment_len = struct.unpack("<HHH", directory[pos + 28:pos + 34])
        offset, = struct.unpack("<I", directory[pos + 42:pos + 46])
        name = directory[pos + 46:pos + 46 + name_len].decode("utf-8", errors="replace")
        if name.endswith(".dist-info/METADATA") and name.count("/") == 1:
            return method, csize, offset
        pos += 46 + name_len + extra_len + comment_len
    return None


def core_metadata(http: Http, f: IndexFile) -> Tuple[str, str]:
    """(METADATA text, how it was read)."""
    if f.has_metadata:
        status, _, body = http.get(f.url.split("#")[0] + ".metadata", limit=MAX_MEMBER_BYTES)
        if status == 200:
            return body.decode("utf-8", errors="replace"), "PEP 658 metadata file"
    return metadata_by_range(http, f.url.split("#")[0]), "HTTP range reads of the wheel"


# --- proposed rows -------------------------------------------------------------------------------

def _requires(meta: str) -> Tuple[Optional[str], List[Requirement]]:
    msg = Parser().parsestr(meta)
    reqs = []
    for line in msg.get_all("Requires-Dist") or []:
        try:
            reqs.append(Requirement(line))
        except InvalidRequirement:
            continue
    return msg.get("Requires-Python"), reqs


def _date(release: Release) -> str:
    times = sorted(f.upload_time for f in release.files if f.upload_time)
    if not times:
        return ""
    try:
        return datetime.fromisoformat(times[0].replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return times[0][:10]


def _pick_wheel(release: Release, prefer_cpython: bool) -> Optional[IndexFile]:
    candidates = []
    for f, tags in release.wheels():
        if f.yanked:
            continue
        linux_x86 = any(t.platform.startswith("manylinux") and t.platform.endswith("x86_64") for t in tags)
        cp = max((int(t.interpreter[2:]) for t in tags if t.interpreter.startswith("cp")
                  and t.interpreter[2:].isdigit()), default=0)
        candidates.append((linux_x86, f.has_metadata, cp if prefer_cpython else 0, f))
    if not candidates:
        return None
    return max(candidates, key=lambda c: c[:3])[3]


def vllm_row(release: Release, meta: str, wheel: IndexFile, how: str) -> Dict[str, str]:
    python, reqs = _requires(meta)
    torch = next((str(r.specifier) for r in reqs if r.name == "torch" and not r.marker), "")
    companions = [str(r) for r in reqs if r.name in COMPANIONS]
    platforms = sorted({t.platform for _, tags in release.wheels() for t in tags})
    return {
        "version": str(release.version), "release_date": _date(release), "torch": torch,
        "python_requires": python or "", "cuda": "", "min_cc": "", "companions": " | ".join(companions),
        "platforms": " ".join(platforms),
        "source": f"package metadata of vllm=={release.version} ({wheel.filename}: Requires-Dist, Requires-Python; "
                  f"read by {how}); date and platforms from the index's JSON simple API (PEP 691); "
                  f"cuda and min_cc are not in package metadata: fill them from vllm/envs.py "
                  f"(VLLM_MAIN_CUDA_VERSION) and CMakeLists.txt (CUDA_SUPPORTED_ARCHS) at v{release.version}",
    }


def torch_row(release: Release, meta: str, wheel: IndexFile, how: str) -> Dict[str, str]:
    python, reqs = _requires(meta)
    cuda = ""
    for r in reqs:
        pin = next((s.version for s in r.specifier if s.operator == "=="), None)
        if pin and (r.name.startswith("nvidia-cuda-runtime") or r.name == "cuda-toolkit"):
            cuda = ".".join(pin.split(".")[:2])
            break
    # CPython ABIs with a wheel: cp312, and free-threaded builds as cp314t.
    tags = sorted({t.abi for _, ts in release.wheels() for t in ts
                   if t.interpreter.startswith("cp") and t.abi in (t.interpreter, t.interpreter + "t")},
                  key=lambda t: (int(t[2:].rstrip("t") or 0), t.endswith("t")))
    return {
        "version": str(release.version), "release_date": _date(release), "python_requires": python or "",
        "python_tags": " ".join(tags), "default_cuda": cuda, "cuda_builds": "",
        "source": f"package metadata of torch=={release.version} ({wheel.filename}: Requires-Python, Requires-Dist "
                  f"nvidia-cuda-runtime / cuda-toolkit pin; read by {how}); cpython tags and date from the index's "
                  f"JSON simple API (PEP 691); cuda_builds: fill from PyTorch RELEASE.md at v{release.version}",
    }


@dataclass(frozen=True)
class Proposal:
    table: str
    path: str
    new_versions: Tuple[str, ...]
    diff: str
    problems: Tuple[str, ...] = ()  # rows that would not load as written (left for the maintainer)


def propose(http: Http, index_url: str, matrices: Matrices, table: str, limit: int = 10) -> Proposal:
    project = {"vllm": "vllm", "torch": "torch"}[table]
    known = {r.version for r in matrices.table(table)}
    newest = max(known)
    fresh = [r for r in project_releases(http, index_url, project)
             if r.version > newest and not r.version.is_prerelease and not r.version.is_devrelease
             and not r.version.local and not all(f.yanked for f in r.files)]
    fresh = fresh[:limit]
    import os

    path = os.path.join(matrices.directory, TABLES[table].file)
    with open(path, encoding="utf-8") as fh:
        current = fh.read()
    header = next(csv.reader(io.StringIO(current)))
    rows = []
    for release in fresh:
        wheel = _pick_wheel(release, prefer_cpython=(table == "torch"))
        if wheel is None:
            continue
        meta, how = core_metadata(http, wheel)
        rows.append((vllm_row if table == "vllm" else torch_row)(release, meta, wheel, how))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in header})
    proposed = current + ("" if current.endswith("\n") else "\n") + out.getvalue()
    problems: List[str] = []
    try:
        parse_table(table, proposed, f"{TABLES[table].file} (proposed)")
    except MatrixError as exc:
        problems.append(str(exc))
    diff = "".join(difflib.unified_diff(current.splitlines(True), proposed.splitlines(True),
                                        fromfile=f"matrices/{TABLES[table].file}",
                                        tofile=f"matrices/{TABLES[table].file} (proposed)"))
    return Proposal(table, path, tuple(r["version"] for r in rows), diff, tuple(problems))


def run(index_url: str, matrices: Matrices, tables: Sequence[str], timeout: float, limit: int) -> List[Proposal]:
    http = Http(timeout)
    return [propose(http, index_url, matrices, t, limit) for t in tables]
