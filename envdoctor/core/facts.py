"""Facts: typed, JSON-serialisable snapshots of one machine, one dataclass per probe area.

Probes produce these; rules, the renderers and the resolver only read them. Each area's facts
say in one line how the area stands (`summary()`), so a renderer shows any area without knowing it.
Optional fields are None when the machine did not say, never a guess.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, Optional, Tuple

from envdoctor.core.units import binary_size, gib, rate

if TYPE_CHECKING:  # fit.py is only needed with --model; keep it off the start-up path
    from envdoctor.fit.calc import ModelShape


@dataclass(frozen=True)
class PlatformFacts:
    system: str  # Linux, Windows, Darwin
    machine: str
    kernel: Optional[str] = None
    distro_id: Optional[str] = None  # ubuntu
    distro_version: Optional[str] = None  # 22.04
    distro_name: Optional[str] = None  # Ubuntu 22.04.4 LTS
    wsl: Optional[int] = None  # 1 or 2 under WSL, else None
    wsl_distro: Optional[str] = None
    container: Optional[str] = None  # docker, podman, kubernetes, containerd, lxc

    def summary(self) -> str:
        from envdoctor.messages import t  # worded in the language of the run

        where = self.distro_name or self.system
        if self.wsl:
            where += t("summary.platform.wsl", wsl=self.wsl)
        if self.container:
            where += t("summary.platform.container", container=self.container)
        return t("summary.platform.kernel", where=where, machine=self.machine, kernel=self.kernel) if self.kernel \
            else t("summary.platform", where=where, machine=self.machine)


@dataclass(frozen=True)
class WslFacts:
    libcuda_stub: Tuple[str, ...] = ()  # /usr/lib/wsl/lib/libcuda.so*
    loader_libcuda: Optional[str] = None  # where the dynamic loader resolves libcuda.so.1
    loader_source: Optional[str] = None  # "ldconfig", "LD_LIBRARY_PATH" or None
    ld_library_path: Tuple[str, ...] = ()
    linux_libcuda: Tuple[str, ...] = ()  # libcuda.so* of a Linux driver, outside /usr/lib/wsl
    linux_driver_packages: Tuple[str, ...] = ()  # dpkg packages that ship a Linux driver
    proc_driver_nvidia: bool = False  # the Linux kernel module is loaded (never right in WSL)

    def summary(self) -> str:
        from envdoctor.messages import t

        stub = t("summary.wsl.stub") if self.libcuda_stub else t("summary.wsl.no-stub")
        loader = (
            t("summary.wsl.loader", path=self.loader_libcuda) if self.loader_libcuda else t("summary.wsl.no-loader")
        )
        return stub + t("sep.list") + loader


@dataclass(frozen=True)
class GpuProcess:
    pid: int
    name: Optional[str] = None
    used_mib: Optional[int] = None


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str
    compute_capability: Optional[str] = None  # "8.6"
    memory_total_mib: Optional[int] = None
    memory_used_mib: Optional[int] = None
    memory_free_mib: Optional[int] = None
    processes: Tuple[GpuProcess, ...] = ()
    cc_source: Optional[str] = None  # "nvml", "nvidia-smi", "report" or "matrix" (looked up by name)


# More GPUs than one host carries (the largest NVIDIA systems hold 16): an answer claiming more
# is garbage, and judging tens of thousands of GPUs would outlast the deadline.
MAX_GPUS = 64


@dataclass(frozen=True)
class DriverFacts:
    source: str  # nvml | nvidia-smi | report
    driver_version: Optional[str]  # None: a collect_env report that lists the GPUs but not the driver
    cuda_max: Optional[str] = None  # the newest CUDA this driver runs, e.g. "12.4"
    cuda_max_source: Optional[str] = None  # nvml | nvidia-smi | matrix
    gpus: Tuple[Gpu, ...] = ()
    nvml_error: Optional[str] = None  # why NVML was not used, when nvidia-smi was

    def summary(self) -> str:
        from envdoctor.messages import t

        head = t("summary.driver", version=self.driver_version or "?", cuda=self.cuda_max or "?", source=self.source)
        gpus = "; ".join(f"{g.name}, " + (f"{g.memory_total_mib} MiB, " if g.memory_total_mib is not None else "")
                         + f"CC {g.compute_capability or '?'}" for g in self.gpus)
        return f"{head} · {gpus or t('summary.driver.no-gpu')}"


@dataclass(frozen=True)
class Toolkit:
    path: str
    version: Optional[str] = None


@dataclass(frozen=True)
class CudaToolkitFacts:
    nvcc_path: Optional[str] = None
    nvcc_version: Optional[str] = None  # "12.6"
    nvcc_toolkit: Optional[str] = None  # the toolkit directory that nvcc on PATH belongs to
    cuda_home: Optional[str] = None  # CUDA_HOME or CUDA_PATH
    toolkits: Tuple[Toolkit, ...] = ()
    default_link: Optional[str] = None  # what /usr/local/cuda points to

    def summary(self) -> str:
        from envdoctor.messages import t

        parts = [f"nvcc {self.nvcc_version} ({self.nvcc_path})" if self.nvcc_path else t("summary.cuda.no-nvcc")]
        if self.toolkits:
            parts.append(t("summary.cuda.installed", toolkits=", ".join(k.version or k.path for k in self.toolkits)))
        return " · ".join(parts)


@dataclass(frozen=True)
class Distribution:
    name: str
    version: str
    requires: Tuple[str, ...] = ()
    requires_python: Optional[str] = None


@dataclass(frozen=True)
class TorchBuild:
    """torch as installed, read from metadata and torch/version.py text (never imported)."""

    version: str
    cuda: Optional[str] = None  # "12.1"; None for a CPU build
    hip: Optional[str] = None


@dataclass(frozen=True)
class PythonEnvFacts:
    executable: str
    selected_by: str  # --python, VIRTUAL_ENV, CONDA_PREFIX or envdoctor
    version: str
    implementation: str = "cpython"
    prefix: str = ""
    base_prefix: str = ""
    kind: str = "system"  # venv | conda | system
    externally_managed: bool = False
    pip_version: Optional[str] = None
    marker_env: Dict[str, str] = field(default_factory=dict)
    distributions: Tuple[Distribution, ...] = ()
    torch: Optional[TorchBuild] = None
    shadowed: Tuple[str, ...] = ()  # distributions installed twice on sys.path

    def dist(self, name: str) -> Optional[Distribution]:
        key = canonicalize_name(name)
        for d in self.distributions:
            if canonicalize_name(d.name) == key:
                return d
        return None

    def summary(self) -> str:
        from envdoctor.messages import t

        parts = [f"Python {self.version} ({self.kind}: {self.executable})",
                 t("summary.python.packages", count=len(self.distributions))]
        vllm = self.dist("vllm")
        if vllm:
            parts.append(f"vllm {vllm.version}")
        if self.torch:
            parts.append(f"torch {self.torch.version}")
        return " · ".join(parts)


@dataclass(frozen=True)
class TorchDevice:
    index: int
    name: str
    capability: str  # "8.6"


@dataclass(frozen=True)
class TorchRuntimeFacts:
    version: str
    cuda: Optional[str] = None  # torch.version.cuda
    cuda_available: bool = False
    device_count: int = 0
    arch_list: Tuple[str, ...] = ()  # torch.cuda.get_arch_list(): sm_86, compute_90
    devices: Tuple[TorchDevice, ...] = ()
    error: Optional[str] = None  # the text CUDA initialisation failed with
    warnings: Tuple[str, ...] = ()  # warnings torch printed on the way (arch mismatch, ...)
    cached: bool = False  # the answer of an earlier child, for the same torch, driver and GPUs

    def summary(self) -> str:
        from envdoctor.messages import t

        cached = t("summary.torch.cached") if self.cached else ""
        if not self.cuda:
            return t("summary.torch.cpu", version=self.version) + cached
        state = (
            t("summary.torch.available") if self.cuda_available and not self.error else t("summary.torch.not-available")
        )
        devices = ", ".join(f"{d.name} sm_{d.capability.replace('.', '')}" for d in self.devices)
        return f"torch {self.version}, CUDA {self.cuda}: {state}" + (f" · {devices}" if devices else "") + cached


@dataclass(frozen=True)
class Disk:
    purpose: str  # "pip cache", "Hugging Face cache", "temp"
    path: str
    free_bytes: int
    total_bytes: int


@dataclass(frozen=True)
class ResourceFacts:
    mem_total_bytes: Optional[int] = None
    mem_available_bytes: Optional[int] = None
    swap_total_bytes: Optional[int] = None
    disks: Tuple[Disk, ...] = ()
    wslconfig_path: Optional[str] = None
    wslconfig_memory: Optional[str] = None  # [wsl2] memory= as written, e.g. "8GB"

    def summary(self) -> str:
        from envdoctor.messages import catalog, t

        ram = t("summary.resources.ram", total=gib(self.mem_total_bytes), available=gib(self.mem_available_bytes))
        disk = min(self.disks, key=lambda d: d.free_bytes, default=None)
        purpose = (
            (t(f"disk.{disk.purpose}") if f"disk.{disk.purpose}" in catalog("en") else disk.purpose) if disk else ""
        )
        return ram + (t("summary.resources.disk", free=gib(disk.free_bytes), purpose=purpose) if disk else "")


@dataclass(frozen=True)
class ModelFacts:
    """The model `check --model` was asked about, as found on this machine (no network)."""

    query: str  # what the user passed: a folder or a Hugging Face repository id
    found_at: Optional[str] = None  # the config.json read; None when not on this machine
    shape: Optional[ModelShape] = None
    hub_cache: Optional[str] = None  # the Hugging Face cache folder that was searched

    def summary(self) -> str:
        if self.shape is None:
            return f"{self.query}: no config.json on this machine (envdoctor's catalog is tried)"
        s = self.shape
        quant = f", {s.quant_method} {s.quant_bits}-bit" if s.quant_method else ""
        return f"{self.query}: {s.layers} layers, {s.dtype}{quant}, context {s.max_positions:,} ({self.found_at})"


@dataclass(frozen=True)
class NetStep:
    """One step of reaching a target, in order: proxy, proxy-connect, proxy-tls, tunnel,
    dns, tcp, tls, http, transfer, sample. Text is already redacted."""

    name: str
    ok: bool
    seconds: float = 0.0
    host: Optional[str] = None
    detail: Optional[str] = None
    problem: Optional[str] = None  # why not ok: timeout, refused, no-such-host, verify, status, stall, ...
    status: Optional[int] = None  # HTTP status, for tunnel/http/sample
    auth: Tuple[str, ...] = ()  # the authentication schemes a proxy asks for (its Proxy-Authenticate)
    ipv6_only: bool = False  # a connect that failed to a host with only IPv6 addresses


@dataclass(frozen=True)
class Throughput:
    url: str
    bytes: int
    seconds: float  # from the first body byte to the last
    bytes_per_second: Optional[float] = None
    stalled: bool = False  # no byte for the watchdog's window while the transfer was under way
    file_bytes: Optional[int] = None  # the whole file's size (Content-Range), when the server said
    projected_bytes: Optional[int] = None  # what the projection is for (the torch wheel)
    projected_seconds: Optional[float] = None
    first_byte_seconds: Optional[float] = None  # from sending the request to the first body byte
    small: bool = False  # the default check's small Range: the rate is a floor, not a big download's speed

    def rate_text(self) -> str:
        return ("≥ " if self.small else "") + rate(self.bytes_per_second)


KIND_LABEL = {
    "pip-index": "pip index", "pip-extra-index": "pip extra index", "pip-find-links": "pip find-links",
    "torch-index": "PyTorch index", "uv-index": "uv index", "uv-find-links": "uv find-links",
    "conda-channel": "conda channel", "hf": "Hugging Face", "modelscope": "ModelScope", "url": "--url",
}


@dataclass(frozen=True)
class NetTarget:
    kind: str  # pip-index, pip-extra-index, pip-find-links, torch-index, hf, modelscope, conda-channel, uv-index, url
    url: str
    source: str  # where the URL came from: "PIP_INDEX_URL", "/etc/pip.conf [global] index-url", ...
    required: bool = False  # an install cannot work without it
    proxy: Optional[str] = None  # the proxy this target goes through, None = direct
    proxy_source: Optional[str] = None
    no_proxy_match: Optional[str] = None  # the NO_PROXY entry that sends it direct
    ca_bundle: Optional[str] = None
    ca_source: Optional[str] = None
    addresses: Tuple[str, ...] = ()
    steps: Tuple[NetStep, ...] = ()
    tls_issuer: Optional[str] = None  # the certificate's issuer, named when verification failed
    throughput: Optional[Throughput] = None
    local: bool = False  # file:// or a path: checked on disk, not over the network
    notes: Tuple[str, ...] = ()
    seconds: float = 0.0
    bytes_read: int = 0  # body bytes of every page and sample, all hops together
    unused: Optional[str] = None  # why a failure here blocks nothing (HF_HUB_OFFLINE=1)
    pip_proxy_overridden: bool = False  # pip < 24.1: the environment's proxy won over pip's own proxy setting

    @property
    def failure(self) -> Optional[NetStep]:
        """The first step that failed: where reaching this target stopped."""
        return next((s for s in self.steps if not s.ok), None)

    @property
    def failed(self) -> bool:
        """Reaching it failed, and that matters: not cut by the budget, not a crash of ours, and
        used by an install (rules/network.py names the failure's code)."""
        step = self.failure
        return step is not None and step.problem not in ("budget", "crashed") and not self.unused

    @property
    def label(self) -> str:
        return KIND_LABEL.get(self.kind, self.kind)


@dataclass(frozen=True)
class ConfigProblem:
    kind: str  # a core.reasons.ConfigKind value: pip-config, index-url, proxy-url, ca-bundle, uv-config, condarc
    where: str  # the variable or file
    message: str


@dataclass(frozen=True)
class PipConfigFile:
    path: str
    level: str  # global, user, site, PIP_CONFIG_FILE
    exists: bool = False


@dataclass(frozen=True)
class NetworkFacts:
    targets: Tuple[NetTarget, ...] = ()
    budget_seconds: float = 0.0
    seconds: float = 0.0
    proxy_env: Tuple[Tuple[str, str], ...] = ()  # (variable, redacted value) for *_proxy and NO_PROXY
    proxy_conflicts: Tuple[str, ...] = ()  # "https_proxy/HTTPS_PROXY": both set, to different values
    pip_proxy: Optional[str] = None
    pip_proxy_source: Optional[str] = None
    pip_version: Optional[str] = None
    pip_default_index: Optional[str] = None  # read from pip itself, never written in envdoctor
    pip_timeout: Optional[str] = None
    pip_retries: Optional[str] = None
    pip_config_files: Tuple[PipConfigFile, ...] = ()
    problems: Tuple[ConfigProblem, ...] = ()
    nameservers: Tuple[str, ...] = ()  # /etc/resolv.conf
    wsl_generate_resolv_conf: Optional[bool] = None  # /etc/wsl.conf [network] generateResolvConf
    wsl_networking_mode: Optional[str] = None  # .wslconfig [wsl2] networkingMode
    wsl_dns_tunneling: Optional[bool] = None
    wslconfig_path: Optional[str] = None
    full_sample: bool = False  # --speed: a throughput sample of up to 32 MiB per host, else about 1 MiB in all
    bytes_read: int = 0

    def summary(self) -> str:
        reached = [t for t in self.targets if t.failure is None]
        failed = [t for t in self.targets if t.failed]
        unused = [t for t in self.targets if t.unused and t.failure is not None]
        unfinished = len(self.targets) - len(reached) - len(failed) - len(unused)  # cut by the budget: no verdict
        parts = [f"{len(self.targets)} place(s) to fetch from: {len(reached)} reached"
                 + (f", {len(failed)} failed" if failed else "")
                 + (f", {len(unused)} unreachable but not used" if unused else "")
                 + (f", {unfinished} not finished in the budget" if unfinished else "")]
        rates = [t.throughput for t in self.targets if t.throughput and t.throughput.bytes_per_second]
        if rates:
            best = max(rates, key=lambda tp: tp.bytes_per_second or 0.0)
            kind = next(t for t in self.targets if t.throughput is best).label
            parts.append(f"{kind} {best.rate_text()}")
        proxies = sorted({t.proxy for t in self.targets if t.proxy})
        if proxies:
            parts.append("via " + ", ".join(proxies))
        parts.append(f"read {binary_size(self.bytes_read)}")
        return " · ".join(parts + [f"{self.seconds:.1f} s of {self.budget_seconds:g} s"])


def canonicalize_name(name: str) -> str:
    """PEP 503 name normalisation (as packaging.utils does, without importing its tags)."""
    return re.sub(r"[-_.]+", "-", name).lower()
