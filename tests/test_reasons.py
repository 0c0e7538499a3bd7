"""Layers pass reasons as values, not sentences (core/reasons.py): the driver rule and the driver
probe decide on the reason, whatever words the message has (it will be translated)."""
from __future__ import annotations

from envdoctor.compat.tables import Matrices
from envdoctor.core.reasons import DriverReason
from envdoctor.core.results import Facts, ProbeResult
from envdoctor.machine.nvml import NvmlUnavailable
from envdoctor.machine.replay import ReplayNvml
from envdoctor.rules import driver

import pytest


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
