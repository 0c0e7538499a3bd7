"""Secrets never reach an output: proxy passwords, tokens, API keys."""
from __future__ import annotations

import json
import os

import pytest

from envdoctor.cli import main
from envdoctor.redact import Redactor

SECRETS = {
    "HF_TOKEN": "hf_abcdefghijklmnopqrstuvwxyz123456",
    "OPENAI_API_KEY": "sk-proj-0123456789abcdefghijklmnop",
    "HTTPS_PROXY": "http://alice:s3cr3tPass@proxy.corp:3128",
    "MY_SERVICE_PASSWORD": "hunter2hunter2",
}


@pytest.mark.parametrize("text, leaked", [
    ("pip install --index-url https://bob:pa55word@mirror.example/simple x", "pa55word"),
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGciOiJIUzI1NiJ9"),
    ("HF_TOKEN=hf_zzzzzzzzzzzzzzzzzzzzzzzzzz ./run", "hf_zzzzzzzzzzzzzzzzzzzzzzzzzz"),
    ("export AWS_SECRET_ACCESS_KEY='abc/def+ghi'", "abc/def+ghi"),
    ("token ghp_0123456789abcdefghij0123456789", "ghp_0123456789abcdefghij0123456789"),
])
def test_secret_shapes_are_masked_anywhere(text, leaked):
    out = Redactor({}).text(text)
    assert leaked not in out and "***" in out


def test_values_of_secret_env_vars_are_masked_wherever_they_appear():
    r = Redactor(SECRETS)
    text = "failed with s3cr3tPass and hunter2hunter2 and hf_abcdefghijklmnopqrstuvwxyz123456"
    out = r.text(text)
    for value in ("s3cr3tPass", "hunter2hunter2", "hf_abcdefghijklmnopqrstuvwxyz123456"):
        assert value not in out


def test_redacts_nested_data_but_keeps_structure():
    data = {"a": ["http://u:pw12345@h/x", {"b": "Bearer abcdefghijkl"}], "n": 3}
    out = Redactor({}).data(data)
    assert out["n"] == 3 and "pw12345" not in json.dumps(out) and "abcdefghijkl" not in json.dumps(out)


def test_ordinary_text_is_untouched():
    text = "torch 2.3.1+cu121 needs driver >= 530.30.02; see https://download.pytorch.org/whl/cu121"
    assert Redactor(SECRETS).text(text) == text


def _secret_machine(tmp_path):
    """A fixture machine whose tools print secrets (a proxy URL in an error, a token)."""
    import shutil

    from .conftest import machine_dir

    d = tmp_path / "m"
    shutil.copytree(machine_dir("wsl2-loader-path-broken"), d, symlinks=True)
    machine = json.load(open(d / "machine.json"))
    machine["env"].update(SECRETS)
    json.dump(machine, open(d / "machine.json", "w"))
    commands = json.load(open(d / "commands.json"))
    for c in commands:
        if "<torch_child.py>" in c["argv"]:
            c["stdout_json"]["error"] = ("RuntimeError: download via http://alice:s3cr3tPass@proxy.corp:3128 failed; "
                                         "token hf_abcdefghijklmnopqrstuvwxyz123456")
    json.dump(commands, open(d / "commands.json", "w"))
    return d


@pytest.mark.parametrize("fmt", [["--json"], ["--ci"], ["-v"]])
def test_no_secret_survives_any_check_output(capsys, tmp_path, fmt):
    d = _secret_machine(tmp_path)
    with pytest.raises(SystemExit):
        main(["check", "--replay", str(d)] + fmt)
    out = capsys.readouterr().out
    assert "torch-cuda-init-failed" in out or "torch could not use CUDA" in out
    for value in ("s3cr3tPass", "hf_abcdefghijklmnopqrstuvwxyz123456", "sk-proj-0123456789abcdefghijklmnop",
                  "hunter2hunter2"):
        assert value not in out


def test_record_redacts_what_it_saves(tmp_path, monkeypatch, capsys):
    import sys
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PIP_CACHE_DIR", "https://carol:t0ps3cret@cache.example/pip")
    rec = tmp_path / "rec"
    with pytest.raises(SystemExit):
        main(["check", "--json", "--quick", "--only", "resources", "--python", sys.executable, "--record", str(rec)])
    saved = (rec / "machine.json").read_text()
    assert "PIP_CACHE_DIR" in saved and "t0ps3cret" not in saved


@pytest.mark.parametrize("text", [
    "tokenizer='/root/model', skip_tokenizer_init=True, max_tokens=32",
    "TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1",
    "Maximum concurrency for 2,048 tokens per request: 1254.42x",
    # a tokenizer's special token in transformers' error, verbatim from huggingface/trl#466
    "ValueError: Asking to pad but the tokenizer does not have a padding token. Please select a token to use as "
    "`pad_token` `(tokenizer.pad_token = tokenizer.eos_token e.g.)` or add a new pad token via "
    "`tokenizer.add_special_tokens({'pad_token': '[PAD]'})`.",
])
def test_words_that_merely_contain_token_are_not_secrets(text):
    assert Redactor({"TOKENIZERS_PARALLELISM": "falsefalse"}).text(text) == text



def test_no_secret_survives_run_smoke_logs_json_or_text(fake_env, tmp_path):
    """The smoke child's output goes to a log file, into the JSON and onto the screen: all masked."""
    import dataclasses
    import io

    from rich.console import Console

    from envdoctor.render import smoke_text
    from envdoctor.smoke.run import SmokeOptions, run_smoke

    from .test_smoke import ctx_for

    ctx = ctx_for(fake_env, "leaky", cache=str(tmp_path / "cache"))
    ctx = dataclasses.replace(ctx, env=dict(ctx.env, **SECRETS))
    result = run_smoke(ctx, SmokeOptions(dummy=True, log_dir=str(tmp_path), max_tokens=4))
    assert result.ok
    redactor = Redactor(ctx.env)
    screen = io.StringIO()
    smoke_text.render(result, 0, redactor, Console(file=screen, no_color=True, width=200))
    outputs = [open(result.log_path).read(), json.dumps(smoke_text.document(result, 0, redactor)), screen.getvalue()]
    assert "using token" in outputs[0]  # the leaky line was logged, masked
    for text in outputs:
        for value in ("s3cr3tPass", "hf_abcdefghijklmnopqrstuvwxyz123456"):
            assert value not in text


@pytest.mark.parametrize("fmt", ["sh", "json", "md", "dockerfile", "human"])
def test_no_secret_survives_a_plan(capsys, fmt):
    from .conftest import machine_dir

    facts = os.path.join(machine_dir("wsl2-rtx3050-laptop"), "report.json")
    with pytest.raises(SystemExit):
        main(["fix", "--plan", "--format", fmt, "--from-json", facts, "--vllm", "0.5.3",
              "--index-url", "https://alice:s3cr3tPass@mirror.example/simple"])
    out = capsys.readouterr().out
    assert "mirror.example" in out and "s3cr3tPass" not in out
