"""The command line as a package: a lazy group whose --help and --version load no command, one
exception → exit-code ladder (a usage problem is 4 in every command), and one Context builder
(fix --replay --model looks on the replayed machine, never this one)."""
from __future__ import annotations

import importlib
import json
import os
import pkgutil
import shutil
import subprocess
import sys

import click
import pytest

import envdoctor.cli
from envdoctor.cli import COMMANDS
from envdoctor.core.errors import DataError, EnvdoctorError, InputError, UsageError

from .conftest import HERE, machine_dir
from .test_cli import run
from .test_modelcfg import QWEN2_1_5B, SHA

ROOT = os.path.dirname(HERE)
# What `envdoctor --help` may load of envdoctor: the group, how it ends, and plain core modules.
ALLOWED = {"envdoctor", "envdoctor.start", "envdoctor.cli", "envdoctor.cli.support", "envdoctor.core",
           "envdoctor.core.errors", "envdoctor.core.exitcodes"}


def loaded_after(argv):
    """(exit code, stdout, the envdoctor modules in sys.modules) after the real entry point ran argv."""
    script = ("import json, sys\nsys.argv = ['envdoctor'] + sys.argv[1:]\nfrom envdoctor.start import main\n"
              "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
              "print('MODULES', json.dumps([sorted(m for m in sys.modules if m.split('.')[0] == 'envdoctor'), code]))")
    done = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, timeout=60,
                          cwd=ROOT, env=dict(os.environ, NO_COLOR="1", COLUMNS="100"))
    assert done.returncode == 0, done.stderr[-2000:]
    text, _, tail = done.stdout.rpartition("MODULES ")
    names, code = json.loads(tail)
    return code, text, set(names)


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["--version"], []])
def test_help_and_version_import_no_command_probe_rule_or_renderer(argv):
    code, out, modules = loaded_after(argv)
    assert code == 0
    assert modules <= ALLOWED, sorted(modules - ALLOWED)
    if argv != ["--version"]:
        for name, (_, line) in COMMANDS.items():  # every command, with its one line, without importing it
            assert any(row.split() == [name, *line.split()] for row in out.splitlines()), (name, out)
    else:
        assert out.startswith("envdoctor, version ")


def test_the_help_table_names_every_command_with_its_own_short_help():
    defined = {}
    for info in pkgutil.iter_modules(envdoctor.cli.__path__):
        module = importlib.import_module(f"envdoctor.cli.{info.name}")
        for value in vars(module).values():
            if isinstance(value, click.Command) and value.callback.__module__ == module.__name__:
                defined[value.name] = value
    groups = [c for c in defined.values() if isinstance(c, click.Group)]
    top = {name: c for name, c in defined.items() if not any(c in g.commands.values() for g in groups)}
    assert set(top) == set(COMMANDS)
    for name, (where, line) in COMMANDS.items():
        module, _, attr = where.partition(":")
        command = getattr(importlib.import_module(module), attr)
        assert command.name == name and command.get_short_help_str() == line


def test_a_command_loads_only_its_own_module():
    code, _, modules = loaded_after(["matrices", "show", "cuda"])
    assert code == 0 and "envdoctor.cli.matrices" in modules
    assert not {m for m in modules if m.startswith("envdoctor.cli.")} - {"envdoctor.cli.matrices",
                                                                         "envdoctor.cli.support",
                                                                         "envdoctor.cli.options"}


LAPTOP = machine_dir("wsl2-rtx3050-laptop")
USAGE = [
    ["check", "--no-such-option"],
    ["check", "--only", "nosucharea"],
    ["check", "--want", "torch==2.3.0"],
    ["check", "--ray", "--cluster", HERE],
    ["fix", "--cc", "99.0"],
    ["fix", "--replay", LAPTOP, "--vllm", "9.9"],  # the resolver's UsageProblem
    ["fix", "--replay", LAPTOP, "--vllm", "0.5.3", "--apply", "--os", "linux"],
    ["fit", "Qwen/Qwen2-1.5B-Instruct", "--gpu", "No Such GPU 9000"],  # fit.sizing's UnknownGpu
    ["fit", "Qwen/Qwen2-1.5B-Instruct", "--vram", "nan"],
    ["run-smoke", "--python", "/nonexistent/bin/python"],
    ["explain"],
    ["explain", "--max-mb", "0", "-"],
    ["report", "--no-such-option"],
    ["matrices", "show", "nosuchtable"],
    ["matrices", "refresh", "--index-url", "file:///srv/simple/"],
    ["nosuchcommand"],
]


@pytest.mark.parametrize("argv", USAGE, ids=lambda argv: " ".join(argv[:2]))
def test_a_usage_problem_is_exit_4_in_every_command(capsys, monkeypatch, tmp_path, argv):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HOME", str(tmp_path))
    code, out, err = run(capsys, *argv)
    assert code == 4, (code, err)
    assert err.startswith("envdoctor: ") and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_every_command_is_covered_by_the_usage_test():
    assert {argv[0] for argv in USAGE} >= set(COMMANDS)


