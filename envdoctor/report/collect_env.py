"""`envdoctor check --from-report FILE`: read a pasted `python -m torch.utils.collect_env`
report, or vLLM's `collect_env.py` / `vllm collect-env` report, into the same Facts the live
probes produce, so the same rules judge it.

Layouts understood (all seen in public issue reports):
  * classic torch (1.x .. newest): ``Key: value`` lines, ``GPU models and configuration:``
    followed by ``GPU n: name`` lines, ``cuDNN version: Probably one of the following:`` and
    paths, ``CPU:`` block, ``Versions of relevant libraries:`` with ``[pip3]``/``[conda]`` lines;
    old releases print Yes/No instead of True/False and "Python version: 3.8 (64-bit runtime)";
  * vLLM up to 0.8/0.9: the classic layout plus ``vLLM Version:``, ``vLLM Build Flags:``,
    ``GPU Topology:`` and (from 0.6.4) trailing ``NAME=value`` environment variables;
  * vLLM's sectioned layout (0.9+): ``=====`` banners around "System Info", "PyTorch Info",
    ..., "vLLM Info", "Environment Variables", and ``Key     : value`` lines.
Text around the report (Markdown fences, ``<details>``, the issue template's headings, log
lines printed before it) is ignored. What the report does not say stays unknown: an area it
says nothing about is "skipped", and rules that would need a missing fact are not run.
"""
from __future__ import annotations

import gzip
import io
import os
import re
import zlib
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from envdoctor.core.errors import InputError
from envdoctor.core.facts import (
    CudaToolkitFacts,
    Distribution,
    DriverFacts,
    Gpu,
    PlatformFacts,
    PythonEnvFacts,
    TorchBuild,
    TorchRuntimeFacts,
    canonicalize_name,
)
from envdoctor.core.results import Facts, ProbeResult

MAX_REPORT_BYTES = 16 << 20  # a real report is a few KB; a huge file is the wrong file

# Field names as the reports print them (lower-case, single spaces) -> our key.
KEYS = {
    "pytorch version": "torch_version",
    "is debug build": "debug_build",
    "cuda used to build pytorch": "torch_cuda",
    "rocm used to build pytorch": "torch_rocm",
    "xpu used to build pytorch": "torch_xpu",
    "xpu runtime version": "xpu_runtime",
    "os": "os",
    "gcc version": "gcc",
    "clang version": "clang",
    "cmake version": "cmake",
    "libc version": "libc",
    "python version": "python_version",
    "python platform": "python_platform",
    "is cuda available": "cuda_available",
    "cuda runtime version": "cuda_runtime",
    "cuda_module_loading set to": "cuda_module_loading",
    "gpu models and configuration": "gpus",
    "nvidia driver version": "driver",
    "cudnn version": "cudnn",
    "is xpu available": "xpu_available",
    "hip runtime version": "hip_runtime",
    "miopen runtime version": "miopen",
    "is xnnpack available": "xnnpack",
    "caching allocator config": "caching_allocator",
    "rocm version": "rocm",
    "neuron sdk version": "neuron",
    "vllm version": "vllm_version",
    "vllm build flags": "vllm_build_flags",
    "gpu topology": "gpu_topology",
    "cpu": "cpu",
    # `python -m sglang.check_env` (sglang/check_env.py) prints its own names
    "python": "python_version",
    "cuda available": "cuda_available",
    "pytorch": "torch_version",
    "cuda driver version": "driver",
    "cuda driver versions": "driver",
    "nvcc": "nvcc",
    "nvidia topology": "gpu_topology",
}
# `python -m detectron2.utils.collect_env` prints a table ("PyTorch    1.4.0+cu100 @/path"), no
# colons: its rows by name. "detectron2 arch flags" lists the architectures detectron2's own CUDA
# ops were compiled for (detectron2/utils/collect_env.py).
TABLE_KEYS = {
    "python": "python_version", "pytorch": "torch_version", "pytorch debug build": "debug_build",
    "gpu available": "cuda_available", "driver version": "driver", "detectron2 arch flags": "extension_archs",
}
_TABLE_RULE = re.compile(r"^-{6,}\s+-{6,}\s*$")
_TABLE_ROW = re.compile(r"^(\S(?:.*?\S)?)\s{2,}(\S.*?)\s*$")
_TABLE_GPU = re.compile(r"^GPU\s+(\d+(?:,\d+)*)$")
_TABLE_ARCH = re.compile(r"\s*\(arch=(\d+\.\d+)\)$")
# A report must name at least this many of the keys above, one of them torch's or vLLM's.
MIN_KEYS = 3
ANCHORS = {"torch_version", "vllm_version", "torch_cuda", "cuda_available"}
# Values that mean "the tool could not tell": unknown, never a fact.
UNKNOWN = {"could not collect", "n/a", "na", "", "not set", "unknown", "no relevant packages"}
SECTION_TITLES = {"system info", "pytorch info", "python environment", "cuda / gpu info", "cpu info",
                  "versions of relevant libraries", "vllm info", "environment variables",
                  "intel xpu / gpu info"}
