"""The human view of `fix --plan`: the stack chosen and why, each step with its commands, and the
newer releases that do not fit. rich is imported only here."""
from __future__ import annotations

import shlex
from typing import Optional

from envdoctor.core.units import download_size
from envdoctor.fix.plan import Plan
from envdoctor.fix.resolve import Resolution
from envdoctor.redact import Redactor
from envdoctor.render.plan_common import grouped_rejections, summary, target_line


def render(resolution: Resolution, plan: Optional[Plan], redactor: Redactor, color: Optional[bool] = None,
           width: Optional[int] = None) -> None:
    from rich.markup import escape

    from envdoctor.render.console import Console
    from envdoctor.render.wrap import prose_lines

    console = Console(no_color=color is False, force_terminal=color, width=width, highlight=False, soft_wrap=True)
    wrap_at = (width or console.width) if (width or console.is_terminal) else None

    def say(text: str = "", style: str = "", command: bool = False) -> None:
        """Prose wraps at a terminal's width, indented; a command is one line, always."""
        for piece in [redactor.text(text)] if command else prose_lines(redactor.text(text), wrap_at):
            piece = escape(piece)
            console.print(f"[{style}]{piece}[/]" if style and piece else piece)

    say(f"Plan for {resolution.wanted}", "bold")
    say(f"  machine: {target_line(resolution)}", "dim")
    s = resolution.stack
    if s is None or plan is None:
        say()
        say("✗ No vLLM release in envdoctor's data runs here as asked.", "bold red")
        for n in resolution.notes:
            say(f"  {n}")
        say("What has to change:", "bold")
        for c in resolution.changes:
            say(f"  • {c}")
    else:
        say()
        say(f"✓ {summary(s)}", "bold green")
        say(f"  torch wheels: {s.torch_index or 'the default package index'}")
        say(f"  Python {s.python}: wheels exist for {', '.join(s.pythons)} ({'; '.join(s.python_limits)})")
        floor = s.driver
        say(f"  driver: >= {floor.linux or floor.compat_linux or '?'} (Linux) / "
            f">= {floor.windows or floor.compat_windows or '?'} (Windows, WSL 2) for CUDA {floor.cuda}; "
            f"CUDA {floor.cuda.split('.')[0]}.x runs on >= {floor.compat_text()} (minor-version compatibility)")
        for n in s.notes + resolution.notes:
            say(f"  • {n}")
        say(f"  new environment: {plan.env} ({plan.env_tool}); download about {download_size(plan.download_bytes)} "
            "plus dependencies")
        for i, step in enumerate(plan.steps, 1):
            say()
            say(f"{i}. {step.title}" + (" (needs root)" if step.needs_root else ""), "bold cyan")
            say(f"   {step.why}", "dim")
            for w in step.writes:
                say(f"   write {w.path}: {w.content.strip()}")
            for argv in step.commands:
                say(f"   $ {' '.join(shlex.quote(a) for a in argv)}", command=True)
            for check in step.verify:
                say(f"   check: {check.what}", "dim")
        say()
        say("Then prove it with a real generation:", "bold")
        for n in plan.next_steps:
            say(f"   $ {n}", command=True)
        say("Or: envdoctor fix --apply (does all of this in a new environment, resumable), "
            "--format sh | md | json | dockerfile", "dim")
    if resolution.fit is not None:
        f = resolution.fit
        say()
        style = {"fits": "green", "fits-with-settings": "yellow"}.get(f.verdict, "red")
        from envdoctor.render.fit_text import VERDICT_WORDS

        say(f"Model {f.model.name} on {f.gpu.name}: {f.blocker or VERDICT_WORDS[f.verdict]}", f"bold {style}")
        if f.verdict != "does-not-fit":
            say(f"   $ {f.chosen.settings.vllm_args(f.model.name)}", command=True)
        elif f.alternative is not None:
            say(f"   instead: {f.alternative.chosen.settings.vllm_args(f.alternative.model.name)}", command=True)
    if resolution.newest_here:
        say()
        say(f"The newest release that would run here: vllm {resolution.newest_here} (envdoctor fix --plan)")
    if resolution.rejected:
        say()
        say("Releases that do not fit:", "bold")
        for line in grouped_rejections(resolution):
            say(f"  ✗ {line}")
