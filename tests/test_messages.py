"""The message catalog (envdoctor.messages): every English message has a Chinese one that fills the
same placeholders; the fixture machines, the plan and the seed log render fully in Chinese with
every command intact; wide characters never widen a line past the terminal; --lang, ENVDOCTOR_LANG
and the locale choose the language; JSON keeps its English keys and adds `localized`."""
from __future__ import annotations

import contextlib
import io
import json
import os
import re

import pytest

from envdoctor.compat.tables import Matrices
from envdoctor.messages import Msg, choose, normalize, placeholders, set_language, template
from envdoctor.messages.en import EN
from envdoctor.messages.zh_CN import ZH

from .conftest import machine_dir

MACHINES = sorted(os.listdir(os.path.join(os.path.dirname(__file__), "fixtures", "machines")))
SEED_LOG = os.path.join(os.path.dirname(__file__), "data", "seed", "docker-build.log")
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    set_language("en")


# --- the catalog ---------------------------------------------------------------------------

def test_every_english_message_has_a_chinese_one_with_the_same_placeholders():
    missing = sorted(set(EN) - set(ZH))
    assert not missing, f"no zh-CN translation for {missing}"
    assert not sorted(set(ZH) - set(EN)), "a Chinese message whose id English does not have"
    wrong = {i: (placeholders(EN[i]), placeholders(ZH[i])) for i in EN if placeholders(EN[i]) != placeholders(ZH[i])}
    assert not wrong, f"placeholders differ (en, zh): {wrong}"


def test_a_dropped_or_added_placeholder_is_caught():
    assert placeholders("vllm {vllm} needs compute capability >= {cc}") == ("cc", "vllm")
    assert placeholders("vllm {vllm} 要求算力") != placeholders("vllm {vllm} needs {cc}")
    assert placeholders("{a} {b} {extra}") != placeholders("{a} {b}")


def test_chinese_messages_are_chinese():
    """A translation left in English would pass the placeholder test: each Chinese text that has
    words of its own says them in Chinese (a pure label such as "WSL" or a separator aside)."""
    english_words = {i for i, text in ZH.items()
                     if re.search(r"[A-Za-z]{3,}", re.sub(r"\{[a-z_]+\}|`[^`]*`|\"[^\"]*\"", "", text))
                     and not CJK.search(text)}
    allowed = {"explain.class.wsl", "explain.class.docker", "evidence.vllm-problem", "vllm-known-issue.title",
               "low-ram.evidence.wslconfig", "plan.target", "plan.pip.check", "explain.download.other",
               "probe.exited", "plan.summary", "stack.known",
               "explain.kind.pip", "explain.kind.vllm", "explain.kind.wsl"}  # names of tools
    assert english_words <= allowed, sorted(english_words - allowed)


def test_signature_translations_are_data_and_fill_the_same_fields():
    from envdoctor.explain.signatures import FIELD, TABLE_ZH, load

    rows = {r.id: r for r in load()}
    zh = Matrices().load(TABLE_ZH)
    missing = sorted(i for i, r in rows.items() if r.role != "marker" and i not in {t.id for t in zh})
    assert not missing, f"log_signatures_zh.csv has no Chinese for {missing}"  # markers make no finding
    for t in zh:
        row = rows.get(t.id)
        assert row is not None, f"log_signatures_zh.csv: {t.id} is not a signature"
        for column in ("title", "why"):
            assert set(FIELD.findall(getattr(t, column))) == set(FIELD.findall(getattr(row, column))), (t.id, column)
        assert len(t.notes) == len(row.notes), (t.id, "notes")
        for en, cn in zip(row.notes, t.notes):
            assert set(FIELD.findall(en)) == set(FIELD.findall(cn)), (t.id, "notes")


def test_every_known_issue_is_translated():
    from envdoctor.compat.known import TABLE_ZH

    m = Matrices()
    zh = {(str(__import__("packaging.specifiers").specifiers.SpecifierSet(r.vllm)), r.kind) for r in m.load(TABLE_ZH)}
    assert {(str(k.vllm), k.kind) for k in m.table("vllm_known")} <= zh


