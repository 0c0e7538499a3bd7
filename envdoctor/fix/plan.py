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

from envdoctor.fix.resolve import Resolution, Stack
from envdoctor.core.errors import UsageError
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
    where = "the Windows driver (WSL 2 uses it)" if t.os == "wsl2" else "the NVIDIA driver"
    script = ("import subprocess,sys;"
              "v=subprocess.run(['nvidia-smi','--query-gpu=driver_version','--format=csv,noheader'],"
              "capture_output=True,text=True,timeout=30).stdout.split()[0];"
              f"ok=tuple(map(int,v.split('.')))>=tuple(map(int,'{need}'.split('.')));"
              f"print('NVIDIA driver',v);sys.exit(0 if ok else 'driver '+v+' is older than {need}')")
    built = (f"vLLM {stack.vllm.version} and torch {stack.torch.version} are built for CUDA {stack.cuda}"
             if (stack.vllm_cuda or stack.cuda) == stack.cuda else
             f"vLLM {stack.vllm.version} is built for CUDA {stack.vllm_cuda}, torch {stack.torch.version} for CUDA {stack.cuda}")
    why = (f"{built}: {where} must be {need} or newer"
           + (f" ({native} or newer runs CUDA {floor.cuda} natively)" if native and native != need else "")
           + ". The wheels bring their own CUDA runtime: no CUDA toolkit is needed.")
    return Step("driver", "Check the NVIDIA driver", why, verify=(Check(f"driver >= {need}", ("python3", "-c", _py(script)), needs_gpu=True),))


def _env_step(env: str, tool: str, stack: Stack, current: Optional[str]) -> Step:
    py = stack.python
    if tool == "conda":
        commands = (("conda", "create", "-y", "-p", env, f"python={py}"),)
        how = "a new conda environment (conda brings its own Python)"
    elif tool == "uv":
        commands = (("uv", "venv", "--seed", "--python", py, env),)
        how = "a new uv virtual environment (uv finds or fetches the Python; --seed puts pip in it)"
    else:
        commands = ((f"python{py}", "-m", "venv", env),)
        how = f"a new virtual environment from python{py}" + (
            f" (the Python in use is {current}: install python{py} first, or rerun with --env-tool uv)"
            if current and current != py else "")
    why = (f"{how}, never the environment in use: a half-finished install cannot damage it. Python {py}: "
           f"the wheels of this stack exist for Python {', '.join(stack.pythons)} ({'; '.join(stack.python_limits)}).")
    check = ("import sys;v='%d.%d'%sys.version_info[:2];print('Python',sys.version.split()[0]);"
             f"sys.exit(0 if v=='{py}' else 'Python '+v+' is not {py}')")
    return Step("env", f"Create the environment ({tool}, Python {py})", why, commands=commands,
                verify=(Check(f"the new environment runs Python {py}", (os.path.join(env, "bin", "python"), "-c", _py(check))),),
                network=tool != "venv")


def _pip_step(py: str, stack: Stack, flags: Tuple[str, ...], index_url: Optional[str], resume: bool) -> Step:
    req = f"pip>={PLAN_PIP}" if resume else "pip"
    why = (f"pip {PLAN_PIP} or newer resumes a download that broke off (--resume-retries, pip {RESUME_PIP}) instead "
           "of starting 800 MB again, and resolves without downloading (what `fix --apply` builds on)." if resume else
           f"the newest pip Python {stack.python} can run (pip {RESUME_PIP}, which resumes broken downloads, "
           "needs Python 3.9).")
    check = ("import sys;from importlib.metadata import version;v=version('pip');print('pip',v);"
             f"sys.exit(0 if tuple(int(p) for p in v.split('.')[:2])>={tuple(int(p) for p in PLAN_PIP.split('.'))} "
             f"else 'pip '+v+' is older than {PLAN_PIP}')") if resume else "import pip;print('pip',pip.__version__)"
    return Step("pip", "Upgrade pip", why,
                commands=((py, "-m", "pip", "install", "--upgrade") + flags
                          + (("--index-url", index_url) if index_url else ()) + (req,),),
                verify=(Check(f"pip {'>= ' + PLAN_PIP if resume else 'runs'}", (py, "-c", _py(check))),), network=True,
                install=Install((req,), index_url, upgrade=True))


