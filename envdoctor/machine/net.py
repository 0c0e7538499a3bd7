"""The network seam: name resolution, TCP connect and TLS, each under a timeout.

The network probe reaches the outside only through a Net (Context.net). Tests hand it a
resolver that fails or is slow and run everything else against real servers on
127.0.0.1. getaddrinfo() takes no timeout, so it runs in a daemon thread that is
abandoned, never waited for, when it overruns.
"""
from __future__ import annotations

import errno
import socket
from typing import TYPE_CHECKING, Callable, List, Optional, Protocol, Tuple

if TYPE_CHECKING:  # ssl loads only when a TLS handshake happens (not for --quick / --offline)
    import ssl

from envdoctor.machine.watchdog import call_with_timeout

Address = Tuple[int, tuple]  # (socket family, sockaddr)
Resolver = Callable[[str, int], List[Address]]  # raises socket.gaierror like getaddrinfo

_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL,
                errno.EHOSTDOWN}


class NetError(Exception):
    """A step failed. `problem` is a stable word (timeout, refused, unreachable, reset,
    no-such-host, dns-temporary, dns-error, verify, handshake, closed); `detail` one line."""

    def __init__(self, problem: str, detail: str) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail


class Net(Protocol):
    def resolve(self, host: str, port: int, timeout: float) -> List[Address]: ...

    def connect(self, address: Address, timeout: float) -> socket.socket: ...

    def tls(self, sock: socket.socket, server_hostname: str, context: ssl.SSLContext,
            timeout: float) -> ssl.SSLSocket: ...


def system_resolver(host: str, port: int) -> List[Address]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [(family, sockaddr) for family, _type, _proto, _name, sockaddr in infos]


def _gai_problem(exc: socket.gaierror) -> Tuple[str, str]:
    code = exc.args[0] if exc.args else None
    text = exc.args[1] if len(exc.args) > 1 else str(exc)
    if code in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", object())):
        return "no-such-host", f"no such host ({text})"
    if code == socket.EAI_AGAIN:
        return "dns-temporary", f"temporary failure in name resolution ({text})"
    return "dns-error", str(text)


class SystemNet:
    """The real network; `resolver` replaces getaddrinfo (tests)."""

    def __init__(self, resolver: Optional[Resolver] = None) -> None:
        self._resolver = resolver or system_resolver

    def resolve(self, host: str, port: int, timeout: float) -> List[Address]:
        if timeout <= 0:
            raise NetError("timeout", "no time left to resolve")
        outcome = call_with_timeout(lambda: self._resolver(host, port), timeout, name="envdoctor-dns")
        if outcome.status == "timeout":
            raise NetError("timeout", f"no answer from the resolver in {timeout:.1f} s")
        if outcome.status == "crashed":
            if isinstance(outcome.exc, socket.gaierror):
                raise NetError(*_gai_problem(outcome.exc))
            raise NetError("dns-error", outcome.error or "resolver failed")
        if not outcome.value:
            raise NetError("no-such-host", "the resolver returned no address")
        return list(outcome.value)

    def connect(self, address: Address, timeout: float) -> socket.socket:
        family, sockaddr = address
        if timeout <= 0:
            raise NetError("timeout", "no time left to connect")
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
        except OSError as exc:  # no IPv6 in this kernel
            raise NetError("unreachable", f"cannot open an {_family(family)} socket: {exc.strerror or exc}")
        try:
            sock.settimeout(timeout)
            sock.connect(sockaddr)
            return sock
        except socket.timeout:
            sock.close()
            raise NetError("timeout", f"no answer to the TCP connect in {timeout:.1f} s") from None
        except ConnectionRefusedError:
            sock.close()
            raise NetError("refused", "connection refused") from None
        except OSError as exc:
            sock.close()
            if exc.errno in _UNREACHABLE:
                raise NetError("unreachable", exc.strerror or str(exc)) from None
            if isinstance(exc, ConnectionResetError):
                raise NetError("reset", "connection reset") from None
            raise NetError("error", exc.strerror or str(exc)) from None

    def tls(self, sock: socket.socket, server_hostname: str, context: ssl.SSLContext,
            timeout: float) -> ssl.SSLSocket:
        import ssl

        try:
            if timeout <= 0:
                raise socket.timeout()
            sock.settimeout(timeout)
            return context.wrap_socket(sock, server_hostname=server_hostname)
        except ssl.SSLCertVerificationError as exc:
            sock.close()
            raise NetError("verify", exc.verify_message or str(exc)) from None
        except socket.timeout:
            sock.close()
            raise NetError("timeout", f"no TLS answer in {timeout:.1f} s") from None
        except (ConnectionResetError, BrokenPipeError):
            sock.close()
            raise NetError("reset", "the connection was reset during the TLS handshake") from None
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
            sock.close()
            raise NetError("closed", "the server closed the connection during the TLS handshake") from None
        except (ssl.SSLError, OSError) as exc:
            sock.close()
            reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
            raise NetError("handshake", f"TLS handshake failed: {reason}") from None


def _family(family: int) -> str:
    return "IPv6" if family == socket.AF_INET6 else "IPv4"


def describe(address: Address) -> str:
    family, sockaddr = address
    return f"[{sockaddr[0]}]" if family == socket.AF_INET6 else str(sockaddr[0])
