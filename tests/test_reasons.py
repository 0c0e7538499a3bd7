"""Layers pass reasons as values, not sentences (core/reasons.py): the driver rule and the driver
probe decide on the reason, whatever words the message has (it will be translated)."""
from __future__ import annotations

import pytest

from envdoctor.compat.tables import Matrices
from envdoctor.core.reasons import DriverReason
from envdoctor.core.results import Facts, ProbeResult
from envdoctor.machine.nvml import NvmlUnavailable
from envdoctor.machine.replay import ReplayNvml
from envdoctor.rules import driver


def _unreadable(status: str, error: str, reason=None):
    facts = Facts({"driver": ProbeResult("driver", status, error=error, reason=reason)})
    return driver.unreadable.evaluate(facts, Matrices())


@pytest.mark.parametrize("reason, words", [(DriverReason.NOT_LOADED, "not loaded"), (DriverReason.GARBAGE, "garbage"),
                                           (DriverReason.LIBRARY_MISSING, "library missing"),
                                           (DriverReason.FAILED, "failed"), (None, "failed")])
def test_the_driver_rule_reads_the_reason_not_the_message(reason, words):
    finding = _unreadable("error", "驱动程序无法通信", reason.value if reason else None)
    assert finding.title == f"The NVIDIA driver could not be read ({words})"


def test_a_message_that_reads_like_a_reason_is_not_one():
    finding = _unreadable("error", "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver")
    assert finding.title.endswith("(failed)")


def test_a_timeout_is_timed_out_whatever_the_reason():
    assert _unreadable("timeout", "no answer", DriverReason.NOT_LOADED.value).title.endswith("(timed out)")


@pytest.mark.parametrize("data, reason", [({}, DriverReason.ABSENT),
                                          ({"error": "NVML: Driver Not Loaded", "reason": "not-loaded"},
                                           DriverReason.NOT_LOADED),
                                          ({"error": "NVML Shared Library Not Found"}, DriverReason.FAILED),
                                          ({"error": "x", "reason": "no-such-reason"}, DriverReason.FAILED)])
def test_a_recorded_nvml_error_replays_with_its_recorded_reason(data, reason):
    with pytest.raises(NvmlUnavailable) as err:
        ReplayNvml(data).read(1.0)
    assert err.value.reason is reason


def _network(*targets, **net):
    from envdoctor.core.facts import NetworkFacts

    return Facts({"network": ProbeResult("network", "ok", facts=NetworkFacts(targets=targets, **net))})


def _target(step, **extra):
    from envdoctor.core.facts import NetTarget

    return NetTarget("pip-index", "https://idx.example.test/simple", "PIP_INDEX_URL", required=True,
                     steps=(step,), **extra)


@pytest.mark.parametrize("auth, windows", [(("Basic", "NTLM"), True), (("Negotiate",), True), (("Basic",), False),
                                           ((), False)])
def test_the_proxy_auth_advice_reads_the_schemes_the_proxy_asked_for(auth, windows):
    from envdoctor.core.facts import NetStep
    from envdoctor.rules import network

    # the detail's words do not count: only the schemes the probe read from Proxy-Authenticate
    step = NetStep("tunnel", False, host="proxy.example.test", detail="407; it asks for: NTLM", problem="status",
                   status=407, auth=auth)
    t = _target(step, proxy="http://***@proxy.example.test:3128/", proxy_source="HTTPS_PROXY")
    f = network.proxy_auth_required.evaluate(_network(t), Matrices())
    assert any("NTLM/Negotiate" in n for n in f.notes) is windows
    assert "The proxy proxy.example.test:3128/ (from HTTPS_PROXY)" in f.title  # credentials dropped, not the path


def test_the_ipv6_advice_reads_the_step_flag():
    from envdoctor.core.facts import NetStep
    from envdoctor.rules import network

    for flag in (True, False):
        step = NetStep("tcp", False, host="v6.example.test", detail="only IPv6 words", problem="unreachable",
                       ipv6_only=flag)
        f = network.tcp_blocked.evaluate(_network(_target(step)), Matrices())
        assert any("only IPv6 addresses" in n for n in f.notes) is flag


def test_an_environment_proxy_winning_over_pips_own_is_a_mismatch():
    from envdoctor.core.facts import NetStep
    from envdoctor.rules import network

    ok = NetStep("http", True, host="idx.example.test", status=200)
    t = _target(ok, proxy="http://env-proxy:3128", proxy_source="HTTPS_PROXY", pip_proxy_overridden=True,
                notes=("a note in other words",))
    f = network.proxy_env_mismatch.evaluate(_network(t, pip_version="23.3", pip_proxy_source="/etc/pip.conf [global] proxy",
                                                     proxy_env=(("HTTPS_PROXY", "http://env-proxy:3128"),)), Matrices())
    assert ("pip 23.3 lets HTTPS_PROXY win over its own proxy (/etc/pip.conf [global] proxy); pip 24.1 reversed that"
            in f.evidence)
