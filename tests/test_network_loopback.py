"""The network area against real servers on 127.0.0.1: every failure a user meets, each
named at the right step, with its finding, inside the time budget."""
from __future__ import annotations

import os
import threading

import pytest

from .netkit import BUDGET_GRACE, NetRun, findings, python_facts, target
from envdoctor.core.facts import PlatformFacts
from envdoctor.probes.net_trace import SAMPLE_RANGE, STALL_SECONDS
from .netservers import (TLS_DIR, TORCH_SIZE, Loopback, black_hole, endless_body, endless_headers, index,
                        proxy, refused_port, tls_server_context)

INDEX_SECRET = "IdxS3cretPw"


@pytest.fixture(scope="module")
def direct(tmp_path_factory):
    """One check, many targets at once, as a real machine has: a good primary index and
    extra indexes that are slow, stall, black-holed, forbidden, failing, self-signed,
    oversized, refused, unresolvable, slow to resolve, IPv6-only, and password-protected."""
    servers = {
        "ok": Loopback(index()),
        "slow": Loopback(index(rate=40_000)),
        "stall": Loopback(index(stall_after=200_000)),
        "hole": Loopback(black_hole),
        "hole_tls": Loopback(black_hole),
        "forbidden": Loopback(index(status="403 Forbidden")),
        "broken": Loopback(index(status="503 Service Unavailable")),
        "selfsigned": Loopback(index(), tls=tls_server_context("selfsigned")),
        "intercepted": Loopback(index(), tls=tls_server_context("intercepted")),
        "headers": Loopback(endless_headers),
        "endless": Loopback(endless_body),
        "private": Loopback(index(credentials=("alice", INDEX_SECRET))),
    }
    s = servers
    refused = refused_port()
    extras = [s["slow"].url("/simple"), s["stall"].url("/simple"), s["hole"].url("/simple"),
              s["hole_tls"].url("/simple", scheme="https"), s["forbidden"].url("/simple"),
              s["broken"].url("/simple"), s["selfsigned"].url("/simple"), s["headers"].url("/simple"),
              f"http://127.0.0.1:{refused}/simple", "http://nowhere.test/simple",
              f"http://slow.test:{s['ok'].port}/alt", "http://v6only.test:81/simple",
              f"http://alice:{INDEX_SECRET}@127.0.0.1:{s['private'].port}/simple"]
    run = NetRun(tmp_path_factory.mktemp("direct"))
    env = {"PIP_INDEX_URL": s["ok"].url("/simple"), "PIP_EXTRA_INDEX_URL": " ".join(extras),
           "HF_ENDPOINT": s["intercepted"].url("")}
    before = {t.ident for t in threading.enumerate()}
    net = run.probe(env, names={"slow.test": "127.0.0.1", "v6only.test": "100::1"}, slow={"slow.test": 1.2},
                    options={"urls": (s["endless"].url("/big.bin"),), "speed": True})
    leftover = [t.name for t in threading.enumerate() if t.ident not in before and t.name.startswith("envdoctor-net")]
    yield net, findings(net), servers, leftover, refused
    for server in servers.values():
        server.close()


def test_all_targets_finish_within_the_budget_and_leave_no_thread(direct):
    net, _found, _servers, leftover, _refused = direct
    assert len(net.targets) == 17  # index, 13 extras, PyTorch index, HF, --url
    assert net.seconds <= net.budget_seconds + BUDGET_GRACE
    assert leftover == []


def test_a_normal_index_is_reached_and_sampled_with_a_range_request(direct):
    net, _found, servers, _l, _r = direct
    t = target(net, f":{servers['ok'].port}/simple")
    assert t.failure is None and t.required
    assert [s.name for s in t.steps] == ["dns", "tcp", "http", "dns", "tcp", "sample"]
    assert t.throughput.file_bytes == TORCH_SIZE == t.throughput.projected_bytes
    assert t.throughput.bytes_per_second > 1_000_000
    ranges = [h.get("range") for _m, path, h in servers["ok"].requests if path.startswith("/files/torch-")]
    assert ranges == [f"bytes=0-{SAMPLE_RANGE - 1}"]


def test_a_throttled_index_gives_download_slow_with_a_projection(direct):
    net, found, servers, _l, _r = direct
    t = target(net, f":{servers['slow'].port}/")
    assert t.failure is None
    assert 20_000 < t.throughput.bytes_per_second < 200_000
    assert t.throughput.projected_seconds > 600
    assert f"127.0.0.1:{servers['slow'].port}" in " ".join(found["download-slow"].evidence)
    assert any("resume-retries" in c for c in found["download-slow"].fix)  # netkit's fake pip 25.2, not the host's


