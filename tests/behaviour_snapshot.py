"""What every fixture machine gets from check, check --ci and fix --plan, reduced to behaviour:
exit codes, probe statuses, findings (code, severity, area, title, evidence, fix, notes) and the
plan (stack, steps and their commands, rejected releases with blocker kinds). Run against the
frozen copy of the tables in tests/data/behaviour/matrices, so a new row in matrices/ changes
nothing here; only a change of code does.

Regenerate after an intended change of behaviour, and read the diff:
    python -m tests.behaviour_snapshot > tests/data/behaviour/snapshot.json
"""
from __future__ import annotations

import json
import os
import sys
from typing import Any, Dict, List

from click.testing import CliRunner

HERE = os.path.dirname(os.path.abspath(__file__))
BEHAVIOUR = os.path.join(HERE, "data", "behaviour")
MACHINES = os.path.join(HERE, "fixtures", "machines")
RUNS = {
    "check": ["check", "--json"],
    "check-ci": ["check", "--ci", "--want", "vllm==0.5.3"],
    "fix": ["fix", "--plan", "--format", "json"],
}


def _finding(f: Dict[str, Any]) -> Dict[str, Any]:
    return {k: f.get(k) for k in ("code", "severity", "area", "title", "evidence", "fix", "notes")}


def _plan(d: Dict[str, Any]) -> Dict[str, Any]:
    stack = d.get("stack") or {}
    return {
        "ok": d.get("ok"),
        "stack": {k: stack.get(k) for k in ("vllm", "torch", "cuda", "python", "companions", "extra_pins")},
        "steps": [{"id": s["id"], "title": s["title"], "commands": s["commands"]} for s in d.get("steps") or []],
        "rejected": [{"vllm": r["vllm"], "kinds": sorted(b["kind"] for b in r.get("blockers") or [])}
                     for r in d.get("rejected") or []],
    }


def machine_behaviour(name: str) -> Dict[str, Any]:
    from envdoctor.cli import cli

    env = {"ENVDOCTOR_MATRICES_DIR": os.path.join(BEHAVIOUR, "matrices"), "NO_COLOR": "1", "COLUMNS": "100"}
    out: Dict[str, Any] = {}
    for run, args in RUNS.items():
        argv: List[str] = args + ["--replay", os.path.join(MACHINES, name)]
        result = CliRunner().invoke(cli, argv, env=env, standalone_mode=False)
        if result.exception is not None:
            raise result.exception
        entry: Dict[str, Any] = {"exit_code": result.return_value}
        if run == "check":
            doc = json.loads(result.output)
            entry["statuses"] = {p["area"]: p["status"] for p in doc["probes"]}
            entry["findings"] = [_finding(f) for f in doc["findings"]]
        elif run == "fix" and result.output.strip().startswith("{"):
            entry["plan"] = _plan(json.loads(result.output))
        out[run] = entry
    return out


def snapshot() -> Dict[str, Any]:
    names = sorted(n for n in os.listdir(MACHINES) if os.path.isdir(os.path.join(MACHINES, n)))
    return {name: machine_behaviour(name) for name in names}


if __name__ == "__main__":
    json.dump(snapshot(), sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")
