"""The index names the files apply downloads: a hostile or broken one must not write
outside the wheelhouse (E7), and applies sharing a wheelhouse must not corrupt each other's
downloads (F5)."""
from __future__ import annotations

import json
import os
import threading

import pytest

from envdoctor.fix.apply.download import Policy, sha256_of
from envdoctor.fix.apply.wheelhouse import Artifact, StepError, download_all, resolve
from envdoctor.fix.plan import Install
from envdoctor.machine.runner import CommandResult

from .loopback_index import LoopbackIndex, make_wheel

WHEEL = "torch-2.3.1+cu121-py3-none-any.whl"


class ReportingPip:
    """A runner whose `pip install --dry-run --report FILE` writes the given install report."""

    def __init__(self, urls):
        self.urls = urls

    def run(self, argv, timeout, env=None, stdin_text=None):
        report = argv[argv.index("--report") + 1]
        with open(report, "w") as fh:
            json.dump({"install": [{"download_info": {"url": u, "archive_info": {"hashes": {"sha256": "0" * 64}}},
                                    "metadata": {"name": "torch", "version": "2.3.1+cu121"}} for u in self.urls]}, fh)
        return CommandResult(tuple(argv), "ok", 0)


@pytest.mark.parametrize("link", [
    "http://127.0.0.1:1/torch/files/..%2F..%2Fvictim%2F" + WHEEL.replace("+", "%2B"),
    "http://127.0.0.1:1/torch/files/%2Ftmp%2Fvictim%2F" + WHEEL,
    "http://127.0.0.1:1/torch/files/..%2F..%2Fvictim%2F" + WHEEL + "#sha256=" + "0" * 64,
])
def test_an_encoded_slash_in_a_link_leaves_only_the_file_name(link):
    artifacts = resolve(ReportingPip([link]), "python", Install(("torch==2.3.1",)), (), {})
    assert [a.filename for a in artifacts] == [WHEEL]


@pytest.mark.parametrize("name", ["../victim/" + WHEEL, "/tmp/" + WHEEL, "..", "not-a-wheel.whl", ".whl"])
def test_a_file_name_that_is_no_plain_wheel_name_is_refused(tmp_path, name):
    house = tmp_path / "house"
    with pytest.raises(StepError) as err:
        download_all([Artifact("torch", "2.3.1", "http://127.0.0.1:1/x", name, None)], str(house), Policy())
    assert "no wheel file name" in str(err.value) or "has no wheel" in str(err.value)
    assert not (tmp_path / "victim").exists() and os.listdir(house) == []


def test_two_applies_sharing_a_wheelhouse_download_the_file_once(tmp_path):
    with LoopbackIndex() as srv:
        wheel = make_wheel(str(tmp_path), "blob", "1.0", {"blob/__init__.py": ""}, padding=2_000_000)
        served = srv.index("pypi").add("blob", wheel)
        name = os.path.basename(wheel)
        srv.stall_once[name] = 0.5  # the first download is slow: the second starts while it runs
        art = Artifact("blob", "1.0", srv.file_url("pypi", name), name, served.sha256)
        house, results, errors = str(tmp_path / "house"), [], []

        def one():
            try:
                results.append(download_all([art], house, Policy(stall_seconds=5, attempts=3)))
            except Exception as exc:  # noqa: BLE001 - the test reports it
                errors.append(exc)

        threads = [threading.Thread(target=one) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        assert all(sha256_of(r[0].path) == served.sha256 for r in results) and len(results) == 3
        assert sorted(r[0].reused for r in results) == [False, True, True]
        assert srv.sent[name] <= os.path.getsize(served.path) + 65536
