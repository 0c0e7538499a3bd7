"""The resolver: Facts + matrices + what the user wants -> one known-good stack, or why not.

Pure: no probing, no network. For every vLLM release that the wish allows (newest first) it asks:
does vLLM ship a wheel for this OS and CPU; does the GPU's compute capability reach vLLM's
minimum (and does torch's build carry kernels for it, where that is known); does the driver run
the CUDA that vLLM's kernels and the pinned torch are built for (natively, or through CUDA
minor-version compatibility); is there a Python that EVERY wheel of the stack exists for (vLLM,
torch, and the companions vLLM pins: xformers, vllm-flash-attn, flashinfer-python). The first
release that passes is the plan; every newer one gets its reasons in one line. When none passes,
the candidate with the fewest blockers says what has to change.

torch's CUDA build is always the one the package index serves by default for that torch: it is
what vLLM's release was built and tested against (its wheels link libcudart of the same major),
and the torchvision/torchaudio/xformers wheels vLLM pins from the same index are built for it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple

from packaging.markers import UndefinedEnvironmentName
from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from .facts import DriverFacts
from .matrices import Matrices, TorchRelease, VllmRelease
from .model import Facts
from .rules.base import cuda_tag, cuda_tuple, driver_max_cuda, driver_runs_cuda, gpu_cc, pinned_version
from .rules.torch import arch_supported

if TYPE_CHECKING:
    from .fit import FitPlan, ModelShape

NVIDIA_DRIVERS = "https://www.nvidia.com/Download/index.aspx"


class UsageProblem(ValueError):
    """A wish that cannot be understood (exit code 4): one line naming the option."""


@dataclass(frozen=True)
class Wishes:
    vllm: Optional[str] = None  # "0.5.3", "==0.5.3", ">=0.6,<0.8"; None: the newest that runs
    python: Optional[str] = None  # "3.11"
    driver: Optional[str] = None  # plan for this driver instead of the one found
    gpu: Optional[str] = None  # plan for this GPU (a name from gpus.csv)
    cc: Optional[str] = None  # ... or just its compute capability
    os: Optional[str] = None  # linux | wsl2


@dataclass(frozen=True)
class TargetGpu:
    name: str
    cc: Optional[str]
    memory_mib: Optional[int] = None
    free_mib: Optional[int] = None


@dataclass(frozen=True)
class Target:
    """The machine the plan is for: this one as probed, with the user's overrides on top."""

    os: str  # linux | wsl2 | wsl1 | windows | macos | unknown
    machine: str  # x86_64 | aarch64
    driver: Optional[str] = None
    driver_cuda: Optional[str] = None  # the newest CUDA the driver runs natively
    driver_problem: Optional[str] = None  # why the driver is not known (did not answer, ...)
    gpus: Optional[Tuple[TargetGpu, ...]] = None  # None: not known (planning for another machine)
    python: Optional[str] = None  # X.Y of the interpreter in use
    python_kind: str = "system"  # venv | conda | system
    python_prefix: Optional[str] = None
    pip: Optional[str] = None
    toolkit: Optional[str] = None  # nvcc's CUDA version, when one is installed
    observed_archs: Tuple[Tuple[str, str, Tuple[str, ...]], ...] = ()  # (torch, cuda, arch list) seen here
    overridden: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Blocker:
    kind: str  # platform | gpu | driver | python | data
    text: str  # a clause after "vllm X ": "needs torch 2.14.0 built for CUDA 13.0; driver ..."
    change: str  # what would have to change, as an instruction


@dataclass(frozen=True)
class Rejected:
    vllm: str
    blockers: Tuple[Blocker, ...]

    @property
    def line(self) -> str:
        return f"vllm {self.vllm} " + "; ".join(b.text for b in self.blockers)


@dataclass(frozen=True)
class DriverFloor:
    cuda: str  # the newest CUDA the stack's binaries are built for
    linux: Optional[str]  # the lowest driver that runs it natively
    windows: Optional[str]
    compat: Optional[str]  # the lowest driver of that CUDA major (minor-version compatibility)
    via_compat: bool = False  # this machine's driver runs it only through minor-version compatibility


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    python_tags: Tuple[str, ...] = ()
    size_bytes: Optional[int] = None

    @property
    def pin(self) -> str:
        return f"{self.name}=={self.version}"


