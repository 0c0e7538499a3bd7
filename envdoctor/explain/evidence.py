"""The second layer under the signatures: a class from broader evidence when no exact
signature knows the log.

Three kinds of evidence, each weighed on the most error-like lines the scanner kept:
  * the error vocabulary of each class (words that belong to a network, a build, a docker
    failure, ...), stronger on the line that carries the exception or `ERROR:`;
  * the tool that failed (nvcc, CMake, the docker daemon, huggingface_hub, ...), named by
    the line itself;
  * what kind of log it is (a docker build, a container start, WSL, a pip build, vLLM's
    start-up, a hub download), from the markers and the lines.
The class with the most weight wins; its strongest line is the decisive one. The answer is
marked `inferred`: lower confidence than a signature, and said so.
"""
from __future__ import annotations

import re
from typing import Dict, Optional, Sequence, Tuple

from envdoctor.core.results import Finding
from envdoctor.explain.types import Diagnosis, LogLine

# (class, weight, pattern): case-blind, searched in one line. Specific phrases weigh more
# than the words that merely tend to go with a class.
VOCABULARY: Tuple[Tuple[str, int, str], ...] = (
    ("network", 6, r"connection (?:reset|refused|aborted|broken)|connecttimeout|readtimeout|connecterror"),
    ("network", 6, r"timed? ?out (?:while|after|connecting|waiting)|read timed out|connect timeout|i/o timeout|"
                   r"operation timed out|request failed after \d+ retries"),
    ("network", 6, r"name or service not known|temporary failure in name resolution|could not resolve host|"
                   r"getaddrinfo failed|nodename nor servname|no such host|dns error"),
    ("network", 6, r"sslerror|ssl: |certificate verify failed|tls handshake|eof occurred in violation|"
                   r"unexpected eof|ssleoferror|wrong version number"),
    ("network", 6, r"max retries exceeded|newconnectionerror|proxyerror|network is unreachable|"
                   r"remotedisconnected|incompleteread|chunkedencodingerror|protocolerror|error sending request|"
                   r"tcp connect error|failed to (?:download|fetch)|could not fetch url"),
    ("network", 6, r"condahttperror|http 000 connection failed|"
                   r"gated repo|proxy authentication required|tunnel connection failed|urlopen error|"
                   r"do not match the hashes|hash mismatch|ssl module is not available"),
    ("network", 5, r"\b(?:429|too many requests|502 bad gateway|503 service unavailable|504 gateway)\b|"
                   r"rate.?limit|\bhttp error [45]\d\d|httperror|status code [45]\d\d|"
                   r"\b404 (?:client error|not found)"),
    ("network", 4, r"localentrynotfounderror|couldn't connect to|cannot (?:reach|connect)|offline mode|"
                   r"hf_hub_offline|huggingface\.co|hf-mirror|connection (?:error|timed out)|\btimeout\b|"
                   r"urllib3|_error_catcher|httpget|http get|aiohttp|getaddrinfo|socket\.gaierror"),
    ("environment", 6, r"undefined symbol|cannot open shared object file|no module named|modulenotfounderror|"
                       r"importerror|dll load failed|version mismatch|incompatible|not compatible with|"
                       r"not compiled with cuda|cuda capability sm_\d+|compute capability|was built for|"
                       r"driver .*too old|is insufficient|no cuda devices|libcudart|libcudnn|libcuda\.so|"
                       r"requires a different python|no matching distribution|no solution found|"
                       r"no (?:compatible )?version (?:of|found)|could not find a version|no such operator|"
                       r"winerror 126|error loading .*\.dll|\.dll\b"),
    ("environment", 5, r"requires-python|no matching distribution|could not find a version|resolutionimpossible|"
                       r"conflicting dependencies|dependency conflict|depends on|requires .*but you have|"
                       r"externally-managed|numpy\.core\.multiarray|_array_api|was compiled (?:using|against)|"
                       r"built (?:for|against|with) (?:a )?(?:different|another)|operator [\w:]+ does not exist|"
                       r"no kernel image|cuda driver version is insufficient|driver .*too old|"
                       r"found no nvidia driver|cudagetdevicecount|nvml|cuda error|cudaerror"),
    ("environment", 3, r"attributeerror|\bcuda\b.*\bnot available|is not supported|unsupported|"
                       r"packagenotfounderror|versionconflict|valueerror: .*version|failed to import|"
                       r"unable to load .*(?:library|driver)|symbol lookup|cannot import name"),
    ("build", 6, r"\bnvcc\b|cmake error|ninja: build stopped|ninja is required|error: command .*(?:gcc|g\+\+|cl\.exe|"
                 r"nvcc|cc1plus|clang)|compilation terminated|collect2: error|fatal error: .*\.h(?:pp)?:|"
                 r"cuda_home|failed building wheel|could not build wheels|error: subprocess-exited-with-error|"
                 r"metadata-generation-failed|egg_info|setup\.py|microsoft visual c\+\+|make: \*\*\*|"
                 r"cuda compiler|cmakelists|\bld: cannot find|error: legacy-install-failure|rustc|cargo|"
                 r"no such file or directory: '(?:ninja|nvcc|gcc|g\+\+|c\+\+|cmake|make)'|"
                 r"mismatches the version that was used to compile"),
    ("build", 3, r"building wheel|build backend|get_requires_for_build_wheel|pyproject\.toml|\bgcc\b|\bg\+\+\b"),
    ("docker", 6, r"error response from daemon|oci runtime|nvidia-container-cli|nvidia-container-runtime|"
                  r"could not select device driver|unknown runtime|docker daemon|docker\.sock|\bcdi\b|"
                  r"runc (?:create|run)|container toolkit|failed to solve|manifest unknown|pull access denied"),
    ("docker", 3, r"\bdocker\b|\bcontainer\b|\bpodman\b|buildx|compose"),
    ("docker", 5, r"crashloopbackoff|imagepullbackoff|errimagepull|daemonset|kubectl"),
    ("wsl", 6, r"/usr/lib/wsl|(?<!microsoft/)\bwsl ?2?\b|/dev/dxg|gpu access blocked|microsoft-standard|\.wslconfig|"
               r"libdxcore|vmmem"),
    ("resources", 6, r"out of memory|outofmemoryerror|\boom\b|no space left|memoryerror|cannot allocate memory|"
                     r"bad_alloc|exit code:? 137|signal 9|sigkill|bus error|/dev/shm|\bkilled\b|disk quota|enospc|"
                     r"cudaerrormemoryallocation|kv cache|gpu_memory_utilization|not enough memory|"
                     r"insufficient memory"),
    ("other", 5, r"address already in use|cannot find empty port|chat template|trust_remote_code|permission denied|"
                 r"read-only file system|"
                 r"not writable|max_model_len|notimplementederror|"
                 r"must be divisible|maximum model length|tensor parallel|only one usage of each socket address|"
                 r"listen tcp .*: bind|no cuda gpus are available|invalid magic|failed to load model|"
                 r"cannot re-initialize cuda"),
    ("resources", 6, r"free disk space|disk space"),
    # Phrases that settle a class against the generic words of another (a CUDA error word on a
    # shared-memory failure, "Error response from daemon" on a registry timeout).
    ("resources", 7, r"shared memory segment|insufficient shared memory|out of shared memory|no space left"),
    ("network", 7, r"request canceled while waiting for connection|client\.timeout exceeded|tls handshake timeout|"
                   r"dial tcp\b.*(?:i/o timeout|no such host|connection refused|network is unreachable|"
                   r"server misbehaving)"),
    ("resources", 7, r"died due to signal 9|signal 9 \(kill|killed signal terminated program|terminated by signal 9"),
    ("docker", 7, r"could not be found in this wsl 2 distro|docker desktop"),
    ("other", 7, r"repositorynotfounderror|repository not found|huggingface\.co/none/|"
                 r"greater than the derived max_model_len|longer than the maximum model length"),
    ("build", 7, r"unsupported gnu version|gcc versions? later than|host compiler"),
    # Windows' own error texts, in English and as a Chinese Windows prints them inside Python's
    # exceptions ([WinError 10054] 远程主机强迫关闭了一个现有的连接), and the Chinese of
    # gcc, git and glibc under a zh_CN locale.
    ("network", 6, r"connection(?:reset|refused|aborted)error|forcibly closed|actively refused|failed to respond|"
                   r"unreachable network|远程主机强迫关闭|积极拒绝|没有正确答复|连接尝试失败|无法连接的网络|"
                   r"连接超时|连接被拒绝|网络不可达|域名解析暂时失败|未知的名称或服务"),
    ("resources", 7, r"paging file is too small|页面文件太小|磁盘空间不足|设备上没有空间|内存不足"),
    ("environment", 6, r"找不到指定的模块|找不到指定的程序|specified (?:module|procedure) could not be found"),
    ("other", 5, r"通常每个套接字地址|only one usage of each socket address"),
    ("build", 6, r"致命错误|编译中断"),
    # Package managers that find nothing to install for this Python or platform, a library older
    # than a binary needs, a model architecture the installed release predates.
    ("environment", 6, r"packagesnotfounderror|not available from current channels|unsatisfiableerror|"
                       r"wheel for the current platform|is not a supported wheel on this platform|"
                       r"version `glibc(?:xx)?_[\d.]+' not found|are not supported for now"),
    # Python's generic API errors in an install or start-up log are mostly one package meeting
    # another's other version (a KeyError for a model type, a renamed attribute or argument).
    ("environment", 4, r"keyerror|typeerror|attributeerror|assertionerror|has no attribute|"
                       r"unexpected keyword argument|takes \d+ positional arguments? but"),
    # The GPU's memory, said by CUDA itself (outweighs the generic CUDA-error words).
    ("resources", 7, r"cuda error: out of memory|cuda out of memory|cudaerrormemoryallocation"),
    # A named thing that is not there: a model, a file, a repository; an unwritable cache.
    ("other", 4, r"does not exist|write in your cache folder|read-only file system"),
    # The GPU stack failing to come up, as any framework prints it (TensorFlow's cuInit, JAX's CUDA
    # backend, onnxruntime's execution provider, bitsandbytes' CUDA setup): a driver, library or
    # build that does not fit, not an application error.
    ("environment", 6, r"cuinit|cuda_error_(?!out_of_memory)|cudnn|cublas|cannot dlopen|gpu librar|cuda backend|"
                       r"streamexecutor|cuda setup failed|invalid.ptx|executionprovider|not able to use (?:the )?gpu|"
                       r"binary incompatib|dtype size changed|cuda_path|cuda (?:is )?not available|"
                       r"could not load (?:dynamic )?library|failed to initiali[sz]e (?:cuda|nvml)"),
    # Resolvers and installers that found no Python, version or package to fit.
    ("environment", 5, r"resolution-too-deep|resolutiontoodeep|could not solve for environment|perhaps a typo|"
                       r"missing channel|unable to find a match|suitable python|python interpreter|"
                       r"unknown quantization method|unsupported python|python version"),
    # A package manager that cannot find the NVIDIA container toolkit: its repository is not set up.
    ("docker", 6, r"(?:unable to locate package|无法定位软件包|没有可用软件包|no package) nvidia-container"),
    # git's and curl's transport failing (a clone, a pip install from git), a resolver that answers
    # garbage, a hub download cut short.
    ("network", 6, r"gnutls|rpc failed|\bcurl:? ?\(?\d+\)?|early eof|hung up unexpectedly|non-properly terminated|"
                   r"server misbehaving|failed to connect to|consistency check failed"),
    # The nvidia-smi that cannot reach the kernel module; Poetry finding no file of a release.
    ("environment", 6, r"couldn't communicate with the nvidia driver|installation candidates"),
    # An id that is not a repository (a local path taken for one, a quoted id), a revision that is
    # not there, the hub answering 404 for what was named: the name is wrong, not the network.
    ("other", 7, r"hfvalidationerror|repo id must|not a valid model identifier|is not a local folder|"
                 r"not a valid git identifier|invalid rev id|\b404 client error.*//huggingface\.co/"),
    # A registry's pull limit (Docker Hub's 429) is the registry's, not a hub's.
    ("docker", 7, r"toomanyrequests|pull rate limit|(?:registry[\w.-]*|docker\.io)/v2/.*(?:\b429\b|too many requests)"),
    # The GPU or its driver not coming up (the kernel's NVRM lines, a busy or exclusive GPU), an
    # attention library with no kernel for this GPU or build.
    ("environment", 6, r"\bnvrm: |rm_init_adapter|devices are busy or unavailable|no operator found for"),
    # vLLM's own memory checks at start-up: memory other processes hold, a KV cache too small for
    # one request at the model's length.
    ("resources", 7, r"gpu memory utilization|free memory on device|to serve at least one request"),
    # A GPU index that does not exist; Ray's control store gone.
    ("other", 7, r"invalid device ordinal|failed to connect to gcs|gcs may have been killed"),
    # Words each class's tools print that the lists above miss: uv's and curl's timeouts, rustls'
    # certificate errors, a server that cannot bind its port or hold the prompt, a hub id that is
    # not one, the kernel's nouveau holding the GPU, WSL's own installer errors, an image for
    # another CPU, CDI names the runtime cannot resolve.
    ("network", 6, r"network timeout|timeout was reached|operation too slow|invalid peer certificate|"
                   r"unknownissuer|unable to get local issuer certificate"),
    ("other", 5, r"exceeds the available context size|context size has been exceeded|(?:couldn't|could not|"
                 r"failed to|unable to) bind|invalid repository id|pull model manifest"),
    ("environment", 6, r"probe routine was not called|\bnouveau\b"),
    ("wsl", 6, r"0x80370102|0x800701bc|virtual machine platform|wsl_update"),
    ("docker", 6, r"exec format error|unresolvable cdi devices|no matching manifest for"),
    ("resources", 6, r"allocation on device \d+ would exceed|defaultcpuallocator"),
    # A runtime older than what it is asked to load (a model architecture, a tokenizer, a config
    # field it predates), a CPU without the instructions a binary was built for, NumPy's ABI.
    ("environment", 6, r"unknown (?:model )?architecture|unknown pre-tokenizer|does not recognize this architecture|"
                       r"requires (?:transformers|torch|vllm|a newer version)|please upgrade|numpy is not available|"
                       r"signal 4\b|illegal instruction|compute cap \d+ is not compatible"),
    # NVML's "Unknown Error" is a container that lost its device cgroup (a daemon reload, a
    # kubelet CPU policy), not a driver problem; a device plugin is Kubernetes' GPU plumbing.
    ("docker", 7, r"failed to initiali[sz]e nvml: unknown error"),
    # Python or conda built without a working OpenSSL: the interpreter, not the network
    ("environment", 7, r"openssl appears to be unavailable"),
    # ("failed to initialize NVML" is in the GPU-stack row above)
    ("environment", 6, r"can't initiali[sz]e nvml|nvml library not found"),
    ("docker", 6, r"device.plugin|nvidia-device-plugin"),
)
# The tool a line names as the one that failed: (pattern, class it speaks for, its name).
TOOLS: Tuple[Tuple[str, str, str], ...] = (
    (r"\bnvcc (?:fatal|error)|nvcc fatal", "build", "nvcc"),
    (r"cmake error|-- configuring incomplete", "build", "CMake"),
    (r"ninja: build stopped|ninja: error", "build", "ninja"),
    (r"error: command '[^']*(?:gcc|g\+\+|c\+\+|cl\.exe|clang)", "build", "the C/C++ compiler"),
    (r"docker: error response from daemon|error response from daemon", "docker", "the docker daemon"),
    (r"nvidia-container-cli", "docker", "the NVIDIA container toolkit"),
    (r"huggingface_hub|hf_hub_download|snapshot_download", "network", "huggingface_hub"),
    (r"\buv\b.*(?:error|failed)|^error: failed to (?:download|fetch)|\u2500\u25b6 (?:request failed|failed to fetch)",
     "network", "uv"),
    (r"pip\._vendor\.(?:urllib3|requests)", "network", "pip"),
    (r"\bwsl(?:\.exe)?\b", "wsl", "WSL"),
)
# Kinds of log (markers from signatures, or words on the lines): where each leans.
CONTEXT = {"docker": "docker", "container": "docker", "pip-build": "build", "wsl": "wsl", "vllm-log": "other"}
CONTEXT_WEIGHT = 2
# A problem a kind of log names more exactly: the host's memory running out inside a compile.
CONTEXT_CODES = {"compile": {"host-out-of-memory": "build-out-of-memory"},
                 "pip-build": {"host-out-of-memory": "build-out-of-memory"}}
