"""Reach one target step by step, stopping at the first failure and naming it.

Direct: dns -> tcp -> tls -> http -> (transfer) -> sample. Through a proxy:
proxy-connect -> (proxy-tls) -> tunnel (CONNECT) -> tls -> http -> ... Each step has
its own timeout, cut short by the area's deadline, so a black-holed host costs seconds,
never minutes. Throughput is a bounded Range sample; a stall is "no byte for
STALL_SECONDS", seen by the read's own watchdog window (machine/http1.py).

By default a target gets a share of LIGHT_BYTES (about 1 MiB for the whole check): a
Range of its page and a Range of one file, enough for the headers, the time to the first
byte and a floor on the rate. `allowance=None` (--speed) samples SAMPLE_RANGE per file.
"""
from __future__ import annotations

import base64
import ipaddress
import re
import socket
import ssl
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple, Union
from urllib.parse import unquote, urljoin, urlsplit

from envdoctor import __version__
from envdoctor.core.facts import NetStep, NetTarget, Throughput
from envdoctor.machine.http1 import Body, Conn, Head, HttpError, request
from envdoctor.machine.net import Address, Net, NetError, describe
from envdoctor.machine.x509 import issuer_and_subject
from envdoctor.probes.net_config import CaChoice, ProxyChoice, proxy_address, proxy_credentials

DNS_TIMEOUT = 2.0
TCP_TIMEOUT = 1.5
TLS_TIMEOUT = 1.5
HEAD_TIMEOUT = 2.0
STALL_SECONDS = 1.5  # no byte for this long while a transfer is under way: a stall
PAGE_SECONDS = 1.5
PAGE_LIMIT = 2 * 1024 * 1024
SAMPLE_SECONDS = 2.0
SAMPLE_MIN = 0.3  # less time left than this: no sample
SAMPLE_RANGE = 32 * 1024 * 1024  # caching proxies fetch a whole range before the first byte: keep it modest
LIGHT_BYTES = 1024 * 1024  # the default check's body bytes, every target together (metered lines)
LIGHT_HEAD_RESERVE = 8 * 1024  # kept back from each target's share for the response heads
SMALL_RANGE_MIN = 16 * 1024  # less than this left: no file sample
RATE_MIN = 64 * 1024  # fewer bytes say nothing about a rate
SMALL_RATE_MIN = 16 * 1024
MAX_REDIRECTS = 4
# What an install must fetch in one piece: torch-2.4.0-cp310-cp310-manylinux1_x86_64.whl,
# "(797.2 MB)" in pip's own log of the first user's failing build (shared/seed/docker-build.log).
TORCH_WHEEL_BYTES = 797_200_000
USER_AGENT = f"envdoctor/{__version__} (network check)"

TlsContext = Union[ssl.SSLContext, str]  # a context, or why the CA bundle could not be loaded


@dataclass(frozen=True)
class TargetSpec:
    kind: str
    url: str  # with any credentials; only the redacted form reaches the facts
    source: str
    proxy: ProxyChoice
    ca: CaChoice
    pages: Tuple[str, ...]  # the small real request; tried in order while they answer 404
    required: bool = False
    sample: Optional[str] = None  # a fixed file for the throughput sample
    links: bool = False  # else: a wheel linked from the page
    not_found_ok: bool = False  # 404 on every page is fine (a private extra index)
    ranged_page: bool = False  # the page is itself the sample: one Range GET, read up to SAMPLE_SECONDS
    notes: Tuple[str, ...] = ()
    unused: Optional[str] = None  # why this target's failure blocks nothing


class Stop(Exception):
    """The trace ends here (a step failed, or nothing more can be checked)."""


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _host_header(parts) -> str:
    return parts.netloc.rpartition("@")[2]


def _ip(host: str) -> Optional[ipaddress._BaseAddress]:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def pick_wheel(page_url: str, html: bytes, machine: str) -> Optional[str]:
    """The file to sample from an index page: a torch wheel for this machine if listed
    (the big download an install needs), else the last wheel, else None."""
    links = [urljoin(page_url, h).split("#")[0]
             for h in re.findall(rb"""href\s*=\s*["']([^"']+)["']""", html)
             for h in [h.decode("utf-8", "replace")]]
    wheels = [u for u in links if urlsplit(u).path.endswith(".whl")]
    if not wheels:
        return None
    arch = machine.lower().replace("amd64", "x86_64")

    def name(u: str) -> str:
        return unquote(urlsplit(u).path.rsplit("/", 1)[-1]).lower()

    for pick in ([u for u in wheels if name(u).startswith("torch-") and arch in name(u) and "linux" in name(u)],
                 [u for u in wheels if name(u).startswith("torch-")], wheels):
        if pick:
            return pick[-1]
    return None


