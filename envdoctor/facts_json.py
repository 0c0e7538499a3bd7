"""A saved `envdoctor check --json` document back into Facts, so `fix --plan --from-json FILE`
plans for a machine from its report (a colleague's laptop, a CI runner) without probing it.

The document's `facts` are the dataclasses of facts.py written field by field (render/json_doc.py);
this reads them back by the same type hints. Fields this version does not know are ignored (a newer
envdoctor wrote them); a wrong type stops loading with the field's path, never a traceback.
"""
from __future__ import annotations

import dataclasses
import json
import typing
from typing import Any, Dict, Mapping

from . import facts as facts_mod
from .model import Facts, ProbeResult

AREAS = {
    "platform": facts_mod.PlatformFacts,
    "wsl": facts_mod.WslFacts,
    "driver": facts_mod.DriverFacts,
    "cuda": facts_mod.CudaToolkitFacts,
    "python": facts_mod.PythonEnvFacts,
    "torch": facts_mod.TorchRuntimeFacts,
    "resources": facts_mod.ResourceFacts,
    "model": facts_mod.ModelFacts,
    "network": facts_mod.NetworkFacts,
}


class FactsFileError(ValueError):
    """The file is not a `check --json` document this version can read; one line saying why."""


def load(path: str) -> Facts:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except OSError as exc:
        raise FactsFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise FactsFileError(f"{path}: not JSON ({exc})") from None
    try:
        return from_document(doc)
    except FactsFileError as exc:
        raise FactsFileError(f"{path}: {exc}") from None


def from_document(doc: Any) -> Facts:
    if not isinstance(doc, dict) or "facts" not in doc or "probes" not in doc:
        raise FactsFileError("not an `envdoctor check --json` document (no 'facts' and 'probes')")
    if doc.get("schema_version") != 1:
        raise FactsFileError(f"schema_version {doc.get('schema_version')!r}; this envdoctor reads 1")
    statuses = {p.get("area"): p for p in doc["probes"] if isinstance(p, dict)}
    results: Dict[str, ProbeResult] = {}
    for area, entry in statuses.items():
        if area not in AREAS:
            continue
        status = str(entry.get("status", "error"))
        raw = doc["facts"].get(area)
        value = _read(AREAS[area], raw, area) if status == "ok" and raw is not None else None
        results[area] = ProbeResult(area, status if value is not None or status != "ok" else "error",
                                    float(entry.get("seconds") or 0.0), value, entry.get("error"))
    return Facts(results)


def _hints(cls: type) -> Dict[str, Any]:
    local = {}
    if cls is facts_mod.ModelFacts:  # facts.py names ModelShape only under TYPE_CHECKING; fit.py is slow to import
        from .fit import ModelShape

        local["ModelShape"] = ModelShape
    return typing.get_type_hints(cls, vars(facts_mod), local)


def _read(tp: Any, value: Any, where: str) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Union:  # Optional[X]
        if value is None:
            return None
        return _read(next(a for a in args if a is not type(None)), value, where)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise FactsFileError(f"{where}: expected an object, got {type(value).__name__}")
        hints = _hints(tp)
        kwargs = {}
        for f in dataclasses.fields(tp):
            if f.name in value:
                kwargs[f.name] = _read(hints[f.name], value[f.name], f"{where}.{f.name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise FactsFileError(f"{where}: missing {f.name!r}")
        return tp(**kwargs)
    if origin is tuple:
        if not isinstance(value, list):
            raise FactsFileError(f"{where}: expected a list, got {type(value).__name__}")
        return tuple(_read(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, Mapping):
            raise FactsFileError(f"{where}: expected an object, got {type(value).__name__}")
        return {str(k): _read(args[1], v, f"{where}.{k}") for k, v in value.items()}
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (str, int, float, bool):
        if type(value) is not tp:
            raise FactsFileError(f"{where}: expected {tp.__name__}, got {type(value).__name__}")
        return value
    raise FactsFileError(f"{where}: cannot read a {tp!r}")
