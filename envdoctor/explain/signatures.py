"""Log signatures: the error texts `explain` knows, as data in matrices/log_signatures.csv.

One row per error text seen in a public report (the `source` column says where): a regular
expression, the class of problem, the finding code (shared with `check` where one exists),
why it happens and the fix. Each row carries a real `example` line; loading checks that the
pattern matches it, so adding a signature is a data change that cannot silently rot.

Speed: the scanner looks for a few short literal gates in the lowercased bytes (GATES and
ERROR_WORDS in every chunk, RARE_GATES and RARE_ERROR_WORDS in the first and last chunk) and
tries the patterns only on lines that hold one, and a pattern only where its lowercase
`needle` is. So a row's error line must contain a gate, and its needle must appear in every
line the pattern matches (both are checked on the example at load).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from envdoctor.compat.tables import Matrices, Table
from envdoctor.core.results import SEVERITIES, Finding

CLASSES: Dict[str, str] = {
    "network": "network",
    "environment": "environment / version mismatch",
    "wsl": "WSL",
    "resources": "resources / memory",
    "build": "build from source",
    "docker": "docker / container",
    "other": "other",
}
# cause: a problem in its own right; symptom: where a problem surfaced (a failed docker
# step, pip's generic "ERROR: Exception:"); context: worth knowing, not why it failed;
# marker: says what kind of log this is (no finding), for `when` and the analyses.
ROLES = ("cause", "symptom", "context", "marker")
MARKERS = ("wsl", "windows", "docker", "container", "docker-cache-mount", "docker-build-vllm", "pip-build", "vllm-log",
           "torch-extension-build", "shell-proxy", "compile", "ggml",
           "root-python")  # root-python: read from the matched lines' frames (diagnose.py), not a row
# Literal byte strings the scanner searches for (in the lowercased log); each needle contains
# one. Each gate costs one pass over the log (bench/explain_speed.py), so add one only when no
# existing gate fits, and prefer a short word that covers several texts ("could", "compatible").
GATES = ("error", "timed out", "warn", "killed", "fail", "fatal", "denied", "compatible", "/mnt/", "wsl",
         "non-zero code", "building wheel", "--mount=type=cache", "vllm/vllm-openai",
         "llm engine (v", "incompleteread", "requires buildkit", "mismatches the version")
# Texts real logs print without any of the words above. They are searched in the first and the
# last chunk of a log (all of a log up to 8 MB); the chunks between, the bulk of a huge log, are
# progress bars and repeated lines, searched for GATES and ERROR_WORDS only.
RARE_GATES = ("driver", "was built for", "chat template", "could", "no cuda", "trust_remote_code",
              "must be divisible", "undefined symbol", "unknown flag", "too old", "flash", "reserved for kv cache",
              "\u2500\u25b6",  # uv's "╰─▶" before each cause of an error
              "microsoft-standard",  # a WSL 2 kernel string (4.19 kernels lack the "-WSL2" suffix)
              # a shell setting http(s)_proxy: the docker daemon does not read it
              "_proxy=",
              # lines real logs print without an error word (a registry's throttle, an unresolved CDI
              # device, NumPy's ABI check, a WSL 1 kernel string, a Windows host name in a shell
              # prompt, ...): each one a signature's needle that no other gate already covers
              "toomanyrequests", "unresolvable cdi", "size changed, may indicate", "-microsoft ",
              "is not a valid model identifier", "write in your cache folder", "unsatisfied condition",
              "only supports ampere", "manifest unknown", "no matching manifest", "port is already allocated",
              "non-properly terminated", "defaultcpuallocator", "rust compiler", "maximum required version by cuda",
              "no adapters were found", "unexpected eof", "cmake_cuda_compiler", "uva is not available",
              "cuda_runtime", "volta and turing", "unsupported toolchain", "distutils installed project",
              "custom c++ ops", "exceeds the available context size", "@desktop-", "@laptop-", "docker run ",
              # a container's shell prompt, compose and exec; a compile's progress and nvcc command
              # line; a classic docker build's steps
              "root@", "docker-compose", "docker compose", "docker exec", "podman exec", "] building", "bin/nvcc",
              "sending build context", "---> running in",
              "which is of cuda capability", "probe routine was not called", "as a build dependency",
              "requires avx512", "unknown pre-tokenizer", "unknown model architecture",
              "podman run ", "no platform detected", "operation too slow", "does not exist",
              "wheel for the current platform", "+cpu",
              "ggml",  # llama.cpp's GPU back end names itself on lines without an error word
              "\\vllm\\",  # vLLM's own files under a Windows path: vLLM run natively on Windows
              "0x80370102", "'devices' was unexpected", "ssl certificate problem",
              "something wicked", "connectex", "request canceled", "x509:", "proxyconnect", "curl 18", "early eof",
              "not a supported wheel", "is not defined for option", "unexpected pos", "no file named",
              "headertoolarge", "build program corresponding", "c++17 or later", "cl.exe",
              "device string must not be empty", "repo id must use", "transformers.models.",
              "gpus with compute capability", "unknown quantization method", "being compiled with a version of cuda",
              "died due to signal 9", "visual studio", "compile time compute cap", "shared memory pool size",
              "no kernel image", "would exceed allowed memory", "open cuda library", "load cudnn",
              "older than the ptxas", "loaded runtime cudnn", "proxy call to rank", "has no wheels with a matching",
              "missing channel", "resolution-too-deep", "resolutiontoodeep", "not a valid git identifier",
              "not exist in:", "modelscope.cn/api/v1/models/", "can't load tokenizer for",
              "requires an update to its kernel", "file exists", "/dev/shm has only", "suitable python interpreter",
              ":\\users\\", "compiled without gpu support", "cuda wasnt able to be loaded",
              "exceeds the maximum allowed length", "longer than the model's context length", "must have less than",
              "max_new_tokens` must be",
              # the kernel log's Xid 79: the GPU stopped answering on PCIe
              "fallen off the bus")
# Words of an error line: scanned too, and the lines they find (when no signature explains them)
# are the evidence layer's and the "most error-like lines" shown. The rare ones, like RARE_GATES,
# in the first and the last chunk only.
ERROR_WORDS = ("error", "fail", "fatal", "killed", "timed out", "denied", "segmentation fault", "cannot ")
RARE_ERROR_WORDS = ("not found", "unable to", "no such file", "traceback", "exception", "invalid", "refused",
                    "could not", "couldn't", "abort",
                    # SIGILL: a binary built for instructions (AVX2, AVX-512) this CPU lacks
                    "illegal instruction",
                    # C++'s allocation failure ends a process without an error word
                    "bad_alloc",
                    # a child's status where the tool prints no error word (LM Studio's "(Exit code: 134)")
                    "exit code",
                    # a Kubernetes pod that keeps failing
                    "crashloopbackoff", "imagepullbackoff", "errimagepull",
                    # The same words in Chinese, as Windows, gcc, git and glibc print them under a
                    # Chinese locale (error, failed, cannot, refused, not found, not a command, too
                    # little, too small, timed out, none available).
                    "错误", "失败", "无法", "拒绝", "找不到", "不是内部或外部命令", "不足", "太小", "超时", "没有可用")
# Template names filled from what the whole log (and --vllm) says, besides a pattern's groups,
# and names derived from a group: {cuda_from_int} is CUDA "11.4" for a group cuda_int=11040.
CONTEXT_NAMES = ("vllm_version", "pip", "model", "build_package")
DERIVED = {"cuda_from_int": "cuda_int", "arch_list": "arch", "package": "module"}
# Import names whose distribution is named otherwise (or the same, for the ones people ask about).
PACKAGES = {"torch": "torch", "torchvision": "torchvision", "vllm": "vllm", "numpy": "numpy",
            "transformers": "transformers", "cv2": "opencv-python", "PIL": "pillow", "yaml": "pyyaml",
            "sklearn": "scikit-learn", "flash_attn": "flash-attn", "xformers": "xformers"}
FIELD = re.compile(r"\{([a-z_]+)\}")
ARCH = re.compile(r"(?:compute|sm)_(\d+)(\d)([a-z]?)")
KEBAB = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


@dataclass(frozen=True)
class LogSignature:
    id: str
    category: str  # one of CLASSES
    role: str  # one of ROLES
    code: str  # finding code; for markers, the marker name
    priority: int  # 0-100: which cause is the root when several match
    severity: str
    when: Optional[str]  # a marker the log must show (or "!marker": must not show)
    needle: str
    pattern: "re.Pattern[str]"
    title: str
    why: str
    fix: Tuple[str, ...]  # shell commands, in order; cells separated by " ;; "
    notes: Tuple[str, ...]
    example: str  # a real line with this error, as seen at `source`
    source: str


def _one_of(values, what: str):
    def parse(text: str) -> str:
        if text not in values:
            raise ValueError(f"not {what}: {text!r} (one of {', '.join(values)})")
        return text
    return parse


def _kebab(text: str) -> str:
    if not KEBAB.fullmatch(text):
        raise ValueError(f"not a kebab-case code: {text!r}")
    return text


def _priority(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 100:
        raise ValueError(f"not a priority 0-100: {text!r}")
    return int(text)


def _when(text: str) -> str:
    if text.lstrip("!") not in MARKERS:
        raise ValueError(f"not a marker: {text!r} (one of {', '.join(MARKERS)}, optionally with !)")
    return text


def _regex(text: str) -> "re.Pattern[str]":
    try:
        return re.compile(text)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {text!r} ({exc})") from None


def _steps(text: str) -> Tuple[str, ...]:
    return tuple(part.strip() for part in text.split(" ;; ") if part.strip())


def _text(text: str) -> str:
    return text


# Group names the wording cannot take as parameters (the arguments of Msg itself).
RESERVED_GROUPS = frozenset({"cls", "msg_id"})


def check_row(row: LogSignature) -> None:
    """Cross-column checks: the row must be able to match its own example, fast."""
    if row.needle != row.needle.lower():
        raise ValueError(f"needle {row.needle!r} must be lowercase (it is matched case-blind)")
    gates = GATES + ERROR_WORDS + RARE_GATES + RARE_ERROR_WORDS
    if not any(g in row.example.lower() for g in gates):
        raise ValueError(f"the example line contains none of the scan gates ({', '.join(gates)}): "
                         "the scanner would never look at it")
    match = row.pattern.search(row.example)
    if match is None:
        raise ValueError(f"pattern does not match its own example line {row.example!r}")
    if row.needle not in row.example.lower():
        raise ValueError(f"needle {row.needle!r} is not in the example line")
    if row.role == "marker" and row.code not in MARKERS:
        raise ValueError(f"a marker's code must be one of {', '.join(MARKERS)}, not {row.code!r}")
    groups = set(row.pattern.groupindex)
    reserved = sorted(groups & RESERVED_GROUPS)
    if reserved:
        raise ValueError(f"the pattern's group name {reserved[0]!r} is reserved (findings are worded with "
                         "Msg(msg_id, **groups)): rename the group")
    known = groups | set(CONTEXT_NAMES) | {name for name, group in DERIVED.items() if group in groups}
    for column in ("title", "why", "fix", "notes"):
        value = getattr(row, column)
        for text in (value if isinstance(value, tuple) else (value,)):
            unknown = sorted(set(FIELD.findall(text)) - known)
            if unknown:
                raise ValueError(f"column {column!r} uses {{{unknown[0]}}}, which is neither a group of the "
                                 f"pattern nor one of {', '.join(CONTEXT_NAMES)}")


TABLE = Table("log_signatures.csv", LogSignature, ("id",), {
    "id": _kebab, "category": _one_of(tuple(CLASSES), "a class"), "role": _one_of(ROLES, "a role"),
    "code": _kebab, "priority": _priority, "severity": _one_of(SEVERITIES, "a severity"),
    "when": _when, "needle": _text, "pattern": _regex, "title": _text, "why": _text,
    "fix": _steps, "notes": _steps, "example": _text, "source": _text,
}, optional=("when", "why", "fix", "notes"), empty=(("fix", ()), ("notes", ()), ("why", ""),),
    check=check_row)


@dataclass(frozen=True)
class Translation:
    """A signature's title, why and notes in another language (log_signatures_zh.csv, by id)."""

    id: str
    title: str
    why: str
    notes: Tuple[str, ...]
    source: str


