"""Read the issuer and subject names out of a DER certificate, without a crypto library.

When TLS verification fails, the issuer's name tells a corporate TLS-inspecting proxy
("Zscaler Root CA", "Fortinet ...") from a self-signed or expired server certificate.
Python only parses certificates that verified, so this reads the few DER fields we need
(X.509 TBSCertificate: version, serial, signature, issuer, validity, subject).
"""
from __future__ import annotations

from typing import List, Optional, Tuple

_NAMES = {b"\x55\x04\x03": "CN", b"\x55\x04\x0a": "O", b"\x55\x04\x0b": "OU", b"\x55\x04\x06": "C"}
_STRINGS = {0x0C: "utf-8", 0x13: "latin-1", 0x16: "latin-1", 0x14: "latin-1", 0x1E: "utf-16-be"}


def _tlv(data: bytes, pos: int) -> Tuple[int, int, int]:
    """(tag, start of value, end of value) of the DER element at `pos`."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4:
            raise ValueError("unsupported DER length")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("truncated DER")
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int) -> List[Tuple[int, int, int]]:
    out, pos = [], start
    while pos < end:
        tag, vstart, vend = _tlv(data, pos)
        out.append((tag, vstart, vend))
        pos = vend
    return out


def _name(data: bytes, start: int, end: int) -> str:
    parts = []
    for _set_tag, sstart, send in _children(data, start, end):
        for _seq_tag, astart, aend in _children(data, sstart, send):
            attr = _children(data, astart, aend)
            if len(attr) < 2:
                continue
            ostart, oend = attr[0][1], attr[0][2]
            vtag, vstart, vend = attr[1]
            label = _NAMES.get(data[ostart:oend])
            encoding = _STRINGS.get(vtag)
            if label and encoding:
                parts.append(f"{label}={data[vstart:vend].decode(encoding, errors='replace')}")
    return ", ".join(parts)


def issuer_and_subject(der: bytes) -> Tuple[Optional[str], Optional[str]]:
    """("CN=..., O=...", "CN=...") of a certificate, or (None, None) when it cannot be read."""
    try:
        _tag, cstart, cend = _tlv(der, 0)
        _tag, tstart, tend = _children(der, cstart, cend)[0]
        fields = _children(der, tstart, tend)
        if fields and fields[0][0] == 0xA0:  # [0] version
            fields = fields[1:]
        issuer, subject = fields[2], fields[4]  # serial, signature, issuer, validity, subject
        return _name(der, issuer[1], issuer[2]) or None, _name(der, subject[1], subject[2]) or None
    except (ValueError, IndexError):
        return None, None
