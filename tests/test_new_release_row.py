"""A release added to matrices/ breaks no expectation: with a new vLLM row (0.33.1, as 0.33.0) and a
new torch row (2.14.2) the fixture machines raise the same findings, every plan-grid row plans the
same, and the first user's machine still gets vLLM 0.5.3. (The whole suite passes on such a copy
too: ENVDOCTOR_MATRICES_DIR=<copy> python -m pytest.)"""
from __future__ import annotations

import csv
import io
import shutil

import pytest

from envdoctor.compat.tables import Matrices, default_dir
from envdoctor.fix.resolve import Wishes, resolve

from .conftest import MACHINE_NAMES, check_machine
from .test_fixture_machines import EXPECTED
from .test_plan_grid import GRID_NEWEST, grid_facts, grid_rows


def _add(path, key, old, new, date):
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    row = dict(next(r for r in rows if r[key] == old), **{key: new, "release_date": date})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows + [row])
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(out.getvalue())


@pytest.fixture(scope="module")
def grown(tmp_path_factory):
    target = tmp_path_factory.mktemp("grown") / "matrices"
    shutil.copytree(default_dir(), target)
    _add(target / "vllm.csv", "version", "0.33.0", "0.33.1", "2026-11-20")
    _add(target / "torch.csv", "version", "2.14.1", "2.14.2", "2026-11-21")
    return str(target)


def test_the_new_rows_are_read(grown):
    m = Matrices(grown)
    assert m.vllm("0.33.1") is not None and m.torch("2.14.2") is not None


@pytest.mark.parametrize("name", MACHINE_NAMES)
def test_fixture_findings_unchanged(grown, monkeypatch, name):
    monkeypatch.setenv("ENVDOCTOR_MATRICES_DIR", grown)
    report, _, _ = check_machine(name)
    assert {f.code: f.severity for f in report.findings} == EXPECTED[name]


def test_grid_unchanged(grown):
    m = Matrices(grown)
    for row in grid_rows():
        r = resolve(grid_facts(row), Wishes(vllm=row["want_vllm"] or GRID_NEWEST, python=row["want_python"] or None), m)
        if row["expect_vllm"].startswith("blocker:"):
            assert r.stack is None, row
        else:
            assert r.stack is not None and r.stack.vllm.version == row["expect_vllm"], row
