"""A minimal HTTP/1.1 client over an open socket, built to measure rather than to fetch.

requests hides what envdoctor must name (which step failed, when the first byte came,
whether bytes stopped coming), so the network probe speaks HTTP itself: one request per
connection (Connection: close), a head bounded in size and time, and a body read under
a stall watchdog: each recv waits at most the watchdog's window, so "no byte for N s"
is reported after N s, never after a long socket timeout.
"""
from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

HEAD_LIMIT = 64 * 1024
RECV_SIZE = 64 * 1024


class HttpError(Exception):
    """`problem`: silent (no answer in time), closed, reset, malformed, too-large."""

    def __init__(self, problem: str, detail: str) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail


@dataclass(frozen=True)
class Head:
    status: int
    reason: str
    headers: Tuple[Tuple[str, str], ...]  # names in lower case, in order

    def get(self, name: str) -> Optional[str]:
        values = [v for k, v in self.headers if k == name]
        return ", ".join(values) if values else None


@dataclass(frozen=True)
class Body:
    data: bytes  # the first `keep` bytes, de-chunked when the answer was chunked
    bytes: int  # body bytes received, as sent
    first_byte: Optional[float]  # clock() times
    last_byte: Optional[float]
    ended: str  # complete | closed-early | time | limit | stall | reset


def request(method: str, target: str, host: str, headers: Sequence[Tuple[str, str]] = ()) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")


def parse_head(raw: bytes) -> Head:
    text = raw.decode("latin-1")
    lines = text.split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise HttpError("malformed", f"not an HTTP answer: {lines[0][:60]!r}")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip():
            headers.append((name.strip().lower(), value.strip()))
    return Head(int(parts[1]), parts[2].strip() if len(parts) > 2 else "", tuple(headers))


def dechunk(raw: bytes) -> bytes:
    """The payload of a chunked body; as much as can be decoded when it was cut short."""
    out: List[bytes] = []
    pos = 0
    while True:
        end = raw.find(b"\r\n", pos)
        if end < 0:
            break
        try:
            size = int(raw[pos:end].split(b";")[0].strip() or b"x", 16)
        except ValueError:
            break
        if size == 0:
            break
        out.append(raw[end + 2:end + 2 + size])
        pos = end + 2 + size + 2
        if pos > len(raw):
            break
    return b"".join(out)


class Conn:
    """An open socket (plain or TLS) with a read buffer; every wait is bounded."""

    def __init__(self, sock: socket.socket, clock: Callable[[], float]) -> None:
        self.sock = sock
        self.clock = clock
        self.buf = b""

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data: bytes, timeout: float) -> None:
        try:
            self.sock.settimeout(max(0.001, timeout))
            self.sock.sendall(data)
        except socket.timeout:
            raise HttpError("silent", "the request could not be sent in time") from None
        except (OSError, ssl.SSLError) as exc:
            raise HttpError("reset", f"the connection broke while sending: {exc}") from None

    def read_head(self, timeout: float) -> Head:
        until = self.clock() + timeout
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > HEAD_LIMIT:
                raise HttpError("too-large", f"the answer's headers ran over {HEAD_LIMIT // 1024} KiB")
            left = until - self.clock()
            if left <= 0:
                raise HttpError("silent", f"no answer in {timeout:.1f} s" if not self.buf else
                                f"the answer stopped after {len(self.buf)} bytes of headers")
            try:
                self.sock.settimeout(left)
                chunk = self.sock.recv(RECV_SIZE)
            except socket.timeout:
                continue
            except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
                chunk = b""
            except (OSError, ssl.SSLError) as exc:
                raise HttpError("reset", f"the connection broke before the answer: {exc}") from None
            if not chunk:
                raise HttpError("closed", "the server closed the connection without an answer")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\r\n\r\n", 1)
        if len(raw) > HEAD_LIMIT:
            raise HttpError("too-large", f"the answer's headers ran over {HEAD_LIMIT // 1024} KiB")
        return parse_head(raw)

    def read_body(self, head: Head, until: float, stall: float, limit: int, keep: int) -> Body:
        """Read until the body ends, `until` (clock time), `limit` bytes, or `stall`
        seconds pass without a byte: whichever comes first."""
        length = head.get("content-length")
        expected = int(length) if length and length.isdigit() else None
        chunked = "chunked" in (head.get("transfer-encoding") or "").lower()
        if chunked:
            expected = None  # chunked framing wins over Content-Length (RFC 9112 6.3)
        if head.status in (204, 304) or 100 <= head.status < 200:
            expected = 0
        data, got = self.buf[:keep], len(self.buf)
        begun = self.clock()
        first = last = begun if got else None
        self.buf = b""
        ended = "complete"
        while True:
            if expected is not None and got >= expected:
                break
            if got >= limit:
                ended = "limit"
                break
            now = self.clock()
            if now >= until:
                # silent for the whole window before the end: that is a stall too
                ended = "stall" if now - (last if last is not None else begun) >= stall else "time"
                break
            wait = min(stall, until - now)
            try:
                self.sock.settimeout(max(0.001, wait))
                chunk = self.sock.recv(RECV_SIZE)
            except socket.timeout:
                quiet = self.clock() - (last if last is not None else begun)
                ended = "stall" if wait >= stall or quiet >= stall else "time"
                break
            except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
                chunk = b""
            except (OSError, ssl.SSLError):
                ended = "reset"
                break
            if not chunk:
                if expected is not None and got < expected:
                    ended = "closed-early"
                break
            last = self.clock()
            first = first if first is not None else last
            got += len(chunk)
            if len(data) < keep:
                data += chunk[:keep - len(data)]
        if chunked:
            data = dechunk(data)
        return Body(data, got, first, last, ended)