@dataclass(frozen=True)
class Stack:
    vllm: Package
    vllm_cuda: Optional[str]  # the CUDA vLLM's own kernels are built for
    torch: Package
    cuda: str  # torch's CUDA build
    torch_index: Optional[str]  # https://download.pytorch.org/whl/cu121; None: only the default index has it
    python: str
    pythons: Tuple[str, ...]  # every Python all wheels exist for
    python_limits: Tuple[str, ...]  # which wheel allows which Pythons: "vllm-flash-attn 2.5.9.post1: 3.8–3.11"
    companions: Tuple[Package, ...]
    driver: DriverFloor
    min_cc: Optional[str]
    notes: Tuple[str, ...] = ()

    @property
    def cuda_tag(self) -> str:
        return cuda_tag(self.cuda)

    @property
    def download_bytes(self) -> Optional[int]:
        sizes = [p.size_bytes for p in (self.torch, self.vllm) + self.companions]
        return sum(s for s in sizes if s) or None


@dataclass(frozen=True)
class Resolution:
    target: Target
    wanted: str  # "vllm==0.5.3" or "the newest vLLM that runs here"
    stack: Optional[Stack]
    rejected: Tuple[Rejected, ...]  # newer candidates than the stack (all of them when there is none)
    changes: Tuple[str, ...] = ()  # what must change when nothing works
    newest_here: Optional[str] = None  # with a pinned wish: the newest release that would run here
    fit: Optional["FitPlan"] = None
    notes: Tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.stack is not None


# --- parsing the wishes --------------------------------------------------------------------

def vllm_spec(text: Optional[str]) -> Optional[SpecifierSet]:
    if text is None or not text.strip():
        return None
    raw = re.sub(r"^\s*vllm\s*", "", text.strip(), flags=re.I)
    if re.fullmatch(r"\d+(\.\d+)*((a|b|rc|\.post|\.dev)\d+)*", raw):
        raw = f"=={raw}"
    try:
        spec = SpecifierSet(raw)
    except InvalidSpecifier:
        raise UsageProblem(f"--vllm {text!r}: not a version or a version range (for example 0.5.3 or '>=0.6,<0.8')") from None
    if not len(spec):
        raise UsageProblem(f"--vllm {text!r}: not a version or a version range (for example 0.5.3 or '>=0.6,<0.8')")
    return spec


def parse_python(text: Optional[str]) -> Optional[str]:
    if text is None:
        return None
    m = re.fullmatch(r"\s*(3)\.(\d{1,2})(\.\d+)?\s*", text)
    if not m:
        raise UsageProblem(f"--python-version {text!r}: not a Python version like 3.11")
    return f"{m.group(1)}.{m.group(2)}"


def parse_driver(text: str) -> str:
    value = text.strip()
    if not re.fullmatch(r"\d{3}(\.\d{1,3}){0,2}", value):
        raise UsageProblem(f"--driver {text!r}: not an NVIDIA driver version like 535.104.05")
    return value


def parse_cc(text: str) -> str:
    if not re.fullmatch(r"\d{1,2}\.\d", text.strip()):
        raise UsageProblem(f"--cc {text!r}: not a compute capability like 8.6")
    return text.strip()


# --- the target machine ----------------------------------------------------------------------

