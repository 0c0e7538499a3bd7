"""The catalogue of finding codes: every code any command can report, with its area, the commands
that report it, a one-line summary and the ids of its texts.

A code is a stable kebab-case id (a contract for CI and scripts), checked when it is registered
and again whenever a Finding is built (pip's habit with its error references). Codes register
where they are produced, so adding one touches its module (and, for a check rule, rules/all.py),
then the regenerated docs:

- a check rule: `@rule(code, area, summary)` in rules/<area>.py registers it (and ALL_RULES lists it);
- a cluster rule: `@cluster_rule(...)` in check/cluster/rules.py;
- explain: a row of matrices/log_signatures.csv (its code, class and title), or an analysis's
  CODES (explain/analyses.py, explain/evidence.py);
- run-smoke and `check --from-report`: `register(code, area, Command.X, summary)` beside the code
  that builds the Finding; a code another command already has is declared with `reuse(code, Command.X)`.

Message ids: a code's texts are looked up as `<code>.title`, `<code>.why`, `<code>.fix` and
`<code>.note` (Code.messages), the message catalogue's convention.

docs/findings.md is generated from this catalogue:

    python -m envdoctor.core.codes --markdown > docs/findings.md

and tests/test_codes.py fails when it is stale, or when a test builds a Finding whose code is not
here (tests/conftest.py turns on `enforce()`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Dict, List, Optional, Sequence, Set, Tuple

KEBAB = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
MESSAGE_PARTS = ("title", "why", "fix", "note")


class Command(str, Enum):
    """The command (or kind of run) that reports a code."""

    CHECK = "check"
    CLUSTER = "cluster"  # check --ray / --cluster
    REPORT = "report"  # check --from-report
    SMOKE = "smoke"  # run-smoke
    EXPLAIN = "explain"  # explain, and what reads text with its signatures
    APPLY = "apply"  # fix --apply


class UnknownCode(ValueError):
    """A Finding was built with a code that is not in the catalogue."""


@dataclass(frozen=True)
class Code:
    id: str
    area: str  # the check area (or explain's class for explain's own codes)
    commands: Tuple[Command, ...]  # the first is the code's home
    summary: str

    @property
    def messages(self) -> Dict[str, str]:
        """The message ids of this code's texts: {"title": "<code>.title", ...}."""
        return {part: f"{self.id}.{part}" for part in MESSAGE_PARTS}


def kebab(code: str) -> str:
    if not isinstance(code, str) or not KEBAB.fullmatch(code):
        raise ValueError(f"not a kebab-case finding code: {code!r}")
    return code


_REGISTERED: Dict[str, Code] = {}
_REUSED: Dict[str, List[Command]] = {}


def register(code: str, area: str, command: Command, summary: str) -> str:
    """Declare a code where it is produced; returns the code, for use as a constant."""
    kebab(code)
    if not area or not summary:
        raise ValueError(f"{code}: a code needs an area and a summary")
    known = _REGISTERED.get(code)
    if known is not None and (known.area, known.commands[0], known.summary) != (area, command, summary):
        raise ValueError(f"finding code {code!r} is registered twice, differently "
                         f"({known.commands[0].value}/{known.area} and {command.value}/{area})")
    _REGISTERED[code] = Code(code, area, (command,), summary)
    return code


def reuse(code: str, command: Command) -> str:
    """Declare that `command` also reports an existing code (registered elsewhere)."""
    kebab(code)
    uses = _REUSED.setdefault(code, [])
    if command not in uses:
        uses.append(command)
    return code


# Modules whose import registers their codes: the producers, in the order docs list them.
# explain's codes come from explain.codes() (its signatures, analyses and evidence layer).
SOURCES = ("envdoctor.rules.all", "envdoctor.check.cluster.rules", "envdoctor.smoke.run",
           "envdoctor.smoke.classify", "envdoctor.report.text_findings")


def _with_explain(out: Dict[str, Code], reused: Dict[str, List[Command]], matrices) -> None:
    """explain's signature rows are data: each distinct code of matrices/log_signatures.csv."""
    from envdoctor.explain import codes as explain_codes

    for code, category, _shared, summary in explain_codes(matrices):
        if code in out:
            reused.setdefault(code, []).append(Command.EXPLAIN)
        else:
            out[code] = Code(kebab(code), category, (Command.EXPLAIN,), summary)


_CATALOGUE: Optional[Dict[str, Code]] = None


def catalogue(matrices=None) -> Dict[str, Code]:
    """Every code, by id, in the order of SOURCES (check's in ALL_RULES order)."""
    global _CATALOGUE
    if _CATALOGUE is not None and matrices is None:
        return _CATALOGUE
    import importlib

    for name in SOURCES:
        importlib.import_module(name)
    found = dict(_REGISTERED)
    reused = {code: list(uses) for code, uses in _REUSED.items()}
    _with_explain(found, reused, matrices)
    missing = sorted(set(reused) - set(found))
    if missing:
        raise ValueError(f"finding codes reused but registered nowhere: {', '.join(missing)}")
    from envdoctor.rules.all import ALL_RULES

    rules = [r.code for r in ALL_RULES]  # check's codes in ALL_RULES order, the order --list always had
    ordered = rules + [code for code in found if code not in set(rules)]
    out: Dict[str, Code] = {}
    for code in ordered:
        entry = found[code]
        extra = tuple(dict.fromkeys(c for c in reused.get(code, ()) if c not in entry.commands))
        out[code] = Code(entry.id, entry.area, entry.commands + extra, entry.summary)
    if matrices is None:
        _CATALOGUE = out
    return out


