"""The resolver: Facts + matrices + what the user wants -> one known-good stack, or why not.

Pure: no probing, no network. For every vLLM release that the wish allows (newest first) it tries
each build the release has (compat.builds: the package index's wheel with torch's default build, the
same torch from another CUDA build where the GPU needs it, the CUDA-variant wheels on vLLM's GitHub
release) and asks compat.judge whether it runs here: platform and CPU, glibc, the GPU's compute
capability against the kernels of vLLM and torch, the driver against the CUDA of both (natively or
through minor-version compatibility). Then a Python every wheel of the stack exists for. The first
build that passes is the plan; every newer release gets its reasons in one line. What is not known
(an empty minimum compute capability, a missing arch list, an unmapped driver) blocks, never passes.
When nothing passes, the changes name real floors: the driver that unlocks the newest release and
the least driver that runs anything here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from envdoctor.compat import driver as drv
from envdoctor.compat import python as pyc
from envdoctor.compat.builds import Build, builds
from envdoctor.compat.judge import GpuSeen, Machine, Problem, judge
from envdoctor.compat.known import glibc_floor, glibc_of, issues, known_text
from envdoctor.compat.tables import Matrices, VllmRelease, driver_key
from envdoctor.core.results import Facts
from envdoctor.messages import Msg
from envdoctor.rules.base import cuda_tag, driver_max_cuda, gpu_cc, pinned_version

if TYPE_CHECKING:
    from envdoctor.fit.calc import FitPlan, ModelShape

from envdoctor.compat.judge import NVIDIA_DRIVERS  # noqa: E402,F401 - re-exported
from envdoctor.core.errors import UsageError


class UsageProblem(UsageError, ValueError):
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
    glibc: Optional[str] = None  # the distribution's glibc, where envdoctor knows it
    jetson: bool = False  # a Jetson: driver and CUDA come with JetPack
    overridden: Tuple[str, ...] = ()

    def machine_view(self) -> Machine:
        gpus = None if self.gpus is None else tuple(GpuSeen(g.name, g.cc) for g in self.gpus)
        return Machine(self.os, self.machine, self.driver, self.driver_cuda, gpus, self.glibc, self.jetson,
                       self.observed_archs)


@dataclass(frozen=True)
class Blocker:
    kind: str  # platform | gpu | driver | glibc | python | data
    text: str  # a clause after "vllm X ": Msg("blocker.<code>", ...), "needs torch 2.14.0 built for CUDA 13.0; ..."
    change: str  # what would have to change, as an instruction: Msg("change.<code>", ...)


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
    compat: Optional[str]  # the lowest driver of that CUDA major on the target's OS (minor-version compatibility)
    via_compat: bool = False
    compat_linux: Optional[str] = None  # ... on Linux
    compat_windows: Optional[str] = None  # ... on Windows (WSL 2)

    def compat_text(self) -> str:
        """"525.60.13 (Linux) / 527.41 (Windows)": the minor-version floor on each OS."""
        if self.compat_linux and self.compat_windows and self.compat_linux != self.compat_windows:
            return f"{self.compat_linux} (Linux) / {self.compat_windows} (Windows)"
        # this machine's driver runs it only through minor-version compatibility
        return self.compat_linux or self.compat or "?"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    python_tags: Tuple[str, ...] = ()
    size_bytes: Optional[int] = None
    url: Optional[str] = None  # a wheel from a GitHub release rather than the package index

    @property
    def pin(self) -> str:
        return self.url or f"{self.name}=={self.version}"


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
    variant: Optional[str] = None  # cu129: vLLM's CUDA-variant wheel from its GitHub release
    extra_pins: Tuple[str, ...] = ()  # what the release needs besides its own pins ("transformers<4.54.0")
    glibc: Optional[str] = None  # the glibc floor of the vLLM wheel's manylinux tag

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
        raise UsageProblem(f"--vllm {text!r}: not a version or a version range "
                           "(for example 0.5.3 or '>=0.6,<0.8')") from None
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
    platform, driver, env = facts.platform, facts.driver, facts.python
    if platform is None:
        os_name, machine = "unknown", "x86_64"
    else:
        machine = {"AMD64": "x86_64", "arm64": "aarch64"}.get(platform.machine, platform.machine)
        os_name = {"Linux": "linux", "Windows": "windows", "Darwin": "macos"}.get(platform.system, "unknown")
        if platform.wsl == 2:
            os_name = "wsl2"
        elif platform.wsl == 1:
            os_name = "wsl1"
    t = Target(os=os_name, machine=machine,
               glibc=glibc_of(platform.distro_id, platform.distro_version, m) if platform is not None else None)
    if driver is not None:
        gpus = tuple(TargetGpu(g.name, gpu_cc(g, m), g.memory_total_mib, g.memory_free_mib) for g in driver.gpus)
        t = replace(t, driver=driver.driver_version, driver_cuda=driver_max_cuda(driver, m, os_name), gpus=gpus,
                    jetson=machine == "aarch64" and any(_is_jetson(g.name, m) for g in driver.gpus))  # Jetsons are Arm
    else:
        status = facts.status("driver")
        if status == "absent":
            t = replace(t, gpus=())
        elif status in ("error", "timeout", "crashed"):
            result = facts.results["driver"]
            t = replace(
                t, driver_problem=Msg("blocker.driver-unanswered", status=result.status, error=result.error or "?")
            )
    if env is not None:
        t = replace(t, python=".".join(env.version.split(".")[:2]), python_kind=env.kind, python_prefix=env.prefix,
                    pip=env.pip_version)
        runtime = facts.torch
        if env.torch is not None and env.torch.cuda and runtime is not None and runtime.arch_list:
            public = env.torch.version.split("+")[0]
            t = replace(t, observed_archs=((public, env.torch.cuda, tuple(runtime.arch_list)),))
    toolkit = facts.cuda
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
        t = replace(t, driver=version, driver_cuda=drv.cuda_for_driver(version, drv.os_of(t.os), m),
                    driver_problem=None)
        if t.gpus == ():
            t = replace(t, gpus=None)  # another machine: its GPU is unknown unless named
        changed.append("driver")
    if w.gpu or w.cc:
        identity = _gpu_named(w.gpu, m) if w.gpu else None
        # --cc alone: the capability is said once, next to the name (N39)
        gpu = _target_gpu(identity) if identity else TargetGpu("the GPU asked for", None)
        if w.cc:
            gpu = replace(gpu, cc=parse_cc(w.cc))
        t = replace(t, gpus=(gpu,), jetson=bool(identity and identity.jetson))
        if identity is not None and identity.cpu_arch:
            t = replace(t, machine=identity.cpu_arch)  # GH200 / GB200 come with a Grace (aarch64) host
        if not w.driver and t.driver is None:
            t = replace(t, driver_problem=None)  # unknown driver on the other machine: say the floor
        changed.append("gpu")
    return replace(t, overridden=tuple(changed))


def _is_jetson(name: str, m: Matrices) -> bool:
    from envdoctor.compat.gpu import identify

    identity = identify(name, m)
    return bool(identity and identity.jetson)


def _gpu_named(name: str, m: Matrices):
    from envdoctor.compat.gpu import close_names, named

    hits = named(name, m)
    if not hits:
        close = close_names(name, m)
        raise UsageProblem(f"--gpu {name!r}: not a GPU envdoctor knows; see `envdoctor matrices show gpu` or pass "
                           "--cc X.Y" + (f". Did you mean: {', '.join(close)}?" if close else ""))
    if len(hits) > 1:
        raise UsageProblem(f"--gpu {name!r} matches {len(hits)} GPUs ({'; '.join(h.name for h in hits[:4])}): "
                           "be more specific")
    return hits[0]


def _target_gpu(identity) -> TargetGpu:
    mib = identity.vram_mib or (int(min(identity.vram_options_gb) * 1024) if identity.vram_options_gb else None)
    return TargetGpu(identity.name, identity.compute_capability, mib)


# --- one candidate ---------------------------------------------------------------------------

def _package(m: Matrices, name: str, version: str) -> Package:
    files = m.wheel_files(name, version)
    if files is None:
        return Package(name, version)
    return Package(name, version, files.python_tags, files.size_bytes)


def _python_blocker(build: Build, ok: Sequence[str], parts, wish: Optional[str]) -> Optional[Blocker]:
    if not ok:
        return Blocker("python", Msg("blocker.python-none", limits="; ".join(pyc.describe(parts))),
                       Msg("change.python-none", vllm=build.release.version))
    if wish and wish not in ok:
        missing = [(who, pythons) for who, pythons in parts if wish not in pythons]
        return Blocker("python", Msg("blocker.python-wish", python=wish, limits="; ".join(pyc.describe(missing))),
                       Msg("change.python-wish", span=pyc.span(ok), vllm=build.release.version))
    return None


def _floor(build: Build, t: Target, m: Matrices) -> DriverFloor:
    cuda = build.needs or build.torch_cuda
    f = drv.floor(cuda, m)
    return DriverFloor(cuda, f.linux, f.windows, f.compat(drv.os_of(t.os)), compat_linux=f.compat_linux,
                       compat_windows=f.compat_windows)


def _blockers(problems: Sequence[Problem]) -> List[Blocker]:
    return [Blocker(p.kind, p.text, p.change) for p in problems]


def evaluate(row: VllmRelease, t: Target, wish_python: Optional[str],
             m: Matrices) -> Tuple[Optional[Stack], Tuple[Blocker, ...]]:
    """The first build of `row` that runs on `t` as a Stack, else the blockers of its index build."""
    options = builds(row, m)
    if not options:
        return None, (Blocker("data", Msg("blocker.torch-unknown", torch=str(row.torch)), Msg("change.refresh")),)
    first: Optional[Tuple[Blocker, ...]] = None
    for build in options:
        stack, blockers = evaluate_build(build, t, wish_python, m)
        if stack is not None:
            return stack, ()
        if first is None:
            first = blockers
    return None, first or ()


def evaluate_build(build: Build, t: Target, wish_python: Optional[str],
                   m: Matrices) -> Tuple[Optional[Stack], Tuple[Blocker, ...]]:
    row = build.release
    problems, via_compat = judge(t.machine_view(), build, m)
    blockers = _blockers(problems)
    if t.driver_problem and t.gpus is None:
        blockers.append(Blocker("driver", Msg("blocker.driver-broken"), Msg("change.driver-broken")))
    companions = [
        _package(m, r.name, pinned_version(r.specifier) or str(r.specifier)) for r in pyc.companions(row, t.machine)
    ]
    for c in companions:
        files = m.wheel_files(c.name, c.version)
        if files is not None and not files.python_tags:
            blockers.append(Blocker("data", Msg("blocker.no-wheel", pin=c.pin), Msg("change.another-release")))
    pythons, parts = pyc.stack_pythons(build, m, t.machine)
    limits = pyc.describe(parts)
    py_blocker = _python_blocker(build, pythons, parts, wish_python)
    if py_blocker is not None:
        blockers.append(py_blocker)
    if build.variant and build.wheel_url(pythons[0] if pythons else "3.12", t.machine) is None:
        blockers.append(Blocker("platform", Msg("blocker.variant-wheel", variant=build.variant, arch=t.machine),
                                Msg("change.variant-wheel", arch=t.machine)))
    if blockers:
        return None, tuple(blockers)
    python = pyc.choose(pythons, t.python, wish_python)
    assert python is not None  # _python_blocker refused no Python at all and a wish outside the list
    floor = replace(_floor(build, t, m), via_compat=via_compat)
    vllm = _package(m, "vllm", str(row.version))
    if build.variant:
        vllm = Package("vllm", build.version, url=build.wheel_url(python, t.machine))
    torch = _package(m, "torch", str(build.torch.version))
    notes = _stack_notes(build, t, floor, python, pythons, limits, m)
    known = issues(row.version, m)
    extra = tuple(str(p) for k in known for p in k.pins)
    glibc = glibc_floor(build.platforms, t.machine)
    stack = Stack(vllm=vllm, vllm_cuda=build.vllm_cuda, torch=torch, cuda=build.torch_cuda,
                  torch_index=build.torch_index, python=python, pythons=tuple(pythons),
                  python_limits=tuple(limits), companions=tuple(companions), driver=floor, min_cc=row.min_cc,
                  notes=tuple(notes), variant=build.variant, extra_pins=extra, glibc=glibc)
    return stack, ()


def _stack_notes(build: Build, t: Target, floor: DriverFloor, python: str, pythons: Sequence[str],
                 limits: Sequence[str], m: Matrices) -> List[str]:
    row = build.release
    here = t.toolkit and not t.overridden
    notes: List[str] = [Msg("stack.no-toolkit.here", toolkit=t.toolkit) if here else Msg("stack.no-toolkit")]
    for k in issues(row.version, m):
        notes.append(Msg("stack.known", vllm=row.version, text=known_text(k),
                         pins=Msg("stack.known.pins", pins=", ".join(str(p) for p in k.pins)) if k.pins else "",
                         offer=Msg("stack.known.offer", offer=k.offer) if k.offer else ""))
    if build.variant:
        notes.append(Msg("stack.variant", vllm=build.version, vllm_cuda=build.vllm_cuda, cuda=row.cuda,
                         torch=f"{build.torch.version}+{build.torch_tag}"))
    elif not build.default_torch and build.torch.default_cuda:  # builds() makes only torch with one
        notes.append(Msg("stack.torch-build", torch=f"{build.torch.version}+{build.torch_tag}",
                         default=cuda_tag(build.torch.default_cuda)))
    if floor.via_compat:
        native = floor.windows if drv.os_of(t.os) == "windows" else floor.linux
        notes.append(Msg("stack.via-compat", driver=t.driver, cuda=floor.cuda, major=floor.cuda.split(".")[0],
                         compat=floor.compat, native=native or Msg("stack.newer-driver")))
    if any(g.cc and drv.xy_key(g.cc) < (8, 0) for g in t.gpus or ()):
        notes.append(Msg("stack.no-bf16"))
    if build.torch_index is None:
        notes.append(Msg("stack.default-index"))
    if t.python and python != t.python:
        notes.append(Msg("stack.other-python", python=python, current=t.python, limits="; ".join(limits)))
    glibc = glibc_floor(build.platforms, t.machine)
    if glibc and not t.glibc and drv.xy_key(glibc) > (2, 17):
        notes.append(Msg("stack.glibc", glibc=glibc))
    if t.gpus is None:
        notes.append(Msg("stack.gpu-unknown", cc=row.min_cc or "?"))
    if t.driver is None:
        notes.append(Msg("stack.driver-unknown", linux=floor.compat or floor.linux,
                         windows=Msg("stack.driver-unknown.windows", windows=drv.floor(floor.cuda, m).least("windows"))
                         if floor.cuda else ""))
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
    wanted = Msg("plan.wanted.newest") if spec is None else f"vllm{spec}"
    stack, rejected = _search(rows, target, wish_python, m)
    changes: Tuple[str, ...] = ()
    if stack is None:
        changes = _changes(rows, rejected, target, wish_python, m)
    newest = None
    if spec is not None:
        everything, _ = _search(candidates(m, None), target, wish_python, m)
        if everything is not None and (stack is None or everything.vllm.version != stack.vllm.version):
            newest = everything.vllm.version
    notes: Tuple[str, ...] = (target.driver_problem,) if target.driver_problem and target.gpus is None else ()
    if stack is not None and target.python and stack.python != target.python and not wish_python:
        here, _ = _search(rows, target, target.python, m)
        if here is not None:
            notes += (Msg("stack.newest-here", vllm=here.vllm.version, python=target.python),)
    fit_plan = _fit(model, target, stack, m) if model is not None else None
    return Resolution(target, wanted, stack, tuple(rejected), changes, newest, fit_plan, notes)


def _changes(rows: Sequence[VllmRelease], rejected: Sequence[Rejected], t: Target, wish_python: Optional[str],
             m: Matrices) -> Tuple[str, ...]:
    """What has to change for the release asked for (the newest one, when none was): its own blockers'
    changes, and for a driver that is too old, the real floors: the driver that unlocks the newest
    release here and the least driver that runs any (never "the release nearest to working")."""
    first = rejected[0]
    other = [b.change for b in first.blockers if b.kind != "driver"]
    if not any(b.kind == "driver" for b in first.blockers):
        return tuple(dict.fromkeys(other))
    floors = _driver_floors(rows, t, wish_python, m)
    if floors:  # a driver update alone makes a release run: say which, first
        return tuple(dict.fromkeys(floors + other))
    # no driver alone helps (the GPU, say, is the wall): the other changes first
    return tuple(dict.fromkeys(other + [b.change for b in first.blockers if b.kind == "driver"]))


def _driver_floors(rows: Sequence[VllmRelease], t: Target, wish_python: Optional[str], m: Matrices) -> List[str]:
    os = drv.os_of(t.os)
    found = []
    for row in sorted(m.table("cuda_compat"), key=lambda r: -int(r.cuda_major)):
        need = row.min_driver(os)
        if t.driver and driver_key(need) <= (drv.key(t.driver) or (0,)):
            continue
        there = replace(t, driver=need, driver_cuda=drv.cuda_for_driver(need, os, m))
        stack, _ = _search(rows, there, wish_python, m)
        if stack is not None:
            found.append((row.cuda_major, need, stack))
    if not found:
        return []
    major, need, best = found[0]
    out: List[str] = [Msg("change.driver-unlocks" + (".windows" if os == "windows" else ""), need=need, major=major,
               vllm=best.vllm.version, url=NVIDIA_DRIVERS)]
    if len(found) > 1:
        major, need, least = found[-1]
        out.append(Msg("change.driver-least", need=need, major=major, vllm=least.vllm.version))
    return out


def _search(rows: Sequence[VllmRelease], t: Target, wish_python: Optional[str],
            m: Matrices) -> Tuple[Optional[Stack], List[Rejected]]:
    rejected: List[Rejected] = []
    for row in rows:
        stack, blockers = evaluate(row, t, wish_python, m)
        if stack is not None:
            return stack, rejected
        rejected.append(Rejected(str(row.version), blockers))
    return None, rejected


def _fit(model: "ModelShape", t: Target, stack: Optional[Stack], m: Matrices) -> Optional["FitPlan"]:
    from envdoctor.fit import calc as fit
    from envdoctor.fit.sizing import plan_for

    gpu = (t.gpus or (None,))[0]
    if gpu is None or not gpu.memory_mib:
        return None
    mib = 1024 * 1024
    g = fit.Gpu(gpu.name, gpu.memory_mib * mib, gpu.free_mib * mib if gpu.free_mib is not None else None, gpu.cc)
    return plan_for(model, g, m, vllm=stack.vllm.version if stack else None)

