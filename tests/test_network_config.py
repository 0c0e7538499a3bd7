"""Where an install fetches from, as pip, requests, uv and conda decide it: read from the
user's files and variables, never guessed. No network here."""
from __future__ import annotations

import sys

import pytest

from .netkit import HOME, findings, python_facts, target
from envdoctor.core.reasons import ConfigKind
from envdoctor.probes import network
from envdoctor.probes.net_config import (Setting, env_proxies, env_route, no_proxy_match, parse_condarc,
                                         parse_proxy, pip_ca, pip_route, read_pip_settings, read_uv_settings,
                                         toml_lines)
from envdoctor.probes.net_trace import pick_wheel


def test_pip_settings_follow_pips_precedence(netrun):
    netrun.write("/etc/xdg/pip/pip.conf", "[global]\nindex-url = https://xdg.example/simple\ntimeout = 30\n")
    netrun.write("/etc/pip.conf", "[global]\nindex-url = https://etc.example/simple\n")
    netrun.write(f"{HOME}/.config/pip/pip.conf", "[install]\nindex_url = https://user-install.example/simple\n"
                 "[global]\nextra-index-url =\n    https://a.example/simple\n    https://b.example/simple\n")
    netrun.write("/opt/venv/pip.conf", "[global]\ntimeout = 60\n")
    ctx = netrun.context({"PIP_RETRIES": "9"})
    pip = read_pip_settings(ctx, "/opt/venv")
    # [install] beats [global] from any file; later files (site) beat earlier ones; PIP_* beat all
    assert pip.get("index-url").value == "https://user-install.example/simple"
    assert pip.get("index-url").source == f"{HOME}/.config/pip/pip.conf [install] index-url"
    assert [s.value for s in pip.urls("extra-index-url")] == ["https://a.example/simple", "https://b.example/simple"]
    assert pip.get("timeout").value == "60" and pip.get("retries").source == "PIP_RETRIES"
    assert [(f.level, f.exists) for f in pip.files] == [("global", True), ("global", True), ("user", False),
                                                        ("user", True), ("site", True)]
    env_wins = read_pip_settings(netrun.context({"PIP_INDEX_URL": "https://env.example/simple"}), "/opt/venv")
    assert env_wins.get("index-url").source == "PIP_INDEX_URL"


def test_pip_config_file_variable_skips_user_files_and_devnull_skips_all(netrun):
    netrun.write(f"{HOME}/.config/pip/pip.conf", "[global]\nindex-url = https://user.example/simple\n")
    netrun.write("/tmp/ci-pip.conf", "[global]\nproxy = http://ci-proxy:3128\n")
    pip = read_pip_settings(netrun.context({"PIP_CONFIG_FILE": "/tmp/ci-pip.conf"}), None)
    assert pip.get("index-url") is None and pip.get("proxy").value == "http://ci-proxy:3128"
    assert read_pip_settings(netrun.context({"PIP_CONFIG_FILE": "/dev/null"}), None).files == ()


def test_a_pip_config_that_does_not_parse_is_a_finding_naming_file_and_line(netrun):
    netrun.write(f"{HOME}/.config/pip/pip.conf", "index-url = https://x.example/simple\n")
    net = netrun.probe({"PIP_INDEX_URL": "https://mirror.example.test/simple"})
    f = findings(net)["pip-config-invalid"]
    assert f.severity == "error"
    assert f"{HOME}/.config/pip/pip.conf" in f.evidence[0] and "line: 1" in f.evidence[0]
    assert f.fix[0] == f"mv {HOME}/.config/pip/pip.conf {HOME}/.config/pip/pip.conf.broken"


def test_environment_proxies_prefer_lowercase_like_urllib():
    env = {"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:2", "HTTP_PROXY": "http://up:3",
           "http_proxy": ""}
    assert env_proxies(env) == {"https": ("http://lower:2", "https_proxy")}  # empty lowercase removes http
    assert env_route("https://files.example/x", {"ALL_PROXY": "socks5h://s:1080"}).source == "ALL_PROXY"


