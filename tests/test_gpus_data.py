"""Invariants over the shipped matrices/gpus.csv. They hold for any row set, so adding a GPU row
breaks none of them unless the row itself is wrong (unsourced, overlapping another row, ...)."""
from __future__ import annotations

import csv
import os
import re
from typing import Iterator, List

import pytest

try:  # the regular-expression parser; public as sre_parse before Python 3.11
    from re import _constants as C  # type: ignore[attr-defined]
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

from envdoctor.compat import gpu
from envdoctor.compat.tables import GpuSpec, Matrices

REAL = os.path.join(os.path.dirname(__file__), "data", "real", "gpu_names.csv")
CC_OF_ARCH = {
    "Fermi": ("2.0", "2.1"), "Kepler": ("3.0", "3.2", "3.5", "3.7"), "Maxwell": ("5.0", "5.2", "5.3"),
    "Pascal": ("6.0", "6.1", "6.2"), "Volta": ("7.0", "7.2"), "Turing": ("7.5",),
    "Ampere": ("8.0", "8.6", "8.7"), "Ada Lovelace": ("8.9",), "Hopper": ("9.0",),
    "Blackwell": ("10.0", "11.0", "12.0", "12.1"), "Blackwell Ultra": ("10.3",),
}
SEGMENTS = {"laptop", "desktop", "workstation", "datacenter", "embedded"}


@pytest.fixture(scope="module")
def matrices() -> Matrices:
    return Matrices()


@pytest.fixture(scope="module")
def rows(matrices: Matrices) -> List[GpuSpec]:
    return matrices.table("gpus")


def _real_names() -> List[str]:
    with open(REAL, encoding="utf-8", newline="") as fh:
        return [row["name"] for row in csv.DictReader(fh)]


def _samples(pattern: "re.Pattern[str]") -> List[str]:
    """Names a pattern stands for: every alternative, each optional part left out and put in
    (digits as 8), enough to see whether two rows overlap."""
    def walk(items) -> Iterator[str]:
        if not items:
            yield ""
            return
        (op, av), rest = items[0], list(items[1:])
        if op is C.LITERAL:
            heads = [chr(av)]
        elif op is C.IN:
            first = av[0]
            heads = ["8"] if first[0] is C.CATEGORY else [chr(first[1]) if first[0] is C.LITERAL else chr(first[1][0])]
        elif op is C.SUBPATTERN:
            heads = list(walk(list(av[-1])))
        elif op is C.BRANCH:
            heads = [s for branch in av[1] for s in walk(list(branch))]
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT):
            low, high, sub = av
            inner = list(walk(list(sub)))
            heads = ([""] if low == 0 else []) + [s * max(low, 1) for s in inner]
        elif op is C.CATEGORY:
            heads = ["8"]
        else:
            raise AssertionError(f"pattern element {op} not understood by the sampler")
        for head in heads:
            for tail in walk(rest):
                yield head + tail
    return sorted(set(walk(list(sre_parse.parse(pattern.pattern)))))


def test_table_is_large_and_names_unique(rows: List[GpuSpec]) -> None:
    assert len(rows) >= 250
    names = [r.name for r in rows]
    assert len(names) == len(set(names))


def test_every_row_is_sourced(rows: List[GpuSpec]) -> None:
    for r in rows:
        assert re.search(r"https://\S+", r.source), r.name


def test_fields_are_well_formed(rows: List[GpuSpec]) -> None:
    for r in rows:
        assert r.compute_capability in CC_OF_ARCH.get(r.architecture, ()), (
            r.name,
            r.architecture,
            r.compute_capability,
        )
        assert r.segment in SEGMENTS, r.name
        assert all(0 < gb <= 512 for gb in r.vram_options()), r.name  # sizes parse, in GB
        if r.segment == "embedded":
            assert r.cpu_arch == "aarch64", r.name
        if re.search(r"\bG[BH]\d", r.name):  # Grace-hosted: GH200, GB200, GB300, GB10
            assert r.cpu_arch == "aarch64", r.name


def test_seen_mib_is_close_to_the_size(rows: List[GpuSpec]) -> None:
    for r in rows:
        for gb, mib in r.vram_mib:
            assert 0.9 <= mib / (gb * 1024) <= 1.01, (r.name, gb, mib)


