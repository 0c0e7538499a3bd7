"""The versioned JSON document of `envdoctor explain --json`, redacted."""
from __future__ import annotations

from typing import Any, Dict

from envdoctor.explain.types import Diagnosis, Explanation
from envdoctor.redact import Redactor
from envdoctor.render.json_doc import envelope


def _line(item) -> Dict[str, Any]:
    return {"line": item.number, "text": item.text}


def _diagnosis(d: Diagnosis) -> Dict[str, Any]:
    from envdoctor.messages import asked, localized

    f = d.finding
    return {
        "code": f.code,
        "class": d.category,
        "role": d.role,
        "severity": f.severity,
        "title": f.title,
        "line": d.line.number,
        "text": d.line.text,
        "context": [_line(c) for c in d.context],
        "evidence": list(f.evidence),
        "why": f.why,
        "fix": list(f.fix),
        "notes": list(f.notes),
        "count": d.count,
        "confidence": d.confidence,
        "shared_with_check": d.shared_with_check,
        "sources": list(d.sources),
        **({"localized": localized(title=f.title, evidence=f.evidence, why=f.why, notes=f.notes)} if asked() else {}),
    }


def document(e: Explanation, code: int, redactor: Redactor) -> Dict[str, Any]:
    root = e.root
    doc = envelope({
        "exit_code": code,
        "source": e.source,
        "lines": e.lines,
        "bytes": e.bytes,
        "seconds": e.seconds,
        "class": e.category,
        "root_cause": root.finding.code if root is not None else None,
        "kinds": list(e.kinds),
        "notes": list(e.notes),
        "diagnoses": [_diagnosis(d) for d in e.diagnoses],
        "surfaced": [_diagnosis(d) for d in e.surfaced],
        "error_lines": [_line(x) for x in e.error_lines],
    }, command="explain")
    return redactor.data(doc)
