"""The torch probe's cache through the real CLI: a second check does not import torch
again; a change to torch's installed files, --fresh, or a corrupt entry re-runs it."""
from __future__ import annotations

import json
import sys

import pytest

from envdoctor.cli import main

FAKE_TORCH = '''
import os
with open(os.environ["FAKE_TORCH_COUNTER"], "a") as fh:
    fh.write("imported\\n")
__version__ = "2.13.0+cpu"
class version:
    cuda = None
class cuda:
    @staticmethod
    def is_available():
        return False
    @staticmethod
    def get_arch_list():
        return []
'''


@pytest.fixture
def fake_torch(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "torch").mkdir(parents=True)
    (site / "torch" / "__init__.py").write_text(FAKE_TORCH)
    (site / "torch" / "version.py").write_text("__version__ = '2.13.0+cpu'\ncuda = None\n")
    info = site / "torch-2.13.0+cpu.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: torch\nVersion: 2.13.0+cpu\n")
    (info / "RECORD").write_text("torch/__init__.py,sha256=aaa,10\n")
    counter = tmp_path / "imports"
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.setenv("FAKE_TORCH_COUNTER", str(counter))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    return info, counter, tmp_path / "home" / ".cache" / "envdoctor" / "torch-runtime"


def check(capsys, *extra):
    with pytest.raises(SystemExit):
        main(["check", "--json", "--only", "torch", "--python", sys.executable, "--deadline", "60", *extra])
    doc = json.loads(capsys.readouterr().out)
    assert doc["facts"]["torch"] is not None, [p.get("error") for p in doc["probes"]]
    return doc["facts"]["torch"]


def imports(counter) -> int:
    return len(counter.read_text().splitlines()) if counter.exists() else 0


def test_a_second_check_uses_the_cache_and_a_change_to_torch_reruns_it(fake_torch, capsys):
    info, counter, cache = fake_torch
    first = check(capsys)
    assert first["version"] == "2.13.0+cpu" and first["cached"] is False and imports(counter) == 1
    second = check(capsys)
    assert second["cached"] is True and imports(counter) == 1
    assert {k: v for k, v in second.items() if k != "cached"} == {k: v for k, v in first.items() if k != "cached"}
    (info / "RECORD").write_text("torch/__init__.py,sha256=bbb,11\n")  # torch reinstalled or upgraded
    assert check(capsys)["cached"] is False and imports(counter) == 2
    assert check(capsys, "--fresh")["cached"] is False and imports(counter) == 3
    assert check(capsys)["cached"] is True and imports(counter) == 3


def test_a_change_of_visible_gpus_reruns_it(fake_torch, capsys, monkeypatch):
    _info, counter, _cache = fake_torch
    check(capsys)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert check(capsys)["cached"] is False and imports(counter) == 2


def test_a_corrupt_cache_entry_is_ignored_and_rewritten(fake_torch, capsys):
    _info, counter, cache = fake_torch
    check(capsys)
    [entry] = list(cache.iterdir())
    entry.write_text("{not json")
    assert check(capsys)["cached"] is False and imports(counter) == 2
    assert json.loads(entry.read_text())["data"]["version"] == "2.13.0+cpu"
    entry.write_text(json.dumps({"key": entry.stem, "data": {"no": "version"}}))
    assert check(capsys)["cached"] is False and imports(counter) == 3


def test_a_torch_that_fails_to_import_is_never_cached(fake_torch, capsys):
    info, counter, cache = fake_torch
    (info.parent / "torch" / "__init__.py").write_text("raise ImportError('libtorch_cuda.so: cannot open')\n")
    for _ in range(2):
        with pytest.raises(SystemExit):
            main(["check", "--json", "--only", "torch", "--python", sys.executable, "--deadline", "60"])
        doc = json.loads(capsys.readouterr().out)
        assert "libtorch_cuda.so" in next(p for p in doc["probes"] if p["area"] == "torch")["error"]
    assert not cache.exists() or not list(cache.iterdir())
