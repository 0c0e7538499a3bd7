"""A small Hugging Face hub on 127.0.0.1 for tests: the endpoints huggingface_hub calls to read a
model (GET /api/models/ORG/NAME, HEAD and GET /ORG/NAME/resolve/REV/FILE), with gated repositories
(401 without a token, 403 with a wrong one) and 404 for what is missing. It records each request."""
from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional, Tuple
from urllib.parse import unquote, urlparse


@dataclass
class Repo:
    files: Dict[str, bytes]
    safetensors: Optional[dict] = None  # model info's "safetensors": {"parameters": {...}, "total": N}
    gated: bool = False
    sha: str = field(default="")

    def __post_init__(self):
        if not self.sha:
            digest = hashlib.sha1(b"".join(self.files[k] for k in sorted(self.files)))
            self.sha = digest.hexdigest()


class LoopbackHub:
    def __init__(self, repos: Dict[str, Repo], token: str = "hf_loopbacktoken"):
        self.repos, self.token = repos, token
        self.requests: List[Tuple[str, str, Optional[str]]] = []  # (method, path, Authorization)
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                hub._serve(self, body=True)

            def do_HEAD(self):
                hub._serve(self, body=False)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    # --- the endpoints -------------------------------------------------------------------------

    def _serve(self, h: BaseHTTPRequestHandler, body: bool) -> None:
        path = unquote(urlparse(h.path).path)
        auth = h.headers.get("Authorization")
        self.requests.append((h.command, path, auth))
        parts = path.strip("/").split("/")
        if parts[:2] == ["api", "models"] and len(parts) >= 4:
            repo_id = "/".join(parts[2:4])
            repo = self.repos.get(repo_id)
            if repo is None:
                return self._error(h, 404, "RepoNotFound", "Repository not found", body)
            info = {"id": repo_id, "modelId": repo_id, "sha": repo.sha, "private": False,
                    "gated": "manual" if repo.gated else False, "disabled": False, "tags": [],
                    "siblings": [{"rfilename": name} for name in sorted(repo.files)]}
            if repo.safetensors is not None:
                info["safetensors"] = repo.safetensors
            return self._send(h, 200, json.dumps(info).encode(), {"Content-Type": "application/json"}, body)
        if len(parts) >= 5 and parts[2] == "resolve":
            repo_id, filename = "/".join(parts[:2]), "/".join(parts[4:])
            repo = self.repos.get(repo_id)
            if repo is None:
                return self._error(h, 404, "RepoNotFound", "Repository not found", body)
            if repo.gated and auth != f"Bearer {self.token}":
                status = 401 if not auth else 403
                return self._error(h, status, "GatedRepo", f"Access to model {repo_id} is restricted. You must "
                                   "have access to it and be authenticated to access it. Please log in.", body)
            if filename not in repo.files:
                return self._error(h, 404, "EntryNotFound", f"{filename} does not exist on \"main\"", body)
            data = repo.files[filename]
            etag = hashlib.sha1(data).hexdigest()
            return self._send(h, 200, data, {"Content-Type": "application/json", "ETag": f'"{etag}"',
                                             "X-Repo-Commit": repo.sha}, body)
        return self._error(h, 404, None, "Not Found", body)

    def _error(self, h, status: int, code: Optional[str], message: str, body: bool) -> None:
        headers = {"Content-Type": "application/json", "X-Error-Message": message}
        if code:
            headers["X-Error-Code"] = code
        self._send(h, status, json.dumps({"error": message}).encode(), headers, body)

    @staticmethod
    def _send(h, status: int, data: bytes, headers: Dict[str, str], body: bool) -> None:
        h.send_response(status)
        for key, value in headers.items():
            h.send_header(key, value)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if body:
            h.wfile.write(data)


def silent_server():
    """A socket that accepts connections and never answers (a hub behind a broken proxy)."""
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"
