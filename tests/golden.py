"""Golden files that are read, never rubber-stamped: a difference fails with a summary of the diff.
With UPDATE_GOLDEN=1 the file is rewritten and the test still fails, saying what changed, so a rewrite
is always seen; the next run passes."""
from __future__ import annotations

import difflib
import os

import pytest

SHOWN = 40  # diff lines in the failure message


def diff_summary(path: str, old: str, new: str) -> str:
    diff = list(difflib.unified_diff(old.splitlines(), new.splitlines(), "golden", "now", lineterm="", n=1))
    added = sum(1 for line in diff if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in diff if line.startswith("-") and not line.startswith("---"))
    more = f"\n... {len(diff) - SHOWN} more diff lines" if len(diff) > SHOWN else ""
    return f"{os.path.relpath(path)}: +{added} -{removed} lines\n" + "\n".join(diff[:SHOWN]) + more


def check_golden(path: str, text: str) -> None:
    old = None
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            old = fh.read()
    if old == text:
        return
    summary = diff_summary(path, old or "", text)
    if os.environ.get("UPDATE_GOLDEN"):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        pytest.fail(f"golden rewritten (review it, then rerun): {summary}", pytrace=False)
    pytest.fail(f"output differs from the golden (UPDATE_GOLDEN=1 rewrites it): {summary}", pytrace=False)
