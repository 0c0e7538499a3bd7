"""`envdoctor matrices refresh` against a package index on 127.0.0.1 serving a few fake
releases: PEP 691 JSON, a PEP 658 metadata file for one wheel, HTTP range reads for another."""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from envdoctor.cli import main
from envdoctor.compat.tables import default_dir
from envdoctor.compat.pipindex import NoIndex, pip_default, resolve
from envdoctor.machine.fs import RootedFS

PAD = 3 * 1024 * 1024  # incompressible filler: reading a wheel whole would show in the byte count


def _wheel(dist, version, tag, metadata):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"{dist}/__init__.py", "")
        z.writestr(zipfile.ZipInfo(f"{dist}/_C.abi3.so"), os.urandom(PAD))  # stored, not deflated
        z.writestr(f"{dist}-{version}.dist-info/METADATA", metadata, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr(f"{dist}-{version}.dist-info/WHEEL", "Wheel-Version: 1.0\n")
    return f"{dist}-{version}-{tag}.whl", buf.getvalue()


def _meta(name, version, python, requires):
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", f"Requires-Python: {python}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    return "\n".join(lines) + "\n\nA description.\n"


class Index:
    """Files by URL path; a project page in PEP 691 JSON; Range support; a log of what was sent."""

    def __init__(self):
        self.files = {}
        self.projects = {}
        self.sent = {}
        self.requests = []
        self.honour_range = True

    def add(self, project, filename, data, upload_time, metadata=None, yanked=False):
        path = f"/files/{filename}"
        self.files[path] = data
        entry = {"filename": filename, "url": f"../../files/{filename}", "upload-time": upload_time,
                 "hashes": {"sha256": hashlib.sha256(data).hexdigest()}, "yanked": yanked}
        if metadata is not None:
            self.files[path + ".metadata"] = metadata.encode()
            entry["core-metadata"] = {"sha256": hashlib.sha256(metadata.encode()).hexdigest()}
        self.projects.setdefault(project, []).append(entry)


def _handler(index):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            index.requests.append((self.path, self.headers.get("Range"), self.headers.get("Accept")))
            m = re.fullmatch(r"/simple/([^/]+)/", self.path)
            if m and m.group(1) in index.projects:
                body = json.dumps({"meta": {"api-version": "1.1"}, "name": m.group(1),
                                   "files": index.projects[m.group(1)]}).encode()
                return self._send(200, body, {"Content-Type": "application/vnd.pypi.simple.v1+json"})
            data = index.files.get(self.path)
            if data is None:
                return self._send(404, b"not found", {"Content-Type": "text/plain"})
            rng = self.headers.get("Range")
            if rng and index.honour_range:
                start, end = rng[len("bytes="):].split("-")
                if start == "":
                    start, end = max(0, len(data) - int(end)), len(data) - 1
                else:
                    start, end = int(start), min(int(end or len(data) - 1), len(data) - 1)
                return self._send(206, data[start:end + 1], {
                    "Content-Range": f"bytes {start}-{end}/{len(data)}", "Content-Type": "application/octet-stream"})
            return self._send(200, data, {"Content-Type": "application/octet-stream"})

        def _send(self, status, body, headers):
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                return
            index.sent[self.path] = index.sent.get(self.path, 0) + len(body)
    return Handler


@pytest.fixture()
def index():
    idx = Index()
    # vLLM: 0.33.0 is already in the data; 0.34.0 offers a PEP 658 metadata file; 0.35.0 does
    # not (range reads); 0.36.0rc1 is a pre-release; 0.34.1 is yanked.
    for version, upload, pep658, requires in (
            ("0.33.0", "2026-11-02T10:00:00Z", True, ["torch==2.14.0"]),
            ("0.34.0", "2026-11-20T08:30:00.123Z", True,
             ["torch==2.15.0", 'flashinfer-python==0.7.3', "requests>=2.26"]),
            ("0.35.0", "2026-12-01T12:00:00Z", False, ["torch==2.15.0", "flashinfer-python==0.7.4"]),
            ("0.36.0rc1", "2026-12-10T12:00:00Z", True, ["torch==2.16.0"])):
        meta = _meta("vllm", version, ">=3.11,<3.15", requires)
        for tag in ("cp38-abi3-manylinux_2_28_x86_64", "cp38-abi3-manylinux_2_28_aarch64"):
            name, data = _wheel("vllm", version, tag, meta)
            idx.add("vllm", name, data, upload, meta if pep658 else None)
    name, data = _wheel("vllm", "0.34.1", "cp38-abi3-manylinux_2_28_x86_64", _meta("vllm", "0.34.1", ">=3.11", []))
    idx.add("vllm", name, data, "2026-11-21T00:00:00Z", yanked=True)
    torch_meta = _meta("torch", "2.16.0", ">=3.10", ["cuda-toolkit[cublas,cudart]==13.2.2; platform_system == 'Linux'",
                                                      "filelock"])
    for py, abi in (("cp311", "cp311"), ("cp312", "cp312"), ("cp313", "cp313"), ("cp313", "cp313t")):
        name, data = _wheel("torch", "2.16.0", f"{py}-{abi}-manylinux_2_28_x86_64", torch_meta)
        idx.add("torch", name, data, "2026-12-03T00:00:00Z")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(idx))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    idx.url = f"http://127.0.0.1:{server.server_address[1]}/simple/"
    yield idx
    server.shutdown()
    server.server_close()