# A compiler's own process named on the decisive line: the line is inside a compile whatever the markers say.
COMPILER = re.compile(r"cc1plus|\bcc1\b|\bcicc\b|\bptxas\b|cudafe|collect2|\bnvcc\b", re.IGNORECASE)
GPU_WORDS = re.compile(r"libcuda|\bcuda\b|nvml|nvidia|\bgpu", re.IGNORECASE)
# A Python exception line, pip's `ERROR:` line, `error:`/`fatal:` of a compiler or tool.
HEADLINE = re.compile(r"^\s*(?:\S+\s+)?(?:[\w.]*(?:Error|Exception|Exit)\b:|ERROR:|error:|fatal:|FATAL|\w+ fatal\b|"
                      r"(?:致命)?错误[：:])")
HEADLINE_FACTOR = 2
# What a line says when something failed, without an error word ("must be divisible by", "is not
# supported", "requires ..."): read only in a log that has no gate word at all.
FAILURE = re.compile(r"\bmust (?:be|have|provide)\b|\brequires?\b|not supported|unsupported|\bcannot\b|\bunable\b|"
                     r"no such|not found|\bmissing\b|invalid|incompatib|mismatch|too (?:old|new|large|small|long)|"
                     r"\bexceed|exhausted|\bproblem\b|no longer|is not (?:allowed|available|a writable)|"
                     r"but (?:source was|it was) compiled|needs? to have", re.IGNORECASE)
