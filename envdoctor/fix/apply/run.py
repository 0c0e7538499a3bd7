"""Carry a Plan out, step by step, in a NEW environment.

Never the environment in use (the one check looked at, VIRTUAL_ENV, CONDA_PREFIX, envdoctor's own)
and never a directory that exists with something in it, unless this machine's apply state says
envdoctor created it (a run that was interrupted: it resumes). Each step writes its files, gets its
packages through the wheelhouse (pip resolves, envdoctor downloads with resume and hash checks, pip
installs with --no-index), and must pass its checks before the next one starts. The first failure
stops everything and says which step, the lines that matter, and whether it was the network or
the environment.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional

from envdoctor.fix.plan import Plan, Step
from envdoctor.machine.runner import Runner
from envdoctor.fix.apply.download import Policy
from envdoctor.core.reasons import FailureKind
from envdoctor.fix.apply.wheelhouse import (REPORT_PIP, Artifact, StepError, classify, download_all, failure, important_lines,
                         install_offline, pip_version, resolve)
from envdoctor.core.errors import UsageError

COMMAND_TIMEOUT = 3600.0
CHECK_TIMEOUT = 600.0


# What a half-made venv or uv environment holds at its top level: anything else was put there
# by someone, and a rerun does not delete it.
ENV_LAYOUT = {"bin", "include", "lib", "lib64", "pyvenv.cfg", "share", ".gitignore", "CACHEDIR.TAG", ".lock"}


class Refused(UsageError):
    """apply will not touch this target; one line (a usage error)."""


@dataclass
class Options:
    wheelhouse: str
    state_dir: str
    policy: Policy = field(default_factory=Policy)
    dry_run: bool = False


@dataclass(frozen=True)
class Outcome:
    step: str
    status: str  # done | already-done | would-run | failed
    detail: str = ""
    bytes_fetched: int = 0


@dataclass
class Result:
    outcomes: List[Outcome]
    failed: Optional[Step] = None
    error: Optional[StepError] = None

    @property
    def ok(self) -> bool:
        return self.failed is None


class Reporter:
    """What apply tells as it goes; the CLI draws it with rich, tests record it."""

    def step(self, index: int, total: int, step: Step, status: str, detail: str = "") -> None: ...

    def download(self, artifact: Artifact, got: int, total: Optional[int]) -> None: ...


def state_path(state_dir: str, env: str) -> str:
    return os.path.join(state_dir, hashlib.sha256(os.path.abspath(env).encode()).hexdigest()[:16] + ".json")


def load_state(state_dir: str, env: str) -> Dict:
    try:
        with open(state_path(state_dir, env), encoding="utf-8") as fh:
            data = json.load(fh)
        return data if isinstance(data, dict) and data.get("env") == os.path.abspath(env) else {}
    except (OSError, ValueError):
        return {}


def _save_state(state_dir: str, env: str, state: Dict) -> None:
    os.makedirs(state_dir, exist_ok=True)
    path = state_path(state_dir, env)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(state, fh)
    os.replace(tmp, path)


def check_target(plan: Plan, environ: Mapping[str, str], state: Dict) -> None:
    env = os.path.realpath(plan.env)
    active = [plan.resolution.target.python_prefix, environ.get("VIRTUAL_ENV"), environ.get("CONDA_PREFIX"),
              sys.prefix]
    if any(p and os.path.realpath(p) == env for p in active):
        raise Refused(f"--env {plan.env} is the Python environment in use: apply only builds a new one")
    if os.path.exists(env) and not os.path.isdir(env):
        raise Refused(f"--env {plan.env} exists and is not a directory")
    if os.path.isdir(env) and os.listdir(env) and not state.get("created"):
        raise Refused(f"--env {plan.env} exists and is not empty: pass a new path (apply never installs into "
                      "an existing environment)")
    if os.path.isdir(env) and state.get("created") and "env" not in state.get("done", []) \
            and not os.path.isdir(os.path.join(env, "conda-meta")):
        ours = {os.path.relpath(os.path.realpath(w.path), env).split(os.sep)[0] for s in plan.steps for w in s.writes}
        strange = sorted(set(os.listdir(env)) - ENV_LAYOUT - ours)
        if strange:  # the rerun deletes the half-made env: never what someone put there since
            raise Refused(f"--env {plan.env} was begun by an interrupted apply but now also holds "
                          f"{', '.join(strange[:3])}: move that away or pass another --env")


def child_env(environ: Mapping[str, str]) -> Dict[str, str]:
    env = {k: v for k, v in environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONNOUSERSITE="1")
    return env


def apply(plan: Plan, opts: Options, runner: Runner, environ: Mapping[str, str],
          reporter: Reporter = Reporter(), session=None) -> Result:
    state = load_state(opts.state_dir, plan.env)
    check_target(plan, environ, state)
    env = child_env(environ)
    total = len(plan.steps)
    outcomes: List[Outcome] = []
    done = list(state.get("done", []))
    for i, step in enumerate(plan.steps, 1):
        if opts.dry_run:
            status = "already-done" if step.id in done else "would-run"
            outcomes.append(Outcome(step.id, status))
            reporter.step(i, total, step, status)
            continue
        if step.id in done and _checks(runner, step, env) is None:
            outcomes.append(Outcome(step.id, "already-done"))
            reporter.step(i, total, step, "already-done")
            continue
        reporter.step(i, total, step, "running")
        try:
            fetched = _run_step(plan, step, opts, runner, env, state, reporter, session)
            error = _checks(runner, step, env)
            if error is not None:
                raise error
        except StepError as exc:
            outcomes.append(Outcome(step.id, "failed", str(exc)))
            reporter.step(i, total, step, "failed", str(exc))
            return Result(outcomes, step, exc)
        done = [d for d in done if d != step.id] + [step.id]
        state.update(env=os.path.abspath(plan.env), done=done)
        _save_state(opts.state_dir, plan.env, state)
        outcomes.append(Outcome(step.id, "done", bytes_fetched=fetched))
        reporter.step(i, total, step, "done")
    return Result(outcomes)


def _run_step(plan: Plan, step: Step, opts: Options, runner: Runner, env: Dict[str, str], state: Dict,
              reporter: Reporter, session) -> int:
    if step.id == "env":
        if state.get("created") and os.path.isdir(plan.env):
            shutil.rmtree(plan.env)  # our own half-made environment from an interrupted run
        state.update(env=os.path.abspath(plan.env), created=True)
        _save_state(opts.state_dir, plan.env, state)
    for w in step.writes:
        os.makedirs(os.path.dirname(w.path) or ".", exist_ok=True)
        with open(w.path, "w", encoding="utf-8") as fh:
            fh.write(w.content)
    if step.install is not None:
        pip = pip_version(runner, plan.python_exe, env)
        if pip is not None and pip >= REPORT_PIP:
            flags = list(plan.pip_flags[:4])  # resolving reads pages only; --resume-retries is for pip's downloads
            artifacts = resolve(runner, plan.python_exe, step.install, flags, env)
            got = download_all(artifacts, opts.wheelhouse, opts.policy, reporter.download, session)
            if artifacts:
                install_offline(runner, plan.python_exe, opts.wheelhouse, [f.path for f in got], step.install, env)
            return sum(f.bytes_fetched for f in got)
    for argv in step.commands:  # no wheelhouse route for this step (or an old pip): pip's own retries
        result = runner.run(argv, COMMAND_TIMEOUT, env=env)
        if not result.ok:
            raise failure(f"`{' '.join(argv[:4])} ...` failed", result)
    return 0


def _checks(runner: Runner, step: Step, env: Mapping[str, str]) -> Optional[StepError]:
    for check in step.verify:
        result = runner.run(check.argv, CHECK_TIMEOUT, env=env)
        if not result.ok:
            text = "\n".join(p for p in (result.stderr, result.stdout, result.error or "") if p)
            # A check runs after the install: what it prints is the environment's, named by explain.
            return StepError(FailureKind.ENVIRONMENT, f"check failed: {result.describe()}", important_lines(text),
                             classify(text)[1])
    return None

