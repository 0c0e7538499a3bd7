"""Probes against small machines built in the test: garbage, missing files, fallbacks."""
from __future__ import annotations

import json

import pytest

from envdoctor.check.run import run_check
from envdoctor.probes.engine import ProbeFailed
from envdoctor.core.reasons import DriverReason
from envdoctor.core.results import Facts
from envdoctor.probes import nvidia, platform, resources
from envdoctor.machine.replay import replay_context

SMI = "/usr/bin/nvidia-smi"
QUERY = [SMI, "--query-gpu=" + ",".join(nvidia.QUERY_FIELDS), "--format=csv,noheader,nounits"]


def machine(tmp_path, files=None, commands=(), nvml=None, env=None, execs=(), system="Linux"):
    root = tmp_path / "root"
    root.mkdir()
    for path, text in (files or {}).items():
        p = root / path.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    for path in execs:
        p = root / path.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("")
    (tmp_path / "machine.json").write_text(json.dumps({
        "host": {"system": system, "machine": "x86_64", "executable": "/usr/bin/python3"},
        "env": env or {"PATH": "/usr/bin:/bin", "HOME": "/home/u"}}))
    (tmp_path / "commands.json").write_text(json.dumps(list(commands)))
    (tmp_path / "nvml.json").write_text(json.dumps(nvml or {"error": "NVML Shared Library Not Found", "reason": "absent"}))
    return replay_context(str(tmp_path))


def test_platform_with_unreadable_proc_files_says_less_not_wrong(tmp_path):
    ctx = machine(tmp_path)
    facts = platform.probe(ctx, Facts())
    assert facts.system == "Linux" and facts.kernel is None and facts.distro_id is None and facts.wsl is None


def test_nvidia_smi_garbage_is_an_unreadable_driver_finding(tmp_path):
    ctx = machine(tmp_path, execs=[SMI], commands=[{"argv": QUERY, "stdout": "\x00\x01 garbage \ufffd\n"}])
    report = run_check(ctx, only=["driver"])
    assert report.facts.status("driver") == "error"
    finding = next(f for f in report.findings if f.code == "nvidia-driver-unreadable")
    assert "(garbage)" in finding.title


def test_nvidia_smi_timeout_is_reported_as_such(tmp_path):
    ctx = machine(tmp_path, execs=[SMI], commands=[{"argv": QUERY, "status": "timeout", "returncode": None,
                                                   "error": "no answer in 3.0 s"}])
    report = run_check(ctx, only=["driver"])
    assert report.facts.status("driver") == "timeout"
    assert any("(timed out)" in f.title for f in report.findings)


def test_old_driver_without_compute_cap_field_is_asked_again_without_it(tmp_path):
    fields = [f for f in nvidia.QUERY_FIELDS if f != "compute_cap"]
    retry = [SMI, "--query-gpu=" + ",".join(fields), "--format=csv,noheader,nounits"]
    ctx = machine(tmp_path, execs=[SMI], commands=[
        {"argv": QUERY, "returncode": 2, "stdout": 'Field "compute_cap" is not a valid field to query.\n'},
        {"argv": retry, "stdout": "0, Tesla T4, 15109, 0, 15109, 470.82.01\n"},
        {"argv": [SMI], "stdout": "| NVIDIA-SMI 470.82.01    Driver Version: 470.82.01    CUDA Version: 11.4     |\n"}])
    facts = nvidia.probe(ctx, Facts())
    assert facts.source == "nvidia-smi" and facts.cuda_max == "11.4" and facts.gpus[0].compute_capability is None
    assert facts.nvml_error == "NVML Shared Library Not Found"
    assert ctx.runner.unexpected == []


def test_no_nvml_and_no_nvidia_smi_means_no_driver(tmp_path):
    ctx = machine(tmp_path)
    report = run_check(ctx, only=["driver"])
    assert report.facts.status("driver") == "absent"
    assert [f.code for f in report.findings] == ["no-nvidia-gpu"]