def test_no_proxy_matches_like_requests():
    assert no_proxy_match("https://files.example.org/x", "localhost,.example.org") == ".example.org"
    assert no_proxy_match("https://example.org/x", "example.org") == "example.org"
    assert no_proxy_match("http://10.1.2.3:8080/simple", "10.0.0.0/8") == "10.0.0.0/8"
    assert no_proxy_match("https://other.net/", "example.org, internal") is None
    assert no_proxy_match("https://anything/", "*") == "*"


def test_malformed_proxy_urls_are_named_not_raised():
    assert parse_proxy("proxy.corp:3128") == ("http://proxy.corp:3128", None)
    assert "not a number" in parse_proxy("http://proxy.corp:notaport")[1]
    assert "unsupported proxy scheme" in parse_proxy("ftp://proxy.corp:21")[1]
    assert "no host" in parse_proxy("http://:3128")[1]


def test_malformed_proxy_gives_proxy_invalid_and_no_request(netrun):
    env = {"HTTPS_PROXY": "http://user:Pr0xyPw@proxy.corp:notaport", "PIP_INDEX_URL": "https://idx.example.test/simple"}
    net = netrun.probe(env)
    t = target(net, "idx.example.test")
    assert (t.failure.name, t.failure.problem) == ("proxy", "invalid")
    f = findings(net)["proxy-invalid"]
    assert f.evidence[0].startswith("HTTPS_PROXY: http://***@proxy.corp:notaport")
    assert f.fix == ("unset HTTPS_PROXY",)
    assert "Pr0xyPw" not in repr(net)


def test_an_index_url_pip_cannot_parse_is_a_finding_not_a_crash(netrun):
    env = {"PIP_INDEX_URL": "http://[::1", "PIP_EXTRA_INDEX_URL": "https://u:S3cretPw@idx.example.test:notaport/simple"}
    net = netrun.probe(env)
    assert not [t for t in net.targets if t.kind in ("pip-index", "pip-extra-index")]  # nothing probed
    f = findings(net)["index-url-invalid"]
    assert f.severity == "error" and [e.split(":")[0] for e in f.evidence] == ["PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"]
    assert "S3cretPw" not in repr(net) and "S3cretPw" not in repr(f)


def test_pips_own_proxy_wins_from_24_1_and_loses_before():
    env = {"HTTPS_PROXY": "http://env-proxy:8080"}
    own = Setting("http://pip-proxy:3128", "/etc/pip.conf [global] proxy")
    assert pip_route("https://idx/simple", env, own, "24.1").source == "/etc/pip.conf [global] proxy"
    old = pip_route("https://idx/simple", env, own, "23.3")
    assert old.source == "HTTPS_PROXY" and "pip 24.1 reversed that" in old.note


def test_ca_bundle_choice_follows_pip():
    assert pip_ca({}, Setting("/corp.pem", "PIP_CERT"), "25.2", "3.11").cafile == "/corp.pem"
    assert pip_ca({"REQUESTS_CA_BUNDLE": "/r.pem"}, None, "25.2", "3.11").source == "REQUESTS_CA_BUNDLE"
    new = pip_ca({}, None, "24.2", "3.10")
    assert (new.system, new.certifi) == (True, True)
    assert pip_ca({}, None, "24.2", "3.9").label == "certifi"
    assert pip_ca({}, None, "23.2.1", "3.11").label == "certifi"


def test_a_missing_ca_bundle_is_a_finding(netrun):
    net = netrun.probe({"PIP_INDEX_URL": "https://idx.example.test/simple", "PIP_CERT": "/nonexistent/corp.pem"},
                       names={"idx.example.test": "127.0.0.1"})
    f = findings(net)["ca-bundle-invalid"]
    assert f.evidence[0].startswith("PIP_CERT: the CA bundle /nonexistent/corp.pem")


def test_uv_configuration_is_read(netrun):
    netrun.write(f"{HOME}/.config/uv/uv.toml", '[[index]]\nname = "corp"\nurl = "https://uv-corp.example/simple"\n'
                 'default = true\n\n[[index]]\nurl = "https://uv-extra.example/simple"\n')
    uv = read_uv_settings(netrun.context({"UV_INDEX": "named=https://uv-env.example/simple"}))
    assert uv.present and uv.default_index.value == "https://uv-corp.example/simple"
    assert [s.value for s in uv.indexes] == ["https://uv-extra.example/simple", "https://uv-env.example/simple"]
    netrun.write(f"{HOME}/.config/uv/uv.toml", "[[index]\nurl = \n")
    assert read_uv_settings(netrun.context({})).problems[0].kind == ConfigKind.UV_CONFIG


