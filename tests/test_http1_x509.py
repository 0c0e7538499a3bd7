"""The pieces under the network probe: the bounded HTTP/1.1 reader and the certificate
name reader."""
from __future__ import annotations

import os
import socket
import ssl
import time

import pytest

from envdoctor.machine.http1 import Conn, HttpError, dechunk, parse_head
from envdoctor.machine.x509 import issuer_and_subject

from .netservers import TLS_DIR


def pair(payload: bytes):
    a, b = socket.socketpair()
    b.sendall(payload)
    return Conn(a, time.monotonic), b


def test_head_and_chunked_body():
    conn, peer = pair(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 99\r\n\r\n"
                      b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    peer.close()
    head = conn.read_head(1.0)
    assert (head.status, head.get("transfer-encoding")) == (200, "chunked")
    body = conn.read_body(head, until=time.monotonic() + 1, stall=0.5, limit=1 << 20, keep=1 << 20)
    assert body.data == b"hello world" and body.ended == "complete"


def test_content_length_stops_reading_without_waiting_for_close():
    conn, peer = pair(b"HTTP/1.1 206 Partial Content\r\nContent-Length: 4\r\n\r\nabcd")
    head = conn.read_head(1.0)
    started = time.monotonic()
    body = conn.read_body(head, until=started + 5, stall=2, limit=100, keep=100)
    assert body.data == b"abcd" and time.monotonic() - started < 0.5
    peer.close()


def test_silence_after_the_head_is_a_stall_after_the_window():
    conn, peer = pair(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nab")
    head = conn.read_head(1.0)
    started = time.monotonic()
    body = conn.read_body(head, until=started + 5, stall=0.3, limit=10_000, keep=0)
    assert body.ended == "stall" and body.bytes == 2 and 0.25 < time.monotonic() - started < 1.0
    peer.close()


def test_no_head_in_time_and_garbage_are_named():
    conn, peer = pair(b"")
    with pytest.raises(HttpError) as silent:
        conn.read_head(0.2)
    assert silent.value.problem == "silent"
    with pytest.raises(HttpError) as garbage:
        parse_head(b"SSH-2.0-OpenSSH_9.6")
    assert garbage.value.problem == "malformed"
    peer.close()


def test_dechunk_keeps_what_arrived_of_a_cut_body():
    assert dechunk(b"5\r\nhello\r\n6\r\n wor") == b"hello wor"
    assert dechunk(b"zz\r\n") == b""


def test_issuer_of_a_der_certificate():
    with open(os.path.join(TLS_DIR, "intercepted.pem")) as fh:
        der = ssl.PEM_cert_to_DER_cert(fh.read())
    assert issuer_and_subject(der) == ("O=Example Corp, CN=Example Corp TLS Inspection CA", "CN=127.0.0.1")
    assert issuer_and_subject(der[:40]) == (None, None)
