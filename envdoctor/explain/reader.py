"""Read a log as a stream of byte chunks that end on a line break, in bounded memory.

Handles what real pasted logs contain: gzip, UTF-16 (PowerShell's `>` writes it), GBK (cmd.exe
on a Chinese Windows, also what WSL interop passes on from Windows programs), a UTF-8
BOM, ANSI colour codes, CRLF, `\\r` progress bars, binary junk and invalid UTF-8. Cleaning is
done per line, and only for the few lines that are shown or matched: the scanner works on
raw bytes, which is what keeps a 100 MB log within seconds.
"""
from __future__ import annotations

import codecs
import gzip
import io
import os
import re
import sys
import time
import zlib
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator, List, Optional, Protocol, cast

from envdoctor.core.errors import InputError

CHUNK = 4 << 20
MAX_LINE = 1 << 20  # a "line" longer than this is cut (a progress bar that never ends)
SAMPLE = 64 << 10
DEFAULT_MAX_BYTES = 256 << 20
# Reading and scanning stop after this long: a gzip bomb of error lines (1 GB from 3 MB) or a
# FIFO that never ends must not keep explain running; what was read is explained.
READ_SECONDS = 20.0
# Bytes that never occur in text. A sample is binary when more than BINARY_SHARE of it is
# such bytes or undecodable UTF-8, or it holds NULs (as git and `file` decide): a log with
# a little junk in it is still a log.
JUNK = bytes(range(0, 9)) + bytes(range(14, 27)) + bytes(range(28, 32)) + b"\x7f"
BINARY_SHARE = 0.10
NUL_SHARE = 0.005

ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Chinese characters and the full-width punctuation Chinese text uses (，。：).
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
CHINESE_SHARE = 0.8
GBK_SHARE = 0.5  # of a sample's non-ASCII characters that are not UTF-8, for the whole log to be GBK


class LogInputError(InputError):
    """The input cannot be read as a log; the message says why in one line."""


# Typographic quotes, as a forum or an editor turns a pasted log's quotes into: read as plain ones.
QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
                        "\u201c": '"', "\u201d": '"', "\u201e": '"'})


def clean_line(raw: bytes) -> str:
    """One line as a person would have seen it: decoded leniently, colour codes gone, and of
    a `\\r` progress bar only its last state."""
    text = _decode(raw)
    if "\x1b" in text:
        text = ANSI.sub("", text)
    if "\r" in text:
        parts = [p for p in text.split("\r") if p.strip()]
        text = parts[-1] if parts else ""
    if not text.isascii():
        text = text.translate(QUOTES)
    return CONTROL.sub("", text).rstrip()


def _decode(raw: bytes) -> str:
    """UTF-8; else the Chinese code page (GBK / GB18030) when the line is clean in it, as a line
    that cmd.exe or a Windows program printed on a Chinese Windows is (WSL interop hands such
    output on as it is); else UTF-8 with replacement characters."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")
    return text if _chinese_share(text) >= CHINESE_SHARE else raw.decode("utf-8", "replace")


def _chinese_share(text: str) -> float:
    """How much of the text's non-ASCII is Chinese characters and CJK punctuation."""
    wide = [ch for ch in text if ord(ch) > 127]
    if len(wide) < 2:
        return 0.0
    return sum(1 for ch in wide if CJK.match(ch)) / len(wide)


def _gb18030(sample: bytes) -> bool:
    """A sample that is mostly not UTF-8 but is clean GB18030 text with Chinese in it: a log saved
    by cmd.exe or PowerShell 5 on a Chinese Windows (code page 936). A UTF-8 log with a few GBK
    lines in it (a Windows program's output under WSL) stays UTF-8: those lines are decoded one
    by one (_decode)."""
    if sample.isascii():
        return False
    wide = [ch for ch in sample.decode("utf-8", "replace") if ord(ch) > 127]
    if wide.count("\ufffd") < GBK_SHARE * len(wide):
        return False
    try:
        text = codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return _chinese_share(text) >= CHINESE_SHARE


def _junk_share(sample: bytes) -> float:
    if not sample:
        return 0.0
    junk = len(sample) - len(sample.translate(None, JUNK))
    text = sample.decode("utf-8", "replace")
    undecodable = text.count("\ufffd") / max(1, len(text))
    return 1.0 if sample.count(0) > NUL_SHARE * len(sample) else max(junk / len(sample), undecodable)


def _utf16(sample: bytes) -> Optional[str]:
    """The UTF-16 variant of a sample with a BOM, or with NULs in every other byte."""
    if sample.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le"
    if sample.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be"
    even, odd = sample[0::2], sample[1::2]
    if len(sample) >= 64:
        if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
            return "utf-16-le"
        if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
            return "utf-16-be"
    return None


class ByteReader(Protocol):
    """What a LogSource reads from: a file, stdin's buffer, a GzipFile or a _Transcoder."""

    def read(self, size: int = -1, /) -> bytes: ...


class _Transcoder:
    """Presents a UTF-16 or GB18030 stream as UTF-8 bytes (only read() is needed)."""

    def __init__(self, raw: ByteReader, encoding: str) -> None:
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._first = True

    def read(self, size: int = -1) -> bytes:
        block = self._raw.read(size if size and size > 0 else CHUNK)
        text = self._decoder.decode(block, final=not block)
        if self._first:
            text, self._first = text.lstrip("\ufeff"), False
        return text.encode("utf-8")