@pytest.mark.parametrize("error, code", [(UsageError("--vllm: no such release"), 4),
                                         (InputError("/tmp/x is not a report"), 3),
                                         (DataError("matrices/vllm.csv:3: bad row"), 3),
                                         (EnvdoctorError("the cluster could not be joined"), 3)])
def test_each_kind_of_error_ends_with_its_exit_code_and_one_line(capsys, monkeypatch, error, code):
    import envdoctor.fix.run as fix_run

    def failing(*_a, **_k):
        raise error

    monkeypatch.setattr(fix_run, "gather", failing)
    got, out, err = run(capsys, "fix", "--vllm", "0.5.3")
    assert got == code == error.exit_code and out == ""
    prefix = "envdoctor: corrupt compatibility data: " if isinstance(error, DataError) else "envdoctor: "
    assert err == prefix + str(error) + "\n"


def test_the_exceptions_that_reach_the_cli_say_their_exit_code():
    from envdoctor.check.cluster.ray_nodes import RayMissing, RayUnavailable
    from envdoctor.check.cluster.saved import ClusterDirError
    from envdoctor.compat.pipindex import NoIndex
    from envdoctor.compat.refresh import RefreshError
    from envdoctor.compat.tables import MatrixError
    from envdoctor.core.facts_from_json import FactsFileError
    from envdoctor.explain.reader import LogInputError
    from envdoctor.fit.model_config import ModelConfigError, ModelNotFound
    from envdoctor.fit.sizing import UnknownGpu
    from envdoctor.fix.apply.run import Refused
    from envdoctor.fix.plan import PlanProblem
    from envdoctor.fix.resolve import UsageProblem
    from envdoctor.report.collect_env import ReportError

    usage = (UsageProblem, PlanProblem, ModelNotFound, ModelConfigError, UnknownGpu, NoIndex, Refused,
             ClusterDirError, RayMissing)
    assert all(issubclass(c, UsageError) and c("x").exit_code == 4 for c in usage)
    assert all(issubclass(c, InputError) and c("x").exit_code == 3
               for c in (ReportError, LogInputError, RefreshError, FactsFileError))
    assert issubclass(MatrixError, DataError) and RayUnavailable("x").exit_code == 3


@pytest.mark.parametrize("argv", [["report", "--json", "--from-report", "MISSING"],
                                  ["check", "--json", "--from-report", "MISSING"],
                                  ["explain", "--json", "MISSING"]])
def test_input_that_cannot_be_read_is_still_one_json_document_under_json(capsys, tmp_path, argv):
    argv = [str(tmp_path / "nothing-here.txt") if a == "MISSING" else a for a in argv]
    code, out, err = run(capsys, *argv)
    doc = json.loads(out)
    assert code == 3 and doc["exit_code"] == 3 and doc["error"] in err and err.startswith("envdoctor: ")


def test_input_that_cannot_be_read_without_json_is_one_line_only(capsys, tmp_path):
    code, out, err = run(capsys, "report", "--from-report", str(tmp_path / "nothing-here.txt"))
    assert code == 3 and out == "" and len(err.strip().splitlines()) == 1


# --- one Context builder: the replayed machine's files and environment, never this one's ---------



def _hf_cache(hub, repo):
    snap = hub / ("models--" + repo.replace("/", "--")) / "snapshots" / SHA
    snap.mkdir(parents=True)
    (snap / "config.json").write_text(json.dumps(QWEN2_1_5B))
    return snap


@pytest.fixture()
def two_machines(tmp_path, monkeypatch):
    """The laptop fixture machine with a model in its Hugging Face cache, and this machine with
    another model in its own (HF_HOME), neither model in envdoctor's catalog."""
    replayed = tmp_path / "laptop"
    shutil.copytree(LAPTOP, replayed)
    home = json.loads((replayed / "machine.json").read_text())["env"]["HOME"]
    _hf_cache(replayed / "root" / home.lstrip("/") / ".cache/huggingface/hub", "Replayed/Only-There")
    _hf_cache(tmp_path / "here-hf" / "hub", "Here/Only-Here")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "here-hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return str(replayed)


def test_fix_replay_model_reads_the_replayed_machines_cache(capsys, two_machines):
    code, out, err = run(capsys, "fix", "--replay", two_machines, "--vllm", "0.5.3", "--model",
                         "Replayed/Only-There", "--format", "json")
    assert code == 0, err
    assert "Replayed/Only-There" in out


def test_fix_replay_model_does_not_read_this_machines_cache(capsys, two_machines):
    code, out, err = run(capsys, "fix", "--replay", two_machines, "--vllm", "0.5.3", "--model", "Here/Only-Here")
    assert code == 4 and err.startswith("envdoctor: --model: ") and "Here/Only-Here" in err


