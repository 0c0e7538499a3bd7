"""Copyable commands, readable prose: a command is never hard-wrapped (the terminal may
soft-wrap it; a copy gets one line); prose wraps at a terminal's width with its
continuation lines indented under the text. Piped output is not wrapped at all.
Widths are terminal cells (rich's cell_len): a Chinese character takes two, and Chinese
prose, which has no spaces, may break between any two of its characters."""
from __future__ import annotations

import re
import textwrap
from typing import List, Optional, Sequence

LEADS = ("- ", "• ", "✗ ", "why:  ", "seen: ", "docs: ")
# A token a line may break after: a run of non-wide text up to and with its spaces, or one wide
# character (with the punctuation that must not start a line kept on it).
_TOKEN = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f][，。、；：！？）」』”’》]?"
                    r"|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]+\s*|\s+")


def _cells(text: str) -> int:
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def prose_lines(text: str, width: Optional[int], leads: Sequence[str] = ()) -> List[str]:
    """`text` wrapped to `width` (None: as it is), continuation lines indented past the
    line's own indent and bullet ("- ", "• ", "why:  ", "seen: ", or a language's own `leads`)."""
    if not width or _cells(text) <= width:
        return [text]
    body = text.lstrip(" ")
    indent = len(text) - len(body)
    for lead in tuple(leads) + LEADS:
        if body.startswith(lead):
            indent += _cells(lead)
            break
    if text.isascii():
        return textwrap.wrap(text, width=width, subsequent_indent=" " * indent, break_long_words=False,
                             break_on_hyphens=False) or [text]
    return _wrap_wide(text, width, " " * indent)


def _wrap_wide(text: str, width: int, indent: str) -> List[str]:
    """Greedy wrap by cell width; never inside a non-wide word (a command, a path, a version)."""
    lines: List[str] = []
    line = ""
    for token in _TOKEN.findall(text):
        if line and _cells((line + token).rstrip()) > width and line.strip():
            lines.append(line.rstrip())
            line = indent + token.lstrip()
        else:
            line += token
    if line.strip():
        lines.append(line.rstrip())
    return lines or [text]
