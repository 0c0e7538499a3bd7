"""`check --model … --lang zh`: the model findings (and the fit plan's notes they carry) are worded in
Chinese on every MODEL_CASES machine, their commands are those of the English run, and the English
run is what it was (tests/test_behaviour.py pins it)."""
from __future__ import annotations

import re

import pytest

from envdoctor.messages import Msg, set_language, template

from .conftest import check_machine
from .test_fixture_machines import MODEL_CASES
from .test_messages import CJK, _untranslated

# three English words in a row, once placeholders and `code` are taken out, is an untranslated sentence
ENGLISH_RUN = re.compile(r"\b[A-Za-z]{2,}[,;:]? [A-Za-z]{2,}[,;:]? [A-Za-z]{2,}\b")
CASES = [case for case in MODEL_CASES if case[2]]


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    set_language("en")


def _model_findings(name, model):
    report, _, _ = check_machine(name, model=model)
    return [f for f in report.findings if f.area == "model"]


def _texts(f):
    return [("title", f.title)] + ([("why", f.why)] if f.why else []) + [("note", n) for n in f.notes] + [
        ("evidence", e) for e in f.evidence]


def _messages(text):
    """`text` and every Msg among its parameters."""
    yield text
    for _, value in text.params:
        for v in value if isinstance(value, (list, tuple)) else (value,):
            if isinstance(v, Msg):
                yield from _messages(v)


def test_the_cases_cover_every_model_code():
    from envdoctor.rules import ALL_RULES

    assert {c for _, _, codes in CASES for c in codes} == {r.code for r in ALL_RULES if r.area == "model"}


@pytest.mark.parametrize("name, model, codes", CASES)
def test_model_findings_are_chinese_messages(name, model, codes):
    findings = _model_findings(name, model)
    assert {f.code for f in findings} == codes
    problems = []
    for f in findings:
        for kind, text in _texts(f):
            problems += _untranslated(text, f"{f.code}.{kind}")
            if not isinstance(text, Msg):
                continue
            worded = text.in_lang("zh")
            assert CJK.search(worded), (f.code, kind, worded)
            assert worded != str(text)
            for msg in _messages(text):
                bare = re.sub(r"`[^`]*`|\{[^}]*\}", " ", template(msg.id, "zh"))
                assert not ENGLISH_RUN.search(bare), (msg.id, bare)
    assert not problems, problems


@pytest.mark.parametrize("name, model, codes", CASES)
def test_model_commands_are_those_of_the_english_run(name, model, codes):
    set_language("en")
    english = _model_findings(name, model)
    set_language("zh")
    chinese = _model_findings(name, model)
    assert [f.fix for f in chinese] == [f.fix for f in english]
    # the commands named inside notes (run-smoke, the alternative's vllm serve) are carried untouched
    for f in english:
        for note in f.notes:
            for msg in _messages(note):
                for key, value in msg.params:
                    if key in ("command", "download", "catalog"):
                        assert str(value) in msg.in_lang("zh"), (f.code, key)
        if f.fix:
            assert all(CJK.search(n.in_lang("zh")) for n in f.notes if isinstance(n, Msg))


def test_the_first_users_case_reads_in_chinese():
    """wsl2-rtx3050-laptop, Qwen2-1.5B-Instruct, vLLM 0.5.3: the finding through the CLI."""
    from .conftest import machine_dir
    from .test_messages import _cli

    args = ["check", "--replay", str(machine_dir("wsl2-rtx3050-laptop")), "--model", "Qwen/Qwen2-1.5B-Instruct"]
    english = _cli(args + ["--lang", "en"]).output
    chinese = _cli(args + ["--lang", "zh"]).output
    title = next(line for line in chinese.splitlines() if line.endswith("[model-does-not-fit]"))
    assert "显存不够" in title
    block = chinese[chinese.index(title):].split("\n\n")[0]
    assert "V0 引擎" in block and "KV 缓存" in block and "量化" in block
    assert "does not fit" not in chinese and "of weights" not in chinese and "Prove it" not in chinese
    commands = [line.strip() for line in english.splitlines() if line.strip().startswith("$ ")]
    assert commands and commands == [line.strip() for line in chinese.splitlines() if line.strip().startswith("$ ")]
    assert "envdoctor run-smoke --model Qwen/Qwen2-1.5B-Instruct-GPTQ-Int8 --max-model-len 8192" in block
