"""What a pasted report says besides its fields: the whole text read as a log by explain's
signatures (an error printed before the report, or into it: "The NVIDIA driver on your system
is too old", "libcudart.so.12: cannot open shared object file"), and the verdicts only a
report needs (a CPU build of torch cannot see a GPU; WSL 2 from the kernel string)."""
from __future__ import annotations

import re
from typing import List, Sequence

from envdoctor.core.codes import Command, register, reuse
from envdoctor.core.results import Finding
from envdoctor.messages import Msg
from envdoctor.report.collect_env import ParsedReport
from envdoctor.rules import driver
from envdoctor.rules import torch as torch_rules

# vLLM turns pinned memory off under WSL 2 (vllm/utils.py is_pin_memory_available at v0.5.3,
# vllm/platforms at later releases; VLLM_WSL2_ENABLE_PIN_MEMORY since v0.24.0), citing the
# "known limitations" of NVIDIA's CUDA on WSL guide.
WSL_GUIDE = "https://docs.nvidia.com/cuda/wsl-user-guide/"

WSL_PIN_MEMORY_OFF = register("wsl-pin-memory-off", "wsl", Command.REPORT,
                              "WSL 2 (from the report's kernel string): vLLM runs without pinned memory, so without "
                              "UVA and CPU offloading by default")
WSL_MULTI_GPU = register("wsl-multi-gpu", "wsl", Command.REPORT,
                         "WSL 2 with several GPUs listed: NCCL across WSL's virtual GPUs is fragile")
EXTENSION_ARCHS = register("gpu-arch-unsupported-by-extension", "torch", Command.REPORT,
                           "A CUDA extension (detectron2's ops) was compiled for other GPU architectures than "
                           "this GPU's: its ops fail with 'no kernel image is available'")
# check's codes, for what only a report shows: a CPU torch that hides the GPU, a report from macOS.
CPU_BUILD = reuse(torch_rules.cpu_build.code, Command.REPORT)
NO_GPU = reuse(driver.no_gpu.code, Command.REPORT)


# A report is torch's: a driver too old for "the program's CUDA runtime" printed in it is too old
# for torch's (or for kernels built with torch's CUDA).
IN_TORCH_REPORT = {"driver-too-old-for-runtime": driver.driver_too_old.code}


def from_log_signatures(text: str, source: str, matrices) -> List[Finding]:
    """The causes (and check's problems shown as context) explain's exact signatures find in the report's text."""
    from envdoctor.explain import explain_text

    e = explain_text(text, source=source, matrices=matrices)
    out = []
    for d in e.diagnoses:
        # a context row counts where it is a problem check itself judges (GPUs of different kinds)
        shown = d.role == "cause" or (d.role == "context" and d.shared_with_check and d.finding.severity != "info")
        if not shown or d.confidence != "signature":
            continue
        f = d.finding
        out.append(Finding(IN_TORCH_REPORT.get(f.code, f.code), f.severity, f.area, f.title,
                           (Msg("report.evidence.printed", line=d.line.number, text=d.line.text[:300]),)
                           + f.evidence,
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
        Msg("torch-cpu-build-on-gpu-machine.report.title", torch=torch.version),
        (f"PyTorch version: {torch.version}", "CUDA used to build PyTorch: None")
        + ((f"GPU models and configuration: {said}",) if said else ()),
        Msg("torch-cpu-build-on-gpu-machine.report.why"),
        ("nvidia-smi", "python3 -m pip install --force-reinstall torch==<version> --index-url <the torch index for "
         "your driver's CUDA>"),
        (Msg("torch-cpu-build-on-gpu-machine.report.note"),))]


def wsl2(parsed: ParsedReport) -> List[Finding]:
    platform = parsed.facts.platform
    if platform is None or platform.wsl != 2:
        return []
    gpus = parsed.report.gpus
    several = [Finding(
        WSL_MULTI_GPU, "warn", "wsl", Msg("wsl-multi-gpu.title", count=len(gpus)),
        gpus + (Msg("evidence.kernel", kernel=platform.kernel),), Msg("wsl-multi-gpu.why"),
        (), (Msg("wsl-multi-gpu.note"),),
        "https://github.com/microsoft/WSL/issues/12467")] if len(gpus) > 1 else []
    return several + [Finding(
        WSL_PIN_MEMORY_OFF, "info", "wsl",
        Msg("wsl-pin-memory-off.title"), (Msg("evidence.kernel", kernel=platform.kernel),),
        Msg("wsl-pin-memory-off.why"), (), (Msg("wsl-pin-memory-off.note"),),
        WSL_GUIDE)]


def macos(parsed: ParsedReport) -> List[Finding]:
    """check's no-nvidia-gpu rule judges Linux only; a report from macOS says as much."""
    platform = parsed.facts.platform
    if platform is None or platform.system != "Darwin":
        return []
    return [Finding(
        NO_GPU, "error", "driver", Msg("no-nvidia-gpu.report.macos.title"),
        (f"OS: {platform.distro_name or parsed.report.fields.get('os', 'macOS')}",),
        Msg("no-nvidia-gpu.report.macos.why"), (), (Msg("no-nvidia-gpu.report.macos.note"),))]


def arch_list(flags: str) -> List[str]:
    """nvcc's architectures from an extension's arch flags: "sm_70", "compute_75", "6.1", "7.5+PTX"."""
    out: List[str] = []
    for token in re.split(r"[\s,;]+", flags.strip()):
        m = re.fullmatch(r"(\d+)\.(\d)(\+PTX)?", token, re.IGNORECASE)
        if m:
            out.append(f"sm_{m.group(1)}{m.group(2)}")
            if m.group(3):
                out.append(f"compute_{m.group(1)}{m.group(2)}")
        elif re.fullmatch(r"(?:sm|compute)_\d+[af]?", token):
            out.append(token)
    return out


def extension_archs(parsed: ParsedReport) -> List[Finding]:
    """The GPUs an extension's own CUDA ops were not compiled for (detectron2's arch flags)."""
    from envdoctor.compat.kernels import arch_supported

    flags = parsed.report.fields.get("extension_archs") or ""
    archs = arch_list(flags)
    driver = parsed.facts.driver
    if not archs or driver is None:
        return []
    missing = [g for g in driver.gpus if g.compute_capability and not arch_supported(g.compute_capability, archs)]
    if not missing:
        return []
    g = missing[0]
    return [Finding(
        EXTENSION_ARCHS, "error", "torch",
        Msg("gpu-arch-unsupported-by-extension.title", extension="detectron2", archs=flags, gpu=g.name,
            cc=g.compute_capability),
        (f"detectron2 arch flags: {flags}", f"GPU {g.index}: {g.name} (compute capability {g.compute_capability})"),
        Msg("gpu-arch-unsupported-by-extension.why"),
        (f'TORCH_CUDA_ARCH_LIST="{g.compute_capability}" python -m pip install --no-build-isolation '
         "--force-reinstall --no-deps <the extension's source>",),
        (Msg("gpu-arch-unsupported-by-extension.note"),))]


def findings(parsed: ParsedReport, text: str, matrices, have: Sequence[Finding]) -> List[Finding]:
    """The report-only findings, less the codes the rules already found."""
    seen = {f.code for f in have}
    out = []
    found = (from_log_signatures(text, parsed.source, matrices) + torch_cpu_build(parsed) + wsl2(parsed)
             + macos(parsed) + extension_archs(parsed))
    for f in found:
        if f.code not in seen:
            seen.add(f.code)
            out.append(f)
    return out