BLOCK_KEYS = {"gpus", "cudnn", "vllm_build_flags", "gpu_topology", "cpu"}

# sglang's check_env: "GPU 0,1: NAME" (GPUs grouped by name), "GPU 0,1 Compute Capability: 8.0",
# and after "PyTorch: VERSION" one "module: version" line per package it looks at.
_SGLANG_GPU = re.compile(r"^GPU\s+(\d+(?:,\d+)*)(\s+Compute Capability)?\s*:\s*(\S.*?)\s*$")
_SGLANG_PACKAGE = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]*)\s*:\s*(\d[\w.+-]*)\s*$")
_KEY_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 _/().?-]*?)\s*:(?:\s+(.*)|\s*)$")
_PACKAGE = re.compile(r"^\s*\[(pip3?|conda|uv)\]\s+(.*)$")
_ENV_LINE = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")
_ARCH = r"(x86_64|aarch64|arm64|ppc64le|s390x|i686|AMD64)"
_QUOTE = re.compile(r"^(\s*>)+ ?")
_BULLET = re.compile(r"^\s*[-*\u2022]\s+(?=[A-Za-z\[])")
_BANNER = re.compile(r"^\s*={5,}\s*$")
_NOISE = re.compile(r"^\s*(```|~~~|</?details>|</?summary>|<summary>.*</summary>|#{1,6}\s|>\s?$)")


class ReportError(InputError):
    """The input is not a collect_env report (or cannot be read); one line says why."""


@dataclass(frozen=True)
class ReportFacts:
    """What a report says that no live probe has a slot for, plus what it left unknown."""

    tool: str  # "torch collect_env", "vLLM collect_env" or "sglang check_env"
    layout: str  # "classic" or "sectioned"
    fields: Dict[str, str] = field(default_factory=dict)  # every value read, by our key
    cudnn: Tuple[str, ...] = ()
    vllm_version: Optional[str] = None
    vllm_build_flags: Optional[str] = None
    gpu_topology: Tuple[str, ...] = ()
    env_vars: Dict[str, str] = field(default_factory=dict)
    packages: Tuple[str, ...] = ()  # the [pip3]/[conda] lines as name==version
    gpus: Tuple[str, ...] = ()  # the GPUs listed, "GPU 0: NAME", even where the driver is unknown
    unknown: Tuple[str, ...] = ()  # what the report does not tell, and how to find out
    skipped_rules: Tuple[str, ...] = ()  # rule codes not run because their facts are unknown


@dataclass(frozen=True)
class ParsedReport:
    facts: Facts
    report: ReportFacts
    source: str


# --- reading ---------------------------------------------------------------------------

