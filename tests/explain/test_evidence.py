"""The evidence layer under the signatures, and placeholders filled from the log.

Logic tests feed the layer small sets of lines made for them; the behaviour on real logs is
measured by test_corpus.py. Placeholder tests use real logs (tests/data and the corpus's dev
split)."""
from __future__ import annotations

import os

import pytest

from envdoctor.explain import evidence, exit_code, explain_log, explain_text
from envdoctor.explain.signatures import derive

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOGS = os.path.join(ROOT, "tests", "data", "logs")
CORPUS = os.path.join(ROOT, "tests", "data", "corpus", "logs")


def test_the_class_with_most_weight_wins_and_its_strongest_line_decides():
    lines = [(3, "WARNING: something odd"),
             (10, "requests.exceptions.ConnectionError: Max retries exceeded with url: /simple/"),
             (11, "ERROR: Could not install packages due to an OSError"),
             (12, "urllib3 ReadTimeout while reading")]
    d = evidence.infer(lines)
    assert d.category == "network" and d.line.number == 10
    # The decisive line names no problem; another line of its class does: a read timeout.
    assert d.confidence == "inferred" and d.finding.code == "download-stalled"
    assert d.finding.notes and "network" in d.finding.notes[0]


def test_a_class_without_a_named_problem_keeps_the_generic_code():
    d = evidence.infer([(4, "ERROR: Could not install packages: Max retries exceeded with url: /simple/x/")])
    assert d.category == "network" and d.finding.code == "unrecognised-network-failure"


def test_code_hints_name_the_problem_and_the_hub():
    assert evidence.code_hint("network", ["ConnectTimeout to pypi mirror"]) == "tcp-blocked"
    assert evidence.code_hint("network", ["ConnectTimeout: huggingface.co:443"]) == "hf-endpoint-unreachable"
    assert evidence.code_hint("resources", ["nothing", "cudaMalloc failed here"]) == "cuda-out-of-memory"
    assert evidence.code_hint("build", ["cuda out of memory"]) is None  # hints of another class do not apply


def test_the_tool_that_failed_is_evidence_and_is_named():
    d = evidence.infer([(5, "nvcc fatal   : Value 'sm_999' is not defined for option 'gpu-name'")])
    assert d.category == "build" and "nvcc failed" in d.finding.title


def test_the_kind_of_log_leans_only_when_there_is_evidence():
    line = [(7, "container exited: error 1 in the container runtime")]
    assert evidence.infer(line, markers=("docker",)).category == "docker"
    assert evidence.infer([], markers=("docker",)) is None


def test_error_lines_without_any_class_words_are_other_with_the_worst_line():
    d = evidence.infer([(1, "step 3 failed"), (2, "Segmentation fault (core dumped)")])
    assert d.category == "other" and d.line.text == "Segmentation fault (core dumped)"


def test_no_error_no_class():
    assert evidence.infer([]) is None


def test_an_unknown_log_gets_class_line_next_step_and_lower_confidence_and_exit_3():
    e = explain_text("Traceback (most recent call last):\n"
                     "RuntimeError: tcp connect error while fetching the weights from the mirror\n", source="t")
    assert e.category == "network" and e.root.confidence == "inferred"
    assert e.root.line.number == 2 and e.root.finding.notes
    assert exit_code(e) == 3


# --- placeholders come from the log -----------------------------------------------------------

def test_arch_list_is_the_arch_nvcc_rejected():
    assert derive({"arch": "compute_120"})["arch_list"] == "12.0"
    assert derive({"arch": "compute_89"})["arch_list"] == "8.9"
    assert derive({"arch": "sm_90a"})["arch_list"] == "9.0a"
    e = explain_log(os.path.join(LOGS, "nvcc-arch.log"))  # nvcc rejected compute_90
    assert 'export TORCH_CUDA_ARCH_LIST="9.0"' in e.root.finding.fix
    assert not any("8.6" in f for f in e.root.finding.fix)  # never the first user's GPU


def test_model_comes_from_vllms_engine_line():
    e = explain_log(os.path.join(LOGS, "cuda-oom-3050.log"))
    assert any(f.startswith("vllm serve Qwen/Qwen2-1.5B-Instruct ") for f in e.root.finding.fix)
    e = explain_log(os.path.join(LOGS, "kv-cache-no-memory.log"))  # names no model: a placeholder
    assert any("vllm serve <model> " in f for f in e.root.finding.fix)


def test_missing_module_names_its_distribution():
    assert derive({"module": "torch"})["package"] == "torch"
    assert derive({"module": "cv2.data"})["package"] == "opencv-python"
    assert derive({"module": "somethingelse"})["package"] == "<package providing somethingelse>"


