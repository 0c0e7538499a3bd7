"""`fix --plan --format md`: the plan as Markdown, for a tutorial or an issue."""
from __future__ import annotations

import shlex
from typing import List, Optional

from envdoctor.fix.plan import Plan
from envdoctor.fix.resolve import Resolution
from envdoctor.core.units import download_size
from envdoctor.render.plan_common import grouped_rejections, target_line


def render(resolution: Resolution, plan: Optional[Plan]) -> str:
    out: List[str] = [f"# Install plan: {resolution.wanted}", "", f"Machine: {target_line(resolution)}", ""]
    s = resolution.stack
    if s is None or plan is None:
        out += ["**No vLLM release in envdoctor's data can run here as asked.**", "", "What has to change:", ""]
        out += [f"- {c}" for c in resolution.changes]
        out += [""] + [f"> {n}" for n in resolution.notes]
    else:
        out += ["| | |", "| --- | --- |",
                f"| vLLM | {s.vllm.version} (kernels built for CUDA {s.vllm_cuda or '?'}) |",
                f"| torch | {s.torch.version}, CUDA {s.cuda} build (`{s.torch_index or 'default index'}`) |",
                f"| Python | {s.python} (wheels exist for {', '.join(s.pythons)}) |",
                f"| companions | {', '.join(f'`{c.pin}`' for c in s.companions) or 'none'} |",
                f"| NVIDIA driver | >= {s.driver.linux or s.driver.compat_linux or '?'} on Linux, >= {s.driver.windows or s.driver.compat_windows or '?'} on Windows (WSL 2); "
                f"CUDA {s.driver.cuda.split('.')[0]}.x runs on >= {s.driver.compat_text()} (minor-version compatibility) |",
                "| CUDA toolkit | not needed |",
                f"| download | about {download_size(plan.download_bytes)} (wheels of torch, vLLM and companions; their other dependencies come on top) |",
                ""]
        out += [f"- {n}" for n in s.notes + resolution.notes] + [""]
        out += [f"Environment: `{plan.env}` ({plan.env_tool}), created new.", ""]
        for n, step in enumerate(plan.steps, 1):
            out += [f"## {n}. {step.title}", "", step.why, ""]
            body = [f"cat > {shlex.quote(w.path)} <<'EOF'\n{w.content.rstrip()}\nEOF" for w in step.writes]
            body += [" ".join(shlex.quote(a) for a in c) for c in step.commands]
            if body:
                out += ["```bash"] + body + ["```", ""]
            if step.verify:
                out += ["Check:", "", "```bash"] + [" ".join(shlex.quote(a) for a in c.argv) for c in step.verify] + ["```", ""]
        out += ["## Then", ""] + [f"```bash\n{n}\n```" for n in plan.next_steps] + [""]
    if resolution.fit is not None:
        f = resolution.fit
        out += [f"Model {f.model.name} on {f.gpu.name}: **{f.verdict}**"
                + (f": `{f.chosen.settings.vllm_args(f.model.name)}`" if f.verdict != "does-not-fit" else ""), ""]
    if resolution.newest_here:
        out += [f"The newest release that would run here is vllm {resolution.newest_here}.", ""]
    if resolution.rejected:
        out += ["## Releases that do not fit", ""] + [f"- {line}" for line in grouped_rejections(resolution)] + [""]
    return "\n".join(out)
