"""`check --model … --lang zh`: the model findings (and the fit plan's notes they carry) are worded in
Chinese on every MODEL_CASES machine, their commands are those of the English run, and the English
run is what it was (tests/test_behaviour.py pins it). Likewise run-smoke's own findings (through the
fake vLLM) and check --from-report's own, on every stored report."""
from __future__ import annotations

import os
import re

import pytest

from envdoctor.messages import Msg, set_language, template

from .conftest import check_machine
from .test_fixture_machines import MODEL_CASES
from .test_messages import CJK, _untranslated

# three English words in a row, once placeholders and `code` are taken out, is an untranslated sentence
ENGLISH_RUN = re.compile(r"\b[A-Za-z]{2,}[,;:]? [A-Za-z]{2,}[,;:]? [A-Za-z]{2,}\b")
NAMES = re.compile(r"Hugging Face Hub|CUDA on WSL")  # names (a hub, a guide), not sentences


def _bare(msg):
    """The Chinese template of `msg` without its placeholders, `code` and names."""
    return NAMES.sub(" ", re.sub(r"`[^`]*`|\{[^}]*\}", " ", template(msg.id, "zh")))
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
                bare = _bare(msg)
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


# --- run-smoke's own findings (through the fake vLLM of tests/test_smoke.py) -------------------

SMOKE_CODES = {"smoke-stalled", "smoke-timed-out", "smoke-failed", "vllm-not-installed", "download-stalled"}


def _smoke_problems(findings):
    problems = []
    for f in (f for f in findings if f.code in SMOKE_CODES):
        texts = [("title", f.title), ("why", f.why)] + [("note", n) for n in f.notes] + [
            ("evidence", e) for e in f.evidence if isinstance(e, Msg)]  # the rest is the child's own log
        for kind, text in texts:
            problems += _untranslated(text, f"{f.code}.{kind}")
            if isinstance(text, Msg):
                for msg in _messages(text):
                    bare = _bare(msg)
                    if ENGLISH_RUN.search(bare):
                        problems.append((msg.id, bare))
        assert any(isinstance(e, Msg) for e in f.evidence), f.code  # at least the log's path is worded
    return problems


@pytest.mark.parametrize("mode, options, codes", [
    ("hang", {"stall": 2.0, "timeout": 60}, ["smoke-stalled"]),
    ("noisy-hang", {"stall": 30, "timeout": 3}, ["smoke-timed-out"]),
    ("weird", {}, ["smoke-failed"]),
    ("download-stall", {"stall": 2.0, "timeout": 60}, ["download-stalled", "smoke-stalled"]),
])
def test_smoke_findings_are_chinese_messages(fake_env, tmp_path, mode, options, codes):
    from .test_smoke import smoke

    result = smoke(fake_env, tmp_path, mode, **options)
    assert [f.code for f in result.findings][:len(codes)] == codes
    assert not _smoke_problems(result.findings)
    title = result.findings[-1 if mode == "download-stall" else 0].title
    assert CJK.search(title.in_lang("zh")) and str(title) == title.in_lang("en")
    assert not re.search(r"engine init|import vllm", title.in_lang("zh"))  # the phase is worded too


def test_vllm_not_installed_is_a_chinese_message():
    from envdoctor.smoke.run import vllm_not_installed

    finding = vllm_not_installed("/opt/venv/bin/python")
    assert not _smoke_problems([finding])
    assert finding.fix == ("envdoctor fix --plan",)
    assert "/opt/venv/bin/python" in finding.title.in_lang("zh")


# --- check --from-report's own findings, on every stored report -------------------------------

DATA = os.path.join(os.path.dirname(__file__), "data")
REPORTS = [os.path.join(DATA, d, n) for d in ("reports", os.path.join("corpus", "reports"))
           for n in sorted(os.listdir(os.path.join(DATA, d)))]
REPORT_IDS = {"wsl-multi-gpu.title", "wsl-pin-memory-off.title", "torch-cpu-build-on-gpu-machine.report.title",
              "no-nvidia-gpu.report.macos.title", "report.evidence.printed"}


def _report_findings():
    from envdoctor.report.collect_env import ReportError, check_report

    for report_path in REPORTS:
        try:
            report, _ = check_report(report_path)
        except ReportError:
            continue  # not a collect_env report: tests/report says so
        yield from report.findings


def test_report_findings_are_chinese_messages():
    seen, problems = set(), []
    for f in _report_findings():
        printed = [e for e in f.evidence if isinstance(e, Msg) and e.id == "report.evidence.printed"]
        seen.update(e.id for e in printed)
        problems += [p for e in printed for p in _untranslated(e, f"{f.code}.evidence")]
        if not (isinstance(f.title, Msg) and f.title.id in REPORT_IDS):
            continue  # check's own rules: tests/test_messages.py
        seen.add(f.title.id)
        for kind, text in [("title", f.title), ("why", f.why)] + [("note", n) for n in f.notes]:
            problems += _untranslated(text, f"{f.code}.{kind}")
            problems += [(m.id, _bare(m)) for m in _messages(text) if ENGLISH_RUN.search(_bare(m))]
        assert f.fix == () or "nvidia-smi" in f.fix  # commands are not messages
    assert seen == REPORT_IDS  # every converted text fires on a stored report
    assert not problems, problems