@pytest.fixture()
def data_dir(tmp_path, monkeypatch):
    target = tmp_path / "matrices"
    shutil.copytree(default_dir(), target)
    monkeypatch.setenv("ENVDOCTOR_MATRICES_DIR", str(target))
    return target


def run(capsys, *argv):
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    out = capsys.readouterr()
    return exit_.value.code, out.out, out.err


def test_refresh_proposes_rows_for_new_releases_and_writes_nothing(capsys, index, data_dir, monkeypatch):
    monkeypatch.setenv("PIP_INDEX_URL", index.url)
    before = {p.name: p.read_bytes() for p in data_dir.iterdir()}
    code, out, err = run(capsys, "matrices", "refresh", "--timeout", "5")
    assert code == 1
    assert f"index: {index.url} (from PIP_INDEX_URL)" in err
    assert "vllm: 2 new release(s): 0.34.0, 0.35.0" in err and "torch: 1 new release(s): 2.16.0" in err
    added = [line[1:] for line in out.splitlines() if line.startswith("+") and not line.startswith("+++")]
    v34 = next(line for line in added if line.startswith("0.34.0,"))
    assert v34.startswith("0.34.0,2026-11-20,==2.15.0,\">=3.11,<3.15\",,,,flashinfer-python==0.7.3,"
                          "manylinux_2_28_aarch64 manylinux_2_28_x86_64,")
    assert "read by PEP 658 metadata file" in v34
    v35 = next(line for line in added if line.startswith("0.35.0,"))
    assert "flashinfer-python==0.7.4" in v35 and "read by HTTP range reads of the wheel" in v35
    t216 = next(line for line in added if line.startswith("2.16.0,"))
    assert t216.startswith("2.16.0,2026-12-03,>=3.10,cp311 cp312 cp313 cp313t,13.2,,")
    assert not any(line.startswith(("0.36.0rc1", "0.34.1", "0.33.0")) for line in added)
    assert "--- matrices/vllm.csv" in out and "+++ matrices/vllm.csv (proposed)" in out
    # The range reads fetched the zip directory and one member, never the 3 MiB wheels.
    range_read = [p for p in index.sent if p.startswith("/files/vllm-0.35.0") and not p.endswith(".metadata")]
    assert range_read and all(index.sent[p] < 200 * 1024 for p in range_read)
    assert any(r[1] == "bytes=-65536" for r in index.requests)
    assert any(r[2] and "application/vnd.pypi.simple.v1+json" in r[2] for r in index.requests)
    # Never rewrites the data.
    assert {p.name: p.read_bytes() for p in data_dir.iterdir()} == before
    # Missing columns are named for the maintainer, not invented.
    assert "cuda and min_cc are not in package metadata" in v34


