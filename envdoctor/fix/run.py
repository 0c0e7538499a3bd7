"""`envdoctor fix` behind the CLI: gather the facts (probe, replay or a saved report), resolve, make
the plan, render it or apply it. Errors of input become UsageProblem (exit 4)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Optional, Tuple

from envdoctor.compat.tables import Matrices
from envdoctor.core.results import Facts
from envdoctor.fix.resolve import Resolution, UsageProblem, Wishes, resolve

PLAN_AREAS = ("platform", "wsl", "driver", "cuda", "python", "resources")


@dataclass(frozen=True)
class Inputs:
    facts: Facts
    fs: object  # RootedFS of the machine, None for a saved report
    env: Mapping[str, str]


def gather(from_json: Optional[str], replay: Optional[str], python: Optional[str], deadline: float) -> Inputs:
    if from_json:
        from envdoctor.core.facts_from_json import FactsFileError, load

        try:
            return Inputs(load(from_json), None, os.environ)
        except FactsFileError as exc:
            raise UsageProblem(f"--from-json {exc}") from None
    from envdoctor.check.run import run_check

    options = {"python": python} if python else {}
    if replay:
        from envdoctor.machine.replay import replay_context

        ctx = replay_context(replay, options)
    else:
        from envdoctor.machine.context import live_context

        ctx = live_context(options)
    report = run_check(ctx, only=PLAN_AREAS, deadline=deadline)
    return Inputs(report.facts, ctx.fs, ctx.env)


def model_shape(query: Optional[str], inputs: Inputs, matrices: Matrices):
    if not query:
        return None
    from envdoctor.fit.model_config import ModelConfigError, ModelNotFound, absolute, find_model
    from envdoctor.machine.fs import RootedFS

    found = inputs.facts.get("model")
    if found is not None and found.shape is not None and found.query == query:
        return found.shape
    try:
        return find_model(RootedFS("/"), os.environ, matrices, absolute(query))
    except (ModelNotFound, ModelConfigError) as exc:
        raise UsageProblem(f"--model: {exc}") from None


def uv_made(inputs: Inputs) -> bool:
    """The venv in use was made by uv (its pyvenv.cfg has a `uv = X` line)."""
    env = inputs.facts.get("python")
    if inputs.fs is None or env is None or env.kind != "venv" or not env.prefix:
        return False
    text = inputs.fs.read_text(os.path.join(env.prefix, "pyvenv.cfg")) or ""
    return any(line.split("=")[0].strip() == "uv" for line in text.splitlines())


def plan_for(inputs: Inputs, wishes: Wishes, matrices: Matrices, model: Optional[str], env_path: Optional[str],
             env_tool: Optional[str], index_url: Optional[str], torch_index_url: Optional[str]) -> Tuple[Resolution, object]:
    from envdoctor.fix.plan import PlanProblem, default_env_path, env_tool_for, make_plan

    resolution = resolve(inputs.facts, wishes, matrices, model_shape(model, inputs, matrices))
    if resolution.stack is None:
        return resolution, None
    home = inputs.env.get("HOME") or os.path.expanduser("~")
    path = os.path.abspath(os.path.expanduser(env_path)) if env_path else default_env_path(home, resolution.stack)
    try:
        tool = env_tool_for(resolution.target.python_kind, env_tool, uv_made(inputs))
    except PlanProblem as exc:
        raise UsageProblem(str(exc)) from None
    return resolution, make_plan(resolution, path, tool, index_url, torch_index_url, model)