def test_a_transfer_that_stops_mid_body_is_a_stall_seen_by_the_watchdog(direct):
    net, found, servers, _l, _r = direct
    t = target(net, f":{servers['stall'].port}/")
    step = t.failure
    assert (step.name, step.problem) == ("transfer", "stall")
    assert STALL_SECONDS - 0.1 <= step.seconds < STALL_SECONDS + 0.6  # the watchdog, not a long timeout
    assert "download-stalled" in found and f":{servers['stall'].port}" in " ".join(found["download-stalled"].evidence)


def test_a_black_hole_costs_seconds_and_is_index_unreachable(direct):
    net, found, servers, _l, _r = direct
    http = target(net, f":{servers['hole'].port}/").failure
    tls = target(net, f":{servers['hole_tls'].port}/").failure
    assert (http.name, http.problem) == ("http", "silent") and http.seconds < 2.5
    assert (tls.name, tls.problem) == ("tls", "timeout") and tls.seconds < 2.0
    evidence = " ".join(found["index-unreachable"].evidence)
    assert f":{servers['hole'].port}" in evidence and f":{servers['hole_tls'].port}" in evidence
    assert found["index-unreachable"].severity == "warn"  # extra indexes only; the primary works


def test_403_is_http_forbidden_and_503_index_unreachable(direct):
    net, found, servers, _l, _r = direct
    assert target(net, f":{servers['forbidden'].port}/").failure.status == 403
    assert f":{servers['forbidden'].port}" in " ".join(found["http-forbidden"].evidence)
    assert target(net, f":{servers['broken'].port}/").failure.status == 503
    assert f":{servers['broken'].port}" in " ".join(found["index-unreachable"].evidence)


def test_a_self_signed_certificate_is_named_and_never_trusted(direct):
    net, found, servers, _l, _r = direct
    t = target(net, f":{servers['selfsigned'].port}/")
    assert (t.failure.name, t.failure.problem) == ("tls", "verify")
    assert t.tls_issuer == "O=envdoctor tests, CN=envdoctor test self-signed"
    f = found["tls-intercepted"]
    assert any("envdoctor test self-signed" in e for e in f.evidence)
    assert not any("trusted-host" in c or "verify=False" in c for c in f.fix)
    assert any("config set global.cert" in c for c in f.fix)


def test_an_intercepting_ca_on_the_hub_is_named(direct):
    net, found, _servers, _l, _r = direct
    hf = next(t for t in net.targets if t.kind == "hf")
    assert hf.tls_issuer == "O=Example Corp, CN=Example Corp TLS Inspection CA"
    assert hf.ca_source == "certifi (the requests default)"
    assert "Example Corp TLS Inspection CA" in found["tls-intercepted"].title + " ".join(found["tls-intercepted"].evidence)
    assert "hf-endpoint-unreachable" not in found  # the root cause is named once: the interception


def test_endless_headers_are_cut_at_64_kib(direct):
    net, _found, servers, _l, _r = direct
    step = target(net, f":{servers['headers'].port}/").failure
    assert (step.name, step.problem) == ("http", "too-large") and "64 KiB" in step.detail


def test_an_endless_body_is_read_only_within_bounds(direct):
    net, _found, servers, _l, _r = direct
    t = target(net, f":{servers['endless'].port}/big.bin")
    assert t.failure is None
    assert 0 < t.throughput.bytes <= SAMPLE_RANGE + 64 * 1024


def test_refused_unresolvable_and_ipv6_only_hosts(direct):
    net, found, _servers, _l, refused = direct
    assert target(net, f":{refused}/").failure.problem == "refused"
    assert target(net, "nowhere.test").failure.name == "dns"
    v6 = target(net, "v6only.test").failure
    assert v6.name == "tcp" and "only IPv6" in v6.detail and v6.ipv6_only
    assert f":{refused}" in " ".join(found["tcp-blocked"].evidence)
    assert "nowhere.test" in found["dns-failure"].title
    assert any("IPv6" in n for n in found["tcp-blocked"].notes)


def test_slow_dns_is_reported_but_the_host_is_reached(direct):
    net, found, _servers, _l, _r = direct
    t = target(net, "slow.test")
    assert t.failure is None
    assert "slow.test" in " ".join(found["dns-slow"].evidence)


def test_index_credentials_are_sent_like_pip_and_never_shown(direct):
    net, _found, servers, _l, _r = direct
    t = target(net, f":{servers['private'].port}/")
    assert t.failure is None
    assert all(h.get("authorization", "").startswith("Basic ") for _m, _p, h in servers["private"].requests)
    assert INDEX_SECRET not in repr(net)
    assert t.url == f"http://***@127.0.0.1:{servers['private'].port}/simple"


