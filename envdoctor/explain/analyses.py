"""What no single line says: how far a download got and how fast (a stall or a slow line),
the unpinned torch a build step pulls in, and what would have avoided a failed `docker
build` of vLLM altogether. Each takes the diagnoses built from signatures and returns them
refined, or adds one; all facts come from the log, --vllm and matrices/vllm.csv.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Dict, List, Optional

from envdoctor.core.results import Finding
from envdoctor.core.units import megabytes
from envdoctor.explain import downloads
from envdoctor.explain.signatures import LogSignature, derive, finding
from envdoctor.explain.types import Diagnosis, LogLine
from envdoctor.messages import Msg

PIP_NEWS = "https://raw.githubusercontent.com/pypa/pip/refs/tags/25.2/NEWS.rst"
VLLM_IMAGE = "vllm/vllm-openai"
REQUIREMENTS = re.compile(r"-r (\S+)")
# Codes only the analyses produce: (class, summary) for `explain --list`.
CODES = {
    "download-slow": ("network", "A large download ran below 1 MB/s and timed out: the line is slow, not stalled"),
    "torch-unpinned-in-build": ("environment", "A build step downloads an unpinned torch that vLLM does not use"),
    "gpu-memory-in-use": ("resources", "CUDA ran out of memory while another process held much of the GPU"),
}


def apply(found: List[Diagnosis], groups: Dict[str, list], markers: Dict[str, list],
          values: Dict[str, Optional[str]], matrices) -> List[Diagnosis]:
    out = []
    for d in found:
        if d.finding.code in downloads.CODES:
            d = _download(d, groups.get(d.finding.code, []))
        out.append(d)
    out = [_oom_other_process(d) if d.finding.code == "cuda-out-of-memory" else d for d in out]
    if "shell-proxy" in markers:
        out = [_daemon_ignores_shell_proxy(d, markers["shell-proxy"]) for d in out]
    out.extend(_unpinned_torch(groups, values, matrices))
    if "docker" in markers:
        out = [_docker_build(d, markers, values, out) if d.role == "cause" and d.category == "network" else d
               for d in out]
    return out


# A problem of the machine read in the context the log shows is that context's own: no GPU
# inside a container is a container started without one; DNS failing under WSL is WSL's
# resolv.conf. (marker, code) -> the code a `when=marker` twin row of log_signatures.csv says,
# whose texts replace the generic ones: a twin written for one error text then covers every
# text of the same problem. The nearer context first: a container under WSL is the container's.
IN_CONTEXT = {
    "container": {"no-nvidia-gpu": "container-started-without-gpus",
                  "cuda-no-usable-device": "container-started-without-gpus",
                  "vllm-no-device-detected": "container-started-without-gpus",
                  "driver-too-old-for-torch": "driver-too-old-for-image",
                  "driver-too-old-for-runtime": "driver-too-old-for-image"},
    "wsl": {"dns-failure": "wsl-dns-failure", "host-out-of-memory": "wsl-memory-limit",
            "cuda-no-usable-device": "wsl-gpu-not-reachable",
            "nvidia-driver-unreadable": "wsl-gpu-not-reachable",
            "cuda-devices-unavailable": "wsl-windows-build-no-gpu",
            "libcuda-not-linkable": "wsl-libcuda-not-on-loader-path"},
    # No marker of a container, but the system Python's packages installed as root
    # (/usr/local/lib/python3.X/dist-packages), as container images keep them: no GPU there
    # is most likely a container started without one.
    "root-python": {"no-nvidia-gpu": "container-started-without-gpus",
                    "cuda-no-usable-device": "container-started-without-gpus",
                    "vllm-no-device-detected": "container-started-without-gpus"},
}


def twin(marker: str, code: str, signatures) -> Optional[LogSignature]:
    """The row whose texts say `code` in the context of `marker`."""
    return next((s for s in signatures if s.code == code and s.when == marker and s.role == "cause"), None)


def in_context(d: Diagnosis, markers: Dict[str, list], groups: Dict[str, list], values: Dict[str, Optional[str]],
               signatures) -> Diagnosis:
    for marker, codes in IN_CONTEXT.items():
        row = twin(marker, codes.get(d.finding.code, ""), signatures) if marker in markers else None
        if row is not None:
            fields = dict(values)
            for m in groups.get(d.finding.code, [])[:1]:
                fields.update(m.groups)
                fields.update(derive(m.groups))
            return dataclasses.replace(d, finding=finding(row, fields, d.finding.evidence))
    return d


# Findings that are only a consequence when the network failed: pip reports "no matching
# distribution" when it could not reach the index at all.
CONSEQUENCES = {"no-matching-distribution": "network", "wheel-build-failed": "build"}


def demote_consequences(found: List[Diagnosis]) -> List[Diagnosis]:
    classes = {d.category for d in found if d.role == "cause" and d.finding.code not in CONSEQUENCES}
    return [dataclasses.replace(d, role="symptom") if CONSEQUENCES.get(d.finding.code) in classes else d
            for d in found]


def _first_download(matches) -> Optional[tuple]:
    return next(((m, m.download) for m in matches if m.download is not None), None)


def _download(d: Diagnosis, matches) -> Diagnosis:
    hit = _first_download(matches)
    if hit is None:
        return d
    m, ctx = hit
    f = d.finding
    what = f"{ctx.name} {ctx.version}" if ctx.version else ctx.name
    code = "download-slow" if f.code == "download-stalled" and ctx.slow else f.code
    evidence = [Msg("explain.line.downloading", line=m.line - ctx.lines_back, file=ctx.file, size=ctx.size_text)]
    if ctx.progress_text is not None:
        evidence.append(
            Msg("explain.evidence.line", line=m.line - ctx.progress_lines_back, text=ctx.progress_text.strip())
        )
    if ctx.average_mb_s is not None:
        evidence.append(Msg("explain.download.average", done=megabytes(ctx.done_mb),
                            seconds=f"{ctx.progress_at - ctx.started_at:.1f}", rate=f"{ctx.average_mb_s:.1f}"))
    done = Msg("explain.download.done", done=megabytes(ctx.done_mb), size=ctx.size_text, percent=f"{ctx.percent:.0f}") \
        if ctx.done_mb is not None else ""
    rate = f"{ctx.rate_mb_s:.1f} MB/s" if ctx.rate_mb_s is not None else None
    eta = Msg("explain.download.eta", eta=ctx.eta) if ctx.eta else ""
    lost = Msg("explain.download.lost", done=megabytes(ctx.done_mb)) if ctx.done_mb else ""
    title: str
    why: str
    if code == "download-slow":
        title = Msg("download-slow.title", what=what, size=ctx.size_text, done=done)
        why = Msg(
            "download-slow.why", rate=rate or Msg("download-slow.trickle"), eta=eta, size=ctx.size_text, lost=lost
        )
    elif code == "download-stalled":
        title = Msg("download-stalled.title", what=what, size=ctx.size_text, done=done)
        why = Msg(
            "download-stalled.why", rate=Msg("download-stalled.rate", rate=rate) if rate else "", eta=eta, lost=lost
        )
    else:
        title = Msg("explain.download.other", title=f.title, what=what, size=ctx.size_text,
                    done=Msg("explain.download.done.comma", done=megabytes(ctx.done_mb), size=ctx.size_text,
                             percent=f"{ctx.percent:.0f}") if ctx.done_mb is not None else "")
        why = f.why
    notes = f.notes + (Msg("explain.note.pip-resume", url=PIP_NEWS),)
    finding = dataclasses.replace(f, code=code, title=title, why=why, evidence=tuple(evidence) + f.evidence,
                                  notes=notes)
    return dataclasses.replace(d, finding=finding)


# torch's out-of-memory message, old and new: the GPU's total, what is free, and what this process
# holds (reserved by PyTorch; or, newer, all of this process's memory). The rest is another process's.
SIZE = r"([\d.]+) ([KMG])i?B"
OOM_OLD = re.compile(rf"\(GPU \d+; {SIZE} total capacity; .*?; {SIZE} free; {SIZE} reserved in total by PyTorch\)")
OOM_NEW = re.compile(rf"has a total capacity of {SIZE} of which {SIZE} is free\..*?"
                     rf"this process has {SIZE} memory in use")
OTHER_SHARE = 0.25  # of the GPU held elsewhere: more than a CUDA context and stray buffers
GIB = {"K": 1 / 2 ** 20, "M": 1 / 1024, "G": 1.0}


def _gib(number: str, unit: str) -> float:
    return float(number) * GIB[unit]


def _oom_other_process(d: Diagnosis) -> Diagnosis:
    """CUDA ran out of memory because another process holds much of the GPU: the numbers in
    torch's message say so (total - free - this process's share)."""
    texts = [d.line.text] + [line.text for line in d.context]
    for text in texts:
        m = OOM_OLD.search(text)
        if m:
            total, free, mine = _gib(*m.group(1, 2)), _gib(*m.group(3, 4)), _gib(*m.group(5, 6))
            break
        m = OOM_NEW.search(text)
        if m:
            total, free, mine = _gib(*m.group(1, 2)), _gib(*m.group(3, 4)), _gib(*m.group(5, 6))
            break
    else:
        return d
    other = total - free - mine
    if other < OTHER_SHARE * total or other < 1.0:
        return d
    f = d.finding
    finding = dataclasses.replace(
        f, code="gpu-memory-in-use",
        title=f"The GPU ran out of memory because something else holds {other:.1f} GiB of its {total:.1f} GiB",
        evidence=(f"torch's message: {total:.1f} GiB total, {free:.2f} GiB free, {mine:.1f} GiB held by this process: "
                  f"{other:.1f} GiB belong to other processes (or another vLLM still running)",) + f.evidence,
        why="Memory another process holds (a second vLLM, a notebook kernel, the desktop under WSL) is not free to "
            "this one; vLLM sizes its KV cache from gpu_memory_utilization of the whole GPU, so it asks for more "
            "than is left.",
        fix=("nvidia-smi",) + tuple(x for x in f.fix if x != "nvidia-smi"),
        notes=("Stop the process nvidia-smi lists, or lower --gpu-memory-utilization to what is free "
               f"(about {max(free + mine, 0.0) / total:.2f} of this GPU).",) + f.notes)
    return dataclasses.replace(d, finding=finding)


DAEMON = re.compile(r"error response from daemon", re.IGNORECASE)
DOCKER_PROXY_DOCS = "https://docs.docker.com/engine/daemon/proxy/"


def _daemon_ignores_shell_proxy(d: Diagnosis, proxy_lines) -> Diagnosis:
    """The shell sets http(s)_proxy, then the docker daemon cannot reach a registry: the daemon
    is a service started without that shell's environment, so it never used the proxy."""
    if d.role != "cause" or d.category != "network" or not DAEMON.search(d.line.text):
        return d
    first = proxy_lines[0]
    if first.line > d.line.number:
        return d
    f = d.finding
    finding = dataclasses.replace(
        f, code="proxy-env-mismatch",
        title="The docker daemon did not use the proxy this shell sets, so it could not reach the registry",
        evidence=(f"line {first.line}: the shell sets {first.groups.get('var') or 'a proxy variable'} "
                  "(value not shown)",) + f.evidence,
        why="`docker pull` and `docker login` only ask the daemon, a system service started without your shell's "
            "environment: http_proxy / https_proxy exported in the shell reach the docker client, not dockerd, so "
            "the daemon tries the registry directly and times out behind the proxy.",
        fix=("sudo mkdir -p /etc/systemd/system/docker.service.d",
             "printf '[Service]\\nEnvironment=\"HTTPS_PROXY=<proxy URL>\" \"HTTP_PROXY=<proxy URL>\"\\n' | "
             "sudo tee /etc/systemd/system/docker.service.d/http-proxy.conf",
             "sudo systemctl daemon-reload && sudo systemctl restart docker"),
        notes=("Docker 23 and later also read \"proxies\" from /etc/docker/daemon.json; Docker Desktop takes the proxy "
               "in Settings > Resources > Proxies.",) + f.notes,
        docs=DOCKER_PROXY_DOCS)
    return dataclasses.replace(d, finding=finding)


