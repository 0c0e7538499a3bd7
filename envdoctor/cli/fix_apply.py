"""The acting half of `envdoctor fix`: print a plan in the chosen format, or apply it with a rich
progress display and a clear stop on the first failure."""
from __future__ import annotations

import os
import sys
from typing import Optional

import click

from envdoctor.core.exitcodes import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from envdoctor.fix.plan import Plan
from envdoctor.redact import Redactor
from envdoctor.fix.resolve import Resolution


def render_plan(resolution: Resolution, plan: Optional[Plan], fmt: str, redactor: Redactor, matrices) -> int:
    code = EXIT_OK if plan is not None else EXIT_ERROR
    if fmt == "json":
        from envdoctor.render.plan_json import document, dumps

        click.echo(dumps(document(resolution, plan, redactor)))
    elif fmt == "md":
        from envdoctor.render.plan_md import render

        click.echo(redactor.text(render(resolution, plan)))
    elif fmt in ("sh", "dockerfile"):
        if plan is None:
            click.echo(f"envdoctor: no working plan for {resolution.wanted}: "
                       + "; ".join(resolution.changes), err=True)
            return code
        if fmt == "sh":
            from envdoctor.render.plan_sh import render as sh

            click.echo(redactor.text(sh(plan)), nl=False)
        else:
            from envdoctor.render.plan_dockerfile import render as dockerfile

            from envdoctor.render.plan_dockerfile import run_line

            click.echo(redactor.text(dockerfile(plan, matrices)), nl=False)
            click.echo(f"build: DOCKER_BUILDKIT=1 docker build -t vllm-{plan.stack.vllm.version} .\n"
                       f"run:   {run_line(plan)}", err=True)
    else:
        from envdoctor.render.plan_text import render

        render(resolution, plan, redactor, color=False if os.environ.get("NO_COLOR") else None)
    return code


def cache_root(explicit: Optional[str]) -> str:
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "envdoctor")


def run_apply(resolution: Resolution, plan: Optional[Plan], redactor: Redactor, *, yes: bool, dry_run: bool,
              cache_dir: Optional[str]) -> int:
    from envdoctor.fix.apply.run import Options, Refused, apply, load_state
    from envdoctor.machine.runner import SubprocessRunner

    if plan is None:
        from envdoctor.render.plan_text import render

        render(resolution, None, redactor)
        return EXIT_ERROR
    root = cache_root(cache_dir)
    opts = Options(wheelhouse=os.path.join(root, "wheelhouse"), state_dir=os.path.join(root, "apply"), dry_run=dry_run)
    say = _printer(redactor)
    s = plan.stack
    resumed = load_state(opts.state_dir, plan.env).get("done")
    say(f"Apply: vllm {s.vllm.version} + torch {s.torch.version} ({s.cuda_tag}) on Python {s.python} into {plan.env}"
        + (f" (resuming: {', '.join(resumed)} done before)" if resumed else ""))
    if not yes and not dry_run:
        if not sys.stdin.isatty():
            raise click.UsageError("--apply asks before it starts: pass --yes to run without a prompt")
        click.confirm("Create this new environment and install into it?", abort=True)
    reporter = _reporter(say)
    try:
        result = apply(plan, opts, SubprocessRunner(), os.environ, reporter)
    except Refused as exc:
        click.echo(f"envdoctor: {redactor.text(str(exc))}", err=True)
        return EXIT_USAGE
    finally:
        reporter.close()
    if dry_run:
        say("Dry run: nothing was changed.")
        return EXIT_OK
    if not result.ok:
        err = result.error
        kind = "the network" if err.kind == "network" else "the environment"
        say(f"✗ stopped at step '{result.failed.title}': {err} [cause: {kind}]")
        if err.cause:
            say(f"  recognised: {err.cause}")
        for line in err.lines:
            say(f"    {line}")
        if err.kind == "network":
            say("  Rerun the same command: finished downloads are kept and a broken one resumes.")
        elif os.path.lexists(plan.env):
            say(f"  {plan.env} is left as it is for inspection; the environment you use was not touched.")
        else:
            say(f"  {plan.env} was not created; the environment you use was not touched.")
        return EXIT_ERROR
    fetched = sum(o.bytes_fetched for o in result.outcomes)
    say(f"✓ done ({fetched / 1e6:.1f} MB downloaded this run). Prove it with a real generation:")
    for line in plan.next_steps:
        say(f"  {line}")
    return EXIT_OK


def _printer(redactor: Redactor):
    def say(text: str) -> None:
        click.echo(redactor.text(text))
    return say


def would_run(step) -> list:
    """What --dry-run says a step would do: its commands, the files it writes, what it installs."""
    import shlex

    lines = [f"writes {w.path}" for w in step.writes]
    if step.install is not None:  # --apply downloads first, then installs offline: not the plan's pip line
        where = step.install.index_url or "pip's configured index"
        lines.append(f"downloads {' '.join(step.install.requirements)} from {where} into the wheelhouse, "
                     "then installs from there with no network")
    else:
        lines += [f"$ {shlex.join(c)}" for c in step.commands]
    lines += [f"{'then checks' if lines else 'checks'} {c.what}" for c in step.verify]
    return lines


class _reporter:
    """Steps as lines; downloads as a rich progress bar on a terminal (plain lines elsewhere)."""

    def __init__(self, say) -> None:
        self.say = say
        self.progress = None
        self.task = None
        self.current = None
        from envdoctor.render.progress import wanted

        if wanted():
            from rich.console import Console
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                                     TransferSpeedColumn(), transient=True, console=Console(stderr=True))
            self.progress.start()

    def step(self, index, total, step, status, detail="") -> None:
        mark = {"done": "✓", "already-done": "✓", "failed": "✗", "running": "…", "would-run": "·"}[status]
        words = {"already-done": "already done (checked)", "would-run": "would run", "running": "running"}.get(status, status)
        self.say(f"{mark} {index}/{total} {step.title}: {words}")
        if status == "would-run":
            for line in would_run(step):
                self.say(f"      {line}")

    def download(self, artifact, got, total) -> None:
        if self.progress is None:
            if artifact.filename != self.current:
                self.current = artifact.filename
                self.say(f"    downloading {artifact.filename}")
            return
        if artifact.filename != self.current:
            self.current = artifact.filename
            self.task = self.progress.add_task(artifact.filename[:40], total=total)
        self.progress.update(self.task, completed=got, total=total)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
