"""The default network check is light (about 1 MiB in all, for metered and slow lines);
`--speed` or `check --only network -v` takes the full throughput sample."""
from __future__ import annotations

import json

from envdoctor.probes.net_trace import LIGHT_BYTES, SAMPLE_RANGE, STALL_SECONDS

from .netkit import findings, target
from .netservers import TORCH_WHEEL, Loopback, index
from .test_network_cli import machine, run  # noqa: F401 - machine is a fixture


def _ranges(server):
    return [h.get("range") for _m, path, h in server.requests]


def test_the_default_check_reads_at_most_1_mib_in_all(netrun):
    with Loopback(index()) as a, Loopback(index()) as b, Loopback(index()) as hub:
        env = {"PIP_INDEX_URL": a.url("/simple"), "PIP_EXTRA_INDEX_URL": b.url("/simple"), "HF_ENDPOINT": hub.url("")}
        net = netrun.probe(env)
        asked = _ranges(a) + _ranges(b) + _ranges(hub)
    assert not net.full_sample
    assert 0 < net.bytes_read <= LIGHT_BYTES
    assert net.bytes_read == sum(t.bytes_read for t in net.targets)
    # every request is a Range within the target's share (four targets: the PyTorch index too)
    sizes = [int(r.split("-")[1]) + 1 for r in asked if r]
    assert len(sizes) == len(asked) and max(sizes) <= LIGHT_BYTES // 4
    t = target(net, f":{a.port}/simple")
    assert t.failure is None and t.throughput.small and t.throughput.first_byte_seconds is not None
    assert t.throughput.bytes_per_second > 0 and t.throughput.bytes < 1024 * 1024


def test_a_fast_line_measured_by_a_small_range_is_not_called_slow(netrun):
    with Loopback(index(rate=400_000)) as a:  # 400 kB/s: a small range ends inside TCP's slow start
        net = netrun.probe({"PIP_INDEX_URL": a.url("/simple")})
    t = target(net, f":{a.port}/simple")
    assert t.throughput.small and t.throughput.projected_seconds > 600
    assert "download-slow" not in findings(net)  # a floor, not a verdict


def test_a_throttled_line_is_slow_even_by_a_small_range(netrun):
    with Loopback(index(rate=40_000)) as a:
        net = netrun.probe({"PIP_INDEX_URL": a.url("/simple")})
    f = findings(net)["download-slow"]
    assert any("--speed" in n for n in f.notes)


def test_the_default_check_still_sees_a_stall(netrun):
    with Loopback(index(stall_after=16_384)) as a:
        net = netrun.probe({"PIP_INDEX_URL": a.url("/simple")})
    step = target(net, f":{a.port}/simple").failure
    assert (step.name, step.problem) == ("transfer", "stall")
    assert STALL_SECONDS - 0.1 <= step.seconds < STALL_SECONDS + 0.6
    assert "download-stalled" in findings(net)


# `machine` is the fixture imported above, asked for by name (F811 reads it as a redefinition)
def test_speed_and_only_network_verbose_take_the_full_sample_and_say_what_was_read(machine, monkeypatch,  # noqa: F811
                                                                                    capsys):
    with Loopback(index()) as ok:
        monkeypatch.setenv("PIP_INDEX_URL", ok.url("/simple"))
        monkeypatch.setenv("HF_ENDPOINT", ok.url(""))
        code, out = run(capsys, "check", "--only", "network", "--json")
        light = json.loads(out)["facts"]["network"]
        code, out = run(capsys, "check", "--only", "network", "--speed", "--json")
        full = json.loads(out)["facts"]["network"]
        code, verbose = run(capsys, "check", "--only", "network", "-v")
        wheel = [h.get("range") for _m, p, h in ok.requests if p.endswith(TORCH_WHEEL)]
    assert not light["full_sample"] and light["bytes_read"] <= LIGHT_BYTES
    assert full["full_sample"] and full["bytes_read"] > LIGHT_BYTES
    assert wheel[-1] == f"bytes=0-{SAMPLE_RANGE - 1}"  # -v with --only network samples in full
    assert "fetched " in verbose and "in all" in verbose and "torch wheel would take" in verbose
