"""A package index on 127.0.0.1 for apply's tests: PEP 503 HTML and PEP 691 JSON project pages with
PEP 658/714 metadata files, wheels the tests build themselves, HTTP Range, and misbehaviour on demand
(drop the connection half-way once, stall half-way once, publish a wrong hash, ignore Range).
It counts the wheel bytes it sends, per file."""
from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import threading
import time
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional, Sequence, Set, Union


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def metadata_text(name: str, version: str, requires: Sequence[str] = ()) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    return "\n".join(lines) + "\n\n"


def make_wheel(
    directory: str,
    name: str,
    version: str,
    files: Dict[str, Union[str, bytes]],
    requires: Sequence[str] = (),
    padding: int = 0,
    metadata: Optional[str] = None,
) -> str:
    """A minimal valid py3-none-any wheel; `padding` bytes of incompressible data make it big enough to
    be cut half-way."""
    dist = re.sub(r"[-_.]+", "_", name)
    info = f"{dist}-{version}.dist-info"
    contents: Dict[str, bytes] = {p: d if isinstance(d, bytes) else d.encode() for p, d in files.items()}
    if padding:
        contents[f"{dist}_padding/blob.bin"] = os.urandom(padding)
    contents[f"{info}/METADATA"] = (metadata or metadata_text(name, version, requires)).encode()
    contents[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: envdoctor-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n"
    )
    record = "".join(f"{p},{_record_hash(d)},{len(d)}\n" for p, d in contents.items()) + f"{info}/RECORD,,\n"
    contents[f"{info}/RECORD"] = record.encode()
    path = os.path.join(directory, f"{dist}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for p, d in contents.items():
            zf.writestr(p, d)
    return path


def wheel_metadata(path: str) -> bytes:
    with zipfile.ZipFile(path) as zf:
        member = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return zf.read(member)


@dataclass
class Served:
    project: str
    path: str
    sha256: str
    metadata: bytes


@dataclass
class Index:
    """One index: /<prefix>/simple/<project>/ and /<prefix>/files/<file>."""

    prefix: str
    files: List[Served] = field(default_factory=list)

    def add(self, project: str, path: str) -> Served:
        with open(path, "rb") as fh:
            digest = hashlib.sha256(fh.read()).hexdigest()
        served = Served(re.sub(r"[-_.]+", "-", project).lower(), path, digest, wheel_metadata(path))
        self.files.append(served)
        return served


class LoopbackIndex:
    def __init__(self) -> None:
        self.indexes: Dict[str, Index] = {}
        self.sent: Dict[str, int] = {}  # wheel bytes sent, by file name
        self.requests: List[str] = []
        self.drop_once: Set[str] = set()
        self.stall_once: Dict[str, float] = {}
        self.wrong_hash: Set[str] = set()
        self.ignore_range: Set[str] = set()
        self._lock = threading.Lock()
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "LoopbackIndex":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def count(self, name: str, n: int) -> None:
        with self._lock:
            self.sent[name] = self.sent.get(name, 0) + n

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def index(self, prefix: str) -> Index:
        return self.indexes.setdefault(prefix, Index(prefix))

    def simple_url(self, prefix: str) -> str:
        return f"{self.root}/{prefix}/simple/"

    def file_url(self, prefix: str, name: str) -> str:
        return f"{self.root}/{prefix}/files/{name}"

    def _find(self, prefix: str, name: str) -> Optional[Served]:
        index = self.indexes.get(prefix)
        return next((f for f in index.files if os.path.basename(f.path) == name), None) if index else None

    def _handler(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                from urllib.parse import unquote

                path = unquote(self.path)
                owner.requests.append(path)
                m = re.fullmatch(r"/([^/]+)/simple/([^/]+)/", path)
                if m:
                    return self._project(m.group(1), m.group(2))
                m = re.fullmatch(r"/([^/]+)/files/([^/]+?)(\.metadata)?", path)
                if m:
                    served = owner._find(m.group(1), m.group(2))
                    if served is None:
                        return self._send(404, b"not found", "text/plain")
                    if m.group(3):
                        return self._send(200, served.metadata, "text/plain")
                    return self._file(served)
                return self._send(404, b"not found", "text/plain")

            def _send(self, status: int, body: bytes, ctype: str, headers: Optional[Dict[str, str]] = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _project(self, prefix: str, project: str) -> None:
                index = owner.indexes.get(prefix)
                files = [f for f in (index.files if index else []) if f.project == project.lower()]
                if not files:
                    return self._send(404, b"not found", "text/plain")
                def digest(f: Served) -> str:
                    return "0" * 64 if os.path.basename(f.path) in owner.wrong_hash else f.sha256
                if "application/vnd.pypi.simple.v1+json" in self.headers.get("Accept", ""):
                    doc = {"meta": {"api-version": "1.0"}, "name": project, "files": [
                        {"filename": os.path.basename(f.path), "url": owner.file_url(prefix, os.path.basename(f.path)),
                         "hashes": {"sha256": digest(f)},
                         "core-metadata": {"sha256": hashlib.sha256(f.metadata).hexdigest()},
                         "dist-info-metadata": {"sha256": hashlib.sha256(f.metadata).hexdigest()}} for f in files]}
                    return self._send(200, json.dumps(doc).encode(), "application/vnd.pypi.simple.v1+json")
                links = []
                for f in files:
                    name = os.path.basename(f.path)
                    meta = "sha256=" + hashlib.sha256(f.metadata).hexdigest()
                    links.append(
                        f'<a href="{html.escape(owner.file_url(prefix, name))}#sha256={digest(f)}" '
                        f'data-dist-info-metadata="{meta}" data-core-metadata="{meta}">{html.escape(name)}</a>'
                    )
                body = ("<!DOCTYPE html><html><body>" + "<br>".join(links) + "</body></html>").encode()
                self._send(200, body, "text/html")

            def _file(self, served: Served) -> None:
                name = os.path.basename(served.path)
                with open(served.path, "rb") as fh:
                    data = fh.read()
                start = 0
                m = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
                if m and name not in owner.ignore_range:
                    start = int(m.group(1))
                if start >= len(data) and start:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = data[start:]
                self.send_response(206 if start else 200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.end_headers()
                with owner._lock:
                    drop = name in owner.drop_once
                    owner.drop_once.discard(name)
                    stall = owner.stall_once.pop(name, None)
                if drop or stall is not None:
                    half = body[: len(body) // 2]
                    owner.count(name, len(half))
                    self.wfile.write(half)
                    self.wfile.flush()
                    if stall is not None:
                        time.sleep(stall)
                    self.close_connection = True
                    return
                owner.count(name, len(body))  # before writing: the client may be done before this thread
                self.wfile.write(body)

        return Handler