def read_report(path: str, stdin=None) -> Tuple[str, str]:
    """(name, text) of a report file or `-`; ReportError with a one-line reason otherwise."""
    from envdoctor.explain.reader import BINARY_SHARE, _junk_share, _utf16

    if path == "-":
        import sys

        raw = (stdin or sys.stdin.buffer).read(MAX_REPORT_BYTES + 1)
        name = "<stdin>"
    else:
        name = path
        if os.path.isdir(path):
            raise ReportError(f"{path} is a directory, not a report file")
        try:
            size = os.path.getsize(path)
        except OSError as exc:
            raise ReportError(f"cannot read {path}: {exc.strerror or exc}") from None
        if size == 0:
            raise ReportError(f"{path} is empty: paste the output of `python -m torch.utils.collect_env` into it")
        if size > MAX_REPORT_BYTES:
            raise ReportError(f"{path} is {size / 2 ** 20:,.0f} MiB: a collect_env report is a few KB, "
                              "so this is not one (for a log, use `envdoctor explain`)")
        try:
            with open(path, "rb") as fh:
                raw = fh.read(MAX_REPORT_BYTES + 1)
        except OSError as exc:
            raise ReportError(f"cannot read {path}: {exc.strerror or exc}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.GzipFile(fileobj=io.BytesIO(raw)).read(MAX_REPORT_BYTES + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise ReportError(f"{name}: not a readable gzip file: {exc}") from None
    if len(raw) > MAX_REPORT_BYTES:
        raise ReportError(f"{name} is larger than {MAX_REPORT_BYTES >> 20} MiB: not a collect_env report")
    if not raw.strip():
        raise ReportError(f"{name} is empty: paste the output of `python -m torch.utils.collect_env` into it")
    encoding = _utf16(raw[:65536])
    if encoding:
        text = raw.decode(encoding, "replace").lstrip("\ufeff")
    else:
        if _junk_share(raw[:65536]) > BINARY_SHARE:
            raise ReportError(f"{name} looks like a binary file, not a collect_env report")
        text = raw.decode("utf-8", "replace").lstrip("\ufeff")
    return name, text


def _clean(line: str) -> str:
    from envdoctor.explain.reader import clean_line

    return clean_line(line.encode("utf-8", "replace"))


# --- parsing ---------------------------------------------------------------------------

@dataclass
class _Raw:
    values: Dict[str, str] = field(default_factory=dict)
    blocks: Dict[str, List[str]] = field(default_factory=dict)
    packages: List[Tuple[str, str, str]] = field(default_factory=list)  # (tool, name, version)
    env: Dict[str, str] = field(default_factory=dict)
    sectioned: bool = False
    vllm_tool: bool = False
    sglang_tool: bool = False
    table_tool: bool = False  # detectron2's table (TABLE_KEYS)
    compute_capability: Dict[int, str] = field(default_factory=dict)  # sglang's, by GPU index


def _key(name: str) -> Optional[str]:
    return KEYS.get(re.sub(r"\s+", " ", name.strip().lower()))


def _parse_package(tool: str, rest: str) -> Optional[Tuple[str, str]]:
    rest = rest.strip()
    if not rest or rest.lower() in UNKNOWN:
        return None
    if tool == "conda":
        parts = rest.split()
        if len(parts) >= 2 and re.match(r"^[A-Za-z0-9]", parts[1]):
            return parts[0], parts[1]
        return None
    m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==\s*(\S+)", rest)
    if m:
        return m.group(1), m.group(2)
    m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s+(\d\S*)$", rest)  # `pip list` columns
    return (m.group(1), m.group(2)) if m else None


def parse_text(text: str) -> _Raw:
    raw = _Raw()
    block: Optional[str] = None  # the multi-line value being read
    in_cpu = in_env = False
    for line in text.splitlines():
        # "> " of an e-mail reply or a Markdown quote; "- " of a report pasted as a Markdown list
        line = _BULLET.sub("", _QUOTE.sub("", _clean(line)))
        stripped = line.strip()
        if _NOISE.match(line):
            continue
        if _BANNER.match(line):
            raw.sectioned = True
            block = None
            continue
        low = re.sub(r"\s+", " ", stripped.lower())
        if raw.sectioned and low in SECTION_TITLES:
            block = None
            in_cpu, in_env = low == "cpu info", low == "environment variables"
            continue
        pkg = _PACKAGE.match(line)
        if pkg:
            block, in_cpu = None, False
            parsed = _parse_package(pkg.group(1), pkg.group(2))
            if parsed:
                raw.packages.append((pkg.group(1), parsed[0], parsed[1]))
            continue
        if low.startswith("versions of relevant libraries"):
            block, in_cpu = None, False
            continue
        env = _ENV_LINE.match(stripped)
        if env and (in_env or "vllm_version" in raw.values or raw.values.get("gpu_topology") is not None
                    or block == "gpu_topology"):
            raw.env[env.group(1)] = env.group(2)
            block = None
            continue
        if "nvcc" in raw.values and stripped.startswith("Cuda compilation tools"):
            raw.values["nvcc"] = stripped  # older sglang printed all of `nvcc -V` below "NVCC:"
            continue
        if _TABLE_RULE.match(stripped):
            raw.table_tool, block = True, None
            continue
        row = _TABLE_ROW.match(stripped) if raw.table_tool and block is None else None
        if row is not None and _table_row(raw, row.group(1), row.group(2)):
            continue
        gpu = _SGLANG_GPU.match(stripped) if block is None else None
        if gpu is not None:
            for index in gpu.group(1).split(","):
                if gpu.group(2):
                    raw.compute_capability[int(index)] = gpu.group(3)
                else:
                    raw.blocks.setdefault("gpus", []).append(f"GPU {index}: {gpu.group(3)}")
                    raw.values.setdefault("gpus", "")
            continue
        if raw.sglang_tool and block is None:
            package = _SGLANG_PACKAGE.match(stripped)
            if package is not None:
                raw.packages.append(("pip", package.group(1), package.group(2)))
                continue
        m = _KEY_LINE.match(line)
        key = _key(m.group(1)) if m else None
        if m is not None and key is not None and not (in_cpu and key != "cpu"):
            value = (m.group(2) or "").strip()
            if key in raw.values and key not in BLOCK_KEYS and raw.values[key]:
                continue  # a second report pasted below the first: keep the first
            raw.values[key] = value
            if key == "vllm_version":
                raw.vllm_tool = True
            if m.group(1).strip() == "PyTorch":  # sglang's "PyTorch: 2.4.0+cu121"; torch's says "PyTorch version"
                raw.sglang_tool = True
            block = key if key in BLOCK_KEYS and not value else None
            if key == "cudnn" and value.lower().startswith("probably one of"):
                block = key
            if block:
                raw.blocks.setdefault(key, [])
            in_cpu = key == "cpu"
            continue
        if in_cpu:
            if not stripped and not raw.sectioned:
                in_cpu = False
            continue
        if block is not None:
            if not stripped:
                if raw.blocks.get(block):
                    block = None  # a blank line ends a block that has begun
                continue
            if block == "gpu_topology" and stripped.lower().startswith("legend"):
                block = None
                continue
            raw.blocks[block].append(stripped if block != "gpu_topology" else line.rstrip())
    return raw


def _table_row(raw: _Raw, name: str, value: str) -> bool:
    """One row of detectron2's table into `raw`; False when the row is not one envdoctor reads."""
    gpu = _TABLE_GPU.match(name)
    if gpu is not None:  # "GPU 0,1   Tesla P40", newer releases add " (arch=6.1)"
        arch = _TABLE_ARCH.search(value)
        gpu_name = _TABLE_ARCH.sub("", value)
        for index in gpu.group(1).split(","):
            raw.blocks.setdefault("gpus", []).append(f"GPU {index}: {gpu_name}")
            if arch:
                raw.compute_capability[int(index)] = arch.group(1)
        raw.values.setdefault("gpus", "")
        return True
    key = TABLE_KEYS.get(re.sub(r"\s+", " ", name.lower()))
    if key is None or raw.values.get(key):
        return False
    raw.values[key] = value
    return True


# --- from raw values to Facts ----------------------------------------------------------

def _known(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    v = value.strip()
    return None if v.lower() in UNKNOWN else v


def _bool(value: Optional[str]) -> Optional[bool]:
    v = (_known(value) or "").lower()
    return True if v in ("true", "yes") else False if v in ("false", "no") else None


def _major_minor(text: Optional[str]) -> Optional[str]:
    m = re.match(r"^\s*(\d+)\.(\d+)", text or "")
    return f"{m.group(1)}.{m.group(2)}" if m else None


def _platform(raw: _Raw) -> Tuple[Optional[PlatformFacts], List[str]]:
    from envdoctor.probes.platform import wsl_version

    os_line = _known(raw.values.get("os"))
    plat = _known(raw.values.get("python_platform"))
    if not os_line and not plat:
        return None, ["platform: the report names neither OS nor Python platform"]
    system = machine = kernel = None
    if plat:
        head = plat.split("-", 1)[0]
        system = {"linux": "Linux", "windows": "Windows", "macos": "Darwin", "darwin": "Darwin"}.get(head.lower())
        m = re.match(r"^Linux-(.+?)-(x86_64|aarch64|arm64|ppc64le|s390x|i686)(?:-with-.*)?$", plat)
        if m:
            kernel, machine = m.group(1), m.group(2)
    if os_line:
        m = re.search(r"\(" + _ARCH + r"\)\s*$", os_line)
        if m:
            machine = machine or m.group(1)
        if system is None:
            low = os_line.lower()
            system = ("Windows" if "windows" in low else "Darwin" if ("mac" in low or "os x" in low)
                      else "Linux" if re.search(r"ubuntu|debian|centos|red hat|rhel|fedora|rocky|alma|suse|"
                                                r"arch|alpine|amazon linux|oracle linux|linux", low) else None)
    if system is None:
        return None, ["platform: the report's OS is not one envdoctor knows"]
    distro_name = distro_id = distro_version = None
    if os_line and system == "Linux":
        distro_name = re.sub(r"\s*\(" + _ARCH + r"\)\s*$", "", os_line).strip() or None
        m = re.match(r"^(Ubuntu|Debian GNU/Linux|Fedora(?: Linux)?|Rocky Linux|AlmaLinux|CentOS(?: Linux| Stream)?)"
                     r"(?: release)? (\d+(?:\.\d+)?)", distro_name or "")
        if m:
            distro_id = m.group(1).split()[0].lower()
            distro_version = m.group(2)
    wsl = wsl_version(kernel or "", "", False) if kernel else None
    unknown = []
    if system == "Linux" and kernel is None:
        unknown.append("platform: no kernel string (no 'Python platform' line), so WSL is unknown")
    return PlatformFacts(system=system, machine=machine or "unknown", kernel=kernel, distro_id=distro_id,
                         distro_version=distro_version, distro_name=distro_name, wsl=wsl,
                         wsl_distro=None, container=None), unknown


def _gpus(raw: _Raw, matrices=None) -> Optional[Tuple[Gpu, ...]]:
    """The GPUs the report lists (compute capability and memory from the same GPU table as
    `check`, by name); None when the report could not tell."""
    from envdoctor.compat.gpu import identify

    lines = list(raw.blocks.get("gpus", ()))
    value = _known(raw.values.get("gpus"))
    if value:
        lines.insert(0, value)
    gpus = []
    for text in lines:
        m = re.match(r"^GPU\s+(\d+)\s*:\s*(.+?)(?:\s*\(UUID:.*\))?\s*$", text)
        if m:
            name = m.group(2).strip()
            known = identify(name, matrices) if matrices is not None else None
            reported = raw.compute_capability.get(int(m.group(1)))
            cc = reported or (known.compute_capability if known else None)
            gpus.append(Gpu(index=int(m.group(1)), name=name, compute_capability=cc,
                            memory_total_mib=known.vram_mib if known else None,
                            cc_source="report" if reported else "matrix" if known else None))
    if gpus:
        return tuple(gpus)
    if value and value.lower() == "no cuda":
        return ()
    return None


def _nothing_answered(raw: _Raw) -> bool:
    """nvidia-smi could not be asked (driver and GPUs: Could not collect) and a CUDA build of
    torch says CUDA is not available, on Linux: no working NVIDIA driver."""
    said = all((raw.values.get(k) or "").strip().lower() == "could not collect" for k in ("driver", "gpus"))
    cuda_build = _major_minor(_known(raw.values.get("torch_cuda"))) is not None
    platform, _ = _platform(raw)
    linux = platform is not None and platform.system == "Linux"
    return said and cuda_build and linux and _bool(raw.values.get("cuda_available")) is False


def _driver(raw: _Raw, matrices=None) -> Tuple[ProbeResult, List[str], bool]:
    """The driver area, what is unknown about it, and whether the GPU list is known."""
    version = _known(raw.values.get("driver"))
    gpus = _gpus(raw, matrices)
    said = raw.values.get("driver")
    if version and version.lower() == "no cuda":
        from envdoctor.report.text_findings import cpu_torch

        mac = re.search(r"mac ?os|darwin", " ".join(raw.values.get(k) or "" for k in ("os", "python_platform")), re.I)
        if not gpus and not mac and cpu_torch({k: v for k, v in raw.values.items() if v}):
            why = ("the report says No CUDA, which a CPU build of torch prints whether or not there is a GPU")
            return ProbeResult("driver", "skipped", error=why), [f"driver and GPU: {why}: run `nvidia-smi`"], False
        if gpus:
            return _gpus_only(gpus, "driver: version not in the report (No CUDA): run `nvidia-smi`")
        return ProbeResult("driver", "absent", error="the report says: Nvidia driver version: No CUDA "
                                                     "(nvidia-smi found no driver)"), [], True
    if not version and gpus is None and _nothing_answered(raw):
        # collect_env asks nvidia-smi for the driver and the GPUs, and torch for CUDA: none of
        # them found anything, which is what "No CUDA" says when nvcc is missing too.
        return ProbeResult("driver", "absent", error=(
            "the report: nvidia-smi gave no driver version and no GPU (Could not collect), and torch "
            f"{raw.values.get('torch_version')} (a CUDA {raw.values.get('torch_cuda')} build) cannot see a GPU "
            "(Is CUDA available: False)")), [], True
    if not version or not re.match(r"^\d+(\.\d+)*$", version):
        why = "the report could not collect the driver version" if said is not None \
            else "the report has no 'Nvidia driver version' line"
        if gpus:
            return _gpus_only(gpus, f"driver: {why}: run `nvidia-smi`")
        return ProbeResult("driver", "skipped", error=why), [f"driver: {why}: run `nvidia-smi`"], gpus is not None
    from envdoctor.compat.driver import cuda_for_driver

    cuda = cuda_for_driver(version, "linux", matrices) if matrices is not None else None
    unknown = [f"driver: the newest CUDA it supports is not in the report; {version}'s branch runs CUDA {cuda} "
               "(envdoctor's driver table): `nvidia-smi` prints it" if cuda else
               "driver: the newest CUDA it supports is not in the report, nor is its branch in envdoctor's "
               "table: `nvidia-smi` prints it"]
    if gpus is None:
        unknown.append("GPUs: the report could not list them: run `nvidia-smi -L`")
    facts = DriverFacts(source="report", driver_version=version, cuda_max=cuda,
                        cuda_max_source="matrix" if cuda else None, gpus=gpus or ())
    return ProbeResult("driver", "ok", facts=facts), unknown + _unknown_gpus(gpus or ()), gpus is not None


def _unknown_gpus(gpus: Tuple[Gpu, ...]) -> List[str]:
    return [f"GPU {g.index}: {g.name} is not in envdoctor's GPU table: its compute capability is unknown "
            "(`nvidia-smi --query-gpu=compute_cap --format=csv` prints it)"
            for g in gpus if g.compute_capability is None]


def _gpus_only(gpus: Tuple[Gpu, ...], why: str) -> Tuple[ProbeResult, List[str], bool]:
    """The report lists the GPUs but not the driver: the GPU rules (compute capability, mixed
    kinds, torch's arch list) still judge them; the driver's own rules find its version unknown."""
    facts = DriverFacts(source="report", driver_version=None, gpus=gpus)
    return ProbeResult("driver", "ok", facts=facts), [why] + _unknown_gpus(gpus), True


def _cuda(raw: _Raw) -> Tuple[ProbeResult, List[str]]:
    value = _known(raw.values.get("cuda_runtime"))
    nvcc = re.search(r"release (\d+\.\d+)", raw.values.get("nvcc") or "")  # sglang: nvcc's own banner
    if value is None and nvcc is not None:
        value = nvcc.group(1)
    if value and value.lower() == "no cuda":
        return ProbeResult("cuda", "absent", error="the report says: CUDA runtime version: No CUDA"), []
    version = _major_minor(value)
    if version is None:
        why = ("the report has no 'CUDA runtime version' line" if "cuda_runtime" not in raw.values
               else "the report's 'CUDA runtime version' (nvcc) is unknown")
        return ProbeResult("cuda", "skipped", error=why), [f"CUDA toolkit: {why}: run `nvcc --version`"]
    # collect_env reads this from `nvcc --version` on PATH: it is the toolkit, not the driver.
    return ProbeResult("cuda", "ok", facts=CudaToolkitFacts(nvcc_path="nvcc", nvcc_version=version)), \
        ["CUDA toolkit: only nvcc's version is in the report (no path, no other toolkits)"]


def _python_version(text: Optional[str]) -> Optional[str]:
    m = re.match(r"^\s*(\d+\.\d+(?:\.\d+)?)", text or "")
    return m.group(1) if m else None


def _distributions(raw: _Raw, vllm_version: Optional[str], matrices) -> Tuple[Distribution, ...]:
    found: Dict[str, Distribution] = {}
    for tool, name, version in sorted(raw.packages, key=lambda p: p[0] == "conda"):  # pip first
        if tool == "conda" and name.lower() == "pytorch":
            name = "torch"
        key = canonicalize_name(name)
        if key not in found:
            found[key] = Distribution(name=name, version=version)
    if vllm_version:
        requires: Tuple[str, ...] = ()
        python_requires = None
        row = matrices.vllm(vllm_version) if matrices is not None else None
        if row is not None and str(row.version) == vllm_version:
            requires = (f"torch{row.torch}",) if str(row.torch) else ()
            python_requires = str(row.python_requires) or None
        found["vllm"] = Distribution(name="vllm", version=vllm_version, requires=requires,
                                     requires_python=python_requires)
    return tuple(found.values())


def _torch_build(raw: _Raw) -> Tuple[Optional[TorchBuild], bool, List[str]]:
    """torch as the report describes it; whether its CUDA build is known; unknowns."""
    version = _known(raw.values.get("torch_version"))
    if version is not None:
        version = version.split()[0]
    if version is None:
        pip_torch = next((v for t, n, v in raw.packages if n.lower() in ("torch", "pytorch")), None)
        if pip_torch is None:
            return None, False, ["torch: the report names no torch version"]
        version = pip_torch
    cuda_text = _known(raw.values.get("torch_cuda"))
    hip = _known(raw.values.get("torch_rocm"))
    if cuda_text is not None and cuda_text.lower() == "none":
        return TorchBuild(version=version, cuda=None, hip=hip), True, []
    # collect_env prints torch.version.cuda, and "Could not collect" for its None: a CPU build
    # (a ROCm build names its ROCm version instead).
    if (raw.values.get("torch_cuda") or "").strip().lower() == "could not collect" and hip is None \
            and _known(raw.values.get("torch_version")) and not re.search(r"\+(?:cu|rocm)\d", version):
        return TorchBuild(version=version, cuda=None, hip=None), True, []
    cuda = _major_minor(cuda_text)
    if cuda is None:
        m = re.search(r"\+cu(\d+)(\d)$", version)
        if m:
            cuda = f"{m.group(1)}.{m.group(2)}"
        elif version.endswith("+cpu"):
            return TorchBuild(version=version, cuda=None, hip=hip), True, []
    if cuda is None and hip is None:
        return TorchBuild(version=version), False, [
            "torch: whether it is a CUDA or a CPU build is not in the report: "
            "run `python -c \"import torch; print(torch.version.cuda)\"`"]
    return TorchBuild(version=version, cuda=cuda, hip=hip), True, []


def _marker_env(platform: Optional[PlatformFacts], python: Optional[str], implementation: str) -> Dict[str, str]:
    env: Dict[str, str] = {"implementation_name": implementation,
                           "platform_python_implementation": "CPython" if implementation == "cpython" else "PyPy"}
    if python:
        env["python_full_version"] = python
        env["python_version"] = ".".join(python.split(".")[:2])
    if platform is not None:
        env["platform_system"] = platform.system
        env["sys_platform"] = {"Linux": "linux", "Windows": "win32", "Darwin": "darwin"}[platform.system]
        env["os_name"] = "nt" if platform.system == "Windows" else "posix"
        if platform.machine != "unknown":
            env["platform_machine"] = platform.machine
    return env


def _vllm_version(raw: _Raw) -> Optional[str]:
    value = _known(raw.values.get("vllm_version"))
    if value:
        return value.split("@")[0].split()[0]  # "0.5.3.post1@38c4b7e8..." (a source build)
    return next((v for t, n, v in raw.packages if canonicalize_name(n) == "vllm"), None)


def build(raw: _Raw, matrices=None) -> Tuple[Facts, List[str], List[str]]:
    """Facts, what stays unknown, and the rule codes that must not run on them."""
    from envdoctor.rules import driver as driver_rules
    from envdoctor.rules import packages, toolkit
    from envdoctor.rules import torch as torch_rules

    results: Dict[str, ProbeResult] = {}
    unknown: List[str] = []
    skip_rules: List[str] = []
    platform, u = _platform(raw)
    unknown += u
    results["platform"] = (ProbeResult("platform", "ok", facts=platform) if platform is not None
                           else ProbeResult("platform", "skipped", error="not in the report"))
    wsl_note = ("WSL GPU plumbing (libcuda stub, loader path, a Linux driver inside WSL) is never in a "
                "report: run `envdoctor check` inside the distro")
    results["wsl"] = ProbeResult("wsl", "skipped", error="not in a collect_env report")
    if platform is not None and platform.wsl == 2:
        unknown.append(wsl_note)
    driver, u, gpus_known = _driver(raw, matrices)
    unknown += u
    results["driver"] = driver
    if not gpus_known:
        skip_rules += [driver_rules.no_gpu.code, torch_rules.cpu_build.code]
    results["cuda"], u = _cuda(raw)
    unknown += u
    python = _python_version(_known(raw.values.get("python_version")))
    torch, cuda_known, u = _torch_build(raw)
    unknown += u
    if not cuda_known:
        skip_rules += [r.code for r in (torch_rules.cpu_build, driver_rules.driver_too_old, toolkit.mismatch,
                                        toolkit.not_needed)]
    vllm = _vllm_version(raw)
    if python is None and torch is None and vllm is None and not raw.packages:
        results["python"] = ProbeResult("python", "skipped", error="the report names no Python, torch or packages")
    else:
        implementation = "pypy" if "pypy" in (raw.values.get("python_version") or "").lower() else "cpython"
        if python is None:
            unknown.append("Python: its version is not in the report: run `python --version`")
            skip_rules.append(packages.python_unsupported.code)
        env = PythonEnvFacts(
            executable="python", selected_by="report", version=python or "",
            implementation=implementation, kind="unknown",
            marker_env=_marker_env(platform, python, implementation),
            distributions=_distributions(raw, vllm, matrices), torch=torch)
        results["python"] = ProbeResult("python", "ok", facts=env)
        unknown.append("Python environment: venv, conda or system is not in the report, nor the full "
                       "package list (only the [pip3]/[conda] lines it filtered)")
        if vllm is not None and not any(d.requires for d in env.distributions if d.name == "vllm"):
            unknown.append(f"vLLM {vllm}: its torch pin is not in envdoctor's data (a development or "
                           "unreleased build): run `pip show vllm` and compare its torch requirement")
    available = _bool(raw.values.get("cuda_available"))
    if torch is not None and available is not None:
        results["torch"] = ProbeResult("torch", "ok", facts=TorchRuntimeFacts(
            version=torch.version, cuda=torch.cuda, cuda_available=available))
        unknown.append("torch runtime: the GPU architectures torch was built for are not in the report "
                       "(envdoctor uses its own table for released builds)")
    else:
        results["torch"] = ProbeResult("torch", "skipped", error="the report does not say whether CUDA is available")
    results["resources"] = ProbeResult("resources", "skipped", error="not in a collect_env report")
    unknown.append("resources (RAM, disk, .wslconfig) are never in a report: run `envdoctor check`")
    return Facts(results), unknown, sorted(set(skip_rules))


def parse_report(text: str, matrices=None, source: str = "report") -> ParsedReport:
    raw = parse_text(text)
    anchors = ANCHORS & set(raw.values)
    if len(raw.values) < MIN_KEYS or not anchors:
        raise ReportError(
            f"{source} is not a collect_env report: found {len(raw.values)} of its fields"
            + (f" ({', '.join(sorted(raw.values))})" if raw.values else "")
            + ". Paste the full output of `python -m torch.utils.collect_env` (or vLLM's `vllm collect-env`)"
              "; for a failing log use `envdoctor explain`")
    facts, unknown, skip = build(raw, matrices)
    cudnn = [v for v in [_known(raw.values.get("cudnn"))] + raw.blocks.get("cudnn", [])
             if v and not v.lower().startswith("probably one of") and v.lower() != "no cuda"]
    flags = " ".join(raw.blocks.get("vllm_build_flags", [])) or _known(raw.values.get("vllm_build_flags"))
    packages = tuple(f"{n}=={v}" if t != "conda" else f"{n} {v} (conda)" for t, n, v in raw.packages)
    report = ReportFacts(
        tool="vLLM collect_env" if raw.vllm_tool else "sglang check_env" if raw.sglang_tool else
        "detectron2 collect_env" if raw.table_tool else "torch collect_env",
        layout="sectioned" if raw.sectioned else "classic",
        fields={k: v for k, v in raw.values.items() if v},
        cudnn=tuple(cudnn), vllm_version=_vllm_version(raw), vllm_build_flags=flags or None,
        gpu_topology=tuple(raw.blocks.get("gpu_topology", ())), env_vars=dict(raw.env),
        packages=packages, unknown=tuple(unknown), skipped_rules=tuple(skip),
        gpus=tuple(f"GPU {g.index}: {g.name}" for g in (_gpus(raw, matrices) or ())))
    return ParsedReport(facts, report, source)


def log_only_facts() -> Facts:
    return Facts({area: ProbeResult(area, "skipped", error="no collect_env report in the file")
                  for area in ("platform", "driver", "cuda", "python", "torch", "wsl", "resources")})


def check_report(path: str, matrices=None, stdin=None):
    """(Report, ParsedReport): parse the file and run the same rules `check` runs."""
    from envdoctor.check.run import evaluate
    from envdoctor.compat.tables import Matrices
    from envdoctor.core.results import Report
    from envdoctor.rules import ALL_RULES

    matrices = matrices or Matrices()
    matrices.validate_all()
    name, text = read_report(path, stdin)
    try:
        parsed = parse_report(text, matrices, source=name)
    except ReportError:
        from envdoctor.report.text_findings import from_log_signatures

        # An error pasted where the report should be (an issue template's report section, a report
        # cut after the warnings its run printed, a log given for a report): read it as a log with
        # explain's signatures; every fact stays unknown. Without a known cause it is refused.
        found = from_log_signatures(text, name, matrices)
        if not found:
            raise
        return Report(log_only_facts(), tuple(found), False, 0.0, ()), ParsedReport(
            log_only_facts(), ReportFacts("no collect_env report", "log", unknown=(
                "every fact: the file holds no collect_env report; run `python -m torch.utils.collect_env`",)), name)
    from envdoctor.rules.probes import probe_failed

    rules = [r for r in ALL_RULES if r.code not in parsed.report.skipped_rules and r is not probe_failed]
    findings, crashes = evaluate(parsed.facts, matrices, rules)
    from envdoctor.report.text_findings import findings as text_findings

    findings = findings + text_findings(parsed, text, matrices, findings)
    rank = {"error": 0, "warn": 1, "info": 2}
    findings.sort(key=lambda f: rank[f.severity])
    return Report(parsed.facts, tuple(findings), False, 0.0, tuple(crashes)), parsed
