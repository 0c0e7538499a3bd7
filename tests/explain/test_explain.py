"""`envdoctor explain`: the first user's log, the corpus, the reader's hard inputs."""
from __future__ import annotations

import gzip
import io
import os
import time

import conftest
import pytest
from corpus_accuracy import evaluate, report

from envdoctor.explain import LogInputError, exit_code, explain_log, reader, scan

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEED = os.path.join(ROOT, "tests", "data", "seed", "docker-build.log")
LOGS = os.path.join(ROOT, "tests", "data", "logs")


def seed_text() -> str:
    with open(SEED, encoding="utf-8") as fh:
        return fh.read()


def codes(e):
    return [d.finding.code for d in e.diagnoses]


def find(e, code):
    return next(d for d in e.diagnoses + e.surfaced if d.finding.code == code)


# --- the first user's docker build -------------------------------------------------------

def test_seed_log_is_a_network_stall_with_its_numbers():
    e = explain_log(SEED, vllm="0.5.3")
    assert e.category == "network"
    root = e.root
    assert root.finding.code == "download-stalled"
    # The first causal line, not the last line of the traceback.
    assert root.line.text.endswith("TimeoutError: The read operation timed out")
    assert root.line.number == seed_text().splitlines().index(
        "233.2 TimeoutError: The read operation timed out") + 1
    assert any(c.number == root.line.number for c in root.context) and len(root.context) == 5
    text = " ".join((root.finding.title, root.finding.why) + root.finding.evidence)
    for fact in ("torch 2.4.0", "797.2 MB", "658.2 MB", "83 %", "9.3 MB/s", "read timeout", "A stall, not a slow line"):
        assert fact in text, fact
    # The download line and the last progress state, with their own line numbers.
    lines = seed_text().splitlines()
    download = next(x for x in root.finding.evidence if "Downloading torch-2.4.0" in x)
    assert lines[int(download.split(":")[0].split()[1]) - 1].endswith(
        "torch-2.4.0-cp310-cp310-manylinux1_x86_64.whl (797.2 MB)"
    )
    assert any("3.0 MB/s on average" in x for x in root.finding.evidence)  # 658.2 MB over 233.1 - 16.63 s


def test_seed_log_says_what_would_have_saved_the_day():
    root = explain_log(SEED, vllm="0.5.3").root
    assert root.finding.fix[0] == "docker pull vllm/vllm-openai:v0.5.3"
    fixes = " ".join(root.finding.fix + root.finding.notes)
    assert "--timeout" in fixes and "--retries" in fixes
    assert "resume" in fixes and "25.2" in fixes  # pip's own resume
    assert "wheelhouse" in fixes
    assert "--mount=type=cache" in fixes  # the failing step lacks the cache mount the others use
    assert "mirror" in fixes


def test_seed_log_unpinned_torch_that_vllm_053_does_not_use():
    e = explain_log(SEED, vllm="0.5.3")
    d = find(e, "torch-unpinned-in-build")
    assert d.role == "context" and d.category == "environment"
    text = d.finding.title + " " + d.finding.why
    assert "2.4.0" in text and "torch==2.3.1" in text and "vLLM 0.5.3" in text
    assert "mamba-ssm" in text
    assert d.line.text.startswith("Collecting torch (from mamba-ssm")
    assert d.finding.fix == ("pip wheel --no-deps -r requirements-mamba.txt",)


def test_seed_log_without_vllm_version_names_the_pinning_releases_not_a_guess():
    e = explain_log(SEED)
    d = find(e, "torch-unpinned-in-build")
    assert "0.5.3" not in d.finding.why  # nothing in the log says 0.5.3
    assert "0.5.4" in d.finding.why  # vllm.csv: 0.5.4 pins torch 2.4.0
    assert "docker pull vllm/vllm-openai:v<vllm version>" in e.root.finding.fix


def test_seed_log_wsl_drive_and_where_it_surfaced():
    e = explain_log(SEED)
    wsl = find(e, "wsl-windows-drive-slow")
    assert wsl.category == "wsl" and "/mnt/c/Users/evil angle/vllm" in wsl.finding.title
    step = find(e, "docker-step-failed")
    assert step.role == "symptom" and "mamba-builder 3/3" in step.finding.title
    assert e.kinds == ("docker build", "pip", "WSL")
    assert codes(e)[0] == "download-stalled"
    assert exit_code(e) == 2


