"""One streaming pass over a log: find the lines the signatures match.

Per chunk of whole lines (the first and the last chunk with every gate, those between with
the common ones): lowercase the bytes once, find each gate with bytes.find (C speed),
take the line segment around each hit (bounded by `\\n` or `\\r`, so the states of a progress
bar are separate lines), and only there decode, clean and try the signatures whose needle is
present. Matches keep their line number, a little context, and for download errors what the
log said about that download just before (see downloads.py). Memory stays bounded: a few
matches per signature, a counter for the rest, and a fixed number of error-like lines.
"""
from __future__ import annotations

import collections
import re
from dataclasses import dataclass, field
from typing import Deque, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from envdoctor.explain import downloads
from envdoctor.explain.reader import clean_line
from envdoctor.explain.signatures import ERROR_WORDS, GATES, RARE_ERROR_WORDS, RARE_GATES, LogSignature

KEEP = 3  # matches kept per signature (with context); the rest are counted
SATURATED = 1000  # stop trying a signature after this many matches
SEGMENT = 4096  # bytes either side of a gate hit that can belong to its line
CONTEXT = 2  # lines shown before and after a match
CONTINUED = 2  # lines read with a gated line that ends in a colon
TAIL = 256 << 10  # the log's last bytes before the current chunk: context and download look-back
ERROR_SAMPLE = 40  # error-like lines kept from each end of the log
OTHER_SAMPLE = 20  # other gated lines kept from each end, for the evidence layer
LAST_LINES = 40  # the log's last lines, for the evidence layer when no gate found anything
# An error word that says there was none ("Setup complete without errors", "0 error(s)").
NO_ERROR = re.compile(r"\b(?:without|no|0|zero) (?:errors?|failures?)\b(?:\(s\))?|\berrors?[:=] ?0\b")


@dataclass
class Match:
    signature: LogSignature
    line: int
    text: str
    groups: Dict[str, str]
    before: List[Tuple[int, str]] = field(default_factory=list)
    after: List[Tuple[int, str]] = field(default_factory=list)
    download: Optional[downloads.DownloadContext] = None


@dataclass
class ScanResult:
    matches: Dict[str, List[Match]]  # signature id -> first KEEP matches
    counts: Dict[str, int]  # signature id -> number of matching lines (capped at SATURATED)
    error_lines: List[Tuple[int, str]]  # error-like lines no signature explained
    lines: int
    bytes: int
    other_lines: List[Tuple[int, str]] = field(default_factory=list)  # other gated lines nothing explained
    last_lines: List[Tuple[int, str]] = field(default_factory=list)  # the log's last lines, gated or not


@dataclass
class Continued:
    """An error-like line ending in a colon, and the lines after it that say what it is about."""

    line: int
    text: str
    rest: List[str] = field(default_factory=list)


Entry = Union[Tuple[int, str], Continued]


def _line(entry: Entry) -> Tuple[int, str]:
    if isinstance(entry, Continued):
        rest = " ".join(t for t in entry.rest if t)
        return entry.line, f"{entry.text} {rest}"[:500] if rest else entry.text
    return entry


def _lines_before(data: bytes, pos: int, n: int) -> List[bytes]:
    out: List[bytes] = []
    end = pos
    while len(out) < n and end > 0:
        start = data.rfind(b"\n", 0, end - 1) + 1
        out.append(data[start:end].rstrip(b"\n"))
        end = start
    return out[::-1]


def _lines_after(data: bytes, pos: int, n: int) -> List[bytes]:
    out: List[bytes] = []
    start = pos
    while len(out) < n and start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end == -1 else end
        out.append(data[start:end])
        start = end + 1
    return out


