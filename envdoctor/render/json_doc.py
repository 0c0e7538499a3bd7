"""The versioned JSON document of `envdoctor check --json` (docs/json-schema.md)."""
from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any, Dict, Sequence

from envdoctor import __version__

if TYPE_CHECKING:  # only for annotations: `fix --plan --format json` needs `plain`, not the engine
    from envdoctor.probes.engine import Probe
    from envdoctor.core.results import Report
    from envdoctor.redact import Redactor

SCHEMA_VERSION = 1


def plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def document(report: Report, probes: Sequence[Probe], code: int, redactor: Redactor) -> Dict[str, Any]:
    titles = {p.area: p.title for p in probes}
    results = report.facts.results
    doc = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "envdoctor", "version": __version__},
        "exit_code": code,
        "deadline_hit": report.deadline_hit,
        "seconds": report.seconds,
        "summary": report.counts(),
        "probes": [{"area": a, "title": titles.get(a, a), "status": r.status, "seconds": r.seconds,
                    "error": r.error} for a, r in results.items()],
        "facts": {a: plain(r.facts) for a, r in results.items()},
        "findings": [_finding(f) for f in report.findings],
    }
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
