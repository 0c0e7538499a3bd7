"""Driver banners copied verbatim from public logs (tests/data/real/driver_banners.csv): for every
one, `cuda_for_driver(driver_version, os)` must give the CUDA version nvidia-smi printed.

EXPECTED RED ON BRANCH `gpudata`: the Windows rows (and WSL rows, whose "Driver Version" is the
Windows driver's number) fail here until the reimplementation of
`envdoctor.compat.driver.cuda_for_driver` on branch `compat` lands; today that function reads only
the Linux branch number (R<first number>), so a Windows number such as 537.13 or 572.70 is looked up
as a Linux branch (the 4 that pass, 510.06 / 555.85 / 555.99, share a Linux branch's first number
by chance). On this branch 24 of the 63 rows fail: 14 of the 18 Windows/WSL rows, and 10 Linux rows
whose branch the driver table of this branch does not hold (R410, R418, R450, and Jetson's R540,
e.g. 540.4.0 -> 12.6). This is the one red test allowed on `gpudata`.

A few banners are worth knowing when reading the data: in WSL nvidia-smi prints the Linux-side
number after "NVIDIA-SMI" and the Windows driver after "Driver Version"; some hosted notebooks
(Colab-like containers) print an NVIDIA-SMI newer than the driver ("NVIDIA-SMI 460.27.04  Driver
Version: 418.67"), and the driver is what counts; from R610 nvidia-smi says "KMD Version" and
"CUDA UMD Version" instead of "Driver Version" and "CUDA Version".
"""
from __future__ import annotations

import csv
import os
import re
from typing import Dict, List

import pytest

from envdoctor.compat.driver import cuda_for_driver
from envdoctor.compat.tables import Matrices

CSV = os.path.join(os.path.dirname(__file__), "data", "real", "driver_banners.csv")


def _rows() -> List[Dict[str, str]]:
    with open(CSV, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


ROWS = _rows()
BANNER = re.compile(
    r"NVIDIA-SMI (?P<smi>[\d.]+)\s+(?:Driver|KMD) Version: (?P<driver>[\d.]+)\s+"
    r"CUDA (?:UMD )?Version: (?P<cuda>\d+\.\d+)")


@pytest.fixture(scope="module")
def matrices() -> Matrices:
    return Matrices()


def test_banners_are_verbatim_and_sourced() -> None:
    assert len(ROWS) >= 60
    assert {row["os"] for row in ROWS} == {"linux", "windows"}
    for row in ROWS:
        assert row["source_url"].startswith("https://"), row
        found = BANNER.search(row["line"])
        assert found, row
        assert (found["smi"], found["driver"], found["cuda"]) == (
            row["nvidia_smi_version"], row["driver_version"], row["cuda_version"]), row


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['os']}-{r['driver_version']}-{i}" for i, r in enumerate(ROWS)])
def test_cuda_for_driver_matches_the_banner(row: Dict[str, str], matrices: Matrices) -> None:
    assert cuda_for_driver(row["driver_version"], row["os"], matrices) == row["cuda_version"], row["line"]
