"""The area registry (core/areas.py) is the one list of areas: the probes, the typed accessors on
Facts, reading a saved report and the renderers' titles all follow it."""
from __future__ import annotations

import dataclasses
import json
import typing

import pytest

from envdoctor.core import facts as facts_mod, results
from envdoctor.core.areas import AREAS, Area, area, title
from envdoctor.core.facts_from_json import FactsFileError, from_document
from envdoctor.core.results import Facts, Finding, ProbeResult, ProbeStatus, Severity
from envdoctor.probes import ALL_PROBES

from .conftest import check_machine


def test_the_probes_are_the_registry_in_its_order():
    assert tuple(p.area for p in ALL_PROBES) == AREAS == tuple(a.value for a in Area)
    for p, a in zip(ALL_PROBES, Area):
        assert (p.title, p.run, p.timeout, p.needs) == (a.info.title, a.probe_function, a.timeout, a.info.needs)
        assert set(a.info.needs) < set(AREAS) and a.info.failed in ("warn", "error")


@pytest.mark.parametrize("entry", list(Area), ids=str)
def test_every_area_names_a_facts_dataclass_that_summarises_itself(entry):
    assert dataclasses.is_dataclass(entry.facts_type) and callable(getattr(entry.facts_type, "summary", None))
    assert entry.timeout > 0


def test_typed_accessors_match_the_registry():
    names = {**vars(results), **vars(facts_mod)}  # results.py imports the facts classes only for type checking
    hints = {name: typing.get_type_hints(prop.fget, names) for name, prop in vars(Facts).items()
             if isinstance(prop, property)}
    assert len(hints) == 9
    for name, hint in hints.items():
        entry = area(name)
        assert entry is not None, f"Facts.{name} is no area of the registry"
        assert hint["return"] == typing.Optional[entry.facts_type], name
    report, _, _ = check_machine("wsl2-rtx3050-laptop")
    assert report.facts.driver is report.facts.get("driver") and report.facts.driver.gpus[0].name.startswith("NVIDIA")
    assert report.facts.network is None  # skipped: no facts


def test_titles_come_from_the_registry_and_unknown_areas_keep_their_name():
    assert title("driver") == "NVIDIA driver" and title("envdoctor") == "envdoctor"
    assert area("gpu") is None


def test_enums_are_their_strings():
    assert ProbeResult("x", "ok").status is ProbeStatus.OK and ProbeStatus.OK == "ok"
    assert json.dumps({Area.DRIVER: [Severity.WARN, ProbeStatus.TIMEOUT]}) == '{"driver": ["warn", "timeout"]}'
    assert f"{Severity.ERROR:5}|" == "error|" and str(Area.CUDA) == "cuda"
    with pytest.raises(ValueError):
        Finding("a-code", "fatal", "driver", "no such severity")
    with pytest.raises(ValueError):
        ProbeResult("driver", "fine")


def test_a_saved_report_with_an_unknown_status_is_refused_in_one_line():
    _, doc, _ = check_machine("cpu-only")
    doc = json.loads(json.dumps(doc))
    doc["probes"][0]["status"] = "fine"
    with pytest.raises(FactsFileError, match=r"probes\[0\] \(platform\)"):
        from_document(doc)