def test_the_toml_line_reader_for_pythons_without_tomllib():
    text = ('index-url = "https://a.example/simple"  # the default\nextra-index-url = [\n  "https://b.example/simple",'
            '\n  \'https://c.example/simple\',\n]\n\n[[index]]\nurl = "https://d.example/simple"\ndefault = true\n')
    assert toml_lines(text) == {"index-url": [("https://a.example/simple", False)],
                                "extra-index-url": [("https://b.example/simple", False), ("https://c.example/simple", False)],
                                "index": [("https://d.example/simple", True)]}
    for broken in ("[[index]\nurl = 1\n", "extra-index-url = [\n \"x\",\n", "just words\n"):
        with pytest.raises(ValueError):
            toml_lines(broken)


def test_condarc_shapes_and_conda_targets(netrun):
    assert parse_condarc("channels:\n  - conda-forge\n  - defaults  # comment\n"
                         "channel_alias: https://mirror.example/conda\nproxy_servers:\n  http: http://p:1\n") == {
        "channels": ["conda-forge", "defaults"], "channel_alias": ["https://mirror.example/conda"]}
    assert parse_condarc("channels: [conda-forge, 'nvidia']\n")["channels"] == ["conda-forge", "nvidia"]
    netrun.write(f"{HOME}/.condarc", "channels:\n  - conda-forge\n  - defaults\n")
    conda = python_facts(prefix="/opt/miniconda3/envs/vllm", kind="conda")
    net = netrun.probe({"PIP_INDEX_URL": "https://idx.example.test/simple"}, python=conda)
    urls = [t.url for t in net.targets if t.kind == "conda-channel"]
    assert urls == ["https://conda.anaconda.org/conda-forge", "https://repo.anaconda.com/pkgs/main",
                    "https://repo.anaconda.com/pkgs/r"]


def test_a_broken_condarc_is_named(netrun):
    netrun.write(f"{HOME}/.condarc", "channels: [conda-forge\n")
    conda = python_facts(prefix="/opt/miniconda3/envs/vllm", kind="conda")
    net = netrun.probe({"PIP_INDEX_URL": "https://idx.example.test/simple"}, python=conda)
    assert [p.kind for p in net.problems] == [ConfigKind.CONDARC]


def test_targets_come_from_configuration_and_pip_itself(netrun):
    net = netrun.probe({"VLLM_USE_MODELSCOPE": "1"}, python=python_facts(cuda="12.4"))
    kinds = [t.kind for t in net.targets]
    assert kinds == ["pip-index", "torch-index", "hf", "modelscope"]
    pip_index = net.targets[0]
    # pip's default index was asked of pip itself, in the target interpreter
    from pip._internal.models.index import PyPI
    assert pip_index.url == PyPI.simple_url == net.pip_default_index
    assert pip_index.source == "pip's built-in default (read from pip)"
    assert net.targets[1].url == "https://download.pytorch.org/whl/cu124"
    assert net.targets[2].url == "https://huggingface.co"
    assert "only reads true/false" in net.targets[3].notes[0]


def test_the_newest_default_cuda_build_when_the_env_has_no_cuda_torch(netrun):
    from envdoctor.compat.tables import Matrices

    newest = max(Matrices().table("torch"), key=lambda r: r.version)
    tag = "cu" + newest.default_cuda.replace(".", "")
    net = netrun.probe({"PIP_INDEX_URL": "https://idx.example.test/simple"}, python=python_facts(cuda=None))
    assert target(net, "download.pytorch.org").url.endswith(tag)
    assert str(newest.version) in target(net, "download.pytorch.org").source


def test_local_find_links_are_checked_on_disk(netrun):
    netrun.write("/opt/wheels/torch-2.5.1-cp311-cp311-linux_x86_64.whl", "")
    net = netrun.probe({"PIP_INDEX_URL": "https://idx.example.test/simple",
                        "PIP_FIND_LINKS": "/opt/wheels file:///srv/missing"})
    there, missing = target(net, "/opt/wheels"), target(net, "/srv/missing")
    assert there.local and there.failure is None and "1 wheel" in there.steps[0].detail
    assert missing.failure.problem == "missing"
    assert "/srv/missing" in " ".join(findings(net)["index-unreachable"].evidence)


