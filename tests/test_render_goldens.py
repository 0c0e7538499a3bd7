"""One small golden per check renderer (human, --ci, --json, report's Markdown), on a report made
for it: three areas (facts read, a failed probe, a skipped one) and a finding of each severity.
Fixture machines pin findings and statuses (tests/test_fixture_machines.py), not whole documents,
so a new area or rule changes no golden here; a change to how a report is written does (and a new
field of the two facts classes used, which the JSON and -v views show).

Regenerate after an intended change: UPDATE_GOLDEN=1 pytest tests/test_render_goldens.py (it fails
once, showing the diff; the next run passes).
"""
from __future__ import annotations

import datetime
import io
import os

import pytest

from envdoctor import __version__
from envdoctor.core import codes
from envdoctor.core.facts import Distribution, PlatformFacts, PythonEnvFacts
from envdoctor.core.results import Facts, Finding, ProbeResult, Report
from envdoctor.redact import Redactor
from envdoctor.render import human, json_doc, markdown

from .conftest import HERE
from .golden import check_golden

GOLDEN = os.path.join(HERE, "fixtures", "render")
NOW = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture(autouse=True)
def codes_made_for_the_test():
    """The report's codes are made for it (renderers take any code): the catalogue check is off here."""
    codes.enforce(False)
    yield
    codes.enforce(True)


def small_report() -> Report:
    facts = Facts({
        "platform": ProbeResult("platform", "ok", 0.01, PlatformFacts(
            "Linux", "x86_64", kernel="5.15.153.1-microsoft-standard-WSL2", distro_id="ubuntu",
            distro_version="22.04", distro_name="Ubuntu 22.04.4 LTS", wsl=2)),
        "driver": ProbeResult("driver", "error", 0.2, error="nvidia-smi printed no driver version"),
        "python": ProbeResult("python", "ok", 0.3, PythonEnvFacts(
            "/home/u/venv/bin/python", "VIRTUAL_ENV", "3.11.7", kind="venv", prefix="/home/u/venv",
            distributions=(Distribution("vllm", "0.5.3"), Distribution("numpy", "1.26.4")))),
        "network": ProbeResult("network", "skipped", error="--offline skips the network checks"),
    })
    findings = (
        Finding("an-error", "error", "driver", "The driver cannot be read", evidence=("nvidia-smi: exit 9",),
                why="Nothing on the GPU can be judged without it.", fix=("nvidia-smi",), docs="docs/driver.md"),
        Finding("a-warning", "warn", "python", "vllm 0.5.3 misses a requirement",
                fix=("/home/u/venv/bin/python -m pip install 'numpy<2'",), notes=("then run the check again",)),
        Finding("an-info", "info", "platform", "WSL 2 runs the Windows driver"),
    )
    return Report(facts, findings, seconds=0.5)


def stable(text: str) -> str:
    return text.replace(__version__, "<version>")


def rendered(kind: str) -> str:
    report, redactor = small_report(), Redactor({})
    if kind in ("txt", "ci.txt"):
        out = io.StringIO()
        human.render(report, 2, redactor, ci=kind == "ci.txt", color=False, verbose=True, file=out)
        return out.getvalue()
    if kind == "json":
        return json_doc.dumps(json_doc.document(report, 2, redactor)) + "\n"
    return markdown.render(report, 2, redactor, env={}, now=NOW, redacted_paths=False)


@pytest.mark.parametrize("kind", ["txt", "ci.txt", "json", "md"])
def test_renderer_golden(kind):
    check_golden(os.path.join(GOLDEN, f"small.{kind}"), stable(rendered(kind)))


def test_a_failed_probe_marks_its_area_as_the_registry_says():
    report = small_report()
    assert report.area_state("driver") == "error"  # a finding and the driver's own failure: error
    failing = Report(Facts({"python": ProbeResult("python", "timeout", error="no answer")}), ())
    assert failing.area_state("python") == "warn"  # a failed probe of another area warns
    assert report.area_state("network") == "skip" and report.area_state("platform") == "info"
