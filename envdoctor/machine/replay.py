"""Fixture machines: record what the probes read on a real machine, replay it anywhere.

A fixture directory holds:
  machine.json   {"host": {...}, "env": {...}, "disk": {mount: {"total", "free"}}, "options": {"python": ...}}
  commands.json  [{"argv": [...], "status": "ok", "returncode": 0, "stdout": "", "stderr": ""}]
  nvml.json      {"snapshot": {...}} | {"error": "...", "reason": "absent"|"not-loaded"|...} | {"timeout": true}
  root/          the files probes read, at their machine paths (/proc/version -> root/proc/version)

`envdoctor check --record DIR` writes one; `--replay DIR` (and the tests) read one. The
replay runner is strict: a command the fixture does not list is recorded in
`unexpected` and answered as absent, so a test sees it.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence

from envdoctor.machine.context import Context, Host
from envdoctor.machine.fs import READ_LIMIT, DiskUsage, RootedFS
from envdoctor.core.reasons import DriverReason
from envdoctor.machine.nvml import NvmlUnavailable, reason_of
from envdoctor.machine.runner import CommandResult, SubprocessRunner

CHILD_SCRIPTS = ("env_child.py", "torch_child.py")
KEEP = ".envdoctor-keep"


def _child_sources() -> Dict[str, str]:
    here = os.path.join(os.path.dirname(os.path.dirname(__file__)), "probes")
    out = {}
    for name in CHILD_SCRIPTS:
        with open(os.path.join(here, name), encoding="utf-8") as fh:
            out[fh.read()] = f"<{name}>"
    return out


def normalize_argv(argv: Sequence[str], sources: Optional[Dict[str, str]] = None) -> List[str]:
    """argv with our child-probe scripts replaced by their names, so fixtures stay readable
    and survive edits of those scripts."""
    sources = _child_sources() if sources is None else sources
    return [sources.get(a, a) for a in argv]


class ReplayRunner:
    def __init__(self, commands: List[Dict[str, Any]]) -> None:
        self._commands = commands
        self._sources = _child_sources()
        self.unexpected: List[List[str]] = []
        self.calls: List[List[str]] = []

    def run(self, argv, timeout, env=None, stdin_text=None) -> CommandResult:
        key = normalize_argv(argv, self._sources)
        self.calls.append(key)
        for entry in self._commands:
            if entry["argv"] == key:
                stdout = json.dumps(entry["stdout_json"]) if "stdout_json" in entry else entry.get("stdout", "")
                return CommandResult(tuple(key), entry.get("status", "ok"), entry.get("returncode", 0),
                                     stdout, entry.get("stderr", ""), entry.get("error"))
        self.unexpected.append(key)
        return CommandResult(tuple(key), "absent", error="not in this fixture")


class ReplayNvml:
    def __init__(self, data: Dict[str, Any]) -> None:
        self._data = data

    def read(self, timeout: float) -> Dict[str, Any]:
        if self._data.get("timeout"):
            raise TimeoutError(f"NVML gave no answer in {timeout:.1f} s")
        if "snapshot" in self._data:
            return self._data["snapshot"]
        if "error" not in self._data:  # a fixture without nvml.json: a machine without NVML
            raise NvmlUnavailable("no NVML in this fixture", DriverReason.ABSENT)
        raise NvmlUnavailable(self._data["error"], reason_of(self._data))


def _load_json(path: str, default: Any) -> Any:
    if not os.path.exists(path):
        return default
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def replay_context(directory: str, options: Optional[Mapping[str, object]] = None) -> Context:
    machine = _load_json(os.path.join(directory, "machine.json"), {})
    host = machine.get("host", {})
    return Context(
        runner=ReplayRunner(_load_json(os.path.join(directory, "commands.json"), [])),
        fs=RootedFS(os.path.join(directory, "root"), disk=machine.get("disk", {})),
        env=dict(machine.get("env", {})),
        nvml=ReplayNvml(_load_json(os.path.join(directory, "nvml.json"), {})),
        host=Host(host.get("system", "Linux"), host.get("machine", "x86_64"),
                  host.get("executable", "/usr/bin/python3")),
        clock=lambda: 0.0,  # recorded machines take no time: golden JSON stays stable
        options={**machine.get("options", {}), **dict(options or {})},
    )


# --- recording -------------------------------------------------------------------------

class RecordingRunner:
    def __init__(self, inner: SubprocessRunner) -> None:
        self.inner = inner
        self.commands: List[Dict[str, Any]] = []
        self._sources = _child_sources()

    def run(self, argv, timeout, env=None, stdin_text=None) -> CommandResult:
        result = self.inner.run(argv, timeout, env=env, stdin_text=stdin_text)
        entry = {"argv": normalize_argv(argv, self._sources), "status": result.status,
                 "returncode": result.returncode, "stdout": result.stdout, "stderr": result.stderr}
        if result.error:
            entry["error"] = result.error
        self.commands.append(entry)
        return result


class RecordingFS(RootedFS):
    """The real "/", noting every path probes looked at so the fixture can hold it."""

    def __init__(self) -> None:
        super().__init__("/")
        self.texts: Dict[str, str] = {}
        self.touched: Dict[str, str] = {}  # path -> "file" | "dir" | "link:<target>"
        self.disks: Dict[str, DiskUsage] = {}

    def _note(self, path: str, depth: int = 0) -> str:
        """Note `path`, and every link on the way to it; returns where it really is."""
        if depth > 32:  # a link loop
            return path
        current = "/"
        for part in [p for p in path.split("/") if p]:
            current = os.path.join(current, part)
            if os.path.islink(current):
                link = os.readlink(current)
                self.touched[current] = "link:" + link
                current = self._note(os.path.normpath(os.path.join(os.path.dirname(current), link)), depth + 1)
        if current not in self.touched:
            if os.path.isdir(current):
                self.touched[current] = "dir"
            elif os.path.exists(current):
                self.touched[current] = "file"
        return current

    def read_text(self, path: str, limit: int = READ_LIMIT) -> Optional[str]:
        text = super().read_text(path, limit)
        if text is not None:
            self.texts[self._note(path)] = text
        return text

    def exists(self, path: str) -> bool:
        self._note(path)
        return super().exists(path)

    def is_dir(self, path: str) -> bool:
        self._note(path)
        return super().is_dir(path)

    def is_executable(self, path: str) -> bool:
        self._note(path)
        return super().is_executable(path)

    def glob(self, pattern: str) -> List[str]:
        found = super().glob(pattern)
        for path in found:
            self._note(path)
        return found

    def realpath(self, path: str) -> str:
        self._note(path)
        resolved = super().realpath(path)
        self._note(resolved)
        return resolved

    def disk_usage(self, path: str) -> Optional[DiskUsage]:
        usage = super().disk_usage(path)
        if usage is not None:
            self.disks[path] = usage
        return usage


class RecordingNvml:
    def __init__(self, inner) -> None:
        self.inner = inner
        self.data: Dict[str, Any] = {}

    def read(self, timeout: float) -> Dict[str, Any]:
        try:
            snapshot = self.inner.read(timeout)
        except TimeoutError:
            self.data = {"timeout": True}
            raise
        except NvmlUnavailable as exc:
            self.data = {"error": str(exc), "reason": exc.reason.value}
            raise
        self.data = {"snapshot": snapshot}
        return snapshot


class RecordingEnv(dict):
    """os.environ, noting which variables the probes asked for."""

    def __init__(self, values: Mapping[str, str]) -> None:
        super().__init__(values)
        self.asked: set = set()

    def get(self, key, default=None):
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.asked.add(key)
        return super().__getitem__(key)


def _redact_tree(value: Any, redact) -> Any:
    """Every string in saved data, dictionary keys (paths) included, goes through `redact`."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(k)): _redact_tree(v, redact) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_tree(v, redact) for v in value]
    return value