WEAK = 0.5  # a gated line without an error word
SETTLE = 7  # the weight of a phrase that settles its line's class
STRONG = 6  # the weight of a class's specific words
NEXT_STEP = {
    "network": ("The network failed, not the environment: retry with longer timeouts and retries "
                "(pip: --timeout 60 --retries 10; HF downloads: HF_HUB_ETAG_TIMEOUT / HF_HUB_DOWNLOAD_TIMEOUT), "
                "or use a nearer mirror. `envdoctor check --only network` measures the line."),
    "environment": ("Installed versions do not fit together: `envdoctor check` names the one that does not, "
                    "and `envdoctor fix --plan` gives a set that does."),
    "build": ("A build from source failed: prefer a prebuilt wheel of the same version; if you must build, "
              "`envdoctor check` shows the CUDA toolkit, compiler and torch the build sees."),
    "docker": ("Docker or the NVIDIA container toolkit failed: run `docker info` and "
               "`docker run --rm --gpus all ubuntu nvidia-smi` on the host; `envdoctor check` on the host checks "
               "the driver."),
    "wsl": ("WSL 2 GPU plumbing: run `envdoctor check` inside the distro; `wsl --update` in PowerShell and the "
            "Windows NVIDIA driver (not a Linux one inside WSL) are the usual fixes."),
    "resources": ("Not enough memory or disk: free some, or ask for less (smaller model, lower max_model_len, "
                  "fewer parallel build jobs with MAX_JOBS)."),
    "other": "Read the decisive line above; `envdoctor check` rules out the environment.",
}
# A next step for the tool that failed, before the class's.
TOOL_STEP = {
    "nvcc": "nvcc --version and torch's CUDA (python -c \"import torch; print(torch.version.cuda)\") must share "
            "their major version; a prebuilt wheel avoids compiling at all.",
    "CMake": "Rerun with the failing command's full output; CMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc points "
             "CMake at the toolkit you mean.",
    "ninja": "The compiler error is printed above ninja's 'build stopped' line: read the first 'error:' there.",
    "the C/C++ compiler": "The first 'error:' of the compiler is the cause; a prebuilt wheel avoids compiling.",
    "the docker daemon": "docker info shows the daemon, its runtimes and proxy settings.",
    "the NVIDIA container toolkit": "nvidia-ctk --version, and nvidia-smi on the host, show whether the toolkit "
                                    "and the driver work outside the container.",
    "huggingface_hub": "huggingface-cli download <model> shows the hub's own error; HF_ENDPOINT selects a mirror, "
                       "HF_TOKEN authenticates.",
    "uv": "UV_HTTP_TIMEOUT=300 and a rerun; uv keeps what it finished.",
    "pip": "pip install --timeout 60 --retries 10 and a rerun; pip 25.2 and later resume a broken download.",
    "WSL": "wsl --update and wsl --shutdown in PowerShell, then retry.",
}
CODES = {cls: f"unrecognised-{cls}-failure" for cls in NEXT_STEP}
SUMMARY = {
    "network": "a network failure", "environment": "a version or installation mismatch",
    "build": "a failed build from source", "docker": "a Docker / container runtime failure",
    "wsl": "a WSL 2 problem", "resources": "memory or disk ran out", "other": "an application error",
}

