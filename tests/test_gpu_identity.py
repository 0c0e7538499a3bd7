"""GPU identity logic on a small table made for these tests (tests/fixtures/gpu_tables/gpus.csv)."""
from __future__ import annotations

import os
import shutil

import pytest

from envdoctor.compat import gpu
from envdoctor.compat.tables import Matrices, MatrixError

TABLES = os.path.join(os.path.dirname(__file__), "fixtures", "gpu_tables")


@pytest.fixture()
def m():
    return Matrices(TABLES)


def _names(hits):
    return [h.name for h in hits]


@pytest.mark.parametrize("nvml_name, row", [
    ("NVIDIA RTX A1000 Laptop GPU", "Test RTX A1000 Laptop GPU"),  # not an A100
    ("NVIDIA H20", "Test H20"),                                    # not an H200
    ("NVIDIA GH200 480GB", "Test GH200 480GB"),                    # not an H200
    ("NVIDIA H200", "Test H200"),
    ("Tesla T4", "Test T4"), ("NVIDIA T4", "Test T4"),
    ("GeForce RTX 3050", "GeForce RTX 3050"),                      # drivers before R495 print no "NVIDIA"
    ("NVIDIA GeForce RTX 3050", "GeForce RTX 3050"),
    ("NVIDIA  GeForce RTX 3050 Laptop GPU ", "GeForce RTX 3050 Laptop GPU"),  # spacing does not matter
])
def test_a_name_matches_its_row_in_full(m, nvml_name, row):
    assert gpu.identify(nvml_name, m).name == row


@pytest.mark.parametrize("nvml_name", [
    "NVIDIA A100X", "NVIDIA A100", "NVIDIA H2000", "NVIDIA H20X", "NVIDIA GeForce RTX 3050 Laptop",
    "NVIDIA GeForce RTX 30500", "XNVIDIA H200", "AMD Instinct MI300X", "", "   ",
])
def test_an_unknown_name_stays_unknown(m, nvml_name):
    assert gpu.identify(nvml_name, m) is None
    assert m.gpu(nvml_name) is None


def test_a_size_in_the_name_wins(m):
    a100 = gpu.identify("NVIDIA A100-SXM4-40GB", m)
    assert a100.vram_options_gb == (40.0,) and a100.vram_mib == 40 * 1024 and not a100.vram_mib_seen
    assert m.gpu("NVIDIA A100-SXM4-40GB").vram_options() == (40.0,)
    assert gpu.identify("NVIDIA GeForce RTX 3050 6GB Laptop GPU", m).vram_options_gb == (6.0,)
    assert gpu.identify("NVIDIA GeForce RTX 3050 Laptop GPU", m).vram_options_gb == (4.0, 6.0)
    assert gpu.identify("NVIDIA GeForce RTX 3050 Laptop GPU", m).vram_mib is None  # which size: unknown


def test_memory_is_what_nvidia_smi_reported_where_seen(m):
    a100 = gpu.identify("NVIDIA A100-SXM4-80GB", m)
    assert (a100.vram_mib, a100.vram_mib_seen) == (81920, True)
    h200 = gpu.identify("NVIDIA H200", m)
    assert (h200.vram_mib, h200.vram_mib_seen, h200.vram_options_gb) == (143771, True, (141.0,))
    h20 = gpu.identify("NVIDIA H20", m)
    assert (h20.vram_mib, h20.vram_mib_seen) == (96 * 1024, False)


def test_spec_mib_for_a_size(m):
    a100 = gpu.spec("NVIDIA A100-SXM4-40GB", m)
    assert a100.mib_for(80) == (81920, True)  # seen for the 80 GB card
    assert a100.mib_for(40) == (40960, False)  # not seen: the size x 1024
    assert a100.mib_for(47.5) == (48640, False)


def test_a_name_that_counts_other_memory_keeps_it_unknown(m):
    gh = gpu.identify("NVIDIA GH200 480GB", m)  # 480GB is CPU and GPU memory together
    assert gh.vram_options_gb == () and gh.vram_mib is None
    assert gpu.identify("NVIDIA GH200 144G HBM3e", m).vram_options_gb == (144.0,)


def test_cpu_architecture_and_jetson(m):
    assert gpu.identify("NVIDIA GH200 480GB", m).cpu_arch == "aarch64"
    assert gpu.identify("NVIDIA H200", m).cpu_arch is None
    orin = gpu.identify("Orin (nvgpu)", m)
    assert orin.jetson and orin.cpu_arch == "aarch64" and orin.compute_capability == "8.7"
    assert gpu.identify("Orin", m).jetson
    assert not gpu.identify("NVIDIA H200", m).jetson


def test_a_mig_instance_is_its_card_with_the_slice_memory(m):
    mig = gpu.identify("NVIDIA H100 NVL MIG 3g.47gb", m)
    assert mig.name == "Test H100 NVL" and mig.mig_profile == "3g.47gb"
    assert mig.vram_options_gb == (47.0,) and not mig.vram_mib_seen  # the card's 95830 MiB is not the slice's


