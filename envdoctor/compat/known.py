"""Known-bad releases and the extra pins old releases need (matrices/vllm_known.csv), and the glibc
floor of a wheel's manylinux tag (PEP 600: manylinux_X_Y needs glibc >= X.Y; the legacy aliases
manylinux1 / 2010 / 2014 are 2.5 / 2.12 / 2.17)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from packaging.specifiers import SpecifierSet

from envdoctor.compat.driver import xy_key
from envdoctor.compat.tables import KnownIssue, Matrices, Table, _text

LEGACY = {"manylinux1": "2.5", "manylinux2010": "2.12", "manylinux2014": "2.17"}


@dataclass(frozen=True)
class KnownText:
    """A known issue's text in another language (vllm_known_zh.csv, by vllm and kind)."""

    vllm: str
    kind: str
    text: str
    source: str


TABLE_ZH = Table("vllm_known_zh.csv", KnownText, ("vllm", "kind"), {
    "vllm": _text, "kind": _text, "text": _text, "source": _text})


def _id(vllm, kind: str, head: bool = False) -> str:
    return f"vllm-known.{kind}.{vllm}" + (".head" if head else "")


def _head(text: str) -> str:
    return re.split(r"[:(：（]", text)[0].strip()


def known_text(issue: KnownIssue, head: bool = False):
    """The row's text as a message (its Chinese is in vllm_known_zh.csv); `head`: its first clause, for a title."""
    from envdoctor.messages import Msg, as_template, register

    text = _head(issue.text) if head else issue.text
    register({"en": {_id(issue.vllm, issue.kind, head): as_template(text)}})
    return Msg(_id(issue.vllm, issue.kind, head))


def translations(lang: str, matrices: Optional[Matrices] = None) -> Dict[str, str]:
    """The translated texts as catalog entries (the loader envdoctor.messages calls)."""
    from envdoctor.messages import as_template

    if lang != "zh":
        return {}
    out = {}
    for row in (matrices or Matrices()).load(TABLE_ZH):
        spec = str(SpecifierSet(row.vllm))
        out[_id(spec, row.kind)] = as_template(row.text)
        out[_id(spec, row.kind, True)] = as_template(_head(row.text))
    return out


def _register() -> None:
    from envdoctor.messages import register_loader

    register_loader("vllm-known.", translations)


_register()


def issues(version, m: Matrices) -> List[KnownIssue]:
    return [k for k in m.table("vllm_known") if k.vllm.contains(version, prereleases=True)]


def glibc_floor(platforms: Sequence[str], machine: str) -> Optional[str]:
    """The lowest glibc any of the wheels for this CPU accepts, or None when no tag says."""
    floors = []
    for p in platforms:
        if not p.endswith("_" + machine):
            continue
        m = re.match(r"manylinux_(\d+)_(\d+)_", p)
        if m:
            floors.append(f"{m.group(1)}.{m.group(2)}")
        else:
            legacy = LEGACY.get(p.split("_")[0])
            if legacy:
                floors.append(legacy)
    return min(floors, key=xy_key) if floors else None


def glibc_of(distro_id: Optional[str], distro_version: Optional[str], m: Matrices) -> Optional[str]:
    if not distro_id or not distro_version:
        return None
    major = distro_version.split(".")[0]
    for row in m.table("distro_glibc"):
        if row.distro == distro_id and (row.version == distro_version or row.version == major):
            return row.glibc
    return None
