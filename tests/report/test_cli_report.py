"""check --from-report and report through the real CLI: output, exit codes, bad input
(one clear line, bounded time and memory, never a traceback)."""
from __future__ import annotations

import json
import os
import time
import tracemalloc

import pytest

from envdoctor.cli import main

REPORTS = os.path.join(os.path.dirname(__file__), "..", "data", "reports")


def run(capsys, *args):
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return done.value.code, out, err


def test_check_from_report_human(capsys):
    code, out, err = run(capsys, "check", "--from-report", os.path.join(REPORTS, "torch-2.4.0-cpu-build-vllm-0.6.1.md"))
    assert code == 2 and err == ""
    assert "vLLM collect_env report, classic layout" in out
    assert "[torch-cpu-build-on-gpu-machine]" in out
    assert "install --force-reinstall torch==2.4.0 --index-url https://download.pytorch.org/whl/cu12" in out
    assert "Not in the report (unknown, not guessed):" in out


def test_check_from_report_json(capsys):
    code, out, _ = run(capsys, "check", "--from-report", os.path.join(REPORTS, "vllm-0.7.0-sectioned-wsl2.md"),
                       "--json")
    doc = json.loads(out)
    assert code == doc["exit_code"] == 1  # two GPUs under WSL 2: a warning
    assert [f["code"] for f in doc["findings"]] == ["wsl-multi-gpu", "wsl-pin-memory-off"]
    assert doc["facts"]["platform"]["wsl"] == 2
    assert doc["facts"]["python"]["torch"] == {"version": "2.5.1+cu124", "cuda": "12.4", "hip": None}
    assert doc["from_report"]["vllm_version"] == "0.7.0" and doc["from_report"]["layout"] == "sectioned"
    assert doc["from_report"]["env_vars"]["NCCL_CUMEM_ENABLE"] == "0"


def test_stdin(capsys, monkeypatch):
    import io

    data = open(os.path.join(REPORTS, "vllm-0.10.1.1-sectioned-torch-mismatch.txt"), "rb").read()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, _ = run(capsys, "check", "--from-report", "-", "--ci")
    assert code == 2 and "vllm-torch-mismatch" in out


def test_from_report_cannot_mix_with_probing_options(capsys):
    code, _, err = run(capsys, "check", "--from-report", os.path.join(REPORTS, "partial-three-lines.md"),
                       "--only", "driver")
    assert code == 4 and "cannot be combined" in err


def _sparse(tmp_path):
    f = tmp_path / "huge.txt"
    with open(f, "wb") as fh:
        fh.truncate(2 << 30)
    return str(f)


def _file(name, data):
    def make(tmp_path):
        f = tmp_path / name
        f.write_bytes(data)
        return str(f)
    return make


BAD = [
    ("empty", _file("e.txt", b""), "is empty"),
    ("blank", _file("b.txt", b"\n\n  \n"), "is empty"),
    ("directory", lambda p: str(p), "is a directory"),
    ("missing", lambda p: str(p / "nope.txt"), "cannot read"),
    ("binary", _file("x.bin", bytes(range(256)) * 64), "binary"),
    ("gzip junk", _file("x.gz", b"\x1f\x8b\x08\x00garbage"), "gzip"),
    ("2 GB", _sparse, "is 2,048 MiB"),
    ("nvidia-smi", lambda p: os.path.join(REPORTS, "other-tool-nvidia-smi.txt"), "not a collect_env report"),
    ("conda info", lambda p: os.path.join(REPORTS, "other-tool-conda-info.txt"), "not a collect_env report"),
    ("a log without a known cause", _file("build.log", b"Step 1/3 : FROM ubuntu:22.04\n ---> 3db8720ecbf5\n"
                                                   b"Step 2/3 : RUN make\nmake: *** [all] Error 2\n"),
     "not a collect_env report"),
]


def test_a_log_given_for_a_report_is_read_as_a_log(capsys):
    # the first user's docker build log: what explain's signatures find in it, every fact unknown
    seed = os.path.join(os.path.dirname(__file__), "..", "data", "seed", "docker-build.log")
    code, out, err = run(capsys, "check", "--from-report", seed, "--json")
    doc = json.loads(out)
    assert code == doc["exit_code"] == 2 and err == ""
    assert [f["code"] for f in doc["findings"]] == ["download-stalled"]
    assert {p["status"] for p in doc["probes"]} == {"skipped"} and doc["from_report"]["layout"] == "log"


@pytest.mark.parametrize("command", ["check", "report"])
@pytest.mark.parametrize("name,make,message", BAD, ids=[b[0] for b in BAD])
def test_bad_input(capsys, tmp_path, command, name, make, message):
    path = make(tmp_path)
    start = time.perf_counter()
    code, out, err = run(capsys, command, "--from-report", path)
    assert time.perf_counter() - start < 2.0
    assert code == 3 and out == ""
    assert err.startswith("envdoctor: ") and message in err and err.count("\n") == 1
    assert "Traceback" not in err
    tracemalloc.start()  # again, for this call's own peak (the process's peak RSS is set by what ran before)
    try:
        assert run(capsys, command, "--from-report", path) == (code, out, err)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20  # nothing read whole: the 2 GB file is refused by its size


def test_report_json_is_the_check_document(capsys, monkeypatch):
    monkeypatch.setenv("HOME", "/home/alice")
    code, out, _ = run(capsys, "report", "--json", "--from-report",
                       os.path.join(REPORTS, "torch-2.8.0.dev-cpu-native-windows.txt"))
    doc = json.loads(out)
    assert code == 0 and doc["exit_code"] == 2 and doc["schema_version"] == 1
    assert [f["code"] for f in doc["findings"]][0] == "native-windows-unsupported"


def test_report_markdown_has_plan_summary(capsys):
    code, out, _ = run(
        capsys, "report", "--from-report", os.path.join(REPORTS, "vllm-0.10.1.1-sectioned-torch-mismatch.txt")
    )
    assert code == 0
    assert "## Findings" in out and "### ❌ ERROR `vllm-torch-mismatch`" in out
    plan = out.split("## Fixes, in order", 1)[1]
    assert "```sh\n# error: vllm 0.10.1.1 needs torch==2.7.1, found torch 2.8.0+cu128 [vllm-torch-mismatch]\n" \
           "python -m pip install --force-reinstall torch==2.7.1" in plan
    assert "<summary>All facts (JSON)</summary>" in out