# Phrases that name the problem itself, not only its class: (class, pattern, finding code). The
# inferred diagnosis takes the code of the first that its decisive line (else another line of
# its class) shows; it stays "inferred", with the lower confidence said.
CODE_HINTS: Tuple[Tuple[str, str, str], ...] = (
    ("network", r"name or service not known|name resolution|could not resolve|getaddrinfo|nodename nor servname|"
                r"no such host|nameresolutionerror|dns|server misbehaving|lookup \S+ on \S+:53|"
                r"no address associated with hostname|(?:temporary failure|happened) resolving", "dns-failure"),
    ("network", r"connection reset|reset by peer|forcibly closed|connectionreseterror|10054|远程主机强迫关闭|"
                r"gnutls recv error|curl 56\b", "connection-reset"),
    ("network", r"(?:winerror|errno) 10051|unreachable network|无法连接的网络|network is unreachable|网络不可达",
     "network-unreachable"),
    ("network", r"(?:winerror|errno) 10060|failed to respond|没有正确答复|连接尝试失败", "tcp-blocked"),
    ("network", r"eof occurred in violation|unexpected_eof|ssleoferror|sslzeroreturn", "tls-connection-eof"),
    ("network", r"certificate verify failed|self.signed certificate|certificate_verify_failed|invalid peer certificate|"
                r"unknownissuer|unable to get local issuer certificate", "tls-intercepted"),
    ("network", r"\b407\b|proxy authentication required", "proxy-auth-required"),
    ("network", r"condasslerror: .*certificate", "ca-bundle-invalid"),
    ("network", r"gated repo|gatedrepoerror", "hf-gated-model"),
    ("network", r"consistency check failed|incompleteread|connection broken(?! by)|chunkedencodingerror|"
                r"unexpected eof(?! occurred)", "download-interrupted"),
    ("network", r"\b40[13]\b|unauthorized|forbidden", "http-forbidden"),
    ("network", r"proxyerror|cannot connect to proxy|unable to connect to proxy|tunnel connection failed",
     "proxy-refused"),
    ("network", r"\b429\b|too many requests|rate.?limit", "hf-rate-limited"),
    ("network", r"do not match the hashes|hash mismatch|sha256 mismatch", "download-corrupted"),
    ("network", r"read timed out|readtimeout|the read operation timed out|timed out while|operation timed out|"
                r"request failed after \d+ retries|network timeout|timeout was reached|operation too slow",
     "download-stalled"),
    ("network", r"connecttimeout|connect timeout|connection timed out|failed to connect to \S+ port \d+",
     "tcp-blocked"),
    ("resources", r"cuda out of memory|outofmemoryerror|cudamalloc failed|cuda error: out of memory|"
                  r"allocation on device \d+ would exceed",
     "cuda-out-of-memory"),
    # a full /dev/shm says "No space left on device" too: shared memory first
    ("resources", r"shared memory|/dev/shm|bus error|signal: bus", "shm-too-small"),
    ("resources", r"no space left|enospc|disk quota|free disk space", "no-space-left"),
    ("resources", r"virtual memory exhausted", "build-out-of-memory"),
    ("resources", r"to serve at least one request|max seq len.*kv cache|stored in kv cache",
     "kv-cache-too-small-for-context"),
    ("resources", r"kv cache|memory for the cache blocks|increasing `gpu_memory_utilization`", "kv-cache-no-memory"),
    ("resources", r"gpu memory utilization|free memory on device", "gpu-memory-in-use"),
    ("resources", r"\bkilled\b|oom.?kill|exit code:? 137|cannot allocate memory|memoryerror|defaultcpuallocator|"
                  r"signal 9\b", "host-out-of-memory"),
    ("resources", r"winerror 1455|paging file is too small|页面文件太小", "windows-paging-file-too-small"),
    ("environment", r"externally-managed", "installing-into-system-python"),
    ("environment", r"no operator found for `memory_efficient_attention", "extension-torch-mismatch"),
    ("environment", r"cannot import name '\w+' from 'huggingface_hub", "package-too-new-for-code"),
    ("environment", r"createexecutionproviderinstance|cuda_path is set", "onnxruntime-cuda-libraries-unloadable"),
    ("environment", r"unable to determine the device handle for gpu", "gpu-hardware-fault"),
    ("environment", r"unknown (?:model )?architecture|unknown pre-tokenizer", "llama-cpp-too-old-for-model"),
    ("environment", r"requires transformers\s*>=(?!.*but you have)|does not recognize this architecture",
     "transformers-too-old"),
    ("environment", r"numpy is not available", "numpy-abi-mismatch"),
    ("environment", r"signal 4\b|illegal instruction", "cpu-lacks-required-instructions"),
    ("environment", r"compute cap \d+ is not compatible", "torch-arch-missing-for-gpu"),
    ("environment", r"not compiled with cuda", "torch-cpu-build-on-gpu-machine"),
    ("environment", r"bfloat16|\bbf16\b", "bf16-unsupported"),
    ("environment", r"ssl module is not available|openssl appears to be unavailable", "python-ssl-module-missing"),
    ("environment", r"ijit_notifyevent", "mkl-too-new-for-torch"),
    ("environment", r"winerror 126|error loading .*\.dll|dll load failed|找不到指定的模块",
     "torch-windows-dll-missing"),
    ("environment", r"was built for|can't load c\+\+/cuda extensions", "extension-torch-mismatch"),
    ("environment", r"cannot import name .* from 'transformers'", "transformers-too-old"),
    ("environment", r"no longer supports this gpu|compute capability .*(?:below|too low|minimum)",
     "gpu-compute-capability-too-low"),
    ("environment", r"no module named", "missing-requirements"),
    ("environment", r"numpy.*(?:1\.x|2\.\d)|_array_api|dtype size changed|numpy\.core\.multiarray failed",
     "numpy-abi-mismatch"),
    ("environment", r"torchvision::|torchvision were compiled with different cuda", "extension-torch-mismatch"),
    ("environment", r"no kernel image|not compatible with the current pytorch|cuda capability sm_",
     "torch-arch-missing-for-gpu"),
    ("environment", r"driver .*too old|driver version is insufficient|insufficientdriver", "driver-too-old-for-torch"),
    ("environment", r"libcudart\S*: cannot open shared object", "cuda-runtime-library-missing"),
    # a binary built on a newer system than this one: its C++ runtime, or its C library
    ("environment", r"glibcxx_[\d.]+' not found|libstdc\+\+\.so\S*: version", "libstdcxx-too-old"),
    ("environment", r"glibc_[\d.]+' not found", "glibc-too-old"),
    # libcuda is the driver's own library: without it there is no driver here (or none passed in)
    ("environment", r"libcuda\.so\S*: cannot open shared object", "no-nvidia-gpu"),
    ("environment", r"\.so(?:\.\d+)*: cannot open shared object|couldn't open cuda library|"
                    r"(?:unable|cannot|could not) (?:to )?load cudnn|cannot dlopen some gpu libraries",
     "system-library-missing"),
    ("environment", r"found no nvidia driver|no nvidia driver", "no-nvidia-gpu"),
    ("environment", r"nvml.*mismatch|driver/library version mismatch", "driver-library-version-mismatch"),
    ("environment", r"couldn't communicate with the nvidia driver", "nvidia-driver-unreadable"),
    ("environment", r"probe routine was not called|\bnouveau\b", "nouveau-bound-to-gpu"),
    ("environment", r"unable to find a match: kernel-(?:devel|headers)|unable to find the kernel source tree",
     "kernel-headers-unavailable-for-driver"),
    # CUDA's 803 and 804: the driver cannot run this CUDA runtime (too old, or forward compatibility
    # on a GPU that has none)
    ("environment", r"\berror 80[34]\b", "driver-too-old-for-torch"),
    ("environment", r"compute capability (?:less|lower) than", "gpu-compute-capability-too-low"),
    ("environment", r"unknown quantization method", "quantization-unknown-to-vllm"),
    ("environment", r"resolution-too-deep|resolutiontoodeep", "resolution-too-deep"),
    ("environment", r"installation candidates|not available from current channels|packages?notfounderror|"
                    r"not a supported wheel on this platform|no wheels with a matching platform tag|"
                    r"source distribution or wheel for the current platform", "no-matching-distribution"),
    ("environment", r"requires-python|requires a different python", "python-unsupported-by-vllm"),
    ("environment", r"no matching distribution|could not find a version|no version of|no solution found",
     "no-matching-distribution"),
    ("environment", r"resolutionimpossible|conflicting dependencies|dependency conflict|"
                    r"requires \S+, but you have \S+ \S+ which is incompatible", "dependency-conflict"),
    ("environment", r"vllm\S*_c\S*\.so.*undefined symbol|undefined symbol.*vllm", "vllm-torch-mismatch"),
    ("environment", r"undefined symbol", "extension-torch-mismatch"),
    ("environment", r"devices are busy or unavailable", "cuda-devices-unavailable"),
    ("build", r"no module named 'torch'", "build-needs-torch-no-isolation"),
    ("build", r"mismatches the version that was used to compile|detected cuda version",
     "cuda-toolkit-mismatch-for-build"),
    ("build", r"cuda_home|nvcc(?:\.exe)?'? (?:was |is )?not found|cannot find nvcc|"
              r"no such file or directory: '\S*nvcc'",
     "cuda-home-not-set"),
    ("build", r"no cuda toolset found", "cuda-vs-integration-missing"),
    ("build", r"unsupported gpu architecture", "nvcc-too-old-for-arch"),
    ("build", r"unsupported gnu version|gcc versions? later than|host compiler", "host-compiler-unsupported"),
    ("build", r"python\.h", "python-headers-missing"),
    ("build", r"cuda compiler|cmake_cuda_compiler", "cmake-cuda-compiler-unknown"),
    ("build", r"microsoft visual c\+\+|msvc", "msvc-build-tools-missing"),
    ("build", r"no cmake_(?:cxx|c)_compiler could be found", "host-cxx-compiler-missing"),
    ("build", r"'ninja'|ninja is required", "ninja-missing"),
    ("docker", r"could not select device driver|(?:unable to locate package|无法定位软件包|没有可用软件包|no package) "
               r"nvidia-container", "nvidia-container-toolkit-missing"),
    ("docker", r"could not be found in this wsl 2 distro", "docker-desktop-wsl-integration-off"),
    ("docker", r"cannot connect to the docker daemon|is the docker daemon running", "docker-daemon-not-running"),
    ("docker", r"manifest unknown|manifest for \S+ not found|repository does not exist", "docker-image-not-found"),
    ("docker", r"/manifests/\S+: denied|requested access to the resource is denied", "registry-pull-denied"),
    ("docker", r"exec format error|does not match the detected host platform|no matching manifest for",
     "docker-image-platform-mismatch"),
    ("docker", r"unresolvable cdi devices", "cdi-device-unresolvable"),
    ("docker", r"failed to initiali[sz]e nvml: unknown error", "container-lost-gpu-after-daemon-reload"),
    ("docker", r"docker\.sock.*permission denied|permission denied.*docker", "docker-permission-denied"),
    ("docker", r"nvidia-container-cli.*file exists|file exists.*libnvidia", "driver-libraries-in-image"),
    ("docker", r"unsatisfied condition: cuda|please update your driver to a newer version", "driver-too-old-for-image"),
    ("docker", r"nvidia-container-cli", "nvidia-container-runtime-broken"),
    ("docker", r"unknown or invalid runtime name", "nvidia-runtime-not-configured"),
    ("docker", r"requires buildkit|unknown flag: (?:--)?mount", "buildkit-disabled"),
    ("docker", r"toomanyrequests|rate limit|\b429\b|too many requests", "registry-rate-limited"),
    ("wsl", r"gpu access blocked", "wsl-gpu-access-blocked"),
    ("wsl", r"unknown key '[^']+' in \S*(?:\.wslconfig|wsl\.conf)|\.wslconfig:\d+ 中的未知", "wslconfig-invalid"),
    ("wsl", r"pin_memory", "wsl-pin-memory-off"),
    ("wsl", r"localhost proxy|localhost 代理", "wsl-localhost-proxy-not-mirrored"),
    ("wsl", r"libcuda\b", "wsl-libcuda-not-on-loader-path"),
    ("wsl", r"0x80370102|virtual machine platform|enable virtualization", "wsl-virtualization-unavailable"),
    ("wsl", r"0x800701bc|kernel component|wsl_update", "wsl2-kernel-update-required"),
    ("wsl", r"resolv\.conf|\bdns\b|name resolution|temporary failure resolving|could not resolve", "wsl-dns-failure"),
    ("other", r"address already in use|bind: |cannot find empty port|only one usage of each socket address|"
              r"(?:winerror|errno) 10048|通常每个套接字地址|(?:couldn't|could not|failed to|unable to) bind",
     "port-in-use"),
    ("other", r"divisible by tensor parallel|number of tensor parallelism", "tp-size-not-divisor"),
    ("other", r"greater than the derived max_model_len", "max-model-len-above-model-limit"),
    ("other", r"longer than the maximum model length|longer than the model's context length|"
              r"exceeds the available context size|context size has been exceeded", "prompt-longer-than-max-model-len"),
    ("other", r"no cuda gpus are available|cuda_visible_devices", "cuda-visible-devices-hides-gpu"),
    ("other", r"cannot re-initialize cuda in forked", "cuda-fork-subprocess"),
    ("other", r"invalid device ordinal", "gpu-index-out-of-range"),
    ("other", r"failed to connect to gcs|gcs may have been killed", "ray-gcs-unreachable"),
    # a GGML .bin that GGUF-era llama.cpp rejects (a .gguf that fails to load is another problem)
    ("other", r"invalid magic|magic, version|\bggml\b(?!-model\S*\.gguf)|failed to load model.*\.bin\b",
     "ggml-model-format-obsolete"),
    ("other", r"chat template", "model-without-chat-template"),
    ("other", r"trust_remote_code", "trust-remote-code-required"),
    # the hub cache's own layout (hub/models--org--name) names it wherever HF_HOME points
    ("other", r"permission denied.*(?:\.cache|huggingface|hf_home|hf_hub|/hub/(?:models|datasets)--)",
     "hf-cache-not-writable"),
    ("other", r"not a valid git identifier|invalid rev id|revision .*not found", "revision-not-found"),
    ("other", r"the model `[^`]+` does not exist", "served-model-name-mismatch"),
    ("other", r"write in your cache folder", "hf-cache-not-writable"),
    ("other", r"invalid repository id|pull model manifest|notexisterror|repository not found|repositorynotfounderror|"
              r"hfvalidationerror|repo id must|"
              r"not a valid model identifier|is not a local folder|\b404 client error|huggingface\.co/none/",
     "model-not-found"),
)
# Where the line names the Hugging Face hub (or a mirror of it), a connection failure is the hub's.
HUB = re.compile(r"huggingface|hf-mirror|hf\.co\b", re.IGNORECASE)
# Where the texts name a container registry, a connection failure is the registry's.
REGISTRY = re.compile(r"registry|/v2/|\b(?:docker|ghcr|nvcr|quay)\.io\b|pulling image|image configuration",
                      re.IGNORECASE)
