"""Read the NVIDIA driver through NVML (nvidia-ml-py), in a child process.

NVML answers in tens of milliseconds on a healthy machine, but it is a C library in the
driver: on a wedged driver `nvmlInit` blocks in the kernel, and a broken one can crash
(SIGSEGV, abort). So envdoctor never loads it: a short child of envdoctor's own interpreter
reads it and prints one JSON line; a crash or a hang of that child is a one-line reason,
and the child is killed with its group on timeout. The snapshot is plain JSON-able data so
fixture machines can hold a recorded one.
"""
from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any, Dict, List, Optional, Protocol

from envdoctor.core.reasons import DriverReason


class NvmlUnavailable(Exception):
    """NVML could not be used; the message says why in one line, `reason` as a value."""

    def __init__(self, message: str, reason: DriverReason = DriverReason.FAILED) -> None:
        super().__init__(message)
        self.reason = reason


def _reason(nv: Any, exc: Exception) -> DriverReason:
    """pynvml raises one NVMLError subclass per NVML return code; `value` is the code."""
    value = getattr(exc, "value", None)
    if value is not None and value == getattr(nv, "NVML_ERROR_LIBRARY_NOT_FOUND", None):
        return DriverReason.ABSENT
    if value is not None and value in (getattr(nv, "NVML_ERROR_DRIVER_NOT_LOADED", None),
                                       getattr(nv, "NVML_ERROR_LIB_RM_VERSION_MISMATCH", None)):
        return DriverReason.NOT_LOADED
    return DriverReason.FAILED


class NvmlReader(Protocol):
    def read(self, timeout: float) -> Dict[str, Any]: ...


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _processes(nv: Any, handle: Any) -> List[Dict[str, Any]]:
    seen: Dict[int, Dict[str, Any]] = {}
    for getter in (nv.nvmlDeviceGetComputeRunningProcesses, nv.nvmlDeviceGetGraphicsRunningProcesses):
        try:
            procs = getter(handle)
        except nv.NVMLError:
            continue  # not supported (WSL reports none); memory.used still tells the story
        for p in procs:
            used = getattr(p, "usedGpuMemory", None)
            entry = seen.setdefault(int(p.pid), {"pid": int(p.pid), "used_bytes": None, "name": None})
            if isinstance(used, int) and used < (1 << 62):  # NVML_VALUE_NOT_AVAILABLE is huge
                entry["used_bytes"] = used
    for entry in seen.values():
        try:
            entry["name"] = _text(nv.nvmlSystemGetProcessName(entry["pid"]))
        except nv.NVMLError:
            pass
    return sorted(seen.values(), key=lambda e: e["pid"])


def _read_nvml() -> Dict[str, Any]:
    try:
        import pynvml as nv  # provided by nvidia-ml-py
    except ImportError as exc:
        raise NvmlUnavailable(f"nvidia-ml-py is not importable: {exc}", DriverReason.ABSENT) from None
    try:
        nv.nvmlInit()
    except nv.NVMLError as exc:
        raise NvmlUnavailable(f"NVML: {exc}", _reason(nv, exc)) from None
    try:
        cuda: Optional[int]
        try:
            cuda = int(nv.nvmlSystemGetCudaDriverVersion_v2())
        except nv.NVMLError:
            cuda = None
        gpus = []
        for index in range(nv.nvmlDeviceGetCount()):
            handle = nv.nvmlDeviceGetHandleByIndex(index)
            try:  # v2 excludes driver-reserved memory from `used`, as nvidia-smi does
                mem = nv.nvmlDeviceGetMemoryInfo(handle, version=nv.nvmlMemory_v2)
            except (nv.NVMLError, AttributeError, TypeError):
                mem = nv.nvmlDeviceGetMemoryInfo(handle)
            try:
                cc: Optional[List[int]] = list(nv.nvmlDeviceGetCudaComputeCapability(handle))
            except nv.NVMLError:
                cc = None
            gpus.append({
                "index": index,
                "name": _text(nv.nvmlDeviceGetName(handle)),
                "compute_capability": cc,
                "memory": {"total": int(mem.total), "used": int(mem.used), "free": int(mem.free)},
                "processes": _processes(nv, handle),
            })
        return {"driver_version": _text(nv.nvmlSystemGetDriverVersion()),
                "cuda_driver_version": cuda, "gpus": gpus}
    except nv.NVMLError as exc:
        raise NvmlUnavailable(f"NVML: {exc}", _reason(nv, exc)) from None
    finally:
        try:
            nv.nvmlShutdown()
        except Exception:  # noqa: BLE001 - shutdown failure changes nothing we report
            pass


# Where a working NVIDIA driver shows itself on Linux: its device nodes, its /proc entry, or
# WSL 2's GPU device and the Windows driver's NVML. With none of them NVML cannot work, and
# importing nvidia-ml-py (tens of milliseconds) is skipped.
DRIVER_MARKS = ("/dev/nvidiactl", "/proc/driver/nvidia", "/dev/dxg", "/usr/lib/wsl/lib/libnvidia-ml.so.1")


# The child: envdoctor's package directory goes first on sys.path, whatever the install.
_CHILD = "import sys; sys.path.insert(0, sys.argv[1]); from envdoctor.machine.nvml import child_main; child_main()"


def child_main() -> None:
    """In the child: one JSON line, {"snapshot": ...} or {"error": "...", "reason": "..."}."""
    try:
        out: Dict[str, Any] = {"snapshot": _read_nvml()}
    except NvmlUnavailable as exc:
        out = {"error": str(exc), "reason": exc.reason.value}
    except Exception as exc:  # noqa: BLE001 - any failure of the library is a one-line reason
        out = {"error": f"NVML: {type(exc).__name__}: {exc}"}
    sys.stdout.write(json.dumps(out) + "\n")


def reason_of(answer: Dict[str, Any]) -> DriverReason:
    """The reason an answer (the child's, or a recorded nvml.json) gives; failed when it names none."""
    try:
        return DriverReason(answer.get("reason", DriverReason.FAILED.value))
    except ValueError:
        return DriverReason.FAILED


def _crash(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"NVML crashed ({signal.Signals(-returncode).name}) while reading the driver"
        except ValueError:
            pass
    return f"NVML crashed (exit {returncode}) while reading the driver"


class SystemNvml:
    def read(self, timeout: float) -> Dict[str, Any]:
        from envdoctor.machine.runner import SubprocessRunner

        if sys.platform.startswith("linux") and not any(os.path.exists(p) for p in DRIVER_MARKS):
            raise NvmlUnavailable("NVML library not found: no NVIDIA driver (no /dev/nvidiactl, "
                                  "/proc/driver/nvidia or WSL GPU)", DriverReason.ABSENT)
        package_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        result = SubprocessRunner().run([sys.executable, "-c", _CHILD, package_parent], timeout)
        if result.status == "timeout":
            raise TimeoutError(f"NVML gave no answer in {timeout:.1f} s")
        if result.status != "ok":
            raise NvmlUnavailable(f"NVML could not be read: {result.describe()}")
        try:
            answer = json.loads(result.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            answer = None
        if isinstance(answer, dict) and isinstance(answer.get("snapshot"), dict):
            return answer["snapshot"]
        if isinstance(answer, dict) and isinstance(answer.get("error"), str):
            raise NvmlUnavailable(answer["error"][:300], reason_of(answer))
        raise NvmlUnavailable(_crash(result.returncode) if result.returncode else
                              f"NVML could not be read: {result.describe()}")