def test_nvml_hang_with_nvidia_smi_falls_back(tmp_path):
    ctx = machine(tmp_path, execs=[SMI], nvml={"timeout": True}, commands=[
        {"argv": QUERY, "stdout": "0, NVIDIA L4, 8.9, 23034, 0, 22563, 550.54.15\n"},
        {"argv": [SMI], "stdout": "CUDA Version: 12.4\n"}])
    facts = nvidia.probe(ctx, Facts())
    assert facts.source == "nvidia-smi" and "no answer" in facts.nvml_error and facts.gpus[0].name == "NVIDIA L4"


def test_nvml_garbage_snapshot_falls_back_to_nvidia_smi(tmp_path):
    ctx = machine(tmp_path, execs=[SMI], nvml={"snapshot": {"gpus": "nonsense"}}, commands=[
        {"argv": QUERY, "stdout": "0, NVIDIA L4, 8.9, 23034, 0, 22563, 550.54.15\n"},
        {"argv": [SMI], "stdout": "CUDA Version: 12.4\n"}])
    facts = nvidia.probe(ctx, Facts())
    assert facts.source == "nvidia-smi" and facts.gpus[0].name == "NVIDIA L4" and facts.cuda_max == "12.4"
    assert "cannot be read" in facts.nvml_error and ctx.runner.unexpected == []


def test_nvml_garbage_without_nvidia_smi_is_a_failure_not_no_driver(tmp_path):
    ctx = machine(tmp_path, nvml={"snapshot": {"gpus": "nonsense"}})
    with pytest.raises(ProbeFailed) as err:
        nvidia.probe(ctx, Facts())
    assert err.value.reason is DriverReason.GARBAGE  # no nvidia-smi here to fall back to


def test_wslconfig_memory_is_read_under_wsl(tmp_path):
    ctx = machine(tmp_path, files={
        "/proc/meminfo": "MemTotal: 8000000 kB\nMemAvailable: 6000000 kB\n",
        "/mnt/c/Users/angel/.wslconfig": "[wsl2]\nprocessors=4\nmemory=6GB\n"})
    from envdoctor.core.facts import PlatformFacts
    from envdoctor.core.results import ProbeResult

    deps = Facts({"platform": ProbeResult("platform", "ok", facts=PlatformFacts("Linux", "x86_64", wsl=2))})
    facts = resources.probe(ctx, deps)
    assert facts.wslconfig_path == "/mnt/c/Users/angel/.wslconfig" and facts.wslconfig_memory == "6GB"
    assert facts.mem_total_bytes == 8000000 * 1024


def test_outside_linux_the_linux_probes_skip(tmp_path):
    ctx = machine(tmp_path, system="Windows", env={"PATH": "C:\\Windows"})
    report = run_check(ctx)
    # the platform is read everywhere and the driver's NVML too; every other area needs Linux
    statuses = {a: r.status for a, r in report.facts.results.items() if a not in ("platform", "driver")}
    assert report.facts.status("platform") == "ok" and len(statuses) >= 6
    assert set(statuses.values()) == {"skipped"}, statuses
    assert [f.code for f in report.findings] == ["native-windows-unsupported"]


def test_without_any_sign_of_a_driver_nvml_is_not_even_loaded(monkeypatch, tmp_path):
    from envdoctor.machine import nvml, runner

    class ChildStarted(Exception):
        pass

    def no_child(self, argv, *args, **kwargs):
        raise ChildStarted(argv)

    monkeypatch.setattr(runner.SubprocessRunner, "run", no_child)  # NVML is only ever loaded in a child
    monkeypatch.setattr(nvml, "DRIVER_MARKS", (str(tmp_path / "nvidiactl"),))
    with pytest.raises(nvml.NvmlUnavailable) as err:
        nvml.SystemNvml().read(1.0)
    assert err.value.reason is DriverReason.ABSENT  # the driver probe reads that as "no driver", not a failure
    (tmp_path / "nvidiactl").write_text("")  # a sign of a driver: now the child is started
    with pytest.raises(ChildStarted):
        nvml.SystemNvml().read(1.0)
