"""`envdoctor fix`: options → fix.run (the facts, the resolution, the plan) → print the plan in the
chosen format, or apply it with step lines, a download progress bar and a clear stop on the first
failure.

The resolver, tables, planner and renderers are imported inside the functions that use them:
`envdoctor fix --help` must load none of them (tests/test_startup.py)."""
from __future__ import annotations

import os
import shlex
import sys
from typing import TYPE_CHECKING, Any, Callable, Optional

import click

from envdoctor.cli import summary
from envdoctor.cli.options import checked_index_url, color, known_cc, python_arg, python_option, replay_option
from envdoctor.core.areas import DEFAULT_DEADLINE
from envdoctor.core.exitcodes import EXIT_ERROR, EXIT_OK
from envdoctor.core.reasons import FailureKind
from envdoctor.redact import Redactor
from envdoctor.render import progress

if TYPE_CHECKING:
    from envdoctor.fix.plan import Plan
    from envdoctor.fix.resolve import Resolution


@click.command(short_help=summary("fix"))
@click.option("--plan", "mode", flag_value="plan", default=True, help="Print the plan (the default); changes nothing.")
@click.option("--apply", "mode", flag_value="apply", help="Carry the plan out in a NEW environment.")
@click.option("--format", "fmt", type=click.Choice(["human", "sh", "json", "md", "dockerfile"]), default="human",
              show_default=True, help="How --plan prints the plan.")
@click.option("--vllm", "vllm_version", metavar="VERSION|RANGE", help="The vLLM wanted (default: the newest that runs).")
@click.option("--model", metavar="ID_OR_DIR", help="Also size this model for the GPU (and pass it to run-smoke).")
@click.option("--python-version", "python_version", metavar="X.Y", help="The Python the new environment must use.")
@click.option("--driver", metavar="VERSION", help="Plan for this NVIDIA driver (another machine).")
@click.option("--gpu", "gpu_name", metavar="NAME", help='Plan for this GPU, e.g. "RTX 3050 Laptop".')
@click.option("--cc", metavar="X.Y", help="Plan for a GPU of this compute capability.")
@click.option("--os", "os_name", type=click.Choice(["wsl2", "linux"]), help="Plan for this OS.")
@click.option("--from-json", "from_json", metavar="FILE", help="Plan from a saved `envdoctor check --json`.")
@python_option()
@click.option("--env", "env_path", metavar="PATH", help="The NEW environment's directory (default ~/venvs/vllm-X).")
@click.option("--env-tool", type=click.Choice(["venv", "conda", "uv"]), help="How to create it (default: what you use).")
@click.option("--index-url", metavar="URL", help="Package index for vLLM and its dependencies (default: pip's config).")
@click.option("--torch-index-url", metavar="URL", help="Index for torch (default: its CUDA folder of the PyTorch index).")
@click.option("--yes", is_flag=True, help="--apply: do not ask before starting.")
@click.option("--dry-run", is_flag=True, help="--apply: say what would run (and what is already done); change nothing.")
@click.option("--cache-dir", metavar="DIR", help="--apply: wheelhouse and resume state (default ~/.cache/envdoctor).")
@replay_option(metavar=None)
def fix(mode: str, fmt: str, vllm_version: Optional[str], model: Optional[str], python_version: Optional[str],
        driver: Optional[str], gpu_name: Optional[str], cc: Optional[str], os_name: Optional[str],
        from_json: Optional[str], python: Optional[str], env_path: Optional[str], env_tool: Optional[str],
        index_url: Optional[str], torch_index_url: Optional[str], yes: bool, dry_run: bool, cache_dir: Optional[str],
        replay: Optional[str]) -> int:
    """A known-good install plan for vLLM on this machine (or one you describe), explained.

    Exit code: 0 a plan was found (applied), 2 nothing can work as asked / a step failed, 4 usage."""
    from envdoctor.compat.tables import Matrices
    from envdoctor.fix import run as fix_run
    from envdoctor.fix.resolve import Wishes

    matrices = Matrices()
    if cc is not None:
        known_cc(cc, max(int(g.compute_capability.split(".")[0]) for g in matrices.table("gpus")))
    checked_index_url(index_url, "--index-url", ("http", "https", "file"))
    checked_index_url(torch_index_url, "--torch-index-url", ("http", "https", "file"))
    wishes = Wishes(vllm_version, python_version, driver, gpu_name, cc, os_name)
    inputs = fix_run.gather(from_json, replay, python_arg(python) if python is not None and not replay else python,
                            DEFAULT_DEADLINE)
    resolution, plan = fix_run.plan_for(inputs, wishes, matrices, model, env_path, env_tool, index_url,
                                        torch_index_url)
    redactor = Redactor(os.environ)
    if mode == "apply":
        elsewhere = [flag for flag, value in (("--os", os_name), ("--gpu", gpu_name), ("--driver", driver),
                                              ("--cc", cc)) if value is not None]
        if elsewhere:
            raise click.UsageError(f"this plan is for another machine ({', '.join(elsewhere)}): render it with "
                                   "--format sh and run it there")
        return run_apply(resolution, plan, redactor, yes=yes, dry_run=dry_run, cache_dir=cache_dir)
    return render_plan(resolution, plan, fmt, redactor)


