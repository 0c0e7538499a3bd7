"""The loader refuses bad rows and names the file and line: a missing source, a duplicate key,
an unknown column, a version that does not parse, a variant of an unknown model."""
from __future__ import annotations

import os
import shutil

import pytest

from envdoctor.compat.tables import TABLES, Matrices, MatrixError, default_dir


@pytest.fixture()
def data(tmp_path):
    """A private copy of the shipped matrices/ to break."""
    target = tmp_path / "matrices"
    shutil.copytree(default_dir(), target)
    return target


def _rewrite(path, edit):
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(edit(lines)), encoding="utf-8")


def _edit_cell(path, line_no, column, value):
    """Set one cell (line numbers as the loader counts them: the header is line 1)."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    rows[line_no - 1][rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def _load(directory):
    Matrices(str(directory)).validate_all()


def test_shipped_data_loads():
    m = Matrices()
    m.validate_all()
    assert len(m.table("vllm")) >= 79 and len(m.table("models")) >= 10


def test_missing_source_is_refused_with_file_and_line(data):
    _edit_cell(data / "gpus.csv", 4, "source", "")
    with pytest.raises(MatrixError) as err:
        _load(data)
    assert "gpus.csv: line 4" in str(err.value)
    assert "'source' is empty" in str(err.value) and "where it came from" in str(err.value)


def test_duplicate_key_is_refused(data):
    path = data / "vllm.csv"
    _rewrite(path, lambda ls: ls + [ls[5]])
    count = len(path.read_text(encoding="utf-8").splitlines())
    with pytest.raises(MatrixError) as err:
        _load(data)
    assert f"vllm.csv: line {count}: duplicate version {ls5_version(path)}" in str(err.value)
    assert "first on line 6" in str(err.value)


def ls5_version(path):
    return path.read_text(encoding="utf-8").splitlines()[5].split(",")[0]


def test_unknown_column_is_refused(data):
    path = data / "models.csv"
    _rewrite(path, lambda ls: [ls[0].rstrip("\n") + ",vram_needed\n"] + [line.rstrip("\n") + ",1\n" for line in ls[1:]])
    with pytest.raises(MatrixError) as err:
        _load(data)
    assert "models.csv: line 1: header unknown column(s) vram_needed" in str(err.value)


def test_unparsable_version_is_refused(data):
    _edit_cell(data / "torch.csv", 3, "version", "two.point.one")
    with pytest.raises(MatrixError) as err:
        _load(data)
    assert "torch.csv: line 3: column 'version': not a version: 'two.point.one'" in str(err.value)


def test_bad_number_and_flag_are_refused(data):
    _edit_cell(data / "models.csv", 2, "tie_embeddings", "yes")
    with pytest.raises(MatrixError) as err:
        _load(data)
    assert "models.csv: line 2: column 'tie_embeddings': not true or false: 'yes'" in str(err.value)


def test_variant_of_unknown_model_is_refused(data):
    _edit_cell(data / "model_variants.csv", 2, "base", "Qwen/NoSuchModel")
    with pytest.raises(MatrixError) as err:
        _load(data)
    assert "model_variants.csv: line 2: base 'Qwen/NoSuchModel' is not a model in models.csv" in str(err.value)


def test_every_table_is_declared_with_a_source_column():
    for spec in TABLES.values():
        assert "source" in spec.parsers and "source" not in spec.optional


def test_corrupt_data_is_a_one_line_cli_error(data, monkeypatch, capsys):
    from envdoctor.cli import main

    _rewrite(data / "vllm.csv", lambda ls: ls + [ls[5]])
    monkeypatch.setenv("ENVDOCTOR_MATRICES_DIR", str(data))
    with pytest.raises(SystemExit) as exit_:
        main(["matrices", "show", "vllm"])
    assert exit_.value.code == 3
    err = capsys.readouterr().err
    assert "corrupt compatibility data" in err and "duplicate version" in err and "Traceback" not in err
    assert err.count("\n") == 1
    assert os.path.basename(str(data / "vllm.csv")) in err
