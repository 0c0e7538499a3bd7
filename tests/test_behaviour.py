"""The restructuring of issue #14 changes no behaviour: every fixture machine gets the same exit
codes, probe statuses, findings and plan as the snapshot recorded before it (tests/behaviour_snapshot.py
says what is compared and how to regenerate it after an intended change)."""
from __future__ import annotations

import json
import os

import pytest

from .behaviour_snapshot import BEHAVIOUR, MACHINES, machine_behaviour

with open(os.path.join(BEHAVIOUR, "snapshot.json"), encoding="utf-8") as fh:
    SNAPSHOT = json.load(fh)


def test_the_snapshot_covers_every_fixture_machine():
    assert sorted(SNAPSHOT) == sorted(n for n in os.listdir(MACHINES) if os.path.isdir(os.path.join(MACHINES, n)))


def _differences(want, got, path=""):
    if isinstance(want, dict) and isinstance(got, dict):
        for key in sorted(set(want) | set(got)):
            yield from _differences(want.get(key), got.get(key), f"{path}.{key}")
    elif isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        for i, (w, g) in enumerate(zip(want, got)):
            yield from _differences(w, g, f"{path}[{i}]")
    elif want != got:
        yield f"{path}: was {json.dumps(want)[:300]}, now {json.dumps(got)[:300]}"


@pytest.mark.parametrize("name", sorted(SNAPSHOT))
def test_behaviour_is_unchanged(name):
    changed = list(_differences(SNAPSHOT[name], machine_behaviour(name)))
    assert not changed, "\n".join(changed[:20])
