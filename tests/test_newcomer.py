"""What a new user met on a first run (the newcomer audit, N-numbers), each as the user
sees it: through the CLI, a replayed machine, or the rule with small facts made for it."""
from __future__ import annotations

import json
import os

from envdoctor.compat.tables import Matrices
from envdoctor.core.facts import (
    CudaToolkitFacts,
    DriverFacts,
    Gpu,
    GpuProcess,
    PlatformFacts,
    PythonEnvFacts,
    ResourceFacts,
)
from envdoctor.core.results import Facts, ProbeResult, Report
from envdoctor.rules import ALL_RULES

from .conftest import machine_dir
from .test_cli import run

GiB = 1024 ** 3


def findings(**areas):
    from envdoctor.check.run import evaluate

    facts = Facts({a: ProbeResult(a, "ok", facts=f) for a, f in areas.items()})
    found, crashes = evaluate(facts, Matrices(), ALL_RULES)
    assert not crashes
    return {f.code: f for f in found}


def test_n22_a_pyenv_interpreter_is_not_called_the_system_python():
    env = PythonEnvFacts(executable="/home/u/.pyenv/versions/3.11.7/bin/python3", selected_by="python3 on PATH",
                         version="3.11.7", prefix="/home/u/.pyenv/versions/3.11.7", kind="system")
    f = findings(python=env)["installing-into-system-python"]
    assert "pyenv's base interpreter" in f.title and "system Python" not in f.title
    assert "distribution" not in f.why
    assert any("--python .venv/bin/python" in n for n in f.notes)
    distro = PythonEnvFacts(executable="/usr/bin/python3", selected_by="--python", version="3.12.3", prefix="/usr",
                            kind="system")
    f = findings(python=distro)["installing-into-system-python"]
    assert "the system Python" in f.title and not any("--python .venv" in n for n in f.notes)


def test_n43_one_venv_convention_with_fix():
    env = PythonEnvFacts(executable="/usr/bin/python3", selected_by="--python", version="3.12.3", prefix="/usr",
                         kind="system")
    fix = findings(python=env)["installing-into-system-python"].fix
    assert fix[0] == "python3 -m venv ~/venvs/vllm" and not any("~/.venvs" in c for c in fix)


def test_n24_torch_not_installed_is_absent_not_a_tick():
    report = Report(Facts({"torch": ProbeResult("torch", "absent", error="torch is not installed")}), ())
    assert report.area_state("torch") == "skip"


def test_n30_wsl_memory_cap_is_edited_before_wsl_shutdown_and_no_missing_list_is_cited():
    wsl = PlatformFacts("Linux", "x86_64", wsl=2)
    res = ResourceFacts(mem_total_bytes=int(7.7 * GiB), mem_available_bytes=int(5.9 * GiB))
    gpu = Gpu(0, "NVIDIA GeForce RTX 3050 Laptop GPU", "8.6", 4096, 3500, 596)
    found = findings(platform=wsl, resources=res, driver=DriverFacts("nvml", "531.41", gpus=(gpu,)))
    low = found["low-ram"]
    assert "wsl --shutdown" not in low.fix  # a PowerShell command, and alone it raises nothing
    assert low.notes[0].index(".wslconfig") < low.notes[0].index("wsl --shutdown")
    busy = found["gpu-memory-in-use"]
    assert not any("listed above" in n for n in busy.notes)
    listed = Gpu(0, "NVIDIA GeForce RTX 3050 Laptop GPU", "8.6", 4096, 3500, 596, processes=(GpuProcess(7, "python"),))
    busy = findings(driver=DriverFacts("nvml", "535.104.05", gpus=(listed,)))["gpu-memory-in-use"]
    assert any("listed above" in n for n in busy.notes)


def test_n53_no_seed_cuda_version_where_nothing_says_it():
    f = findings(cuda=CudaToolkitFacts(nvcc_path="/usr/local/bin/nvcc", nvcc_version="13.0"))["cuda-toolkit-not-needed"]
    assert "12.1" not in f.why and "CUDA Version" in f.why


def test_n48_titles_do_not_end_in_a_comma(capsys):
    code, out, _ = run(capsys, "check", "--ci", "--replay", machine_dir("wsl1-ubuntu"))
    assert not [line for line in out.splitlines() if line.rstrip().endswith(",")], out


def test_n33_options_that_would_do_nothing_are_usage_errors(capsys, tmp_path):
    report = tmp_path / "ce.txt"
    report.write_text("PyTorch version: 2.3.1+cu121\n")
    for args in (("--from-report", str(report), "--want", "vllm==0.5.3"), ("--url", "http://x.test/", "--offline"),
                 ("--url", "http://x.test/", "--quick"), ("--speed", "--offline"), ("--speed", "--skip", "network")):
        code, _out, err = run(capsys, "check", *args)
        assert code == 4 and "--" in err and "Traceback" not in err, (args, err)


