"""The human view of `envdoctor explain`: the class, the root cause with its line and a
little context, why, the fix; then the other problems, then where it surfaced. Every line
goes through the Redactor: logs carry tokens and proxy passwords."""
from __future__ import annotations

from typing import Optional

from envdoctor.explain.signatures import CLASSES
from envdoctor.explain.types import Diagnosis, Explanation
from envdoctor.redact import Redactor
from envdoctor.render.human import finding_body

SEVERITY_STYLE = {"error": "bold red", "warn": "bold yellow", "info": "bold cyan"}
CLASS_MEANING = {
    "network": "the network failed; the environment is not at fault and needs no reinstall",
    "environment": "versions or installed pieces that do not fit together",
    "wsl": "WSL 2 plumbing",
    "resources": "not enough memory or disk",
    "build": "compiling from source failed",
    "docker": "Docker or the container runtime",
    "other": "",
}


def summary_line(e: Explanation) -> str:
    parts = [f"{e.lines} lines"] + list(e.kinds)
    return f"envdoctor explain: {e.source} ({', '.join(parts)}; {e.seconds:.2f} s)"


def render(e: Explanation, code: int, redactor: Redactor, *, color: Optional[bool] = None,
           verbose: bool = False, file=None) -> None:
    from rich.text import Text

    from envdoctor.render.console import Console

    console = Console(file=file, no_color=color is False, highlight=False, soft_wrap=True,
                      force_terminal=True if color else None, emoji=False)

    def line(text: str, style: str = "") -> None:
        console.print(Text(redactor.text(text), style=style))

    line(summary_line(e), "bold")
    for note in e.notes:
        line(f"  note: {note}", "dim")
    console.print()
    if e.category is None:
        line("No known problem recognised in this log.", "bold")
        if e.error_lines:
            line("The lines that look most like errors:")
            for item in e.error_lines:
                line(f"  line {item.number}: {item.text}")
        else:
            line("Nothing in it looks like an error.")
        line("If it failed, run `envdoctor check` on the machine, or attach the log to a bug report "
             "(`envdoctor report` writes a redacted one).", "dim")
        console.print()
        line(f"exit code {code}", "bold")
        return
    meaning = CLASS_MEANING.get(e.category, "")
    line(f"Class: {CLASSES[e.category].upper()}" + (f" - {meaning}" if meaning else ""), "bold")
    for n, d in enumerate(e.diagnoses):
        console.print()
        label = "ROOT CAUSE" if n == 0 and d.role == "cause" else ("ALSO" if d.role == "cause" else "NOTE")
        _diagnosis(console, line, d, label, verbose, show_context=(n == 0))
    if e.error_lines and e.root is not None and e.root.confidence == "inferred":
        console.print()
        line("The lines that look most like errors:")
        for item in e.error_lines:
            line(f"  line {item.number}: {item.text}")
    if e.surfaced:
        console.print()
        line("Surfaced as:", "bold")
        for d in e.surfaced:
            line(f"  line {d.line.number}: {d.finding.title}  [{d.finding.code}]")
    console.print()
    causes = sum(1 for d in e.diagnoses if d.role == "cause")
    line(f"{causes} cause(s), {len(e.diagnoses) - causes} other finding(s) · exit code {code}", "bold")


def _diagnosis(console, line, d: Diagnosis, label: str, verbose: bool, show_context: bool) -> None:
    from rich.text import Text

    f = d.finding
    head = Text()
    head.append(f"{label:11}", style=SEVERITY_STYLE[f.severity])
    head.append(f.title, style="bold")
    head.append(f"  [{f.code}]" + (" (also a `check` finding)" if d.shared_with_check else ""), style="dim")
    console.print(head)
    if d.confidence == "inferred":
        line("    confidence: lower - inferred from the error's words, the tool that failed and the kind of log; "
             "no exact signature matched", "dim")
    if show_context or verbose:
        for item in d.context:
            marker = ">" if item.number == d.line.number else " "
            line(f"  {marker} {item.number:>6} | {item.text}", "" if marker == ">" else "dim")
    else:
        line(f"    line {d.line.number}: {d.line.text}")
    for text, style in finding_body(f):
        line(text, style)
    if verbose:
        for source in d.sources:
            line(f"    error text seen at: {source}", "dim")
