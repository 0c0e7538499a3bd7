"""run-smoke as a function: check quickly, size the settings, run the generation in a child
of the target interpreter under the watchdog, and say what happened.

Nothing runs when the outcome is already known (no vLLM, no GPU, a model that cannot fit):
the result then carries the finding instead. The child's whole output is kept in a log
file (secrets masked), so a failure can be read again or passed to `envdoctor explain`.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Dict, List, Optional, Tuple

from envdoctor.check.run import run_check
from envdoctor.core.codes import Command, register, reuse
from envdoctor.core.results import Finding
from envdoctor.machine.context import Context
from envdoctor.machine.stream import Line, run_streaming
from envdoctor.messages import Msg
from envdoctor.redact import Redactor
from envdoctor.rules import driver, llm_model, platform, probes
from envdoctor.smoke.parse import ChildOutput, parse_lines, phases
from envdoctor.smoke.settings import Setting

DEFAULT_MODEL = "Qwen/Qwen2-1.5B-Instruct"  # the first user's model
CHECK_AREAS = ("platform", "driver", "python", "model")
VLLM_NOT_INSTALLED = register("vllm-not-installed", "python", Command.SMOKE,
                              "run-smoke's target environment has no vLLM: nothing was launched")
PROBE_FAILED = reuse(probes.probe_failed.code, Command.SMOKE)  # the target Python could not be read
MODEL_NOT_FOUND = reuse(llm_model.not_found.code, Command.SMOKE)
# Findings of the quick check that mean a generation cannot succeed: do not start one. --force
# starts one anyway when only the model is in doubt.
FORCEABLE = (MODEL_NOT_FOUND, reuse(llm_model.does_not_fit.code, Command.SMOKE))
BLOCKING = tuple(reuse(rule.code, Command.SMOKE) for rule in (
    driver.no_gpu, driver.unreadable, platform.native_windows, platform.wsl1)) + FORCEABLE


@dataclass(frozen=True)
class SmokeOptions:
    model: str = DEFAULT_MODEL
    dummy: bool = False
    prompt: str = "The capital of France is"
    max_tokens: int = 32
    timeout: float = 900.0
    stall: float = 180.0
    overrides: Dict[str, object] = field(default_factory=dict)
    attention_backend: Optional[str] = None
    force: bool = False  # run even when the quick check says it cannot work
    log_dir: Optional[str] = None


@dataclass(frozen=True)
class SmokeResult:
    ok: bool
    status: str  # ok | failed | timeout | stall | not-run
    python: Optional[str]
    model: str
    model_source: Optional[str] = None
    dummy: bool = False
    gpu: Optional[str] = None
    settings: Tuple[Setting, ...] = ()
    phases: Dict[str, float] = field(default_factory=dict)
    token_ids: Tuple[int, ...] = ()
    text: Optional[str] = None
    tokens_per_s: Optional[float] = None
    versions: Dict[str, Optional[str]] = field(default_factory=dict)
    vllm_log: Dict[str, object] = field(default_factory=dict)
    stalled_in: Optional[str] = None
    findings: Tuple[Finding, ...] = ()
    log_path: Optional[str] = None
    log_tail: Tuple[str, ...] = ()
    seconds: float = 0.0
    spec: Dict[str, object] = field(default_factory=dict)  # exactly what the child ran: LLM(**llm_kwargs), ...


def _not_run(python: Optional[str], opts: SmokeOptions, findings, start: float, **extra) -> SmokeResult:
    return SmokeResult(False, "not-run", python, opts.model, dummy=opts.dummy, findings=tuple(findings),
                       seconds=round(time.monotonic() - start, 3), **extra)


def vllm_not_installed(python: str) -> Finding:
    return Finding(VLLM_NOT_INSTALLED, "error", "python", Msg("vllm-not-installed.title", python=python),
                   evidence=(Msg("vllm-not-installed.evidence", python=python),),
                   why=Msg("vllm-not-installed.why"), fix=("envdoctor fix --plan",),
                   notes=(Msg("vllm-not-installed.note"),))


def llm_kwargs(model_path: str, settings, dummy: bool, tokenizer: bool, vllm_version: Optional[str],
               attention_backend: Optional[str]) -> Tuple[dict, dict]:
    """LLM(...) keyword arguments and extra environment for the child."""
    kwargs = {"model": model_path, "seed": 0}
    kwargs.update({s.name: s.value for s in settings})
    if dummy:
        kwargs["load_format"] = "dummy"
        if not tokenizer:
            kwargs["skip_tokenizer_init"] = True
    env = {"PYTHONUNBUFFERED": "1", "VLLM_NO_USAGE_STATS": "1"}
    if attention_backend:
        from packaging.version import Version
        # VLLM_ATTENTION_BACKEND until 0.14.x; the attention_config argument from 0.16.0
        # (shared/compat/facts.md (f)).
        if vllm_version and Version(vllm_version) >= Version("0.16.0"):
            kwargs["attention_config"] = {"backend": attention_backend}
        else:
            env["VLLM_ATTENTION_BACKEND"] = attention_backend
    return kwargs, env


def _gpu_memory_mark(ctx: Context) -> Callable[[], Optional[float]]:
    def mark() -> Optional[float]:
        try:
            snap = ctx.nvml.read(1.0)
            return float(sum(g["memory"]["used"] for g in snap.get("gpus", [])) // (64 * 1024 * 1024))
        except Exception:  # noqa: BLE001 - no NVML: output lines alone count as progress
            return None
    return mark


def _child_source() -> str:
    with open(os.path.join(os.path.dirname(__file__), "child.py"), encoding="utf-8") as fh:
        return fh.read()


def _cache_dir(ctx: Context) -> str:
    return os.path.join(ctx.env.get("XDG_CACHE_HOME") or os.path.join(ctx.env.get("HOME") or "/tmp", ".cache"),
                        "envdoctor")


MAX_LOG_LINES = 20000


def _log_path(ctx: Context, opts: SmokeOptions) -> str:
    """A new log file of its own: runs started in the same second must not share one."""
    import tempfile

    base = opts.log_dir or os.path.join(_cache_dir(ctx), "smoke")
    os.makedirs(base, exist_ok=True)
    fd, path = tempfile.mkstemp(prefix=time.strftime("smoke-%Y%m%d-%H%M%S-"), suffix=".log", dir=base)
    os.close(fd)
    return path


def _save_log(path: str, lines: List[Line], redactor: Redactor) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for at, text in lines:
            fh.write(f"[{at:9.3f}] {redactor.text(text)}\n")


def run_smoke(ctx: Context, opts: SmokeOptions, on_event: Optional[Callable[[str, dict], None]] = None) -> SmokeResult:
    start = time.monotonic()
    redactor = Redactor(ctx.env)
    quick = replace(ctx, options=dict(ctx.options, quick=True, model=opts.model))
    report = run_check(quick, only=CHECK_AREAS)
    env, driver = report.facts.python, report.facts.driver
    python = env.executable if env is not None else None
    blocking = [f for f in report.findings if f.code in BLOCKING and not (opts.force and f.code in FORCEABLE)]
    if env is None:
        failed = report.facts.results.get("python")
        finding = Finding(PROBE_FAILED, "error", "python", "The target Python could not be read",
                          evidence=((failed.error or "?"),) if failed else ())
        return _not_run(python, opts, [finding] + blocking, start)
    vllm = env.dist("vllm")
    if vllm is None:
        return _not_run(python, opts, [vllm_not_installed(env.executable)], start)
    if blocking or driver is None or not driver.gpus:
        return _not_run(python, opts, blocking or [f for f in report.findings if f.area == "driver"], start)

    from envdoctor.compat.tables import Matrices
    from envdoctor.fit.model_config import ModelConfigError, ModelNotFound, find_model
    from envdoctor.smoke.model_dir import ModelPrepError, prepare
    from envdoctor.smoke.settings import choose

    matrices = Matrices()
    try:
        shape = find_model(ctx.fs, ctx.env, matrices, opts.model)
    except (ModelNotFound, ModelConfigError) as exc:
        return _not_run(python, opts, [Finding(MODEL_NOT_FOUND, "error", "model", str(exc))], start)
    platform = report.facts.platform
    settings, _plan = choose(shape, driver, matrices, wsl=bool(platform and platform.wsl),
                             vllm_version=vllm.version, overrides=opts.overrides)
    log_path = _log_path(ctx, opts)
    try:
        prepared = prepare(ctx.env, opts.model, shape, opts.dummy, os.path.join(_cache_dir(ctx), "models"))
    except (ModelPrepError, OSError) as exc:
        return _not_run(python, opts, [Finding(MODEL_NOT_FOUND, "error", "model", str(exc))], start)
    kwargs, child_env = llm_kwargs(prepared.path, settings, opts.dummy, prepared.tokenizer, vllm.version,
                                   opts.attention_backend)
    spec = {"llm_kwargs": kwargs, "max_tokens": opts.max_tokens, "env": child_env,
            "prompt": opts.prompt, "prompt_token_ids": prepared.prompt_token_ids}
    if on_event:
        on_event("settings", {"settings": settings, "model": prepared, "model_name": opts.model,
                              "dummy": opts.dummy, "python": env.executable,
                              "gpu": driver.gpus[0].name, "log": log_path})

    seen: List[Line] = []  # what the log gets if the run is interrupted

    def on_line(line: Line) -> None:
        if len(seen) < MAX_LOG_LINES:
            seen.append(line)
        if on_event and line[1].startswith("@@envdoctor "):
            try:
                data = json.loads(line[1][len("@@envdoctor "):])
                on_event("phase", dict(data, at=line[0]))
            except ValueError:
                pass

    try:
        stream = run_streaming([env.executable, "-c", _child_source()], timeout=opts.timeout, stall=opts.stall,
                               stdin_text=json.dumps(spec), env=dict(ctx.env, **child_env), on_line=on_line,
                               progress=_gpu_memory_mark(ctx), max_lines=MAX_LOG_LINES)
    except KeyboardInterrupt:  # Ctrl-C: the log announced on screen still holds what was seen
        _save_log(log_path, seen + [(round(time.monotonic() - start, 3), "envdoctor: interrupted")], redactor)
        raise
    _save_log(log_path, list(stream.lines), redactor)
    out = parse_lines(stream.lines)
    return _result(opts, env.executable, driver.gpus[0].name, prepared, settings, stream, out,
                   log_path, report.findings, start, spec)


def _result(opts, python, gpu, prepared, settings, stream, out: ChildOutput, log_path, check_findings, start,
            spec):
    generated = out.markers.get("generated")
    ok = stream.status == "ok" and generated is not None and len(generated.get("token_ids") or ()) > 0
    status = "ok" if ok else stream.status if stream.status in ("timeout", "stall") else "failed"
    tokens = tuple(generated.get("token_ids") or ()) if generated else ()
    tps = round(len(tokens) / generated["seconds"], 1) if generated and generated.get("seconds") else None
    imported = out.markers.get("imported", {})
    findings: Tuple[Finding, ...] = ()
    if not ok:
        from envdoctor.smoke.classify import classify

        findings = classify(status, out, stream, opts, log_path, check_findings)
    tail = tuple(t for t in out.log if t.strip())[-15:] if not ok else ()
    return SmokeResult(
        ok=ok, status=status, python=python, model=opts.model, model_source=prepared.source, dummy=opts.dummy,
        gpu=gpu, settings=settings, phases=phases(out), token_ids=tokens,
        text=generated.get("text") if generated else None, tokens_per_s=tps,
        versions={"vllm": imported.get("vllm"), "torch": imported.get("torch"),
                  "python": out.markers.get("start", {}).get("python")},
        vllm_log=dict(out.vllm), stalled_in=out.phase_running() if status in ("stall", "timeout") else None,
        findings=findings, log_path=log_path, log_tail=tail, seconds=round(time.monotonic() - start, 3),
        spec=spec)