def test_a_primary_index_that_fails_under_wsl_gets_the_wsl_dns_fix(netrun):
    netrun.write("/etc/resolv.conf", "# generated by WSL\nnameserver 172.29.16.1\n")
    netrun.write("/mnt/c/Users/me/.wslconfig", "[wsl2]\nmemory=8GB\nnetworkingMode=nat\n")
    wsl = PlatformFacts("Linux", "x86_64", wsl=2)
    net = netrun.probe({"PIP_INDEX_URL": "https://mirror.example.test/simple"}, platform=wsl)
    assert net.nameservers == ("172.29.16.1",) and net.wsl_generate_resolv_conf is True
    assert net.wsl_networking_mode == "nat"
    f = findings(net, platform=wsl)["dns-failure"]
    assert f.severity == "error"  # the primary index
    assert "nameserver: 172.29.16.1" in " ".join(f.evidence)
    assert any("generateResolvConf = false" in c for c in f.fix)
    assert any("networkingMode=mirrored" in n for n in f.notes)


def test_a_black_holed_primary_index_is_an_error_within_the_budget(netrun):
    with Loopback(black_hole) as hole:
        net = netrun.probe({"PIP_INDEX_URL": hole.url("/simple"), "HF_ENDPOINT": hole.url("")})
    assert net.seconds <= net.budget_seconds + BUDGET_GRACE
    found = findings(net)
    assert found["index-unreachable"].severity == "error"
    assert "hf-endpoint-unreachable" in found


# --- proxies ---------------------------------------------------------------------------

def test_a_proxy_that_answers_407_is_proxy_auth_required(netrun):
    with Loopback(index()) as origin, Loopback(proxy(credentials=("bob", "x"))) as prx, \
            Loopback(index(), tls=tls_server_context("selfsigned")) as hub:
        env = {"HTTP_PROXY": prx.url(""), "HTTPS_PROXY": prx.url(""), "PIP_INDEX_URL": origin.url("/simple"),
               "HF_ENDPOINT": hub.url("")}
        net = netrun.probe(env)
    index_t, hf = target(net, f":{origin.port}/"), next(t for t in net.targets if t.kind == "hf")
    assert (index_t.failure.name, index_t.failure.status) == ("http", 407)  # absolute-form GET
    assert (hf.failure.name, hf.failure.status) == ("tunnel", 407)  # CONNECT
    f = findings(net)["proxy-auth-required"]
    assert "Basic" in " ".join(f.evidence)
    assert any(c.startswith("export HTTPS_PROXY=http://USER:PASSWORD@127.0.0.1:") for c in f.fix)
    assert net.seconds <= net.budget_seconds + BUDGET_GRACE


def test_a_proxy_with_credentials_tunnels_and_the_password_stays_hidden(netrun):
    secret = "PrxS3cret"
    with Loopback(index()) as origin, Loopback(proxy(credentials=("bob", secret))) as prx, \
            Loopback(index(), tls=tls_server_context("selfsigned")) as hub:
        url = f"http://bob:{secret}@127.0.0.1:{prx.port}"
        env = {"http_proxy": url, "https_proxy": url, "HTTP_PROXY": url, "HTTPS_PROXY": url,
               "PIP_INDEX_URL": origin.url("/simple"), "HF_ENDPOINT": hub.url(""),
               "REQUESTS_CA_BUNDLE": os.path.join(TLS_DIR, "selfsigned.pem")}
        net = netrun.probe(env)
        seen = [(m, p) for m, p, _h in prx.requests]
    index_t, hf = target(net, f":{origin.port}/"), next(t for t in net.targets if t.kind == "hf")
    assert index_t.failure is None and hf.failure is None
    assert hf.proxy == f"http://***@127.0.0.1:{prx.port}" and hf.proxy_source == "https_proxy"
    assert ("CONNECT", f"127.0.0.1:{hub.port}") in seen
    assert index_t.throughput and index_t.throughput.bytes > 0  # the sample went through the proxy too
    assert secret not in repr(net)
    mismatch = findings(net)["proxy-env-mismatch"]  # loopback hosts sent to the proxy
    assert "NO_PROXY does not list it" in " ".join(mismatch.evidence)


def test_a_proxy_port_that_refuses_is_proxy_refused_with_the_wsl_nat_hint(netrun):
    port = refused_port()
    wsl = PlatformFacts("Linux", "x86_64", wsl=2)
    env = {"HTTPS_PROXY": f"http://127.0.0.1:{port}", "https_proxy": f"http://127.0.0.1:{port}",
           "PIP_INDEX_URL": "https://mirror.example.test/simple"}
    net = netrun.probe(env, platform=wsl)
    t = target(net, "mirror.example.test")
    assert (t.failure.name, t.failure.problem) == ("proxy-connect", "refused")
    found = findings(net, platform=wsl)
    f = found["proxy-refused"]
    assert f.severity == "error" and f"127.0.0.1:{port}" in f.title
    assert any("127.0.0.1 is the Linux VM itself" in n for n in f.notes)
    # every target fails at the proxy: one finding, the proxy's, naming the variable; no mirrors
    assert "from https_proxy" in f.title and "every download through it fails" in f.title
    assert "unset https_proxy HTTPS_PROXY" in f.fix
    assert not {"index-unreachable", "hf-endpoint-unreachable", "dns-failure", "tcp-blocked"} & set(found)
    assert not any("PyPI mirror" in n or "HF_ENDPOINT=" in n for x in found.values() for n in x.notes)


