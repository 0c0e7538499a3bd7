"""NVIDIA driver and GPUs: NVML first, `nvidia-smi --query-gpu` as the fallback.

Both run under timeouts. No NVML library and no nvidia-smi means no driver (absent);
a driver that is there but does not answer, or answers garbage, is an error that the
`nvidia-driver-unreadable` rule explains.
"""
from __future__ import annotations

import csv
import io
import re
from typing import List, Optional, Tuple

from envdoctor.core.facts import MAX_GPUS, DriverFacts, Gpu, GpuProcess
from envdoctor.core.reasons import DriverReason
from envdoctor.core.results import Facts
from envdoctor.machine.context import Context
from envdoctor.machine.nvml import NvmlUnavailable
from envdoctor.messages import Msg
from envdoctor.probes.engine import ProbeAbsent, ProbeFailed, ProbeTimeout

MIB = 1024 * 1024
NVML_TIMEOUT = 2.5
SMI_TIMEOUT = 3.0
WSL_SMI = "/usr/lib/wsl/lib/nvidia-smi"  # WSL puts it here; PATH may lack the folder
# Terminal control characters in a GPU name (ESC ] 0 ; sets the window title) never reach output.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
QUERY_FIELDS = ("index", "name", "compute_cap", "memory.total", "memory.used", "memory.free",
                "driver_version")


def _cuda_from_int(value: Optional[int]) -> Optional[str]:
    # NVML encodes CUDA 12.4 as 12040.
    if not value:
        return None
    return f"{value // 1000}.{value % 1000 // 10}"


def _name(raw: object) -> str:
    return _CONTROL.sub("", str(raw))[:200]


