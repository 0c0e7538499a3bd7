"""Every secret shape through every output format: check (text, JSON), report (Markdown,
JSON), explain (text, JSON) and check --from-report (text, JSON, Markdown). None survives.

Each secret sits on a line with a "witness" word next to it; the test asserts the witness is
printed, so a secret that vanished only because its line was never shown does not count as
redacted.
"""
from __future__ import annotations

import io
import json
import os
import socket

import pytest

from envdoctor.cli import main
from envdoctor.core.facts import DriverFacts, Gpu, PlatformFacts, PythonEnvFacts
from envdoctor.core.results import Facts, Finding, ProbeResult, Report
from envdoctor.redact import Redactor
from envdoctor.render import human, json_doc, markdown

HOME = "/home/alice"
HOST = "gpu-box-17"

# (witness printed next to it, the secret text, the secret part that must never appear)
SHAPES = [
    ("W-hf", "HF_TOKEN=hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345", "AbCdEfGhIjKlMnOpQrStUvWxYz012345"),
    ("W-bearer", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.cGF5bG9hZA.c2lnbmF0dXJl",
     "eyJhbGciOiJIUzI1NiJ9.cGF5bG9hZA.c2lnbmF0dXJl"),
    ("W-basic", "Proxy-Authorization: Basic YWxpY2U6d29uZGVybGFuZA==", "YWxpY2U6d29uZGVybGFuZA=="),
    ("W-proxyurl", "http://alice:Pr0xyPa55@proxy.corp.example:3128", "Pr0xyPa55"),
    ("W-proxybare", "HTTPS_PROXY=bob:B0bProxyPw@proxy.corp.example:3128", "B0bProxyPw"),
    ("W-urlpw", "https://deploy:IdxPassw0rd@pypi.corp.example/simple", "IdxPassw0rd"),
    ("W-json", '{"OPENAI_API_KEY": "sk-proj-AAAABBBBCCCCDDDDEEEE1234", "HF_TOKEN": "plainsecretvalue99"}',
     "AAAABBBBCCCCDDDDEEEE1234"),
    ("W-jsonplain", '{"HF_TOKEN": "plainsecretvalue99"}', "plainsecretvalue99"),
    ("W-apikey", "MY_SERVICE_API_KEY=q7w8e9r0t1y2u3i4", "q7w8e9r0t1y2u3i4"),
    ("W-github", "https://ghp_0123456789abcdefghijABCDEFGHIJ@github.com/org/repo", "0123456789abcdefghijABCDEFGHIJ"),
    ("W-flag", "--password Sup3rS3cret!", "Sup3rS3cret!"),
]
SECRETS = [s for _, _, s in SHAPES]
PLACES = [HOME, HOST]


def lines():
    return [f"error: {w} {text} {w}-end" for w, text, _ in SHAPES]


def assert_clean(out: str, *, places: bool, witnesses=True):
    for secret in SECRETS:
        assert secret not in out, secret
    if witnesses:
        for w, _, _ in SHAPES:
            assert w in out, f"{w} was never printed, so its secret was not tested"
    if places:
        assert HOME not in out and HOST not in out
        assert "~" in out and "<hostname>" in out


# --- check and report renderers, fed a Report that carries every shape ----------------

def secret_report() -> Report:
    env = PythonEnvFacts(executable=f"{HOME}/.venvs/vllm/bin/python", selected_by="VIRTUAL_ENV", version="3.12.3",
                         prefix=f"{HOME}/.venvs/vllm", kind="venv")
    facts = Facts({
        "platform": ProbeResult("platform", "ok", facts=PlatformFacts("Linux", "x86_64", kernel="6.8.0",
                                                                    distro_name=f"Ubuntu on {HOST}")),
        "driver": ProbeResult("driver", "ok", facts=DriverFacts("nvml", "550.54.14", gpus=(Gpu(0, "NVIDIA L4"),))),
        "python": ProbeResult("python", "ok", facts=env),
        "resources": ProbeResult("resources", "error", error=f"cannot read {HOME}/.cache on {HOST}: " + lines()[0]),
    })
    finding = Finding("probe-failed", "warn", "envdoctor", "secrets everywhere", evidence=tuple(lines()),
                      why=" ".join(lines()), fix=tuple(f"echo {text} # {w}" for w, text, _ in SHAPES),
                      notes=tuple(lines()))
    return Report(facts, (finding,), seconds=0.1)


def test_check_text_and_json():
    report, redactor = secret_report(), Redactor({})
    buf = io.StringIO()
    human.render(report, 1, redactor, color=False, verbose=True, file=buf)
    assert_clean(buf.getvalue(), places=False)
    assert_clean(json_doc.dumps(json_doc.document(report, 1, redactor)), places=False)


def test_report_markdown_and_paths():
    report = secret_report()
    env = {"HF_TOKEN": "hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345", "HTTPS_PROXY": "http://alice:Pr0xyPa55@proxy:3128",
           "PIP_INDEX_URL": "https://deploy:IdxPassw0rd@pypi.corp.example/simple", "VLLM_API_KEY": "q7w8e9r0t1y2u3i4",
           "HF_HOME": f"{HOME}/.cache/huggingface"}
    shared = Redactor(env, home=HOME, hostname=HOST)
    out = markdown.render(report, 1, shared, env=env)
    assert_clean(out, places=True)
    assert "HF_TOKEN=*** (set)" in out and "HF_HOME=~/.cache/huggingface" in out
    # --no-redact-paths: secrets still go, home and host stay
    kept = markdown.render(report, 1, Redactor(env), env=env, redacted_paths=False)
    assert_clean(kept, places=False)
    assert HOME in kept and HOST in kept