# (where, {hint: the code it becomes there}); the key None: a network failure that names no problem.
WHERE = ((HUB, {"tcp-blocked": "hf-endpoint-unreachable", "http-forbidden": "hf-gated-model",
                None: "hf-endpoint-unreachable"}),
         (REGISTRY, {"tcp-blocked": "registry-unreachable", "download-stalled": "registry-unreachable",
                     None: "registry-unreachable"}))

_VOCAB = [(cls, weight, re.compile(pattern, re.IGNORECASE)) for cls, weight, pattern in VOCABULARY]
_HINTS = [(cls, re.compile(pattern, re.IGNORECASE), code) for cls, pattern, code in CODE_HINTS]


def code_hint(cls: str, texts: Sequence[str]) -> Optional[str]:
    """The finding code the first of `texts` that names the problem of class `cls` gives. A
    connection failure is the hub's (or a registry's) when any of the texts names it: a Windows
    socket error (WinError 10060) is printed a few lines above the line that says which host it was."""
    code = next((code for text in texts for hint_cls, pattern, code in _HINTS
                 if hint_cls == cls and pattern.search(text)), None)
    if cls == "network":
        for where, codes in WHERE:
            if any(where.search(text) for text in texts):
                return codes.get(code, code)
    return code


_TOOLS = [(re.compile(pattern, re.IGNORECASE), cls, name) for pattern, cls, name in TOOLS]