def test_proxy_env_mismatch_cases(netrun):
    net = netrun.probe({"HTTP_PROXY": "http://proxy.corp:3128", "https_proxy": "", "no_proxy": "",
                        "PIP_INDEX_URL": "https://idx.example.test/simple"})
    f = findings(net)["proxy-env-mismatch"]
    assert f.severity == "warn"
    text = " ".join(f.evidence)
    assert "only HTTP_PROXY is set" in text and "http:// only" in text
    conflict = netrun.probe({"https_proxy": "http://a.corp:1", "HTTPS_PROXY": "http://b.corp:2",
                             "PIP_INDEX_URL": "https://idx.example.test/simple"})
    assert conflict.proxy_conflicts == ("https_proxy/HTTPS_PROXY",)
    assert any(c == 'export HTTPS_PROXY="$https_proxy"' for c in findings(conflict)["proxy-env-mismatch"].fix)


def test_a_lowercase_only_proxy_is_only_information(netrun):
    net = netrun.probe({"https_proxy": "http://proxy.corp:3128", "http_proxy": "http://proxy.corp:3128",
                        "PIP_INDEX_URL": "https://idx.example.test/simple"})
    assert findings(net)["proxy-env-mismatch"].severity == "info"


def test_pick_wheel_prefers_a_torch_wheel_for_this_machine():
    html = (b'<a href="../../packages/torch-2.5.1-cp311-cp311-win_amd64.whl#sha256=1">w</a>'
            b'<a href="/packages/torch-2.5.1-cp311-cp311-manylinux1_x86_64.whl#sha256=2">l</a>'
            b'<a href="/packages/torch-2.5.1-cp311-cp311-macosx_11_0_arm64.whl">m</a>')
    assert pick_wheel("https://idx.example/simple/torch/", html, "x86_64") == \
        "https://idx.example/packages/torch-2.5.1-cp311-cp311-manylinux1_x86_64.whl"
    assert pick_wheel("https://idx.example/simple/pip/", b"<a href='pip-25.2.tar.gz'>", "x86_64") is None


def test_no_network_in_a_recorded_machine():
    from envdoctor.machine.context import Context, Host
    from envdoctor.probes.engine import ProbeSkipped
    from envdoctor.core.results import Facts
    from envdoctor.machine.fs import RootedFS
    from envdoctor.machine.runner import SubprocessRunner

    replayed = Context(runner=SubprocessRunner(), fs=RootedFS("/"), env={}, nvml=None,
                       host=Host("Linux", "x86_64", sys.executable))  # net=None, as replay_context builds it
    with pytest.raises(ProbeSkipped, match="no network"):
        network.probe(replayed, Facts())


def test_a_uv_toml_that_does_not_parse_is_a_finding(netrun):
    netrun.write(f"{HOME}/.config/uv/uv.toml", "[[index]\nurl = \n")
    net = netrun.probe({"PIP_INDEX_URL": "https://idx.example.test/simple"})
    f = findings(net)["uv-config-invalid"]
    assert f.severity == "warn" and f.evidence[0].startswith(f"{HOME}/.config/uv/uv.toml: ")
    assert f.fix == (f"mv {HOME}/.config/uv/uv.toml {HOME}/.config/uv/uv.toml.broken",)
    assert "condarc-invalid" not in findings(net)


def test_a_condarc_that_does_not_parse_is_a_finding(netrun):
    netrun.write(f"{HOME}/.condarc", "channels: [conda-forge\n")
    conda = python_facts(prefix="/opt/miniconda3/envs/vllm", kind="conda")
    net = netrun.probe({"PIP_INDEX_URL": "https://idx.example.test/simple"}, python=conda)
    f = findings(net)["condarc-invalid"]
    assert f.evidence[0].startswith(f"{HOME}/.condarc: ") and f.fix[0] == f"mv {HOME}/.condarc {HOME}/.condarc.broken"
    assert "uv-config-invalid" not in findings(net)