def _content_total(head: Head) -> Optional[int]:
    m = re.match(r"bytes \d+-\d+/(\d+)", head.get("content-range") or "")
    if m:
        return int(m.group(1))
    length = head.get("content-length")
    return int(length) if head.status == 200 and length and length.isdigit() else None


class Tracer:
    def __init__(self, spec: TargetSpec, net: Net, tls_context: TlsContext, clock: Callable[[], float],
                 deadline: float, redact: Callable[[str], str], machine: str = "x86_64",
                 allowance: Optional[int] = None) -> None:
        self.spec = spec
        self.allowance = allowance  # body bytes this target may read; None: the full sample
        self.net = net
        self.tls_context = tls_context
        self.clock = clock
        self.deadline = deadline
        self.redact = redact
        self.machine = machine
        self.steps: List[NetStep] = []
        self.addresses: Tuple[str, ...] = ()
        self.issuer: Optional[str] = None
        self.throughput: Optional[Throughput] = None
        self.notes: List[str] = list(spec.notes)
        self.quiet = False
        self.bytes_read = 0
        self.page_sent = 0.0

    # --- bookkeeping -------------------------------------------------------------------

    def left(self, limit: float) -> float:
        return max(0.0, min(limit, self.deadline - self.clock()))

    def record(self, name: str, host: Optional[str], started: float, ok: bool = True,
               detail: Optional[str] = None, problem: Optional[str] = None, status: Optional[int] = None,
               auth: Tuple[str, ...] = (), ipv6_only: bool = False) -> None:
        if not self.quiet:
            self.steps.append(NetStep(name, ok, round(max(0.0, self.clock() - started), 3), host,
                                      self.redact(detail) if detail else None, problem, status, auth, ipv6_only))

    def fail(self, name: str, host: Optional[str], started: float, problem: str, detail: str,
             status: Optional[int] = None, auth: Tuple[str, ...] = (), ipv6_only: bool = False) -> None:
        if problem in ("timeout", "silent") and self.deadline - self.clock() <= 0.05:
            # cut short by the area's budget, not by the step's own limit: no verdict
            problem, detail = "budget", f"{detail} (the network check's time budget ran out)"
        self.record(name, host, started, False, detail, problem, status, auth, ipv6_only)
        raise Stop()

    # --- connecting --------------------------------------------------------------------

    def _resolve(self, step: str, host: str, port: int, label: str) -> List[Address]:
        started = self.clock()
        ip = _ip(host)
        if ip is not None:
            family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
            addresses = [(family, (host, port, 0, 0) if ip.version == 6 else (host, port))]
            if step == "dns":
                self.record("dns", host, started, detail="an IP address: nothing to resolve")
            return addresses
        try:
            addresses = self.net.resolve(host, port, self.left(DNS_TIMEOUT))
        except NetError as exc:
            what = "the proxy's host " if step != "dns" else ""
            self.fail(step, label if step != "dns" else host, started, exc.problem,
                      f"cannot resolve {what}{host}: {exc.detail}")
        if step == "dns":
            shown = ", ".join(dict.fromkeys(describe(a) for a in addresses))
            self.record("dns", host, started, detail=f"{host} -> {shown}")
        return addresses

    def _connect(self, step: str, addresses: Sequence[Address], label: str) -> socket.socket:
        started = self.clock()
        errors: List[NetError] = []
        for address in addresses:
            timeout = self.left(TCP_TIMEOUT - (self.clock() - started))
            if timeout <= 0:
                break
            try:
                sock = self.net.connect(address, timeout)
                self.record(step, label, started, detail=f"connected to {describe(address)}")
                return sock
            except NetError as exc:
                errors.append(exc)
        last = errors[-1] if errors else NetError("timeout", "no time left to connect")
        detail = "; ".join(dict.fromkeys(e.detail for e in errors)) or last.detail
        ipv6_only = bool(addresses) and all(a[0] == socket.AF_INET6 for a in addresses)
        if ipv6_only:
            detail += " (the host has only IPv6 addresses)"
        self.fail(step, label, started, last.problem, f"{label}: {detail}", ipv6_only=ipv6_only)
        raise AssertionError("unreachable")

    def _tls(self, step: str, sock: socket.socket, hostname: str, label: str, verify: bool) -> ssl.SSLSocket:
        started = self.clock()
        context = self.tls_context if verify else _unverified()
        if isinstance(context, str):
            sock.close()
            self.fail(step, label, started, "ca-bundle", context)
        try:
            tls = self.net.tls(sock, hostname, context, self.left(TLS_TIMEOUT))  # type: ignore[arg-type]
        except NetError as exc:
            self.fail(step, label, started, exc.problem, f"{label}: {exc.detail}")
        self.record(step, label, started, detail=f"{tls.version() or 'TLS'}, certificate verified"
                    if verify else None)
        return tls

    def _open(self, parts, verify: bool = True) -> Tuple[Conn, bool, List[Tuple[str, str]], str]:
        """A connection to the URL's host (through the proxy when one applies), TLS done.
        Returns (conn, absolute-form request, extra headers, label)."""
        https = parts.scheme == "https"
        default_port = 443 if https else 80
        host, port = parts.hostname or "", parts.port or default_port
        label = host if port == default_port else f"{host}:{port}"
        proxy = self.spec.proxy
        if proxy.problem:
            self.fail("proxy", None, self.clock(), "invalid",
                      f"{proxy.source} is not a usable proxy URL: {proxy.problem}")
        if proxy.url:
            scheme, phost, pport = proxy_address(proxy.url)
            plabel = f"{phost}:{pport}"
            sock = self._connect("proxy-connect", self._resolve("proxy-connect", phost, pport, plabel), plabel)
            if scheme == "https":
                sock = self._tls("proxy-tls", sock, phost, plabel, verify=True)
            if scheme.startswith("socks"):
                sock.close()
                if not self.quiet:
                    self.notes.append(f"{proxy.source} is a SOCKS proxy: only its TCP port was checked")
                raise Stop()
            creds = proxy_credentials(proxy.url)
            auth = [("Proxy-Authorization", _basic(*creds))] if creds else []
            if not https:
                return Conn(sock, self.clock), True, auth, label
            conn, started = Conn(sock, self.clock), self.clock()
            try:
                conn.send(request("CONNECT", f"{host}:{port}", f"{host}:{port}",
                                  auth + [("User-Agent", USER_AGENT)]), self.left(HEAD_TIMEOUT))
                head = conn.read_head(self.left(HEAD_TIMEOUT))
            except HttpError as exc:
                conn.close()
                self.fail("tunnel", label, started, exc.problem, f"the proxy {plabel}: {exc.detail}")
            if head.status != 200:
                conn.close()
                asks = _schemes(head.get("proxy-authenticate") or "")
                self.fail("tunnel", label, started, "status",
                          f"the proxy {plabel} answered CONNECT {host}:{port} with {head.status} {head.reason}"
                          + (f"; it asks for: {', '.join(asks)}" if asks else ""), head.status, asks)
            self.record("tunnel", label, started, detail=f"the proxy {plabel} opened a tunnel", status=200)
        else:
            sock = self._connect("tcp", self._resolve("dns", host, port, label), label)
            if not self.addresses and not self.quiet:
                self.addresses = (describe((sock.family, sock.getpeername())),)
        if not https:
            return Conn(sock, self.clock), False, [], label
        try:
            return Conn(self._tls("tls", sock, host, label, verify), self.clock), False, [], label
        except Stop:
            if verify and self.steps and self.steps[-1].problem == "verify":
                self.issuer = self._peek_issuer(parts)
            raise

    def _peek_issuer(self, parts) -> Optional[str]:
        """Who issued the certificate that failed verification: read it again over an
        unverified connection that sends nothing."""
        self.quiet = True
        try:
            conn, _absolute, _extra, _label = self._open(parts, verify=False)
        except Stop:
            return None
        finally:
            self.quiet = False
        try:
            der = conn.sock.getpeercert(binary_form=True)  # type: ignore[union-attr]
        except (OSError, ValueError):
            der = None
        conn.close()
        issuer, _subject = issuer_and_subject(der) if der else (None, None)
        return issuer

    # --- HTTP --------------------------------------------------------------------------

    def request(self, url: str, step: str, headers: Sequence[Tuple[str, str]] = (),
                head_timeout: float = HEAD_TIMEOUT, silence: Optional[str] = None) -> Tuple[Conn, Head, str, str, float]:
        """GET `url`, following redirects; (conn with the body unread, head, final URL,
        host label, when the final request was sent). `silence` renames the problem of
        a head that did not come in time."""
        for hop in range(MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            conn, absolute, extra, label = self._open(parts)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            target = f"{parts.scheme}://{_host_header(parts)}{path}" if absolute else path
            sent = [("User-Agent", USER_AGENT), ("Accept", "*/*"), ("Accept-Encoding", "identity"),
                    ("Connection", "close")] + extra + list(headers)
            if parts.username is not None:  # credentials in the index URL: pip sends them as Basic auth
                sent.append(("Authorization", _basic(unquote(parts.username), unquote(parts.password or ""))))
            started = self.clock()
            try:
                conn.send(request("GET", target, _host_header(parts), sent), self.left(HEAD_TIMEOUT))
                head = conn.read_head(self.left(head_timeout))
            except HttpError as exc:
                conn.close()
                renamed = silence is not None and exc.problem == "silent"
                self.fail(step, label, started, silence if renamed else exc.problem,  # type: ignore[arg-type]
                          f"GET {self._short(url)}: {exc.detail}"
                          + (" (it had not started sending when the budget ran out)" if renamed else ""))
            location = head.get("location")
            if head.status in (301, 302, 303, 307, 308) and location and hop < MAX_REDIRECTS:
                conn.close()
                url = urljoin(url, location)
                self.record(step, label, started, detail=f"{head.status} redirect to {self._short(url)}",
                            status=head.status)
                continue
            return conn, head, url, label, started
        raise AssertionError("unreachable")

    def _short(self, url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.hostname}{parts.path or '/'}"

    def _read(self, conn: Conn, head: Head, seconds: float, limit: int, keep: int) -> Tuple[Body, float]:
        started = self.clock()
        body = conn.read_body(head, until=started + seconds, stall=STALL_SECONDS, limit=limit, keep=keep)
        conn.close()
        self.bytes_read += body.bytes
        return body, started

    def _transfer_failed(self, body: Body, label: str, started: float) -> None:
        if body.ended == "stall":
            self.fail("transfer", label, started, "stall",
                      f"no byte for {STALL_SECONDS:g} s after {body.bytes} bytes: the transfer stalled")
        if body.ended in ("reset", "closed-early"):
            self.fail("transfer", label, started, "closed",
                      f"the connection broke off after {body.bytes} bytes")

    def _measure(self, url: str, head: Head, body: Body, started: float, sent: float) -> Throughput:
        span = (body.last_byte - body.first_byte) if body.first_byte is not None and body.last_byte else 0.0
        if span < 0.1 and body.last_byte is not None:
            span = body.last_byte - started  # a small file that came at once: count from the request
        small = self.allowance is not None
        enough = SMALL_RATE_MIN if small else RATE_MIN
        rate = body.bytes / span if span > 0 and body.bytes >= enough else None
        total = _content_total(head)
        name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        projected = total if total and name.lower().startswith("torch-") else TORCH_WHEEL_BYTES
        first = round(body.first_byte - sent, 3) if body.first_byte is not None else None
        return Throughput(self.redact(url), body.bytes, round(span, 3), round(rate) if rate else None,
                          body.ended == "stall", total, projected,
                          round(projected / rate, 1) if rate else None, first, small)

    def _page_cap(self) -> int:
        if self.allowance is None:
            return SAMPLE_RANGE if self.spec.ranged_page else PAGE_LIMIT
        whole = self.spec.ranged_page or (self.spec.sample is None and not self.spec.links)
        return max(1, self.allowance if whole else self.allowance // 2)

    def page(self) -> Tuple[Optional[str], Optional[Head], Optional[Body], float]:
        spec = self.spec
        cap = self._page_cap()
        for i, url in enumerate(spec.pages):
            ranged = [("Range", f"bytes=0-{cap - 1}")] if spec.ranged_page or self.allowance is not None else []
            conn, head, final, label, started = self.request(url, "http", ranged)
            path = urlsplit(final).path or "/"
            last = i + 1 == len(spec.pages)
            if head.status == 404 and not (last and not spec.not_found_ok):
                conn.close()
                self.record("http", label, started, status=404,
                            detail=f"404 for {path}" + ("; trying the next page" if not last else
                                                       ": neither page is here (fine for a private index)"))
                if last:
                    return None, None, None, started
                continue
            if head.status >= 400:
                conn.close()
                asks = _schemes(head.get("proxy-authenticate") or "")
                self.fail("http", label, started, "status", f"{head.status} {head.reason} for {path}"
                          + (f"; the proxy asks for: {', '.join(asks)}" if asks else ""), head.status, asks)
            self.record("http", label, started, detail=f"{head.status} {head.reason} for {path}", status=head.status)
            if spec.ranged_page:
                seconds = max(0.0, min(SAMPLE_SECONDS, self.deadline - self.clock() - 0.05))
                body, read_at = self._read(conn, head, seconds, cap, 0)
                self.throughput = self._measure(final, head, body, read_at, started)
            else:
                body, read_at = self._read(conn, head, self.left(PAGE_SECONDS), cap, cap)
            self.page_sent = started
            self._transfer_failed(body, label, read_at)
            return final, head, body, read_at
        return None, None, None, self.clock()

    def sample(self, page_url: Optional[str], page_head: Optional[Head], page_body: Optional[Body],
               page_started: float) -> None:
        spec = self.spec
        url = spec.sample
        if url is None and spec.links and page_url and page_body is not None:
            url = pick_wheel(page_url, page_body.data, self.machine)
        page_rate = None
        if page_url and page_head is not None and page_body is not None and page_body.bytes >= RATE_MIN:
            page_rate = self._measure(page_url, page_head, page_body, page_started, self.page_sent)
        if url is None:
            self.throughput = page_rate
            return
        if self.deadline - self.clock() < SAMPLE_MIN + 0.05:
            self.throughput = page_rate
            self.notes.append("no time left in the budget for a throughput sample")
            return
        size = SAMPLE_RANGE if self.allowance is None else self.allowance - self.bytes_read
        if size < SMALL_RANGE_MIN:
            self.throughput = page_rate
            self.notes.append("the page used this target's share of the check's 1 MiB: no file sample "
                              "(--speed samples the file)")
            return
        # A file host may take seconds to start (a caching proxy fetching the range first):
        # wait for it until little budget is left, and give no verdict when it runs out.
        conn, head, final, label, started = self.request(
            url, "sample", [("Range", f"bytes=0-{size - 1}")],
            head_timeout=max(0.0, self.deadline - self.clock() - SAMPLE_MIN), silence="budget")
        name = unquote(urlsplit(final).path.rsplit("/", 1)[-1]) or "/"
        if head.status not in (200, 206):
            conn.close()
            if head.status in (401, 403, 407) or head.status >= 500:
                self.fail("sample", label, started, "status", f"{head.status} {head.reason} for {name}", head.status)
            self.record("sample", label, started, status=head.status,
                        detail=f"no sample: {head.status} {head.reason} for {name}")
            self.throughput = page_rate
            return
        self.record("sample", label, started, detail=f"{head.status} for {name}", status=head.status)
        seconds = min(SAMPLE_SECONDS, self.deadline - self.clock() - 0.05)
        body, read_at = self._read(conn, head, max(0.0, seconds), size, 0)
        self.throughput = self._measure(final, head, body, read_at, started)
        self._transfer_failed(body, label, read_at)

    def run(self) -> NetTarget:
        started = self.clock()
        try:
            page_url, head, body, read_at = self.page()
            if not self.spec.ranged_page:
                self.sample(page_url, head, body, read_at)
        except Stop:
            pass
        spec = self.spec
        https = any(urlsplit(u).scheme == "https" for u in spec.pages)
        return NetTarget(
            kind=spec.kind, url=self.redact(spec.url), source=self.redact(spec.source), required=spec.required,
            proxy=self.redact(spec.proxy.url) if spec.proxy.url else None, proxy_source=spec.proxy.source,
            no_proxy_match=spec.proxy.no_proxy_match,
            ca_bundle=spec.ca.label if https else None, ca_source=spec.ca.source if https else None,
            addresses=self.addresses, steps=tuple(self.steps), tls_issuer=self.issuer,
            throughput=self.throughput,
            notes=tuple(self.redact(n) for n in self.notes + ([spec.proxy.note] if spec.proxy.note else [])),
            pip_proxy_overridden=spec.proxy.env_wins,
            seconds=round(self.clock() - started, 3), bytes_read=self.bytes_read, unused=spec.unused,
        )


def _schemes(header: str) -> Tuple[str, ...]:
    """"Basic realm=x, NTLM" -> ("Basic", "NTLM"): which authentication the proxy wants."""
    return tuple(dict.fromkeys(m for m in re.findall(r"(?:^|,)\s*([A-Za-z][\w-]*)(?=\s|,|$)", header)))


def _unverified() -> ssl.SSLContext:
    """Only to read who issued a certificate that failed verification; nothing is sent."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