def test_redactor_keeps_its_api_and_masks_secret_keys():
    r = Redactor({"MY_TOKEN": "abcdef123456"})
    assert r.text("x abcdef123456 y") == "x *** y"
    assert r.lines(["a", "hf_AbCdEfGhIjKlMnOpQrStUvWxYz"]) == ["a", "hf_***"]
    assert r.data({"HF_TOKEN": "anything-at-all", "nested": [{"api_key": "zz-zz"}], "n": 3}) == \
        {"HF_TOKEN": "***", "nested": [{"api_key": "***"}], "n": 3}
    # a host name that is an everyday word is not replaced (it would garble the output)
    assert Redactor({}, hostname="ubuntu").text("Ubuntu 22.04 on ubuntu") == "Ubuntu 22.04 on ubuntu"
    assert Redactor({}, home="/home/al").text("/home/al/x /home/alice") == "~/x /home/alice"


# --- the real CLI: explain, check --from-report, report --from-report -----------------

def run(capsys, *args):
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return done.value.code, out, err


@pytest.fixture
def secret_logs(tmp_path):
    """Two logs (explain shows at most 8 error-like lines of a log it cannot diagnose)."""
    out = []
    for n, part in enumerate((lines()[:6], lines()[6:])):
        f = tmp_path / f"deploy{n}.log"
        f.write_text("step 1: deploy\n" + "\n".join(part) + "\n")
        out.append(str(f))
    return out


@pytest.fixture
def secret_collect_env(tmp_path):
    src = os.path.join(os.path.dirname(__file__), "..", "data", "reports", "vllm-0.10.1.1-sectioned-torch-mismatch.txt")
    text = open(src, encoding="utf-8").read()
    extra = "\n".join(f"VLLM_{w[2:].upper()}_WITNESS={text}" for w, text, _ in SHAPES)
    extra += f"\nHF_HOME={HOME}/.cache/huggingface\nVLLM_HOST_IP={HOST}.corp.example\n"
    f = tmp_path / "collect_env.txt"
    f.write_text(text.rstrip("\n") + "\n" + extra)
    return str(f)


@pytest.fixture
def sharing(monkeypatch):
    monkeypatch.setenv("HOME", HOME)
    monkeypatch.setattr(socket, "gethostname", lambda: HOST)


def test_explain_text_and_json(capsys, secret_logs):
    for fmt in ((), ("--json",)):
        outs = []
        for log in secret_logs:
            code, out, _ = run(capsys, "explain", log, *fmt)
            assert code == 3  # nothing recognised: the error-like lines are shown
            outs.append(out)
        if fmt:
            [json.loads(o) for o in outs]
        assert_clean("\n".join(outs), places=False)


def _witnessed(out):
    # env values are printed as NAME=value: the name carries the witness
    return out.replace("VLLM_", "W-").replace("_WITNESS", "").lower()


def test_from_report_all_formats(capsys, secret_collect_env, sharing):
    for args in (("check", "--from-report", secret_collect_env),
                 ("check", "--from-report", secret_collect_env, "--json")):
        code, out, _ = run(capsys, *args)
        assert code == 2
        for secret in SECRETS:
            assert secret not in out, (args, secret)
        for w, _, _ in SHAPES:
            assert w.lower() in _witnessed(out)
    for args in (("report", "--from-report", secret_collect_env),
                 ("report", "--from-report", secret_collect_env, "--json")):
        code, out, _ = run(capsys, *args)
        assert code == 0
        for secret in SECRETS + PLACES:
            assert secret not in out, (args, secret)
        assert "<hostname>" in out and "~/.cache/huggingface" in out
    code, out, _ = run(capsys, "report", "--from-report", secret_collect_env, "--no-redact-paths")
    assert HOME in out and HOST in out and not any(s in out for s in SECRETS)


def test_report_output_file(capsys, secret_collect_env, sharing, tmp_path):
    target = tmp_path / "report.md"
    code, out, err = run(capsys, "report", "--from-report", secret_collect_env, "--output", str(target))
    assert code == 0 and out == "" and "wrote" in err
    text = target.read_text()
    assert text.startswith("# envdoctor report") and "vllm-torch-mismatch" in text
    assert not any(s in text for s in SECRETS + PLACES)


def test_live_report_masks_secret_environment(capsys, sharing, monkeypatch):
    """The live machine: secret-named variables show only that they are set."""
    monkeypatch.setenv("HF_TOKEN", "hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345")
    monkeypatch.setenv("HTTPS_PROXY", "http://alice:Pr0xyPa55@proxy.corp.example:3128")
    monkeypatch.setenv("PIP_INDEX_URL", "https://deploy:IdxPassw0rd@pypi.corp.example/simple")
    code, out, _ = run(capsys, "report", "--quick", "--deadline", "20")
    assert code == 0 and out.startswith("# envdoctor report")
    assert "HF_TOKEN=*** (set)" in out and "HTTPS_PROXY=http://***@proxy.corp.example:3128" in out
    assert "PIP_INDEX_URL=https://***@pypi.corp.example/simple" in out
    assert not any(s in out for s in SECRETS)
    assert HOST not in out and HOME + "/" not in out
