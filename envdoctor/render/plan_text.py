"""The human view of `fix --plan`: the stack chosen and why, each step with its commands, and the
newer releases that do not fit. rich is imported only here."""
from __future__ import annotations

import shlex
from typing import Optional

from envdoctor.core.units import download_size
from envdoctor.fix.plan import Plan
from envdoctor.fix.resolve import Resolution
from envdoctor.messages import say as word
from envdoctor.messages import t
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
        for piece in [redactor.text(text)] if command else prose_lines(redactor.text(text), wrap_at, ("• ",)):
            piece = escape(piece)
            console.print(f"[{style}]{piece}[/]" if style and piece else piece)

    say(t("plan.head", wanted=word(resolution.wanted)), "bold")
    say(t("plan.machine", machine=target_line(resolution)), "dim")
    s = resolution.stack
    if s is None or plan is None:
        say()
        say(t("plan.none"), "bold red")
        for n in resolution.notes:
            say(f"  {word(n)}")
        say(t("plan.changes"), "bold")
        for c in resolution.changes:
            say(f"  • {word(c)}")
    else:
        say()
        say(f"✓ {summary(s)}", "bold green")
        say(t("plan.torch-wheels", index=s.torch_index or t("plan.default-index")))
        say(t("plan.pythons", python=s.python, pythons=", ".join(s.pythons), limits="; ".join(s.python_limits)))
        floor = s.driver
        say(t("plan.driver-floor", linux=floor.linux or floor.compat_linux or "?",
              windows=floor.windows or floor.compat_windows or "?", cuda=floor.cuda, major=floor.cuda.split(".")[0],
              compat=floor.compat_text()))
        for n in s.notes + resolution.notes:
            say(f"  • {word(n)}")
        say(t("plan.new-env", env=plan.env, tool=plan.env_tool, size=download_size(plan.download_bytes)))
        for i, step in enumerate(plan.steps, 1):
            say()
            say(f"{i}. {word(step.title)}" + (t("plan.needs-root") if step.needs_root else ""), "bold cyan")
            say(f"   {word(step.why)}", "dim")
            for w in step.writes:
                say(t("plan.write", path=w.path, content=w.content.strip()))
            for argv in step.commands:
                say(f"   $ {' '.join(shlex.quote(a) for a in argv)}", command=True)
            for check in step.verify:
                say(t("plan.check", what=word(check.what)), "dim")
        say()
        say(t("plan.then-smoke"), "bold")
        for n in plan.next_steps:
            say(f"   $ {n}", command=True)
        say(t("plan.or-apply"), "dim")
    if resolution.fit is not None:
        f = resolution.fit
        say()
        style = {"fits": "green", "fits-with-settings": "yellow"}.get(f.verdict, "red")
        from envdoctor.render.fit_text import VERDICT_WORDS

        say(t("plan.model", model=f.model.name, gpu=f.gpu.name, verdict=word(f.blocker or VERDICT_WORDS[f.verdict])),
            f"bold {style}")
        if f.verdict != "does-not-fit":
            say(f"   $ {f.chosen.settings.vllm_args(f.model.name)}", command=True)
        elif f.alternative is not None:
            say(
                t("plan.instead", command=f.alternative.chosen.settings.vllm_args(f.alternative.model.name)),
                command=True,
            )
    if resolution.newest_here:
        say()
        say(t("plan.newest-here", vllm=resolution.newest_here))
    if resolution.rejected:
        say()
        say(t("plan.rejected"), "bold")
        for line in grouped_rejections(resolution):
            say(f"  ✗ {line}")
