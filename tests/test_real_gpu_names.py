"""GPU names as nvidia-smi / NVML print them in public logs (tests/data/real/gpu_names.csv), judged
against NVIDIA's compute capability for each product (tests/data/real/gpu_names_expected.csv, written
by hand from NVIDIA's CUDA GPU pages, never from the log line).

The names are split by a hash of the name. The "dev" two thirds are what the patterns in
matrices/gpus.csv were written against: every one must resolve to NVIDIA's compute capability, or stay
unknown where the expected file says why. The "frozen" third was kept out of sight while writing
patterns: a name there may stay unknown (that only lowers the rate printed below), but it must never
resolve to a wrong compute capability. A name declared unknown must stay unknown in both parts.
"""
from __future__ import annotations

import csv
import hashlib
import os
from typing import Dict, List, Tuple

import pytest

from envdoctor.compat import gpu
from envdoctor.compat.tables import Matrices

REAL = os.path.join(os.path.dirname(__file__), "data", "real")


def _rows(name: str) -> List[Dict[str, str]]:
    with open(os.path.join(REAL, name), encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


NAMES = _rows("gpu_names.csv")
EXPECTED = {row["name"]: row for row in _rows("gpu_names_expected.csv")}


def frozen(name: str) -> bool:
    return int(hashlib.sha256(name.encode("utf-8")).hexdigest(), 16) % 3 == 0


DEV = [row["name"] for row in NAMES if not frozen(row["name"])]
FROZEN = [row["name"] for row in NAMES if frozen(row["name"])]


@pytest.fixture(scope="module")
def matrices() -> Matrices:
    return Matrices()


def test_every_name_is_verbatim_sourced_and_judged() -> None:
    assert len(NAMES) >= 150
    names = [row["name"] for row in NAMES]
    assert len(names) == len(set(names))
    assert set(names) == set(EXPECTED)
    for row in NAMES:
        assert row["source_url"].startswith("https://"), row
        assert row["name"] in row["context"], row
    for name, row in EXPECTED.items():
        # Either a compute capability or a reason for staying unknown, never both.
        assert bool(row["compute_capability"]) != bool(row["unknown_because"]), name


@pytest.mark.parametrize("name", DEV)
def test_dev_names_resolve_to_nvidias_compute_capability(name: str, matrices: Matrices) -> None:
    want = EXPECTED[name]["compute_capability"] or None
    got = gpu.identify(name, matrices)
    assert (got.compute_capability if got else None) == want, (name, got)


@pytest.mark.parametrize("name", FROZEN)
def test_frozen_names_are_never_wrong(name: str, matrices: Matrices) -> None:
    want = EXPECTED[name]["compute_capability"] or None
    got = gpu.identify(name, matrices)
    if want is None:
        assert got is None, (name, got)
    elif got is not None:
        assert got.compute_capability == want, (name, got)


def _rate(names: List[str], matrices: Matrices) -> Tuple[int, int]:
    known = [n for n in names if EXPECTED[n]["compute_capability"]]
    hits = 0
    for n in known:
        got = gpu.identify(n, matrices)
        hits += bool(got and got.compute_capability == EXPECTED[n]["compute_capability"])
    return hits, len(known)


def test_resolve_rates(matrices: Matrices, capsys: pytest.CaptureFixture) -> None:
    dev, frz = _rate(DEV, matrices), _rate(FROZEN, matrices)
    with capsys.disabled():
        print(f"\nreal GPU names resolved: dev {dev[0]}/{dev[1]}, frozen {frz[0]}/{frz[1]}")
    assert dev[0] == dev[1]