def _vllm_pin(version: Optional[str], matrices) -> Optional[str]:
    if not version or matrices is None:
        return None
    from envdoctor.rules.base import pinned_version

    row = matrices.vllm(version.lstrip("v"))
    return pinned_version(row.torch) if row is not None else None


def _pinning(torch: str, matrices) -> List[str]:
    if matrices is None:
        return []
    from envdoctor.rules.base import pinned_version

    return [str(r.version) for r in matrices.table("vllm") if pinned_version(r.torch) == torch]


def _unpinned_torch(groups: Dict[str, list], values: Dict[str, Optional[str]], matrices) -> List[Diagnosis]:
    """A step that collects torch with no version (a dependency of something else) downloads
    the newest torch, which is rarely the one vLLM pins."""
    for code in downloads.CODES:
        hit = _first_download(groups.get(code, []))
        if hit is None:
            continue
        m, ctx = hit
        if ctx.name != "torch" or not ctx.requirement or ctx.pinned or ctx.requirement_lines_back is None:
            continue
        who = (ctx.required_by or "a dependency").split("->")[0]
        reqs = REQUIREMENTS.search(ctx.required_by or "")
        vllm = values.get("vllm_version")
        pin = _vllm_pin(vllm, matrices)
        if pin is not None and pin == ctx.version:
            return []  # unpinned, but it picked the torch vLLM wants
        evidence = (Msg("explain.line.downloading", line=m.line - ctx.lines_back, file=ctx.file, size=ctx.size_text),)
        fix = (f"pip wheel --no-deps -r {reqs.group(1)}",) if reqs else ()
        if pin is not None:
            title = Msg("torch-unpinned-in-build.title.pinned", torch=ctx.version, vllm=vllm)
            why = Msg("torch-unpinned-in-build.why.pinned", who=who, torch=ctx.version, size=ctx.size_text, vllm=vllm,
                      pin=pin)
            notes = (Msg("torch-unpinned-in-build.note.constrain", pin=pin),)
        else:
            pinning = _pinning(ctx.version or "", matrices)
            title = Msg("torch-unpinned-in-build.title" if ctx.version else "torch-unpinned-in-build.title.any",
                        torch=ctx.version or "", who=who)
            why = Msg("torch-unpinned-in-build.why", who=who, torch=ctx.version, size=ctx.size_text,
                      pinning=Msg("torch-unpinned-in-build.pinning" + (".one" if len(pinning) == 1 else ""),
                                  releases=", ".join(pinning), torch=ctx.version) if pinning else
                      Msg("torch-unpinned-in-build.pinning.none", torch=ctx.version))
            notes = (Msg("torch-unpinned-in-build.note.grep"),)
        line = LogLine(m.line - ctx.requirement_lines_back, f"Collecting {ctx.requirement} (from {ctx.required_by})")
        finding = Finding("torch-unpinned-in-build", "warn", "environment", title, evidence, why, fix,
                          notes + (Msg("torch-unpinned-in-build.note.no-deps"),))
        return [Diagnosis(finding, "context", line, (line,), 1, (), False, 30)]
    return []


