"""The plan grid: machines an expert planned for by hand from the sources each row cites
(tests/data/compat/plan_grid.csv, legend in SOURCES.md), run through `fix`'s resolver on the
shipped data. A row is an OS, a CPU, a distribution, a driver, a GPU, the Python in use and the vLLM
wanted; its expectation is the vLLM build, torch build and Python of the plan, or the kind of
blocker that stops every release."""
from __future__ import annotations

import csv
import os

import pytest

from envdoctor.fix.resolve import Wishes, resolve

from .compat_kit import machine_facts

GRID = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "compat", "plan_grid.csv")
# The rows were planned when vLLM 0.33.0 was the newest release: "the newest that runs" means among
# those, so a release added to matrices/ later changes no expectation (it gets rows of its own).
GRID_NEWEST = "<=0.33.0"


def grid_rows():
    with open(GRID, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def grid_facts(row):
    distro = tuple(row["distro"].split()) if row["distro"] else ("", "")
    gpus = ((row["gpu"], row["cc"]),) if row["driver"] else ()
    return machine_facts(row["os"], row["arch"], row["driver"] or None, gpus, row["python"], distro)


def row_id(row):
    return (f"{row['os']}-{row['driver'] or 'nogpu'}-{row['cc'] or 'x'}-{row['want_vllm'] or 'newest'}-"
            f"{row['distro']}-{row['arch']}")


def test_grid_is_big_and_sourced():
    rows = grid_rows()
    assert len(rows) >= 60
    assert all(r["sources"].strip() for r in rows)


@pytest.mark.parametrize("row", grid_rows(), ids=row_id)
def test_grid_row(matrices, row):
    r = resolve(
        grid_facts(row), Wishes(vllm=row["want_vllm"] or GRID_NEWEST, python=row["want_python"] or None), matrices
    )
    expect = row["expect_vllm"]
    if expect.startswith("blocker:"):
        assert r.stack is None, f"planned {r.stack and r.stack.vllm.version}"
        kinds = {b.kind for x in r.rejected for b in x.blockers}
        assert expect.split(":")[1] in kinds, [x.line for x in r.rejected[:3]]
        assert r.changes and not any("nearest" in c for c in r.changes)
        return
    assert r.stack is not None, [x.line for x in r.rejected[:3]]
    s = r.stack
    assert (s.vllm.version, s.torch.version, s.cuda_tag, s.python) == \
        (expect, row["expect_torch"], row["expect_build"], row["expect_python"])
    assert not any("toolkit" in n and "needed" not in n for n in s.notes)
    if row["expect_note"]:
        assert any(row["expect_note"] in n for n in s.notes + s.extra_pins), s.notes
