"""The signature table is data, validated at load: a bad row names file and line."""
from __future__ import annotations

import csv
import io
import os
import shutil

import pytest

from envdoctor.compat.tables import Matrices, MatrixError, default_dir
from envdoctor.explain import codes
from envdoctor.explain.signatures import CLASSES, GATES, TABLE, fill, load


def test_table_loads_with_every_class_and_sources():
    rows = load()
    assert len(rows) >= 60
    assert {r.category for r in rows} == set(CLASSES)
    for r in rows:
        assert r.source.startswith("https://"), r.id
        assert r.pattern.search(r.example), r.id  # also checked at load


def write_table(tmp_path, mutate) -> Matrices:
    """A copy of matrices/ whose signature table has one row changed by mutate(row)."""
    for name in os.listdir(default_dir()):
        shutil.copy(os.path.join(default_dir(), name), tmp_path / name)
    path = tmp_path / TABLE.file
    with open(path, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    mutate(rows[4])
    out = io.StringIO()
    writer = csv.DictWriter(out, list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return Matrices(str(tmp_path))


@pytest.mark.parametrize("change, message", [
    ({"pattern": "nothing like the example"}, "does not match its own example"),
    ({"pattern": "unbalanced("}, "not a regular expression"),
    ({"category": "weather"}, "not a class"),
    ({"code": "Not_Kebab"}, "not a kebab-case code"),
    ({"needle": "READ TIMED OUT"}, "must be lowercase"),
    ({"needle": "absent from the example"}, "needle"),
    ({"example": "a line without any scan word", "pattern": "a line", "needle": "a line"}, "none of the scan gates"),
    ({"title": "{no_such_field} broke"}, "neither a group of the pattern"),
    ({"pattern": "(?P<cls>.+)"}, "is reserved"),  # Msg(msg_id, cls=...) would raise a TypeError
    ({"when": "sometimes"}, "not a marker"),
    ({"source": ""}, "every row must say where it came from"),
])
def test_a_bad_row_names_file_and_line(tmp_path, change, message):
    matrices = write_table(tmp_path, lambda row: row.update(change))
    with pytest.raises(MatrixError) as err:
        load(matrices)
    assert "log_signatures.csv: line 6:" in str(err.value)
    assert message in str(err.value)


def test_codes_are_listed_and_shared_with_check_where_one_exists():
    from envdoctor.rules import ALL_RULES

    listed = {code: (category, shared) for code, category, shared, _ in codes()}
    check = {r.code for r in ALL_RULES}
    for code in ("vllm-torch-mismatch", "driver-too-old-for-torch", "torch-arch-missing-for-gpu",
                 "bf16-unsupported", "missing-requirements"):
        assert listed[code][1] and code in check
    # the network doctor reports these from check too: explain and check speak one language
    for code in ("download-stalled", "download-slow", "dns-failure", "tls-intercepted", "proxy-auth-required"):
        assert listed[code][1] and code in check
    for code in ("cuda-out-of-memory", "no-space-left", "torch-unpinned-in-build"):
        assert code in listed and not listed[code][1] and code not in check
    assert all(category in CLASSES for category, _ in listed.values())


def test_fill_marks_what_the_log_does_not_say():
    assert fill("docker pull vllm/vllm-openai:v{vllm_version}", {}) == "docker pull vllm/vllm-openai:v<vllm version>"
    assert fill("${HOME} {pip}", {"pip": "python3 -m pip"}) == "${HOME} python3 -m pip"


def test_gates_are_lowercase_literals():
    assert all(g == g.lower() for g in GATES)


def test_a_title_is_whole_for_its_own_example():
    """Every name a title uses is filled from the row's own example (or from what the whole log
    says: the vLLM version, the model, pip): a title never shows a <placeholder> for a line the
    row was written from."""
    from envdoctor.explain.signatures import CONTEXT_NAMES, FIELD, derive

    for r in load():
        found = r.pattern.search(r.example)
        fields = {k: v for k, v in found.groupdict().items() if v}
        fields.update(derive(fields))
        missing = [n for n in FIELD.findall(r.title) if n not in fields and n not in CONTEXT_NAMES]
        assert not missing, (r.id, missing)