TABLE_ZH = Table("log_signatures_zh.csv", Translation, ("id",), {
    "id": _kebab, "title": _text, "why": _text, "notes": _steps, "source": _text,
}, optional=("why", "notes"), empty=(("notes", ()), ("why", "")))


def load(matrices: Optional[Matrices] = None) -> List[LogSignature]:
    return (matrices or Matrices()).load(TABLE)


def text(sig: LogSignature, column: str, values: Dict[str, Optional[str]], index: int = 0):
    """A signature's title, why or one of its notes as a message: `{name}` filled from `values`, or
    `<name>` when the log does not say (as fill does); its Chinese comes from log_signatures_zh.csv."""
    from envdoctor.messages import Msg, as_template, register

    value = getattr(sig, column)
    template = value[index] if isinstance(value, tuple) else value
    msg_id = f"sig.{sig.id}.{column}" + (f".{index}" if isinstance(value, tuple) else "")
    register({"en": {msg_id: as_template(template)}})
    names = dict.fromkeys(FIELD.findall(template))
    return Msg(msg_id, **{n: values.get(n) or f"<{n.replace('_', ' ')}>" for n in names})


def translations(lang: str, matrices: Optional[Matrices] = None) -> Dict[str, str]:
    """Every translated signature text as catalog entries (the loader envdoctor.messages calls)."""
    from envdoctor.messages import as_template

    if lang != "zh":
        return {}
    out = {}
    for row in (matrices or Matrices()).load(TABLE_ZH):
        out[f"sig.{row.id}.title"] = as_template(row.title)
        if row.why:
            out[f"sig.{row.id}.why"] = as_template(row.why)
        out.update({f"sig.{row.id}.notes.{i}": as_template(n) for i, n in enumerate(row.notes)})
    return out


