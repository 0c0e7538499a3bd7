"""`envdoctor explain` through the real CLI entry point: output, exit codes, bad input."""
from __future__ import annotations

import json
import os

import pytest

from envdoctor.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEED = os.path.join(ROOT, "tests", "data", "seed", "docker-build.log")


def run(capsys, *args):
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return done.value.code, out, err


def test_human_output(capsys):
    code, out, err = run(capsys, "explain", SEED, "--vllm", "0.5.3")
    assert code == 2 and err == ""
    assert "Class: NETWORK" in out
    assert "ROOT CAUSE" in out and "[download-stalled]" in out
    assert ">    158 | 233.2 TimeoutError: The read operation timed out" in out
    assert "$ docker pull vllm/vllm-openai:v0.5.3" in out
    assert "Surfaced as:" in out and "line 49:" in out


def test_json_output(capsys):
    code, out, _ = run(capsys, "explain", SEED, "--json")
    doc = json.loads(out)
    assert doc["schema_version"] == 1 and doc["exit_code"] == code == 2
    assert doc["class"] == "network" and doc["root_cause"] == "download-stalled"
    first = doc["diagnoses"][0]
    assert first["line"] == 158 and first["role"] == "cause" and first["shared_with_check"] is True
    assert [c["line"] for c in first["context"]] == [156, 157, 158, 159, 160]
    assert first["sources"] and all(s.startswith("https://") for s in first["sources"])


def test_list(capsys):
    code, out, _ = run(capsys, "explain", "--list")
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("vllm-torch-mismatch "))
    assert "environment" in line and "check" in line
    assert any(x.startswith("download-stalled ") for x in out.splitlines())


def test_missing_log_is_a_usage_error(capsys):
    code, _, err = run(capsys, "explain")
    assert code == 4 and "missing LOG" in err


@pytest.mark.parametrize("setup, message", [
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.write_bytes(b""), "is empty"),
    (lambda p: p.write_bytes(b"\x00\x01\x02" * 3000), "binary"),
])
def test_bad_input_one_line_no_traceback(capsys, tmp_path, setup, message):
    path = tmp_path / "input"
    setup(path)
    code, out, err = run(capsys, "explain", str(path))
    assert code == 3 and out == ""
    assert err.startswith("envdoctor: ") and message in err and "Traceback" not in err
    assert err.count("\n") == 1