def test_seed_log_with_the_real_index_hosts(tmp_path):
    """The log's host placeholders replaced by pip's own defaults, read at run time."""
    from pip._internal.models.index import PyPI

    text = seed_text().replace("<PYPI_FILES_HOST>", PyPI.file_storage_domain).replace("<PYPI_HOST>", PyPI.netloc)
    path = tmp_path / "real.log"
    path.write_text(text, encoding="utf-8")
    e = explain_log(str(path), vllm="0.5.3")
    assert e.root.finding.code == "download-stalled"
    assert any(PyPI.file_storage_domain in x for x in e.root.finding.evidence)
    assert [d.finding.code for d in e.diagnoses] == [d.finding.code for d in explain_log(SEED, vllm="0.5.3").diagnoses]


# --- the corpus ---------------------------------------------------------------------------

def test_corpus_accuracy_at_least_90_percent():
    results, accuracy = evaluate()
    out = io.StringIO()
    report(results, accuracy, out)
    conftest.ACCURACY.append(out.getvalue().splitlines()[-1])
    assert len(results) >= 41  # 40 written logs + the seed
    assert {r.want[0] for r in results} >= {"network", "environment", "wsl", "resources", "build", "docker", "other"}
    assert accuracy >= 0.9, out.getvalue()


def test_an_error_no_signature_knows_still_gets_a_class_its_line_and_exit_3():
    e = explain_log(os.path.join(LOGS, "unrecognised.log"))
    assert e.category == "other" and e.surfaced == ()
    assert e.root.confidence == "inferred" and e.root.line.text == "Segmentation fault (core dumped)"
    assert e.root.finding.notes  # a next step
    assert [x.text for x in e.error_lines] == ["Segmentation fault (core dumped)"]
    assert exit_code(e) == 3


def test_no_class_only_for_a_log_without_an_error(tmp_path):
    log = tmp_path / "fine.log"
    log.write_text("INFO 07-23 10:12:31 model_runner.py:160] Loading model weights took 2.8876 GB\n"
                   "Processed prompts: 100% 8/8 [00:01<00:00,  5.12it/s]\n")
    e = explain_log(str(log))
    assert e.category is None and e.diagnoses == () and exit_code(e) == 0


@pytest.mark.parametrize("line, error", [
    ("06:25:48-615637 DEBUG    Setup complete without errors: 1728357949", False),
    ("Build succeeded.    0 Warning(s)    0 Error(s)", False),
    ("lint: no errors, no failures", False),
    ("no errors on the first pass, then: ERROR: could not open file", True),
    ("RuntimeError: CUDA error: no kernel image is available", True),
])
def test_a_line_that_denies_an_error_is_not_an_error_line(tmp_path, line, error):
    log = tmp_path / "one.log"
    log.write_text(line + "\n")
    e = explain_log(str(log))
    assert (e.category is not None) == error


def test_a_cpu_torch_printed_without_an_error_is_the_lead(tmp_path):
    # SD.Next prints its packages and runs on the CPU without an error (sdnext#3476 in the corpus)
    e = explain_log(os.path.join(ROOT, "tests", "data", "corpus", "logs", "v-sdnext-3476-torch-cpu-on-nvidia.log"))
    assert e.category == "environment"
    assert e.diagnoses[0].finding.code == "torch-cpu-build-on-gpu-machine" and e.diagnoses[0].line.number == 6
    assert "torch 2.4.1+cpu is a CPU-only build" in str(e.diagnoses[0].finding.title)
    log = tmp_path / "mac.log"
    log.write_text("Successfully installed torch-2.5.1 numpy-2.1.0\n")  # no CPU tag: nothing to say
    assert explain_log(str(log)).diagnoses == ()


def test_several_problems_root_first(tmp_path):
    log = tmp_path / "two.log"
    log.write_text(
        "WARNING 09-18 10:59:09 cache_engine.py:96] Using 'pin_memory=False' as WSL is detected. "
        "This may slow down the performance.\n"
        "ValueError: Bfloat16 is only supported on GPUs with compute capability of at least 8.0. "
        "Your Tesla T4 GPU has compute capability 7.5.\n"
        "ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device\n"
        "RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}\n"
    )
    e = explain_log(str(log))
    assert codes(e)[:2] == ["no-space-left", "bf16-unsupported"]  # priority 91 before 90
    assert codes(e)[-1] == "wsl-pin-memory-off"  # context after the causes
    assert [d.finding.code for d in e.surfaced] == ["vllm-engine-start-failed"]