def test_n33_skip_python_reports_nothing_about_python(capsys):
    code, out, _ = run(capsys, "check", "--json", "--skip", "python", "--replay", machine_dir("wsl1-ubuntu"))
    doc = json.loads(out)
    assert not [f for f in doc["findings"] if f["area"] == "python"]


def test_n34_a_network_check_cut_by_the_deadline_says_so_and_exits_3(monkeypatch):
    import time

    from envdoctor.check.run import exit_code, run_check
    from envdoctor.machine.context import live_context
    from envdoctor.probes import network
    from envdoctor.probes.engine import Probe

    probes = [Probe("python", "Python", lambda c, d: time.sleep(0.45), 2),
              Probe("network", "Network", network.probe, 5, needs=("python",))]
    report = run_check(live_context({}), Matrices(), deadline=0.6, probes=probes)
    net = report.facts.results["network"]
    assert net.status == "timeout" and "deadline" in net.error
    assert exit_code(report) == 3


def test_n45_list_as_json(capsys):
    code, out, _ = run(capsys, "check", "--json", "--list")
    codes = json.loads(out)
    from envdoctor.core.codes import catalogue

    assert code == 0 and {"code", "area", "summary"} <= set(codes[0])
    assert [c["code"] for c in codes][:len(ALL_RULES)] == [r.code for r in ALL_RULES]  # check's first, in order
    assert sorted(c["code"] for c in codes) == sorted(catalogue())


def test_n46_no_arguments_prints_the_help_and_summaries_fit(capsys):
    code, out, err = run(capsys)
    assert code == 0 and out.startswith("Usage: envdoctor") and not err
    commands = out.split("Commands:", 1)[1]
    assert "..." not in commands and "check" in commands


def test_n47_no_far_fetched_suggestion(capsys):
    code, _out, err = run(capsys, "check", "--fast", "x")  # (--lang is an option now: the language)
    assert code == 4 and "--want" not in err and "Did you mean" not in err and "--fast" in err
    code, _out, err = run(capsys, "check", "--jsn")
    assert code == 4 and "--json" in err  # a real typo still gets its suggestion


def test_n49_run_smoke_options_say_their_defaults(capsys):
    code, out, _ = run(capsys, "run-smoke", "--help")
    text = " ".join(out.split())
    for option in ("--gpu-memory-utilization", "--max-model-len", "--enforce-eager", "--dtype"):
        after = text.split(option, 1)[1][:200]
        assert "default" in after, option


def test_n54_gpu_table_has_numbers_only_sorted(capsys):
    code, out, _ = run(capsys, "matrices", "show", "gpu", "--json")
    rows = json.loads(out)["GPUs"]
    for row in rows:
        values = row["vram_gb"].split()
        assert values == ["?"] or [float(v) for v in values] == sorted(float(v) for v in values), row


def test_n41_report_offline_and_a_summary_of_fixes_worst_first(capsys):
    code, out, _ = run(capsys, "report", "--offline", "--replay", machine_dir("wsl2-rtx3050-laptop"))
    assert code == 0
    plan = out.split("## Fixes, in order", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    lines = plan.splitlines()
    assert lines[0].startswith("# error: ")
    assert not any(line.startswith(("curl ", "getent ", "nslookup ")) for line in lines)


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as fh:
        return fh.read()


def test_n40_the_readme_lines_use_two_venvs_and_n10_the_test_command_downloads_no_torch():
    block = _read("README.md").split("```bash\n", 1)[1].split("```", 1)[0].splitlines()
    first, second = block[0], block[1]
    assert "-m venv .venv " in first and "-m venv .venv-test " in second and ".venv/" not in second
    assert "-m slow" in _read("README.md") and "-m slow" in _read(".ci", "run")
    assert "not slow" in _read("pyproject.toml")  # the plain `pytest` leaves the real-torch test out


def test_n9_docs_install_from_the_repository_not_the_package_index():
    pages = [os.path.relpath(os.path.join(base, n), ROOT) for base, _, files in os.walk(os.path.join(ROOT, "docs"))
             for n in files if n.endswith(".md")]
    for name in ["README.md"] + pages:  # docs/zh/ too
        assert "pip install llm-envdoctor" not in _read(name), name


def test_n35_explain_and_run_smoke_say_their_exit_codes(capsys):
    for command in ("explain", "run-smoke"):
        code, out, _ = run(capsys, command, "--help")
        assert code == 0 and "Exit code: 0" in " ".join(out.split()), command
    assert "`vllm-not-installed`" in _read("docs", "findings.md")


def test_n18_the_header_counts_start_up_too(capsys):
    import time

    from envdoctor.check.run import process_seconds

    before = process_seconds()
    time.sleep(0.05)
    assert before is not None and process_seconds() >= before + 0.04
    code, out, _ = run(capsys, "check", "--replay", machine_dir("wsl1-ubuntu"))
    assert "s with start-up)" in out.splitlines()[0]
