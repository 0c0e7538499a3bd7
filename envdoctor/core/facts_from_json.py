"""A saved `envdoctor check --json` document back into Facts, so `fix --plan --from-json FILE`
plans for a machine from its report (a colleague's laptop, a CI runner) without probing it.

The document's `facts` are each area's facts dataclass (core/areas.py names it) written field by field
(render/json_doc.py); this reads them back by the same type hints. Fields this version does not know are ignored (a newer
envdoctor wrote them); a wrong type stops loading with the field's path, never a traceback.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import re
import sys
import typing
from typing import Any, Dict, Mapping

from envdoctor.core import facts as facts_mod
from envdoctor.core.areas import area as area_entry
from envdoctor.core.errors import InputError
from envdoctor.core.results import Facts, ProbeResult, ProbeStatus


class FactsFileError(InputError, ValueError):
    """The file is not a `check --json` document this version can read; one line saying why."""


# A report is kilobytes; 256 MiB is far beyond any real one and keeps /dev/zero out of memory.
MAX_BYTES = 256 << 20
# Version fields the resolver compares: a value of another shape is no report of a machine.
FORMATS = {
    (facts_mod.Gpu, "compute_capability"): (r"\d+\.\d+", "a compute capability like 8.6"),
    (facts_mod.DriverFacts, "driver_version"): (r"\d+(\.\d+){1,3}", "a driver version like 550.54.15"),
    (facts_mod.DriverFacts, "cuda_max"): (r"\d+\.\d+", "a CUDA version like 12.4"),
    (facts_mod.PythonEnvFacts, "version"): (r"\d+\.\d+(\.\d+)?\S*", "a Python version like 3.11.7"),
    (facts_mod.TorchBuild, "cuda"): (r"\d+\.\d+", "a CUDA version like 12.1"),
    (facts_mod.CudaToolkitFacts, "nvcc_version"): (r"\d+\.\d+", "a CUDA version like 12.6"),
}


STATUSES = {s.value for s in ProbeStatus}


def load(path: str) -> Facts:
    from envdoctor.machine.files import open_input

    try:
        fh, _ = open_input(path)  # a FIFO must not block, /dev/zero must not fill memory
        with fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise FactsFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_BYTES:
        raise FactsFileError(f"{path}: larger than {MAX_BYTES >> 20} MiB: not an `envdoctor check --json` document")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise FactsFileError(f"{path}: not JSON ({str(exc)[:200]})") from None
    except RecursionError:
        raise FactsFileError(f"{path}: nested too deeply to be a report") from None
    try:
        return from_document(doc)
    except FactsFileError as exc:
        raise FactsFileError(f"{path}: {exc}") from None


def from_document(doc: Any) -> Facts:
    if not isinstance(doc, dict) or "facts" not in doc or "probes" not in doc:
        raise FactsFileError("not an `envdoctor check --json` document (no 'facts' and 'probes')")
    if doc.get("schema_version") != 1:
        raise FactsFileError(f"schema_version {doc.get('schema_version')!r}; this envdoctor reads 1")
    if not isinstance(doc["facts"], dict):
        raise FactsFileError(f"'facts' is {type(doc['facts']).__name__}, not an object")
    if not isinstance(doc["probes"], list) or not doc["probes"]:
        raise FactsFileError("'probes' is not a list of the probes that ran")
    results: Dict[str, ProbeResult] = {}
    for i, entry in enumerate(doc["probes"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("area"), str):
            raise FactsFileError(f"probes[{i}]: expected an object with an 'area'")
        area = entry["area"]
        known = area_entry(area)
        if known is None:
            continue
        status, seconds, error = entry.get("status", "error"), entry.get("seconds") or 0.0, entry.get("error")
        reason = entry.get("reason")
        if not isinstance(status, str) or status not in STATUSES or not isinstance(seconds, (int, float)) \
                or isinstance(seconds, bool) or not (error is None or isinstance(error, str)) \
                or not (reason is None or isinstance(reason, str)):
            raise FactsFileError(f"probes[{i}] ({area}): status, seconds, error or reason of the wrong type")
        raw = doc["facts"].get(area)
        gpus = raw.get("gpus") if area == "driver" and status == "ok" and isinstance(raw, dict) else None
        if isinstance(gpus, list) and len(gpus) > facts_mod.MAX_GPUS:  # before reading each one
            raise FactsFileError(f"{len(gpus)} GPUs: more than one machine has")
        value = _read(known.facts_type, raw, area) if status == "ok" and raw is not None else None
        results[area] = ProbeResult(area, status if value is not None or status != "ok" else "error",
                                    float(seconds), value, error, reason=reason)
    if not results:
        raise FactsFileError("no probe of this envdoctor's areas in 'probes'")
    return Facts(results)


@functools.lru_cache(maxsize=None)  # once per class, not once per GPU or package
def _hints(cls: type) -> Dict[str, Any]:
    local = {}
    if cls is facts_mod.ModelFacts:  # facts.py names ModelShape only under TYPE_CHECKING; fit.py is slow to import
        from envdoctor.fit.calc import ModelShape

        local["ModelShape"] = ModelShape
    return typing.get_type_hints(cls, vars(sys.modules[cls.__module__]), local)


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
                shape = FORMATS.get((tp, f.name))
                if shape and kwargs[f.name] is not None and not re.fullmatch(shape[0], kwargs[f.name]):
                    raise FactsFileError(f"{where}.{f.name}: {kwargs[f.name][:40]!r} is not {shape[1]}")
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
