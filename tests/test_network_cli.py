"""`envdoctor check` with the network area, through the real CLI: --offline, --only
network, --url, and no secret in any output (text, --ci, JSON)."""
from __future__ import annotations

import json
import os

import pytest

from envdoctor.cli import main
from .netservers import TLS_DIR, Loopback, index, proxy, tls_server_context

PROXY_SECRET = "Pr0xyS3cretPw"
INDEX_SECRET = "IdxS3cretPw"
URL_SECRET = "UrlS3cretPw"
QUERY_TOKEN = "QueryTok3nValue"
HF_TOKEN = "hf_" + "A1b2C3d4E5f6G7h8I9j0K1l2"
SECRETS = (PROXY_SECRET, INDEX_SECRET, URL_SECRET, QUERY_TOKEN, HF_TOKEN)


def run(capsys, *args: str):
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out = capsys.readouterr()
    return exit_info.value.code, out.out + out.err


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """This process's environment, made hermetic: a private pip config and home, no
    proxy or CA variables from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith(("PIP_", "UV_", "HF_", "VLLM_")) or name.lower().endswith(("_proxy", "_ca_bundle")) \
                or name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "CONDA_PREFIX"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return tmp_path


def test_secrets_never_appear_in_text_ci_or_json(machine, monkeypatch, capsys):
    with Loopback(index(credentials=("alice", INDEX_SECRET))) as private, \
            Loopback(proxy(credentials=("bob", PROXY_SECRET))) as prx, \
            Loopback(index(), tls=tls_server_context("selfsigned")) as hub, Loopback(index()) as plain:
        conf = machine / "pip.conf"
        conf.write_text(f"[global]\nindex-url = http://alice:{INDEX_SECRET}@127.0.0.1:{private.port}/simple\n")
        monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
        proxy_url = f"http://bob:{PROXY_SECRET}@127.0.0.1:{prx.port}"
        for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
            monkeypatch.setenv(name, proxy_url)
        monkeypatch.setenv("HF_ENDPOINT", hub.url(""))
        monkeypatch.setenv("HF_TOKEN", HF_TOKEN)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", os.path.join(TLS_DIR, "selfsigned.pem"))
        url = f"http://carol:{URL_SECRET}@127.0.0.1:{plain.port}/files/torch-x.whl?token={QUERY_TOKEN}"
        outputs = {}
        for mode in ("--json", "--ci", "--verbose"):
            code, outputs[mode] = run(capsys, "check", "--only", "network", "--url", url, mode, "--debug")
            assert code in (0, 1, 2), outputs[mode]
    doc = json.loads(outputs["--json"])
    targets = {t["kind"]: t for t in doc["facts"]["network"]["targets"]}
    # the credentials were used (the proxy and the private index let us in) ...
    assert targets["pip-index"]["steps"][-1]["ok"] and targets["hf"]["steps"][-1]["ok"]
    assert targets["pip-index"]["proxy"] == f"http://***@127.0.0.1:{prx.port}"
    # ... and shown nowhere
    for mode, text in outputs.items():
        for secret in SECRETS:
            assert secret not in text, (mode, secret)
    assert "Network:" in outputs["--verbose"] and "pip index" in outputs["--verbose"]


def test_offline_and_quick_skip_the_network(machine, capsys):
    code, out = run(capsys, "check", "--offline", "--only", "platform,python", "--json")
    assert "network" not in json.loads(out)["facts"]  # not asked for at all
    code, out = run(capsys, "check", "--offline", "--skip", "torch", "--json")
    probes = {p["area"]: p for p in json.loads(out)["probes"]}
    assert (probes["network"]["status"], probes["network"]["error"]) == ("skipped", "--offline skips the network checks")
    code, out = run(capsys, "check", "--quick", "--json")
    probes = {p["area"]: p for p in json.loads(out)["probes"]}
    assert probes["network"]["error"] == "--quick skips the network checks"


def test_only_network_with_offline_or_a_bad_url_is_a_usage_error(machine, capsys):
    assert run(capsys, "check", "--only", "network", "--offline")[0] == 4
    code, out = run(capsys, "check", "--url", "ftp://mirror.example/x")
    assert code == 4 and "--url" in out and "Traceback" not in out


def test_only_network_judges_only_the_network(machine, monkeypatch, capsys):
    with Loopback(index()) as ok:
        monkeypatch.setenv("PIP_INDEX_URL", ok.url("/simple"))
        monkeypatch.setenv("HF_ENDPOINT", ok.url(""))
        code, out = run(capsys, "check", "--only", "network", "--json")
    doc = json.loads(out)
    assert {f["area"] for f in doc["findings"]} <= {"network", "envdoctor"}
    assert doc["seconds"] < 6
