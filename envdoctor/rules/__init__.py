"""Rules: pure functions of Facts + Matrices, each with a stable code. ALL_RULES (rules/all.py) loads
on first use, so code that needs only the shared helpers of rules/base.py (the resolver of
`fix --plan`) does not import every rule."""
from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "ALL_RULES":
        from envdoctor.rules.all import ALL_RULES

        return ALL_RULES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
