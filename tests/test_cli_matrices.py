"""`envdoctor matrices show` prints every table, sources included."""
from __future__ import annotations

import json

import pytest

from envdoctor.cli import main
from envdoctor.compat.tables import Matrices


def run(capsys, *argv):
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    out = capsys.readouterr()
    return exit_.value.code, out.out


def test_show_vllm_table(capsys):
    code, out = run(capsys, "matrices", "show", "vllm")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"vLLM releases ({len(Matrices().table('vllm'))} rows)"
    assert lines[1].split()[:4] == ["version", "date", "torch", "python"]
    assert any(line.startswith("0.5.3 ") and "==2.3.1" in line for line in lines)
    assert "Every row carries its source" in out


@pytest.mark.parametrize("table", ["vllm", "torch", "cuda", "gpu", "model"])
def test_every_table_as_json_carries_sources(capsys, table):
    code, out = run(capsys, "matrices", "show", table, "--json")
    data = json.loads(out)
    assert code == 0 and data
    for rows in data.values():
        assert rows and all(row["source"] for row in rows)


def test_torch_rows_list_their_index_urls(capsys):
    _, out = run(capsys, "matrices", "show", "torch", "--json")
    row = next(r for r in json.loads(out)["torch releases"] if r["version"] == "2.3.1")
    assert "https://download.pytorch.org/whl/cu121" in row["index_urls"]


def test_cuda_has_its_three_sections(capsys):
    _, out = run(capsys, "matrices", "show", "cuda")
    for title in ("CUDA toolkit -> minimum driver", "minor-version compatibility floors", "driver branch -> newest CUDA"):
        assert title in out


def test_model_table_with_sources(capsys):
    _, out = run(capsys, "matrices", "show", "model", "--source")
    assert "Qwen/Qwen2-1.5B-Instruct" in out and "28672" in out and "huggingface.co" in out
    assert "Every row carries its source" not in out


def test_unknown_table_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["matrices", "show", "drivers"])
    assert exit_.value.code == 4