def line_classes(text: str) -> Dict[str, int]:
    """The weight each class's vocabulary gives one line. A phrase that settles the class (weight
    SETTLE and more) leaves the line to its class alone: "Error response from daemon" on a registry
    timeout is where the network failure surfaced, not a second failure."""
    out: Dict[str, int] = {}
    for cls, weight, pattern in _VOCAB:
        if pattern.search(text):
            out[cls] = max(out.get(cls, 0), weight)
    top = max(out.values(), default=0)
    if top >= SETTLE:
        out = {cls: w for cls, w in out.items() if w == top}
    return out


def tool_of(text: str) -> Optional[Tuple[str, str]]:
    """(class, tool name) of the tool the line says failed, or None."""
    return next(((cls, name) for pattern, cls, name in _TOOLS if pattern.search(text)), None)


def weigh(lines: Sequence[Tuple[int, str]], markers: Sequence[str] = (), symptoms: Sequence[Diagnosis] = (),
          weak: Sequence[Tuple[int, str]] = ()) -> Tuple[Dict[str, float], Dict[str, Tuple[float, int, str]]]:
    """Per class: its total weight, and its strongest line (weight, number, text). `weak`
    lines (a WARNING, no error word) count half."""
    totals: Dict[str, float] = {}
    best: Dict[str, Tuple[float, int, str]] = {}
    for number, text, strength in [(n, t, 1.0) for n, t in lines] + [(n, t, WEAK) for n, t in weak]:
        factor = (HEADLINE_FACTOR if HEADLINE.match(text) else 1) * strength
        weights = line_classes(text)
        tool = tool_of(text)
        if tool is not None and (tool[0] in weights or max(weights.values(), default=0) < SETTLE):
            weights[tool[0]] = weights.get(tool[0], 0) + 3
        for cls, w in weights.items():
            score = w * factor
            totals[cls] = totals.get(cls, 0.0) + score
            if cls not in best or score > best[cls][0] or (score == best[cls][0] and number < best[cls][1]):
                best[cls] = (score, number, text)
    if not totals:
        return totals, best  # context alone is no evidence of a failure
    for marker in markers:
        leans = CONTEXT.get(marker)
        if leans is not None and leans in totals:
            totals[leans] += CONTEXT_WEIGHT
    if "wsl" in markers and totals.get("environment") and GPU_WORDS.search(" ".join(b[2] for b in best.values())):
        # The GPU failing under WSL 2 is WSL's GPU plumbing (the Windows driver, /usr/lib/wsl/lib)
        # far more often than a version problem inside the distro.
        totals["wsl"] = totals.get("wsl", 0.0) + totals["environment"] + CONTEXT_WEIGHT
        best.setdefault("wsl", best["environment"])
    for d in symptoms:  # a failed docker step or pip's exit: where it surfaced leans a little
        totals[d.category] = totals.get(d.category, 0.0) + CONTEXT_WEIGHT
        best.setdefault(d.category, (1.0, d.line.number, d.line.text))
    return totals, best


