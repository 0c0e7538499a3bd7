"""Real servers on loopback that behave like the network users meet: a package index that
answers, one that is slow, one that stalls mid-file, a self-signed one, a proxy that
wants credentials, a port that accepts and never answers. Never the internet.

Each server runs in daemon threads and close() ends them and every open connection.
"""
from __future__ import annotations

import base64
import os
import socket
import ssl
import threading
import time
from typing import Callable, Dict, Optional, Set, Tuple

TLS_DIR = os.path.join(os.path.dirname(__file__), "fixtures", "tls")
TORCH_WHEEL = "torch-2.5.1+cu121-cp311-cp311-linux_x86_64.whl"
TORCH_SIZE = 797_200_000


def tls_server_context(name: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(TLS_DIR, f"{name}.pem"), os.path.join(TLS_DIR, f"{name}.key"))
    return context


def read_request(conn: socket.socket, timeout: float = 5.0) -> Tuple[str, str, Dict[str, str], bytes]:
    """(method, target, headers, raw head) of one request."""
    conn.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0]
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return method, target, headers, head


class Loopback:
    """A TCP server on 127.0.0.1 (or ::1); handler(conn, server) runs per connection."""

    def __init__(self, handler: Callable[[socket.socket, "Loopback"], None],
                 tls: Optional[ssl.SSLContext] = None, host: str = "127.0.0.1") -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(64)
        self.sock.settimeout(0.05)
        self.host, self.port = host, self.sock.getsockname()[1]
        self.handler, self.tls = handler, tls
        self.closed = threading.Event()
        self.conns: Set[socket.socket] = set()
        self.requests = []  # (method, target, headers) seen, for assertions
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._accept, daemon=True, name="test-server")]
        self.threads[0].start()

    def url(self, path: str = "/", scheme: Optional[str] = None) -> str:
        scheme = scheme or ("https" if self.tls else "http")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}{path}"

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                conn, _addr = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.conns.add(conn)
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True, name="test-conn")
            self.threads.append(t)
            t.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.tls is not None:
                conn.settimeout(5)
                conn = self.tls.wrap_socket(conn, server_side=True)
                with self.lock:
                    self.conns.add(conn)
            self.handler(conn, self)
        except Exception:  # noqa: BLE001 - clients hang up mid-answer on purpose
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def sleep(self, seconds: float) -> bool:
        """Sleep unless the server closes; False when it closed."""
        return not self.closed.wait(seconds)

    def close(self) -> None:
        self.closed.set()
        self.sock.close()
        with self.lock:
            conns = list(self.conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                c.close()
            except OSError:
                pass
        for t in self.threads:
            t.join(2)

    def __enter__(self) -> "Loopback":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def answer(conn: socket.socket, status: str, body: bytes = b"", headers: Tuple[Tuple[str, str], ...] = ()) -> None:
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in headers]
    conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)


def index_page(*names: str) -> bytes:
    links = "".join(f'<a href="/files/{n}#sha256=00">{n}</a><br/>' for n in names)
    return f"<!DOCTYPE html><html><body>{links}</body></html>".encode()


