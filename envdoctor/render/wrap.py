"""Copyable commands, readable prose: a command is never hard-wrapped (the terminal may
soft-wrap it; a copy gets one line); prose wraps at a terminal's width with its
continuation lines indented under the text. Piped output is not wrapped at all."""
from __future__ import annotations

import textwrap
from typing import List, Optional


def prose_lines(text: str, width: Optional[int]) -> List[str]:
    """`text` wrapped to `width` (None: as it is), continuation lines indented past the
    line's own indent and bullet ("- ", "• ", "why:  ", "seen: ")."""
    if not width or len(text) <= width:
        return [text]
    body = text.lstrip(" ")
    indent = len(text) - len(body)
    for lead in ("- ", "• ", "✗ ", "why:  ", "seen: ", "docs: "):
        if body.startswith(lead):
            indent += len(lead)
            break
    return textwrap.wrap(text, width=width, subsequent_indent=" " * indent, break_long_words=False,
                         break_on_hyphens=False) or [text]