def render_plan(resolution: Resolution, plan: Optional[Plan], fmt: str, redactor: Redactor) -> int:
    from envdoctor.render import plan_dockerfile, plan_json, plan_md, plan_sh, plan_text

    code = EXIT_OK if plan is not None else EXIT_ERROR
    if fmt == "json":
        click.echo(plan_json.dumps(plan_json.document(resolution, plan, redactor)))
    elif fmt == "md":
        click.echo(redactor.text(plan_md.render(resolution, plan)))
    elif fmt in ("sh", "dockerfile"):
        if plan is None:
            click.echo(f"envdoctor: no working plan for {resolution.wanted}: "
                       + "; ".join(resolution.changes), err=True)
            return code
        if fmt == "sh":
            click.echo(redactor.text(plan_sh.render(plan)), nl=False)
        else:
            click.echo(redactor.text(plan_dockerfile.render(plan)), nl=False)
            click.echo(f"build: DOCKER_BUILDKIT=1 docker build -t vllm-{plan.stack.vllm.version} .\n"
                       f"run:   {plan_dockerfile.run_line(plan)}", err=True)
    else:
        plan_text.render(resolution, plan, redactor, color=color())
    return code


def cache_root(explicit: Optional[str]) -> str:
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "envdoctor")


def run_apply(resolution: Resolution, plan: Optional[Plan], redactor: Redactor, *, yes: bool, dry_run: bool,
              cache_dir: Optional[str]) -> int:
    from envdoctor.fix.apply.run import Options, apply, load_state
    from envdoctor.machine.runner import SubprocessRunner
    from envdoctor.render import plan_text

    if plan is None:
        plan_text.render(resolution, None, redactor)
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
    finally:
        reporter.close()
    if dry_run:
        say("Dry run: nothing was changed.")
        return EXIT_OK
    if not result.ok:
        err = result.error
        assert err is not None and result.failed is not None  # apply's Result names both on a failure
        kind = "the network" if err.kind is FailureKind.NETWORK else "the environment"
        say(f"✗ stopped at step '{result.failed.title}': {err} [cause: {kind}]")
        if err.cause:
            say(f"  recognised: {err.cause.title} [{err.cause.code}]")
        for line in err.lines:
            say(f"    {line}")
        if err.kind is FailureKind.NETWORK:
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


def _printer(redactor: Redactor) -> Callable[[str], None]:
    def say(text: str) -> None:
        click.echo(redactor.text(text))
    return say


def would_run(step) -> list:
    """What --dry-run says a step would do: its commands, the files it writes, what it installs."""
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
        self.progress: Optional[Any] = None  # rich's Progress, on a terminal
        self.task: Optional[Any] = None
        self.current: Optional[str] = None
        if progress.wanted():
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
