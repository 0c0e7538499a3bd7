"""Credential shapes found by the reliability audit (D12-D18) and words that are no secret
(N15). Each secret is a marker that must not survive; each ordinary text must come out as
it went in."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from envdoctor.redact import Redactor

# The audit's log lines (D16-D18), each with the marker that leaked.
LOG_LINES = [
    ("remote: Invalid credentials github_pat_11ABCDEFG0S3cretPat_abcdefghijklmnop", "S3cretPat"),
    ("export GITHUB_PAT=github_pat_11ABCDEFG0S3cretPat2_abcdefghijk", "S3cretPat2"),
    ("botocore: credentials AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiS3cretAws rejected", "S3cretAws"),
    ("botocore: credentials AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiS3cretAws rejected", "AKIAIOSFODNN7"),
    ("GET https://acct.blob.core.windows.net/c/w.whl?sv=2022-11-02&sig=S3cretSas%3D", "S3cretSas"),
    ("machine index.example.org login bob password S3cretNetrc", "S3cretNetrc"),
    ("curl -H 'X-API-Key: S3cretXKey' https://api.example.org", "S3cretXKey"),
    ("Cookie: session=S3cretCookie", "S3cretCookie"),
    ("-----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjEAAAAABG5vbmUS3cretKey", "S3cretKey"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAS3cretRsa\n-----END RSA PRIVATE KEY-----", "S3cretRsa"),
    ("docker login -u bob -p S3cretDocker registry.example.org", "S3cretDocker"),
    ("403 Invalid or non-existent authentication information. token pypi-AgEIcHlwaS5vcmcS3cretPypi", "S3cretPypi"),
    ("posting to https://hooks.slack.com/services/T000/B000/S3cretSlack", "S3cretSlack"),
    ("channels:\n  - http://127.0.0.1:9/t/tk-S3cretConda/private", "S3cretConda"),
    ("Looking in indexes: http://u:abc@S3cretTail@127.0.0.1:9/simple/", "S3cretTail"),
    ("proxy_env: proxyuser:S3cretPw@127.0.0.1:3128", "S3cretPw"),
    ("password: hunter2S3cret", "hunter2S3cret"),
    ("  token: abcS3cretYaml", "abcS3cretYaml"),
]


@pytest.mark.parametrize("text, marker", LOG_LINES)
def test_credential_shapes_are_masked(text, marker):
    out = Redactor({}).text(text)
    assert marker not in out and "***" in out


@pytest.mark.parametrize("text", [
    "cannot run ./secret: Permission denied",  # N15
    "cannot run ./passwd: Permission denied",
    "cannot run secret: not found",
    "cannot run /home/u/token: No such file or directory",
    "commit 0123456789abcdef0123456789abcdef01234567 of aws-cli",
    "see https://example.com/a@b and write to me@example.org",
    "pip install git+https://github.com/vllm-project/vllm@v0.5.3",
    "tokenizer: Qwen/Qwen2-1.5B-Instruct, max_tokens: 32",
])
def test_ordinary_words_are_kept(text):
    assert Redactor({}).text(text) == text


def test_passwords_learned_from_the_environment_include_scheme_less_and_at_signs():
    env = {"HTTPS_PROXY": "proxyuser:S3cretPw@127.0.0.1:9",
           "PIP_INDEX_URL": "http://u:abc@S3cretTail@127.0.0.1:9/simple/"}
    out = Redactor(env).text("proxy said: bad password S3cretPw; index said abc@S3cretTail")
    assert "S3cretPw" not in out and "S3cretTail" not in out


def _envdoctor(args, **env):
    full = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    full.update(env)
    return subprocess.run([sys.executable, "-m", "envdoctor", *args], capture_output=True, text=True,
                          env=full, timeout=120)


@pytest.mark.parametrize("proxy", ["proxyuser:S3cretPw@127.0.0.1:9", "http://proxyuser:ab@S3cretPw@127.0.0.1:9"])
def test_report_and_record_hide_a_scheme_less_or_at_sign_proxy_password(tmp_path, proxy):
    # D12, D13: the report meant for sharing, and --record, printed the password.
    rep = _envdoctor(["report", "--quick"], HTTPS_PROXY=proxy, HOME=str(tmp_path))
    assert rep.returncode == 0 and "S3cretPw" not in rep.stdout + rep.stderr
    rec = tmp_path / "rec"
    chk = _envdoctor(["check", "--json", "--quick", "--record", str(rec)], HTTPS_PROXY=proxy, HOME=str(tmp_path))
    assert "S3cretPw" not in chk.stdout + chk.stderr
    for root, _, files in os.walk(rec):
        for name in files:
            assert "S3cretPw" not in open(os.path.join(root, name), errors="replace").read(), name


def test_an_invalid_url_with_credentials_is_refused_without_printing_them():
    # D15
    res = _envdoctor(["check", "--url", "ftp://u:S3cretUrl@127.0.0.1/"])
    assert res.returncode == 4 and "S3cretUrl" not in res.stderr and "***" in res.stderr


def test_usage_errors_are_redacted_whatever_the_option():
    # "usage errors not redacted": any option's bad value may carry a credential.
    res = _envdoctor(["fix", "--index-url", "ftp://u:S3cretIdx@127.0.0.1/"])
    assert res.returncode == 4 and "S3cretIdx" not in res.stderr
    res = _envdoctor(["check", "--want", "vllm==0.5.3 ; token=S3cretWant"])
    assert res.returncode == 4 and "S3cretWant" not in res.stderr
