"""The docs say what envdoctor does today.

- Every relative link in docs/ (and README.md) leads to a file that exists.
- Every block in docs/ that a `<!-- doc-test ... -->` comment introduces is run as shown (plus the
  comment's arguments: a fixture machine to replay, a saved report): the exit code, every finding
  code and every command the block shows are what envdoctor prints.
- Every other `envdoctor ...` command line in a code block parses: its command and options exist.
- docs/zh/ has index, wsl2 and network, written in Chinese, with the English pages' code blocks
  exactly (commands, versions, paths and codes are never translated).
- No page names the package index's own hosts (read from pip at run time).
"""
from __future__ import annotations

import os
import re
import shlex
import sys
from typing import Dict, List, Tuple

import click
import pytest

from envdoctor.cli import cli, main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
ZH_PAGES = ("index.md", "wsl2.md", "network.md")
TESTED_PAGES = ("index.md", "ci.md", "wsl2.md", "network.md")

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
FENCE_INFO = re.compile(r"^```([^\n]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
DOC_TEST = re.compile(r"<!-- doc-test (.*?) -->\s*\n```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
ATTR = re.compile(r'(\w+)=(?:"([^"]*)"|(\S+))')
CODE_TAG = re.compile(r"\[([a-z][a-z0-9]*(?:-[a-z0-9]+)+)\]")
CI_LINE = re.compile(r"^(?:error|warn|info)\s+([a-z][a-z0-9]*(?:-[a-z0-9]+)+):", re.MULTILINE)
EXIT = re.compile(r"exit(?: code)? (\d+)\)?\s*$", re.MULTILINE)
CJK = re.compile(r"[\u4e00-\u9fff]")
# A command at the start of a shell line or a CI step (`run: `, `- `), envdoctor by name or path.
COMMAND = re.compile(r"^(?:run:\s+|-\s+)?(?:\S*/)?envdoctor\s+([a-z].*)$")


def pages(*, zh: bool = True) -> List[str]:
    out = []
    for base, _dirs, files in os.walk(DOCS):
        if not zh and os.path.relpath(base, DOCS).startswith("zh"):
            continue
        out += [os.path.join(base, f) for f in sorted(files) if f.endswith(".md")]
    return sorted(out)


def read(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def code_blocks(path: str) -> List[str]:
    return FENCE.findall(read(path))


# --- links ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", pages() + [os.path.join(ROOT, "README.md")], ids=lambda p: os.path.relpath(p, ROOT))
def test_relative_links_resolve(path):
    text = FENCE.sub("", read(path))  # a code block's brackets are not links
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        local = target.split("#", 1)[0]
        if not os.path.exists(os.path.normpath(os.path.join(os.path.dirname(path), local))):
            broken.append(target)
    assert broken == [], f"{os.path.relpath(path, ROOT)} links to missing files: {broken}"


def test_link_check_finds_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("See [the plan](fix.md) and [nothing](no-such-page.md).\n", encoding="utf-8")
    (tmp_path / "fix.md").write_text("x", encoding="utf-8")
    with pytest.raises(AssertionError, match="no-such-page.md"):
        test_relative_links_resolve(str(page))


# --- blocks run as shown -------------------------------------------------------------

def doc_tests() -> List[Tuple[str, Dict[str, str], str]]:
    out = []
    for name in TESTED_PAGES:
        path = os.path.join(DOCS, name)
        if os.path.exists(path):
            for attrs, block in DOC_TEST.findall(read(path)):
                parsed = {k: (quoted or bare) for k, quoted, bare in ATTR.findall(attrs)}
                out.append((name, parsed, block))
    return out


def shown(block: str) -> Tuple[List[str], str]:
    """The command a block shows (its first line, `$ envdoctor ...`) and what follows it."""
    first, _, rest = block.partition("\n")
    assert first.startswith("$ envdoctor "), f"a doc-test block starts with `$ envdoctor`, not {first!r}"
    return shlex.split(first[len("$ envdoctor "):]), rest


def facts_of(text: str) -> Tuple[set, set, List[str]]:
    """Finding codes, the commands shown (`$ ...` lines) and exit codes a text states."""
    codes = set(CODE_TAG.findall(text)) | set(CI_LINE.findall(text))
    commands = {line.strip() for line in text.splitlines() if line.strip().startswith("$ ")}
    return codes, commands, EXIT.findall(text)


def run_as_shown(args: List[str], attrs: Dict[str, str], monkeypatch, capsys) -> Tuple[int, str]:
    python = sys.executable  # an interpreter without vLLM: what run-smoke's "not installed" example needs
    for pair in filter(None, attrs.get("sub", "").split(";")):
        old, new = pair.split("=>")
        args = [a.replace(old, new.replace("{python}", python)) for a in args]
    args = args + shlex.split(attrs.get("add", ""))
    for pair in filter(None, attrs.get("env", "").split(";")):
        name, value = pair.split("=", 1)
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit) as exited:
        main(args)
    return exited.value.code, capsys.readouterr().out


def test_every_console_block_that_runs_envdoctor_is_run():
    """A `$ envdoctor` console block shows output: it must be one that test_a_block_runs_as_shown runs."""
    for name in TESTED_PAGES:
        text = read(os.path.join(DOCS, name))
        for found in re.finditer(r"^```console\n\$ envdoctor ", text, re.MULTILINE):
            before = text[:found.start()].rstrip("\n").rsplit("\n", 1)[-1]
            assert before.startswith("<!-- doc-test "), f"{name}: a console block at offset {found.start()} is not run"


def test_the_walk_through_is_tested():
    names = [name for name, _, _ in doc_tests()]
    assert names.count("index.md") >= 4 and "ci.md" in names


@pytest.mark.parametrize("page, attrs, block", doc_tests(), ids=lambda v: v if isinstance(v, str) and len(v) < 20 else "")
def test_a_block_runs_as_shown(page, attrs, block, monkeypatch, capsys):
    args, expected = shown(block)
    code, out = run_as_shown(args, attrs, monkeypatch, capsys)
    assert code == int(attrs["exit"]), f"{page}: `envdoctor {' '.join(args)}` exits {code}, the page says {attrs['exit']}"
    want_codes, want_commands, want_exits = facts_of(expected)
    got_codes, got_commands, _ = facts_of(out)
    assert want_codes == got_codes, f"{page}: finding codes shown {sorted(want_codes)}, printed {sorted(got_codes)}"
    assert want_commands <= got_commands, f"{page}: commands shown but not printed: {sorted(want_commands - got_commands)}"
    assert all(int(e) == code for e in want_exits), f"{page}: the block says exit {want_exits}, the run {code}"


def test_a_block_that_lies_fails(monkeypatch, capsys):
    """The check above can fail: a block that claims a finding the machine does not raise."""
    block = "$ envdoctor check\n[✓] Platform\nERROR something  [no-nvidia-gpu]\n1 error(s) · exit code 2\n"
    args, expected = shown(block)
    code, out = run_as_shown(args, {"add": "--replay tests/fixtures/machines/wsl2-rtx3050-laptop"}, monkeypatch, capsys)
    assert code == 2 and facts_of(expected)[0] != facts_of(out)[0]


# --- every other command line parses ------------------------------------------------

def command_lines() -> List[Tuple[str, str]]:
    """`envdoctor ...` lines of the tested pages' code blocks: in a console block the `$ ` lines
    (the rest is output), in any other block every line."""
    out = []
    for name in TESTED_PAGES:
        path = os.path.join(DOCS, name)
        for info, block in FENCE_INFO.findall(read(path)) if os.path.exists(path) else ():
            for line in block.splitlines():
                text = line.strip()
                if info.strip() == "console":
                    if not text.startswith("$ "):
                        continue
                    text = text[2:]
                text = re.sub(r"^(?:[A-Z_]+=\S+ )+", "", text)  # VAR=value envdoctor ...
                for part in re.split(r"\s*(?:&&|\|\||;|\|)\s*", text):
                    found = COMMAND.search(part)  # also `run: /tmp/envdoctor/bin/envdoctor ...` in YAML
                    if found:
                        line = re.split(r"\s+\d?>", found.group(1))[0]  # a redirection is the shell's
                        out.append((name, "envdoctor " + re.split(r"\s+#", line)[0].strip()))
    return out


def parses(line: str) -> None:
    """Parse a command line as click would run it (the command and every option and value),
    without running it."""
    args = shlex.split(line)[1:]
    command = cli.get_command(click.Context(cli), args[0])
    if command is None:
        raise click.exceptions.UsageError(f"no such command {args[0]!r}")
    with command.make_context(args[0], args[1:]):
        pass


def test_the_docs_quote_commands():
    assert len(command_lines()) >= 10


@pytest.mark.parametrize("page, line", command_lines(), ids=lambda v: v[:60] if isinstance(v, str) else "")
def test_a_quoted_command_parses(page, line):
    try:
        parses(line)
    except click.exceptions.UsageError as exc:
        pytest.fail(f"{page}: `{line}` does not parse: {exc.format_message()}")


def test_an_unknown_option_does_not_parse():
    with pytest.raises(click.exceptions.UsageError):
        parses("envdoctor check --no-such-option")
    with pytest.raises(click.exceptions.UsageError):
        parses("envdoctor fix --format yaml")


# --- the Chinese pages -----------------------------------------------------------------

@pytest.mark.parametrize("name", ZH_PAGES)
def test_zh_page_keeps_the_english_code_blocks(name):
    en, zh = os.path.join(DOCS, name), os.path.join(DOCS, "zh", name)
    assert os.path.exists(zh), f"docs/zh/{name} is missing"
    assert code_blocks(zh) == code_blocks(en), f"docs/zh/{name}: code blocks differ from docs/{name}'s"
    prose = FENCE.sub("", read(zh))
    assert len(CJK.findall(prose)) > len(re.findall(r"[A-Za-z]+", prose)) / 2, f"docs/zh/{name} is not Chinese"


def test_zh_pages_use_the_community_terms():
    text = "".join(read(os.path.join(DOCS, "zh", n)) for n in ZH_PAGES)
    for term in ("显存", "驱动", "算力", "镜像源", "代理"):
        assert term in text, term


# --- no index host names -------------------------------------------------------------------

def test_no_page_names_the_package_index_hosts():
    from pip._internal.models.index import PyPI

    hosts = {PyPI.netloc, PyPI.file_storage_domain, PyPI.netloc.replace("pypi.", "upload.")}
    for path in pages() + [os.path.join(ROOT, "README.md")]:
        text = read(path).lower()
        assert not [h for h in hosts if h in text], os.path.relpath(path, ROOT)
