"""What a pasted report says besides its fields: the whole text read as a log by explain's
signatures (an error printed before the report, or into it: "The NVIDIA driver on your system
is too old", "libcudart.so.12: cannot open shared object file"), and the verdicts only a
report needs (a CPU build of torch cannot see a GPU; WSL 2 from the kernel string)."""
from __future__ import annotations

from typing import List, Sequence

from envdoctor.core.codes import Command, register, reuse
from envdoctor.core.results import Finding
from envdoctor.report.collect_env import ParsedReport
from envdoctor.rules import driver, torch as torch_rules

# vLLM turns pinned memory off under WSL 2 (vllm/utils.py is_pin_memory_available at v0.5.3,
# vllm/platforms at later releases; VLLM_WSL2_ENABLE_PIN_MEMORY since v0.24.0), citing the
# "known limitations" of NVIDIA's CUDA on WSL guide.
WSL_GUIDE = "https://docs.nvidia.com/cuda/wsl-user-guide/"

WSL_PIN_MEMORY_OFF = register("wsl-pin-memory-off", "wsl", Command.REPORT,
                              "WSL 2 (from the report's kernel string): vLLM runs without pinned memory, so without "
                              "UVA and CPU offloading by default")
WSL_MULTI_GPU = register("wsl-multi-gpu", "wsl", Command.REPORT,
                         "WSL 2 with several GPUs listed: NCCL across WSL's virtual GPUs is fragile")
# check's codes, for what only a report shows: a CPU torch that hides the GPU, a report from macOS.
CPU_BUILD = reuse(torch_rules.cpu_build.code, Command.REPORT)
NO_GPU = reuse(driver.no_gpu.code, Command.REPORT)


def from_log_signatures(text: str, source: str, matrices) -> List[Finding]:
    """The causes explain's exact signatures find anywhere in the report's text."""
    from envdoctor.explain import explain_text

    e = explain_text(text, source=source, matrices=matrices)
    out = []
    for d in e.diagnoses:
        if d.role != "cause" or d.confidence != "signature":
            continue
        f = d.finding
        out.append(Finding(f.code, f.severity, f.area, f.title,
                           (f"printed in the report, line {d.line.number}: {d.line.text[:300]}",) + f.evidence,
                           f.why, f.fix, f.notes, f.docs))
    return out


def cpu_torch(fields) -> bool:
    """The report's torch is a CPU-only build (its version says +cpu, or no CUDA built in)."""
    version = (fields.get("torch_version") or "").split()
    if not version:
        return False
    no_cuda = (fields.get("torch_cuda") or "").lower() in ("none", "could not collect")  # torch.version.cuda None
    no_rocm = (fields.get("torch_rocm") or "none").lower() in ("none", "n/a")
    return version[0].endswith("+cpu") or (no_cuda and no_rocm)


def torch_cpu_build(parsed: ParsedReport) -> List[Finding]:
    """A CPU build of torch says nothing about the GPU: collect_env then prints "No CUDA"
    for GPU and driver whether or not the machine has one."""
    if not cpu_torch(parsed.report.fields):
        return []
    driver = parsed.facts.driver
    if (driver is not None and driver.gpus) or parsed.facts.status("driver") == "absent":
        return []  # the GPU is listed (check's own rule speaks), or there is none (macOS: no-nvidia-gpu)
    env = parsed.facts.python
    torch = env.torch if env is not None else None
    if torch is None:
        return []  # no torch build read: nothing to say about it
    said = parsed.report.fields.get("gpus") or parsed.report.fields.get("driver") or ""
    # The same code as check's rule: the problem is the same, only the GPU is unconfirmed.
    return [Finding(
        CPU_BUILD, "error", "torch",
        f"torch {torch.version} is a CPU-only build: it cannot see a GPU, whether or not this machine has one",
        (f"PyTorch version: {torch.version}", "CUDA used to build PyTorch: None")
        + ((f"GPU models and configuration: {said}",) if said else ()),
        "A CPU build of torch has no CUDA, so `torch.cuda.is_available()` is False and collect_env prints "
        "\"No CUDA\" for the GPU, the driver and cuDNN even on a machine with an NVIDIA GPU. vLLM's CUDA build "
        "needs torch's CUDA build.",
        ("nvidia-smi", "python3 -m pip install --force-reinstall torch==<version> --index-url <the torch index for "
         "your driver's CUDA>"),
        ("`nvidia-smi` says whether there is a GPU and which CUDA its driver runs; `envdoctor fix --plan` picks the "
         "matching torch build.",))]


def wsl2(parsed: ParsedReport) -> List[Finding]:
    platform = parsed.facts.platform
    if platform is None or platform.wsl != 2:
        return []
    gpus = parsed.report.gpus
    several = [Finding(
        WSL_MULTI_GPU, "warn", "wsl", f"{len(gpus)} GPUs under WSL 2: running across several GPUs is fragile there",
        gpus + (f"kernel: {platform.kernel}",),
        "Tensor parallelism goes through NCCL, which talks between the GPUs over shared memory and peer-to-peer "
        "paths that WSL 2's virtual GPU does not fully provide: NCCL did not support WSL 2 before 2.10, and reports "
        "of NCCL errors with several GPUs under WSL 2 stay open (microsoft/WSL#12467).",
        (), ("Start with --tensor-parallel-size 1 to confirm one GPU works; then try NCCL_P2P_DISABLE=1 and a larger "
             "/dev/shm, or run multi-GPU jobs on native Linux.",),
        "https://github.com/microsoft/WSL/issues/12467")] if len(gpus) > 1 else []
    return several + [Finding(
        WSL_PIN_MEMORY_OFF, "info", "wsl",
        "WSL 2: vLLM runs without pinned memory, so UVA and CPU offloading are unavailable by default",
        (f"kernel: {platform.kernel}",),
        "Pinned host memory is limited under WSL 2 (a known limitation in NVIDIA's CUDA on WSL guide), so vLLM "
        "turns it off there; UVA needs pinned memory. Expect slower host-device copies; --cpu-offload-gb needs "
        "page-locked memory.",
        (), ("vLLM 0.24 and later: VLLM_WSL2_ENABLE_PIN_MEMORY=1 turns it on (kernels 4.19.121 and later).",),
        WSL_GUIDE)]


def macos(parsed: ParsedReport) -> List[Finding]:
    """check's no-nvidia-gpu rule judges Linux only; a report from macOS says as much."""
    platform = parsed.facts.platform
    if platform is None or platform.system != "Darwin":
        return []
    return [Finding(
        NO_GPU, "error", "driver", "macOS has no NVIDIA driver: CUDA, and vLLM's CUDA build, do not run there",
        (f"OS: {platform.distro_name or parsed.report.fields.get('os', 'macOS')}",),
        "CUDA 10.2 was the last CUDA toolkit and driver release for macOS (NVIDIA's CUDA 10.2 release notes); "
        "torch on a Mac is a CPU/MPS build.", (),
        ("Run vLLM on a Linux machine (or WSL 2) with an NVIDIA GPU, or a CPU/Apple-silicon backend.",))]


def findings(parsed: ParsedReport, text: str, matrices, have: Sequence[Finding]) -> List[Finding]:
    """The report-only findings, less the codes the rules already found."""
    seen = {f.code for f in have}
    out = []
    for f in from_log_signatures(text, parsed.source, matrices) + torch_cpu_build(parsed) + wsl2(parsed) + macos(parsed):
        if f.code not in seen:
            seen.add(f.code)
            out.append(f)
    return out
