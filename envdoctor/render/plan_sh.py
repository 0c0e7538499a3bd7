"""`fix --plan --format sh`: a bash script that builds the NEW environment step by step, stops at the
first failure (set -euo pipefail) and checks each step before the next."""
from __future__ import annotations

import shlex
from typing import List

from envdoctor.fix.plan import Plan
from envdoctor.core.units import download_size
from envdoctor.render.plan_common import summary, target_line


def _arg(arg: str, env: str) -> str:
    if arg == env:
        return '"$ENV_DIR"'
    if arg.startswith(env + "/"):
        return '"$ENV_DIR"' + shlex.quote(arg[len(env):])
    return shlex.quote(arg)


def _line(argv, env: str) -> str:
    return " ".join(_arg(a, env) for a in argv)


def render(plan: Plan) -> str:
    env = plan.env
    out: List[str] = [
        "#!/usr/bin/env bash",
        f"# envdoctor fix --plan: {summary(plan.stack)}",
        f"# for: {target_line(plan.resolution)}",
        "# Creates a NEW environment; the one in use is never touched. Safe to read before running.",
        "set -euo pipefail",
        "",
        f"ENV_DIR={shlex.quote(env)}",
        'if [ -e "$ENV_DIR" ] && [ -n "$(ls -A "$ENV_DIR" 2>/dev/null)" ]; then',
        '  echo "envdoctor: $ENV_DIR exists and is not empty: this script only creates a new environment" >&2',
        "  exit 1",
        "fi",
        "",
        'step() { printf \'\\n==> %s\\n\' "$*"; }',
        'verify() { "$@" || { echo "envdoctor: check failed: $*" >&2; exit 1; }; }',
    ]
    total = len(plan.steps)
    for n, step in enumerate(plan.steps, 1):
        out += ["", f'step {shlex.quote(f"{n}/{total} {step.title}")}']
        out += [f"# {line}" for line in _wrap(step.why)]
        if step.download_bytes:
            out.append(f"# download: about {download_size(step.download_bytes)}" + (f" {step.download_note}" if step.download_note else ""))
        if step.needs_root:
            out.append("# needs root (sudo)")
        for w in step.writes:
            out += [f"cat > {_arg(w.path, env)} <<'ENVDOCTOR_EOF'", w.content.rstrip("\n"), "ENVDOCTOR_EOF"]
        out += [_line(c, env) for c in step.commands]
        for c in step.verify:
            out += [f"# check: {c.what}", f"verify {_line(c.argv, env)}"]
    out += ["", 'echo', f'echo "Done. Prove it with a real generation: {plan.next_steps[0].replace(env, "$ENV_DIR")}"', ""]
    return "\n".join(out)


def _wrap(text: str, width: int = 100) -> List[str]:
    import textwrap

    return textwrap.wrap(text, width) or [""]
