"""`envdoctor report`: a check as Markdown to paste into a bug report or a forum post.

Everything that leaves this module has gone through the Redactor it is given (secrets
always; home directory and host name unless --no-redact-paths).
"""
from __future__ import annotations

import datetime
import json
import re
from typing import Dict, List, Mapping, Optional, Sequence

from envdoctor import __version__
from envdoctor.core.areas import title
from envdoctor.core.results import Report
from envdoctor.redact import MASK, SECRET_NAME, Redactor
from envdoctor.render.human import area_line
from envdoctor.render.json_doc import plain

MARKS = {"ok": "✅", "info": "✅", "warn": "⚠️", "error": "❌", "skip": "➖"}
SEVERITY = {"error": "❌ ERROR", "warn": "⚠️ WARN", "info": "ℹ️ INFO"}
# Environment variables that change what vLLM, torch, pip or the Hub do.
RELEVANT_ENV = re.compile(r"^(VLLM_|CUDA_|NCCL_|NVIDIA_|HF_|HUGGING_FACE_|HUGGINGFACE_|TRANSFORMERS_|TORCH|"
                          r"PYTORCH_|PIP_|UV_|CONDA_PREFIX$|CONDA_DEFAULT_ENV$|VIRTUAL_ENV$|LD_LIBRARY_PATH$|"
                          r"OMP_NUM_THREADS$|(?i:https?_proxy|all_proxy|no_proxy)$)")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    """Inline code that survives backticks inside."""
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def relevant_env(env: Mapping[str, str]) -> Dict[str, str]:
    """The variables worth showing; a secret-looking one shows only that it is set."""
    out = {}
    for name in sorted(env):
        if RELEVANT_ENV.match(name):
            out[name] = f"{MASK} (set)" if SECRET_NAME.search(name) and env[name] else env[name]
    return out


def _compact(facts):
    """Facts for a post: packages as name==version (their requirements and the marker
    environment would fill pages)."""
    if isinstance(facts, dict) and "distributions" in facts:
        facts = dict(facts)
        facts["distributions"] = [f"{d['name']}=={d['version']}" for d in facts["distributions"]]
        facts.pop("marker_env", None)
    return facts


DIAGNOSTICS = ("getent", "nslookup", "curl", "resolvectl", "dmesg", "sudo dmesg", "ping", "ip")  # look, fix nothing


def _diagnostic(cmd: str) -> bool:
    words = cmd.split()
    return (not words or words[0] in DIAGNOSTICS or " ".join(words[:2]) in DIAGNOSTICS or cmd.strip() == "nvidia-smi"
            or " config list" in cmd or " config debug" in cmd)


def fix_commands(report: Report) -> List[str]:
    """The fix commands of all findings that have one, worst first, each under a comment naming its
    finding, without repeats; commands that only look (curl, getent, nslookup) stay in the
    findings above. Not an install plan (that is `envdoctor fix --plan`): the findings' own fixes, gathered."""
    seen, steps = set(), []
    for f in report.findings:
        if f.severity == "info":
            continue
        commands = [c for c in f.fix if not _diagnostic(c) and c not in seen]
        seen.update(commands)
        steps.append(f"# {f.severity}: {f.title} [{f.code}]")
        steps.extend(commands or ["# no command: see the finding's notes above"])
    return steps


def render(report: Report, code: int, redactor: Redactor, *,
           env: Mapping[str, str] = (), source: Optional[str] = None, extra: Sequence[str] = (),
           now: Optional[datetime.datetime] = None, redacted_paths: bool = True) -> str:
    now = now or datetime.datetime.now(datetime.timezone.utc)
    counts = report.counts()
    out: List[str] = []
    add = out.append

    add("# envdoctor report")
    add("")
    add(f"envdoctor {__version__} · {now.strftime('%Y-%m-%d %H:%M UTC')} · "
        + (f"from {_code(source)} · " if source else "")
        + f"**{counts['error']} error(s), {counts['warn']} warning(s), {counts['info']} info** · exit code {code}")
    add("")
    add("| | Area | What envdoctor saw |")
    add("|---|---|---|")
    for area, result in report.facts.results.items():
        mark = MARKS[report.area_state(area)]
        add(f"| {mark} | {_cell(title(area))} | {_cell(area_line(result))} |")
    add("")

    add("## Findings")
    add("")
    if not report.findings:
        add("No problems found.")
        add("")
    for f in report.findings:
        add(f"### {SEVERITY[f.severity]} `{f.code}`: {f.title}")
        add("")
        for e in f.evidence:
            add(f"- seen: {e}")
        if f.evidence:
            add("")
        if f.why:
            add(f"**Why:** {f.why}")
            add("")
        if f.fix:
            add("**Fix:**")
            add("")
            add("```sh")
            out.extend(f.fix)
            add("```")
            add("")
        for note in f.notes:
            add(f"- {note}")
        if f.notes:
            add("")
        if f.docs:
            add(f"Docs: {f.docs}")
            add("")

    steps = fix_commands(report)
    if steps:
        add("## Fixes, in order")
        add("")
        add("The fixes above, worst problem first (commands that only diagnose stay with their finding). "
            "Rerun `envdoctor check` afterwards.")
        add("")
        add("```sh")
        out.extend(steps)
        add("```")
        add("")

    for block in extra:
        add(block)
        add("")

    shown = relevant_env(env)
    if shown:
        add("## Environment variables")
        add("")
        add("```")
        out.extend(f"{k}={v}" for k, v in shown.items())
        add("```")
        add("")

    facts = {a: {"status": r.status, "error": r.error, "facts": _compact(plain(r.facts))}
             for a, r in report.facts.results.items()}
    add("<details>")
    add("<summary>All facts (JSON)</summary>")
    add("")
    add("```json")
    add(json.dumps(redactor.data(facts), indent=2, ensure_ascii=False))
    add("```")
    add("")
    add("</details>")
    add("")
    hidden = "tokens, API keys, bearer and Basic credentials, passwords in URLs and proxy credentials"
    if redacted_paths:
        hidden += ", your home directory (shown as `~`) and host name (shown as `<hostname>`)"
    add(f"_Redacted by envdoctor: {hidden}. Read it once before you post it._")
    return redactor.text("\n".join(out)) + "\n"
