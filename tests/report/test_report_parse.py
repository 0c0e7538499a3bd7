"""check --from-report: collect_env reports of several torch and vLLM versions become the
same Facts the live probes produce; each parsed field is checked; missing facts stay unknown."""
from __future__ import annotations

import os

import pytest

from envdoctor.compat.gpu import identify
from envdoctor.compat.tables import Matrices
from envdoctor.core.facts import CudaToolkitFacts, DriverFacts, PlatformFacts, PythonEnvFacts, TorchRuntimeFacts
from envdoctor.report.collect_env import ReportError, check_report, parse_report, read_report

HERE = os.path.join(os.path.dirname(__file__), "..", "data", "reports")


def path(name: str) -> str:
    return os.path.join(HERE, name)


@pytest.fixture(scope="module")
def matrices():
    return Matrices()


def parsed(name, matrices):
    _, text = read_report(path(name))
    return parse_report(text, matrices, source=name)


def codes(name):
    report, _ = check_report(path(name))
    return [f.code for f in report.findings]


# Every field of every area, per report. None: unknown (the report does not say).
EXPECTED = {
    "torch-1.13.1-cu117-pytorch-template.md": dict(
        tool="torch collect_env", layout="classic",
        platform=dict(system="Linux", machine="x86_64", kernel="5.4.0-135-generic", distro_id="ubuntu",
                      distro_version="20.04", distro_name="Ubuntu 20.04.5 LTS", wsl=None),
        driver=dict(driver_version="450.51.05", cuda_max="11.0", source="report",
                    gpus=[(0, "Tesla V100-SXM2-32GB", "7.0"), (1, "Tesla V100-SXM2-32GB", "7.0")]),
        cuda=dict(nvcc_version="10.2"),
        python=dict(version="3.8.10", torch=("1.13.1+cu117", "11.7", None), vllm=None,
                    dists={"numpy": "1.24.1", "torch": "1.13.1+cu117", "torchvision": "0.14.1+cu117"}),
        torch=dict(version="1.13.1+cu117", cuda="11.7", cuda_available=False),
        cudnn=(), flags=None, topology=0, env={},
        # driver 450.51.05 (R450, CUDA 11.0) is below 11.x's minor-version floor 450.80.02: cu117 cannot run;
        # torch 1.13 is older than any vLLM's torch pin
        findings=["driver-too-old-for-torch", "torch-cuda-init-failed", "gpu-compute-capability-too-low",
                  "vllm-torch-mismatch", "bf16-unsupported", "cuda-toolkit-mismatch-for-build",
                  "python-unsupported-by-vllm", "cuda-toolkit-not-needed"]),
    "vllm-0.4.0-torch-2.1.2-wsl2.md": dict(
        tool="vLLM collect_env", layout="classic",
        platform=dict(system="Linux", machine="x86_64", kernel="5.15.146.1-microsoft-standard-WSL2",
                      distro_id="ubuntu", distro_version="22.04", distro_name="Ubuntu 22.04.3 LTS", wsl=2),
        driver=dict(driver_version="536.23", cuda_max="12.2", source="report",
                    gpus=[(0, "NVIDIA GeForce RTX 2080 Ti", "7.5"), (1, "NVIDIA GeForce RTX 2080 Ti", "7.5")]),
        cuda=dict(nvcc_version="12.1"),
        python=dict(version="3.10.14", torch=("2.1.2+cu121", "12.1", None), vllm=("0.4.0", ("torch==2.1.2",)),
                    dists={"numpy": "1.26.4", "nvidia-nccl-cu12": "2.18.1", "torch": "2.1.2", "triton": "2.1.0"}),
        torch=dict(version="2.1.2+cu121", cuda="12.1", cuda_available=True),
        cudnn=(), flags="CUDA Archs: Not Set; ROCm: Disabled; Neuron: Disabled", topology=3, env={},
        # vllm 0.4.0's wheel has kernels for sm_80+ only; a 2080 Ti is 7.5
        findings=["gpu-compute-capability-too-low", "bf16-unsupported", "wsl-multi-gpu", "wsl-pin-memory-off"]),
    "vllm-0.6.3.dev-torch-2.4.0-envvars-wsl2.txt": dict(
        tool="vLLM collect_env", layout="classic",
        platform=dict(system="Linux", machine="x86_64", kernel="5.15.153.1-microsoft-standard-WSL2",
                      distro_id="ubuntu", distro_version="22.04", distro_name="Ubuntu 22.04.2 LTS", wsl=2),
        driver=dict(driver_version="551.88", cuda_max="12.4", source="report",
                    gpus=[(0, "NVIDIA GeForce RTX 4070 Laptop GPU", "8.9")]),
        cuda=dict(nvcc_version="12.4"),
        python=dict(version="3.12.3", torch=("2.4.0+cu121", "12.1", None),
                    vllm=("0.6.3.dev173+g36ea7907.d20241011", ()),  # a dev build: its pin is unknown
                    dists={"torch": "2.4.0", "torchvision": "0.19.0", "transformers": "4.45.2", "triton": "3.0.0"}),
        torch=dict(version="2.4.0+cu121", cuda="12.1", cuda_available=True),
        cudnn=(), flags="CUDA Archs: Not Set; ROCm: Disabled; Neuron: Disabled", topology=2,
        env={"CUDA_MODULE_LOADING": "LAZY", "VLLM_LOGGING_LEVEL": "DEBUG", "VLLM_WORKER_MULTIPROC_METHOD": "spawn"},
        findings=["cuda-toolkit-not-needed", "wsl-pin-memory-off"]),
    "vllm-0.7.0-sectioned-wsl2.md": dict(
        tool="vLLM collect_env", layout="sectioned",
        platform=dict(system="Linux", machine="x86_64", kernel="5.10.16.3-microsoft-standard-WSL2",
                      distro_id="ubuntu", distro_version="22.04", distro_name="Ubuntu 22.04.5 LTS", wsl=2),
        driver=dict(driver_version="566.36", cuda_max="12.7", source="report",
                    gpus=[(0, "NVIDIA GeForce RTX 4090", "8.9"), (1, "NVIDIA GeForce RTX 4090", "8.9")]),
        cuda=dict(nvcc_version="12.4"),
        python=dict(version="3.11.11", torch=("2.5.1+cu124", "12.4", None), vllm=("0.7.0", ("torch==2.5.1",)),
                    dists={"torch": "2.5.1", "torchvision": "0.20.1", "triton": "3.1.0", "pyzmq": "26.2.1"}),
        torch=dict(version="2.5.1+cu124", cuda="12.4", cuda_available=True),
        cudnn=(), flags="CUDA Archs: Not Set; ROCm: Disabled; Neuron: Disabled", topology=3,
        env={"NCCL_CUMEM_ENABLE": "0", "TORCHINDUCTOR_COMPILE_THREADS": "1", "CUDA_MODULE_LOADING": "LAZY"},
        findings=["wsl-multi-gpu", "wsl-pin-memory-off"]),
    "vllm-0.10.1.1-sectioned-torch-mismatch.txt": dict(
        tool="vLLM collect_env", layout="sectioned",
        platform=dict(system="Linux", machine="x86_64", kernel="5.15.0-139-generic", distro_id="ubuntu",
                      distro_version="22.04", distro_name="Ubuntu 22.04.4 LTS", wsl=None),
        driver=dict(driver_version="570.133.20", cuda_max="12.8", source="report",
                    gpus=[(0, "NVIDIA H100 80GB HBM3", "9.0")]),
        cuda=dict(nvcc_version="12.8"),
        python=dict(version="3.12.11", torch=("2.8.0+cu128", "12.8", None), vllm=("0.10.1.1", ("torch==2.7.1",)),
                    dists={"torch": "2.8.0", "flashinfer-python": "0.2.9", "numpy": "2.2.6"}),
        torch=dict(version="2.8.0+cu128", cuda="12.8", cuda_available=True),
        cudnn=(), flags="CUDA Archs: Not Set; ROCm: Disabled; Neuron: Disabled", topology=3,
        env={"NCCL_CUMEM_ENABLE": "0", "PYTORCH_NVML_BASED_CUDA_CHECK": "1", "TORCHINDUCTOR_COMPILE_THREADS": "1",
             "CUDA_VISIBLE_DEVICES": "0"},
        findings=["vllm-torch-mismatch"]),
    "torch-2.4.0-cpu-build-vllm-0.6.1.md": dict(
        tool="vLLM collect_env", layout="classic",
        platform=dict(system="Linux", machine="x86_64", kernel="6.8.0-40-generic", distro_id="ubuntu",
                      distro_version="22.04", distro_name="Ubuntu 22.04.4 LTS", wsl=None),
        driver=dict(driver_version="550.107.02", cuda_max="12.4", source="report",
                    gpus=[(0, "NVIDIA GeForce RTX 3090", "8.6")]),
        cuda=dict(nvcc_version="12.1"),
        python=dict(version="3.10.12", torch=("2.4.0+cpu", None, None), vllm=("0.6.1", ("torch==2.4.0",)),
                    dists={"torch": "2.4.0+cpu", "torchvision": "0.19.0+cpu"}),
        torch=dict(version="2.4.0+cpu", cuda=None, cuda_available=False),
        cudnn=(), flags="CUDA Archs: Not Set; ROCm: Disabled; Neuron: Disabled", topology=2, env={},
        findings=["torch-cpu-build-on-gpu-machine", "cuda-toolkit-not-needed"]),
    "torch-2.8.0.dev-cpu-native-windows.txt": dict(
        tool="torch collect_env", layout="classic",
        platform=dict(system="Windows", machine="unknown", kernel=None, distro_id=None, distro_version=None,
                      distro_name=None, wsl=None),
        # "No CUDA" from a CPU build of torch: whether there is a GPU is unknown, not "absent"
        driver="skipped", cuda="absent",
        python=dict(version="3.10.17", torch=("2.8.0.dev20250528+cpu", None, None), vllm=None,
                    dists={"numpy": "2.2.6", "torch": "2.8.0.dev20250528+cpu"}),
        torch=dict(version="2.8.0.dev20250528+cpu", cuda=None, cuda_available=False),
        cudnn=(), flags=None, topology=0, env={},
        findings=["native-windows-unsupported", "torch-cpu-build-on-gpu-machine", "python-unsupported-by-vllm"]),
    "torch-1.3.1-old-yes-no-indented.txt": dict(
        tool="torch collect_env", layout="classic",
        platform=dict(system="Linux", machine="unknown", kernel=None, distro_id="ubuntu", distro_version="18.04",
                      distro_name="Ubuntu 18.04.4 LTS", wsl=None),
        driver=dict(driver_version="430.64", cuda_max="10.1", source="report",
                    gpus=[(0, "GeForce RTX 2080 Ti", "7.5")]),
        cuda=dict(nvcc_version="10.1"),
        # "CUDA used to build PyTorch: Could not collect" is collect_env's word for torch.version.cuda
        # None (get_env_info; replace_nones): a CPU build, and this machine lists an RTX 2080 Ti
        python=dict(version="3.7", torch=("1.3.1", None, None), vllm=None,
                    dists={"numpy": "1.19.1", "torch": "1.3.1", "torchvision": "0.4.2"}),
        torch=dict(version="1.3.1", cuda=None, cuda_available=False),
        cudnn=("/usr/lib/x86_64-linux-gnu/libcudnn.so.7.6.5",
               "/usr/local/cuda-10.1/targets/x86_64-linux/lib/libcudnn.so.7.6.5"),
        flags=None, topology=0, env={},
        findings=["torch-cpu-build-on-gpu-machine", "python-unsupported-by-vllm", "vllm-torch-mismatch",
                  "bf16-unsupported", "cuda-toolkit-not-needed"]),  # torch 1.3.1: older than any vLLM's pin
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_parsed_field(name, matrices):
    want = EXPECTED[name]
    p = parsed(name, matrices)
    facts, r = p.facts, p.report
    assert (r.tool, r.layout) == (want["tool"], want["layout"])

    plat = facts.get("platform")
    assert isinstance(plat, PlatformFacts)
    for key, value in want["platform"].items():
        assert getattr(plat, key) == value, key
    assert plat.container is None and plat.wsl_distro is None  # never in a report: unknown

    if isinstance(want["driver"], str):
        assert facts.status("driver") == want["driver"]
    else:
        driver = facts.get("driver")
        assert isinstance(driver, DriverFacts)
        for key in ("driver_version", "cuda_max", "source"):
            assert getattr(driver, key) == want["driver"][key], key
        assert [(g.index, g.name, g.compute_capability) for g in driver.gpus] == want["driver"]["gpus"]
        # memory from the GPU table where the name fixes it (an RTX 3090 has 24 GiB; an A100 comes in two sizes)
        assert all(g.memory_total_mib == identify(g.name, matrices).vram_mib and g.cc_source == "matrix"
                   for g in driver.gpus)

    if isinstance(want["cuda"], str):
        assert facts.status("cuda") == want["cuda"]
    else:
        cuda = facts.get("cuda")
        assert isinstance(cuda, CudaToolkitFacts)
        assert cuda.nvcc_version == want["cuda"]["nvcc_version"]
        assert cuda.toolkits == () and cuda.cuda_home is None  # not in a report

    env = facts.get("python")
    assert isinstance(env, PythonEnvFacts)
    assert env.version == want["python"]["version"]
    assert env.kind == "unknown" and env.selected_by == "report"
    assert (env.torch.version, env.torch.cuda, env.torch.hip) == want["python"]["torch"]
    vllm = env.dist("vllm")
    if want["python"]["vllm"] is None:
        assert vllm is None
    else:
        assert (vllm.version, vllm.requires) == want["python"]["vllm"]
        assert r.vllm_version == want["python"]["vllm"][0]
    for dist, version in want["python"]["dists"].items():
        assert env.dist(dist) is not None and env.dist(dist).version == version, dist
    assert env.marker_env["python_version"] == ".".join(want["python"]["version"].split(".")[:2])

    runtime = facts.get("torch")
    assert isinstance(runtime, TorchRuntimeFacts)
    for key, value in want["torch"].items():
        assert getattr(runtime, key) == value, key
    assert runtime.arch_list == () and runtime.devices == ()  # not in a report

    assert r.cudnn == want["cudnn"]
    assert r.vllm_build_flags == want["flags"]
    assert len(r.gpu_topology) == want["topology"]
    assert r.env_vars == want["env"]
    for area in ("wsl", "resources"):
        assert facts.status(area) == "skipped"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_same_rules_run(name):
    assert codes(name) == EXPECTED[name]["findings"]


def test_at_least_four_torch_and_two_vllm_versions(matrices):
    torch = {parsed(n, matrices).facts.get("python").torch.version.split("+")[0] for n in EXPECTED}
    vllm = {parsed(n, matrices).report.vllm_version for n in EXPECTED} - {None}
    assert len(torch) >= 4 and len(vllm) >= 2, (torch, vllm)


def test_unknown_is_said_not_guessed(matrices):
    # The real 1.3.1 report without its "CUDA used to build PyTorch" line (a logic test): with no
    # +cu tag either, CPU-or-CUDA is unknown, so the CPU-build rule (and those needing torch's
    # CUDA) are not run rather than guessed.
    _, text = read_report(path("torch-1.3.1-old-yes-no-indented.txt"))
    p = parse_report("\n".join(x for x in text.splitlines() if "CUDA used to build" not in x), matrices)
    assert "torch-cpu-build-on-gpu-machine" in p.report.skipped_rules
    assert "driver-too-old-for-torch" in p.report.skipped_rules
    assert any("CUDA or a CPU build" in u for u in p.report.unknown)
    wsl = parsed("vllm-0.7.0-sectioned-wsl2.md", matrices)
    assert any("envdoctor check` inside the distro" in u for u in wsl.report.unknown)
    dev = parsed("vllm-0.6.3.dev-torch-2.4.0-envvars-wsl2.txt", matrices)
    assert any("torch pin is not in envdoctor's data" in u for u in dev.report.unknown)


def test_partial_report_in_a_quote(matrices):
    p = parsed("partial-three-lines.md", matrices)
    env = p.facts.get("python")
    assert env.torch.version == "2.3.1+cu121" and env.torch.cuda == "12.1"
    assert p.facts.get("torch").cuda_available is True
    assert p.facts.status("platform") == "skipped" and p.facts.status("driver") == "skipped"
    assert "no-nvidia-gpu" in p.report.skipped_rules and "python-unsupported-by-vllm" in p.report.skipped_rules
    assert codes("partial-three-lines.md") == []


@pytest.mark.parametrize("bullet", ["- ", "* ", "\u2022 "])
def test_a_report_pasted_as_a_markdown_list_reads_the_same(matrices, bullet):
    _, text = read_report(path("vllm-0.4.0-torch-2.1.2-wsl2.md"))
    listed = "\n".join(bullet + line if line.strip() else line for line in text.splitlines())
    plain, as_list = parse_report(text, matrices), parse_report(listed, matrices)
    assert as_list.report.fields == plain.report.fields
    assert as_list.report.packages == plain.report.packages and as_list.report.gpus == plain.report.gpus


def test_fences_and_template_text_do_not_matter(matrices):
    _, text = read_report(path("vllm-0.7.0-sectioned-wsl2.md"))
    bare = "\n".join(line for line in text.splitlines()
                     if not line.startswith(("```", "<", "###", '"CUDA error')))
    a, b = parse_report(text, matrices), parse_report(bare, matrices)
    assert a.facts == b.facts and a.report == b.report


def test_crlf_ansi_and_utf16(matrices, tmp_path):
    _, text = read_report(path("vllm-0.4.0-torch-2.1.2-wsl2.md"))
    want = parse_report(text, matrices)
    f = tmp_path / "r.txt"
    f.write_bytes(("\x1b[1m" + text.replace("\n", "\r\n")).encode("utf-16"))
    _, again = read_report(str(f))
    got = parse_report(again, matrices)
    assert got.facts == want.facts


@pytest.mark.parametrize("name", ["other-tool-nvidia-smi.txt", "other-tool-conda-info.txt"])
def test_other_tools_reports_are_refused(name):
    with pytest.raises(ReportError, match="not a collect_env report"):
        check_report(path(name))


# --- the report read as a log too (real reports from the corpus's dev split) ----------------

CORPUS_REPORTS = os.path.join(os.path.dirname(__file__), "..", "data", "corpus", "reports")


def corpus_report(name):
    return check_report(os.path.join(CORPUS_REPORTS, name))


def test_an_error_printed_into_the_report_is_a_finding():
    # torch's warning "The NVIDIA driver on your system is too old (found version 9010)" above the report
    report, _ = corpus_report("b-lhotse-793-driver-9010-cu102.txt")
    f = next(f for f in report.findings if f.code == "driver-too-old-for-torch")
    assert f.evidence[0].startswith("printed in the report, line 2: ")
    assert "9.1" in f.title + f.why  # CUDA 9.1, decoded from 9010


def test_vllms_warning_of_different_gpus_above_a_report_is_the_mixed_gpu_finding():
    # the report lost its GPU list; vLLM's start-up warning above it still names the problem
    report, _ = corpus_report("j-vllm-13188-mixed-3090-a100-t4.txt")
    f = next(f for f in report.findings if f.code == "mixed-gpu-architectures")
    assert f.severity == "warn" and "CUDA_DEVICE_ORDER=PCI_BUS_ID" in f.fix[0]
    # context rows that are information only stay out of a report's findings
    from envdoctor.report.text_findings import from_log_signatures

    text = "INFO 01-01 00:00:00 Cannot use FlashAttention-2 backend for Volta and Turing GPUs.\n"
    assert from_log_signatures(text, "t", Matrices()) == []


def test_an_issue_template_holding_only_an_error_is_read_as_a_log():
    report, parsed = corpus_report("b-vllm-5501-undefined-symbol-c10-optional.txt")
    assert [f.code for f in report.findings] == ["vllm-torch-mismatch"]
    assert parsed.report.layout == "log"
    assert all(r.status == "skipped" for r in parsed.facts.results.values())  # every fact unknown



def test_a_report_cut_after_the_warnings_its_run_printed_is_read_as_a_log():
    # vLLM's collect-env output that stops after torch's "no longer supports this GPU" warnings:
    # the Titan V (7.0) is one vLLM supports, so the cause is the torch build's missing arch.
    report, parsed = corpus_report("g-vllm-18818-titan-v-cc70-torch-min-75.txt")
    assert parsed.report.layout == "log"
    root = report.findings[0]
    assert root.code == "torch-arch-missing-for-gpu" and "TITAN V" in root.title and "7.0" in root.title


def test_gpus_listed_without_a_driver_version_are_still_judged():
    # an RTX 3090 pair and a GTX 1080 Ti pair, no "Nvidia driver version" line in the report
    report, parsed = corpus_report("i-vllm-19045-mixed-3090-1080ti.txt")
    driver = parsed.facts.get("driver")
    assert driver.driver_version is None and [g.compute_capability for g in driver.gpus] == ["8.6", "8.6", "6.1", "6.1"]
    codes = [f.code for f in report.findings]
    assert "mixed-gpu-architectures" in codes and "bf16-unsupported" in codes
    assert "driver-too-old-for-torch" not in codes  # the driver's version is unknown, not judged
    assert any(u.startswith("driver: the report has no 'Nvidia driver version' line") for u in parsed.report.unknown)


def test_gpu_names_get_compute_capability_and_the_driver_its_cuda():
    report, parsed = corpus_report("b-vllm-7072-gtx1050-pascal.txt")
    driver = parsed.facts.get("driver")
    assert [(g.name, g.compute_capability) for g in driver.gpus] == [("NVIDIA GeForce GTX 1050", "6.1")]
    assert (driver.cuda_max, driver.cuda_max_source) == ("12.2", "matrix")  # R535
    assert "gpu-compute-capability-too-low" in [f.code for f in report.findings]


def test_a_cpu_torch_says_torch_cannot_see_a_gpu_not_that_there_is_none():
    report, parsed = corpus_report("b-vllm-36099-spark-aarch64-torch-cpu.txt")
    codes_ = [f.code for f in report.findings]
    assert "torch-cpu-build-on-gpu-machine" in codes_ and "no-nvidia-gpu" not in codes_
    f = next(f for f in report.findings if f.code == "torch-cpu-build-on-gpu-machine")
    assert "cannot see a GPU" in f.title
    assert parsed.facts.status("driver") != "absent"


SILENT_SMI = """PyTorch version: {torch}
Is debug build: False
CUDA used to build PyTorch: {cuda}
ROCM used to build PyTorch: N/A

OS: Ubuntu 22.04.4 LTS (x86_64)
Python version: 3.10.12 (main, Nov 20 2023, 15:14:05) [GCC 11.4.0] (64-bit runtime)
Python platform: Linux-5.15.0-105-generic-x86_64-with-glibc2.35
Is CUDA available: {available}
CUDA runtime version: 12.1.105
GPU models and configuration: Could not collect
Nvidia driver version: Could not collect
cuDNN version: Could not collect
"""


@pytest.mark.parametrize("torch, cuda, available, no_gpu", [
    ("2.3.0+cu121", "12.1", "False", True),  # nvidia-smi silent, CUDA torch blind: no working driver
    ("2.3.0+cpu", "None", "False", False),  # a CPU torch is blind anyway: the driver stays unknown
    ("2.3.0+cu121", "12.1", "True", False),  # torch sees the GPU: only nvidia-smi was not found
])
def test_nvidia_smi_and_torch_both_silent_means_no_working_driver(tmp_path, torch, cuda, available, no_gpu):
    report_file = tmp_path / "report.txt"
    report_file.write_text(SILENT_SMI.format(torch=torch, cuda=cuda, available=available))
    report, parsed = check_report(str(report_file))
    assert ("no-nvidia-gpu" in [f.code for f in report.findings]) is no_gpu
    assert (parsed.facts.status("driver") == "absent") is no_gpu


def test_sglangs_check_env_is_a_report():
    # `python -m sglang.check_env`: "GPU 0: NAME", "GPU 0 Compute Capability", "PyTorch: VERSION", one
    # "module: version" line per package
    report, parsed = corpus_report("j-sglang-1058-t4-flashinfer-no-kernel.txt")
    assert parsed.report.tool == "sglang check_env"
    driver = parsed.facts.get("driver")
    assert driver.driver_version == "535.104.05"
    assert [(g.name, g.compute_capability, g.cc_source) for g in driver.gpus] == [("Tesla T4", "7.5", "report")]
    env = parsed.facts.get("python")
    assert env.version == "3.10.12" and (env.torch.version, env.torch.cuda) == ("2.4.0+cu121", "12.1")
    assert parsed.facts.get("cuda").nvcc_version == "12.2"
    assert "bf16-unsupported" in [f.code for f in report.findings]
    # the older check_env printed nvcc's whole banner below "NVCC:", and vllm among its packages
    _, older = corpus_report("j-sglang-831-v100-flashinfer-rmsnorm.txt")
    assert older.facts.get("cuda").nvcc_version == "12.4"
    assert older.report.vllm_version == "0.5.4" and "sglang==0.2.12" in older.report.packages


def test_detectron2s_table_is_a_report_and_its_arch_flags_are_judged():
    # `python -m detectron2.utils.collect_env` prints "name    value" rows; detectron2's ops were
    # built for sm_70 and the GPUs are Pascal P40s (facebookresearch/detectron2#251)
    report, parsed = corpus_report("o-detectron2-251-p40-d2-arch-sm70.txt")
    assert parsed.report.tool == "detectron2 collect_env"
    env = parsed.facts.get("python")
    assert env.version == "3.6.8" and (env.torch.version, env.torch.cuda) == ("1.4.0+cu100", "10.0")
    gpus = parsed.facts.get("driver").gpus
    assert len(gpus) == 8 and {(g.name, g.compute_capability) for g in gpus} == {("Tesla P40", "6.1")}
    found = next(f for f in report.findings if f.code == "gpu-arch-unsupported-by-extension")
    assert "sm_70" in found.title and "6.1" in found.title


@pytest.mark.parametrize("flags, cc, fires", [
    ("sm_70", "6.1", True),
    ("3.7, 5.0, 5.2, 6.0, 6.1, 7.0, 7.5", "6.1", False),
    ("7.5", "8.6", True),       # SASS runs only within its major architecture
    ("7.5+PTX", "8.6", False),  # PTX is JIT-compiled on a newer GPU
    ("8.6", "8.9", False),
    ("", "8.6", False),         # no flags read: nothing is judged
])
def test_extension_arch_flags_against_the_gpu(matrices, flags, cc, fires):
    from envdoctor.core.facts import Gpu
    from envdoctor.core.results import Facts, ProbeResult
    from envdoctor.report.collect_env import ParsedReport, ReportFacts
    from envdoctor.report.text_findings import extension_archs

    driver = DriverFacts("report", None, None, None, (Gpu(0, "GPU", cc),))
    parsed = ParsedReport(Facts({"driver": ProbeResult("driver", "ok", facts=driver)}),
                          ReportFacts("detectron2 collect_env", "classic", fields={"extension_archs": flags}), "r")
    assert bool(extension_archs(parsed)) is fires


def test_a_driver_too_old_for_the_runtime_printed_into_a_report_is_too_old_for_torch(tmp_path):
    # a report is torch's: PTX newer than the driver, printed without naming torch, is torch's CUDA
    report_file = tmp_path / "report.txt"
    report_file.write_text("CUDA error: the provided PTX was compiled with an unsupported toolchain.\n"
                           + SILENT_SMI.format(torch="2.8.0+cu128", cuda="12.8", available="True"))
    report, _ = check_report(str(report_file))
    codes = [f.code for f in report.findings]
    assert "driver-too-old-for-torch" in codes and "driver-too-old-for-runtime" not in codes