def of(command: Command, codes: Optional[Dict[str, Code]] = None) -> List[Code]:
    """The codes `command` reports, home codes first."""
    codes = catalogue() if codes is None else codes
    return [c for c in codes.values() if command in c.commands]


# --- the check at Finding construction ---------------------------------------------------

_ENFORCED: Optional[Set[str]] = None


def enforce(on: bool = True) -> None:
    """From now on a Finding with a code outside the catalogue raises UnknownCode (the suite turns
    this on, so every path a test exercises is checked)."""
    global _ENFORCED
    _ENFORCED = set(catalogue()) if on else None


def checked(code: str) -> None:
    """Called by Finding: the code is kebab-case, and in the catalogue when enforced."""
    kebab(code)
    if _ENFORCED is not None and code not in _ENFORCED:
        raise UnknownCode(f"finding code {code!r} is in no catalogue entry: register it (envdoctor/core/codes.py "
                          "says where) and regenerate docs/findings.md")


# --- check --list and docs/findings.md ---------------------------------------------------

LABEL = {Command.CHECK: "check", Command.CLUSTER: "check --cluster", Command.REPORT: "check --from-report",
         Command.SMOKE: "run-smoke", Command.EXPLAIN: "explain", Command.APPLY: "fix --apply"}


def list_lines(codes: Optional[Dict[str, Code]] = None) -> List[str]:
    """`check --list`: check's codes, then the cluster's, then every other command's, tagged with it."""
    codes = catalogue() if codes is None else codes
    lines = []
    for home in Command:
        for c in codes.values():
            if c.commands[0] is not home:
                continue
            tag = "" if home in (Command.CHECK, Command.CLUSTER) else f" [{LABEL[home]}]"
            lines.append(f"{c.id:34} {c.area:10} {c.summary}{tag}")
    return lines


def list_json(codes: Optional[Dict[str, Code]] = None) -> List[dict]:
    codes = catalogue() if codes is None else codes
    return [{"code": c.id, "area": c.area, "summary": c.summary, "commands": [m.value for m in c.commands],
             "messages": c.messages} for home in Command for c in codes.values() if c.commands[0] is home]


HEADER = """# Finding codes

<!-- Generated from the code catalogue (envdoctor/core/codes.py): do not edit by hand. Regenerate with
     python -m envdoctor.core.codes --markdown > docs/findings.md
     tests/test_codes.py fails when this file is stale. -->

Every code envdoctor can report, from every command (`envdoctor check --list` prints the same list;
`envdoctor explain --list` prints explain's with their class). Each finding says what was seen
(evidence), why it matters, and the exact commands that fix it. A code is stable: CI and scripts may
match on it. Its texts have the message ids `<code>.title`, `<code>.why`, `<code>.fix` and `<code>.note`.
Which fixture machine under `tests/fixtures/machines/` fires which check code is pinned in
`tests/test_fixture_machines.py`; `linux-h100-server` (recorded on a real H100) fires none.
"""

SECTIONS = {
    Command.CHECK: ("Codes of `envdoctor check`", ""),
    Command.CLUSTER: ("Cluster codes (`check --ray`, `check --cluster DIR`)", ""),
    Command.SMOKE: ("Codes of `run-smoke`", ("`run-smoke` reports what its log shows in explain's codes (below), "
                    "the check codes of its quick check that block a run, and these of its own:")),
    Command.REPORT: ("Codes only `check --from-report` reports", ("`check --from-report` runs the check rules "
                     "on the report's facts and reads the whole text with explain's signatures (an error printed "
                     "above the report, or in place of it). It also reports `torch-cpu-build-on-gpu-machine` when "
                     "the report's GPU lines say \"No CUDA\" because torch is a CPU build (whether there is a GPU "
                     "stays unknown), and `no-nvidia-gpu` for a report from macOS. Besides those:")),
    Command.APPLY: ("Codes of `fix --apply`", ""),
    Command.EXPLAIN: ("Codes of `explain`", ("The exact signatures live in `matrices/log_signatures.csv`, each row "
                      "with the public thread where its error text was seen; the same signatures read `run-smoke` "
                      "failures, the output of a failed `fix --apply` step, and the text of a report passed to "
                      "`check --from-report`. The area of an explain code is its class. Where no signature "
                      "matches, explain's second layer weighs the error vocabulary of each class and reports "
                      "`unrecognised-<class>-failure` with the decisive line and \"confidence: lower\"; where a "
                      "line of that class names the problem itself it reports that problem's code instead.")),
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(codes: Optional[Dict[str, Code]] = None) -> str:
    codes = catalogue() if codes is None else codes
    out = [HEADER]
    for home in Command:
        rows = [c for c in codes.values() if c.commands[0] is home]
        if not rows:
            continue
        title, intro = SECTIONS[home]
        out.append(f"## {title}\n")
        if intro:
            out.append(intro + "\n")
        out.append("| code | area | what it means | also reported by |\n| --- | --- | --- | --- |")
        for c in rows:
            also = ", ".join(LABEL[m] for m in c.commands[1:])
            out.append(f"| `{c.id}` | {c.area} | {_cell(c.summary)} | {also} |")
        out.append("")
    return "\n".join(out)


def main(argv: Sequence[str]) -> int:
    if list(argv) == ["--markdown"]:
        print(markdown(), end="")
        return 0
    if not argv:
        print("\n".join(list_lines()))
        return 0
    print("usage: python -m envdoctor.core.codes [--markdown]")
    return 4


if __name__ == "__main__":
    import sys

    from envdoctor.core import (
        codes as registry,  # the imported module holds the registrations, not __main__
    )

    raise SystemExit(registry.main(sys.argv[1:]))