def _register() -> None:
    from envdoctor.messages import register_loader

    register_loader("sig.", translations)


_register()


def derive(groups: Dict[str, str]) -> Dict[str, str]:
    """Values computed from a match's groups (see DERIVED)."""
    out = {}
    code = groups.get("cuda_int", "")
    if code.isdigit() and int(code) >= 1000:
        out["cuda_from_int"] = f"{int(code) // 1000}.{int(code) % 1000 // 10}"
    module = groups.get("module", "")
    if module:
        top = module.split(".")[0]
        out["package"] = PACKAGES.get(top, f"<package providing {top}>")
    arch = ARCH.fullmatch(groups.get("arch", ""))
    if arch:  # compute_120 -> 12.0, sm_90a -> 9.0a: TORCH_CUDA_ARCH_LIST's spelling
        out["arch_list"] = f"{arch.group(1)}.{arch.group(2)}{arch.group(3)}"
    return out


def fill(template: str, values: Dict[str, Optional[str]]) -> str:
    """`{name}` replaced by its value, or `<name>` when the log does not say."""
    return FIELD.sub(lambda m: values.get(m.group(1)) or f"<{m.group(1).replace('_', ' ')}>", template)


def finding(sig: LogSignature, values: Dict[str, Optional[str]], evidence: tuple = (), code: str = "") -> Finding:
    """The finding a signature row says, its texts filled from `values`."""
    return Finding(code or sig.code, sig.severity, sig.category, text(sig, "title", values), evidence,
                   text(sig, "why", values) if sig.why else "", tuple(fill(f, values) for f in sig.fix),
                   tuple(text(sig, "notes", values, i) for i in range(len(sig.notes))))
