"""NVML is read in a child process: a library that crashes or hangs costs one line, never
envdoctor itself (A26). The fake pynvml below stands in for nvidia-ml-py over a broken driver."""
from __future__ import annotations

import time

import pytest

from envdoctor.machine import nvml

FAKE_PYNVML = '''
import os, signal, time

NVML_ERROR_DRIVER_NOT_LOADED = 9

class NVMLError(Exception):
    def __init__(self, message, value=None):
        super().__init__(message)
        self.value = value

nvmlMemory_v2 = 2

def nvmlInit():
    mode = os.environ["FAKE_NVML"]
    if mode == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    if mode == "abort":
        os.abort()
    if mode == "hang":
        time.sleep(600)
    if mode == "error":
        raise NVMLError("Driver Not Loaded", NVML_ERROR_DRIVER_NOT_LOADED)

def nvmlShutdown():
    pass

def nvmlSystemGetCudaDriverVersion_v2():
    return 12040

def nvmlDeviceGetCount():
    return 1

class _Mem:
    total, used, free = 8 << 30, 1 << 30, 7 << 30

def nvmlDeviceGetHandleByIndex(i):
    return i

def nvmlDeviceGetMemoryInfo(handle, version=None):
    return _Mem()

def nvmlDeviceGetCudaComputeCapability(handle):
    return (8, 6)

def nvmlDeviceGetName(handle):
    return b"NVIDIA GeForce RTX 3050 Laptop GPU"

def nvmlDeviceGetComputeRunningProcesses(handle):
    return []

nvmlDeviceGetGraphicsRunningProcesses = nvmlDeviceGetComputeRunningProcesses

def nvmlSystemGetDriverVersion():
    return "551.86"
'''


@pytest.fixture()
def fake_nvml(tmp_path, monkeypatch):
    (tmp_path / "pynvml.py").write_text(FAKE_PYNVML)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setattr(nvml, "DRIVER_MARKS", ("/",))  # "a driver is here"

    def read(mode, timeout=10.0):
        monkeypatch.setenv("FAKE_NVML", mode)
        return nvml.SystemNvml().read(timeout)
    return read


@pytest.mark.parametrize("mode, signame", [("segv", "SIGSEGV"), ("abort", "SIGABRT")])
def test_a_crashing_nvml_is_a_reason_not_a_crash(fake_nvml, mode, signame):
    with pytest.raises(nvml.NvmlUnavailable) as err:
        fake_nvml(mode)
    assert f"NVML crashed ({signame})" in str(err.value)


def test_a_hanging_nvml_times_out(fake_nvml):
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        fake_nvml("hang", timeout=1.0)
    assert time.monotonic() - start < 3


def test_an_nvml_error_keeps_its_message(fake_nvml):
    with pytest.raises(nvml.NvmlUnavailable) as err:
        fake_nvml("error")
    assert "Driver Not Loaded" in str(err.value)
    assert err.value.reason is nvml.DriverReason.NOT_LOADED  # from NVML's return code, not its words


def test_a_working_nvml_snapshot_comes_back_whole(fake_nvml):
    snap = fake_nvml("ok")
    assert snap["driver_version"] == "551.86" and snap["cuda_driver_version"] == 12040
    gpu = snap["gpus"][0]
    assert gpu["name"] == "NVIDIA GeForce RTX 3050 Laptop GPU" and gpu["compute_capability"] == [8, 6]
    assert gpu["memory"]["total"] == 8 << 30