def test_a_proxy_that_accepts_and_never_answers_is_proxy_unresponsive_from_pip_conf(netrun):
    with Loopback(black_hole) as hole:
        netrun.write("/etc/pip.conf", f"[global]\nproxy = http://127.0.0.1:{hole.port}\n")
        env = {"HTTPS_PROXY": f"http://127.0.0.1:{hole.port}", "PIP_CONFIG_FILE": "/etc/pip.conf"}
        net = netrun.probe(env)
    found = findings(net)
    assert all(t.failure.name == "tunnel" for t in net.targets if t.failure), [t.failure for t in net.targets]
    f = found["proxy-unresponsive"]
    assert "does not answer" in f.title and "/etc/pip.conf [global] proxy" in f.title
    assert any(c.endswith("config unset global.proxy") for c in f.fix) and "unset HTTPS_PROXY" in f.fix
    assert not {"index-unreachable", "hf-endpoint-unreachable"} & set(found)
    assert not any("HF_ENDPOINT" in n or "PyPI mirror" in n for x in found.values() for n in x.notes)


def test_one_failing_dns_server_is_named_once_without_mirrors(netrun):
    netrun.write("/etc/resolv.conf", "nameserver 10.255.0.53\n")
    net = netrun.probe({})  # the test resolver knows no real name: every lookup fails
    found = findings(net)
    f = found["dns-failure"]
    assert f.title.startswith("The DNS server 10.255.0.53 (/etc/resolv.conf) resolves no name")
    assert not any("mirror" in n.lower() or "HF_ENDPOINT" in n for x in found.values() for n in x.notes)
    assert "hf-endpoint-unreachable" not in found


def test_mirror_options_once_and_only_for_the_hosts_that_failed(netrun):
    with Loopback(index()) as origin:
        net = netrun.probe({"PIP_INDEX_URL": f"http://index.test:{origin.port}/simple"},
                           names={"index.test": "127.0.0.1"})  # hub and PyTorch index do not resolve
    found = findings(net)
    notes = [n for x in found.values() for n in x.notes]
    assert not any("PyPI mirror" in n for n in notes)  # pip's index answered
    assert sum("HF_ENDPOINT=" in n for n in notes) == 1
    torch_notes = [n for n in notes if "needs no PyTorch index" in n]
    assert len(torch_notes) == 1 and "torch==2.5.1`" in torch_notes[0]  # the target's torch, no X.Y.Z
    assert "hf-endpoint-unreachable" not in found and "dns-failure" in found


def test_with_hf_hub_offline_an_unreachable_hub_is_not_a_warning(netrun):
    with Loopback(index()) as origin:
        env = {"PIP_INDEX_URL": origin.url("/simple"), "HF_ENDPOINT": "http://hub.nowhere.test",
               "HF_HUB_OFFLINE": "1"}
        net = netrun.probe(env, python=python_facts(cuda=None))
        found = findings(net, python=python_facts(cuda=None))
    hf = next(t for t in net.targets if t.kind == "hf")
    assert hf.failure is not None and hf.unused.startswith("HF_HUB_OFFLINE=1")
    assert not any(hf.url in " ".join(f.evidence) for f in found.values()), found.keys()


def test_no_proxy_sends_a_host_direct(netrun):
    with Loopback(index()) as origin:
        env = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
               "NO_PROXY": "localhost,127.0.0.0/8", "PIP_INDEX_URL": origin.url("/simple")}
        net = netrun.probe(env)
    t = target(net, f":{origin.port}/")
    assert t.failure is None and t.proxy is None and t.no_proxy_match == "NO_PROXY=127.0.0.0/8"


def test_a_file_host_that_is_slow_to_start_gets_no_verdict_only_a_note(netrun):
    with Loopback(index(slow_start=True)) as origin:
        net = netrun.probe({"PIP_INDEX_URL": origin.url("/simple"), "HF_ENDPOINT": origin.url("")},
                           options={"network_budget": 1.5})
    t = target(net, f":{origin.port}/simple")
    assert (t.failure.name, t.failure.problem) == ("sample", "budget")
    assert "had not started sending when the budget ran out" in t.failure.detail
    assert net.seconds <= 1.5 + BUDGET_GRACE
    assert "index-unreachable" not in findings(net)
