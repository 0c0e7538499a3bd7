"""`envdoctor fix` and `check --want` through the real CLI: one golden plan per format (the seed
machine planned on the small tables of tests/data/compat/mini, so a release added to matrices/
changes no golden), the human view, saved reports, bad input, and the CI gate.

Regenerate the golden plans after an intended change: UPDATE_GOLDEN=1 pytest tests/test_fix_cli.py (it
fails once, showing the diff; the next run passes)
"""
from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from envdoctor.cli import main

from .compat_kit import mini_matrices
from .conftest import HERE, machine_dir
from .golden import check_golden

PLANS = os.path.join(HERE, "fixtures", "plans")
GOLDEN = {
    "seed-vllm-0.5.3": ["--replay", machine_dir("wsl2-rtx3050-laptop"), "--vllm", "0.5.3"],
    "h100": ["--replay", machine_dir("linux-h100-server"), "--env", "/opt/venvs/vllm"],
}
# The goldens: the seed machine (WSL 2, Windows driver 531.41, RTX 3050 Laptop) asking the small
# tables' vLLM 1.0.0.
MINI_GOLDEN = ["--replay", machine_dir("wsl2-rtx3050-laptop"), "--vllm", "1.0.0", "--env", "/opt/venvs/vllm"]
EXT = {"sh": "sh", "json": "json", "md": "md", "dockerfile": "Dockerfile"}


def run(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


@pytest.mark.parametrize("fmt", sorted(EXT))
def test_golden_plans(capsys, monkeypatch, tmp_path, fmt):
    mini_matrices(str(tmp_path))
    monkeypatch.setenv("ENVDOCTOR_MATRICES_DIR", str(tmp_path))
    code, out, _ = run(capsys, "fix", "--plan", "--format", fmt, *MINI_GOLDEN)
    assert code == 0
    check_golden(os.path.join(PLANS, f"mini-seed.{EXT[fmt]}"), out)


def test_seed_plan_says_what_matters(capsys):
    _, out, _ = run(capsys, "fix", "--format", "json", *GOLDEN["seed-vllm-0.5.3"])
    doc = json.loads(out)
    assert doc["ok"] and doc["stack"]["torch_index_url"] == "https://download.pytorch.org/whl/cu121"
    assert doc["env"] == {"path": "/home/angel/venvs/vllm-0.5.3", "tool": "conda",
                          "python": "/home/angel/venvs/vllm-0.5.3/bin/python"}  # the user works in conda
    torch_step = next(s for s in doc["steps"] if s["id"] == "torch")
    assert torch_step["commands"][0][-3:] == ["--index-url", "https://download.pytorch.org/whl/cu121", "torch==2.3.1"]
    assert "--resume-retries" in torch_step["commands"][0] and "--timeout" in torch_step["commands"][0]
    vllm_step = next(s for s in doc["steps"] if s["id"] == "vllm")
    assert vllm_step["writes"][0]["content"] == "torch==2.3.1\n" and "-c" in vllm_step["commands"][0]
    assert doc["stack"]["cuda_toolkit_needed"] is False and doc["newest_here"] not in (None, "0.5.3")
    assert any("vllm 0.5.4 fixes it" in n for n in doc["stack"]["notes"])  # the zmq hang of 0.5.2-0.5.3.post1


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_sh_plan_is_valid_bash(capsys, tmp_path, name):
    _, out, _ = run(capsys, "fix", "--format", "sh", *GOLDEN[name])
    script = tmp_path / "plan.sh"
    script.write_text(out)
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True, timeout=20).returncode == 0
    assert "set -euo pipefail" in out and "exists and is not empty" in out


def test_dockerfile_base_image_follows_the_driver_and_python(capsys):
    # T4 with driver 535 (CUDA 12.2) runs vLLM 0.19.1's CUDA 12.9 via minor-version compatibility: the image
    # must not ask for more than 12.2, or the container runtime refuses to start it.
    code, out, err = run(capsys, "fix", "--format", "dockerfile", "--replay", machine_dir("t4-cc75-bf16"))
    assert code == 0 and "FROM nvidia/cuda:12.2.2-base-ubuntu22.04" in out and "docker run --gpus all" in err
    _, out, _ = run(capsys, "fix", "--format", "dockerfile", "--replay", machine_dir("linux-h100-server"))
    assert "ppa:deadsnakes/ppa" in out and "python3.12 -m venv /opt/vllm" in out  # 0.33.0 has no 3.10 wheels
    assert "RUN --mount=type=cache,target=/root/.cache/pip" in out


def test_human_view(capsys):
    code, out, _ = run(capsys, "fix", "--replay", machine_dir("t4-cc75-bf16"), "--model", "Qwen/Qwen2-1.5B-Instruct")
    assert code == 0 and re.search(r"✓ vllm [0-9.]+(\+cu\d+)? \+ torch [0-9.]+ \(cu\d+\)", out)
    assert "Model Qwen/Qwen2-1.5B-Instruct on Tesla T4:" in out
    code, out, _ = run(capsys, "fix", "--replay", machine_dir("cpu-only"))
    assert code == 2 and "Releases that do not fit:" in out and "nearest" not in out
    assert re.search(r"vllm [0-9.]+–[0-9.]+ \(\d+ releases\) needs an NVIDIA GPU", out)  # one reason: one line