def target_from(facts: Facts, wishes: Wishes, m: Matrices) -> Target:
    platform, driver, env = facts.get("platform"), facts.get("driver"), facts.get("python")
    if platform is None:
        os_name, machine = "unknown", "x86_64"
    else:
        machine = {"AMD64": "x86_64", "arm64": "aarch64"}.get(platform.machine, platform.machine)
        os_name = {"Linux": "linux", "Windows": "windows", "Darwin": "macos"}.get(platform.system, "unknown")
        if platform.wsl == 2:
            os_name = "wsl2"
        elif platform.wsl == 1:
            os_name = "wsl1"
    t = Target(os=os_name, machine=machine)
    if driver is not None:
        gpus = tuple(TargetGpu(g.name, gpu_cc(g, m), g.memory_total_mib, g.memory_free_mib) for g in driver.gpus)
        t = replace(t, driver=driver.driver_version, driver_cuda=driver_max_cuda(driver, m), gpus=gpus)
    else:
        status = facts.status("driver")
        if status == "absent":
            t = replace(t, gpus=())
        elif status in ("error", "timeout", "crashed"):
            result = facts.results["driver"]
            t = replace(t, driver_problem=f"the NVIDIA driver did not answer ({result.status}: {result.error or '?'})")
    if env is not None:
        t = replace(t, python=".".join(env.version.split(".")[:2]), python_kind=env.kind, python_prefix=env.prefix,
                    pip=env.pip_version)
        runtime = facts.get("torch")
        if env.torch is not None and env.torch.cuda and runtime is not None and runtime.arch_list:
            public = env.torch.version.split("+")[0]
            t = replace(t, observed_archs=((public, env.torch.cuda, tuple(runtime.arch_list)),))
    toolkit = facts.get("cuda")
    if toolkit is not None and toolkit.nvcc_version:
        t = replace(t, toolkit=toolkit.nvcc_version)
    return _overrides(t, wishes, m)


def _overrides(t: Target, w: Wishes, m: Matrices) -> Target:
    changed: List[str] = []
    if w.os:
        if w.os not in ("linux", "wsl2"):
            raise UsageProblem(f"--os {w.os!r}: plan for linux or wsl2")
        t = replace(t, os=w.os)
        changed.append("os")
    if w.driver:
        version = parse_driver(w.driver)
        t = replace(t, driver=version, driver_cuda=_branch_cuda(version, m), driver_problem=None)
        if t.gpus == ():
            t = replace(t, gpus=None)  # another machine: its GPU is unknown unless named
        changed.append("driver")
    if w.gpu or w.cc:
        gpu = _gpu_named(w.gpu, m) if w.gpu else TargetGpu(f"a GPU of compute capability {w.cc}", None)
        if w.cc:
            gpu = replace(gpu, cc=parse_cc(w.cc))
        t = replace(t, gpus=(gpu,))
        if not w.driver and t.driver is None:
            t = replace(t, driver_problem=None)  # unknown driver on the other machine: say the floor
        changed.append("gpu")
    return replace(t, overridden=tuple(changed))


def _branch_cuda(version: str, m: Matrices) -> Optional[str]:
    row = m.branch_max_cuda(version)
    if row is not None:
        return row.max_cuda
    branches = m.table("driver_branches")
    newest = max(branches, key=lambda b: int(b.branch[1:]))
    if int(version.split(".")[0]) > int(newest.branch[1:]):
        return newest.max_cuda  # a branch newer than the data runs at least what the newest known one runs
    return None


def _gpu_named(name: str, m: Matrices) -> TargetGpu:
    hits = m.gpus_named(name)
    if not hits:
        raise UsageProblem(f"--gpu {name!r}: not a GPU envdoctor knows; see `envdoctor matrices show gpu` or pass --cc X.Y")
    if len(hits) > 1:
        raise UsageProblem(f"--gpu {name!r} matches {len(hits)} GPUs ({'; '.join(h.name for h in hits[:4])}): be more specific")
    spec = hits[0]
    options = spec.vram_options()
    return TargetGpu(spec.name, spec.compute_capability, int(min(options) * 1024) if options else None)


# --- one candidate ---------------------------------------------------------------------------

def _py_tag(py: str) -> str:
    return "cp" + py.replace(".", "")


def _py_key(py: str) -> Tuple[int, int]:
    major, minor = py.split(".")
    return int(major), int(minor)


def wheel_has_python(tags: Sequence[str], py: str) -> bool:
    """cp310 exactly; cp38-abi3 for any CPython >= 3.8; py3 for any."""
    for tag in tags:
        if tag.startswith("py3") or tag == _py_tag(py):
            return True
        m = re.fullmatch(r"cp3(\d+)-abi3", tag)
        if m and _py_key(py) >= (3, int(m.group(1))):
            return True
    return False