def test_a_message_pickles_as_its_id_and_parameters():
    import pickle

    msg = Msg("wsl1-no-gpu.title", distro="Ubuntu")
    back = pickle.loads(pickle.dumps(msg))
    assert isinstance(back, Msg) and back.id == msg.id and back == "Ubuntu runs under WSL 1, which has no CUDA"
    assert back.in_lang("zh") == "Ubuntu 运行在 WSL 1 下，WSL 1 没有 CUDA"


# --- every fixture machine in Chinese ------------------------------------------------------

def _untranslated(text, where):
    """Why `text` would not be worded in Chinese: not a Msg, or a Msg (or a clause in it) whose id has
    no Chinese entry."""
    if not isinstance(text, Msg):
        return [f"{where}: {text[:80]!r} is a sentence, not a message"]
    out = []
    try:
        zh = template(text.id, "zh")
    except KeyError:
        zh = None
    if zh is None or (
        zh == template(text.id, "en") and CJK.search(zh) is None and re.search(r"[a-z]{4,} [a-z]{3,}", zh)
    ):
        out.append(f"{where}: {text.id} has no Chinese text")
    for name, value in text.params:
        values = value if isinstance(value, (list, tuple)) else (value,)
        out += [p for v in values if isinstance(v, Msg) for p in _untranslated(v, f"{where}.{name}")]
    return out


def _report(name):
    from envdoctor.check.run import run_check
    from envdoctor.machine.replay import replay_context

    return run_check(replay_context(machine_dir(name)), Matrices())


# Evidence lines that are the machine's own words (a tool's output, a path and a version), quoted.
MACHINE_WORDS = re.compile(r"^(torch \S+ \(CUDA [\d.]+\): |nvcc: /|torch \S+: CUDA [\d.]+$|vllm \S+ Requires-Dist: "
                           r"|  pid \d+ |\n?NVIDIA )")


@pytest.mark.parametrize("name", MACHINES)
def test_check_in_chinese_has_no_english_sentence_on_any_fixture_machine(name):
    report = _report(name)
    problems = []
    for f in report.findings:
        for kind, texts in (("title", [f.title]), ("why", [f.why] if f.why else []), ("notes", f.notes),
                            ("evidence", [e for e in f.evidence if not MACHINE_WORDS.match(e)])):
            for text in texts:
                problems += _untranslated(text, f"{f.code}.{kind}")
    for area, result in report.facts.results.items():
        if result.error:
            problems += _untranslated(result.error, f"probe {area}")
    assert not problems, problems


def _check_text(name, lang, width=100):
    from envdoctor.check.run import exit_code
    from envdoctor.redact import Redactor
    from envdoctor.render.human import render

    set_language(lang)
    report = _report(name)
    out = io.StringIO()
    os.environ["COLUMNS"] = str(width)
    try:
        render(report, exit_code(report), Redactor({}), color=True, file=out)
    finally:
        del os.environ["COLUMNS"]
    return report, [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in out.getvalue().splitlines()]


@pytest.mark.parametrize("name", MACHINES)
def test_check_in_chinese_keeps_every_command_of_the_english_output(name):
    report, english = _check_text(name, "en")
    _, chinese = _check_text(name, "zh")
    commands = [line.strip() for line in english if line.strip().startswith("$ ")]
    assert commands == [f"$ {c}" for f in report.findings for c in f.fix]
    assert commands == [line.strip() for line in chinese if line.strip().startswith("$ ")]
    assert [f.code for f in report.findings] == re.findall(r"\[([a-z0-9-]+)\]$", "\n".join(chinese), re.M)
    if report.findings:
        assert all(CJK.search(line) for line in chinese if line.startswith(("错误", "警告", "提示")))


def _cells(text):
    from rich.cells import cell_len

    return cell_len(text)


def _too_wide(lines, width):
    """Lines wider than the terminal that are not a command (never wrapped, so a copy is one line)
    and not a single word too long for any line (a path, a URL: not broken, as in English)."""
    out = []
    for line in lines:
        if _cells(line) <= width or line.lstrip().startswith("$ "):
            continue
        words = re.split(r"\s+|(?<=[\u3000-\u9fff\uff00-\uffef])|(?=[\u3000-\u9fff\uff00-\uffef])", line.strip())
        if max(_cells(w) for w in words if w) > width // 2:
            continue
        out.append(line)
    return out