def test_pip_of_the_environment_the_log_shows():
    # The real bitsandbytes log prints its conda environment's site-packages on the error lines.
    e = explain_log(os.path.join(CORPUS, "b-bnb-838-textgen-libcudart.log"))
    assert e.root.finding.code == "cuda-runtime-library-missing"
    assert e.root.finding.fix[0].startswith("/opt/conda/envs/textgen/bin/python -m pip install")


def test_no_stray_space_in_a_filled_title():
    e = explain_log(os.path.join(LOGS, "tls-self-signed.log"))
    assert " )" not in e.root.finding.title


def test_a_failure_without_gate_words_is_read_from_the_last_lines():
    # deforum-stable-diffusion#130's line without its "RuntimeError:" prefix: no gate word in it.
    e = explain_text(
        "loading the model\nCUDA out of memory. Tried to allocate 20.00 MiB (GPU 0; 4.00 GiB total capacity)\n"
    )
    assert e.category == "resources" and e.root.confidence == "inferred"
    assert e.root.finding.code == "cuda-out-of-memory" and e.root.line.number == 2
    assert explain_text("step 1 done\nstep 2 done\n").category is None  # no error: no class


def test_the_gpu_stack_failing_to_come_up_is_the_environment_not_an_application_error():
    for line in ("E tensorflow/stream_executor/cuda/cuda_driver.cc:509] failed call to cuInit: CUDA_ERROR_UNKNOWN",
                 "CUDA backend failed to initialize: Unable to load cuDNN. Is it installed?",
                 "Failed to create CUDAExecutionProvider. Please reference the requirements page"):
        assert evidence.infer([(1, line)]).category == "environment", line
    # CUDA's own out-of-memory stays the GPU's memory.
    assert evidence.infer([(1, "failed call to cuMemAlloc: CUDA_ERROR_OUT_OF_MEMORY: out of memory")]).category \
        == "resources"


def test_a_gpu_problem_in_a_container_is_the_containers():
    # The same error text, once bare and once in a docker compose service's output.
    bare = explain_text("RuntimeError: Found no NVIDIA driver on your system.\n")
    assert (bare.category, bare.root.finding.code) == ("environment", "no-nvidia-gpu")
    composed = explain_text("api-1  | RuntimeError: Found no NVIDIA driver on your system.\n")
    assert (composed.category, composed.root.finding.code) == ("docker", "container-started-without-gpus")
    assert "--gpus" in " ".join(composed.root.finding.fix)


def test_a_problem_in_wsl_takes_the_wsl_twins_code_and_texts():
    line = "RuntimeError: CUDA error: all CUDA-capable devices are busy or unavailable\n"
    assert explain_text(line).root.finding.code == "cuda-devices-unavailable"
    e = explain_text("user@DESKTOP-ABC1234:~$ python run.py\n" + line)
    assert (e.category, e.root.finding.code) == ("wsl", "wsl-windows-build-no-gpu")


def test_a_bare_killed_is_the_builds_memory_only_inside_a_compile():
    assert explain_text("python serve.py\nKilled\n").root.finding.code == "host-out-of-memory"
    e = explain_text("[ 17%] Building CUDA object CMakeFiles/_C.dir/csrc/ops.cu.o\nKilled\n")
    assert (e.category, e.root.finding.code) == ("resources", "build-out-of-memory")


def test_the_evidence_class_takes_a_context_finding_of_the_same_class():
    # No signature explains the error; the evidence says WSL, and the log shows models read
    # from the Windows drive under WSL: that is the likeliest cause.
    e = explain_text("user@DESKTOP-ABC1234:/mnt/c/models$ ollama run llama3\n"
                     "Error: llama runner process stopped responding under WSL 2\n")
    assert e.category == "wsl"
    assert e.root.finding.code == "wsl-windows-drive-slow" and e.root.confidence == "inferred"


def test_a_line_that_says_something_failed_is_an_error_even_without_an_error_word():
    e = explain_text("loading shards\nthe fp6 scheme is not supported on this device\n")
    assert e.category == "environment" and e.root.line.number == 2 and e.root.confidence == "inferred"
    e = explain_text("starting\nthe number of heads must be a multiple of 8\n")
    assert e.category == "other" and e.root.line.number == 2
    assert explain_text("starting\nserving on port 8000\n").category is None


def test_a_phrase_that_settles_the_class_leaves_its_line_to_that_class():
    # The daemon's words and the daemon as the tool would say docker; the timeout is the cause.
    line = ('docker: Error response from daemon: Get "https://registry.example/v2/": net/http: request canceled '
            "while waiting for connection (Client.Timeout exceeded while awaiting headers)")
    assert evidence.line_classes(line) == {"network": evidence.SETTLE}
    assert evidence.infer([(1, line)]).category == "network"
    # Without a settling phrase the daemon's line stays docker's.
    assert evidence.infer([(1, "docker: Error response from daemon: failed to create task")]).category == "docker"
    # A compiler stage killed by signal 9 is memory, though nvcc is the tool that said it.
    d = evidence.infer([(1, "nvcc error   : 'cicc' died due to signal 9 (Kill signal)")])
    assert d.category == "resources"


