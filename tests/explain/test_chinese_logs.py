"""`explain` on Chinese text in logs: Windows' own error messages inside Python's exceptions (a
Chinese Windows prints "[WinError 10054] 远程主机强迫关闭了一个现有的连接。"), gcc and git under a
zh_CN locale, and the GBK code page that cmd.exe writes and WSL interop passes on unchanged.

The logs are real: tests/data/corpus/logs/c-*.log, each row of logs-c.csv names its thread. Only
dev-split rows are asserted here; the frozen split is scored by test_corpus.py alone.
"""
from __future__ import annotations

import csv
import os

import pytest

from envdoctor.explain import explain_log
from envdoctor.explain import reader
from envdoctor.explain.scan import Scanner

import corpus_score as cs

INDEX = os.path.join(cs.CORPUS, "logs-c.csv")


def rows():
    with open(INDEX, encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh) if cs.split_of(r["source_url"]) == "dev"]


def lead(e):
    return e.root or (e.surfaced[0] if e.surfaced else (e.diagnoses[0] if e.diagnoses else None))


def path_of(row):
    return os.path.join(cs.CORPUS, "logs", row["file"])


def test_the_chinese_rows_are_chinese_and_enough():
    with open(INDEX, encoding="utf-8", newline="") as fh:
        every = list(csv.DictReader(fh))
    assert len(every) >= 15
    for row in every:
        with open(path_of(row), encoding="utf-8") as fh:
            assert reader.CJK.search(fh.read()), row["file"]


@pytest.mark.parametrize("row", [r for r in rows() if r["confidence"] != "low"], ids=lambda r: r["file"])
def test_dev_rows_get_the_class_the_thread_concluded(row):
    e = explain_log(path_of(row))
    assert e.category == row["class"]


# The dev rows whose Windows message envdoctor names exactly (a signature or a code hint on the
# Chinese text); the other dev rows are scored, not pinned.
NAMED = ("c-weclip-5-winerror-1455.log", "c-bertvits-5-winerror-1455.log", "c-gptsovits-api-1-errno-10048.log",
         "c-diffusers-9778-winerror-10054.log", "c-kirara-238-winerror-10051.log", "c-pytorch-7070-dll-load-failed.log",
         "c-comfyui-3840-winerror-10060.log", "c-pip-9892-proxy-10061.log")


@pytest.mark.parametrize("row", [r for r in rows() if r["file"] in NAMED], ids=lambda r: r["file"])
def test_windows_messages_in_chinese_name_the_cause(row):
    assert lead(explain_log(path_of(row))).finding.code == row["code"]


def test_paging_file_is_memory_not_a_missing_dll():
    e = explain_log(os.path.join(cs.CORPUS, "logs", "c-weclip-5-winerror-1455.log"))
    assert e.category == "resources" and e.root.confidence == "signature"
    assert "页面文件太小" in e.root.line.text
    assert any("num_workers" in n for n in e.root.finding.notes)


@pytest.mark.parametrize("row", rows(), ids=lambda r: r["file"])
def test_a_log_saved_in_the_chinese_code_page_reads_like_utf8(row, tmp_path):
    """cmd.exe and PowerShell 5 on a Chinese Windows write GBK (code page 936); so does what
    WSL interop hands back from a Windows program. The same log in GBK gets the same answer."""
    with open(path_of(row), encoding="utf-8") as fh:
        text = fh.read()
    gbk = tmp_path / row["file"]
    gbk.write_bytes(text.encode("gb18030"))
    plain, again = explain_log(path_of(row)), explain_log(str(gbk))
    assert "decoded from GB18030" in again.notes
    assert (again.category, lead(again).finding.code) == (plain.category, lead(plain).finding.code)
    assert lead(again).line.text == lead(plain).line.text


def test_one_gbk_line_inside_a_utf8_log(tmp_path):
    """A Linux log with one line from a Windows program (cmd.exe under WSL): that line alone is GBK."""
    with open(os.path.join(cs.CORPUS, "logs", "c-weclip-5-winerror-1455.log"), encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    mixed = tmp_path / "mixed.log"
    mixed.write_bytes("\n".join(lines[:-1]).encode("utf-8") + b"\n" + lines[-1].encode("gbk") + b"\n")
    e = explain_log(str(mixed))
    assert e.root.finding.code == "windows-paging-file-too-small"
    assert e.root.line.text == lines[-1]


def test_utf8_chinese_stays_utf8_when_one_line_is_gbk(tmp_path):
    """UTF-8 Chinese and one GBK line from a Windows program: each is read in its own encoding."""
    corpus = os.path.join(cs.CORPUS, "logs")
    with open(os.path.join(corpus, "c-weclip-5-winerror-1455.log"), encoding="utf-8") as fh:
        utf8 = fh.read()
    with open(os.path.join(corpus, "c-diffusers-9778-winerror-10054.log"), encoding="utf-8") as fh:
        reset = next(line for line in fh if "10054" in line).rstrip("\n")
    mixed = tmp_path / "mixed.log"
    mixed.write_bytes(reset.encode("gbk") + b"\n" + utf8.encode("utf-8"))
    e = explain_log(str(mixed))
    assert "decoded from GB18030" not in e.notes
    assert e.root.finding.code == "windows-paging-file-too-small" and "页面文件太小" in e.root.line.text
    assert reader.clean_line(reset.encode("gbk")) == reset


def test_junk_is_not_read_as_chinese():
    assert "\ufffd" in reader.clean_line(b"\xff\xfe\xc3(")
    assert not reader._gb18030(bytes(range(256)) * 4)
    assert not reader._gb18030("Downloading torch 2.3.1 ━━━━ 658.2/797.2 MB".encode("utf-8"))
    assert reader.clean_line("由于目标计算机积极拒绝，无法连接。".encode("gbk")) == "由于目标计算机积极拒绝，无法连接。"


def test_a_line_with_only_chinese_error_words_is_kept_as_evidence():
    scanner = Scanner([])
    scanner.feed("INFO starting\n系统找不到指定的路径。\n一切正常\n".encode("utf-8"))
    result = scanner.result()
    assert [text for _, text in result.error_lines] == ["系统找不到指定的路径。"]