@pytest.mark.parametrize("line,code", [
    # a full /dev/shm is shared memory too small, not a full disk (pytorch/ci-infra#490)
    ("NCCL WARN Error: failed to extend /dev/shm/nccl-WU88OE to 9637892 bytes, error: No space left on device",
     "shm-too-small"),
    ("ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device", "no-space-left"),
    # the OOM killer ending a compiler is the build's memory, ending python is the host's (vllm#54237)
    ("[ 2448.628970] Out of memory: Killed process 16014 (cicc) total-vm:3069420kB, anon-rss:2111980kB",
     "build-out-of-memory"),
    ("[26002.109061] Out of memory: Killed process 576419 (python) total-vm:78521468kB", "host-out-of-memory"),
])
def test_the_nearer_reading_of_a_shared_error_text_wins(tmp_path, line, code):
    log = tmp_path / "one.log"
    log.write_text(line + "\n")
    assert codes(explain_log(str(log)))[0] == code


@pytest.mark.parametrize("text, code", [
    # under WSL 2 nvidia-smi and NVML come from /usr/lib/wsl/lib (microsoft/WSL#8794, #8666)
    ("Welcome to Ubuntu 20.04 LTS (GNU/Linux 5.10.16.3-microsoft-standard-WSL2 x86_64)\n"
     "zsh: command not found: nvidia-smi\n", "wsl-lib-dir-not-on-path"),
    ("zsh: command not found: nvidia-smi\n", "no-nvidia-gpu"),
    ("$ export PATH=$PATH:/usr/lib/wsl/lib\nNVIDIA-SMI couldn't find libnvidia-ml.so library in your system.\n",
     "wsl-lib-dir-not-on-path"),
    ("NVIDIA-SMI couldn't find libnvidia-ml.so library in your system.\n", "no-nvidia-gpu"),
    # no GPU where the packages sit as container images keep them (vllm#13946); not without that path
    ('  File "/usr/local/lib/python3.12/dist-packages/vllm/config.py", line 1433, in __init__\n'
     '    raise RuntimeError("Failed to infer device type")\nRuntimeError: Failed to infer device type\n',
     "container-started-without-gpus"),
    ('  File "/home/u/venv/lib/python3.12/site-packages/vllm/config.py", line 1433, in __init__\n'
     "RuntimeError: Failed to infer device type\n", "vllm-no-device-detected"),
    # llama.cpp's build without the GPU's arch is not torch's (ggml#465)
    ("ggml_init_cublas: found 1 CUDA devices:\n  Device 0: NVIDIA GeForce 940MX, compute capability 5.0\n"
     "CUDA error 209 at ggml-cuda.cu:5284: no kernel image is available for execution on the device\n",
     "gpu-arch-unsupported-by-extension"),
    ("RuntimeError: CUDA error: no kernel image is available for execution on the device\n",
     "torch-arch-missing-for-gpu"),
    # PTX from a newer compiler than the driver: torch's when torch raises it, else the runtime's
    ("torch.AcceleratorError: CUDA error: the provided PTX was compiled with an unsupported toolchain.\n",
     "driver-too-old-for-torch"),
    ("CUDA error: the provided PTX was compiled with an unsupported toolchain.\n", "driver-too-old-for-runtime"),
    # a dotted module missing is the package at another version; a namespace package is not
    ("ModuleNotFoundError: No module named 'vllm.model_executor.input_metadata\n", "package-too-new-for-code"),
    ("ModuleNotFoundError: No module named 'google.protobuf'\n", "missing-requirements"),
    ("ModuleNotFoundError: No module named 'flash_attn'\n", "missing-requirements"),
    # forum software's typographic quotes read as plain ones (sglang#194)
    ("ImportError: cannot import name \u2018build_regex_from_object\u2019 from \u2018outlines.fsm.json_schema\u2019\n",
     "package-too-new-for-code"),
])
def test_the_context_decides_the_reading(text, code):
    from envdoctor.explain import explain_text

    assert codes(explain_text(text))[0] == code


def test_network_failure_demotes_no_matching_distribution_to_a_symptom():
    e = explain_log(os.path.join(LOGS, "pip-dns-failure.log"))
    assert codes(e) == ["dns-failure"]
    assert "no-matching-distribution" in [d.finding.code for d in e.surfaced]


