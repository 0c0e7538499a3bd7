"""run-smoke output: live phase lines while it runs (stderr), then the result."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional

from envdoctor.messages import say
from envdoctor.redact import Redactor
from envdoctor.render.human import finding_body
from envdoctor.render.json_doc import envelope, plain

if TYPE_CHECKING:
    import threading

PHASE_LABELS = {"start": "interpreter started", "imported": "import vllm", "engine_ready": "engine init",
                "first_token": "first token", "generated": "generation"}


PHASE_ORDER = ("start", "imported", "engine_ready", "first_token", "generated")


class PhaseTicker:
    """On a terminal: one status line naming the phase under way and its seconds so far,
    redrawn twice a second (engine init alone can take minutes of silence)."""

    def __init__(self, line, clock=None) -> None:
        import threading
        import time

        self.line, self.clock = line, clock or time.monotonic
        self.lock = threading.Lock()
        self.phase, self.since = "start", self.clock()
        self.stopped = threading.Event()
        self.thread: Optional[threading.Thread] = None

    def text(self) -> str:
        return f"run-smoke: {PHASE_LABELS[self.phase]}… {self.clock() - self.since:.0f} s"

    def begin(self) -> None:
        import threading

        self.since = self.clock()
        self.thread = threading.Thread(target=self._run, daemon=True, name="envdoctor-smoke-ticker")
        self.thread.start()

    def done(self, phase: str) -> None:
        """`phase` finished: the next one is under way."""
        if phase in PHASE_ORDER and phase != PHASE_ORDER[-1]:
            self.phase, self.since = PHASE_ORDER[PHASE_ORDER.index(phase) + 1], self.clock()

    def _run(self) -> None:
        while not self.stopped.wait(0.5):
            with self.lock:
                self.line.show(self.text())

    def stop(self) -> None:
        self.stopped.set()
        with self.lock:
            self.line.clear()


def live_printer(console, redactor: Redactor, ticker: Optional[PhaseTicker] = None):
    """on_event callback: one line per phase as the child reports it (and the ticker's
    status line under them, on a terminal)."""
    def on_event(kind: str, data: Dict[str, Any]) -> None:
        if ticker is None:
            return _print(kind, data)
        with ticker.lock:
            ticker.line.clear()
            _print(kind, data)
            if kind == "settings":
                ticker.begin()
            elif kind == "phase" and isinstance(data.get("phase"), str):
                ticker.done(data["phase"])

    def _print(kind: str, data: Dict[str, Any]) -> None:
        if kind == "settings":
            weights = f"dummy weights, config from {data['model'].source}" if data["dummy"] else data["model"].source
            console.print(f"run-smoke: {redactor.text(data['model_name'])} ({redactor.text(weights)}) on "
                          f"{data['gpu']} with {redactor.text(data['python'])}", markup=False, highlight=False)
            for s in data["settings"]:
                console.print(f"  {s.name} = {s.value}  ({s.reason})", markup=False, highlight=False, style="dim")
            console.print(f"  log: {data['log']}", markup=False, highlight=False, style="dim")
        elif kind == "phase" and data.get("phase") in PHASE_LABELS:
            took = f" in {data['seconds']:.2f} s" if "seconds" in data else ""
            console.print(f"  [{data['at']:7.2f} s] {PHASE_LABELS[data['phase']]}{took}", markup=False,
                          highlight=False)
    return on_event


def document(result, code: int, redactor: Redactor) -> Dict[str, Any]:
    doc = envelope({"command": "run-smoke", "exit_code": code})
    doc.update(plain(result))
    return redactor.data(doc)


def render(result, code: int, redactor: Redactor, console) -> None:
    def line(text: str = "", style: str = "") -> None:
        console.print(redactor.text(text), markup=False, highlight=False, style=style or None)

    line()
    if result.status != "not-run":
        for name, seconds in result.phases.items():
            line(f"  {name:20} {seconds:8.2f} s")
        kv = result.vllm_log
        if "kv_cache_gib" in kv or "kv_cache_tokens" in kv:
            line(f"  KV cache (vLLM's log): {kv.get('kv_cache_gib', '?')} GiB, "
                 f"{kv.get('kv_cache_tokens', '?'):,} tokens" if isinstance(kv.get("kv_cache_tokens"), int)
                 else f"  KV cache (vLLM's log): {kv.get('kv_cache_gib', '?')} GiB")
    if result.ok:
        line(f"  {len(result.token_ids)} tokens at {result.tokens_per_s} tok/s: "
             + (repr(result.text[:200]) if result.text else str(list(result.token_ids[:16]))
                + (" ..." if len(result.token_ids) > 16 else "")))
        line()
        line(f"OK: vLLM {result.versions.get('vllm')} generated on {result.gpu} "
             f"({'dummy weights' if result.dummy else result.model}) · exit code {code}", "bold green")
        return
    for f in result.findings:
        line(f"{f.severity.upper():5} {say(f.title)}  [{f.code}]",
             "bold red" if f.severity == "error" else "bold yellow")
        for text, style in finding_body(f):
            line(text, style)
    line()
    verdict = {"not-run": "NOT RUN", "stall": "STALLED", "timeout": "TIMED OUT"}.get(result.status, "FAILED")
    line(f"{verdict}: no generation · exit code {code}", "bold red")
