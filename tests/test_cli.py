"""The CLI as a user runs it: exit codes, JSON shape, --list, --only/--skip, --ci, colour,
usage errors, and bad --python targets."""
from __future__ import annotations

import json
import os
import sys

import pytest

from envdoctor.cli import main
from envdoctor.core.areas import AREAS, Area
from envdoctor.rules import ALL_RULES

from .conftest import machine_dir


def run(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


def test_json_document_shape_and_exit_code(capsys):
    code, out, _ = run(capsys, "check", "--json", "--replay", machine_dir("linux-h100-server"))
    doc = json.loads(out)
    assert code == 0 and doc["exit_code"] == 0
    assert doc["schema_version"] == 1 and doc["tool"]["name"] == "envdoctor"
    # every area of the registry in its order, but those an option asks for (model: --model)
    assert [p["area"] for p in doc["probes"]] == [a.value for a in Area if not a.info.asked_by]
    assert "model" in AREAS and "model" not in [p["area"] for p in doc["probes"]]
    assert set(doc["probes"][0]) == {"area", "title", "status", "seconds", "error"}
    assert doc["facts"]["driver"]["gpus"][0]["name"] == "NVIDIA H100 80GB HBM3"
    # the findings themselves are pinned per machine (tests/test_fixture_machines.py); here their shape
    assert doc["summary"] == {s: sum(f["severity"] == s for f in doc["findings"]) for s in ("error", "warn", "info")}
    _, out, _ = run(capsys, "check", "--json", "--replay", machine_dir("wsl2-rtx3050-laptop"))
    findings = json.loads(out)["findings"]
    assert findings and all(set(f) == {"code", "severity", "area", "title", "evidence", "why", "fix", "notes", "docs"}
                            for f in findings)


@pytest.mark.parametrize("machine, expected", [("linux-h100-server", 0), ("wsl1-ubuntu", 2), ("cpu-only", 2)])
def test_exit_code_is_the_worst_severity(capsys, machine, expected):
    code, _, _ = run(capsys, "check", "--ci", "--replay", machine_dir(machine))
    assert code == expected


def test_warnings_only_exit_1(capsys):
    code, out, _ = run(capsys, "check", "--ci", "--only", "python", "--replay", machine_dir("wsl1-ubuntu"))
    assert code == 1 and "installing-into-system-python" in out


def test_list_names_every_code(capsys):
    code, out, _ = run(capsys, "check", "--list")
    assert code == 0
    for r in ALL_RULES:
        assert r.code in out


def test_ci_output_is_plain_and_short(capsys):
    code, out, _ = run(capsys, "check", "--ci", "--replay", machine_dir("wsl2-rtx3050-laptop"))
    assert "\x1b[" not in out
    assert out.splitlines()[-1].startswith("envdoctor: 1 error(s), 3 warning(s), 1 info")
    assert "error missing-requirements:" in out


def test_human_output_shows_areas_and_fixes(capsys):
    code, out, _ = run(capsys, "check", "-v", "--replay", machine_dir("wsl2-linux-driver-installed"))
    assert "\x1b[" not in out
    assert "[✗] WSL GPU plumbing" in out and "[✓] Platform: Ubuntu 22.04.4 LTS on WSL 2" in out
    assert "$ sudo apt-get purge libnvidia-compute-550" in out
    assert "(0.00 s)" in out  # -v shows timings


def test_only_and_skip(capsys):
    code, out, _ = run(capsys, "check", "--json", "--only", "driver,platform", "--replay", machine_dir("cpu-only"))
    assert [p["area"] for p in json.loads(out)["probes"]] == ["platform", "driver"]
    code, out, _ = run(capsys, "check", "--json", "--skip", "torch", "--replay", machine_dir("cpu-only"))
    assert "torch" not in [p["area"] for p in json.loads(out)["probes"]]


@pytest.mark.parametrize("args, message", [
    (["check", "--only", "gpu"], "unknown area gpu"),
    (["check", "--python", "/no/such/python"], "/no/such/python does not exist"),
    (["check", "--deadline", "0"], "--deadline"),
    (["check", "--frobnicate"], "No such option"),
    (["nonsense"], "No such command"),
])
def test_usage_errors_exit_4_with_one_line(capsys, args, message):
    code, out, err = run(capsys, *args)
    assert code == 4 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def _live(capsys, python, tmp_path):
    # A real check of this machine restricted to the Python probe.
    return run(capsys, "check", "--json", "--only", "python", "--python", str(python))


def test_python_that_is_not_python(capsys, tmp_path):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'I am not python'\n")
    fake.chmod(0o755)
    code, out, _ = _live(capsys, fake, tmp_path)
    doc = json.loads(out)
    assert doc["probes"][0]["status"] == "error"
    assert "does not behave like Python 3" in doc["probes"][0]["error"]
    assert [f["code"] for f in doc["findings"]] == ["probe-failed"] and code == 1


def test_python_that_is_a_binary_blob(capsys, tmp_path):
    blob = tmp_path / "python"
    blob.write_bytes(os.urandom(512))
    blob.chmod(0o755)
    code, out, _ = _live(capsys, blob, tmp_path)
    doc = json.loads(out)
    assert doc["probes"][0]["status"] == "error" and "cannot run" in doc["probes"][0]["error"]


def test_real_interpreter_is_read(capsys, tmp_path):
    code, out, _ = _live(capsys, sys.executable, tmp_path)
    facts = json.loads(out)["facts"]["python"]
    assert facts["version"] == "%d.%d.%d" % sys.version_info[:3]
    names = {d["name"].lower() for d in facts["distributions"]}
    assert {"click", "packaging"} <= names


def test_record_then_replay_gives_the_same_facts(capsys, tmp_path):
    rec = tmp_path / "rec"
    code1, live, _ = run(capsys, "check", "--json", "--quick", "--python", sys.executable, "--record", str(rec))
    code2, replayed, _ = run(capsys, "check", "--json", "--quick", "--replay", str(rec))
    live, replayed = json.loads(live), json.loads(replayed)
    assert live["facts"] == replayed["facts"] and live["findings"] == replayed["findings"] and code1 == code2
    assert json.load(open(rec / "machine.json"))["options"] == {"python": sys.executable}


def test_docs_list_every_finding_code():
    text = open(os.path.join(os.path.dirname(os.path.dirname(__file__)), "docs", "findings.md")).read()
    missing = [r.code for r in ALL_RULES if f"`{r.code}`" not in text]
    assert not missing, f"docs/findings.md lacks {missing}"