@dataclass
class LogSource:
    """An opened log: where it came from, what was done to read it, and its byte stream."""

    name: str
    stream: ByteReader
    size: Optional[int] = None  # on disk; None for stdin
    limit: Optional[int] = None  # stop after this many bytes (streams that cannot seek)
    notes: List[str] = field(default_factory=list)
    bytes_read: int = 0
    truncated: bool = False
    handle: Optional[BinaryIO] = None  # the file we opened, closed by close(); never stdin
    deadline: Optional[float] = None  # time.monotonic() after which reading stops

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()

    def chunks(self) -> Iterator[bytes]:
        """Blocks of whole lines; the last one gets a final newline."""
        carry = b""
        while True:
            try:
                block = self.stream.read(CHUNK)
            except (OSError, EOFError, zlib.error) as exc:
                self.notes.append(f"reading stopped early: {type(exc).__name__}: {exc}")
                break
            if not block:
                break
            self.bytes_read += len(block)
            data = carry + block if carry else block
            cut = data.rfind(b"\n")
            if cut == -1:
                if len(data) > MAX_LINE:  # no line break in sight: keep memory bounded
                    yield data + b"\n"
                    carry = b""
                else:
                    carry = data
            else:
                yield data[:cut + 1]
                carry = data[cut + 1:]
            if self.limit is not None and self.bytes_read >= self.limit:
                self.truncated = True
                self.notes.append(f"stopped after the first {self.limit >> 20} MiB (--max-mb)")
                break
            if self.deadline is not None and time.monotonic() > self.deadline:
                self.truncated = True
                self.notes.append(f"stopped after {READ_SECONDS:g} s, {self.bytes_read >> 20} MiB in: "
                                  "what was read is explained")
                break
        if carry:
            yield carry + b"\n"


def open_log(path: str, max_bytes: int = DEFAULT_MAX_BYTES, stdin: Optional[BinaryIO] = None) -> LogSource:
    """Open a file, `-` for stdin; LogInputError with a one-line reason when it is no log."""
    if path == "-":
        raw = stdin if stdin is not None else sys.stdin.buffer
        # A binary stream without peek() (BytesIO, a pipe's FileIO) has the readinto() BufferedReader needs.
        stream = raw if hasattr(raw, "peek") else io.BufferedReader(cast(io.RawIOBase, raw))
        source = LogSource("<stdin>", stream, limit=max_bytes)
    else:
        from envdoctor.machine.files import open_input

        try:
            fh, size = open_input(path)  # a FIFO with no writer must not block here
        except IsADirectoryError:
            raise LogInputError(f"{path} is a directory, not a log file") from None
        except OSError as exc:
            raise LogInputError(f"cannot read {path}: {exc.strerror or exc}") from None
        if size == 0:
            fh.close()
            raise LogInputError(f"{path} is empty: nothing to explain")
        stream = fh
        # Not a regular file (a FIFO, a device): read like stdin, up to the limit.
        source = LogSource(os.path.basename(path) or path, stream, size=size, handle=fh,
                           limit=max_bytes if size is None else None)
    source.deadline = time.monotonic() + READ_SECONDS
    head = _peek(source.stream, 4)
    if head[:2] == b"\x1f\x8b":
        source.stream = gzip.GzipFile(fileobj=stream, mode="rb")
        source.notes.append("gzip-compressed")
        source.limit = max_bytes
    elif source.size is not None and source.size > max_bytes:
        # A log's cause is almost always near its end: read the tail only.
        stream.seek(source.size - max_bytes)  # a regular file: still the stream read
        stream.readline(MAX_LINE)  # resume at a line start
        source.notes.append(f"{source.size / 2 ** 30:.1f} GiB: read only its last {max_bytes >> 20} MiB "
                            "(--max-mb); line numbers count from there")
    sample = _peek(source.stream, SAMPLE)
    if not sample:
        raise LogInputError(f"{source.name} is empty: nothing to explain")
    encoding = _utf16(sample) or ("gb18030" if _gb18030(sample) else None)
    if encoding:
        source.stream = _Transcoder(source.stream, encoding)
        source.notes.append(f"decoded from {encoding.upper()}")
    elif _junk_share(sample) > BINARY_SHARE:
        raise LogInputError(f"{source.name} looks like a binary file, not a text log "
                            f"({_junk_share(sample):.0%} of its first bytes are not text)")
    return source


def _peek(stream: ByteReader, n: int) -> bytes:
    """Up to n bytes from the stream's start without consuming them."""
    if isinstance(stream, gzip.GzipFile):
        try:
            return stream.peek(n)[:n]
        except (OSError, EOFError, zlib.error) as exc:
            raise LogInputError(f"not a readable gzip file: {exc}") from None
    if hasattr(stream, "peek"):
        data = b""
        while len(data) < n:  # peek() returns at most one buffer fill
            more = stream.peek(n)
            if len(more) <= len(data):
                break
            data = more
        return data[:n]
    return b""