class Scanner:
    def __init__(self, signatures: Sequence[LogSignature]) -> None:
        self.signatures = list(signatures)
        self.core_gates = list(dict.fromkeys(g.encode() for g in GATES + ERROR_WORDS))
        self.gates = list(dict.fromkeys(self.core_gates + [g.encode() for g in RARE_GATES + RARE_ERROR_WORDS]))
        self.held: Optional[bytes] = None  # the newest chunk, searched once it is known to be last or not
        self.first = True
        self.error_gates = {w.encode() for w in ERROR_WORDS + RARE_ERROR_WORDS}
        self.matches: Dict[str, List[Match]] = collections.defaultdict(list)
        self.counts: Dict[str, int] = collections.Counter()
        self.error_head: List[Entry] = []
        self.error_tail: Deque[Entry] = collections.deque(maxlen=ERROR_SAMPLE)
        # Lines a gate found that carry no error word (a WARNING, a WSL path): weaker evidence.
        self.other_head: List[Entry] = []
        self.other_tail: Deque[Entry] = collections.deque(maxlen=OTHER_SAMPLE)
        self.continued: List[Continued] = []  # lines ending in a colon, waiting for the lines after them
        self.line = 0  # lines consumed so far
        self.bytes = 0
        self.tail = b""  # the last TAIL bytes before the current chunk
        self.pending: List[Match] = []  # matches still waiting for lines after them

    def feed(self, chunk: bytes) -> None:
        """Scan the log's next chunk. One chunk is held back: the first and the last chunk are
        searched for every gate, those between for the common ones (see RARE_GATES)."""
        if self.held is not None:
            self._scan(self.held, self.gates if self.first else self.core_gates)
            self.first = False
        self.held = chunk

    def _scan(self, chunk: bytes, gate_list: Sequence[bytes]) -> None:
        base_line, self.bytes = self.line, self.bytes + len(chunk)
        for entry in self.continued:
            entry.rest.extend(clean_line(r).strip() for r in _lines_after(chunk, 0, CONTINUED - len(entry.rest)))
        self.continued = [e for e in self.continued if len(e.rest) < CONTINUED]
        if self.pending:
            waiting = []
            for m in self.pending:
                need = CONTEXT - len(m.after)
                m.after.extend((m.line + len(m.after) + 1 + i, clean_line(raw))
                               for i, raw in enumerate(_lines_after(chunk, 0, need)))
                if len(m.after) < CONTEXT:
                    waiting.append(m)
            self.pending = waiting
        low = chunk.lower()
        spans: Dict[int, Tuple[int, List[bytes]]] = {}
        for gate in gate_list:
            pos = low.find(gate)
            while pos != -1:
                lo = max(0, pos - SEGMENT)
                start = max(low.rfind(b"\n", lo, pos), low.rfind(b"\r", lo, pos), lo - 1) + 1
                hi = min(len(low), pos + SEGMENT)
                ends = [e for e in (low.find(b"\n", pos, hi), low.find(b"\r", pos, hi)) if e != -1]
                end = min(ends) if ends else hi
                spans.setdefault(start, (end, []))[1].append(gate)
                pos = low.find(gate, end)
        counted, line = 0, base_line
        for start in sorted(spans):
            end, gates = spans[start]
            line += chunk.count(b"\n", counted, start)
            counted = start
            self._segment(chunk, start, end, line + 1, gates)
        self.line = base_line + chunk.count(b"\n")
        self.tail = chunk[-TAIL:] if len(chunk) >= TAIL else (self.tail + chunk)[-TAIL:]

    def _segment(self, chunk: bytes, start: int, end: int, line_no: int, gates: Iterable[bytes]) -> None:
        text = clean_line(chunk[start:end])
        low = text.lower()
        matched = False
        for sig in self.signatures:
            if sig.needle not in low or self.counts[sig.id] >= SATURATED:
                continue
            found = sig.pattern.search(text)
            if found is None:
                continue
            # A marker says what kind of log it is, not what went wrong: its line stays evidence.
            matched = matched or sig.role != "marker"
            self.counts[sig.id] += 1
            if len(self.matches[sig.id]) < KEEP:
                self.matches[sig.id].append(self._match(sig, chunk, start, end, line_no, text, found))
        if not matched and text.strip():
            entry: Entry = (line_no, text[:500])
            if text.rstrip().endswith(":") and chunk[end:end + 1] in (b"\n", b"\r"):
                # "CMake Error at CMakeLists.txt:20 (enable_language):" says what failed on the
                # lines below it: the evidence reads them as one line with it.
                entry = Continued(line_no, text[:500].rstrip())
                entry.rest.extend(clean_line(r).strip() for r in _lines_after(chunk, end + 1, CONTINUED))
                if len(entry.rest) < CONTINUED:
                    self.continued.append(entry)
            if any(g in self.error_gates for g in gates) and self._errors(low):
                if len(self.error_head) < ERROR_SAMPLE:
                    self.error_head.append(entry)
                else:
                    self.error_tail.append(entry)
            elif len(self.other_head) < OTHER_SAMPLE:
                self.other_head.append(entry)
            else:
                self.other_tail.append(entry)

    def _errors(self, low: str) -> bool:
        """The line still holds an error word once the phrases that deny one are taken out."""
        if not NO_ERROR.search(low):
            return True
        rest = NO_ERROR.sub(" ", low).encode()
        return any(g in rest for g in self.error_gates)

    def _match(self, sig: LogSignature, chunk: bytes, start: int, end: int, line_no: int, text: str,
               found) -> Match:
        line_start = chunk.rfind(b"\n", 0, start) + 1
        before = _lines_before(chunk, line_start, CONTEXT)
        if len(before) < CONTEXT:
            before = _lines_before(self.tail, len(self.tail), CONTEXT - len(before)) + before
        line_end = chunk.find(b"\n", end)
        after = _lines_after(chunk, len(chunk) if line_end == -1 else line_end + 1, CONTEXT)
        groups = {k: v.strip() for k, v in found.groupdict().items() if v and v.strip()}
        match = Match(sig, line_no, text[:1000], groups,
                      [(line_no - len(before) + i, clean_line(raw)) for i, raw in enumerate(before)],
                      [(line_no + 1 + i, clean_line(raw)) for i, raw in enumerate(after)])
        if len(after) < CONTEXT:
            self.pending.append(match)
        if sig.code in downloads.CODES:
            window = self.tail + chunk[:line_start] if line_start < TAIL else chunk[line_start - TAIL:line_start]
            match.download = downloads.look_back(window)
        return match

    def result(self) -> ScanResult:
        if self.held is not None:
            self._scan(self.held, self.gates)
            self.held, self.first = None, False
        head = [_line(e) for e in self.error_head]
        seen = {line for line, _ in head}
        tail = [e for e in map(_line, self.error_tail) if e[0] not in seen]
        other_head = [_line(e) for e in self.other_head]
        seen_other = {line for line, _ in other_head}
        other = other_head + [e for e in map(_line, self.other_tail) if e[0] not in seen_other]
        return ScanResult(dict(self.matches), dict(self.counts), head + tail, self.line, self.bytes, other,
                          self._last_lines())

    def _last_lines(self) -> List[Tuple[int, str]]:
        """The log's last LAST_LINES non-blank lines, numbered: where a failure that prints none
        of the gate words ("CUDA out of memory. Tried to allocate ...") still shows."""
        raw = self.tail.split(b"\n")
        if self.tail.endswith(b"\n"):
            raw.pop()
        first = self.line - len(raw) + 1 + (0 if self.tail.endswith(b"\n") else 1)
        out = [(first + i, clean_line(r)) for i, r in enumerate(raw[-LAST_LINES * 2:], len(raw[:-LAST_LINES * 2]))]
        return [e for e in out if e[1].strip()][-LAST_LINES:]