def _tag_range(tags: Sequence[str]) -> str:
    if any(t.endswith("-abi3") for t in tags):
        return " ".join(f"{t[2]}.{t[3:].split('-')[0]}+" for t in tags if t.endswith("-abi3"))
    cps = sorted((t for t in tags if re.fullmatch(r"cp\d+", t)), key=lambda t: int(t[3:]))
    if not cps:
        return " ".join(tags)
    return f"{cps[0][2]}.{cps[0][3:]}–{cps[-1][2]}.{cps[-1][3:]}" if len(cps) > 1 else f"{cps[0][2]}.{cps[0][3:]}"


def all_pythons(m: Matrices) -> List[str]:
    """Every CPython X.Y some torch release ships wheels for, oldest first."""
    found = {f"3.{t[3:]}" for r in m.table("torch") for t in r.python_tags if re.fullmatch(r"cp3\d+", t)}
    return sorted(found, key=_py_key)


def _marker_env(t: Target) -> dict:
    return {"platform_system": "Linux", "sys_platform": "linux", "platform_machine": t.machine,
            "os_name": "posix", "extra": ""}


def _companions(row: VllmRelease, t: Target) -> List[Requirement]:
    out = []
    for req in row.companions:
        try:
            applies = req.marker is None or req.marker.evaluate(_marker_env(t))
        except UndefinedEnvironmentName:
            applies = True
        if applies:
            out.append(req)
    return out


def _python_choice(row: VllmRelease, torch_row: TorchRelease, companions: Sequence[Package], t: Target,
                   wish: Optional[str], m: Matrices) -> Tuple[List[str], List[str], Optional[Blocker]]:
    """(Pythons every wheel exists for, what limits them, a blocker if none or not the wished one)."""
    vllm_files = m.wheel_files("vllm", str(row.version))
    limits: List[Tuple[str, Sequence[str]]] = [(f"torch {torch_row.version}", torch_row.python_tags)]
    if vllm_files is not None and vllm_files.python_tags:
        limits.insert(0, (f"vllm {row.version}", vllm_files.python_tags))
    limits += [(p.pin.replace("==", " "), p.python_tags) for p in companions if p.python_tags]
    ok = []
    for py in all_pythons(m):
        full = f"{py}.0"
        if not row.python_requires.contains(full) or not torch_row.python_requires.contains(full):
            continue
        if all(wheel_has_python(tags, py) for _, tags in limits):
            ok.append(py)
    described = [f"{who}: {_tag_range(tags)}" for who, tags in limits]
    if not ok:
        return ok, described, Blocker("python", "has no Python that all its wheels exist for ("
                                      + "; ".join(described) + ")",
                                      f"pick another vLLM release (no Python fits vllm {row.version}'s wheels)")
    if wish and wish not in ok:
        missing = [f"{who} ({_tag_range(tags)})" for who, tags in limits if not wheel_has_python(tags, wish)]
        why = ("no wheels for it: " + ", ".join(missing)) if missing else \
            f"outside vllm {row.version}'s Requires-Python {row.python_requires} or torch's {torch_row.python_requires}"
        return ok, described, Blocker("python", f"does not run on Python {wish} ({why})",
                                      f"use Python {_span(ok)} for vllm {row.version}")
    return ok, described, None


def _span(pythons: Sequence[str]) -> str:
    return pythons[0] if len(pythons) == 1 else f"{pythons[0]}–{pythons[-1]}"


def _package(m: Matrices, name: str, version: str) -> Package:
    files = m.wheel_files(name, version)
    if files is None:
        return Package(name, version)
    return Package(name, version, files.python_tags, files.size_bytes)


def _floor(m: Matrices, cuda: str) -> DriverFloor:
    row = m.cuda_min_driver(cuda)
    compat = m.minor_compat(cuda.split(".")[0])
    return DriverFloor(cuda, row.min_driver_linux if row else None, row.min_driver_windows if row else None,
                       compat.min_driver if compat else None)


def _driver_change(floor: DriverFloor, t: Target) -> str:
    if t.os == "wsl2":
        need = floor.windows or floor.compat
        return (f"update the NVIDIA driver on Windows to {need} or newer (WSL 2 uses the Windows driver; "
                f"CUDA {floor.cuda})")
    need = floor.linux or floor.compat
    return f"update the NVIDIA driver to {need} or newer (CUDA {floor.cuda}): {NVIDIA_DRIVERS}"