def _docker_build(d: Diagnosis, markers: Dict[str, list], values: Dict[str, Optional[str]],
                  found: List[Diagnosis]) -> Diagnosis:
    """A network failure inside `docker build`: what would have avoided or survived it."""
    f = d.finding
    fix, notes = list(f.fix), list(f.notes)
    vllm = values.get("vllm_version")
    if "docker-build-vllm" in markers:
        tag = f"v{vllm.lstrip('v')}" if vllm else "v<vllm version>"
        fix.insert(0, f"docker pull {VLLM_IMAGE}:{tag}")
        notes.insert(0, Msg("explain.note.docker-image" if vllm else "explain.note.docker-image.tag", image=VLLM_IMAGE))
    step = next((s for s in found if s.finding.code == "docker-step-failed"), None)
    step_text = step.line.text if step is not None else ""
    if "docker-cache-mount" in markers and "--mount=type=cache" not in step_text:
        notes.append(Msg("explain.note.docker-cache"))
    notes.append(Msg("explain.note.docker-env"))
    notes = [n for n in notes if "wheelhouse" not in n]
    notes.append(Msg("explain.note.docker-wheelhouse"))
    return dataclasses.replace(d, finding=dataclasses.replace(f, fix=tuple(dict.fromkeys(fix)), notes=tuple(notes)))