def test_when_condition_picks_the_wsl_variant():
    """A DNS failure in a log that shows WSL is WSL's to fix (its generated resolv.conf)."""
    wsl = explain_log(os.path.join(LOGS, "wsl-pip-dns.log")).root
    plain = explain_log(os.path.join(LOGS, "pip-dns-failure.log")).root
    assert (wsl.finding.code, wsl.category) == ("wsl-dns-failure", "wsl")
    assert (plain.finding.code, plain.category) == ("dns-failure", "network")
    assert "WSL" in wsl.finding.title and "resolv.conf" in " ".join(wsl.finding.notes)
    assert "WSL" not in plain.finding.title


@pytest.mark.parametrize("resolver, code", [
    ("172.25.96.1:53", "wsl-dns-failure"),  # WSL 2's NAT gateway answers DNS at 172.16-31.x.1
    ("127.0.0.53:53", "dns-failure"),  # systemd-resolved: nothing says WSL
    ("172.17.0.1:53", "dns-failure"),  # docker's default bridge gateway, not WSL's
])
def test_wsl_nat_resolver_marks_a_dns_failure_as_wsl(resolver, code):
    from envdoctor.explain import explain_text

    line = (f'Error: Get "https://registry.ollama.ai/v2/": dial tcp: lookup registry.ollama.ai on {resolver}: '
            f'read udp 172.25.107.139:59735->{resolver}: i/o timeout\n')
    assert explain_text(line, source="t").root.finding.code == code


def test_slow_line_is_told_apart_from_a_stall():
    e = explain_log(os.path.join(LOGS, "pip-slow-line-timeout.log"))
    assert e.root.finding.code == "download-slow"
    assert "0.3 MB/s" in e.root.finding.why or "0.2 MB/s" in e.root.finding.why


def test_shared_codes_are_check_codes():
    from envdoctor.rules import ALL_RULES

    e = explain_log(os.path.join(LOGS, "bf16-t4.log"))
    assert e.root.shared_with_check and e.root.finding.code in {r.code for r in ALL_RULES}
    assert explain_log(SEED).root.shared_with_check  # download-stalled: the network check's code too
    assert not explain_log(os.path.join(LOGS, "cuda-oom-3050.log")).root.shared_with_check


# --- the reader's hard inputs -------------------------------------------------------------

def test_gzip_ansi_crlf_progress_and_utf16_read_like_plain_text(tmp_path):
    plain = explain_log(SEED)
    gz = tmp_path / "seed.log.gz"
    gz.write_bytes(gzip.compress(seed_text().encode()))
    crlf = tmp_path / "crlf.log"
    crlf.write_bytes(("\x1b[1m" + seed_text().replace("\n", "\x1b[0m\r\n")).encode())
    utf16 = tmp_path / "utf16.log"
    utf16.write_bytes(b"\xff\xfe" + seed_text().encode("utf-16-le"))
    for path in (gz, crlf, utf16):
        e = explain_log(str(path))
        assert e.root.finding.title == plain.root.finding.title, path
        assert e.root.line == plain.root.line, path
        assert "\x1b" not in e.root.line.text and "\r" not in e.root.line.text
    assert "gzip-compressed" in explain_log(str(gz)).notes
    assert "decoded from UTF-16-LE" in explain_log(str(utf16)).notes


def test_progress_bar_redraws_keep_the_last_state(tmp_path):
    log = tmp_path / "tty.log"
    bar = "".join(f"\r   {done}/797.2 MB 9.{n} MB/s eta 0:01:00" for n, done in enumerate(("10.0", "300.5", "612.0")))
    log.write_text("Collecting torch==2.3.1\n  Downloading torch-2.3.1-cp310-cp310-manylinux1_x86_64.whl (797.2 MB)\n"
                   + bar + "\nTimeoutError: The read operation timed out\n")
    root = explain_log(str(log)).root
    assert "612.0 MB of 797.2 MB" in root.finding.title and "9.2 MB/s" in root.finding.why


def test_invalid_utf8_and_binary_junk_in_the_middle(tmp_path):
    log = tmp_path / "junk.log"
    log.write_bytes(b"INFO 07-23 10:12:31 model_runner.py:160] Loading model weights took 2.8876 GB\n" * 300
                    + bytes(range(256)) * 4 + b"\n\xff\xfe\xc3(\n"
                    + b"ValueError: Bfloat16 is only supported on GPUs with compute capability of at least 8.0. "
                      b"Your Tesla T4 GPU has compute capability 7.5.\x00\x01\n")
    e = explain_log(str(log))
    assert e.root.finding.code == "bf16-unsupported"
    assert "\x00" not in e.root.line.text


