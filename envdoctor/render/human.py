"""The human view of a check: one line per area, flutter-doctor style, then the findings
with their fix commands. rich is imported only here, so --json never pays for it."""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

from envdoctor import __version__
from envdoctor.core.areas import title as area_title
from envdoctor.core.facts import NetworkFacts
from envdoctor.core.results import Finding, ProbeResult, Report
from envdoctor.core.units import binary_size, duration
from envdoctor.messages import say
from envdoctor.messages import t as tr
from envdoctor.redact import Redactor

MARKS = {"ok": ("✓", "green"), "info": ("✓", "green"), "warn": ("!", "yellow"),
         "error": ("✗", "red"), "skip": ("-", "dim")}
SEVERITY_STYLE = {"error": "bold red", "warn": "bold yellow", "info": "bold cyan"}


def network_lines(f: NetworkFacts) -> List[str]:
    """One line per target: each step, where it stopped, what was read, and the throughput."""
    lines = []
    for t in f.targets:
        steps = []
        for s in t.steps:
            mark = "ok" if s.ok else "not finished" if s.problem == "budget" else f"FAILED ({s.problem})"
            steps.append(f"{s.name} {s.status or ''}{' ' if s.status else ''}{mark} {s.seconds:.2f}s".replace(
                "  ", " "))
        tp = t.throughput
        read = f" · read {binary_size(t.bytes_read)}" if t.bytes_read else ""
        rate = ""
        if tp and tp.bytes_per_second and tp.projected_bytes:
            rate = (f" · {tp.rate_text()} over {binary_size(tp.bytes)}"
                    + (f", first byte after {tp.first_byte_seconds:.2f} s" if tp.first_byte_seconds is not None else "")
                    + f": the {tp.projected_bytes / 1e6:.0f} MB torch wheel would take "
                    + ("at most " if tp.small else "") + duration(tp.projected_seconds))
        via = f" via {t.proxy}" if t.proxy else ""
        lines.append(f"{t.label} {t.url}{via} ({t.source}): {' -> '.join(steps)}{read}{rate}")
        lines += [f"  {t.failure.detail}"] if t.failure and t.failure.detail else []
        lines += [f"  not used: {t.unused}"] if t.unused else []
        lines += [f"  note: {n}" for n in t.notes]
    for name, value in f.proxy_env:
        lines.append(f"{name}={value}")
    if f.pip_proxy:
        lines.append(f"pip proxy: {f.pip_proxy} ({f.pip_proxy_source})")
    lines.append(f"pip {f.pip_version or '?'}; default index (from pip): {f.pip_default_index or 'unknown'}; "
                 f"config files read: {', '.join(c.path for c in f.pip_config_files if c.exists) or 'none'}")
    if f.nameservers:
        lines.append(f"nameservers: {', '.join(f.nameservers)}")
    if f.full_sample:
        lines.append(f"fetched {binary_size(f.bytes_read)} in all: each page, and a Range of up to 32 MiB of one "
                     "file per host, read for up to 2 s (--speed, or --only network -v)")
    else:
        lines.append(f"fetched {binary_size(f.bytes_read)} in all: a Range of each page and of one file per host, "
                     "at most 1 MiB together; --speed samples up to 32 MiB per host")
    return lines


def finding_body(f: Finding) -> List[Tuple[str, str]]:
    """A finding's evidence, why, fix commands, notes and docs as (text, style) lines: one
    layout for check, explain and run-smoke."""
    lines = [(f"    {tr('label.seen')}{say(e)}", "") for e in f.evidence]
    if f.why:
        lines.append((f"    {tr('label.why')}{say(f.why)}", ""))
    lines += [(f"      $ {cmd}", "cyan") for cmd in f.fix]
    lines += [(f"    - {say(note)}", "") for note in f.notes]
    if f.docs:
        lines.append((f"    {tr('label.docs')}{f.docs}", "dim"))
    return lines


def heading(label: str, style: str, title: str, tail: str, width: Optional[int]) -> list:
    """A finding's first line (label, title, [code]) as rich Texts, wrapped at `width` with its
    continuation under the title: a Chinese title is as wide as a long English one."""
    from rich.text import Text

    from envdoctor.render.wrap import prose_lines

    pieces = prose_lines(label + title + tail, width, (label,))
    texts = []
    for n, piece in enumerate(pieces):
        text = Text()
        body = piece[len(label):] if n == 0 else piece
        if n == 0:
            text.append(label, style=style)
        cut = body.rfind(tail.strip()) if n == len(pieces) - 1 and tail.strip() and tail.strip() in body else len(body)
        text.append(body[:cut], style="bold")
        text.append(body[cut:], style="dim")
        texts.append(text)
    return texts