def evaluate(row: VllmRelease, t: Target, wish_python: Optional[str], m: Matrices) -> Tuple[Optional[Stack], Tuple[Blocker, ...]]:
    blockers: List[Blocker] = []
    notes: List[str] = []
    # Platform: vLLM's CUDA wheels are Linux-only (WSL 2 included).
    if t.os == "windows":
        blockers.append(Blocker("platform", "does not run on native Windows (Linux wheels only)",
                                "run it in WSL 2: `wsl --install -d Ubuntu-22.04` in an administrator PowerShell"))
    elif t.os == "wsl1":
        blockers.append(Blocker("platform", "cannot reach the GPU from WSL 1",
                                "convert the distro to WSL 2: `wsl --set-version <distro> 2` in PowerShell"))
    elif t.os == "macos":
        blockers.append(Blocker("platform", "has no CUDA build for macOS", "use a Linux machine with an NVIDIA GPU"))
    if row.platforms and not any(p.endswith("_" + t.machine) for p in row.platforms):
        blockers.append(Blocker("platform", f"has no wheel for {t.machine} (only {' '.join(row.platforms)})",
                                f"pick a vLLM release with {t.machine} wheels, or an x86_64 machine"))
    torch_version = pinned_version(row.torch)
    torch_row = m.torch(torch_version) if torch_version else None
    if torch_row is None:
        return None, tuple(blockers) + (Blocker("data", f"pins torch {row.torch}, which is not in envdoctor's data",
                                                "refresh the data: `envdoctor matrices refresh`"),)
    # GPU.
    if t.gpus == ():
        blockers.append(Blocker("gpu", "needs an NVIDIA GPU; none is visible here",
                                "run on a machine with an NVIDIA GPU (or plan for one with --gpu NAME --driver X)"))
    for g in t.gpus or ():
        if g.cc and row.min_cc and cuda_tuple(g.cc) < cuda_tuple(row.min_cc):
            blockers.append(Blocker("gpu", f"needs compute capability >= {row.min_cc}; {g.name} is {g.cc}",
                                    f"use a GPU with compute capability {row.min_cc} or higher"))
    if t.gpus and not row.min_cc:
        notes.append(f"vllm {row.version}'s minimum compute capability is not in envdoctor's data (no sdist to read it from)")
    # CUDA: torch's default build, and vLLM's own kernels (same major).
    build = torch_row.default_cuda
    vllm_cuda = row.cuda or build
    if row.cuda is None:
        notes.append(f"vllm {row.version}'s CUDA build is not in envdoctor's data; assumed torch's ({build})")
    if build is None or vllm_cuda is None:
        return None, tuple(blockers) + (Blocker("data", f"torch {torch_row.version}'s default CUDA build is not in envdoctor's data",
                                                "refresh the data: `envdoctor matrices refresh`"),)
    if build.split(".")[0] != vllm_cuda.split(".")[0]:
        blockers.append(Blocker("data", f"is built for CUDA {vllm_cuda} but torch {torch_row.version}'s wheel for CUDA {build}",
                                "pick another vLLM release"))
    need = max((vllm_cuda, build), key=cuda_tuple)
    floor = _floor(m, need)
    if t.driver_problem and t.gpus is None:
        blockers.append(Blocker("driver", "needs a working NVIDIA driver; the one here did not answer",
                                "fix the driver first (see `envdoctor check`)"))
    elif t.driver:
        fake = DriverFacts(source="plan", driver_version=t.driver, cuda_max=t.driver_cuda)
        runs = [driver_runs_cuda(fake, c, m) for c in {vllm_cuda, build}]
        if any(r is False for r in runs) or t.driver_cuda is None:
            built = (f"torch {torch_row.version} built for CUDA {build}" if vllm_cuda == build else
                     f"CUDA {vllm_cuda} (its kernels) and torch {torch_row.version} built for CUDA {build}")
            have = f"CUDA <= {t.driver_cuda}" if t.driver_cuda else "a CUDA older than envdoctor's data"
            blockers.append(Blocker("driver", f"needs {built}; driver {t.driver} supports {have}",
                                    _driver_change(floor, t)))
        elif cuda_tuple(t.driver_cuda) < cuda_tuple(need):
            floor = replace(floor, via_compat=True)
    # torch's kernels for this GPU, where the arch list is known (the data, or what this machine showed).
    archs = _arch_list(torch_row, build, t, m)
    too_low = {b.text for b in blockers if b.kind == "gpu"}
    for g in t.gpus or ():
        if any(g.name in text for text in too_low):
            continue  # below vLLM's minimum already says it
        if g.cc and archs and not arch_supported(g.cc, archs[0]):
            blockers.append(Blocker("gpu", f"pins torch {torch_row.version} whose CUDA {build} build has no kernels "
                                           f"for {g.name} (sm_{g.cc.replace('.', '')}; it has {' '.join(archs[0])}, "
                                           f"from {archs[1]})", "pick a newer vLLM release"))
        elif g.cc and not archs and cuda_tuple(g.cc) >= (10, 0):
            notes.append(f"whether torch {torch_row.version} (CUDA {build}) has kernels for {g.name} "
                         f"(sm_{g.cc.replace('.', '')}) is not in envdoctor's data")
    # Python: every wheel of the stack.
    companions = [_package(m, r.name, pinned_version(r.specifier) or str(r.specifier)) for r in _companions(row, t)]
    for c in companions:
        files = m.wheel_files(c.name, c.version)
        if files is not None and not files.python_tags:
            blockers.append(Blocker("data", f"pins {c.pin}, which has no wheel (it would build from source)",
                                    "pick another vLLM release"))
    pythons, limits, py_blocker = _python_choice(row, torch_row, companions, t, wish_python, m)
    if py_blocker is not None:
        blockers.append(py_blocker)
    if blockers:
        return None, tuple(blockers)
    python = wish_python or (t.python if t.python in pythons else pythons[-1])
    if t.python and python != t.python and not wish_python:
        notes.append(f"Python {python} for the new environment: the Python in use ({t.python}) has no wheels for "
                     f"this stack ({'; '.join(limits)})")
    index = torch_row.index_url(cuda_tag(build)) if cuda_tag(build) in torch_row.cuda_builds else None
    stack = Stack(vllm=_package(m, "vllm", str(row.version)), vllm_cuda=row.cuda, torch=_package(m, "torch", str(torch_row.version)),
                  cuda=build, torch_index=index, python=python, pythons=tuple(pythons), python_limits=tuple(limits), companions=tuple(companions),
                  driver=floor, min_cc=row.min_cc, notes=tuple(notes) + tuple(_stack_notes(row, t, floor, index, limits)))
    return stack, ()


