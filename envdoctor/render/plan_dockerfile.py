"""`fix --plan --format dockerfile`: the same plan as a Dockerfile that survives a flaky network.

- The base image is the plan's (fix/plan.py `base_image`: no more CUDA than the driver runs).
- BuildKit cache mounts keep pip's downloads across builds; torch has its own layer, so a failure
  later never downloads it again; pip runs with --timeout/--retries (and --resume-retries where the
  pip has it).
- Checks that need a GPU cannot run during a build: they become the image's default command, run
  with `docker run --gpus all`.
"""
from __future__ import annotations

import shlex
from typing import List, Optional, Sequence

from envdoctor.fix.plan import Plan
from envdoctor.render.plan_common import summary

ENV = "/opt/vllm"
CACHE = "--mount=type=cache,target=/root/.cache/pip"
# vLLM's own Dockerfile installs other Pythons on Ubuntu 22.04 from the deadsnakes PPA
# (vllm-project/vllm docker/Dockerfile: add-apt-repository ppa:deadsnakes/ppa, python${PYTHON_VERSION}).
DEADSNAKES = "ppa:deadsnakes/ppa"


def run_line(plan: Plan, tag: Optional[str] = None) -> str:
    return f"docker run --gpus all --ipc=host --rm {tag or 'vllm-' + plan.stack.vllm.version}"


def _sub(argv: Sequence[str], plan: Plan) -> List[str]:
    out = []
    for a in argv:
        if a == plan.env or a.startswith(plan.env + "/"):
            a = ENV + a[len(plan.env):]
        out.append(a)
    return out


def _q(argv: Sequence[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)


def render(plan: Plan, tag: Optional[str] = None) -> str:
    stack = plan.stack
    tag = tag or f"vllm-{stack.vllm.version}"
    image = plan.base_image
    assert image is not None, "make_plan chooses the base image"
    image_python = image.python
    python = stack.python  # the Python the plan chose, also when the image's own is another
    out = [
        "# syntax=docker/dockerfile:1",
        f"# envdoctor fix --plan --format dockerfile: {summary(stack)}",
        f"# Base image: {image.why}." if image.cuda else f"# Base image: plain Ubuntu ({image.why}).",
        "# The wheels bring their own CUDA runtime: no CUDA toolkit in the image.",
        "#",
        f"# Build: DOCKER_BUILDKIT=1 docker build -t {tag} .",
        f"# Run:   {run_line(plan, tag)}",
        f"FROM {image.image}",
        "",
        "ENV DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 "
        f"PIP_DEFAULT_TIMEOUT={plan.pip_flags[1]} PIP_RETRIES={plan.pip_flags[3]} NVIDIA_DRIVER_CAPABILITIES=compute,utility",
    ]
    if python == image_python:
        out.append("RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv "
                   "&& rm -rf /var/lib/apt/lists/*")
        venv = "python3"
    else:
        out += [f"# Python {python}, the plan's choice (the wheels of this stack exist for {', '.join(stack.pythons)}); "
                f"the image's own is {image_python}",
                "RUN apt-get update && apt-get install -y --no-install-recommends software-properties-common "
                f"&& add-apt-repository -y {DEADSNAKES} && apt-get update "
                f"&& apt-get install -y --no-install-recommends python{python} python{python}-venv "
                "&& rm -rf /var/lib/apt/lists/*"]
        venv = f"python{python}"
    out += [f"RUN {venv} -m venv {ENV}", f"ENV PATH={ENV}/bin:$PATH", ""]
    gpu_checks: List[str] = []
    for step in plan.steps:
        if step.id in ("driver", "env"):
            continue
        label = step.title + (" (its own layer: the largest download, cached apart)" if step.id == "torch" else "")
        out.append(f"# {label}")
        for w in step.writes:
            lines = " ".join(shlex.quote(line) for line in w.content.splitlines())
            out.append(f"RUN printf '%s\\n' {lines} > {shlex.quote(_sub([w.path], plan)[0])}")
        for c in step.commands:
            out.append(f"RUN {CACHE} {_q(_sub(c, plan))}")
        checks = [_q(_sub(c.argv, plan)) for c in step.verify if not c.needs_gpu]
        if checks:
            out.append("RUN " + " && ".join(checks))
        gpu_checks += [_q(_sub(c.argv, plan)) for c in step.verify if c.needs_gpu and step.id != "driver"]
        out.append("")
    out += ["# Default command: prove the container reaches the GPU (run it with --gpus all).",
            f"CMD [\"/bin/sh\", \"-c\", {_json(' && '.join(gpu_checks) or 'python -c pass')}]", ""]
    return "\n".join(out)


def _json(text: str) -> str:
    import json

    return json.dumps(text)