def score(text: str) -> int:
    from envdoctor.explain.diagnose import _score

    return _score(text)


def infer(lines: Sequence[Tuple[int, str]], markers: Sequence[str] = (), symptoms: Sequence[Diagnosis] = (),
          weak: Sequence[Tuple[int, str]] = ()) -> Optional[Diagnosis]:
    """A cause inferred from the evidence, or None when the lines carry none. Weak lines alone
    (warnings) decide only with a class's specific words: a log whose only lines are
    warnings has no error in it."""
    if not lines and not any(w >= STRONG for t in weak for w in line_classes(t[1]).values()):
        weak = ()
    totals, best = weigh(lines, markers, symptoms, weak)
    if not totals:
        if not lines or symptoms:
            return None  # nothing error-like, or where it surfaced is all that is known
        # Error-like lines with no class's words: an application error, the worst line decisive.
        number, text = max(lines, key=lambda e: (score(e[1]), -e[0]))
        totals, best = {"other": 0.0}, {"other": (0.0, number, text)}
    cls = max(totals, key=lambda c: (totals[c], -best[c][1]))
    _, number, text = best[cls]
    tool = tool_of(text)
    others = sorted((c for c in totals if c != cls), key=lambda c: -totals[c])
    evidence = tuple(f"also {SUMMARY[c]}? weight {totals[c]:.0f} against {totals[cls]:.0f}" for c in others[:2])
    title = (f"Not a known error, but the evidence points at {SUMMARY[cls]}" + (
        f" ({tool[1]} failed)" if tool is not None and tool[0] == cls else "")) if totals[cls] else \
        "An error no signature knows and no class's words describe: the most error-like line is below"
    # WSL's class is often the environment's words read in WSL's context (see weigh).
    kin = {cls, "environment"} if cls == "wsl" else {cls}
    lines_of_class = [text] + [t for _, t in sorted(list(lines) + list(weak)) if kin & set(line_classes(t))]
    hint = code_hint(cls, lines_of_class) if totals[cls] else None
    kinds = tuple(markers) + (("compile",) if COMPILER.search(text) else ())
    hint = next((codes[hint] for marker, codes in CONTEXT_CODES.items() if marker in kinds and hint in codes), hint)
    if hint:
        title = f"{title}: it reads as {hint}"
    finding = Finding(hint or CODES[cls], "error", cls, title, evidence,
                      "No exact signature matched, so this is inferred from the words of the most error-like "
                      "lines, the tool that failed and the kind of log: lower confidence than a known error.",
                      (), ((TOOL_STEP[tool[1]],) if tool is not None and tool[0] == cls else ()) + (NEXT_STEP[cls],))
    line = LogLine(number, text)
    return Diagnosis(finding, "cause", line, (line,), 1, (), False, 0, confidence="inferred")