def test_chunk_boundaries_do_not_change_the_answer(monkeypatch):
    """Tiny chunks: lines, context and look-back cross chunk edges everywhere."""
    want = explain_log(SEED, vllm="0.5.3")
    monkeypatch.setattr(reader, "CHUNK", 97)
    got = explain_log(SEED, vllm="0.5.3")
    assert got.diagnoses == want.diagnoses and got.surfaced == want.surfaced
    assert got.lines == want.lines


@pytest.mark.parametrize("chunk", [40, 97, 1 << 20])
def test_a_line_ending_in_a_colon_is_read_with_the_lines_below_it(monkeypatch, chunk):
    # CMake prints what failed under "CMake Error at ...:" (a real log, VPF#16 in the corpus): the
    # evidence layer gets the message with it, across chunk edges too
    from envdoctor.explain.reader import open_log
    from envdoctor.explain.scan import Scanner

    monkeypatch.setattr(reader, "CHUNK", chunk)
    source = open_log(os.path.join(ROOT, "tests", "data", "corpus", "logs", "ai-vpf-16-cmake-no-cuda-compiler.log"),
                      1 << 20, None)
    scanner = Scanner([])
    for part in source.chunks():
        scanner.feed(part)
    source.close()
    assert scanner.result().error_lines == [
        (2, "CMake Error at PyNvCodec/TC/CMakeLists.txt:20 (enable_language): No CMAKE_CUDA_COMPILER could be found.")]


def test_stdin(monkeypatch):
    e = explain_log("-", stdin=io.BufferedReader(io.BytesIO(seed_text().encode())))
    assert e.source == "<stdin>" and e.root.finding.code == "download-stalled"


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (bytes(range(256)) * 64, "binary file"),
    (b"\x7fELF" + b"\x00" * 5000, "binary file"),
])
def test_bad_input_is_one_clear_message(tmp_path, content, message):
    path = tmp_path / "input"
    path.write_bytes(content)
    with pytest.raises(LogInputError, match=message):
        explain_log(str(path))


def test_directory_and_missing_file(tmp_path):
    with pytest.raises(LogInputError, match="is a directory"):
        explain_log(str(tmp_path))
    with pytest.raises(LogInputError, match="cannot read"):
        explain_log(str(tmp_path / "nope.log"))


def test_2gb_sparse_file_is_refused_fast(tmp_path):
    big = tmp_path / "big.log"
    with open(big, "wb") as fh:
        fh.truncate(2 << 30)  # sparse: no disk used
    start = time.monotonic()
    with pytest.raises(LogInputError, match="binary"):
        explain_log(str(big))
    assert time.monotonic() - start < 5


def test_large_text_file_reads_its_tail(tmp_path):
    log = tmp_path / "long.log"
    with open(log, "wb") as fh:
        fh.write(b"Requirement already satisfied: numpy in /usr/lib/python3/dist-packages\n" * 40000)
        fh.write(b"ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device\n")
    e = explain_log(str(log), max_bytes=1 << 20)
    assert e.root.finding.code == "no-space-left"
    assert any("read only its last 1 MiB" in n for n in e.notes)
    assert e.bytes <= 1 << 20


def test_a_line_without_end_stays_bounded(tmp_path):
    """A 3 MB progress bar with no newline: memory stays bounded, the error after it is found."""
    log = tmp_path / "bar.log"
    with open(log, "wb") as fh:
        for _ in range(60000):
            fh.write(b"\rmodel.safetensors:  45%|####5     | 1.40G/3.09G [02:13<02:39, 10.5MB/s]")
        fh.write(b"\nOSError: [Errno 28] No space left on device\n")
    monkey_limit = reader.MAX_LINE
    assert os.path.getsize(log) > monkey_limit
    e = explain_log(str(log))
    assert e.root.finding.code == "no-space-left"


def test_matches_are_bounded(tmp_path):
    log = tmp_path / "many.log"
    log.write_bytes(b"OSError: [Errno 28] No space left on device\n" * 5000)
    e = explain_log(str(log))
    assert e.root.count == scan.SATURATED
    assert len(e.root.finding.evidence) <= 6


def test_a_collect_env_report_is_pointed_to_check(tmp_path):
    log = tmp_path / "env.txt"
    log.write_text("PyTorch version: 2.3.1+cu121\nIs debug build: False\nCUDA used to build PyTorch: 12.1\n")
    e = explain_log(str(log))
    assert any("--from-report" in n for n in e.notes)