def index(rate: Optional[float] = None, stall_after: Optional[int] = None, status: Optional[str] = None,
          credentials: Optional[Tuple[str, str]] = None, slow_start: bool = False
          ) -> Callable[[socket.socket, Loopback], None]:
    """A simple index with /simple/torch/ and /simple/pip/ pages and Range-capable files
    (zeros), which also answers the Hugging Face hub's /<repo>/resolve/main/<file>. `rate` throttles
    file bytes per second; `stall_after` bytes of a file, then
    silence; `status` answers every request with it; `credentials` demands Basic auth;
    `slow_start` files answer nothing (a caching proxy still fetching them upstream)."""

    def handle(conn: socket.socket, server: Loopback) -> None:
        method, target, headers, _raw = read_request(conn)
        server.requests.append((method, target, headers))
        if credentials is not None:
            want = "Basic " + base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()
            if headers.get("authorization") != want:
                answer(conn, "401 Unauthorized", b"login", (("WWW-Authenticate", 'Basic realm="index"'),))
                return
        if status:
            answer(conn, status, b"no")
            return
        path = target.split("?", 1)[0]
        if path == "/simple/torch/":
            answer(conn, "200 OK", index_page("torch-2.5.1-cp311-cp311-win_amd64.whl", TORCH_WHEEL),
                   (("Content-Type", "text/html"),))
        elif path == "/simple/pip/":
            answer(conn, "200 OK", index_page("pip-25.2-py3-none-any.whl"), (("Content-Type", "text/html"),))
        elif path.endswith("/resolve/main/config.json"):  # the Hugging Face hub's file route
            answer(conn, "200 OK", b'{"model_type": "qwen2"}', (("Content-Type", "application/json"),))
        elif slow_start and path.startswith("/files/"):
            server.sleep(30)
        elif path.startswith("/files/") or "/resolve/main/" in path:
            total = TORCH_SIZE if "torch-" in path else 1_800_000
            first, last = 0, total - 1
            rng = headers.get("range", "")
            if rng.startswith("bytes="):
                a, _, b = rng[6:].partition("-")
                first, last = int(a), min(int(b) if b else total - 1, total - 1)
            length = last - first + 1
            extra = (("Content-Range", f"bytes {first}-{last}/{total}"),) if rng else ()
            code = "206 Partial Content" if rng else "200 OK"
            head = [f"HTTP/1.1 {code}", f"Content-Length: {length}", "Connection: close"]
            head += [f"{k}: {v}" for k, v in extra]
            conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
            sent, block = 0, b"\0" * 16384
            started = time.monotonic()
            while sent < length and not server.closed.is_set():
                if stall_after is not None and sent >= stall_after:
                    server.sleep(30)  # silence, connection open: a stall
                    return
                piece = block[:min(len(block), length - sent)]
                conn.sendall(piece)
                sent += len(piece)
                if rate:
                    ahead = sent / rate - (time.monotonic() - started)
                    if ahead > 0 and not server.sleep(ahead):
                        return
        else:
            answer(conn, "404 Not Found", b"nope")

    return handle


def black_hole(conn: socket.socket, server: Loopback) -> None:
    """Accept, never answer, hold the connection until the client leaves."""
    conn.settimeout(0.1)
    while not server.closed.is_set():
        try:
            if not conn.recv(65536):
                return
        except socket.timeout:
            continue


def endless_headers(conn: socket.socket, server: Loopback) -> None:
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    line = b"X-Pad: " + b"a" * 1000 + b"\r\n"
    for _ in range(10_000):  # 10 MB at most
        if server.closed.is_set():
            return
        conn.sendall(line)


def endless_body(conn: socket.socket, server: Loopback) -> None:
    """200 with no length, then bytes as fast as possible until the client leaves."""
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
    block = b"x" * 65536
    for _ in range(100_000):
        if server.closed.is_set():
            return
        conn.sendall(block)


def _pipe(a: socket.socket, b: socket.socket, server: Loopback) -> None:
    a.settimeout(0.2)
    try:
        while not server.closed.is_set():
            try:
                data = a.recv(65536)
            except socket.timeout:
                continue
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def proxy(credentials: Optional[Tuple[str, str]] = None) -> Callable[[socket.socket, Loopback], None]:
    """A forward proxy: CONNECT tunnels and absolute-form GETs, to 127.0.0.1 only; 407
    with `Proxy-Authenticate: Basic` unless the request carries `credentials`."""

    def handle(conn: socket.socket, server: Loopback) -> None:
        method, target, headers, raw = read_request(conn)
        server.requests.append((method, target, headers))
        if credentials is not None:
            want = "Basic " + base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()
            if headers.get("proxy-authorization") != want:
                answer(conn, "407 Proxy Authentication Required", b"",
                       (("Proxy-Authenticate", 'Basic realm="test proxy"'),))
                return
        if method == "CONNECT":
            hostport, path = target, ""
        else:
            hostport, _, path = target.split("://", 1)[1].partition("/")
        host, _, port = hostport.rpartition(":")
        host = host.strip("[]")
        if host not in ("127.0.0.1", "::1"):  # a test proxy never reaches out of the machine
            answer(conn, "502 Bad Gateway", b"loopback only")
            return
        upstream = socket.create_connection((host, int(port or 80)), timeout=2)
        if method == "CONNECT":
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            lines = raw.decode("latin-1").split("\r\n")
            lines[0] = f"{method} /{path} HTTP/1.1"
            lines = [h for h in lines if not h.lower().startswith("proxy-authorization")]
            upstream.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        with server.lock:
            server.conns.add(upstream)
        t = threading.Thread(target=_pipe, args=(upstream, conn, server), daemon=True)
        t.start()
        _pipe(conn, upstream, server)
        t.join(2)
        upstream.close()

    return handle


def refused_port() -> int:
    """A port nothing listens on (bound, then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
