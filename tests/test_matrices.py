"""matrices/: the shipped tables load, every row has a source, and the loader refuses
each kind of bad row naming the file and the line."""
from __future__ import annotations

import os
import shutil

import pytest

from envdoctor.compat.driver import branch_of, floor
from envdoctor.compat.tables import TABLES, MatrixError, Matrices, default_dir, parse_table


def test_shipped_tables_load_and_every_row_has_a_source():
    m = Matrices()
    m.validate_all()
    for name in TABLES:
        rows = m.table(name)
        assert rows, f"{name} is empty"
        assert all(r.source.strip() for r in rows)


def test_lookups_used_by_the_rules():
    m = Matrices()
    assert str(m.vllm("0.5.3").torch) == "==2.3.1" and m.vllm("0.5.3").cuda == "12.1"
    assert m.torch("2.3.1+cu121").cuda_builds == ("cu118", "cu121")
    assert m.gpu("NVIDIA GeForce RTX 3050 Laptop GPU").compute_capability == "8.6"
    assert m.gpu("NVIDIA A100-SXM4-80GB").compute_capability == "8.0"
    assert m.gpu("NVIDIA A10").compute_capability == "8.6"
    assert floor("12.1", m).windows == "531.14" and floor("12.1", m).linux == "530.30.02"
    assert branch_of("470.256.02", m).max_cuda == "11.4" and branch_of("546.33", m).branch == "R545"
    assert floor("12.9", m).compat("linux") == "525.60.13" and floor("12.9", m).compat("windows") == "527.41"
    assert m.vllm("not-a-version") is None and m.gpu("Matrox G200") is None


VLLM_HEADER = "version,release_date,torch,python_requires,cuda,min_cc,cuda_archs,companions,platforms,source\n"
GOOD = ("0.5.3,2024-07-23,==2.3.1,>=3.8,12.1,7.0,7.0 7.5,xformers==0.0.27,manylinux1_x86_64,"
        "vllm@v0.5.3 (sdist): requirements-cuda.txt\n")


@pytest.mark.parametrize("text, message", [
    (VLLM_HEADER + "0.5.3,2024-07-23,==2.3.1,>=3.8,12.1,7.0,,,manylinux1_x86_64,\n", "line 2: column 'source' is empty"),
    (VLLM_HEADER + GOOD + GOOD, "line 3: duplicate version 0.5.3 (first on line 2)"),
    (VLLM_HEADER.replace("source", "source,maintainer") + GOOD.rstrip() + ",me\n", "unknown column(s) maintainer"),
    (VLLM_HEADER + GOOD.replace("0.5.3,", "zero.five,", 1), "line 2: column 'version': not a version: 'zero.five'"),
    (VLLM_HEADER + GOOD.replace("==2.3.1", "=>2.3.1"), "line 2: column 'torch': not a version specifier"),
    (VLLM_HEADER + GOOD.replace("2024-07-23", "July 2024"), "column 'release_date': not a date"),
    (VLLM_HEADER + GOOD.replace(",12.1,", ",twelve,"), "column 'cuda': not a CUDA version"),
    (VLLM_HEADER + GOOD.rstrip() + ",extra cell\n", "line 2: more cells than columns"),
])
def test_bad_rows_are_refused_with_file_and_line(text, message):
    with pytest.raises(MatrixError) as err:
        parse_table("vllm", text, "matrices/vllm.csv")
    assert str(err.value).startswith("matrices/vllm.csv: ")
    assert message in str(err.value)


def test_corrupt_matrix_file_gives_one_line_and_exit_3(tmp_path, monkeypatch):
    from envdoctor.cli import main

    bad = tmp_path / "matrices"
    shutil.copytree(default_dir(), bad)
    with open(bad / "vllm.csv", "a") as fh:  # every check with a Python environment reads it
        fh.write("0.99.0,someday,==2.3.1,>=3.8,12.1,7.0,,manylinux1_x86_64,nowhere\n")
    monkeypatch.setenv("ENVDOCTOR_MATRICES_DIR", str(bad))
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--json", "--replay", os.path.join(os.path.dirname(__file__), "fixtures", "machines", "cpu-only")])
    assert exit_info.value.code == 3


def test_binary_matrix_file_is_refused(tmp_path):
    d = tmp_path / "m"
    shutil.copytree(default_dir(), d)
    (d / "torch.csv").write_bytes(b"\x00\xff\xfe garbage")
    with pytest.raises(MatrixError) as err:
        Matrices(str(d)).table("torch")
    assert "torch.csv" in str(err.value)

