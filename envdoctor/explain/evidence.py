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

from ..model import Finding
from .model import Diagnosis, LogLine

# (class, weight, pattern): case-blind, searched in one line. Specific phrases weigh more
# than the words that merely tend to go with a class.
VOCABULARY: Tuple[Tuple[str, int, str], ...] = (
    ("network", 6, r"connection (?:reset|refused|aborted|broken)|connecttimeout|readtimeout|connecterror"),
    ("network", 6, r"timed? ?out (?:while|after|connecting|waiting)|read timed out|connect timeout|i/o timeout"),
    ("network", 6, r"name or service not known|temporary failure in name resolution|could not resolve host|"
                   r"getaddrinfo failed|nodename nor servname|no such host|dns error"),
    ("network", 6, r"sslerror|ssl: |certificate verify failed|tls handshake|eof occurred in violation|"
                   r"unexpected eof|ssleoferror|wrong version number"),
    ("network", 6, r"max retries exceeded|newconnectionerror|proxyerror|network is unreachable|"
                   r"remotedisconnected|incompleteread|chunkedencodingerror|protocolerror|error sending request|"
                   r"tcp connect error|failed to (?:download|fetch)|could not fetch url"),
    ("network", 6, r"gated repo|proxy authentication required|tunnel connection failed|urlopen error|"
                   r"do not match the hashes|hash mismatch|ssl module is not available"),
    ("network", 5, r"\b(?:429|too many requests|502 bad gateway|503 service unavailable|504 gateway)\b|"
                   r"rate.?limit|\bhttp error [45]\d\d|httperror|status code [45]\d\d|\b404 (?:client error|not found)"),
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
                       r"built (?:for|against|with) (?:a )?(?:different|another)|does not exist|"
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
    ("wsl", 6, r"/usr/lib/wsl|\bwsl ?2?\b|/dev/dxg|gpu access blocked|microsoft-standard|\.wslconfig|"
               r"libdxcore|vmmem"),
    ("resources", 6, r"out of memory|outofmemoryerror|\boom\b|no space left|memoryerror|cannot allocate memory|"
                     r"bad_alloc|exit code:? 137|signal 9|sigkill|bus error|/dev/shm|\bkilled\b|disk quota|enospc|"
                     r"cudaerrormemoryallocation|kv cache|gpu_memory_utilization|not enough memory|insufficient memory"),
    ("other", 5, r"address already in use|chat template|trust_remote_code|permission denied|read-only file system|"
                 r"not writable|max_model_len|keyerror|typeerror|assertionerror|notimplementederror|"
                 r"must be divisible|maximum model length|tensor parallel"),
    ("resources", 6, r"free disk space|disk space"),
    # Phrases that settle a class against the generic words of another (a CUDA error word on a
    # shared-memory failure, "Error response from daemon" on a registry timeout).
    ("resources", 7, r"shared memory segment|insufficient shared memory|out of shared memory|no space left"),
    ("network", 7, r"request canceled while waiting for connection|client\.timeout exceeded|tls handshake timeout"),
    ("docker", 7, r"could not be found in this wsl 2 distro|docker desktop"),
    ("other", 7, r"repositorynotfounderror|repository not found|huggingface\.co/none/|"
                 r"greater than the derived max_model_len|longer than the maximum model length"),
    ("build", 7, r"unsupported gnu version|gcc versions? later than|host compiler"),
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
    (r"\buv\b.*(?:error|failed)|^error: failed to (?:download|fetch)", "network", "uv"),
    (r"pip\._vendor\.(?:urllib3|requests)", "network", "pip"),
    (r"\bwsl(?:\.exe)?\b", "wsl", "WSL"),
)
# Kinds of log (markers from signatures, or words on the lines): where each leans.
CONTEXT = {"docker": "docker", "pip-build": "build", "wsl": "wsl", "vllm-log": "other"}
CONTEXT_WEIGHT = 2
GPU_WORDS = re.compile(r"libcuda|\bcuda\b|nvml|nvidia|\bgpu", re.IGNORECASE)
# A Python exception line, pip's `ERROR:` line, `error:`/`fatal:` of a compiler or tool.
HEADLINE = re.compile(r"^\s*(?:\S+\s+)?(?:[\w.]*(?:Error|Exception|Exit)\b:|ERROR:|error:|fatal:|FATAL|\w+ fatal\b)")
HEADLINE_FACTOR = 2
WEAK = 0.5  # a gated line without an error word
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
               "`docker run --rm --gpus all ubuntu nvidia-smi` on the host; `envdoctor check` on the host checks the driver."),
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

_VOCAB = [(cls, weight, re.compile(pattern, re.IGNORECASE)) for cls, weight, pattern in VOCABULARY]
_TOOLS = [(re.compile(pattern, re.IGNORECASE), cls, name) for pattern, cls, name in TOOLS]


def line_classes(text: str) -> Dict[str, int]:
    """The weight each class's vocabulary gives one line."""
    out: Dict[str, int] = {}
    for cls, weight, pattern in _VOCAB:
        if pattern.search(text):
            out[cls] = max(out.get(cls, 0), weight)
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
        if tool is not None:
            weights[tool[0]] = weights.get(tool[0], 0) + 3
        for cls, w in weights.items():
            score = w * factor
            totals[cls] = totals.get(cls, 0.0) + score
            if cls not in best or score > best[cls][0] or (score == best[cls][0] and number < best[cls][1]):
                best[cls] = (score, number, text)
    if not totals:
        return totals, best  # context alone is no evidence of a failure
    for marker in markers:
        cls = CONTEXT.get(marker)
        if cls is not None and cls in totals:
            totals[cls] += CONTEXT_WEIGHT
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
    from .diagnose import _score

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
    finding = Finding(CODES[cls], "error", cls, title, evidence,
                      "No exact signature matched, so this is inferred from the words of the most error-like "
                      "lines, the tool that failed and the kind of log: lower confidence than a known error.",
                      (), ((TOOL_STEP[tool[1]],) if tool is not None and tool[0] == cls else ()) + (NEXT_STEP[cls],))
    line = LogLine(number, text)
    return Diagnosis(finding, "cause", line, (line,), 1, (), False, 0, confidence="inferred")

