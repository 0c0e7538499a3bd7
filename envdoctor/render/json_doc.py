"""The versioned JSON document of `envdoctor check --json` (docs/json.md), and the envelope every
command's --json document starts with."""
from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any, Dict, Optional

from envdoctor import __version__
from envdoctor.core.areas import title

if TYPE_CHECKING:  # only for annotations: `fix --plan --format json` needs `plain`, not the results
    from envdoctor.core.results import Report
    from envdoctor.redact import Redactor

SCHEMA_VERSION = 1


def envelope(body: Dict[str, Any], *, kind: Optional[str] = None, command: Optional[str] = None) -> Dict[str, Any]:
    """Every --json document: its schema version, what it is, which envdoctor wrote it, then its body.
    `command` names the command inside "tool" (explain); `kind` names a document that is no check report."""
    head: Dict[str, Any] = {"schema_version": SCHEMA_VERSION}
    if kind is not None:
        head["kind"] = kind
    head["tool"] = {"name": "envdoctor", "version": __version__}
    if command is not None:
        head["tool"]["command"] = command
    return {**head, **body}


def plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def document(report: Report, code: int, redactor: Redactor) -> Dict[str, Any]:
    results = report.facts.results
    doc = envelope({
        "exit_code": code,
        "deadline_hit": report.deadline_hit,
        "seconds": report.seconds,
        "summary": report.counts(),
        "probes": [dict({"area": a, "title": title(a), "status": r.status, "seconds": r.seconds,
                         "error": r.error}, **({"reason": r.reason} if r.reason else {}))
                   for a, r in results.items()],
        "facts": {a: plain(r.facts) for a, r in results.items()},
        "findings": [_finding(f) for f in report.findings],
    })
    if report.internal_errors:
        doc["internal_errors"] = list(report.internal_errors)
    return redactor.data(doc)


def _finding(f) -> Dict[str, Any]:
    """A finding as data; with --lang, its text in that language under `localized` (docs/json.md)."""
    from envdoctor.messages import asked, localized

    out = plain(f)
    if asked():
        out["localized"] = localized(title=f.title, evidence=f.evidence, why=f.why, notes=f.notes)
    return out


def dumps(doc: Dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=False, ensure_ascii=False)
