"""Helpers and fixtures for the network tests: a hermetic Context for the network probe
(files under a temporary root, a resolver that knows only test names, real sockets to
loopback servers). Test modules import the fixtures they use from here."""
from __future__ import annotations

import socket
import sys
import time
from typing import Dict, Mapping, Optional

import pytest

from envdoctor.check.run import evaluate
from envdoctor.compat.tables import Matrices
from envdoctor.core.facts import NetworkFacts, PlatformFacts, PythonEnvFacts, TorchBuild
from envdoctor.core.results import Facts, ProbeResult
from envdoctor.machine.context import Context, Host
from envdoctor.machine.fs import RootedFS
from envdoctor.machine.net import SystemNet
from envdoctor.machine.runner import SubprocessRunner
from envdoctor.probes import network
from envdoctor.rules import ALL_RULES

HOME = "/home/user"
BUDGET_GRACE = 0.6  # a target's threads may finish this much after the budget


def resolver(names: Optional[Mapping[str, str]] = None, slow: Optional[Mapping[str, float]] = None):
    """A getaddrinfo stand-in: test names to loopback addresses; every other name fails,
    so no test can reach the internet by accident."""
    names, slow = dict(names or {}), dict(slow or {})

    def resolve(host: str, port: int):
        if host in slow:
            time.sleep(slow[host])
        if host not in names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        ip = names[host]
        if ":" in ip:
            return [(socket.AF_INET6, (ip, port, 0, 0))]
        return [(socket.AF_INET, (ip, port))]

    return resolve


def python_facts(prefix: str = "/opt/venv", pip_version: str = "25.2", cuda: Optional[str] = "12.1",
                 kind: str = "venv") -> PythonEnvFacts:
    torch = TorchBuild(f"2.5.1+cu{cuda.replace('.', '')}", cuda) if cuda else None
    return PythonEnvFacts(executable=sys.executable, selected_by="test", version="3.11.7", prefix=prefix,
                          base_prefix="/usr", kind=kind, pip_version=pip_version, torch=torch)


class NetRun:
    """Run the network probe against a temporary machine root."""

    def __init__(self, tmp_path) -> None:
        self.root = tmp_path / "root"
        self.root.mkdir(exist_ok=True)

    def write(self, path: str, text: str) -> None:
        target = self.root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def context(self, env: Mapping[str, str], names=None, slow=None, options=None) -> Context:
        base = {"HOME": HOME, "PATH": "/usr/bin:/bin"}
        base.update(env)
        return Context(runner=SubprocessRunner(), fs=RootedFS(str(self.root)), env=base, nvml=None,
                       host=Host("Linux", "x86_64", sys.executable), options=dict(options or {}),
                       net=SystemNet(resolver(names, slow)))

    def probe(self, env: Mapping[str, str], names=None, slow=None, options=None, python=None,
              platform=None) -> NetworkFacts:
        ctx = self.context(env, names, slow, options)
        deps = Facts({
            "python": ProbeResult("python", "ok", facts=python or python_facts()),
            "platform": ProbeResult("platform", "ok", facts=platform or PlatformFacts("Linux", "x86_64")),
        })
        return network.probe(ctx, deps)


def findings(net: NetworkFacts, platform: Optional[PlatformFacts] = None, python=None) -> Dict[str, object]:
    facts = Facts({
        "network": ProbeResult("network", "ok", facts=net),
        "platform": ProbeResult("platform", "ok", facts=platform or PlatformFacts("Linux", "x86_64")),
        "python": ProbeResult("python", "ok", facts=python or python_facts()),
    })
    found, crashes = evaluate(facts, Matrices(), [r for r in ALL_RULES if r.area == "network"])
    assert not crashes, crashes
    return {f.code: f for f in found}


def target(net: NetworkFacts, url_part: str):
    matches = [t for t in net.targets if url_part in t.url]
    assert len(matches) == 1, [t.url for t in net.targets]
    return matches[0]


@pytest.fixture
def netrun(tmp_path) -> NetRun:
    return NetRun(tmp_path)


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Whatever a test builds, envdoctor's own resolver knows no real host name."""
    monkeypatch.setattr("envdoctor.machine.net.system_resolver", resolver())
