"""`check --cluster DIR`: a folder of per-node `check --json` documents or collect_env reports."""
from __future__ import annotations

import json
import os
from typing import List

from envdoctor.core.results import Report
from envdoctor.check.cluster.node import Node, NodeExtras, extras_from_document
from envdoctor.core.errors import UsageError

READABLE = (".json", ".txt", ".md", ".log")


class ClusterDirError(UsageError, ValueError):
    """The folder holds nothing to judge; one line saying why."""


def load_dir(directory: str, matrices) -> List[Node]:
    try:
        names = sorted(n for n in os.listdir(directory) if n.lower().endswith(READABLE))
    except OSError as exc:
        raise ClusterDirError(f"{directory}: cannot be read ({exc.strerror or exc})") from None
    if not names:
        raise ClusterDirError(f"{directory}: no node files (*.json from `envdoctor check --json`, or "
                              "collect_env reports as *.txt / *.md)")
    return [_node(os.path.join(directory, n), matrices) for n in names]


def _node(path: str, matrices) -> Node:
    stem = os.path.splitext(os.path.basename(path))[0]
    if path.lower().endswith(".json"):
        from envdoctor.core.facts_from_json import FactsFileError, from_document

        try:
            with open(path, encoding="utf-8") as fh:
                doc = json.load(fh)
            facts = from_document(doc)
        except (OSError, ValueError, UnicodeDecodeError, FactsFileError) as exc:
            return Node(stem, error=f"{os.path.basename(path)}: {exc}", saved=True)
        extras = extras_from_document(doc)
        name = doc["node"].get("name") if isinstance(doc.get("node"), dict) else None
        return Node(str(name or stem), report=Report(facts, ()), extras=extras, document=doc)
    from envdoctor.report.collect_env import ReportError, check_report

    try:
        report, _parsed = check_report(path, matrices)
    except ReportError as exc:
        return Node(stem, error=str(exc), saved=True)
    return Node(stem, report=report, extras=NodeExtras())
