"""The finding-code catalogue (envdoctor/core/codes.py): every code any command can report is in
it, kebab-case, once; docs/findings.md and `check --list` are generated from it. (tests/conftest.py
turns on codes.enforce(), so every Finding any test builds is checked against the catalogue.)"""
from __future__ import annotations

import os

import pytest

from envdoctor.core import codes
from envdoctor.core.codes import Command, catalogue
from envdoctor.core.results import Finding
from envdoctor.rules import ALL_RULES

from .conftest import HERE, MACHINE_NAMES, check_machine

DOCS = os.path.join(os.path.dirname(HERE), "docs", "findings.md")


def test_docs_are_generated_from_the_catalogue():
    with open(DOCS, encoding="utf-8") as fh:
        text = fh.read()
    assert text == codes.markdown(), (
        "docs/findings.md is stale: python -m envdoctor.core.codes --markdown > docs/findings.md")


def test_every_rule_is_a_check_code_and_every_check_code_a_rule_that_runs():
    cat = catalogue()
    assert [c.id for c in codes.of(Command.CHECK) if c.commands[0] is Command.CHECK] == [r.code for r in ALL_RULES]
    for r in ALL_RULES:
        assert cat[r.code].area == r.area and cat[r.code].summary == r.summary


def test_codes_the_old_list_missed_are_listed(capsys):
    from envdoctor.cli import main

    with pytest.raises(SystemExit):
        main(["check", "--list"])
    out = capsys.readouterr().out
    for code in ("vllm-not-installed", "smoke-stalled", "smoke-failed", "wsl-pin-memory-off", "download-slow",
                 "torch-unpinned-in-build", "unrecognised-network-failure"):
        assert any(line.startswith(code + " ") for line in out.splitlines()), code
    assert len(out.splitlines()) == len(catalogue())


@pytest.mark.parametrize("bad", ["Upper-case", "under_score", "trailing-", "-leading", "two--dashes", "", "é"])
def test_a_code_that_is_not_kebab_case_is_refused_at_registration_and_at_construction(bad):
    with pytest.raises(ValueError):
        codes.register(bad, "python", Command.CHECK, "x")
    with pytest.raises(ValueError):
        Finding(bad, "warn", "python", "x")


def test_a_finding_with_an_unregistered_code_fails_while_enforced():
    with pytest.raises(codes.UnknownCode):
        Finding("no-such-code-anywhere", "warn", "python", "x")


def test_one_code_cannot_be_registered_twice_with_other_meanings():
    code = next(iter(catalogue()))
    entry = catalogue()[code]
    with pytest.raises(ValueError):
        codes.register(code, entry.area + "x", entry.commands[0], entry.summary)


def test_a_reuse_of_a_code_registered_nowhere_is_refused(monkeypatch):
    monkeypatch.setattr(codes, "_REUSED", dict(codes._REUSED, **{"never-registered": [Command.SMOKE]}))
    with pytest.raises(ValueError, match="never-registered"):
        codes.catalogue(matrices=__import__("envdoctor.compat.tables", fromlist=["Matrices"]).Matrices())


def test_message_ids_follow_the_convention():
    entry = catalogue()["no-nvidia-gpu"]
    assert entry.messages == {"title": "no-nvidia-gpu.title", "why": "no-nvidia-gpu.why",
                              "fix": "no-nvidia-gpu.fix", "note": "no-nvidia-gpu.note"}


@pytest.mark.parametrize("name", MACHINE_NAMES)
def test_every_code_a_fixture_machine_fires_is_catalogued_for_check(name):
    report, _doc, _ctx = check_machine(name)
    for f in report.findings:
        assert Command.CHECK in catalogue()[f.code].commands


def test_every_explain_code_is_catalogued_for_explain():
    from envdoctor.explain import codes as explain_codes

    for code, *_ in explain_codes():
        assert Command.EXPLAIN in catalogue()[code].commands


def test_the_module_prints_the_docs(capsys):
    assert codes.main(["--markdown"]) == 0
    assert capsys.readouterr().out == codes.markdown()
    assert codes.main(["--bogus"]) == 4


def test_every_code_explains_evidence_layer_can_name_is_catalogued():
    # the inferred diagnosis takes a code from a phrase table; a typo there would reach users unlisted
    from envdoctor.explain import downloads, evidence

    named = {code for _cls, _pattern, code in evidence.CODE_HINTS} | set(downloads.CODES) \
        | {code for _where, codes in evidence.WHERE for code in codes.values()} \
        | {code for codes in evidence.CONTEXT_CODES.values() for code in codes.values()}
    assert named - set(catalogue()) == set()