def test_transport_failures_of_git_and_curl_are_the_network():
    d = evidence.infer([(1, "error: RPC failed; curl 56 GnuTLS recv error (-54): Error in the pull function."),
                        (2, "fatal: early EOF")])
    assert d.category == "network"
    d = evidence.infer([(1, "Error: pull model manifest: dial tcp: lookup registry.example on 127.0.0.53:53: "
                            "server misbehaving")])
    assert (d.category, d.finding.code) == ("network", "dns-failure")


def test_a_name_that_is_not_a_repository_is_the_name_not_the_network():
    for line, code in (
            ("huggingface_hub.errors.HFValidationError: Repo id must be in the form 'repo_name' or "
             "'namespace/repo_name': '/data/models/x'.", "model-not-found"),
            ("requests.exceptions.HTTPError: 404 Client Error: Not Found for url: "
             "https://huggingface.co/datasets/json/resolve/main/a.jsonl", "model-not-found"),
            ("OSError: v2.0 is not a valid git identifier (branch name, tag name or commit id)", "revision-not-found")):
        d = evidence.infer([(1, line)])
        assert (d.category, d.finding.code) == ("other", code), line
    # A 404 from a mirror stays the network's (the mirror lacks the file).
    assert evidence.infer([(1, "HTTPError: 404 Client Error: Not Found for url: https://mirror.example/x")]) \
        .category == "network"


def test_every_code_read_in_a_context_has_a_row_that_says_it_there():
    # analyses.in_context takes the texts of the row `when=<marker>` with the twin code; without
    # that row the generic finding would stay, silently.
    from envdoctor.compat.tables import Matrices
    from envdoctor.explain import analyses
    from envdoctor.explain.signatures import load

    rows = load(Matrices())
    codes = {s.code for s in rows if s.role == "cause"}
    for marker, twins in analyses.IN_CONTEXT.items():
        for generic, code in twins.items():
            assert generic in codes, generic
            assert analyses.twin(marker, code, rows) is not None, (marker, code)


def test_where_the_failure_happened_names_its_code():
    # A 401/403 is the index's or proxy's refusal, the hub's gate when the hub answered it.
    assert evidence.code_hint("network", ["HTTP error 403 while getting https://mirror.example/x.whl"]) \
        == "http-forbidden"
    assert evidence.code_hint("network", ["401 Client Error: Unauthorized for url: https://huggingface.co/api/x"]) \
        == "hf-gated-model"
    # A connection failure that names no problem, to a registry: the registry could not be reached.
    assert evidence.code_hint("network", ["error pulling image configuration: download failed after attempts=6"]) \
        == "registry-unreachable"
    assert evidence.code_hint("network", ["Max retries exceeded"]) is None
    # The same lines of another class keep their own hints.
    assert evidence.code_hint("resources", ["Killed", "docker.io registry"]) == "host-out-of-memory"


def test_memory_running_out_in_a_compile_is_the_builds():
    lines = [(1, "Killed")]
    assert evidence.infer(lines).finding.code == "host-out-of-memory"
    assert evidence.infer(lines, markers=("compile",)).finding.code == "build-out-of-memory"
    # the compiler's own process named on the line is a compile, markers or not
    assert evidence.infer([(1, "c++: fatal error: Killed signal terminated program cc1plus")]).finding.code \
        == "build-out-of-memory"


def test_the_driver_library_missing_is_no_driver_other_libraries_are_system_libraries():
    assert evidence.code_hint("environment", ["OSError: libcuda.so.1: cannot open shared object file"]) \
        == "no-nvidia-gpu"
    assert evidence.code_hint("environment", ["ImportError: libcudart.so.12: cannot open shared object file"]) \
        == "cuda-runtime-library-missing"
    assert evidence.code_hint("environment", ["ImportError: libcurand.so.10: cannot open shared object file"]) \
        == "system-library-missing"


