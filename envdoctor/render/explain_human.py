"""The human view of `envdoctor explain`: the class, the root cause with its line and a
little context, why, the fix; then the other problems, then where it surfaced. Every line
goes through the Redactor: logs carry tokens and proxy passwords."""
from __future__ import annotations

from typing import Optional

from envdoctor.explain.types import Diagnosis, Explanation
from envdoctor.messages import say, t
from envdoctor.redact import Redactor
from envdoctor.render.human import finding_body, leads

SEVERITY_STYLE = {"error": "bold red", "warn": "bold yellow", "info": "bold cyan"}


def summary_line(e: Explanation) -> str:
    parts = [t("explain.lines", count=e.lines)] + [t("explain.kind." + kind.replace(" ", "-").lower())
                                                   for kind in e.kinds]
    return t("explain.summary", source=e.source, parts=", ".join(parts), seconds=f"{e.seconds:.2f}")


def render(e: Explanation, code: int, redactor: Redactor, *, color: Optional[bool] = None,
           verbose: bool = False, file=None) -> None:
    from rich.text import Text

    from envdoctor.render.console import Console

    console = Console(file=file, no_color=color is False, highlight=False, soft_wrap=True,
                      force_terminal=True if color else None, emoji=False)

    wrap_at = console.width if console.is_terminal else None  # as check: prose wraps, commands and log lines never

    def line(text: str, style: str = "", wrap: bool = False) -> None:
        from envdoctor.render.wrap import prose_lines

        for piece in prose_lines(text, wrap_at, leads()) if wrap else [text]:
            console.print(Text(redactor.text(piece), style=style))

    line(summary_line(e), "bold", wrap=True)
    for note in e.notes:
        line(t("explain.note", note=say(note)), "dim")
    console.print()
    if e.category is None:
        line(t("explain.nothing-known"), "bold")
        if e.error_lines:
            line(t("explain.error-lines"))
            for item in e.error_lines:
                line(t("explain.line", number=item.number, text=item.text))
        else:
            line(t("explain.no-errors"))
        line(t("explain.if-failed"), "dim")
        console.print()
        line(t("explain.exit", code=code), "bold")
        return
    meaning = t(f"explain.class.{e.category}.meaning")
    name = t(f"explain.class.{e.category}")
    line(
        t("explain.class", name=name.upper()) + (t("explain.class.meaning", meaning=meaning) if meaning else ""), "bold"
    )
    for n, d in enumerate(e.diagnoses):
        console.print()
        label = t("explain.root") if n == 0 and d.role == "cause" else (t("explain.also") if d.role == "cause"
                                                                          else t("explain.label.note"))
        _diagnosis(console, line, d, label, verbose, show_context=(n == 0))
    if e.error_lines and e.root is not None and e.root.confidence == "inferred":
        console.print()
        line(t("explain.error-lines"))
        for item in e.error_lines:
            line(t("explain.line", number=item.number, text=item.text))
    if e.surfaced:
        console.print()
        line(t("explain.surfaced"), "bold")
        for d in e.surfaced:
            line(t("explain.line", number=d.line.number, text=f"{say(d.finding.title)}  [{d.finding.code}]"), wrap=True)
    console.print()
    causes = sum(1 for d in e.diagnoses if d.role == "cause")
    line(t("explain.counts", causes=causes, others=len(e.diagnoses) - causes, code=code), "bold")


def _diagnosis(console, line, d: Diagnosis, label: str, verbose: bool, show_context: bool) -> None:
    from envdoctor.render.human import heading
    from envdoctor.render.wrap import _cells

    f = d.finding
    width = console.width if console.is_terminal else None
    console.print(*heading(label + " " * max(1, 11 - _cells(label)), SEVERITY_STYLE[f.severity], say(f.title),
                           f"  [{f.code}]" + (t("explain.shared") if d.shared_with_check else ""), width), sep="\n")
    if d.confidence == "inferred":
        line(t("explain.inferred"), "dim")
    if show_context or verbose:
        for item in d.context:
            marker = ">" if item.number == d.line.number else " "
            line(f"  {marker} {item.number:>6} | {item.text}", "" if marker == ">" else "dim")
    else:
        line("  " + t("explain.line", number=d.line.number, text=d.line.text))
    for text, style in finding_body(f):
        line(text, style, wrap=not text.lstrip().startswith("$ "))
    if verbose:
        for source in d.sources:
            line(t("explain.seen-at", source=source), "dim")
