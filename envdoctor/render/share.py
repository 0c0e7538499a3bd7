"""The text `envdoctor report` writes: check's findings as Markdown (render/markdown), with a pasted
collect_env report's own blocks at the end, or check's JSON document; redacted for sharing."""
from __future__ import annotations

from typing import Mapping, Optional

from envdoctor.core.results import Report
from envdoctor.redact import Redactor
from envdoctor.render import from_report
from envdoctor.render.json_doc import document, dumps
from envdoctor.render.markdown import render as markdown
from envdoctor.report.collect_env import ParsedReport


def share_text(report: Report, code: int, redactor: Redactor, *, as_json: bool, env: Mapping[str, str],
               parsed: Optional[ParsedReport] = None, redacted_paths: bool = True) -> str:
    if as_json:
        doc = document(report, code, redactor)
        if parsed is not None:
            doc["from_report"] = redactor.data(from_report.document(parsed))
        return redactor.text(dumps(doc)) + "\n"
    blocks = from_report.footer(parsed) if parsed is not None else []
    extra = ["## From the report\n\n" + "\n\n".join("```\n" + block + "\n```" for block in blocks)] if blocks else []
    return markdown(report, code, redactor, env=env, source=parsed.source if parsed is not None else None,
                    extra=extra, redacted_paths=redacted_paths)