def _arch_list(torch_row: TorchRelease, cuda: str, t: Target, m: Matrices) -> Optional[Tuple[Tuple[str, ...], str]]:
    row = m.torch_archs(str(torch_row.version), cuda)
    if row is not None:
        return row.arch_list, "matrices/torch_archs.csv"
    for version, build, archs in t.observed_archs:
        if version == str(torch_row.version) and build == cuda:
            return archs, "torch.cuda.get_arch_list() on this machine"
    return None


def _stack_notes(row: VllmRelease, t: Target, floor: DriverFloor, index: Optional[str], limits: Sequence[str]) -> List[str]:
    here = t.toolkit and not t.overridden
    notes = ["No CUDA toolkit is needed: the wheels bring their own CUDA runtime; only the driver matters"
             + (f" (the CUDA {t.toolkit} toolkit installed here is not used)." if here else ".")]
    if floor.via_compat:
        native = floor.windows if t.os == "wsl2" else floor.linux
        notes.append(f"Driver {t.driver} runs CUDA {floor.cuda} through minor-version compatibility (CUDA "
                     f"{floor.cuda.split('.')[0]}.x on drivers >= {floor.compat}); {native or 'a newer driver'} or newer "
                     "runs it natively.")
    if any(g.cc and cuda_tuple(g.cc) < (8, 0) for g in t.gpus or ()):
        notes.append("Compute capability below 8.0 has no bfloat16: run vLLM with --dtype half.")
    if index is None:
        notes.append("torch's CUDA build is not listed on the PyTorch wheel index in envdoctor's data: it is "
                     "installed from the default package index.")
    if t.gpus is None:
        notes.append(f"GPU not known: it needs compute capability {row.min_cc or '?'} or higher.")
    if t.driver is None:
        notes.append(f"Driver not known: it needs {floor.linux or floor.compat} or newer on Linux"
                     + (f", {floor.windows} or newer on Windows (WSL 2)" if floor.windows else "") + ".")
    return notes


