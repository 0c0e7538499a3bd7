"""`check --ray` / `check --cluster` on screen and as JSON: a table of nodes with the drift fields,
the cluster's findings, then each node's own."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from envdoctor import __version__
from envdoctor.check.cluster import drift
from envdoctor.check.cluster.judge import ClusterReport
from envdoctor.redact import Redactor
from envdoctor.render.human import SEVERITY_STYLE, finding_body
from envdoctor.render.json_doc import SCHEMA_VERSION, plain

CLUSTER_SCHEMA_VERSION = 1


def table_rows(report: ClusterReport) -> List[List[str]]:
    head = ["node", "GPUs"] + [label for _, label in drift.FIELDS] + ["findings"]
    rows = [head]
    for n in report.nodes:
        if n.report is None:
            why = "unreadable" if n.saved else "unreachable"
            rows.append([n.name, "?"] + ["?"] * len(drift.FIELDS) + [f"{why}: {n.error}"])
            continue
        vals = drift.values(n.report.facts)
        driver = n.report.facts.driver
        counts = {s: sum(1 for f in n.report.findings if f.severity == s) for s in ("error", "warn")}
        rows.append([n.name, str(len(driver.gpus)) if driver is not None else "?"]
                    + [vals[key] or "?" for key, _ in drift.FIELDS]
                    + [f"{counts['error']} error(s), {counts['warn']} warning(s)"])
    return rows


def render(report: ClusterReport, code: int, redactor: Redactor, *, verbose: bool = False, ci: bool = False,
           color: Optional[bool] = None, file=None) -> None:
    from envdoctor.render.console import Console
    from rich.text import Text

    console = Console(file=file, no_color=ci or color is False, highlight=False, soft_wrap=True,
                      force_terminal=True if color else None, emoji=False)

    def line(text: str, style: str = "") -> None:
        console.print(Text(redactor.text(text), style=style))

    findings = report.all_findings()
    if ci:
        for f in report.findings:
            line(f"{f.severity:5} {f.code}: {f.title}")
        for n in report.nodes:
            for f in n.report.findings if n.report else ():
                line(f"{f.severity:5} {f.code} [{n.name}]: {f.title}")
    else:
        line(f"envdoctor {__version__}: {len(report.nodes)} node(s) checked", "bold")
        console.print()
        rows = table_rows(report)
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for i, row in enumerate(rows):
            line("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip(), "bold" if i == 0 else "")
        for f in report.findings:
            _finding(console, line, f, None)
        for n in report.nodes:
            for f in n.report.findings if n.report else ():
                if verbose or f.severity != "info":
                    _finding(console, line, f, n.name)
        if not findings:
            console.print()
            line("No problems found on any node.", "bold green")
        console.print()
    counts = {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warn", "info")}
    line(f"envdoctor: {counts['error']} error(s), {counts['warn']} warning(s), {counts['info']} info "
         f"on {len(report.nodes)} node(s) (exit {code})", "bold")


def _finding(console, line, f, node: Optional[str]) -> None:
    from rich.text import Text

    console.print()
    head = Text()
    head.append(f"{f.severity.upper():5} ", style=SEVERITY_STYLE[f.severity])
    head.append((f"{node}: " if node else "") + f.title, style="bold")
    head.append(f"  [{f.code}]", style="dim")
    console.print(head)
    for text, style in finding_body(f):
        line(text, style)


def document(report: ClusterReport, code: int, redactor: Redactor) -> Dict[str, Any]:
    """The cluster envelope: one `check --json` document per node, as the node sent it (its facts)
    with the findings judged here."""
    nodes = []
    for n in report.nodes:
        entry: Dict[str, Any] = {"name": n.name, "node_id": n.node_id, "reachable": n.report is not None,
                                 "error": n.error, "extras": plain(n.extras), "drift": None, "check": None}
        if n.report is not None:
            entry["drift"] = drift.values(n.report.facts)
            check = dict(n.document or {})
            check.setdefault("schema_version", SCHEMA_VERSION)
            check["findings"] = [plain(f) for f in n.report.findings]
            entry["check"] = check
        nodes.append(entry)
    counts = {s: sum(1 for f in report.all_findings() if f.severity == s) for s in ("error", "warn", "info")}
    return redactor.data({
        "cluster_schema_version": CLUSTER_SCHEMA_VERSION,
        "tool": {"name": "envdoctor", "version": __version__},
        "exit_code": code,
        "summary": counts,
        "findings": [plain(f) for f in report.findings],
        "nodes": nodes,
    })
