"""fix --apply acts only for this machine and reports a failure without stack frames or
claims about folders it never made (N16)."""
from __future__ import annotations

import pytest

from envdoctor.fix.apply.wheelhouse import important_lines
from envdoctor.cli import main


def run(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


@pytest.mark.parametrize("flags", [["--os", "wsl2"], ["--gpu", "RTX 3050 Laptop"], ["--driver", "551.86"],
                                   ["--cc", "8.6"], ["--os", "wsl2", "--gpu", "RTX 3050 Laptop"]])
def test_apply_refuses_a_plan_for_another_machine(capsys, tmp_path, flags):
    env = tmp_path / "newenv-x"
    code, out, err = run(capsys, "fix", "--apply", "--yes", "--vllm", "0.5.3", *flags, "--env", str(env))
    assert code == 4 and "this plan is for another machine" in err and "--format sh" in err
    assert not env.exists() and "Traceback" not in out + err


def test_the_plan_for_another_machine_still_renders(capsys):
    code, out, _ = run(capsys, "fix", "--vllm", "0.5.3", "--os", "wsl2", "--gpu", "RTX 3050 Laptop", "--format", "sh")
    assert code == 0 and "pip install" in out


def test_a_failing_command_shows_its_exception_not_its_stack():
    text = ("Traceback (most recent call last):\n  File \"<string>\", line 1, in <module>\n"
            "  File \"/usr/lib/python3.11/subprocess.py\", line 548, in run\n    with Popen(*popenargs, **kwargs) as process:\n"
            "FileNotFoundError: [Errno 2] No such file or directory: 'nvidia-smi'\n")
    lines = important_lines(text)
    assert lines == ["FileNotFoundError: [Errno 2] No such file or directory: 'nvidia-smi'"]


def test_a_failure_before_the_env_exists_does_not_offer_it_for_inspection(capsys, tmp_path, monkeypatch):
    from envdoctor.fix.apply import run as apply_run
    from envdoctor.core.reasons import FailureKind
    from envdoctor.fix.apply.wheelhouse import StepError
    from envdoctor.cli.fix import run_apply
    from envdoctor.fix.run import Inputs, plan_for
    from envdoctor.compat.tables import Matrices
    from envdoctor.core.results import Facts
    from envdoctor.redact import Redactor
    from envdoctor.fix.resolve import Wishes

    env = tmp_path / "newenv"
    resolution, plan = plan_for(Inputs(Facts(), None, {}), Wishes("0.5.3", "3.10", "550.54.15", "RTX 3050 Laptop", None,
                                                                   "linux"),
                                Matrices(), None, str(env), "venv", None, None)
    assert plan is not None

    def failing(plan_, opts, runner, environ, reporter):
        return apply_run.Result([], failed=plan_.steps[0], error=StepError(FailureKind.ENVIRONMENT, "venv could not start"))

    monkeypatch.setattr(apply_run, "apply", failing)
    code = run_apply(resolution, plan, Redactor({}), yes=True, dry_run=False, cache_dir=str(tmp_path / "cache"))
    out = capsys.readouterr().out
    assert code == 2 and "was not created" in out and "for inspection" not in out


def test_a_rerun_never_deletes_what_someone_put_into_a_half_made_env(tmp_path):
    # Other defects: after an interrupted apply a rerun rmtree'd --env, even once the user filled it.
    from envdoctor.fix.apply.run import Refused, check_target
    from envdoctor.fix.run import Inputs, plan_for
    from envdoctor.compat.tables import Matrices
    from envdoctor.core.results import Facts
    from envdoctor.fix.resolve import Wishes

    env = tmp_path / "newenv"
    _, plan = plan_for(Inputs(Facts(), None, {}), Wishes("0.5.3", "3.10", "550.54.15", "RTX 3050 Laptop", None,
                                                          "linux"), Matrices(), None, str(env), "venv", None, None)
    (env / "bin").mkdir(parents=True)
    (env / "pyvenv.cfg").write_text("home = /usr/bin\n")
    state = {"env": str(env), "created": True}
    check_target(plan, {}, state)  # our own half-made venv: a rerun may start it over
    (env / "thesis.tex").write_text("months of work")
    with pytest.raises(Refused) as err:
        check_target(plan, {}, state)
    assert "thesis.tex" in str(err.value) and (env / "thesis.tex").exists()