def _torch_step(py: str, stack: Stack, flags: Tuple[str, ...], index: Optional[str], default: Optional[str],
                tool: str = "venv") -> Step:
    pin = stack.torch.pin
    where = ("--index-url", index) if index else (("--index-url", default) if default else ())
    command = (py, "-m", "pip", "install") + flags + where + (pin,)
    if tool == "uv" and index and index.rstrip("/").endswith("/" + stack.cuda_tag):
        # uv picks the PyTorch index of a CUDA build itself (uv pip install --torch-backend cu121).
        command = ("uv", "pip", "install", "--python", py, "--torch-backend", stack.cuda_tag, pin)
    why = (f"vLLM {stack.vllm.version} pins {pin} exactly (its compiled kernels link against it); the CUDA "
           f"{stack.cuda} build ({stack.cuda_tag}) is the one the package index serves for {pin}, which vLLM's "
           "release is made with. Installed on its own first, so the largest download is retried and verified by itself.")
    check = ("import sys,torch;v=torch.__version__.split('+')[0];c=torch.version.cuda;"
             "print('torch',torch.__version__,'CUDA',c);"
             f"sys.exit(0 if (v,c)==('{stack.torch.version}','{stack.cuda}') else "
             f"'torch '+v+' CUDA '+str(c)+' is not {stack.torch.version} CUDA {stack.cuda}')")
    gpu = ("import torch;ok=torch.cuda.is_available();"
           "print('GPU:',torch.cuda.get_device_name(0) if ok else None);"
           "raise SystemExit(0 if ok else 'torch cannot reach the GPU (torch.cuda.is_available() is False)')")
    return Step("torch", f"Install torch {stack.torch.version} ({stack.cuda_tag})", why,
                commands=(command,),
                verify=(Check(f"torch {stack.torch.version} built for CUDA {stack.cuda}", (py, "-c", _py(check))),
                        Check("torch reaches the GPU", (py, "-c", _py(gpu)), needs_gpu=True)),
                download_bytes=stack.torch.size_bytes,
                download_note="plus the CUDA libraries torch depends on (nvidia-* wheels), not counted",
                network=True, install=Install((pin,), index or default))


def _vllm_step(py: str, env: str, stack: Stack, flags: Tuple[str, ...], default_index: Tuple[str, ...],
               index_url: Optional[str], torch_index: Optional[str] = None) -> Step:
    constraints = os.path.join(env, CONSTRAINTS)
    pins = (stack.vllm.pin,) + tuple(c.pin for c in stack.companions) + stack.extra_pins
    companions = ", ".join(c.pin for c in stack.companions) or "none"
    why = (f"vLLM with the companions it pins ({companions}); the constraints file holds torch at "
           f"{stack.torch.version} so pip can never swap in another build."
           + (f" Also {', '.join(stack.extra_pins)}, which this release needs." if stack.extra_pins else ""))
    if stack.variant and torch_index:
        # A CUDA-variant wheel comes from vLLM's GitHub release; its companions from torch's CUDA index.
        default_index = default_index + ("--extra-index-url", torch_index)
        why += f" vLLM's {stack.variant} wheel comes from its GitHub release, its companions' {stack.cuda_tag} builds from {torch_index}."
    check = ("import sys;from importlib.metadata import version;import vllm;"
             "v,t=version('vllm'),version('torch').split('+')[0];print('vllm',v,'torch',t);"
             f"sys.exit(0 if (v,t)==('{stack.vllm.version}','{stack.torch.version}') else "
             f"'vllm '+v+' torch '+t+' is not vllm {stack.vllm.version} torch {stack.torch.version}')")
    size = sum(p.size_bytes or 0 for p in (stack.vllm,) + stack.companions) or None
    return Step("vllm", f"Install vLLM {stack.vllm.version}", why,
                commands=((py, "-m", "pip", "install") + flags + default_index + ("-c", constraints) + pins,),
                verify=(Check(f"vllm {stack.vllm.version} imports, torch is still {stack.torch.version}", (py, "-c", _py(check))),
                        Check("no broken requirements (pip check)", (py, "-m", "pip", "check"))),
                writes=(FileWrite(constraints, f"{stack.torch.pin}\n"),),
                download_bytes=size, download_note="plus vLLM's other dependencies, not counted",
                network=True, install=Install(pins, index_url, constraints))
