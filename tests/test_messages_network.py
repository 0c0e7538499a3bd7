"""The network findings in Chinese: every network rule, fired on small facts made for it, words its
title, explanation, notes and its own evidence from the catalog; the commands (in `fix` and in
backquotes inside notes) are the English run's, character for character."""
from __future__ import annotations

import re

import pytest

from envdoctor.core.facts import KIND_LABEL, ConfigProblem, NetStep, NetTarget, NetworkFacts, PlatformFacts, Throughput
from envdoctor.core.reasons import ConfigKind
from envdoctor.messages import Msg, say, set_language
from envdoctor.rules import ALL_RULES

from .netkit import findings
from .test_messages import CJK, _untranslated

PIP_DEFAULT = "pip's built-in default (read from pip)"
HF_DEFAULT = "huggingface_hub's default"
WSL = PlatformFacts("Linux", "x86_64", wsl=2)


def _fail(name, **kw):
    return NetStep(name, False, host=kw.pop("host", "idx.example.test"), **kw)


def _t(kind="pip-index", url="https://idx.example.test/simple", source="PIP_INDEX_URL", steps=(), **kw):
    return NetTarget(kind, url, source, required=kind != "hf", steps=steps, **kw)


def _proxied(step, url):
    return _t(url=url, steps=(step,), proxy="http://127.0.0.1:7890", proxy_source="HTTPS_PROXY")


SLOW = Throughput("https://files.example.test/torch.whl", 340_000, 10.0, bytes_per_second=34_000,
                  projected_bytes=797_000_000, projected_seconds=23_000.0)

SCENES = {
    "configuration": (NetworkFacts(problems=(
        ConfigProblem(ConfigKind.INDEX_URL.value, "PIP_INDEX_URL", "not a URL: 'mirror'"),
        ConfigProblem(ConfigKind.PROXY_URL.value, "HTTPS_PROXY", "port is not a number: 'http://p:x'"),
        ConfigProblem(ConfigKind.PIP_CONFIG.value, "/etc/pip.conf", "File contains no section headers"),
        ConfigProblem(ConfigKind.UV_CONFIG.value, "/home/user/.config/uv/uv.toml", "expected `=`"),
        ConfigProblem(ConfigKind.CONDARC.value, "/home/user/.condarc", "mapping values are not allowed here"),
        ConfigProblem(ConfigKind.CA_BUNDLE.value, "REQUESTS_CA_BUNDLE", "no such file: /tmp/ca.pem"),
    )), None),
    "proxies in WSL": (NetworkFacts(
        targets=(
            _proxied(_fail("proxy-connect", host="127.0.0.1", problem="refused", detail="refused"),
                     "https://a.example.test/simple"),
            _proxied(_fail("proxy-connect", host="127.0.0.1", problem="refused", detail="refused"),
                     "https://b.example.test/simple"),
            _t(url="https://c.example.test/simple", steps=(_fail("proxy-connect", host="slow.example.test",
                                                                 problem="timeout", detail="timed out"),),
               proxy="http://slow.example.test:3128", proxy_source="/etc/pip.conf [global] proxy"),
            _t(url="https://d.example.test/simple", proxy="http://***@auth.example.test:8080",
               proxy_source="https_proxy",
               steps=(_fail("tunnel", host="auth.example.test", status=407, problem="status", detail="407",
                            auth=("NTLM",)),)),
            _t(url="http://10.0.0.5/simple", steps=(NetStep("http", True, host="10.0.0.5", status=200),),
               proxy="http://127.0.0.1:7890", proxy_source="HTTPS_PROXY", pip_proxy_overridden=True),
        ),
        proxy_env=(("HTTPS_PROXY", "http://127.0.0.1:7890"), ("http_proxy", "http://127.0.0.1:1080"),
                   ("https_proxy", "http://***@auth.example.test:8080")),
        proxy_conflicts=("https_proxy/HTTPS_PROXY",), pip_version="23.3", pip_proxy="http://slow.example.test:3128",
        pip_proxy_source="/etc/pip.conf [global] proxy", wsl_networking_mode="nat", nameservers=("10.255.255.254",),
        wsl_generate_resolv_conf=True, wslconfig_path="C:\\Users\\u\\.wslconfig"), WSL),
    "a dead DNS server": (NetworkFacts(targets=(
        _t(steps=(_fail("dns", detail="Name or service not known"),)),
        _t("hf", "https://hub.example.test", HF_DEFAULT, steps=(_fail("dns", host="hub.example.test",
                                                                      detail="Name or service not known"),)),
    ), nameservers=("10.255.255.254",), wsl_generate_resolv_conf=True), WSL),
    "hosts that fail one way each": (NetworkFacts(targets=(
        _t(url="https://dns.example.test/simple", source=PIP_DEFAULT,
           steps=(_fail("dns", host="dns.example.test", detail="Name or service not known"),)),
        _t("torch-index", "https://torch.example.test/whl/cu121", "--index-url",
           steps=(NetStep("dns", True, 2.5, host="torch.example.test"),
                  _fail("tcp", host="torch.example.test", problem="unreachable", detail="unreachable",
                        ipv6_only=True))),
        _t(url="https://tls.example.test/simple", ca_bundle="/etc/ssl/certs/ca-certificates.crt",
           ca_source="certifi", tls_issuer="CN=Corp Root CA",
           steps=(_fail("tls", host="tls.example.test", problem="verify",
                        detail="certificate has expired; hostname mismatch"),)),
        _t("pip-extra-index", "https://private.example.test/simple", "PIP_EXTRA_INDEX_URL",
           proxy="http://proxy.example.test:3128", proxy_source="HTTPS_PROXY",
           steps=(_fail("http", host="private.example.test", status=403, problem="status", detail="403"),)),
        _t(url="https://e404.example.test/simple", steps=(_fail("http", host="e404.example.test", status=404,
                                                                 problem="status", detail="404"),)),
        _t(url="https://e503.example.test/simple", steps=(_fail("http", host="e503.example.test", status=503,
                                                                 problem="status", detail="503"),)),
        _t(url="https://quiet.example.test/simple", steps=(_fail("http", host="quiet.example.test",
                                                                  problem="silent", detail="no answer"),)),
        _t("pip-find-links", "file:///srv/wheels", "PIP_FIND_LINKS", local=True,
           steps=(_fail("file", host="", detail="no such directory"),)),
        _t("hf", "https://hub.example.test", HF_DEFAULT, steps=(_fail("http", host="hub.example.test", status=502,
                                                                      problem="status", detail="502"),)),
        _t("uv-index", "https://stall.example.test/simple", "UV_INDEX_URL",
           steps=(_fail("transfer", host="stall.example.test", problem="stall", detail="no bytes for 1.5 s"),)),
        _t(url="https://slow.example.test/simple", source=PIP_DEFAULT, throughput=SLOW,
           steps=(NetStep("http", True, host="slow.example.test", status=200),)),
    ), nameservers=("192.168.1.1",), pip_version="24.0", pip_timeout="30"), None),
}


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    set_language("en")