def test_patterns_stand_for_names_that_only_their_row_matches(rows: List[GpuSpec]) -> None:
    for r in rows:
        samples = _samples(r.nvml_pattern)
        assert samples, r.name
        for s in samples:
            owners = [o.name for o in rows if o.nvml_pattern.fullmatch(s)]
            assert owners == [r.name], (r.name, s, owners)
            if r.nvml_pattern.groupindex.get("gb"):
                found = r.nvml_pattern.fullmatch(s)
                if found.group("gb"):
                    assert float(found.group("gb")) > 0


def test_patterns_are_whole_name(rows: List[GpuSpec]) -> None:
    for r in rows:
        for s in _samples(r.nvml_pattern):
            for longer in ("G" + s, s + "0", s + " Ti", "X " + s):
                assert not r.nvml_pattern.fullmatch(longer), (r.name, longer)


def test_every_listed_gpu_resolves(rows: List[GpuSpec], matrices: Matrices) -> None:
    for r in rows:
        for s in _samples(r.nvml_pattern):
            for name in (s, "NVIDIA " + s):
                got = gpu.identify(name, matrices)
                assert got is not None and got.name == r.name, (r.name, name, got)
                assert got.compute_capability == r.compute_capability


@pytest.mark.parametrize("name", ["NVIDIA A100X", "NVIDIA H20 NVL", "NVIDIA GH100", "NVIDIA A1000", "Tesla V100"])
def test_unlisted_lookalikes_stay_unknown(name: str, matrices: Matrices) -> None:
    assert gpu.identify(name, matrices) is None


def test_no_two_rows_match_a_real_name(rows: List[GpuSpec]) -> None:
    for name in _real_names():
        bare = re.sub(r"^NVIDIA ", "", name)
        bare = re.sub(r" MIG \d+g\.\d+gb$", "", bare)
        owners = [r.name for r in rows if r.nvml_pattern.fullmatch(bare)]
        assert len(owners) <= 1, (name, owners)


@pytest.mark.parametrize("query", [
    "H20", "L20", "H800", "A800", "A10G", "A30", "A40", "A16", "A2", "L4", "L40", "L40S", "H100",
    "H200", "GH200", "B200", "B300", "GB200", "RTX PRO 6000 Blackwell", "Orin", "T4", "A6000",
    "RTX 3050 Laptop", "Quadro RTX 4000", "Jetson Orin"])
def test_every_gpu_the_brief_names_is_known(query: str, matrices: Matrices) -> None:
    assert gpu.named(query, matrices), query


@pytest.mark.parametrize("name,gb,mib", [
    ("NVIDIA H100 80GB HBM3", 80, 81559), ("NVIDIA H200", 141, 143771), ("NVIDIA B200", 192, 183359),
    ("NVIDIA H100 NVL", 94, 95830), ("Tesla V100-SXM2-32GB", 32, None), ("NVIDIA A100-SXM4-80GB", 80, 81920),
    ("NVIDIA GeForce GTX 1060 6GB", 6, None)])
def test_shipped_sizes(name: str, gb: int, mib, matrices: Matrices) -> None:
    got = gpu.identify(name, matrices)
    assert got is not None and got.vram_options_gb == (float(gb),), (name, got)
    if mib is not None:
        assert got.vram_mib == mib and got.vram_mib_seen


@pytest.mark.parametrize("name,row", [
    ("NVIDIA H20", "NVIDIA H20"), ("NVIDIA GH200 480GB", "NVIDIA GH200 480GB"),
    ("NVIDIA RTX A1000 Laptop GPU", "NVIDIA RTX A1000 Laptop GPU"), ("NVIDIA L40", "NVIDIA L40")])
def test_lookalikes_are_their_own_rows(name: str, row: str, matrices: Matrices) -> None:
    got = gpu.identify(name, matrices)
    assert got is not None and got.name == row, (name, got)


def test_grace_and_jetson_hosts(matrices: Matrices) -> None:
    gh = gpu.identify("NVIDIA GH200 480GB", matrices)
    assert gh.cpu_arch == "aarch64" and not gh.jetson
    orin = gpu.identify("Orin (nvgpu)", matrices)
    assert orin.jetson and orin.cpu_arch == "aarch64"
    assert gpu.identify("NVIDIA H100 PCIe", matrices).cpu_arch is None
