"""Every command's --json document against the published JSON Schema (docs/schema/envdoctor.schema.json,
described in docs/json.md): check and fix --plan on every fixture machine, fit, explain on the seed
log and on corpus logs, and run-smoke as recorded on real GPUs. The validator is a small one for the
keywords the schema uses (type, required, properties, additionalProperties, items, enum, pattern, $ref)."""
from __future__ import annotations

import json
import os
import re
from typing import Any, Dict, List

import pytest
from click.testing import CliRunner

from envdoctor.cli import cli

from .conftest import HERE, MACHINE_NAMES, machine_dir

ROOT = os.path.dirname(HERE)
with open(os.path.join(ROOT, "docs", "schema", "envdoctor.schema.json"), encoding="utf-8") as fh:
    SCHEMA = json.load(fh)
TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _is(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, TYPES[name])


def errors(value: Any, schema: Dict[str, Any], path: str = "$") -> List[str]:
    if "$ref" in schema:
        return errors(value, SCHEMA["$defs"][schema["$ref"].rsplit("/", 1)[1]], path)
    kinds = schema.get("type")
    if kinds is not None and not any(_is(value, k) for k in ([kinds] if isinstance(kinds, str) else kinds)):
        return [f"{path}: {type(value).__name__}, not {kinds}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{path}: {value!r} is not one of {schema['enum']}"]
    if "pattern" in schema and isinstance(value, str) and not re.search(schema["pattern"], value):
        return [f"{path}: {value!r} does not match {schema['pattern']}"]
    found: List[str] = []
    if isinstance(value, dict):
        found += [f"{path}: no {key!r}" for key in schema.get("required", ()) if key not in value]
        props = schema.get("properties", {})
        for key, item in value.items():
            if key in props:
                found += errors(item, props[key], f"{path}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                found += errors(item, schema["additionalProperties"], f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{path}: {key!r} is not allowed")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found += errors(item, schema["items"], f"{path}[{i}]")
    return found


def run_json(args: List[str]) -> Dict[str, Any]:
    result = CliRunner().invoke(cli, args, standalone_mode=False)
    if result.exception is not None:
        raise result.exception
    return json.loads(result.output)


def assert_valid(doc: Any, kind: str) -> None:
    found = errors(doc, {"$ref": f"#/$defs/{kind}"})
    assert not found, "\n".join(found[:10])


@pytest.mark.parametrize("name", MACHINE_NAMES)
def test_check_and_fix_plan_documents(name):
    assert_valid(run_json(["check", "--json", "--replay", machine_dir(name)]), "check")
    assert_valid(run_json(["fix", "--plan", "--format", "json", "--replay", machine_dir(name)]), "fix-plan")


def test_documents_with_localized_text_keep_the_schema():
    machine = machine_dir("wsl2-rtx3050-laptop")
    assert_valid(run_json(["check", "--json", "--lang", "zh", "--replay", machine]), "check")
    assert_valid(run_json(["fix", "--plan", "--format", "json", "--lang", "zh", "--replay", machine]), "fix-plan")


@pytest.mark.parametrize("args", [["Qwen/Qwen2-1.5B-Instruct", "--gpu", "RTX 4090"],
                                  ["Qwen/Qwen2-1.5B-Instruct", "--gpu", "RTX 3050 Laptop"]])
def test_fit_documents(args):
    assert_valid(run_json(["fit", "--json"] + args), "fit")


def _logs() -> List[str]:
    corpus = os.path.join(HERE, "data", "corpus", "logs")
    names = sorted(os.listdir(corpus))[::25]  # a spread of real logs over every source
    return [os.path.join(HERE, "data", "seed", "docker-build.log")] + [os.path.join(corpus, n) for n in names]


@pytest.mark.parametrize("path", _logs(), ids=os.path.basename)
def test_explain_documents(path):
    assert_valid(run_json(["explain", "--json", path]), "explain")


@pytest.mark.parametrize("name", ["h100-qwen2-1.5b-dummy.json", "h200-run-smoke-dummy.json"])
def test_run_smoke_documents_recorded_on_real_gpus(name):
    with open(os.path.join(HERE, "fixtures", "smoke", name), encoding="utf-8") as fh:
        assert_valid(json.load(fh), "run-smoke")


def test_the_validator_refuses_what_the_schema_does_not_allow():
    doc = run_json(["check", "--json", "--replay", machine_dir("cpu-only")])
    doc["findings"][0]["severity"] = "fatal"
    del doc["probes"][0]["status"]
    doc["seconds"] = "fast"
    found = errors(doc, {"$ref": "#/$defs/check"})
    assert len(found) == 3 and any("fatal" in f for f in found) and any("'status'" in f for f in found)