def _found(scene):
    net, platform = SCENES[scene]
    return findings(net, platform=platform)


def test_the_scenes_fire_every_network_rule():
    fired = {code for scene in SCENES for code in _found(scene)}
    assert fired == {r.code for r in ALL_RULES if r.area == "network"}


def _own_evidence(finding):
    """Evidence the rule words itself; a target line (`pip index URL: step: detail`) and a
    configuration problem (`where: message`) quote the probe's facts."""
    return [e for e in finding.evidence
            if isinstance(e, Msg) or not (e.startswith(tuple(KIND_LABEL.values())) or ": " in e)]


@pytest.mark.parametrize("scene", sorted(SCENES))
def test_network_findings_in_chinese_have_no_english_sentence(scene):
    problems = []
    for code, f in _found(scene).items():
        for kind, texts in (("title", [f.title]), ("why", [f.why]), ("notes", f.notes),
                            ("evidence", _own_evidence(f))):
            for text in texts:
                problems += _untranslated(text, f"{code}.{kind}")
                if isinstance(text, Msg) and not CJK.search(say(text, "zh")):
                    problems.append(f"{code}.{kind}: {say(text, 'zh')!r} is not Chinese")
    assert not problems, problems


BACKQUOTED = re.compile(r"`[^`]+`")


@pytest.mark.parametrize("scene", sorted(SCENES))
def test_network_findings_in_chinese_keep_every_command(scene):
    for code, f in _found(scene).items():
        assert not any(isinstance(c, Msg) for c in f.fix), code  # a command is never a message
        assert [say(c, "zh") for c in f.fix] == [say(c, "en") for c in f.fix]
        for note in f.notes:
            assert BACKQUOTED.findall(say(note, "zh")) == BACKQUOTED.findall(say(note, "en")), (code, note)
        for text in (f.title, f.why, *f.notes):  # hosts, URLs and versions reach the Chinese text intact
            for value in re.findall(r"[\w.-]+\.example\.test|\d+\.\d+(?:\.\d+)?", say(text, "en")):
                assert value in say(text, "zh"), (code, value, say(text, "zh"))


def test_the_mirror_options_are_offered_in_chinese_with_the_same_urls():
    found = _found("hosts that fail one way each")
    notes = [say(n, "zh") for f in found.values() for n in f.notes]
    for url in ("https://pypi.tuna.tsinghua.edu.cn/simple", "https://hf-mirror.com", "VLLM_USE_MODELSCOPE=True"):
        assert any(url in n and "镜像" in n or url in n and "魔搭" in n for n in notes), url
    assert found["download-slow"].title.startswith("Downloads run at ")  # English stays English
    assert say(found["download-slow"].title, "zh").startswith("下载速度只有")