def test_refresh_reads_the_index_from_pip_config(capsys, index, data_dir, tmp_path, monkeypatch):
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[install]\nindex-url = {index.url}\n")
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "no-system-files"))
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
    code, _, err = run(capsys, "matrices", "refresh", "--package", "torch", "--timeout", "5")
    assert code == 1 and f"(from {conf} [install] index-url)" in err
    assert resolve({"PIP_CONFIG_FILE": os.devnull, "PIP_INDEX_URL": ""}, None)[1] == "pip's default"


def test_up_to_date_data_proposes_nothing(capsys, index, data_dir, monkeypatch):
    index.projects["torch"] = [e for e in index.projects["torch"] if "2.16.0" not in e["filename"]]
    monkeypatch.setenv("PIP_INDEX_URL", index.url)
    code, out, err = run(capsys, "matrices", "refresh", "--package", "torch", "--timeout", "5")
    assert code == 0 and out == "" and "torch: no release newer than the data" in err


def test_an_index_that_ignores_range_is_not_downloaded_whole(capsys, index, data_dir, monkeypatch):
    index.honour_range = False
    monkeypatch.setenv("PIP_INDEX_URL", index.url)
    code, out, err = run(capsys, "matrices", "refresh", "--package", "vllm", "--timeout", "5")
    assert code == 3 and "ignored the Range header" in err and "PEP 658" in err
    # The client gives up on the answer's headers: not one byte of the body is read.
    from envdoctor.compat.refresh import Http, RefreshError, metadata_by_range

    http = Http(5)
    wheel = next(p for p in index.files if p.startswith("/files/vllm-0.35.0") and p.endswith(".whl"))
    with pytest.raises(RefreshError):
        metadata_by_range(http, index.url.replace("/simple/", wheel))
    assert http.bytes_read == 0


