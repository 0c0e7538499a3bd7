"""The network area's work: plan the targets from the configuration, trace them all in
parallel under one deadline, and gather the facts. probes/network.py loads this only
when the network is checked, so sockets, ssl and the config parsers cost nothing else."""
from __future__ import annotations

import json
import os
import re
import ssl
import threading
from dataclasses import replace
from typing import Dict, List, Optional, Tuple, Union
from urllib.parse import unquote, urlsplit

from envdoctor.machine.context import Context
from envdoctor.core.facts import ConfigProblem, NetStep, NetTarget, NetworkFacts, PythonEnvFacts
from envdoctor.core.reasons import ConfigKind
from envdoctor.core.results import Facts
from envdoctor.redact import Redactor
from envdoctor.probes.net_config import (CaChoice, PipSettings, Setting, conda_channels, env_route,
                         parse_proxy, pip_ca, pip_route, read_pip_settings, read_uv_settings,
                         requests_ca, uv_ca)
from envdoctor.probes.net_trace import LIGHT_BYTES, LIGHT_HEAD_RESERVE, TargetSpec, TlsContext, Tracer

JOIN_GRACE = 0.3
HF_DEFAULT_ENDPOINT = "https://huggingface.co"  # huggingface_hub constants: HF_ENDPOINT's default
HF_SAMPLE_REPO = "Qwen/Qwen2-1.5B-Instruct"  # the first user's model (shared/seed/first-user-notes.md)
MODELSCOPE_ENDPOINT = "https://www.modelscope.cn"
TRUE_VALUES = {"1", "ON", "YES", "TRUE"}  # huggingface_hub's constants: what HF_HUB_OFFLINE counts as set
# pip's own default index, asked of pip in the target interpreter (never written here).
PIP_CHILD = ("import sys; sys.path[:1] = []; import json, pip; from pip._internal.models.index import PyPI; "
             "print(json.dumps({'pip': pip.__version__, 'index': PyPI.simple_url}))")


def read_pip_itself(ctx: Context, pythons: List[str], timeout: float) -> Tuple[Optional[str], Optional[str]]:
    """(pip version, pip's default index URL) from the first interpreter whose pip answers."""
    for python in dict.fromkeys(pythons):
        result = ctx.run([python, "-c", PIP_CHILD], timeout=timeout)
        if not result.ok:
            continue
        try:
            data = json.loads(result.stdout.strip().splitlines()[-1])
            return str(data["pip"]), str(data["index"])
        except (ValueError, IndexError, KeyError, TypeError):
            continue
    return None, None


def _local_path(value: str) -> Optional[str]:
    parts = urlsplit(value)
    if parts.scheme == "file":
        return unquote(parts.path)
    if parts.scheme in ("http", "https"):
        return None
    return value  # a plain path (pip accepts those for --find-links)


def local_target(ctx: Context, kind: str, setting: Setting, path: str, redact) -> NetTarget:
    if ctx.fs.is_dir(path):
        wheels = len(ctx.fs.glob(os.path.join(path, "*.whl")))
        step = NetStep("local", True, host=None, detail=f"{path}: a directory with {wheels} wheel(s)")
    elif ctx.fs.exists(path):
        step = NetStep("local", True, detail=f"{path}: a file")
    else:
        step = NetStep("local", False, detail=f"{path} does not exist", problem="missing")
    return NetTarget(kind, redact(setting.value), redact(setting.source), steps=(step,), local=True)


def _torch_tag(env: Optional[PythonEnvFacts]) -> Tuple[Optional[str], str]:
    """(cuXYZ, why): the target env's torch build, else the newest torch's default build."""
    from envdoctor.rules.base import cuda_tag

    if env is not None and env.torch is not None and env.torch.cuda:
        return cuda_tag(env.torch.cuda), f"torch {env.torch.version} in {env.executable}"
    from envdoctor.compat.tables import Matrices
    from envdoctor.core.results import DataError

    try:
        newest = max(Matrices().table("torch"), key=lambda r: r.version)
    except DataError:
        return None, "matrices/torch.csv cannot be read"
    if not newest.default_cuda:
        return None, f"torch {newest.version} has no default CUDA build in matrices/torch.csv"
    return cuda_tag(newest.default_cuda), f"torch {newest.version}'s default CUDA build (matrices/torch.csv)"


Item = Union[TargetSpec, NetTarget]


