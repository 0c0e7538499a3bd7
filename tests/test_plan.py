"""Plan details the goldens do not show: the env tool the user already uses, Python 3.8's pip, and a
saved report read back as the same facts."""
from __future__ import annotations

import json

import pytest

from envdoctor.core.facts_from_json import FactsFileError, from_document
from envdoctor.fit.model_config import from_catalog
from envdoctor.fix.plan import PlanProblem, env_tool_for, make_plan
from envdoctor.fix.resolve import Wishes, resolve
from envdoctor.fix.run import Inputs, uv_made
from envdoctor.machine.fs import RootedFS

from .conftest import MACHINE_NAMES, check_machine


@pytest.mark.parametrize("kind, wish, uv, tool", [
    ("conda", None, False, "conda"), ("venv", None, True, "uv"), ("venv", None, False, "venv"),
    ("system", "uv", False, "uv")])
def test_env_tool(kind, wish, uv, tool):
    assert env_tool_for(kind, wish, uv) == tool


def test_unknown_env_tool():
    with pytest.raises(PlanProblem):
        env_tool_for("venv", "pipenv")


def test_uv_venv_is_recognised_from_pyvenv_cfg(tmp_path):
    report, _, _ = check_machine("linux-h100-server")
    prefix = report.facts.get("python").prefix
    cfg = tmp_path / prefix.lstrip("/") / "pyvenv.cfg"
    cfg.parent.mkdir(parents=True)
    cfg.write_text("home = /usr/bin\nuv = 0.9.2\nversion_info = 3.12.3\n")
    assert uv_made(Inputs(report.facts, RootedFS(str(tmp_path)), {}))
    cfg.write_text("home = /usr/bin\nversion = 3.12.3\n")
    assert not uv_made(Inputs(report.facts, RootedFS(str(tmp_path)), {}))


def test_python_38_keeps_the_pip_it_can_run(matrices):
    report, _, _ = check_machine("linux-h100-server")
    r = resolve(report.facts, Wishes(vllm="0.5.3", python="3.8"), matrices)
    plan = make_plan(r, "/opt/env", "venv")
    pip = next(s for s in plan.steps if s.id == "pip")
    assert pip.install.requirements == ("pip",)
    assert all("--resume-retries" not in c for s in plan.steps for c in s.commands)  # pip 25.1 needs 3.9
    plan = make_plan(resolve(report.facts, Wishes(vllm="0.5.3"), matrices), "/opt/env", "venv")
    assert next(s for s in plan.steps if s.id == "pip").install.requirements == ("pip>=25.3",)


def test_planning_for_a_python_not_in_use_says_how_to_get_it(matrices):
    report, _, _ = check_machine("linux-h100-server")  # Python 3.12 in use; vLLM 0.5.3 needs <= 3.11
    plan = make_plan(resolve(report.facts, Wishes(vllm="0.5.3"), matrices), "/opt/env", "venv")
    env = next(s for s in plan.steps if s.id == "env")
    assert env.commands == (("python3.11", "-m", "venv", "/opt/env"),)
    assert "install python3.11 first, or rerun with --env-tool uv" in env.why


@pytest.mark.parametrize("name", MACHINE_NAMES)
def test_saved_report_reads_back_as_the_same_facts(name):
    report, doc, _ = check_machine(name)
    facts = from_document(json.loads(json.dumps(doc)))
    for area, result in report.facts.results.items():
        assert facts.results[area].status == result.status
        assert facts.results[area].facts == result.facts, area


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(schema_version=9), "schema_version 9"),
    (lambda d: d["facts"]["driver"].update(gpus="many"), "driver.gpus: expected a list"),
    (lambda d: d["facts"]["driver"].pop("driver_version"), "driver: missing 'driver_version'"),
    (lambda d: d["facts"]["python"].update(version=3.1), "python.version: expected str"),
])
def test_saved_report_errors_name_the_field(mutate, message):
    _, doc, _ = check_machine("wsl2-rtx3050-laptop")
    doc = json.loads(json.dumps(doc))
    mutate(doc)
    with pytest.raises(FactsFileError) as err:
        from_document(doc)
    assert message in str(err.value)


def test_model_facts_read_back(matrices):
    report, doc, _ = check_machine("wsl2-rtx3050-laptop", model="Qwen/Qwen2-1.5B-Instruct")
    facts = from_document(json.loads(json.dumps(doc)))
    assert facts.get("model") == report.facts.get("model") and facts.get("model").query == "Qwen/Qwen2-1.5B-Instruct"


def test_fit_rides_along(matrices):
    report, _, _ = check_machine("wsl2-rtx3050-laptop")
    shape = from_catalog(matrices, "Qwen/Qwen2-1.5B-Instruct")
    r = resolve(report.facts, Wishes(vllm="0.5.3"), matrices, shape)
    assert r.fit is not None and r.fit.verdict == "does-not-fit"  # 3.1 GB of bf16 weights on a 4 GB card in use
    assert r.stack is not None  # the stack is still right; the model is what does not fit