def test_an_unreachable_index_is_one_line(capsys, data_dir, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("PIP_INDEX_URL", f"http://user:hunter22@127.0.0.1:{port}/simple/")
    code, out, err = run(capsys, "matrices", "refresh", "--timeout", "2")
    assert code == 3 and out == ""
    assert "ConnectionError" in err and "hunter22" not in err and "Traceback" not in err


def test_a_stalled_index_times_out(capsys, data_dir, monkeypatch):
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    try:
        monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{listener.getsockname()[1]}/simple/")
        code, _, err = run(capsys, "matrices", "refresh", "--timeout", "0.5")
        assert code == 3 and "Timeout" in err
    finally:
        listener.close()


def _machine(tmp_path, files):
    """A machine whose only files are `files` ({machine path: text}), as the reader sees it."""
    root = tmp_path / "machine"
    for path, text in files.items():
        (root / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (root / path.lstrip("/")).write_text(text)
    return RootedFS(str(root))


HOME = {"HOME": "/home/u"}
SYSTEM, USER, SITE = "/etc/xdg/pip/pip.conf", "/home/u/.config/pip/pip.conf", "/venv/pip.conf"


def _conf(section, name):
    return f"[{section}]\nindex-url = http://127.0.0.1:1/{name}/\n"


def test_index_resolution_follows_pips_precedence(tmp_path):
    def url(files, env=None, explicit=None):
        return resolve({**HOME, **(env or {})}, explicit, fs=_machine(tmp_path / str(len(seen)), files))[0]

    seen = []
    # [install] beats [global] whatever file each sits in (pip merges each section over all files);
    # the review's case, checked against real pip below.
    seen.append(url({SYSTEM: _conf("install", "system"), USER: _conf("global", "user")}))
    seen.append(url({USER: _conf("install", "user"), SITE: _conf("global", "site")}, {"VIRTUAL_ENV": "/venv"}))
    # Within one section the later file wins: global < user < site < PIP_CONFIG_FILE.
    seen.append(url({USER: _conf("global", "user"), SITE: _conf("global", "site")}, {"VIRTUAL_ENV": "/venv"}))
    seen.append(url({SITE: _conf("install", "site"), "/ci.conf": _conf("install", "ci")},
                    {"VIRTUAL_ENV": "/venv", "PIP_CONFIG_FILE": "/ci.conf"}))
    # PIP_CONFIG_FILE naming a file replaces the user's files; the variable and the flag beat every file.
    seen.append(url({USER: _conf("install", "user"), "/ci.conf": _conf("global", "ci")}, {"PIP_CONFIG_FILE": "/ci.conf"}))
    seen.append(url({SYSTEM: _conf("install", "system")}, {"PIP_INDEX_URL": "http://127.0.0.1:1/env/ http://x/"}))
    seen.append(url({SYSTEM: _conf("install", "system")}, {"PIP_INDEX_URL": "http://127.0.0.1:1/env/"},
                    "http://127.0.0.1:1/flag/"))
    assert [u.split("/")[3] for u in seen] == ["system", "user", "site", "ci", "ci", "env", "flag"]


def test_the_source_names_the_file_and_section(tmp_path):
    fs = _machine(tmp_path, {SYSTEM: _conf("install", "system"), USER: _conf("global", "user")})
    assert resolve(HOME, fs=fs) == ("http://127.0.0.1:1/system/", f"{SYSTEM} [install] index-url")
    assert resolve({**HOME, "PIP_INDEX_URL": "http://127.0.0.1:1/env/"}, fs=fs)[1] == "PIP_INDEX_URL"


def test_a_pip_conf_pip_cannot_parse_is_a_usage_problem_not_another_index(tmp_path):
    fs = _machine(tmp_path, {SYSTEM: _conf("install", "system"), USER: "index-url = http://127.0.0.1:1/user/\n"})
    with pytest.raises(NoIndex, match=f"pip cannot read {USER}"):
        resolve(HOME, fs=fs)


def test_nothing_configured_falls_back_to_pips_own_default(tmp_path):
    url, where = resolve(HOME, fs=_machine(tmp_path, {}))
    assert where == "pip's default" and url == pip_default() and url.startswith("https://")
    assert resolve({**HOME, "PIP_CONFIG_FILE": os.devnull}, fs=_machine(tmp_path, {USER: _conf("install", "u")}))[1] \
        == "pip's default"  # pip loads no file at all


def test_the_index_is_the_one_real_pip_looks_in(tmp_path):
    """Real pip, configured by files in temporary XDG folders, says which index it looks in."""
    cases = [  # (files relative to the case's folder, PIP_CONFIG_FILE)
        ({"xdg/pip/pip.conf": _conf("install", "system"), "home/.config/pip/pip.conf": _conf("global", "user")}, None),
        ({"home/.pip/pip.conf": _conf("install", "old-user"), "home/.config/pip/pip.conf": _conf("install", "user"),
          "xdg/pip/pip.conf": _conf("global", "system")}, None),
        ({"home/.config/pip/pip.conf": _conf("install", "user"), "ci.conf": _conf("global", "ci")}, "ci.conf"),
    ]
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "XDG_", "VIRTUAL_ENV"))}
    ours, children = [], []
    for n, (files, config_file) in enumerate(cases):
        root = tmp_path / str(n)
        for path, text in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
        env = {**base, "HOME": str(root / "home"), "XDG_CONFIG_DIRS": str(root / "xdg"),
               "XDG_CONFIG_HOME": str(root / "home/.config"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        if config_file:
            env["PIP_CONFIG_FILE"] = str(root / config_file)
        ours.append(resolve(env)[0])
        children.append(subprocess.Popen(  # all at once: each mostly waits for its imports
            [sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--retries", "0", "--timeout", "2",
             "no-such-distribution-here"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    pips = []
    for child in children:
        try:
            out = child.communicate(timeout=60)[0]
        finally:
            child.kill()
            child.wait()
        looked = re.search(r"Looking in indexes: (\S+)", out)
        pips.append(looked.group(1).rstrip(",") if looked else out)
    assert ours == pips
    assert [url.split("/")[3] for url in ours] == ["system", "user", "ci"]