class Plan:
    """The targets in order, each URL once (the first source wins, later ones are noted)."""

    def __init__(self, ctx: Context, redact) -> None:
        self.ctx = ctx
        self.redact = redact
        self.items: List[Item] = []
        self._seen: Dict[str, int] = {}

    def add(self, kind: str, setting: Setting, pages: Tuple[str, ...] = (), **kw) -> None:
        key = setting.value.rstrip("/")
        if key in self._seen:
            index = self._seen[key]
            item = self.items[index]
            note = f"also configured as {kind} by {self.redact(setting.source)}"
            if isinstance(item, TargetSpec):
                self.items[index] = replace(item, notes=item.notes + (note,))
            return
        self._seen[key] = len(self.items)
        path = _local_path(setting.value)
        if path is not None:
            self.items.append(local_target(self.ctx, kind, setting, path, self.redact))
            return
        self.items.append(TargetSpec(kind=kind, url=setting.value, source=setting.source,
                                     pages=pages or (setting.value,), **kw))


def _url_problem(url: str) -> Optional[str]:
    """Why a configured index / find-links value is no URL pip can use, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        return str(exc)
    if _local_path(url) is not None:
        return None  # a folder or a file:// URL: local_target judges it
    if not parts.hostname:
        return "not an http(s) URL with a host"
    return None


def _index_pages(url: str) -> Tuple[str, ...]:
    base = url.rstrip("/")
    return (f"{base}/torch/", f"{base}/pip/")


def build_plan(ctx: Context, deps: Facts, pip: PipSettings, pip_version: Optional[str],
               pip_default: Optional[str], redact) -> Tuple[Plan, List[ConfigProblem]]:
    env_facts: Optional[PythonEnvFacts] = deps.get("python")
    python_version = env_facts.version if env_facts else None
    env = ctx.env
    plan = Plan(ctx, redact)
    problems: List[ConfigProblem] = []

    def pip_kw(url: str) -> dict:
        return {"proxy": pip_route(url, env, pip.get("proxy"), pip_version),
                "ca": pip_ca(env, pip.get("cert"), pip_version, python_version)}

    def usable(setting: Setting) -> bool:
        """An index URL pip cannot even parse is a configuration problem, not a target to probe."""
        problem = _url_problem(setting.value)
        if problem:
            problems.append(ConfigProblem(ConfigKind.INDEX_URL, setting.source, f"{redact(setting.value)}: {problem}"))
        return problem is None

    if not pip.no_index:
        index = pip.get("index-url") or (Setting(pip_default, "pip's built-in default (read from pip)")
                                         if pip_default else None)
        if index is not None and usable(index):
            plan.add("pip-index", index, _index_pages(index.value), required=True, links=True, **pip_kw(index.value))
        for extra in pip.urls("extra-index-url"):
            if usable(extra):
                plan.add("pip-extra-index", extra, _index_pages(extra.value), links=True, not_found_ok=True,
                         **pip_kw(extra.value))
    for link in pip.urls("find-links"):
        if usable(link):
            plan.add("pip-find-links", link, links=True, **pip_kw(link.value))

    tag, why = _torch_tag(env_facts)
    if tag:
        from envdoctor.rules.base import TORCH_INDEX

        url = f"{TORCH_INDEX}/{tag}"
        plan.add("torch-index", Setting(url, why), (f"{url}/torch/",), links=True, **pip_kw(url))

    uv = read_uv_settings(ctx)
    problems += uv.problems
    if uv.present:
        default = uv.default_index or (Setting(pip_default, "uv's default index (pip's, read from pip)")
                                       if pip_default else None)
        for setting in ([default] if default else []) + list(uv.indexes):
            plan.add("uv-index", setting, _index_pages(setting.value), links=True, not_found_ok=True,
                     proxy=env_route(setting.value, env), ca=uv_ca(env))
        for setting in uv.find_links:
            plan.add("uv-find-links", setting, links=True, proxy=env_route(setting.value, env), ca=uv_ca(env))

    if env_facts is not None and env_facts.kind == "conda":
        channels, conda_problems = conda_channels(ctx, env_facts.prefix)
        problems += conda_problems
        for channel in channels:
            plan.add("conda-channel", channel, (f"{channel.value.rstrip('/')}/noarch/repodata.json",),
                     ranged_page=True, proxy=env_route(channel.value, env), ca=requests_ca(env))

    endpoint = (env.get("HF_ENDPOINT") or "").rstrip("/")
    hf = Setting(endpoint, "HF_ENDPOINT") if endpoint else Setting(HF_DEFAULT_ENDPOINT, "huggingface_hub's default")
    offline = (env.get("HF_HUB_OFFLINE") or "").strip().upper() in TRUE_VALUES
    unused = f"HF_HUB_OFFLINE={env.get('HF_HUB_OFFLINE')}: huggingface_hub downloads nothing" if offline else None
    plan.add("hf", hf, (f"{hf.value}/{HF_SAMPLE_REPO}/resolve/main/config.json",),
             sample=f"{hf.value}/{HF_SAMPLE_REPO}/resolve/main/model.safetensors", unused=unused,
             proxy=env_route(hf.value, env), ca=requests_ca(env))

    if env.get("VLLM_USE_MODELSCOPE"):
        value = env["VLLM_USE_MODELSCOPE"]
        notes = () if value.lower() == "true" else (
            f"VLLM_USE_MODELSCOPE={value} is not 'true': vLLM only reads true/false, so it still uses Hugging Face",)
        plan.add("modelscope", Setting(MODELSCOPE_ENDPOINT, "VLLM_USE_MODELSCOPE"), (MODELSCOPE_ENDPOINT + "/",),
                 notes=notes, proxy=env_route(MODELSCOPE_ENDPOINT, env), ca=requests_ca(env))

    for url in ctx.options.get("urls") or ():
        plan.add("url", Setting(str(url), "--url"), (str(url),), ranged_page=True,
                 proxy=env_route(str(url), env), ca=requests_ca(env))
    return plan, problems


def tls_context(ca: CaChoice) -> TlsContext:
    """An SSLContext that trusts what the tool would trust, or why it cannot be built."""
    try:
        if ca.cafile:
            context = ssl.create_default_context(cafile=ca.cafile)
        else:
            context = ssl.create_default_context() if ca.system else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            if ca.certifi:
                try:
                    import certifi  # requests depends on it

                    context.load_verify_locations(certifi.where())
                except ImportError:
                    context.load_default_certs()
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        return f"the CA bundle {ca.cafile} ({ca.source}) cannot be loaded: {reason}"
    context.set_alpn_protocols(["http/1.1"])
    return context


def proxy_facts(env, pip: PipSettings, redact) -> Tuple[Tuple[Tuple[str, str], ...], Tuple[str, ...],
                                                         List[ConfigProblem]]:
    """Every proxy variable (redacted), pairs set to different values in the two cases,
    and proxy URLs that cannot be used."""
    names = sorted(n for n in env if (n.lower().endswith("_proxy") or n.lower() == "no_proxy") and env[n])
    shown = tuple((n, redact(env[n])) for n in names)
    conflicts = tuple(f"{n}/{n.upper()}" for n in names
                      if n == n.lower() and n.upper() in env and env[n] != env[n.upper()])
    problems = []
    candidates = [(n, env[n]) for n in names if n.lower() != "no_proxy"]
    if pip.get("proxy") is not None and pip.get("proxy").value.strip():
        candidates.append((pip.get("proxy").source, pip.get("proxy").value))
    for where, value in candidates:
        _url, problem = parse_proxy(value)
        if problem:
            problems.append(ConfigProblem(ConfigKind.PROXY_URL, where, f"{redact(value)}: {problem}"))
    return shown, conflicts, problems


def dns_facts(ctx: Context, wsl: bool) -> dict:
    text = ctx.fs.read_text("/etc/resolv.conf", limit=64 * 1024) or ""
    out: dict = {"nameservers": tuple(re.findall(r"^\s*nameserver\s+(\S+)", text, re.M))}
    if not wsl:
        return out
    generate = True  # WSL's default
    section = None
    for line in (ctx.fs.read_text("/etc/wsl.conf", limit=64 * 1024) or "").splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("["):
            section = line.strip("[]").strip().lower()
        elif section == "network" and re.match(r"generateResolvConf\s*=", line, re.I):
            generate = line.split("=", 1)[1].strip().lower() not in ("false", "0", "no")
    out["wsl_generate_resolv_conf"] = generate
    for path in ctx.fs.glob("/mnt/c/Users/*/.wslconfig"):
        out["wslconfig_path"] = path
        for line in (ctx.fs.read_text(path, limit=64 * 1024) or "").splitlines():
            m = re.match(r"^\s*(networkingMode|dnsTunneling)\s*=\s*(\S+)", line, re.I)
            if m and m.group(1).lower() == "networkingmode":
                out["wsl_networking_mode"] = m.group(2).lower()
            elif m:
                out["wsl_dns_tunneling"] = m.group(2).lower() == "true"
        break
    return out


def run(ctx: Context, deps: Facts, budget: float) -> NetworkFacts:
    start = ctx.clock()
    deadline = start + budget
    redact = Redactor(ctx.env).text
    env_facts: Optional[PythonEnvFacts] = deps.get("python")
    platform = deps.get("platform")

    pip = read_pip_settings(ctx, env_facts.prefix if env_facts else None)
    pythons = ([env_facts.executable] if env_facts else []) + [ctx.host.executable]
    pip_version, pip_default = read_pip_itself(ctx, pythons, timeout=min(3.0, budget / 2))
    if env_facts is not None and env_facts.pip_version:
        pip_version = env_facts.pip_version
    plan, problems = build_plan(ctx, deps, pip, pip_version, pip_default, redact)
    problems = list(pip.problems) + problems
    proxy_env, conflicts, proxy_problems = proxy_facts(ctx.env, pip, redact)
    problems += proxy_problems

    contexts: Dict[CaChoice, TlsContext] = {}
    for item in plan.items:
        if isinstance(item, TargetSpec) and item.ca not in contexts:
            contexts[item.ca] = tls_context(item.ca)
            if isinstance(contexts[item.ca], str) and any(urlsplit(p).scheme == "https" for p in item.pages):
                problems.append(ConfigProblem(ConfigKind.CA_BUNDLE, item.ca.source, contexts[item.ca]))  # type: ignore[arg-type]

    results: List[Optional[NetTarget]] = [i if isinstance(i, NetTarget) else None for i in plan.items]
    full = bool(ctx.options.get("speed"))
    traced = sum(isinstance(i, TargetSpec) for i in plan.items)
    allowance = None if full else max(1024, LIGHT_BYTES // max(1, traced) - LIGHT_HEAD_RESERVE)
    threads = []
    for index, item in enumerate(plan.items):
        if isinstance(item, TargetSpec):
            tracer = Tracer(item, ctx.net, contexts[item.ca], ctx.clock, deadline, redact, ctx.host.machine,
                            allowance)
            thread = threading.Thread(target=_run, args=(tracer, results, index), daemon=True,
                                      name=f"envdoctor-net-{item.kind}")
            thread.start()
            threads.append((index, thread))
    for index, thread in threads:
        thread.join(max(0.0, deadline + JOIN_GRACE - ctx.clock()))
        if results[index] is None:  # every step is bounded, so this is a bug of ours
            item = plan.items[index]
            results[index] = NetTarget(item.kind, redact(item.url), redact(item.source), steps=(
                NetStep("budget", False, detail="still running when the budget ran out", problem="budget"),))
    targets = tuple(r for r in results if r is not None)
    return NetworkFacts(
        targets=targets, full_sample=full, bytes_read=sum(t.bytes_read for t in targets),
        budget_seconds=round(budget, 3),
        seconds=round(ctx.clock() - start, 3),
        proxy_env=proxy_env,
        proxy_conflicts=conflicts,
        pip_proxy=redact(pip.get("proxy").value) if pip.get("proxy") else None,
        pip_proxy_source=pip.get("proxy").source if pip.get("proxy") else None,
        pip_version=pip_version,
        pip_default_index=pip_default,
        pip_timeout=pip.get("timeout").value if pip.get("timeout") else None,
        pip_retries=pip.get("retries").value if pip.get("retries") else None,
        pip_config_files=pip.files,
        problems=tuple(ConfigProblem(p.kind, redact(p.where), redact(p.message)) for p in problems),
        **dns_facts(ctx, bool(platform and platform.wsl)),
    )


def _run(tracer: Tracer, results: List[Optional[NetTarget]], index: int) -> None:
    try:
        results[index] = tracer.run()
    except Exception as exc:  # noqa: BLE001 - one target's bug must not hide the others
        spec = tracer.spec
        results[index] = NetTarget(spec.kind, tracer.redact(spec.url), tracer.redact(spec.source), steps=tuple(
            tracer.steps) + (NetStep("internal", False, detail=tracer.redact(f"{type(exc).__name__}: {exc}"),
                                     problem="crashed"),))
