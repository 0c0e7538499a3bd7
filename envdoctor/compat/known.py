"""Known-bad releases and the extra pins old releases need (matrices/vllm_known.csv), and the glibc
floor of a wheel's manylinux tag (PEP 600: manylinux_X_Y needs glibc >= X.Y; the legacy aliases
manylinux1 / 2010 / 2014 are 2.5 / 2.12 / 2.17)."""
from __future__ import annotations

import re
from typing import List, Optional, Sequence

from envdoctor.compat.tables import KnownIssue, Matrices
from envdoctor.compat.driver import cuda_key

LEGACY = {"manylinux1": "2.5", "manylinux2010": "2.12", "manylinux2014": "2.17"}


def known_text(issue: KnownIssue, head: bool = False):
    """The row's text as a message (its Chinese is a column of the row); `head`: its first clause, for a title."""
    from envdoctor.messages import Msg, register

    texts = {"en": issue.text, "zh": issue.text_zh}
    if head:
        texts = {lang: re.split(r"[:(：（]", text)[0].strip() for lang, text in texts.items()}
    msg_id = f"vllm-known.{issue.kind}.{issue.vllm}" + (".head" if head else "")
    register({lang: {msg_id: text.replace("{", "{{").replace("}", "}}")} for lang, text in texts.items()})
    return Msg(msg_id)


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
    return min(floors, key=cuda_key) if floors else None


def glibc_of(distro_id: Optional[str], distro_version: Optional[str], m: Matrices) -> Optional[str]:
    if not distro_id or not distro_version:
        return None
    major = distro_version.split(".")[0]
    for row in m.table("distro_glibc"):
        if row.distro == distro_id and (row.version == distro_version or row.version == major):
            return row.glibc
    return None
