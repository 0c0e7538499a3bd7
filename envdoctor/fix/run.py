"""`envdoctor fix` behind the CLI: gather the facts (probe, replay or a saved report), resolve and
make the plan. It returns data; cli/fix.py renders or applies it. What cannot be done as asked
raises a UsageError (exit 4)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Optional, Tuple

from envdoctor.check.run import run_check
from envdoctor.compat.tables import Matrices
from envdoctor.core.facts_from_json import FactsFileError, load
from envdoctor.core.results import Facts
from envdoctor.fit.calc import ModelShape
from envdoctor.fit.model_config import ModelConfigError, ModelNotFound, absolute, find_model
from envdoctor.fix.plan import Plan, default_env_path, env_tool_for, make_plan
from envdoctor.fix.resolve import Resolution, UsageProblem, Wishes, resolve
from envdoctor.machine.fs import RootedFS
from envdoctor.machine.target import machine_context

PLAN_AREAS = ("platform", "wsl", "driver", "cuda", "python", "resources")


@dataclass(frozen=True)
class Inputs:
    facts: Facts
    fs: Optional[RootedFS]  # the machine's files; None for a saved report
    env: Mapping[str, str]  # the machine's environment (this machine's for a saved report)
    replayed: bool = False  # a recorded machine: --model names a folder on it, not here


def gather(from_json: Optional[str], replay: Optional[str], python: Optional[str], deadline: float) -> Inputs:
    if from_json:
        try:
            return Inputs(load(from_json), None, os.environ)
        except FactsFileError as exc:
            raise UsageProblem(f"--from-json {exc}") from None
    ctx = machine_context({"python": python} if python else {}, replay)
    report = run_check(ctx, only=PLAN_AREAS, deadline=deadline)
    return Inputs(report.facts, ctx.fs, ctx.env, replayed=bool(replay))


def model_shape(query: Optional[str], inputs: Inputs, matrices: Matrices) -> Optional[ModelShape]:
    """--model on the machine planned for: its files and Hugging Face cache (this machine's for a saved report)."""
    if not query:
        return None
    found = inputs.facts.get("model")
    if found is not None and found.shape is not None and found.query == query:
        return found.shape
    fs = inputs.fs if inputs.fs is not None else RootedFS("/")
    try:
        return find_model(fs, inputs.env, matrices, query if inputs.replayed else absolute(query))
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
             env_tool: Optional[str], index_url: Optional[str],
             torch_index_url: Optional[str]) -> Tuple[Resolution, Optional[Plan]]:
    resolution = resolve(inputs.facts, wishes, matrices, model_shape(model, inputs, matrices))
    if resolution.stack is None:
        return resolution, None
    home = inputs.env.get("HOME") or os.path.expanduser("~")
    path = os.path.abspath(os.path.expanduser(env_path)) if env_path else default_env_path(home, resolution.stack)
    tool = env_tool_for(resolution.target.python_kind, env_tool, uv_made(inputs))
    return resolution, make_plan(resolution, path, tool, index_url, torch_index_url, model, matrices)