def from_nvml(snapshot: dict) -> DriverFacts:
    gpus = []
    if len(snapshot.get("gpus", [])) > MAX_GPUS:
        raise ValueError(f"{len(snapshot['gpus'])} GPUs reported, more than one machine has")
    for g in snapshot.get("gpus", []):
        mem = g.get("memory") or {}
        cc = g.get("compute_capability")
        gpus.append(Gpu(
            index=int(g["index"]),
            name=_name(g["name"]),
            compute_capability=f"{cc[0]}.{cc[1]}" if cc else None,
            memory_total_mib=int(mem["total"]) // MIB if "total" in mem else None,
            memory_used_mib=int(mem["used"]) // MIB if "used" in mem else None,
            memory_free_mib=int(mem["free"]) // MIB if "free" in mem else None,
            processes=tuple(GpuProcess(int(p["pid"]), p.get("name"),
                                       int(p["used_bytes"]) // MIB if p.get("used_bytes") is not None else None)
                            for p in g.get("processes", [])),
            cc_source="nvml" if cc else None,
        ))
    cuda = _cuda_from_int(snapshot.get("cuda_driver_version"))
    return DriverFacts(source="nvml", driver_version=str(snapshot["driver_version"]), cuda_max=cuda,
                       cuda_max_source="nvml" if cuda else None, gpus=tuple(gpus))


def _int_or_none(text: str) -> Optional[int]:
    text = text.strip()
    return int(float(text)) if re.fullmatch(r"\d+(\.\d+)?", text) else None


def parse_query_csv(text: str, fields: Tuple[str, ...]) -> Tuple[str, List[Gpu]]:
    """Parse `nvidia-smi --query-gpu=FIELDS --format=csv,noheader,nounits`; ValueError on garbage."""
    gpus, drivers = [], set()
    try:
        rows = list(csv.reader(io.StringIO(text.strip(), newline="")))
    except csv.Error as exc:  # a bare CR, a NUL
        raise ValueError(f"not CSV: {exc}") from None
    if len(rows) > MAX_GPUS:
        raise ValueError(f"{len(rows)} GPU rows, more than one machine has")
    for row in rows:
        if not row:
            continue
        if len(row) != len(fields):
            raise ValueError(f"expected {len(fields)} fields, got: {','.join(row)[:120]!r}")
        values = dict(zip(fields, (c.strip() for c in row)))
        if not values["index"].isdigit() or not re.fullmatch(r"\d+(\.\d+)+", values["driver_version"]):
            raise ValueError(f"unreadable row: {','.join(row)[:120]!r}")
        cc = values.get("compute_cap")
        gpus.append(Gpu(
            index=int(values["index"]),
            name=_name(values["name"]),
            compute_capability=cc if cc and re.fullmatch(r"\d+\.\d+", cc) else None,
            memory_total_mib=_int_or_none(values["memory.total"]),
            memory_used_mib=_int_or_none(values["memory.used"]),
            memory_free_mib=_int_or_none(values["memory.free"]),
            cc_source="nvidia-smi" if cc and re.fullmatch(r"\d+\.\d+", cc) else None,
        ))
        drivers.add(values["driver_version"])
    if not gpus:
        raise ValueError("no GPU rows")
    return sorted(drivers)[0], gpus


def parse_banner_cuda(text: str) -> Optional[str]:
    m = re.search(r"CUDA Version\s*:\s*(\d+\.\d+)", text)
    return m.group(1) if m else None


def _smi(ctx: Context) -> Optional[str]:
    return ctx.which("nvidia-smi") or (WSL_SMI if ctx.fs.is_executable(WSL_SMI) else None)


def _query(ctx: Context, smi: str, fields: Tuple[str, ...]):
    return ctx.run([smi, f"--query-gpu={','.join(fields)}", "--format=csv,noheader,nounits"],
                   timeout=SMI_TIMEOUT)


def smi_reason(text: str) -> DriverReason:
    """What nvidia-smi's own words say is wrong (its first line names it)."""
    low = text.lower()
    if "communicate" in low or "not loaded" in low or "driver/library version mismatch" in low:
        return DriverReason.NOT_LOADED  # "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver"
    if "couldn't find libnvidia-ml" in low or "not found" in low:
        return DriverReason.LIBRARY_MISSING  # "NVIDIA-SMI couldn't find libnvidia-ml.so library in your system"
    return DriverReason.FAILED


def from_nvidia_smi(ctx: Context, smi: str, nvml_error: str) -> DriverFacts:
    fields: Tuple[str, ...] = QUERY_FIELDS
    result = _query(ctx, smi, fields)
    if result.status == "ok" and result.returncode != 0 and "compute_cap" in (result.stdout + result.stderr):
        # Drivers before ~510 do not know the compute_cap field; ask without it.
        fields = tuple(f for f in QUERY_FIELDS if f != "compute_cap")
        result = _query(ctx, smi, fields)
    if result.status == "timeout":
        raise ProbeTimeout(f"nvidia-smi gave no answer in {SMI_TIMEOUT:g} s and was killed")
    if not result.ok:
        if result.status == "ok":  # nvidia-smi says what is wrong in its first line
            first = _name(
                next((line.strip() for line in (result.stdout + result.stderr).splitlines() if line.strip()), "")
            )
            raise ProbeFailed(Msg("probe.exited", tool="nvidia-smi", code=result.returncode, output=first[:300]),
                              smi_reason(first))
        raise ProbeFailed(result.describe(), smi_reason(result.describe()))
    try:
        driver, gpus = parse_query_csv(result.stdout, fields)
    except ValueError as exc:
        raise ProbeFailed(f"nvidia-smi printed output that cannot be read ({exc})", DriverReason.GARBAGE) from None
    banner = ctx.run([smi], timeout=SMI_TIMEOUT)
    cuda = parse_banner_cuda(banner.stdout) if banner.ok else None
    return DriverFacts(source="nvidia-smi", driver_version=driver, cuda_max=cuda,
                       cuda_max_source="nvidia-smi" if cuda else None, gpus=tuple(gpus),
                       nvml_error=nvml_error)


def probe(ctx: Context, _deps: Facts) -> DriverFacts:
    reason = DriverReason.FAILED
    try:
        return from_nvml(ctx.nvml.read(min(NVML_TIMEOUT, ctx.remaining())))
    except NvmlUnavailable as exc:
        nvml_error, reason = str(exc), exc.reason
    except TimeoutError as exc:
        if _smi(ctx) is None:
            raise ProbeTimeout(str(exc)) from None
        nvml_error = str(exc)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        nvml_error, reason = f"NVML returned data that cannot be read: {exc}", DriverReason.GARBAGE
    smi = _smi(ctx)
    if smi is None:
        if reason is DriverReason.ABSENT:
            raise ProbeAbsent(Msg("probe.driver.absent"))
        raise ProbeFailed(f"{nvml_error}; nvidia-smi is not installed", reason)
    return from_nvidia_smi(ctx, smi, nvml_error)