@pytest.mark.parametrize("width", [60, 80])
@pytest.mark.parametrize("name", MACHINES)
def test_check_in_chinese_fits_the_terminal(name, width):
    _, lines = _check_text(name, "zh", width)
    findings = [line for line in lines if not line.startswith("[")]  # area lines are one line each, as in English
    assert not _too_wide(findings, width)


def _plan_text(name, lang, width):
    from envdoctor.fix.resolve import Wishes
    from envdoctor.fix.run import gather, plan_for
    from envdoctor.redact import Redactor
    from envdoctor.render.plan_text import render

    set_language(lang)
    inputs = gather(None, machine_dir(name), None, 8.0)
    resolution, plan = plan_for(inputs, Wishes(None, None, None, None, None, None), Matrices(), None, None, None,
                                None, None)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        render(resolution, plan, Redactor({}), color=False, width=width)
    return resolution, plan, out.getvalue().splitlines()


@pytest.mark.parametrize("width", [60, 80])
@pytest.mark.parametrize("name", ["wsl2-rtx3050-laptop", "cpu-only", "driver-470-torch-cu121", "windows-native"])
def test_fix_plan_in_chinese_keeps_commands_and_fits(name, width):
    import shlex

    resolution, plan, lines = _plan_text(name, "zh", width)
    _, _, english = _plan_text(name, "en", width)
    text = "\n".join(lines)
    if plan is not None:
        for step in plan.steps:
            for argv in step.commands:
                assert f"$ {shlex.join(argv)}" in text
    assert [line.strip() for line in english if line.strip().startswith("$ ")] == \
        [line.strip() for line in lines if line.strip().startswith("$ ")]
    assert not _too_wide(lines, width)
    problems = []
    for s in plan.steps if plan else ():
        problems += _untranslated(s.title, s.id) + _untranslated(s.why, s.id)
        problems += [p for c in s.verify for p in _untranslated(c.what, s.id)]
    for r in resolution.rejected:
        problems += [p for b in r.blockers for p in _untranslated(b.text, r.vllm) + _untranslated(b.change, r.vllm)]
    for n in resolution.notes + (resolution.stack.notes if resolution.stack else ()) + resolution.changes:
        problems += _untranslated(n, "note")
    assert not problems, problems
    english_prose = [
        line for line in english if line.strip() and not line.strip().startswith(("$ ", "✗ vllm", "✓ vllm"))
    ]
    assert len(english_prose) > 3 and all(CJK.search(line) for line in lines[:1])


def _explain_text(lang, width):
    from envdoctor.explain import explain_log
    from envdoctor.redact import Redactor
    from envdoctor.render.explain_human import render

    set_language(lang)
    e = explain_log(SEED_LOG, matrices=Matrices())
    out = io.StringIO()
    os.environ["COLUMNS"] = str(width)
    try:
        render(e, 2, Redactor({}), color=True, file=out)
    finally:
        del os.environ["COLUMNS"]
    return e, [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in out.getvalue().splitlines()]


@pytest.mark.parametrize("width", [60, 80])
def test_explain_of_the_seed_log_in_chinese(width):
    e, lines = _explain_text("zh", width)
    _, english = _explain_text("en", width)
    problems = []
    for d in list(e.diagnoses) + list(e.surfaced):
        f = d.finding
        for kind, texts in (("title", [f.title]), ("why", [f.why] if f.why else []), ("notes", f.notes),
                            ("evidence", f.evidence)):
            problems += [p for text in texts for p in _untranslated(text, f"{f.code}.{kind}")]
    assert not problems, problems
    assert [line.strip() for line in english if line.strip().startswith("$ ")] == \
        [line.strip() for line in lines if line.strip().startswith("$ ")]
    log_lines = re.compile(r"^\s+>?\s*\d+ \| |^    第 \d+ 行：")  # the log's own lines, quoted as they are
    assert not _too_wide([line for line in lines if not log_lines.match(line)], width)
    assert lines[0].startswith("envdoctor explain：") and "根本原因" in "\n".join(lines)


# --- choosing the language -----------------------------------------------------------------