def _readable(entry: Dict[str, Any]) -> Dict[str, Any]:
    """Store a child probe's one-line JSON answer as JSON, not as an escaped string."""
    try:
        parsed = json.loads(entry["stdout"])
    except ValueError:
        return entry
    if isinstance(parsed, dict):
        entry = dict(entry, stdout_json=parsed)
        del entry["stdout"]
    return entry


def recording_context(live: Context) -> Context:
    return Context(runner=RecordingRunner(live.runner), fs=RecordingFS(), env=RecordingEnv(live.env),
                   nvml=RecordingNvml(live.nvml), host=live.host, clock=live.clock, options=live.options,
                   net=live.net)  # the live report checks the network; a replay has none


def save_recording(ctx: Context, directory: str, redact) -> None:
    """Write what `ctx` (from recording_context) saw as a fixture directory."""
    root = os.path.join(directory, "root")
    os.makedirs(root, exist_ok=True)
    fs: RecordingFS = ctx.fs  # type: ignore[assignment]
    for path, kind in sorted(fs.touched.items()):
        target = os.path.join(root, path.lstrip("/"))
        if kind == "dir":
            os.makedirs(target, exist_ok=True)
            with open(os.path.join(target, KEEP), "w"):
                pass  # git keeps no empty directory; probes may test that it exists
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.lexists(target):
            continue
        if kind.startswith("link:"):
            link = kind[5:]
            if os.path.isabs(link):  # keep it inside the fixture root
                link = os.path.relpath(os.path.join(root, link.lstrip("/")), os.path.dirname(target))
            os.symlink(link, target)
        else:
            with open(target, "w", encoding="utf-8") as fh:
                fh.write(redact(fs.texts.get(path, "")))
    env: RecordingEnv = ctx.env  # type: ignore[assignment]
    machine = {
        "host": {"system": ctx.host.system, "machine": ctx.host.machine, "executable": ctx.host.executable},
        "env": {k: dict.get(env, k) for k in sorted(env.asked) if dict.get(env, k) is not None},
        "disk": {p: {"total": u.total, "free": u.free} for p, u in sorted(fs.disks.items())},
        # what was asked for on the command line that changes what the probes read
        "options": {k: v for k, v in ctx.options.items() if k == "python"},
    }
    runner: RecordingRunner = ctx.runner  # type: ignore[assignment]
    commands = [_readable(c) for c in runner.commands]
    for name, data in (("machine.json", machine), ("commands.json", commands),
                       ("nvml.json", ctx.nvml.data)):  # type: ignore[attr-defined]
        with open(os.path.join(directory, name), "w", encoding="utf-8") as fh:
            json.dump(_redact_tree(data, redact), fh, indent=2, ensure_ascii=False)
            fh.write("\n")
