"""A resolved stack as an install plan: ordered steps that are plain data (argv commands, checks,
files to write, what each step downloads). Every renderer (human, sh, json, md, dockerfile) and
`fix --apply` read the same Plan; none of them decides anything the plan does not say.

The plan always builds a NEW environment. pip gets --timeout/--retries on every networked step, and
--resume-retries where the pip the plan installs has it: the option came with pip 25.1 (pip's
NEWS.rst, 25.1 "Add support to enable resuming incomplete downloads ... --resume-retries"). The plan
asks for pip 25.3, whose `install --dry-run` no longer downloads the files when the index has PEP 658
metadata (NEWS.rst 25.3, #12603): `fix --apply` resolves with it and downloads each file only once,
itself. pip 25.1 dropped Python 3.8, so a Python 3.8 environment keeps the newest pip it can run.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Tuple

from envdoctor.core.errors import UsageError
from envdoctor.fix.resolve import Resolution, Stack
from envdoctor.messages import Msg
from envdoctor.rules.base import cuda_tuple

if TYPE_CHECKING:
    from envdoctor.compat.tables import Matrices

RESUME_PIP = "25.1"  # the first pip with --resume-retries
PLAN_PIP = "25.3"  # ... and the first whose --dry-run reads metadata only
PIP_TIMEOUT, PIP_RETRIES = "60", "10"
CONSTRAINTS = "envdoctor-constraints.txt"
ENV_TOOLS = ("venv", "conda", "uv")
PLAIN_IMAGE, PLAIN_PYTHON = "ubuntu:22.04", "3.10"  # Ubuntu 22.04's python3 is 3.10


@dataclass(frozen=True)
class Check:
    what: str  # what it proves, in words
    argv: Tuple[str, ...]
    needs_gpu: bool = False  # skipped where no GPU is attached (a docker build)


@dataclass(frozen=True)
class FileWrite:
    path: str
    content: str


@dataclass(frozen=True)
class Install:
    """What an install step asks pip for; --apply resolves it, downloads into the wheelhouse and
    installs from there with no network."""

    requirements: Tuple[str, ...]
    index_url: Optional[str] = None  # None: the package index pip is configured with
    constraints: Optional[str] = None  # a constraints file the step writes first
    upgrade: bool = False


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    why: str
    commands: Tuple[Tuple[str, ...], ...] = ()
    verify: Tuple[Check, ...] = ()
    writes: Tuple[FileWrite, ...] = ()
    download_bytes: Optional[int] = None
    download_note: str = ""
    needs_root: bool = False
    network: bool = False
    install: Optional[Install] = None


@dataclass(frozen=True)
class BaseImage:
    """The container image a Dockerfile of this plan starts FROM, and why that one."""

    image: str
    python: str  # the python3 the image brings
    why: str
    cuda: bool = True  # False: no CUDA image fits, a plain Ubuntu (the wheels bring their CUDA runtime)


@dataclass(frozen=True)
class Plan:
    resolution: Resolution
    env: str  # the new environment's directory
    env_tool: str  # venv | conda | uv
    steps: Tuple[Step, ...]
    pip_flags: Tuple[str, ...]
    next_steps: Tuple[str, ...] = ()
    base_image: Optional[BaseImage] = None

    @property
    def stack(self) -> Stack:
        assert self.resolution.stack is not None
        return self.resolution.stack

    @property
    def python_exe(self) -> str:
        return os.path.join(self.env, "bin", "python")

    @property
    def download_bytes(self) -> Optional[int]:
        return sum(s.download_bytes or 0 for s in self.steps) or None


def _py(code: str) -> str:
    """Python for `python -c`, written with double quotes so shells quote it cleanly."""
    return code.replace("'", '"')


class PlanProblem(UsageError, ValueError):
    """The plan cannot be made as asked (one line; a usage error)."""


def default_env_path(home: str, stack: Stack) -> str:
    return os.path.join(home, "venvs", f"vllm-{stack.vllm.version}")


def env_tool_for(kind: str, wish: Optional[str] = None, uv_venv: bool = False) -> str:
    """The tool the user already uses: conda in a conda env, uv where the venv was made by uv."""
    if wish:
        if wish not in ENV_TOOLS:
            raise PlanProblem(f"--env-tool {wish!r}: one of {', '.join(ENV_TOOLS)}")
        return wish
    if kind == "conda":
        return "conda"
    return "uv" if uv_venv else "venv"


def has_resume_retries(python: str) -> bool:
    return tuple(int(p) for p in python.split(".")) >= (3, 9)


def _cuda(text: str) -> Tuple[int, int]:
    version = cuda_tuple(text)
    assert version is not None, f"cuda_images.csv: {text!r} (checked when the table loads)"
    return version


def base_image(resolution: Resolution, stack: Stack, m: Matrices) -> BaseImage:
    """The newest CUDA image at or below both the stack's CUDA and the driver's: nvidia/cuda images set
    NVIDIA_REQUIRE_CUDA=cuda>=X.Y and the NVIDIA container runtime refuses to start them on an older
    driver (matrices/cuda_images.csv). The wheels bring their own CUDA runtime, so the image's CUDA only
    has to be one the driver accepts."""
    need = cuda_tuple(stack.driver.cuda)
    assert need is not None, "a resolved stack names its CUDA"
    cap = need
    driver_cuda = cuda_tuple(resolution.target.driver_cuda)
    if driver_cuda is not None and driver_cuda < cap:
        cap = driver_cuda
    rows = [r for r in m.table("cuda_images") if _cuda(r.cuda) <= cap and _cuda(r.cuda)[0] == need[0]]
    if not rows:
        return BaseImage(PLAIN_IMAGE, PLAIN_PYTHON, f"no CUDA {need[0]}.x base image in envdoctor's data at or below "
                                                   f"CUDA {'.'.join(map(str, cap))}", cuda=False)
    row = max(rows, key=lambda r: _cuda(r.cuda))
    t = resolution.target
    why = (f"CUDA {row.cuda}: driver {t.driver} runs it" if t.driver else
           f"CUDA {row.cuda}: the stack's CUDA; the host driver must run it")
    return BaseImage(row.image, row.python, why)


def make_plan(resolution: Resolution, env: str, env_tool: str, index_url: Optional[str] = None,
              torch_index_url: Optional[str] = None, model: Optional[str] = None,
              matrices: Optional[Matrices] = None) -> Plan:
    """`matrices` (the shipped tables when None) gives the container base image."""
    stack = resolution.stack
    if stack is None:
        raise PlanProblem("no working stack to plan")
    py = os.path.join(env, "bin", "python")
    resume = has_resume_retries(stack.python)
    flags = ("--timeout", PIP_TIMEOUT, "--retries", PIP_RETRIES) + (("--resume-retries", PIP_RETRIES) if resume else ())
    default_index = ("--index-url", index_url) if index_url else ()
    steps = (
        _driver_step(resolution, stack),
        _env_step(env, env_tool, stack, resolution.target.python),
        _pip_step(py, stack, flags[:4], index_url, resume),
        _torch_step(py, stack, flags, torch_index_url or stack.torch_index, index_url, env_tool),
        _vllm_step(py, env, stack, flags, default_index, index_url, torch_index_url or stack.torch_index),
    )
    fits = resolution.fit
    if fits is not None:
        from envdoctor.fit.calc import smoke_options
    smoke = f"envdoctor run-smoke --python {py}" + (
        f" {smoke_options(fits)}" if fits is not None else f" --model {model}" if model else "")
    if matrices is None:
        from envdoctor.compat.tables import Matrices

        matrices = Matrices()
    return Plan(resolution, env, env_tool, steps, flags, (smoke,), base_image(resolution, stack, matrices))


def _driver_step(resolution: Resolution, stack: Stack) -> Step:
    t, floor = resolution.target, stack.driver
    native = floor.windows if t.os == "wsl2" else floor.linux
    need = floor.compat if floor.via_compat and floor.compat else (native or floor.compat or "0")
    where = Msg("plan.driver.where.wsl2" if t.os == "wsl2" else "plan.driver.where")
    script = ("import subprocess,sys;"
              "v=subprocess.run(['nvidia-smi','--query-gpu=driver_version','--format=csv,noheader'],"
              "capture_output=True,text=True,timeout=30).stdout.split()[0];"
              f"ok=tuple(map(int,v.split('.')))>=tuple(map(int,'{need}'.split('.')));"
              f"print('NVIDIA driver',v);sys.exit(0 if ok else 'driver '+v+' is older than {need}')")
    built = (
        Msg("plan.driver.built.same", vllm=stack.vllm.version, torch=stack.torch.version, cuda=stack.cuda)
        if (stack.vllm_cuda or stack.cuda) == stack.cuda
        else Msg(
            "plan.driver.built.both",
            vllm=stack.vllm.version,
            vllm_cuda=stack.vllm_cuda,
            torch=stack.torch.version,
            cuda=stack.cuda,
        )
    )
    why = Msg("plan.driver.why", built=built, where=where, need=need,
              native=Msg("plan.driver.native", native=native, cuda=floor.cuda) if native and native != need else "")
    return Step("driver", Msg("plan.driver.title"), why,
                verify=(Check(Msg("plan.driver.check", need=need), ("python3", "-c", _py(script)), needs_gpu=True),))


def _env_step(env: str, tool: str, stack: Stack, current: Optional[str]) -> Step:
    py = stack.python
    commands: Tuple[Tuple[str, ...], ...]
    if tool == "conda":
        commands = (("conda", "create", "-y", "-p", env, f"python={py}"),)
        how = Msg("plan.env.how.conda")
    elif tool == "uv":
        commands = (("uv", "venv", "--seed", "--python", py, env),)
        how = Msg("plan.env.how.uv")
    else:
        commands = ((f"python{py}", "-m", "venv", env),)
        how = Msg("plan.env.how.venv.other" if current and current != py else "plan.env.how.venv", python=py,
                  current=current or "")
    why = Msg(
        "plan.env.why", how=how, python=py, pythons=", ".join(stack.pythons), limits="; ".join(stack.python_limits)
    )
    check = ("import sys;v='%d.%d'%sys.version_info[:2];print('Python',sys.version.split()[0]);"
             f"sys.exit(0 if v=='{py}' else 'Python '+v+' is not {py}')")
    return Step(
        "env",
        Msg("plan.env.title", tool=tool, python=py),
        why,
        commands=commands,
        verify=(Check(Msg("plan.env.check", python=py), (os.path.join(env, "bin", "python"), "-c", _py(check))),),
        network=tool != "venv",
    )


def _pip_step(py: str, stack: Stack, flags: Tuple[str, ...], index_url: Optional[str], resume: bool) -> Step:
    req = f"pip>={PLAN_PIP}" if resume else "pip"
    why = (Msg("plan.pip.why", pip=PLAN_PIP, resume=RESUME_PIP) if resume else
           Msg("plan.pip.why.old", python=stack.python, resume=RESUME_PIP))
    check = ("import sys;from importlib.metadata import version;v=version('pip');print('pip',v);"
             f"sys.exit(0 if tuple(int(p) for p in v.split('.')[:2])>={tuple(int(p) for p in PLAN_PIP.split('.'))} "
             f"else 'pip '+v+' is older than {PLAN_PIP}')") if resume else "import pip;print('pip',pip.__version__)"
    return Step("pip", Msg("plan.pip.title"), why,
                commands=((py, "-m", "pip", "install", "--upgrade") + flags
                          + (("--index-url", index_url) if index_url else ()) + (req,),),
                verify=(Check(Msg("plan.pip.check", pip=PLAN_PIP) if resume else Msg("plan.pip.check.runs"),
                              (py, "-c", _py(check))),), network=True,
                install=Install((req,), index_url, upgrade=True))


def _torch_step(py: str, stack: Stack, flags: Tuple[str, ...], index: Optional[str], default: Optional[str],
                tool: str = "venv") -> Step:
    pin = stack.torch.pin
    where = ("--index-url", index) if index else (("--index-url", default) if default else ())
    command = (py, "-m", "pip", "install") + flags + where + (pin,)
    if tool == "uv" and index and index.rstrip("/").endswith("/" + stack.cuda_tag):
        # uv picks the PyTorch index of a CUDA build itself (uv pip install --torch-backend cu121).
        command = ("uv", "pip", "install", "--python", py, "--torch-backend", stack.cuda_tag, pin)
    why = Msg("plan.torch.why", vllm=stack.vllm.version, pin=pin, cuda=stack.cuda, tag=stack.cuda_tag)
    check = ("import sys,torch;v=torch.__version__.split('+')[0];c=torch.version.cuda;"
             "print('torch',torch.__version__,'CUDA',c);"
             f"sys.exit(0 if (v,c)==('{stack.torch.version}','{stack.cuda}') else "
             f"'torch '+v+' CUDA '+str(c)+' is not {stack.torch.version} CUDA {stack.cuda}')")
    gpu = ("import torch;ok=torch.cuda.is_available();"
           "print('GPU:',torch.cuda.get_device_name(0) if ok else None);"
           "raise SystemExit(0 if ok else 'torch cannot reach the GPU (torch.cuda.is_available() is False)')")
    return Step(
        "torch",
        Msg("plan.torch.title", torch=stack.torch.version, tag=stack.cuda_tag),
        why,
        commands=(command,),
        verify=(
            Check(Msg("plan.torch.check", torch=stack.torch.version, cuda=stack.cuda), (py, "-c", _py(check))),
            Check(Msg("plan.torch.check.gpu"), (py, "-c", _py(gpu)), needs_gpu=True),
        ),
        download_bytes=stack.torch.size_bytes,
        download_note=Msg("plan.torch.download"),
        network=True,
        install=Install((pin,), index or default),
    )


def _vllm_step(py: str, env: str, stack: Stack, flags: Tuple[str, ...], default_index: Tuple[str, ...],
               index_url: Optional[str], torch_index: Optional[str] = None) -> Step:
    constraints = os.path.join(env, CONSTRAINTS)
    pins = (stack.vllm.pin,) + tuple(c.pin for c in stack.companions) + stack.extra_pins
    companions = ", ".join(c.pin for c in stack.companions)
    extra = Msg("plan.vllm.extra", pins=", ".join(stack.extra_pins)) if stack.extra_pins else ""
    variant = ""
    if stack.variant and torch_index:
        # A CUDA-variant wheel comes from vLLM's GitHub release; its companions from torch's CUDA index.
        default_index = default_index + ("--extra-index-url", torch_index)
        variant = Msg("plan.vllm.variant", variant=stack.variant, tag=stack.cuda_tag, index=torch_index)
    why = Msg("plan.vllm.why", companions=companions if stack.companions else Msg("plan.vllm.none"),
              torch=stack.torch.version, extra=extra, variant=variant)
    check = ("import sys;from importlib.metadata import version;import vllm;"
             "v,t=version('vllm'),version('torch').split('+')[0];print('vllm',v,'torch',t);"
             f"sys.exit(0 if (v,t)==('{stack.vllm.version}','{stack.torch.version}') else "
             f"'vllm '+v+' torch '+t+' is not vllm {stack.vllm.version} torch {stack.torch.version}')")
    size = sum(p.size_bytes or 0 for p in (stack.vllm,) + stack.companions) or None
    return Step("vllm", Msg("plan.vllm.title", vllm=stack.vllm.version), why,
                commands=((py, "-m", "pip", "install") + flags + default_index + ("-c", constraints) + pins,),
                verify=(Check(Msg("plan.vllm.check", vllm=stack.vllm.version, torch=stack.torch.version),
                              (py, "-c", _py(check))),
                        Check(Msg("plan.vllm.check.pip"), (py, "-m", "pip", "check"))),
                writes=(FileWrite(constraints, f"{stack.torch.pin}\n"),),
                download_bytes=size, download_note=Msg("plan.vllm.download"),
                network=True, install=Install(pins, index_url, constraints))