@pytest.mark.parametrize("query, rows", [
    ("RTX 3050 Laptop", ["GeForce RTX 3050 Laptop GPU"]),
    ("3050 laptop", ["GeForce RTX 3050 Laptop GPU"]),
    ("rtx 3050 ti laptop", ["GeForce RTX 3050 Ti Laptop GPU"]),
    ("RTX 3050", ["GeForce RTX 3050"]),
    ("T4", ["Test T4"]),
    ("tesla t4", ["Test T4"]),
    ("A6000", ["Test RTX A6000"]),
    ("H20", ["Test H20"]),
    ("RTX A1000 Laptop", ["Test RTX A1000 Laptop GPU"]),
    ("Orin", ["Test Jetson Orin"]),
])
def test_what_people_type(m, query, rows):
    assert _names(gpu.named(query, m)) == rows
    assert [s.name for s in m.gpus_named(query)] == rows


@pytest.mark.parametrize("query, rows", [
    ("GH200", {"Test GH200 480GB", "Test GH200 144G HBM3e"}),
    ("RTX 6000", {"Quadro RTX 6000", "Test RTX 6000 Ada Generation"}),
    ("6000", {"Quadro RTX 6000", "Test RTX 6000 Ada Generation"}),
])
def test_ambiguous_words_name_several(m, query, rows):
    assert set(_names(gpu.named(query, m))) == rows


@pytest.mark.parametrize("query", ["RTX 9999", "A100X", "H2", "", "laptop 3060", "GeForce"])
def test_words_that_name_nothing(m, query):
    assert gpu.named(query, m) == [] and m.gpus_named(query) == []


def test_a_size_in_the_words_narrows_and_filters(m):
    (laptop,) = gpu.named("RTX 3050 Laptop 6GB", m)
    assert laptop.vram_options_gb == (6.0,)
    assert m.gpus_named("RTX 3050 Laptop 6GB")[0].vram_options() == (6.0,)
    assert gpu.named("RTX 3050 Laptop 12GB", m) == []  # not sold with 12 GB
    (a100,) = gpu.named("A100 80GB", m)
    assert (a100.vram_mib, a100.vram_mib_seen) == (81920, True)


def test_adding_a_row_changes_no_other_answer(m, tmp_path):
    queries = ["RTX 3050", "3050 laptop", "T4", "H20", "GH200", "RTX 6000"]
    names = ["NVIDIA H20", "NVIDIA H200", "NVIDIA A100-SXM4-80GB", "Orin (nvgpu)", "NVIDIA RTX A1000 Laptop GPU"]
    before = ([_names(gpu.named(q, m)) for q in queries], [gpu.identify(n, m) for n in names])
    shutil.copy(os.path.join(TABLES, "gpus.csv"), tmp_path / "gpus.csv")
    with open(tmp_path / "gpus.csv", "a", encoding="utf-8") as fh:
        fh.write("Test H20-3e,H20-3e,9.0,Hopper,141,,datacenter,,fixture\n"
                 "Test RTX 3050 OEM,GeForce RTX 3050 OEM,8.6,Ampere,8,,desktop,,fixture\n")
    grown = Matrices(str(tmp_path))
    assert ([_names(gpu.named(q, grown)) for q in queries], [gpu.identify(n, grown) for n in names]) == before
    assert gpu.identify("NVIDIA H20-3e", grown).name == "Test H20-3e"


@pytest.mark.parametrize("pattern, message", [
    ("^H300$", "not a whole-name pattern"),
    (".*H300", "not a whole-name pattern"),
    ("NVIDIA H300", "not a whole-name pattern"),
    ("H300(?P<size>\\d+)", "only a group named gb"),
    ("H300(", "not a regular expression"),
])
def test_patterns_must_be_whole_names(tmp_path, pattern, message):
    (tmp_path / "gpus.csv").write_text(
        "name,nvml_pattern,compute_capability,architecture,vram_gb,vram_mib,segment,cpu_arch,source\n"
        f"X,{pattern},9.0,Hopper,80,,datacenter,,fixture\n", encoding="utf-8")
    with pytest.raises(MatrixError, match=message):
        Matrices(str(tmp_path)).table("gpus")


@pytest.mark.parametrize("vram_gb, vram_mib, message", [
    ("80", "40=40960", "does not list"),
    ("80", "80:81559", "GB=MiB"),
    ("80 GB", "", "memory sizes in GB"),
])
def test_memory_cells_must_parse(tmp_path, vram_gb, vram_mib, message):
    (tmp_path / "gpus.csv").write_text(
        "name,nvml_pattern,compute_capability,architecture,vram_gb,vram_mib,segment,cpu_arch,source\n"
        f"X,H300,9.0,Hopper,{vram_gb},{vram_mib},datacenter,,fixture\n", encoding="utf-8")
    with pytest.raises(MatrixError, match=message):
        Matrices(str(tmp_path)).table("gpus")
