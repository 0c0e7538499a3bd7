"""download.fetch against a real server on 127.0.0.1: resume after a drop, a stall, a server that
ignores Range, a wrong hash, a file already in the wheelhouse."""
from __future__ import annotations

import os

import pytest

from envdoctor.fix.apply.download import CHUNK, DownloadError, Policy, fetch, sha256_of

from .loopback_index import LoopbackIndex, make_wheel

FAST = Policy(connect_timeout=2.0, stall_seconds=0.5, window=5.0, min_rate=1.0, attempts=4, backoff=0.0)


@pytest.fixture()
def server(tmp_path):
    with LoopbackIndex() as srv:
        wheel = make_wheel(str(tmp_path), "blob", "1.0", {"blob/__init__.py": ""}, padding=400_000)
        served = srv.index("pypi").add("blob", wheel)
        yield srv, served, os.path.basename(wheel), tmp_path


def _get(srv, name, tmp_path, sha, policy=FAST):
    return fetch(srv.file_url("pypi", name), str(tmp_path / "house" / name), sha, policy=policy, sleep=lambda s: None)


def test_drop_half_way_resumes_with_about_one_copy(server):
    srv, served, name, tmp = server
    os.makedirs(tmp / "house")
    srv.drop_once.add(name)
    got = _get(srv, name, tmp, served.sha256)
    size = os.path.getsize(served.path)
    assert sha256_of(got.path) == served.sha256 and got.attempts == 2
    assert size <= srv.sent[name] <= size + CHUNK  # the second attempt asked only for the rest
    assert not os.path.exists(got.path + ".part")


def test_stall_is_cut_by_the_watchdog_and_resumed(server):
    srv, served, name, tmp = server
    os.makedirs(tmp / "house")
    srv.stall_once[name] = 3.0  # longer than stall_seconds: the attempt must not wait for it
    got = _get(srv, name, tmp, served.sha256)
    assert got.attempts == 2 and sha256_of(got.path) == served.sha256
    assert srv.sent[name] <= os.path.getsize(served.path) + CHUNK


def test_server_ignoring_range_starts_over_never_splices(server):
    srv, served, name, tmp = server
    os.makedirs(tmp / "house")
    srv.drop_once.add(name)
    srv.ignore_range.add(name)
    got = _get(srv, name, tmp, served.sha256)
    assert sha256_of(got.path) == served.sha256  # a 200 after a Range request restarts the part


def test_wrong_hash_is_refused_and_nothing_is_kept(server):
    srv, served, name, tmp = server
    os.makedirs(tmp / "house")
    with pytest.raises(DownloadError) as err:
        _get(srv, name, tmp, "0" * 64)
    assert err.value.kind == "hash" and "refused" in str(err.value)
    assert os.listdir(tmp / "house") == []


def test_complete_file_is_not_downloaded_again(server):
    srv, served, name, tmp = server
    os.makedirs(tmp / "house")
    _get(srv, name, tmp, served.sha256)
    before = srv.sent[name]
    again = _get(srv, name, tmp, served.sha256)
    assert again.reused and srv.sent[name] == before


def test_unreachable_server_gives_up_with_a_network_error(tmp_path):
    with LoopbackIndex() as srv:
        url = srv.root + "/pypi/files/none.whl"
    with pytest.raises(DownloadError) as err:  # the server is gone: connection refused
        fetch(url, str(tmp_path / "x.whl"), None, policy=FAST, sleep=lambda s: None)
    assert err.value.kind == "network" and "gave up after 4 attempts" in str(err.value)


def test_http_404_is_not_retried(server):
    srv, _, _, tmp = server
    with pytest.raises(DownloadError) as err:
        fetch(srv.file_url("pypi", "missing-1.0-py3-none-any.whl"), str(tmp / "m.whl"), None, policy=FAST,
              sleep=lambda s: None)
    assert "HTTP 404" in str(err.value)