# --- the whole search ------------------------------------------------------------------------

def candidates(m: Matrices, spec: Optional[SpecifierSet]) -> List[VllmRelease]:
    rows = sorted(m.table("vllm"), key=lambda r: r.version, reverse=True)
    if spec is None:
        return rows
    return [r for r in rows if spec.contains(r.version, prereleases=True)]


def resolve(facts: Facts, wishes: Wishes, m: Matrices, model: Optional["ModelShape"] = None) -> Resolution:
    spec = vllm_spec(wishes.vllm)
    wish_python = parse_python(wishes.python)
    target = target_from(facts, wishes, m)
    rows = candidates(m, spec)
    if not rows:
        known = sorted(r.version for r in m.table("vllm"))
        raise UsageProblem(f"--vllm {wishes.vllm!r}: no vLLM release in envdoctor's data matches "
                           f"(it knows {known[0]} to {known[-1]}; see `envdoctor matrices show vllm`)")
    wanted = "the newest vLLM that runs here" if spec is None else f"vllm{spec}"
    stack, rejected = _search(rows, target, wish_python, m)
    changes: Tuple[str, ...] = ()
    if stack is None:
        changes = _changes(rows, rejected)
    newest = None
    if spec is not None:
        everything, _ = _search(candidates(m, None), target, wish_python, m)
        if everything is not None and (stack is None or everything.vllm.version != stack.vllm.version):
            newest = everything.vllm.version
    fit_plan = _fit(model, target, stack, m) if model is not None else None
    notes = (target.driver_problem,) if target.driver_problem and target.gpus is None else ()
    return Resolution(target, wanted, stack, tuple(rejected), changes, newest, fit_plan, notes)


def _changes(rows: Sequence[VllmRelease], rejected: Sequence[Rejected]) -> Tuple[str, ...]:
    """What has to change: the blockers of the release nearest to working (fewest blockers, newest
    first), preferring releases whose data is complete (a missing min_cc is not a pass)."""
    by_version = {str(r.version): r for r in rows}
    complete = {v for v, r in by_version.items() if r.min_cc and r.cuda}
    pool = [r for r in rejected if r.vllm in complete] or list(rejected)
    order = [x.vllm for x in rejected]

    def demand(r: Rejected) -> tuple:  # fewest blockers, then the lowest GPU and CUDA demands, then newest
        row = by_version[r.vllm]
        return (len(r.blockers), cuda_tuple(row.min_cc) or (0, 0), cuda_tuple(row.cuda) or (0, 0), order.index(r.vllm))

    best = min(pool, key=demand)
    changes = tuple(dict.fromkeys(b.change for b in best.blockers))
    if best.vllm != rejected[0].vllm:
        changes += (f"(that is for vllm {best.vllm}, the release nearest to working here)",)
    return changes


def _search(rows: Sequence[VllmRelease], t: Target, wish_python: Optional[str], m: Matrices) -> Tuple[Optional[Stack], List[Rejected]]:
    rejected = []
    for row in rows:
        stack, blockers = evaluate(row, t, wish_python, m)
        if stack is not None:
            return stack, rejected
        rejected.append(Rejected(str(row.version), blockers))
    return None, rejected


def _fit(model: "ModelShape", t: Target, stack: Optional[Stack], m: Matrices) -> Optional["FitPlan"]:
    from . import fit
    from .model_fit import plan_for

    gpu = (t.gpus or (None,))[0]
    if gpu is None or not gpu.memory_mib:
        return None
    mib = 1024 * 1024
    g = fit.Gpu(gpu.name, gpu.memory_mib * mib, gpu.free_mib * mib if gpu.free_mib is not None else None, gpu.cc)
    return plan_for(model, g, m, vllm=stack.vllm.version if stack else None)

