"""The shipped data covers what the issue asks for, and its lookups answer correctly."""
from __future__ import annotations

from dataclasses import replace

import pytest
from packaging.version import Version

from envdoctor.compat.tables import Matrices
from envdoctor.fit.calc import count_parameters, kv_bytes_per_token
from envdoctor.fit.model_config import shape_from_spec


@pytest.fixture(scope="module")
def m():
    matrices = Matrices()
    matrices.validate_all()
    return matrices


def test_every_row_of_every_table_names_a_source(m):
    from envdoctor.compat.tables import TABLES

    for name in TABLES:
        for row in m.table(name):
            assert len(row.source) > 20, (name, row)


def test_vllm_releases_run_from_0_4_0_with_platforms(m):
    versions = sorted(r.version for r in m.table("vllm"))
    assert versions[0] == Version("0.4.0")
    assert Version("0.5.3") in versions and Version("0.10.1.1") in versions  # patch releases included
    assert all(r.platforms for r in m.table("vllm"))
    assert m.vllm("0.26.0").platforms == ("manylinux_2_28_aarch64", "manylinux_2_28_x86_64")
    assert all(p.endswith("x86_64") for p in m.vllm("0.5.3").platforms)


def test_torch_builds_name_their_wheel_index(m):
    row = m.torch("2.3.1")
    assert "cu121" in row.cuda_builds
    assert row.index_url("cu121") == "https://download.pytorch.org/whl/cu121"


def test_geforce_10_to_50_series_laptop_and_desktop(m):
    names = [g.name for g in m.table("gpus")]
    for series in ("10", "16", "20", "30", "40", "50"):
        assert any(f" {series}" in n and "GeForce" in n for n in names), series
    for series in ("30", "40", "50"):
        assert any(n.startswith(f"GeForce RTX {series}") and n.endswith("Laptop GPU") for n in names), series


def test_catalog_parameters_agree_with_the_counting(m):
    for spec in m.table("models"):
        shape = shape_from_spec(spec)
        assert count_parameters(replace(shape, parameters=None)) == spec.parameters


def test_qwen2_1_5b_matches_the_compat_facts(m):
    spec = m.model("qwen/qwen2-1.5b-instruct")  # ids match case-insensitively
    assert (spec.layers, spec.hidden_size, spec.heads, spec.kv_heads, spec.head_dim) == (28, 1536, 12, 2, 128)
    assert spec.parameters == 1_543_714_304  # shared/compat/facts.md (d)
    assert kv_bytes_per_token(shape_from_spec(spec)) == 28_672  # 28 KiB/token, same source


def test_published_parameter_counts(m):
    # Qwen2.5-0.5B-Instruct's model card: "Number of Parameters: 0.49B".
    assert round(m.model("Qwen/Qwen2.5-0.5B-Instruct").parameters / 1e9, 2) == 0.49


def test_variants_hang_off_catalog_models(m):
    variants = m.variants_of("Qwen/Qwen2-1.5B-Instruct")
    assert {v.id for v in variants} >= {"Qwen/Qwen2-1.5B-Instruct-AWQ", "Qwen/Qwen2-1.5B-Instruct-GPTQ-Int4"}
    for v in m.table("model_variants"):
        assert m.model(v.base) is not None
        if v.method == "awq":
            assert v.bits == 4 and v.min_cc == "7.5"