def test_nothing_works_exits_2_and_says_what_to_change(capsys):
    code, out, _ = run(capsys, "fix", "--format", "md", "--replay", machine_dir("cpu-only"))
    assert code == 2 and "What has to change" in out and "NVIDIA GPU" in out
    code, _, err = run(capsys, "fix", "--format", "sh", "--replay", machine_dir("cpu-only"))
    assert code == 2 and err.startswith("envdoctor: no working plan")


def test_from_json_plans_like_the_machine(capsys, tmp_path):
    _, report, _ = run(capsys, "check", "--json", "--replay", machine_dir("wsl2-rtx3050-laptop"))
    saved = tmp_path / "report.json"
    saved.write_text(report)
    _, from_file, _ = run(capsys, "fix", "--format", "json", "--from-json", str(saved), "--vllm", "0.5.3",
                          "--env", "/x/env")
    _, live, _ = run(capsys, "fix", "--format", "json", *GOLDEN["seed-vllm-0.5.3"], "--env", "/x/env")
    a, b = json.loads(from_file), json.loads(live)
    assert a["stack"] == b["stack"] and a["steps"] == b["steps"]


@pytest.mark.parametrize("args, message", [
    (["--vllm", "9.9"], "no vLLM release in envdoctor's data matches"),
    (["--vllm", "0.5.x!"], "not a version or a version range"),
    (["--driver", "lol"], "not an NVIDIA driver version"),
    (["--python-version", "3.x"], "not a Python version"),
    (["--from-json", "/nonexistent/report.json"], "cannot be read"),
    (["--env-tool", "pipenv"], "pipenv"),
])
def test_bad_input_is_one_line_exit_4_and_writes_nothing(capsys, tmp_path, args, message):
    env, cache = tmp_path / "env", tmp_path / "cache"
    code, out, err = run(capsys, "fix", "--apply", "--yes", "--replay", machine_dir("linux-h100-server"),
                         "--env", str(env), "--cache-dir", str(cache), *args)
    assert code == 4 and message in err and len(err.strip().splitlines()) == 1 and out == ""
    assert not env.exists() and not cache.exists()


def test_from_json_that_is_not_a_report(capsys, tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text('{"hello": 1}')
    code, _, err = run(capsys, "fix", "--from-json", str(bad))
    assert code == 4 and "not an `envdoctor check --json` document" in err


@pytest.mark.parametrize("machine, want, code", [
    ("linux-h100-server", "vllm==0.33.0", 0),
    ("linux-h100-server", "vllm==0.5.3", 0),
    ("wsl2-rtx3050-laptop", "vllm==0.33.0", 2),  # driver 531 cannot run CUDA 13
    ("cpu-only", "vllm==0.5.3", 2),
    ("t4-cc75-bf16", "vllm==0.19.1", 2),  # a plan exists, but check finds errors in the env in use
])
def test_ci_gate(capsys, machine, want, code):
    got, out, _ = run(capsys, "check", "--ci", "--want", want, "--replay", machine_dir(machine))
    assert got == code, out
    assert f"gate: {'open' if code == 0 else 'closed'}" in out


def test_ci_gate_json_and_bad_want(capsys):
    code, out, _ = run(capsys, "check", "--json", "--want", "vllm==0.33.0", "--replay", machine_dir("wsl2-rtx3050-laptop"))
    doc = json.loads(out)
    assert code == 2 and doc["exit_code"] == 2 and doc["want"]["plan_found"] is False
    assert "driver 531.41 supports CUDA <= 12.1" in doc["want"]["rejected"][0]
    code, _, err = run(capsys, "check", "--want", "torch==2.3.1", "--replay", machine_dir("linux-h100-server"))
    assert code == 4 and "only vllm" in err


def test_apply_without_yes_on_a_pipe_asks_for_it(capsys, tmp_path):
    code, _, err = run(capsys, "fix", "--apply", "--replay", machine_dir("linux-h100-server"), "--env",
                       str(tmp_path / "env"), "--cache-dir", str(tmp_path / "c"))
    assert code == 4 and "--yes" in err and not (tmp_path / "env").exists()


def test_a_gpu_given_by_cc_says_its_capability_once(capsys):
    # N39: "a GPU of compute capability 9.0 (compute capability 9.0)", and "... 6.1 is 6.1" in the blockers.
    code, out, _ = run(capsys, "fix", "--cc", "6.1", "--driver", "580.65.06")
    machine = next(line for line in out.splitlines() if "machine:" in line)
    assert code == 2 and machine.count("compute capability") == 1 and "6.1 is 6.1" not in out


@pytest.mark.parametrize("args", [["fix", "--driver", "550.54.14"], ["fit", "Qwen/Qwen2-1.5B-Instruct"]])
def test_a_gpu_name_typed_without_spaces_is_refused_with_the_names_it_looks_like(capsys, args):
    # "rtx4090" named nothing and said only "not a GPU envdoctor knows"; it is still not guessed.
    code, out, err = run(capsys, *args, "--gpu", "rtx4090")
    assert code == 4 and out == "" and "Did you mean: GeForce RTX 4090" in err
    code, _, err = run(capsys, *args, "--gpu", "no such card")
    assert code == 4 and "Did you mean" not in err
