"""Load and validate the curated compatibility tables in matrices/.

Each table is a CSV file whose columns are declared here; every row must carry the
URL or file it came from (`source`). A bad row (unknown column, missing source, a
version that does not parse, a duplicate key) stops loading with a MatrixError that
names the file and the line, never a traceback. Tables load lazily, on first use.
"""
from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass, fields
from datetime import date
from functools import lru_cache
from typing import Any, Callable, Dict, List, Optional, Tuple, Type

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from envdoctor.core.results import DataError

ENV_DIR = "ENVDOCTOR_MATRICES_DIR"
# PyTorch's own wheel index; each CUDA build has its folder (cu121, cu128, ...).
TORCH_INDEX = "https://download.pytorch.org/whl"


class MatrixError(DataError):
    """A matrices/ file is corrupt; the message names file, line and what is wrong."""


# --- cell parsers: each takes the raw text and returns a value or raises ValueError ----
# The tables repeat the same pins and ranges row after row: each distinct text is parsed once.

@lru_cache(maxsize=None)
def _version(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        raise ValueError(f"not a version: {text!r}") from None


@lru_cache(maxsize=None)
def _specifier(text: str) -> SpecifierSet:
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        raise ValueError(f"not a version specifier: {text!r}") from None


def _dotted(pattern: str, what: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if not re.fullmatch(pattern, text):
            raise ValueError(f"not {what}: {text!r}")
        return text
    return parse


_cuda = _dotted(r"\d+\.\d+", "a CUDA version like 12.1")
_cc = _dotted(r"\d+\.\d+", "a compute capability like 8.6")
_driver = _dotted(r"\d+(\.\d+){0,2}", "a driver version like 535.104.05")


def _date(text: str) -> str:
    try:
        date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {text!r}") from None
    return text


def _words(text: str) -> Tuple[str, ...]:
    return tuple(text.split())


@lru_cache(maxsize=None)
def _requirements(text: str) -> Tuple[Requirement, ...]:
    out = []
    for part in text.split(" | "):
        try:
            out.append(Requirement(part.strip()))
        except InvalidRequirement:
            raise ValueError(f"not a requirement: {part.strip()!r}") from None
    return tuple(out)


def _nvml_pattern(text: str) -> "re.Pattern[str]":
    """A GPU name pattern: matched against the whole name, so it carries no anchors or wildcards
    of its own, and the only group it may name is gb (a size the name states)."""
    if text.startswith(("^", ".", "NVIDIA ")) or text.endswith(("$", ".*")):
        raise ValueError(f"not a whole-name pattern (no anchors, no leading wildcard, no \"NVIDIA \"): {text!r}")
    try:
        pattern = re.compile(text, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {text!r} ({exc})") from None
    if set(pattern.groupindex) - {"gb"}:
        raise ValueError(f"only a group named gb is allowed: {text!r}")
    return pattern


_sizes = _dotted(r"\d+(\.\d+)?( \d+(\.\d+)?)*", "memory sizes in GB like \"4 6\"")


def _mib_seen(text: str) -> Tuple[Tuple[int, int], ...]:
    pairs = []
    for part in text.split():
        m = re.fullmatch(r"(\d+)=([1-9]\d*)", part)
        if not m:
            raise ValueError(f"not GB=MiB pairs like \"80=81559\": {text!r}")
        pairs.append((int(m.group(1)), int(m.group(2))))
    return tuple(pairs)


def _check_gpu(row: "GpuSpec") -> None:
    sold = {int(v) for v in row.vram_options()}
    unsold = [gb for gb, _ in row.vram_mib if gb not in sold]
    if unsold:
        raise ValueError(f"vram_mib names {unsold} GB, which vram_gb does not list")


def _text(text: str) -> str:
    return text


def _count(text: str) -> int:
    if not re.fullmatch(r"[1-9]\d*", text):
        raise ValueError(f"not a positive whole number: {text!r}")
    return int(text)


def _flag(text: str) -> bool:
    if text not in ("true", "false"):
        raise ValueError(f"not true or false: {text!r}")
    return text == "true"


def _one_of(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(f"not one of {', '.join(choices)}: {text!r}")
        return text
    return parse


_dtype = _one_of("bfloat16", "float16", "float32")
# How a value was checked: read in the model's own repository file ("official"), in a copy
# of that file that names the model (a fine-tune or mirror that kept the config: "copy"),
# or not confirmed ("unverified").
_checked = _one_of("official", "copy", "unverified")


# --- row types ---------------------------------------------------------------------------

@dataclass(frozen=True)
class VllmRelease:
    version: Version
    release_date: str
    torch: SpecifierSet  # the exact pin vLLM's wheel declares
    python_requires: SpecifierSet
    cuda: Optional[str]  # CUDA the default (suffix-less) wheel is built with
    min_cc: Optional[str]
    cuda_archs: Tuple[str, ...]  # CMakeLists CUDA_SUPPORTED_ARCHS for that CUDA ("7.0" "7.5" ...); () = not known
    companions: Tuple[Requirement, ...]  # xformers, vllm-flash-attn, flashinfer pins
    platforms: Tuple[str, ...]  # wheel platform tags on the index: manylinux_2_28_x86_64 ...
    source: str


@dataclass(frozen=True)
class TorchRelease:
    version: Version
    release_date: str
    python_requires: SpecifierSet
    python_tags: Tuple[str, ...]  # cp310 cp311 ...: the CPython versions wheels exist for
    default_cuda: Optional[str]  # the CUDA build the plain index serves
    cuda_builds: Tuple[str, ...]  # cuXYZ builds on download.pytorch.org, per RELEASE.md
    source: str

    def index_url(self, build: str) -> str:
        """The PyTorch wheel index of one CUDA build: cu121 -> .../whl/cu121."""
        return f"{TORCH_INDEX}/{build}"


@dataclass(frozen=True)
class TorchBuildArchs:
    torch: Version
    cuda: str
    arch_list: Tuple[str, ...]  # sm_XY (SASS) and compute_XY (PTX)
    source: str


@dataclass(frozen=True)
class CudaDriver:
    cuda: str
    release: str
    min_driver_linux: Optional[str]
    min_driver_windows: Optional[str]
    source: str


@dataclass(frozen=True)
class CudaMinorCompat:
    cuda_major: str
    min_driver_linux: str  # drivers from here run every CUDA minor of this major
    min_driver_windows: str
    source: str

    def min_driver(self, os: str) -> str:
        return self.min_driver_windows if os == "windows" else self.min_driver_linux


@dataclass(frozen=True)
class VllmVariant:
    """A CUDA-variant wheel attached to a vLLM GitHub release (vllm-X+cu118-..., vllm-X+cu129-...)."""

    vllm: Version
    variant: str  # cu118 | cu129: the wheel's local version
    cuda: str
    torch_build: str  # the PyTorch index folder its pinned torch comes from
    python_tag: str  # cp38-abi3, or cp{py} for one wheel per CPython
    platforms: Tuple[str, ...]  # () = as the release's index wheel
    source: str


@dataclass(frozen=True)
class KnownIssue:
    """A release range with a known problem: a hang, an extra pin it needs, dependency fixes."""

    vllm: SpecifierSet
    kind: str  # hang | pin | deps
    pins: Tuple[Requirement, ...]
    offer: Optional[str]  # a release to offer instead
    text: str
    source: str


@dataclass(frozen=True)
class DriverSeen:
    """A driver whose nvidia-smi banner says another CUDA than the Table 3 and branch rules (pre-release builds)."""

    driver: str
    os: str  # linux | windows
    cuda: str
    source: str


@dataclass(frozen=True)
class DistroGlibc:
    distro: str  # os-release ID: ubuntu, debian, rhel, rocky
    version: str  # VERSION_ID, or its major for distributions that keep glibc per major
    glibc: str
    source: str


@dataclass(frozen=True)
class ArchFirstCuda:
    cc: str
    first_cuda: str  # the first CUDA whose compiler can build kernels for this compute capability
    source: str


@dataclass(frozen=True)
class DriverBranch:
    branch: str  # R535
    max_cuda: str
    source: str


@dataclass(frozen=True)
class GpuSpec:
    name: str
    # The whole name NVML reports, less a leading "NVIDIA ", matched in full and in any case.
    # A group named gb captures a memory size the name states ("Tesla V100-SXM2-(?P<gb>16|32)GB").
    nvml_pattern: "re.Pattern[str]"
    compute_capability: str
    architecture: str
    vram_gb: str  # the memory sizes the card is sold with, in GB: "4 6"; empty: not known
    vram_mib: Tuple[Tuple[int, int], ...]  # (GB, the MiB nvidia-smi reported for it) where seen
    segment: str  # laptop | desktop | workstation | datacenter | embedded (Jetson)
    cpu_arch: Optional[str]  # the host CPU the GPU always comes with ("aarch64" for Grace, Jetson)
    source: str

    def vram_options(self) -> Tuple[float, ...]:
        return tuple(float(v) for v in self.vram_gb.split())

    def mib_for(self, gb: float) -> Tuple[int, bool]:
        """The MiB a card of this size has: what nvidia-smi reported where seen (B200: 183359, not
        192 x 1024), else the size x 1024; and whether it was seen."""
        seen = dict(self.vram_mib).get(int(gb)) if float(gb).is_integer() else None
        return (seen, True) if seen else (int(gb * 1024), False)


@dataclass(frozen=True)
class ModelSpec:
    """The config.json values that decide a model's memory on the GPU."""

    id: str  # the Hugging Face repository id
    model_type: str  # config.json model_type: qwen2, llama, ...
    parameters: int
    layers: int  # num_hidden_layers
    hidden_size: int
    intermediate_size: int
    heads: int  # num_attention_heads
    kv_heads: int  # num_key_value_heads
    head_dim: int
    vocab: int  # vocab_size
    max_positions: int  # max_position_embeddings
    dtype: str  # torch_dtype
    tie_embeddings: bool  # tie_word_embeddings
    sliding_window: Optional[int]
    checked: str
    source: str


@dataclass(frozen=True)
class ModelVariant:
    """A published quantized checkpoint of a catalog model."""

    id: str
    base: str  # the ModelSpec id it was made from
    method: str  # awq | gptq (config.json quantization_config.quant_method)
    bits: int
    group_size: Optional[int]  # None: not read from the upload's config
    tie_embeddings: Optional[bool]  # quantized uploads do not always keep the base model's tying
    weights_bytes: Optional[int]  # the checkpoint's safetensors size, where published
    min_cc: str  # the lowest compute capability vLLM's kernel for `method` accepts
    checked: str
    source: str


@dataclass(frozen=True)
class WheelFiles:
    """What one release of a package ships as wheels for Linux x86_64 on the package index."""

    package: str
    version: Version
    python_tags: Tuple[str, ...]  # cp310 ... or cp38-abi3 (CPython >= 3.8) or py3; () = sdist only
    size_bytes: Optional[int]  # the largest of those wheels
    source: str


@dataclass(frozen=True)
class TorchCompanion:
    """The torchvision release series built for one torch release series."""

    torch: str  # "2.4"
    torchvision: str  # "0.19"
    source: str


@dataclass(frozen=True)
class CudaImage:
    """A CUDA base image whose NVIDIA_REQUIRE_CUDA asks the driver for `cuda`."""

    cuda: str
    image: str
    python: str  # the python3 of the image's distribution
    source: str


@dataclass(frozen=True)
class Table:
    file: str
    row_type: Type[Any]
    key: Tuple[str, ...]
    parsers: Dict[str, Callable[[str], Any]]
    optional: Tuple[str, ...] = ()
    empty: Tuple[Tuple[str, Any], ...] = ()  # (column, value of an empty optional cell), else None
    check: Optional[Callable[[Any], None]] = None  # cross-column checks on a parsed row; ValueError


TABLES: Dict[str, Table] = {
    "vllm": Table("vllm.csv", VllmRelease, ("version",), {
        "version": _version, "release_date": _date, "torch": _specifier,
        "python_requires": _specifier, "cuda": _cuda, "min_cc": _cc, "cuda_archs": _words,
        "companions": _requirements, "platforms": _words, "source": _text},
        optional=("cuda", "min_cc", "cuda_archs", "companions", "platforms")),
    "vllm_variants": Table("vllm_variants.csv", VllmVariant, ("vllm", "variant"), {
        "vllm": _version, "variant": _dotted(r"cu\d+", "a CUDA build like cu129"), "cuda": _cuda,
        "torch_build": _dotted(r"cu\d+", "a CUDA build like cu129"), "python_tag": _text, "platforms": _words,
        "source": _text}, optional=("platforms",)),
    "vllm_known": Table("vllm_known.csv", KnownIssue, ("vllm", "kind"), {
        "vllm": _specifier, "kind": _one_of("hang", "pin", "deps"), "pins": _requirements,
        "offer": _text, "text": _text, "source": _text}, optional=("pins", "offer")),
    "driver_seen": Table("driver_seen.csv", DriverSeen, ("driver", "os"), {
        "driver": _driver, "os": _one_of("linux", "windows"), "cuda": _cuda, "source": _text}),
    "distro_glibc": Table("distro_glibc.csv", DistroGlibc, ("distro", "version"), {
        "distro": _text, "version": _text, "glibc": _dotted(r"2\.\d+", "a glibc version like 2.31"), "source": _text}),
    "cuda_archs": Table("cuda_archs.csv", ArchFirstCuda, ("cc",), {
        "cc": _cc, "first_cuda": _cuda, "source": _text}),
    "torch": Table("torch.csv", TorchRelease, ("version",), {
        "version": _version, "release_date": _date, "python_requires": _specifier,
        "python_tags": _words, "default_cuda": _cuda, "cuda_builds": _words, "source": _text},
        optional=("default_cuda", "cuda_builds")),
    "torch_archs": Table("torch_archs.csv", TorchBuildArchs, ("torch", "cuda"), {
        "torch": _version, "cuda": _cuda, "arch_list": _words, "source": _text}),
    "cuda_driver": Table("cuda_driver.csv", CudaDriver, ("release",), {
        "cuda": _cuda, "release": _text, "min_driver_linux": _driver, "min_driver_windows": _driver,
        "source": _text}, optional=("min_driver_linux", "min_driver_windows")),
    "cuda_compat": Table("cuda_minor_compat.csv", CudaMinorCompat, ("cuda_major",), {
        "cuda_major": _dotted(r"\d+", "a CUDA major version"), "min_driver_linux": _driver,
        "min_driver_windows": _driver, "source": _text}),
    "driver_branches": Table("driver_branches.csv", DriverBranch, ("branch",), {
        "branch": _dotted(r"R\d+", "a driver branch like R535"), "max_cuda": _cuda, "source": _text}),
    "gpus": Table("gpus.csv", GpuSpec, ("name",), {
        "name": _text, "nvml_pattern": _nvml_pattern, "compute_capability": _cc, "architecture": _text,
        "vram_gb": _sizes, "vram_mib": _mib_seen,
        "segment": _one_of("laptop", "desktop", "workstation", "datacenter", "embedded"),
        "cpu_arch": _one_of("aarch64", "x86_64"), "source": _text},
        optional=("vram_gb", "vram_mib", "cpu_arch"), empty=(("vram_gb", ""), ("vram_mib", ())), check=_check_gpu),
    "models": Table("models.csv", ModelSpec, ("id",), {
        "id": _text, "model_type": _text, "parameters": _count, "layers": _count,
        "hidden_size": _count, "intermediate_size": _count, "heads": _count, "kv_heads": _count,
        "head_dim": _count, "vocab": _count, "max_positions": _count, "dtype": _dtype,
        "tie_embeddings": _flag, "sliding_window": _count, "checked": _checked, "source": _text},
        optional=("sliding_window",)),
    "model_variants": Table("model_variants.csv", ModelVariant, ("id",), {
        "id": _text, "base": _text, "method": _one_of("awq", "gptq"), "bits": _count,
        "group_size": _count, "tie_embeddings": _flag, "weights_bytes": _count, "min_cc": _cc,
        "checked": _checked, "source": _text}, optional=("group_size", "tie_embeddings", "weights_bytes")),
    "wheels": Table("wheels.csv", WheelFiles, ("package", "version"), {
        "package": _text, "version": _version, "python_tags": _words, "size_bytes": _count, "source": _text},
        optional=("python_tags", "size_bytes")),
    "cuda_images": Table("cuda_images.csv", CudaImage, ("cuda",), {
        "cuda": _cuda, "image": _text, "python": _dotted(r"3\.\d+", "a Python version like 3.10"),
        "source": _text}),
}


# Read by one rule only (torchvision next to another torch), so a matrices directory without it
# (the small tables of the logic tests) gives that rule no verdict instead of failing to load.
TORCH_COMPANIONS = Table("torch_companions.csv", TorchCompanion, ("torch",), {
    "torch": _dotted(r"\d+\.\d+", "a torch series like 2.4"),
    "torchvision": _dotted(r"0\.\d+", "a torchvision series like 0.19"), "source": _text})


def default_dir() -> str:
    """matrices/ inside the installed package (wheel), else at the top of a source checkout."""
    override = os.environ.get(ENV_DIR)
    if override:
        return override
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    packaged = os.path.join(package, "matrices")
    return packaged if os.path.isdir(packaged) else os.path.join(os.path.dirname(package), "matrices")


def parse_table(name: str, text: str, file: str) -> List[Any]:
    return parse_rows(TABLES[name], text, file)


def parse_rows(spec: Table, text: str, file: str) -> List[Any]:
    """Parse and validate one table's CSV text; MatrixError names file and line."""
    expected = [f.name for f in fields(spec.row_type)]
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    unknown = [c for c in header if c not in expected]
    missing = [c for c in expected if c not in header]
    if unknown or missing:
        raise MatrixError(f"{file}: line 1: header " + "; ".join(
            p for p in (f"unknown column(s) {', '.join(unknown)}" if unknown else "",
                        f"missing column(s) {', '.join(missing)}" if missing else "") if p))
    rows: List[Any] = []
    keys: Dict[Tuple[str, ...], int] = {}
    for line_no, raw in enumerate(reader, start=2):
        if None in raw:
            raise MatrixError(f"{file}: line {line_no}: more cells than columns")
        values = {}
        for column, parse in spec.parsers.items():
            cell = (raw.get(column) or "").strip()
            if not cell:
                if column in spec.optional:
                    empty = dict(spec.empty)
                    values[column] = empty[column] if column in empty else \
                        () if parse in (_words, _requirements) else None
                    continue
                raise MatrixError(f"{file}: line {line_no}: column {column!r} is empty"
                                  + (" (every row must say where it came from)" if column == "source" else ""))
            try:
                values[column] = parse(cell)
            except ValueError as exc:
                raise MatrixError(f"{file}: line {line_no}: column {column!r}: {exc}") from None
        key = tuple(str(values[k]) for k in spec.key)
        if key in keys:
            raise MatrixError(f"{file}: line {line_no}: duplicate {'/'.join(spec.key)} "
                              f"{'/'.join(key)} (first on line {keys[key]})")
        keys[key] = line_no
        row = spec.row_type(**values)
        if spec.check is not None:
            try:
                spec.check(row)
            except ValueError as exc:
                raise MatrixError(f"{file}: line {line_no}: {exc}") from None
        rows.append(row)
    return rows


class Matrices:
    def __init__(self, directory: Optional[str] = None) -> None:
        self.directory = directory or default_dir()
        self._cache: Dict[str, Any] = {}

    def table(self, name: str) -> List[Any]:
        return self.load(TABLES[name])

    def derived(self, key: str, make: Callable[[], Any]) -> Any:
        """A value computed once from the tables (they never change under one Matrices)."""
        key = "derived:" + key
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def load(self, spec: Table) -> List[Any]:
        """Read and validate a table once; also serves tables defined outside TABLES (the log
        signatures of `explain`, which `check` does not need)."""
        key = spec.file
        if key not in self._cache:
            path = os.path.join(self.directory, spec.file)
            try:
                with open(path, encoding="utf-8") as fh:
                    text = fh.read()
            except (OSError, UnicodeDecodeError) as exc:
                raise MatrixError(f"{path}: cannot be read ({exc})") from None
            self._cache[key] = parse_rows(spec, text, path)
        return self._cache[key]

    def validate_all(self) -> None:
        for name in TABLES:
            self.table(name)
        self._check_variant_bases()

    def _check_variant_bases(self) -> None:
        known = {m.id for m in self.table("models")}
        for line_no, v in enumerate(self.table("model_variants"), start=2):
            if v.base not in known:
                path = os.path.join(self.directory, TABLES["model_variants"].file)
                raise MatrixError(f"{path}: line {line_no}: base {v.base!r} is not a model in "
                                  f"{TABLES['models'].file}")

    # --- lookups the rules use ---------------------------------------------------------

    def vllm(self, version: str) -> Optional[VllmRelease]:
        v = _lenient_version(version)
        return next((r for r in self.table("vllm") if r.version == v), None) if v else None

    def newest_vllm(self) -> VllmRelease:
        return max(self.table("vllm"), key=lambda r: r.version)

    def torch(self, version: str) -> Optional[TorchRelease]:
        v = _lenient_version(version)
        if v is None:
            return None
        public = Version(v.public)
        return next((r for r in self.table("torch") if r.version == public), None)

    def _companions(self) -> List[TorchCompanion]:
        """torch_companions.csv, or nothing where a matrices directory has no such file."""
        if not os.path.isfile(os.path.join(self.directory, TORCH_COMPANIONS.file)):
            return []
        return self.load(TORCH_COMPANIONS)

    def torchvision_for(self, torch_version: str) -> Optional[str]:
        """The torchvision series ("0.19") built for this torch's series; None when not known."""
        v = _lenient_version(torch_version)
        if v is None:
            return None
        return next((r.torchvision for r in self._companions() if r.torch == f"{v.major}.{v.minor}"), None)

    def index_cuda_for_torchvision(self, torchvision_version: str) -> Optional[str]:
        """The CUDA of the plain (untagged) torchvision wheel on the package index: the default CUDA
        of the torch series it was released with (its wheels are built together); None when the
        series or its releases disagree or are not known."""
        v = _lenient_version(torchvision_version)
        if v is None:
            return None
        series = next((r.torch for r in self._companions() if r.torchvision == f"{v.major}.{v.minor}"), None)
        cudas = {r.default_cuda for r in self.table("torch")
                 if series and f"{r.version.major}.{r.version.minor}" == series}
        return cudas.pop() if len(cudas) == 1 else None

    def torch_archs(self, version: str, cuda: str) -> Optional[TorchBuildArchs]:
        v = _lenient_version(version)
        if v is None:
            return None
        public = Version(v.public)
        return next((r for r in self.table("torch_archs") if r.torch == public and r.cuda == cuda), None)

    def gpu(self, nvml_name: str) -> Optional[GpuSpec]:
        """The row an NVML name denotes, its memory narrowed to a size the name states; None when
        the name is not known. compat.gpu decides."""
        from envdoctor.compat import gpu as compat_gpu
        return compat_gpu.spec(nvml_name, self)

    def gpus_named(self, query: str) -> List[GpuSpec]:
        """The rows a person's words name ("RTX 3050 Laptop", "T4"); several when ambiguous."""
        from envdoctor.compat import gpu as compat_gpu
        return compat_gpu.specs_named(query, self)

    def model(self, model_id: str) -> Optional[ModelSpec]:
        key = model_id.strip().lower()
        return next((m for m in self.table("models") if m.id.lower() == key), None)

    def variant(self, model_id: str) -> Optional[ModelVariant]:
        key = model_id.strip().lower()
        return next((v for v in self.table("model_variants") if v.id.lower() == key), None)

    def variants_of(self, base_id: str) -> List[ModelVariant]:
        key = base_id.strip().lower()
        return [v for v in self.table("model_variants") if v.base.lower() == key]

    def wheel_files(self, package: str, version: str) -> Optional[WheelFiles]:
        v = _lenient_version(version)
        key = package.lower().replace("_", "-")
        return next((w for w in self.table("wheels") if w.package == key and w.version == v), None) if v else None



def _lenient_version(text: str) -> Optional[Version]:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def driver_key(text: str) -> Tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