def test_lines_without_a_signature_still_name_their_problem():
    # Lines as the dev split's logs print them (file names in tests/data/corpus/logs-*.csv).
    for line, cls, code in (
            ("  Caused by: Failed to download distribution due to network timeout. Try increasing UV_HTTP_TIMEOUT "
             "(current value: 300s).", "network", "download-stalled"),  # a-uv-torch-timeout-300s
            ("error: error sending request for url (https://index.example/simple/zeep/): error trying to connect: "
             "invalid peer certificate: UnknownIssuer", "network", "tls-intercepted"),  # f-uv-2020-ssl-inspection
            ("ImportError: /lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.30' not found (required by "
             ".../libtorch_python.so)", "environment", "libstdcxx-too-old"),  # ad-pytorch-157709
            ("ValueError: numpy.dtype size changed, may indicate binary incompatibility. Expected 96 from C header, "
             "got 88 from PyObject", "environment", "numpy-abi-mismatch"),  # p-subsai-139
            ("ValueError: Unknown quantization method: gptq. Must be one of ['awq', 'squeezellm'].",
             "environment", "quantization-unknown-to-vllm"),  # j-vllm-1919
            ("[188549.976351] NVRM: The NVIDIA probe routine was not called for 3 device(s).",
             "environment", "nouveau-bound-to-gpu"),  # d-mattshma-bigdata-133
            ("Error response from daemon: manifest for quay.io/go-skynet/local-ai:latest-cublas-cuda12 not found: "
             "manifest unknown: manifest unknown", "docker", "docker-image-not-found"),  # g-localai-1724
            ("exec /usr/local/bin/docker-entrypoint.sh: exec format error",
             "docker", "docker-image-platform-mismatch"),  # r-langfuse-2556
            ("> main: couldn't bind HTTP server socket, hostname: 127.0.0.1, port: 8080",
             "other", "port-in-use"),  # e-sakuralauncher-71
            ('{"object":"error","message":"The model `Qwen1.5-14B-Chat-GPTQ-Int8` does not exist.",'
             '"type":"NotFoundError","param":null,"code":404}', "other", "served-model-name-mismatch"),  # f-vllm-3486
            ("srv    send_error: task id = 2119, error: the request exceeds the available context size. try "
             "increasing the context size or enable context shift", "other",
             "prompt-longer-than-max-model-len"),  # g-qwencode-371
            ("ValueError: Invalid repository ID or local directory specified: "
             "'neuralmagic/Meta-Llama-3-8B-Instruct-FP8-dynamic'.", "other", "model-not-found")):  # f-vllm-13510
        d = evidence.infer([(1, line)])
        assert (d.category, d.finding.code) == (cls, code), line
    # A library of another kind missing keeps the generic code: the C++ runtime's hint is its version line.
    assert evidence.code_hint("environment", ["ImportError: libstdc++.so.6: cannot open shared object file"]) \
        == "system-library-missing"


@pytest.mark.parametrize("line, category, code", [
    # lines copied from real logs of the corpus's dev split
    ("2020-10-23 14:21:57,707 [http-nio-8081-exec-253] [ERROR] (o.a.a.d.r.v.DockerV2RemoteRepoHandler:469) - Unable "
     "to create manifest markers for 'docker-remote:library/redmine/sha256__991c3847972deff8d8318f971783966066afbc39e6f"
     "6a2144f8a9a168b242f58/manifest.json': 'Error fetching https://registry-1.docker.io/v2/library/redmine/manifests/"
     "sha256:991c3847972deff8d8318f971783966066afbc39e6f6a2144f8a9a168b242f58 (remote response: 429: Too Many "
     "Requests)'", "docker", "registry-rate-limited"),  # docker/hub-feedback#2040
    ("   Failed to initialize NVML: Unknown Error", "docker", "container-lost-gpu-after-daemon-reload"),
    ("Numpy is not available", "environment", "numpy-abi-mismatch"),  # ComfyUI#3794
    ("llama_model_load: error loading model: error loading model architecture: unknown model architecture: 'llama4'",
     "environment", "llama-cpp-too-old-for-model"),
    ("RuntimeError: LFM2.5-VL model requires transformers>=4.58.0   ", "environment", "transformers-too-old"),
    # pip's resolver saying a pin does not fit is a conflict, whichever way the version is off
    ("vllm 0.16.0+cu130 requires transformers<5,>=4.56.0, but you have transformers 5.2.0 which is incompatible.",
     "environment", "dependency-conflict"),
    # a full /dev/shm says "No space left on device" too (triton-inference-server/server#5681)
    ("> tritonclient.utils.InferenceServerException: Failed to increase the shared memory pool size for key "
     "'triton_python_backend_shm_region_2' to 67108864 bytes. If you are running Triton inside docker, use "
     "'--shm-size' flag to control the shared memory region size. Error: No space left on device",
     "resources", "shm-too-small"),
    ("OSError: Cannot find empty port in range: 7860-7860. You can specify a different port by setting the "
     "GRADIO_SERVER_PORT environment variable or passing the `server_port` parameter to `launch()`.", "other",
     "port-in-use"),
    ("fatal: unable to access 'https://github.com/ltdrdata/ComfyUI-Manager/': Failed to connect to github.com port 443 "
     "after 2084 ms: Could not connect to server", "network", "tcp-blocked"),
])
def test_broad_words_name_the_class_and_the_problem(line, category, code):
    d = evidence.infer([(1, line)])
    assert (d.category, d.finding.code) == (category, code)