def test_lang_option_then_envdoctor_lang_then_the_locale():
    assert choose("en", {"ENVDOCTOR_LANG": "zh", "LANG": "zh_CN.UTF-8"}) == "en"
    assert choose(None, {"ENVDOCTOR_LANG": "zh", "LANG": "en_US.UTF-8"}) == "zh"
    assert choose(None, {"ENVDOCTOR_LANG": "en", "LANG": "zh_CN.UTF-8"}) == "en"
    assert choose(None, {"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}) == "zh"
    assert choose(None, {"LC_ALL": "C", "LC_MESSAGES": "zh_CN.UTF-8"}) == "en"  # the first one set decides
    assert choose(None, {"LC_MESSAGES": "zh_TW.UTF-8"}) == "zh"
    assert choose(None, {"LANG": "zh_CN.GB18030"}) == "zh"
    assert choose(None, {"LANG": "de_DE.UTF-8"}) == "en" and choose(None, {}) == "en"
    assert normalize("zh-CN") == normalize("ZH_cn") == "zh" and normalize("fr") == "en"


def _cli(args, env=None):
    from click.testing import CliRunner

    from envdoctor.cli import cli

    env = dict({"NO_COLOR": "1", "COLUMNS": "80", "LANG": "C", "LC_ALL": "", "LC_MESSAGES": "",
                "ENVDOCTOR_LANG": ""}, **(env or {}))
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def test_every_command_takes_lang():
    from envdoctor.cli import cli

    for name in cli.list_commands(None):
        result = _cli([name, "--help"])
        assert "--lang [zh|en]" in result.output, name
    assert "--lang [zh|en]" in _cli(["matrices", "show", "--help"]).output


def test_cli_language_from_option_env_and_locale():
    machine = machine_dir("wsl1-ubuntu")
    english = _cli(["check", "--replay", machine])
    assert "runs under WSL 1, which has no CUDA" in english.output and not CJK.search(english.output)
    for args, env in ((["--lang", "zh"], {}), ([], {"ENVDOCTOR_LANG": "zh"}), ([], {"LANG": "zh_CN.UTF-8"})):
        result = _cli(["check", "--replay", machine] + args, env)
        assert "运行在 WSL 1 下" in result.output, (args, env)
        assert result.exit_code == english.exit_code
        assert "$ wsl --set-version Ubuntu 2" in result.output
    assert not CJK.search(_cli(["check", "--replay", machine, "--lang", "en"], {"LANG": "zh_CN.UTF-8"}).output)


def test_json_keeps_english_and_adds_localized_only_with_lang():
    machine = machine_dir("wsl2-rtx3050-laptop")
    plain = json.loads(_cli(["check", "--json", "--replay", machine], {"ENVDOCTOR_LANG": "zh"}).output)
    asked = json.loads(_cli(["check", "--json", "--replay", machine, "--lang", "zh"]).output)
    assert "localized" not in json.dumps(plain)
    for f, g in zip(plain["findings"], asked["findings"]):
        assert {k: v for k, v in g.items() if k != "localized"} == f  # codes and English text unchanged
        assert g["localized"]["lang"] == "zh" and CJK.search(g["localized"]["title"])
        assert len(g["localized"]["notes"]) == len(f["notes"]) and len(g["localized"]["evidence"]) == len(f["evidence"])
    plan = json.loads(_cli(["fix", "--plan", "--format", "json", "--replay", machine, "--lang", "zh"]).output)
    assert all(CJK.search(s["localized"]["title"]) for s in plan["steps"]) and plan["localized"]["lang"] == "zh"
    assert plan["steps"][0]["title"] == "Check the NVIDIA driver"
    explained = json.loads(_cli(["explain", "--json", SEED_LOG, "--lang", "zh"]).output)
    assert all(CJK.search(d["localized"]["title"]) for d in explained["diagnoses"])


def test_no_message_id_is_written_twice_in_a_catalog():
    # A dict literal keeps the last of two equal keys without a word: the first text would be lost.
    import ast

    here = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "envdoctor", "messages")
    for name in ("en.py", "zh_CN.py"):
        with open(os.path.join(here, name), encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
                twice = sorted({k for k in keys if keys.count(k) > 1})
                assert not twice, f"{name}: ids written twice: {twice}"