def leads() -> Tuple[str, ...]:
    """The labels finding_body starts prose lines with, in the chosen language: wrapped lines
    continue under the text after them."""
    return tr("label.seen"), tr("label.why"), tr("label.docs")


def severity_label(severity: str) -> str:
    """ERROR / WARN / INFO (or the language's word), padded to five cells."""
    from envdoctor.render.wrap import _cells

    word = tr(f"severity.{severity}")
    return word + " " * max(1, 6 - _cells(word))


def area_name(area: str, english: str) -> str:
    """A probe's title in the chosen language (en.py holds the same English as the probe)."""
    from envdoctor.messages import language, template

    if language() == "en":
        return english
    try:
        return template(f"area.{area}.title", language())
    except KeyError:
        return english


def area_line(result: ProbeResult) -> str:
    """The area's one line: its facts' own summary, or why there are none."""
    if result.status == "ok" and hasattr(result.facts, "summary"):
        return str(result.facts.summary())
    return result.error or str(result.status)


def fact_lines(result: ProbeResult) -> List[str]:
    import dataclasses

    if result.facts is None or not dataclasses.is_dataclass(result.facts):
        return []
    if isinstance(result.facts, NetworkFacts):
        return network_lines(result.facts)
    lines = []
    for field in dataclasses.fields(result.facts):
        value = getattr(result.facts, field.name)
        if field.name == "distributions":
            value = f"{len(value)} (see --json)"
        elif isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
            value = "; ".join(", ".join(f"{k}={v}" for k, v in dataclasses.asdict(x).items()
                                        if v not in (None, (), [])) for x in value)
        elif field.name == "marker_env":
            continue
        if value in (None, (), [], {}, ""):
            continue
        lines.append(f"{field.name}: {value}")
    return lines


def render(report: Report, code: int, redactor: Redactor, *,
           verbose: bool = False, ci: bool = False, color: Optional[bool] = None, debug: bool = False,
           file=None, title: Optional[str] = None, footer: Sequence[str] = (), wall: Optional[float] = None) -> None:
    from rich.text import Text

    from envdoctor.render.console import Console

    console = Console(file=file, no_color=ci or color is False, highlight=False, soft_wrap=True,
                      force_terminal=True if color else None, emoji=False)
    from envdoctor.render.wrap import prose_lines

    wrap_at = console.width if console.is_terminal else None  # commands never wrap; piped text not at all
    out = console.print

    def line(text: str, style: str = "") -> None:
        out(Text(redactor.text(text), style=style))

    if ci:
        for f in report.findings:
            line(f"{f.severity:5} {f.code}: {say(f.title)}")
        for a, r in report.facts.results.items():
            if r.status in ("error", "timeout", "crashed"):
                line(f"{'probe':5} {a}: {r.status}: {say(r.error)}")
        counts = report.counts()
        line(tr("check.ci-counts", errors=counts["error"], warnings=counts["warn"], infos=counts["info"],
               seconds=f"{report.seconds:.2f}", code=code))
        return

    line(title or (tr("check.header.wall", version=__version__, seconds=f"{report.seconds:.2f}", wall=f"{wall:.2f}")
                   if wall is not None else tr("check.header", version=__version__, seconds=f"{report.seconds:.2f}")),
         "bold")
    out()
    for area, result in report.facts.results.items():
        mark, style = MARKS[report.area_state(area)]
        text = Text()
        text.append(f"[{mark}] ", style=style)
        text.append(area_name(area, area_title(area)), style="bold")
        text.append(tr("label.area") + redactor.text(say(area_line(result))))
        if verbose:
            text.append(f"  ({result.seconds:.2f} s)", style="dim")
        out(text)
        if verbose:
            for fact in fact_lines(result):
                line(f"      {fact}", "dim")
        if debug and result.trace:
            line(result.trace, "dim")
    if not report.findings:
        out()
        line(tr("check.no-problems"), "bold green")
    for f in report.findings:
        out()
        out(*heading(severity_label(f.severity), SEVERITY_STYLE[f.severity], redactor.text(say(f.title)),
                      f"  [{f.code}]", wrap_at), sep="\n")
        for body, style in finding_body(f):
            for piece in [body] if body.lstrip().startswith("$ ") else prose_lines(body, wrap_at, leads()):
                line(piece, style)
    for crash in report.internal_errors:
        out()
        line(tr("check.rule-crashed"), "bold red")
        line(crash if debug else crash.splitlines()[0])
    for extra in footer:
        out()
        line(extra)
    out()
    counts = report.counts()
    line(tr("check.counts", errors=counts["error"], warnings=counts["warn"], infos=counts["info"], code=code)
         + (tr("check.deadline-hit") if report.deadline_hit else ""), "bold")
